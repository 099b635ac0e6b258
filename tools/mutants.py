"""Mutation check: each guarantee's tests must be able to fail. Every mutant
below is one deliberate defect, applied to a COPY of the project (the tree
itself is never touched) as a small text patch; its targeted tests run
against the copy and must fail. The check fails if any mutant survives, if a
patch's target text is no longer found exactly once (the code moved: update
the mutant, do not delete it), or if its tests cannot run.

    python tools/mutants.py            # every mutant (CI: .ci/run, after the suite)
    python tools/mutants.py --list     # names and guarantees
    python tools/mutants.py NAME ...   # some of them

Adding a guarantee means adding a Mutant here: the file, a small unique
`old` text, its defective `new` text, and the pytest arguments of the tests
that catch it. Python mutants reuse the built extension (the copy includes
it); C mutants (a file under fastinit/src or the .pyx) rebuild only the
extension in the copy, recompiling only the sources whose text (or a
header's) differs from an earlier build (so the setup.py build requirements,
setuptools and Cython, must be installed). FASTINIT_EXPECT_ISAS defaults to tools/cpu_isas.py,
as in CI, so a build without the SIMD paths must fail rather than skip."""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from cpu_isas import cpu_isas  # noqa: E402

# Touch every page of a chunk-sized scratch buffer: a C temporary as large as
# one fi_fill call's range (volatile, so the compiler cannot drop it).
CHUNK_MALLOC = """
    {
        size_t scratch_bytes = total * dtype_size(req.dtype);
        volatile char *scratch = __builtin_malloc(scratch_bytes);
        for (size_t i = 0; scratch && i < scratch_bytes; i += 4096)
            scratch[i] = 1;
        __builtin_free((void *)scratch);
    }"""

# Every public function re-raises its ValueError/TypeError as "invalid":
# the behaviour stays, the messages stop naming the argument and the value.
INVALID_MESSAGES = '''
def _invalid_messages(fn):
    import functools

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            raise type(e)("invalid") from None
    return call


for _name, _fn in list(globals().items()):
    if callable(_fn) and getattr(_fn, "__module__", "").startswith("fastinit."):
        globals()[_name] = _invalid_messages(_fn)
__version__ = '''


class Mutant(NamedTuple):
    name: str
    guarantee: str
    file: str          # path relative to the project root
    old: str           # must occur exactly once in file
    new: str
    tests: tuple       # pytest arguments selecting the tests that must fail


CLI_TESTS = "tests/test_cli.py::"

MUTANTS = [
    Mutant("device-fp-fusion", "device kernels compile without fma contraction (PTX audit)",
           "fastinit/device/launch.py", "COMPILE_OPTIONS = dict(enable_fp_fusion=False)",
           "COMPILE_OPTIONS = dict(enable_fp_fusion=True)",
           ("tests/test_device.py::test_ptx_has_no_fused_or_approximate_instruction",)),
    Mutant("device-constant-last-bit", "device kernels' polynomial constants are the C literals",
           "fastinit/device/constants.py", "    0x3eaaaaaa)", "    0x3eaaaaab)",
           ("tests/test_device_constants.py",)),
    Mutant("device-stream-words-swapped", "the device check (gpu_check.py) catches device bits unlike the core's",
           "fastinit/device/launch.py", "_word(stream & 0xFFFFFFFF), _word(stream >> 32))",
           "_word(stream >> 32), _word(stream & 0xFFFFFFFF))",
           ("tests/test_gpu_check.py",)),
    Mutant("kernel_for-best-path", "every ISA path equals scalar (forcing a path runs it)",
           "fastinit/src/fill.c", "fi_isa isa = fi_get_isa();", "fi_isa isa = fi_best_isa();",
           ("tests/test_isa.py::test_forced_path_is_used",)),
    Mutant("build-without-simd", "SIMD paths are tested (CI declares the paths its CPU has)",
           "fastinit/src/kernels.h", "#define FI_X86_SIMD 1", "#define FI_X86_SIMD 0",
           ("tests/test_isa.py::test_ci_expected_paths_are_supported",)),
    Mutant("run-one-thread", "same bits for any thread count (threads really used)",
           "fastinit/_plan.py", "return max(1, min(threads or available_cpus(), n // MIN_ELEMENTS_PER_THREAD))",
           "return 1",
           ("tests/test_determinism.py::test_thread_count_does_not_change_bits",)),
    Mutant("num-threads-env-ignored", "FASTINIT_NUM_THREADS is honoured",
           "fastinit/_checks.py", "return env_threads()\n", "return env_threads() and None\n",
           ("tests/test_determinism.py::test_env_thread_count_does_not_change_bits",)),
    Mutant("pool-kept-after-fork", "a forked child makes its own worker pool",
           "fastinit/src/fill.c",
           "    pthread_atfork(pool_before_fork, pool_after_fork_parent, pool_after_fork_child);\n",
           "    (void)pool_before_fork, (void)pool_after_fork_parent, (void)pool_after_fork_child;\n",
           ("tests/test_concurrency.py::test_forked_child_makes_its_own_pool",)),
    Mutant("pool-spins-when-idle", "an idle worker pool sleeps (no busy waiting)",
           "fastinit/src/fill.c", "#define SPIN_NS 1000000\n", "#define SPIN_NS 100000000000u\n",
           ("tests/test_concurrency.py::test_idle_pool_sleeps",)),
    Mutant("far-tail-coefficient", "truncated-normal far tail (s > 5) within 8 ulp (float64)",
           "fastinit/src/transforms.h", "6.65790464350110377720e+0}", "6.65790464350117377720e+0}",
           ("tests/test_truncated.py", "-k", "stored_references")),
    Mutant("window-mass-threshold", "truncated-normal tail windows within 8 ulp (mass from complements)",
           "fastinit/_spec.py", "if alpha >= 1 else", "if alpha >= 5 else",
           ("tests/test_truncated.py", "-k", "stored_references")),
    Mutant("out-ignored-with-row-ids", "index= row ids fill out= in place",
           "fastinit/_plan.py", "out = p.out if p.out is not None else",
           "out = p.out if p.out is not None and p.rows is None else",
           ("tests/test_properties.py::test_block_equals_slice_of_full",)),
    Mutant("chunk-sized-c-malloc", "no temporary the size of the output (C allocations included)",
           "fastinit/src/fill.c", "req.nontemporal = total * dtype_size(req.dtype) >= FI_STREAM_MIN_BYTES;",
           "req.nontemporal = total * dtype_size(req.dtype) >= FI_STREAM_MIN_BYTES;" + CHUNK_MALLOC,
           ("tests/test_memory.py::test_large_fill_into_out_allocates_nothing",)),
    Mutant("error-messages-invalid", "errors name the argument and the value",
           "fastinit/__init__.py", "__version__ = ", INVALID_MESSAGES,
           ("tests/test_errors.py::test_truncated_normal_bad_arguments", "tests/test_errors.py::test_out_untouched_on_error")),
    # (the spec's default itself cannot change alone: the public signatures must match it at import)
    Mutant("he-default-nonlinearity-relu", "He's default nonlinearity honours a, as PyTorch's",
           "fastinit/_spec.py", 'gain = calculate_gain(o["nonlinearity"], a)',
           'gain = calculate_gain("relu" if o["nonlinearity"] == "leaky_relu" else o["nonlinearity"], a)',
           ("tests/test_initializers.py::test_he_options",)),
    Mutant("byte-order-not-swapped", "a non-native dtype or out= gets the native values in its byte order",
           "fastinit/_core.pyx", "swapped = None if cnp.PyArray_ISNOTSWAPPED(out) else out.reshape(-1)",
           "swapped = None", ("tests/test_byteorder.py",)),
    Mutant("torch-write-not-announced", "a fill is an in-place write PyTorch sees (autograd, inference mode)",
           "fastinit/_torch_fill.py", "    tensor.as_strided((0,), (1,)).zero_()", "    return",
           ("tests/test_torch.py", "-k", "test_inplace_write_checks_equal_pytorch")),
    Mutant("torch-init-module-one-stream", "init_module: each parameter's values come from its own name's stream",
           "fastinit/_torch_module.py", "        stream = stable_stream(name)\n", "        stream = 0\n",
           ("tests/test_torch_module.py::test_init_module_default_rules_follow_pytorch",)),
    Mutant("torch-init-module-block-ignored", "init_module: orthogonal_ of a block of a parameter uses the block's positions",
           "fastinit/_torch_module.py", 'self._fill(target, hit, "normal", (0.0, 1.0))',
           'self._fill(target, hit[:2] + (None,), "normal", (0.0, 1.0))',
           ("tests/test_torch_module.py::test_orthogonal_blocks_of_one_parameter_differ",)),
    Mutant("torch-init-module-last-writer-wins", "init_module: a tied parameter is initialized once, by its owner",
           "fastinit/_torch_module.py", "        return owner is not self.module and not any(",
           "        return False and not any(",
           ("tests/test_torch_module_eager.py::test_tied_embedding_keeps_the_embeddings_init_as_in_eager_pytorch",)),
    Mutant("torch-init-module-padding-row-in-a-copy", "init_module: an indexed write of a DTensor parameter reaches its shard",
           "fastinit/_torch_module.py", "        local[local_index] = part\n", "        part = part\n",
           ("tests/test_torch_module_distributed.py",)),
    Mutant("torch-initializing-user-write-replayed-over", "initializing(): a write fastinit cannot see is kept",
           "fastinit/_torch_module.py", "            left.add(key)\n", "            pass\n",
           ("tests/test_torch_module_eager.py::test_user_writes_after_a_modules_init_are_kept",)),
    Mutant("torch-init-module-unwritten-tensor-kept", "init_module: a tensor its module's init never writes is an error",
           "fastinit/_torch_module.py", "    if missing:\n", "    if False:\n",
           ("tests/test_torch_module_eager.py::test_a_tensor_its_modules_init_never_writes_is_an_error",)),
    Mutant("torch-init-module-out-write-not-counted", "init_module: a write through out= counts as written",
           "fastinit/_torch_module.py", "            self.written.add(hit[0])  # torch.eye", "            pass  # torch.eye",
           ("tests/test_torch_module_eager.py", "-k", "buffers_written_by_their_modules_init")),
    Mutant("torch-init-module-version-not-read", "init_module: a write fastinit does not route counts as written",
           "fastinit/_torch_module.py", " or _local(tensor)._version != versions[id(tensor)]:", ":",
           ("tests/test_torch_module_eager.py", "-k", "buffers_written_by_their_modules_init")),
    Mutant("jax-every-device-first-block", "each JAX device holds its own block of the global array",
           "fastinit/jax.py", "blocks[key] = make(index=box,",
           "blocks[key] = make(index=tuple(slice(0, s.stop - s.start) for s in box),",
           ("tests/test_jax.py", "-k", "test_sharded_equals_unsharded_and_numpy")),
    Mutant("torch-trunc-normal-std", "the torch adapter equals the core bit for bit",
           "fastinit/_torch_fill.py", '"truncated_normal", generator, seed, stream, mean=mean, std=std,',
           '"truncated_normal", generator, seed, stream, mean=mean, std=std * 1.03,',
           ("tests/test_torch.py", "-k", "test_adapter_equals_core_bit_for_bit and trunc_normal_")),
    Mutant("torch-device-box-at-origin", "the device kernels write each torch block at its global position",
           "fastinit/_torch_fill.py", "return dict(box=tuple((s.start, s.stop) for s in index))",
           "return dict(box=tuple((0, s.stop - s.start) for s in index))",
           ("tests/test_torch_device.py", "-k", "fill_block")),
    Mutant("torch-backend-ignored", "FASTINIT_TORCH_BACKEND=triton fills through the device kernels, no host fill",
           "fastinit/_torch_fill.py", '    on_device = backend_for(device) == "triton"\n',
           '    on_device = backend_for(device) == "cuda"\n',
           ("tests/test_torch_device.py::test_device_path_makes_no_host_fill",)),
    Mutant("bfloat16-by-rounding-not-capped", "torch without ml_dtypes gives the core's bfloat16 bits (uniform never high)",
           "fastinit/_spec.py", "return params, (-math.inf, _bfloat16_step(high, False))",
           "return params, (-math.inf, high)",
           ("tests/test_torch.py", "-k", "bfloat16_without_ml_dtypes")),
    Mutant("prepared-rounded-shares-requests", "a Prepared whose core is not the spec's never serves another call",
           "fastinit/_prepare.py", "self._values,\n                        cached=False)",
           "self._values,\n                        cached=True)",
           ("tests/test_prepare.py::test_bfloat16_by_rounding_keeps_its_own_requests",)),
    Mutant("public-body-options-reversed", "a public function passes its options in the spec's order",
           "fastinit/initializers.py", 'options = "".join(f"{name}, " for name in entry.option_names)',
           'options = "".join(f"{name}, " for name in reversed(entry.option_names))',
           ("tests/test_spec.py", "-k", "body_passes")),
    Mutant("adapter-imports-the-runner", "the import graph is the design doc's (an adapter never imports _plan)",
           "fastinit/dask.py", "from fastinit import _checks, _spec\n", "from fastinit import _checks, _plan, _spec\n",
           ("tests/test_layers.py",)),
    Mutant("scalar-counter-32-bit", "every ISA path, scalar included, right beyond counter 2**32",
           "fastinit/src/kernels_scalar.c", "uint32_t ctr[4] = {(uint32_t)n, (uint32_t)(n >> 32),",
           "uint32_t ctr[4] = {(uint32_t)n, 0u,",
           ("tests/test_index.py", "-k", "test_huge_positions_match_reference_on_every_path")),
    Mutant("torch-trunc-normal-write-not-announced", "every fastinit.torch function is a PyTorch in-place write",
           "fastinit/_torch_fill.py", "if direct(block.local) or (",
           'if (direct(block.local) and name_or_spec != "truncated_normal") or (',
           ("tests/test_torch.py", "-k", "test_inplace_write_checks_equal_pytorch")),
    Mutant("torch-fill-block-write-unseen", "fill_block of every function is a PyTorch in-place write",
           "fastinit/_torch_fill.py", "blk = _Block(tensor.local,", "blk = _Block(tensor.local.data,",
           ("tests/test_torch.py", "-k", "test_inplace_write_checks_equal_pytorch")),
    Mutant("hot-path-ignores-byte-order", "a cached call checks every field of out= (byte order included)",
           "fastinit/_core.pyx", "and cnp.PyArray_EquivTypes(out.descr, self.dtype))",
           "and out.descr.type_num == self.dtype.type_num)",
           ("tests/test_hot_path.py", "-k", "test_every_field_of_out_after_a_warm_up")),
    Mutant("keras-equal-bounds-raise", "Keras' degenerate parameters give Keras' constants",
           "fastinit/keras.py", "        if self.minval == self.maxval:\n", "        if False:\n",
           ("tests/test_keras.py", "-k", "degenerate")),
    Mutant("jax-fans-of-1d-shape", "fastinit.jax raises where JAX raises (0-d and 1-d shapes)",
           "fastinit/jax.py", "if fans and len(shape) < 2:", "if fans and len(shape) < 1:",
           ("tests/test_jax.py", "-k", "test_raises_where_jax_raises")),
    # the command line (fastinit/cli.py, tests/test_cli.py)
    Mutant("cli-resume-restarts-from-0", "--resume continues: finished chunks are not rewritten",
           "fastinit/cli.py", "        if first + n <= done:\n", "        if False:\n",
           (CLI_TESTS + "test_resume_after_kill_continues_and_leaves_finished_chunks_alone",)),
    Mutant("cli-resume-skips-straddling-chunk", "--resume with another chunk size rewrites the chunk it stopped in",
           "fastinit/cli.py", "        if first + n <= done:\n", "        if first < done:\n",
           (CLI_TESTS + "test_resume_ignores_what_does_not_change_the_bits",)),
    Mutant("cli-resume-compares-seed-only", "--resume refuses every field that determines the bits",
           "fastinit/cli.py", 'if given.get(k) != saved["bits"].get(k)]',
           'if k == "seed" and given.get(k) != saved["bits"].get(k)]',
           ("tests/test_cli.py", "-k", "test_resume_refuses_another_table")),
    Mutant("cli-resume-compares-options-as-given", "--resume compares only what determines the bits",
           "fastinit/cli.py", '"draws": draws}', '"draws": draws, "threads": self.threads, "as given": self.command()}',
           (CLI_TESTS + "test_resume_ignores_what_does_not_change_the_bits",)),
    Mutant("cli-overwrite-without-force", "an existing file is replaced only with --force",
           "fastinit/cli.py", '(target, "exists", os.path.exists(target))', '(target, "exists", False)',
           (CLI_TESTS + "test_existing_file_is_replaced_only_with_force",)),
    Mutant("cli-written-under-final-name", "a killed run leaves no table under the final name",
           "fastinit/cli.py", "partial, progress = target + PARTIAL_SUFFIX,", "partial, progress = target,",
           (CLI_TESTS + "test_resume_after_kill_continues_and_leaves_finished_chunks_alone",)),
    Mutant("cli-rename-before-fsync", "the table is fsynced before it is renamed into place",
           "fastinit/cli.py", "        os.fsync(fd)\n        os.replace(partial, target)", "        os.replace(partial, target)",
           (CLI_TESTS + "test_table_is_synced_before_it_is_renamed_into_place",)),
    Mutant("cli-progress-before-data-sync", "a progress record never counts data not yet on disk",
           "fastinit/cli.py", "                _sync_data(fd)  # on disk", "                pass  # on disk",
           (CLI_TESTS + "test_table_is_synced_before_it_is_renamed_into_place",)),
    Mutant("cli-damaged-progress-traceback", "a damaged progress record is a one-line error",
           "fastinit/cli.py", "        valid = (isinstance(saved, dict)", "        valid = True or (isinstance(saved, dict)",
           ("tests/test_cli.py", "-k", "test_damaged_partial_run")),
    Mutant("cli-negative-shape-as-option", "--shape -5,16 is a shape error, not a missing value",
           "fastinit/cli.py", "parse_args(_glue_negative_values(argv))", "parse_args(argv)",
           ("tests/test_cli.py", "-k", "test_unparsable_shape or truncated_normal")),
    Mutant("cli-resume-takes-any-file-as-finished", "--resume takes only the finished table as complete",
           "fastinit/cli.py", "done == table.size and _is_table(target, table):",
           "done == table.size and os.path.exists(target):",
           (CLI_TESTS + "test_resume_does_not_take_another_file_for_the_finished_table",)),
    Mutant("cli-bfloat16-as-void", "a bfloat16 .npy reads back as bfloat16",
           "fastinit/cli.py", "return descr if np.dtype(descr) == dtype else dtype.name", "return descr",
           (CLI_TESTS + "test_bfloat16_npy_reads_back_as_bfloat16_and_resumes",)),
    Mutant("cli-orthogonal-qr-per-chunk", "generate orthogonal factors once per run",
           "fastinit/cli.py", "            if self.whole is None:\n", "            if True:\n",
           (CLI_TESTS + "test_orthogonal_factors_once_per_run",)),
    Mutant("cli-no-lock", "one run per output: a second run fails at once, the file is one run's table",
           "fastinit/cli.py", "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "fcntl.LOCK_EX",
           (CLI_TESTS + "test_two_real_runs_on_one_output",)),
    Mutant("cli-lock-on-renamed-file", "the lock is taken on the file under the partial name",
           "fastinit/cli.py", "        if same:\n            return fd, created", "        if True:\n            return fd, created",
           (CLI_TESTS + "test_lock_on_a_file_renamed_into_place_is_retried",)),
    Mutant("cli-writes-to-a-fifo", "a directory, FIFO or device output is refused before generating",
           "fastinit/cli.py", "    _check_regular(target, follow=True)\n", "",
           ("tests/test_cli.py", "-k", "test_fifo_and_device or test_directory_output")),
    Mutant("cli-chunk-not-capped", "--chunk-mb is capped at the table",
           "fastinit/cli.py", "return min(chunk_mb << 20, max(self.size, 1) * self.dtype.itemsize)",
           "return chunk_mb << 20", (CLI_TESTS + "test_chunk_size_is_capped_at_the_table",)),
    Mutant("cli-symlink-replaced", "a symbolic link output is written through to its target",
           "fastinit/cli.py", "        if not os.path.islink(path):\n", "        if True:\n",
           (CLI_TESTS + "test_symbolic_link_output_is_written_through",)),
    Mutant("cli-stdout-file-named-dash", "-o - writes to standard output",
           "fastinit/cli.py", 'if args.output == "-":', 'if args.output == "--":',
           (CLI_TESTS + "test_standard_output_is_a_npy_stream",)),
]

# copied into each mutant's tree (everything else the tests need lives here)
COPY_IGNORE = shutil.ignore_patterns(".git", ".ci-*", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis", ".benchmarks", "*.npy", "*.png")
NEEDS_BUILD = (".c", ".h", ".pyx", ".pxd")
PYTEST_TIMEOUT = 600


def anchor_problems(mutants) -> list:
    """Mutants whose old text is not found exactly once in the real tree."""
    problems = []
    for m in mutants:
        count = (ROOT / m.file).read_text().count(m.old)
        if count != 1:
            problems.append(f"{m.name}: {m.old!r} occurs {count} times in {m.file} (expected once)")
    return problems


def make_base(where: pathlib.Path, env: dict) -> pathlib.Path:
    """A copy of the project with the extension built (the tree's own build
    if it has one: a C mutant's patched source is newer, so only C mutants
    rebuild)."""
    base = where / "base"
    shutil.copytree(ROOT, base, ignore=COPY_IGNORE)  # copy2: mtimes kept, so _core.c is not regenerated
    if not list((base / "fastinit").glob("_core*.so")):
        b = build(base, env)
        if b.returncode != 0:
            raise SystemExit("building the unmutated extension failed:\n" + b.stderr[-2000:])
    return base


def make_copy(m: Mutant, base: pathlib.Path) -> pathlib.Path:
    tree = base.parent / m.name
    shutil.copytree(base, tree)
    path = tree / m.file
    path.write_text(path.read_text().replace(m.old, m.new))
    return tree


# setup.py build_ext --inplace, reusing object files: setuptools recompiles
# every source, so each compile is keyed by the source, every header of
# fastinit/src and the compiler arguments, and an object already made for the
# same key (by an earlier mutant's build) is copied instead. A mutant of
# fill.c then recompiles fill.c only.
CACHED_BUILD = r"""
import hashlib, pathlib, runpy, shutil, sys
import setuptools  # noqa: F401  (its distutils)
from distutils import unixccompiler

cache = pathlib.Path(sys.argv[1])
headers = b"".join(p.read_bytes() for p in sorted(pathlib.Path("fastinit/src").glob("*.h")))
compile_one = unixccompiler.UnixCCompiler._compile


def cached_compile(self, obj, src, ext, cc_args, extra_postargs, pp_opts):
    args = repr((self.compiler_so, cc_args, extra_postargs, pp_opts)).encode()
    hit = cache / (hashlib.sha256(pathlib.Path(src).read_bytes() + headers + args).hexdigest() + ".o")
    if hit.exists():
        shutil.copyfile(hit, obj)
        return
    compile_one(self, obj, src, ext, cc_args, extra_postargs, pp_opts)
    shutil.copyfile(obj, hit)


unixccompiler.UnixCCompiler._compile = cached_compile
sys.argv = ["setup.py", "build_ext", "--inplace", "-q"]
runpy.run_path("setup.py", run_name="__main__")
"""


def build(tree: pathlib.Path, env: dict):
    cache = tree.parent / "object-cache"
    cache.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-c", CACHED_BUILD, str(cache)],
                          cwd=tree, env=env, capture_output=True, text=True)


def run_mutant(m: Mutant, base: pathlib.Path, env: dict) -> tuple:
    """(verdict, detail): killed, SURVIVED or ERROR."""
    tree = make_copy(m, base)
    env = dict(env, PYTHONPATH=str(tree))
    if m.file.endswith(NEEDS_BUILD):
        # the copied .so is older than the patched source: setup.py rebuilds it
        b = build(tree, env)
        if b.returncode != 0:
            return "ERROR", "build failed:\n" + b.stderr[-2000:]
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *m.tests],
                           cwd=tree, env=env, capture_output=True, text=True, timeout=PYTEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "ERROR", f"tests did not finish in {PYTEST_TIMEOUT} s"
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-500:]
    if r.returncode == 1:  # tests ran and failed: the defect was caught
        return "killed", last
    if r.returncode == 0:
        return "SURVIVED", last
    return "ERROR", f"pytest exit code {r.returncode}: {last}\n{r.stdout[-1500:]}{r.stderr[-1500:]}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="mutants to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:28s} {m.guarantee}  [{m.file}]")
        return 0
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        ap.error(f"unknown mutants {sorted(unknown)}")
    mutants = [m for m in MUTANTS if not args.names or m.name in args.names]

    problems = anchor_problems(mutants)
    for p in problems:
        print(f"ANCHOR NOT FOUND  {p}")
    env = dict(os.environ)
    env.setdefault("FASTINIT_EXPECT_ISAS", ",".join(cpu_isas()))
    for var in ("FASTINIT_ISA", "FASTINIT_NUM_THREADS"):
        env.pop(var, None)

    failed = len(problems)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fastinit-mutants-") as tmp:
        base = make_base(pathlib.Path(tmp), env)
        for m in mutants:
            if any(p.startswith(m.name + ":") for p in problems):
                continue
            t0 = time.perf_counter()
            verdict, detail = run_mutant(m, base, env)
            print(f"{verdict:8s} {m.name:28s} {time.perf_counter() - t0:6.1f} s  {detail.splitlines()[0] if detail else ''}",
                  flush=True)
            if verdict != "killed":
                failed += 1
                print(detail)
            shutil.rmtree(pathlib.Path(tmp) / m.name, ignore_errors=True)
    print(f"{len(mutants)} mutants, {failed} not killed, {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

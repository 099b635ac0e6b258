"""The device check: fastinit's Triton kernels (fastinit.device) and
fastinit.torch on one CUDA GPU, in one command (under 8 minutes on an H200):

(a) bits: every pinned golden hash (tests/data/golden_streams.json) of an
    initializer the device kernels make, computed on the device, and a
    1e8-element array per distribution x dtype compared with the C core bit
    for bit (the CPU-made array copied to the device, mismatches counted
    there);
(b) speed against PyTorch on the same GPU: ``uniform_``, ``normal_``,
    ``trunc_normal_``, ``kaiming_normal_`` (fastinit.torch, the bare kernel
    launch, torch.nn.init) on a 2**28-element float32 tensor, and a
    device-to-device copy as the memory wall (CUDA events, warm-up, medians);
(c) a Llama-style 1.5B-parameter model (benchmarks/llama_init.py's) built on
    meta, ``to_empty(device="cuda")``: ``fastinit.torch.init_module`` against
    PyTorch's ``reset_parameters()``, and every parameter compared bit for
    bit with a CPU ``init_module`` of the same model;
(d) peak device memory over the tensors for each case of (b) and (c).

    python benchmarks/gpu_check.py                      # all parts, one CUDA GPU
    python benchmarks/gpu_check.py --parts bc           # speed and model only
    python benchmarks/gpu_check.py --interpret --small  # (a) on CPU tensors under TRITON_INTERPRET=1

``--small`` compares one golden case per kernel x dtype x row-id form and
small arrays; ``--interpret`` runs the kernels in Triton's interpreter on CPU
tensors (no GPU: part (a) only). Exits 1 on any bit mismatch or case that
could not be compared; missed speed targets are printed, not an error.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEED, STREAM = 2**64 - 1 - 12345, 2**63 + 5  # both key words of each in use
DISTRIBUTIONS = ("bits", "uniform", "normal", "truncated_normal")
DTYPES = ("float32", "float64", "float16", "bfloat16")
MB = 1e6
TRUNC_TEMP_LIMIT = 64 * MB


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--interpret", action="store_true",
                    help="run the kernels under TRITON_INTERPRET=1 on CPU tensors (part a only)")
    ap.add_argument("--small", action="store_true", help="a subset of the golden cases and small sizes")
    ap.add_argument("--parts", default="abc", help="which parts to run (default abc; d is measured within b and c)")
    ap.add_argument("--repeats", type=int, default=7, help="timed runs per speed case (median)")
    args = ap.parse_args(argv)
    if not set(args.parts) <= set("abcd") or not args.parts:
        ap.error(f"--parts must be letters of 'abc', got {args.parts!r}")
    if args.interpret and set(args.parts) - {"a"}:
        args.parts = "a"  # the interpreter measures nothing about a GPU
    return args


ARGS = parse_args()
if ARGS.interpret:
    os.environ["TRITON_INTERPRET"] = "1"  # before Triton is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
import triton  # noqa: E402

import fastinit  # noqa: E402
from fastinit import _spec  # noqa: E402
from fastinit._prepare import prepare  # noqa: E402
from fastinit.device import launch  # noqa: E402

sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests"), str(ROOT / "benchmarks")]
import make_golden  # noqa: E402  (the golden cases' definitions; it puts tests/ on the path)
from support.api_cases import WHOLE_ARRAY, as_bytes, dtype_named  # noqa: E402

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                "bfloat16": torch.bfloat16, "uint32": torch.int32}  # bits are stored as int32 words
INT_VIEW = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def words(t: torch.Tensor) -> torch.Tensor:
    """t's bits as signed integers of its width (compared as such: NaN
    payloads and signed zeros count)."""
    return t.view(INT_VIEW[t.element_size()])


def device_fill(prepared, seed, stream, device, rows=None) -> torch.Tensor:
    """The prepared call's whole array (or its rows) made by the device
    kernels on device."""
    shape = prepared.shape
    if rows is not None:
        rows = [r % shape[0] for r in rows]
    block = shape if rows is None else (len(rows),) + shape[1:]
    out = torch.empty(block, dtype=TORCH_DTYPES[prepared.dtype.name], device=device)
    return launch.fill(out, prepared.core, seed, stream, shape=shape, rows=rows)


def as_numpy(t: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    return words(t.contiguous().cpu()).numpy().view(dtype)


# ---------------------------------------------------------------- (a) bits

def golden_cases(small: bool):
    """(case, pinned sha256, prepared) for every golden case the device
    kernels make (all but the whole-array initializers); with small, the
    first one of each kernel x dtype x row-id form. Also how many there are
    in all, and the keys of the pinned cases of those initializers that this
    environment cannot generate (bfloat16 without ml_dtypes)."""
    pinned = make_golden.load()
    cases, generated, seen, total = [], set(), set(), 0
    for case in make_golden.current_cases():
        key = make_golden.case_key(case)
        generated.add(key)
        if case["initializer"] in WHOLE_ARRAY:
            continue
        if key not in pinned:
            raise SystemExit(f"golden case not pinned: {key} (see python tools/make_golden.py)")
        options = {k: v for k, v in case["kwargs"].items() if k != "index"}
        prepared = prepare(case["initializer"], tuple(case["shape"]), dtype=case["dtype"], **options)
        form = (prepared.core[0], case["dtype"], "index" in case["kwargs"])
        total += 1
        if small and form in seen:
            continue
        seen.add(form)
        cases.append((case, pinned[key]["sha256"], prepared))
    absent = [key for key, c in pinned.items() if key not in generated and c["initializer"] not in WHOLE_ARRAY]
    return cases, total, absent


def check_golden(device, small: bool) -> int:
    cases, total, absent = golden_cases(small)
    print(f"\n(a) golden hashes on {device}: {len(cases)} of the {total} cases the device kernels make"
          f"{' (--small: one per kernel x dtype x row-id form)' if small else ''}")
    bad = 0
    for case, want, prepared in cases:
        got = device_fill(prepared, make_golden.SEED, make_golden.STREAM, device, case["kwargs"].get("index"))
        digest = hashlib.sha256(as_bytes(as_numpy(got, prepared.dtype))).hexdigest()
        ok = digest == want
        bad += not ok
        if not ok or not small:
            print(f"  {'ok      ' if ok else 'MISMATCH'} {make_golden.case_key(case)}")
    for key in absent:
        print(f"  NOT COMPARED (not generated here: ml_dtypes missing?) {key}")
    print(f"golden: {len(cases)} cases compared, {bad} mismatches, {len(absent)} not compared")
    return bad + len(absent)


def check_arrays(device, small: bool) -> int:
    """A large array per distribution x dtype, device kernels against the C
    core (its CPU array copied over; compared on the device)."""
    shape = (2, 700) if small else (10**5, 1000)
    n = shape[0] * shape[1]
    print(f"\n(a) {n:.3g}-element arrays {shape}, seed {SEED}, stream {STREAM}: device vs C core")
    print(f"  {'distribution':<18}{'dtype':<10}{'mismatches':>12}")
    bad = compared = 0
    for name in DISTRIBUTIONS:
        for dtype in ("uint32",) if name == "bits" else DTYPES:
            if dtype_named(dtype) is None:
                print(f"  {name:<18}{dtype:<10}{'NOT COMPARED (no ml_dtypes)':>12}")
                bad += 1
                continue
            prepared = prepare(name, shape, dtype=dtype)
            want = torch.from_numpy(prepared.fill(SEED, STREAM).view(f"i{prepared.dtype.itemsize}")).to(device)
            got = device_fill(prepared, SEED, STREAM, device)
            mismatches = int((words(got) != want).sum())
            del got, want
            bad += mismatches != 0
            compared += 1
            print(f"  {name:<18}{dtype:<10}{mismatches:>12}")
    print(f"arrays: {compared} compared, {bad} with mismatches or not compared")
    return bad


# ---------------------------------------------------------------- (b) speed, (d) memory

def measure(fn, repeats: int, warmup: int = 2):
    """(median seconds, peak device bytes) of fn() on the current CUDA
    device: timed with CUDA events after warm-up calls (Triton's compile,
    the allocator's cache); the peak is torch.cuda.max_memory_allocated
    during one call over what was allocated before it."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - before
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times), peak


def speed(device, small: bool, repeats: int) -> list:
    import fastinit.torch as fi

    side = 2**10 if small else 2**14
    n = side * side
    t = torch.empty(side, side, device=device)
    src = torch.empty_like(t).uniform_()
    nbytes = n * t.element_size()
    copy_s, copy_peak = measure(lambda: t.copy_(src), repeats)
    copy_bw = 2 * nbytes / copy_s  # read + write
    del src
    shape = (side, side)
    # op: (fastinit's initializer and options, the same call of fastinit.torch and of torch.nn.init)
    ops = {
        "uniform_": (("uniform", {}), lambda m: m.uniform_(t, **kw(m))),
        "normal_": (("normal", {}), lambda m: m.normal_(t, **kw(m))),
        "trunc_normal_": (("truncated_normal", dict(a=-2.0, b=2.0)), lambda m: m.trunc_normal_(t, **kw(m))),
        "kaiming_normal_": (("he_normal", dict(layout="torch")), lambda m: m.kaiming_normal_(t, **kw(m))),
    }

    def kw(module):
        return dict(seed=0) if module is fi else {}

    def kernel(core):
        return lambda: launch.fill(t, core, 0, 0, shape=shape)

    cases = []
    for op, ((name, options), call) in ops.items():
        cases += [(op, "fastinit.torch", lambda call=call: call(fi)),
                  (op, "fastinit kernel", kernel(prepare(name, shape, **options).core)),
                  (op, "torch.nn.init", lambda call=call: call(torch.nn.init))]
    print(f"\n(b) speed, float32 ({side}, {side}) = {n:.3g} elements ({nbytes / MB:.0f} MB), CUDA events, "
          f"median of {repeats} after 2 warm-up calls; bandwidth = bytes written / time, as a fraction of the "
          f"copy's (bytes read + written) / time; (d) peak = max_memory_allocated over what was allocated before")
    print(f"  {'op':<17}{'contender':<17}{'ms':>9}{'Gelem/s':>10}{'x copy bw':>11}{'peak MB':>9}")
    print(f"  {'copy_':<17}{'torch (d2d)':<17}{copy_s * 1e3:>9.3f}{n / copy_s / 1e9:>10.2f}{1.0:>11.2f}"
          f"{copy_peak / MB:>9.1f}")
    rows = []
    for op, who, fn in cases:
        s, peak = measure(fn, repeats)
        rows.append(dict(op=op, who=who, s=s, peak=peak, bw=nbytes / s / copy_bw))
        print(f"  {op:<17}{who:<17}{s * 1e3:>9.3f}{n / s / 1e9:>10.2f}{nbytes / s / copy_bw:>11.2f}"
              f"{peak / MB:>9.1f}")
    del t
    return rows


def speed_targets(rows) -> list:
    r = {(x["op"], x["who"]): x for x in rows}
    fi = lambda op: r[(op, "fastinit.torch")]  # noqa: E731
    pt = lambda op: r[(op, "torch.nn.init")]  # noqa: E731
    return [
        ("uniform_ >= 80% of the copy's bandwidth", f"{fi('uniform_')['bw']:.0%}", fi("uniform_")["bw"] >= 0.8),
        ("normal_ at least as fast as PyTorch's", f"{pt('normal_')['s'] / fi('normal_')['s']:.2f}x",
         fi("normal_")["s"] <= pt("normal_")["s"]),
        ("trunc_normal_ >= 2x PyTorch's", f"{pt('trunc_normal_')['s'] / fi('trunc_normal_')['s']:.2f}x",
         pt("trunc_normal_")["s"] >= 2 * fi("trunc_normal_")["s"]),
        ("trunc_normal_ temporary <= 64 MB", f"{fi('trunc_normal_')['peak'] / MB:.1f} MB",
         fi("trunc_normal_")["peak"] <= TRUNC_TEMP_LIMIT),
    ]


# ---------------------------------------------------------------- (c) model, (d) memory

def model(device, small: bool, repeats: int):
    import fastinit.torch as fi
    import llama_init

    config = dict(layers=2, hidden=256, mlp=1024, vocab=4096, heads=8, kv_heads=2) if small else llama_init.CONFIG
    with torch.device("meta"):
        net = llama_init.Llama(config)
    net.to_empty(device=device)
    params = sum(p.numel() for p in net.parameters())
    param_bytes = llama_init.parameter_bytes(net)

    def torch_init():
        with torch.no_grad():
            llama_init.reset_parameters(net)

    def fastinit_init():
        fi.init_module(net, seed=llama_init.SEED)

    print(f"\n(c) Llama-style model {config}: {params / 1e9:.3f}B parameters, {param_bytes / MB:.0f} MB float32, "
          f"built on meta, to_empty(device={str(device)!r}); CUDA events, median of {repeats} after 2 warm-up calls; "
          f"(d) peak = max_memory_allocated over the parameters")
    print(f"  {'contender':<36}{'s':>9}{'peak MB':>9}")
    result = {}
    for who, fn in (("reset_parameters() (PyTorch)", torch_init), ("fastinit.torch.init_module", fastinit_init)):
        s, peak = measure(fn, repeats)
        result[who] = s
        print(f"  {who:<36}{s:>9.4f}{peak / MB:>9.1f}")
    # the GPU model now holds init_module's values (it ran last): every
    # parameter against a CPU init_module of the same model
    with torch.device("meta"):
        cpu_net = llama_init.Llama(config)
    cpu_net.to_empty(device="cpu")
    fi.init_module(cpu_net, seed=llama_init.SEED)
    gpu_params, cpu_params = dict(net.named_parameters()), dict(cpu_net.named_parameters())
    if gpu_params.keys() != cpu_params.keys():
        raise SystemExit("the CPU and GPU models have different parameters")
    mismatches = 0
    for name, p in gpu_params.items():
        mismatches += int((words(p.detach()) != words(cpu_params[name].detach()).to(device)).sum())
    print(f"  bits vs CPU init_module: all {len(gpu_params)} parameters ({params:.4g} values) compared on the "
          f"device, {mismatches} mismatches")
    target = ("init_module at least as fast as reset_parameters",
              f"{result['reset_parameters() (PyTorch)'] / result['fastinit.torch.init_module']:.2f}x",
              result["fastinit.torch.init_module"] <= result["reset_parameters() (PyTorch)"])
    return mismatches, target


# ---------------------------------------------------------------- main

def main() -> int:
    args = ARGS
    if args.interpret:
        device = torch.device("cpu")
        where = "CPU tensors under TRITON_INTERPRET=1"
    else:
        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device: run on a GPU, or with --interpret --small for part (a) on CPU")
        device = torch.device("cuda")
        where = f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    print(f"fastinit {fastinit.__version__} ({pathlib.Path(fastinit.__file__).parent}), torch {torch.__version__}, triton {triton.__version__}, "
          f"numpy {np.__version__}, Python {sys.version.split()[0]}; device: {where}; "
          f"FASTINIT_TORCH_BACKEND={os.environ.get('FASTINIT_TORCH_BACKEND', '(unset: auto)')}")
    bad, targets = 0, []
    if "a" in args.parts:
        bad += check_golden(device, args.small) + check_arrays(device, args.small)
    if "b" in args.parts or "d" in args.parts:
        targets += speed_targets(speed(device, args.small, args.repeats))
    if "c" in args.parts:
        mismatches, target = model(device, args.small, args.repeats)
        bad += mismatches != 0
        targets.append(target)
    if targets:
        print(f"\ntargets{' (--small: sizes too small to mean anything)' if args.small else ''}:")
        for what, got, met in targets:
            print(f"  {'met   ' if met else 'MISSED'} {what}: {got}")
    print(f"\n{'FAILED' if bad else 'OK'}: {bad} failed comparisons")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

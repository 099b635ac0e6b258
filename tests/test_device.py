"""The device kernels (fastinit.device) equal the C core bit for bit: every
distribution x dtype, blocks straddling lane groups and counter 2**32, the
extreme seeds and streams, truncated-normal tails and flat windows, the
row-id form, strided destinations, and golden hashes. On CPU tensors under
Triton's interpreter (set here, before Triton is imported), small blocks:
the interpreter runs ~1e5-1e6 values/s."""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TRITON_INTERPRET", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

import fastinit  # noqa: E402
from fastinit import _spec  # noqa: E402
from fastinit.device import launch  # noqa: E402
from support.api_cases import as_bytes, dtype_named, generate  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                "bfloat16": torch.bfloat16, "uint32": torch.int32}
DTYPES = ("float32", "float64", "float16", "bfloat16")
U64 = 2**64 - 1


def _np_dtype(name):
    dt = dtype_named(name)
    if dt is None:
        pytest.skip(f"no NumPy {name} (ml_dtypes)")
    return dt


def _box(shape, index):
    """(start, stop) of every axis."""
    index = tuple(index or ())
    return tuple((s.start, s.stop) for s in index) + tuple((0, n) for n in shape[len(index):])


def device(name, shape, dtype, seed, stream, index=None, out=None, **options):
    """fastinit's initializer name through the device kernels, as a NumPy array."""
    dt = _np_dtype(dtype)
    core = _spec.BY_NAME[name].distribution(shape, options).core(dt)
    rows = None
    if isinstance(index, list):
        rows = [r % shape[0] for r in index]
        block = (len(rows),) + tuple(shape[1:])
    else:
        block = tuple(stop - start for start, stop in _box(shape, index))
    if out is None:
        out = torch.empty(block, dtype=TORCH_DTYPES[dtype])
    launch.fill(out, core, seed, stream, shape=shape, box=None if rows else _box(shape, index), rows=rows)
    return _as_numpy(out.contiguous(), dt)


def _as_numpy(t, dt):
    return t.view(torch.int16 if t.element_size() == 2 else torch.int32 if t.element_size() == 4
                  else torch.int64).numpy().view(dt)


def core(name, shape, dtype, seed, stream, index=None, **options):
    return generate(name, shape, seed, stream, _np_dtype(dtype), index=index, **options)


def assert_bits_equal(got, want):
    assert got.shape == want.shape
    bad = np.flatnonzero(got.view(f"u{got.dtype.itemsize}") != want.view(f"u{want.dtype.itemsize}"))
    assert bad.size == 0, f"{bad.size} of {got.size} differ, first at {bad[:5]}: {got.ravel()[bad[:3]]} vs " \
                          f"{want.ravel()[bad[:3]]}"


def _crossing_shape(dtype):
    """(shape, first row at counter 2**32): rows of 16 elements; a 32-bit
    element p uses counter 16 (p >> 6) + (p & 15), a float64 one 16 (p >> 5) + ..."""
    per_counter = 2 if dtype == "float64" else 4
    return (2**31, 16), per_counter * 2**32 // 16


@pytest.mark.parametrize("seed, stream", [(0, 0), (U64, U64)])
@pytest.mark.parametrize("name, dtype", [("bits", "uint32")] + [(n, d) for n in ("uniform", "normal",
                                         "truncated_normal") for d in DTYPES])
def test_equals_core_across_counter_2_32(name, dtype, seed, stream):
    shape, row = _crossing_shape(dtype)
    # whole rows straddling the carry into counter word 1, and a box of partial
    # rows (runs of 11, cut lane groups)
    for index in ((slice(row - 5, row + 4),), (slice(row - 3, row + 3), slice(2, 13))):
        assert_bits_equal(device(name, shape, dtype, seed, stream, index), core(name, shape, dtype, seed, stream,
                                                                              index))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options, kernel", [
    (dict(mean=0.0, std=1.0, a=5.0, b=float("inf")), "truncnormal"),       # far tail (s > 5)
    (dict(mean=1.0, std=2.0, a=-float("inf"), b=-17.0), "truncnormal"),    # lower tail, mirrored
    (dict(mean=0.0, std=1.0, a=-0.3, b=0.2), "truncnormal"),               # central branch only
    # flat, std beyond float32: U[a, b) (float64 holds it: its inverse CDF)
    (dict(mean=0.0, std=1e39, a=-1.0, b=1.0), {"float64": "truncnormal", None: "uniform"}),
    (dict(mean=0.0, std=1.0, a=40.0, b=40.0 + 1e-12), "uniform"),   # flat, mass below float64's range
])
def test_truncated_normal_windows(dtype, options, kernel):
    shape = (3, 200)
    if isinstance(kernel, dict):
        kernel = kernel.get(dtype, kernel[None])
    # the case exercises the kernel it names
    assert _spec.BY_NAME["truncated_normal"].distribution(shape, options).core(_np_dtype(dtype))[0] == kernel
    assert_bits_equal(device("truncated_normal", shape, dtype, 9, 4, **options),
                      core("truncated_normal", shape, dtype, 9, 4, **options))


@pytest.mark.parametrize("name", ["bits", "uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_ids(name, dtype):
    dtype = "uint32" if name == "bits" else dtype
    shape, rows = (9, 3, 21), [5, 0, 5, -1, 2]
    assert_bits_equal(device(name, shape, dtype, 3, 8, rows), core(name, shape, dtype, 3, 8, rows))
    one_axis = (70,)
    assert_bits_equal(device(name, one_axis, dtype, 3, 8, [69, 1, 33]), core(name, one_axis, dtype, 3, 8,
                                                                            [69, 1, 33]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_destination_written_in_place(dtype):
    """A transposed view and a step-2 slice of a larger tensor: the block's
    values land at their places, nothing else changes."""
    dt = _np_dtype(dtype)
    shape, index = (40, 70), (slice(3, 12), slice(5, 66))
    want = core("normal", shape, dtype, 1, 2, index)
    big = torch.full((12, 130), 7.0, dtype=TORCH_DTYPES[dtype])
    view = big[1:10, ::2][:, :61]
    launch.fill(view, _spec.BY_NAME["normal"].distribution(shape).core(dt), 1, 2, shape=shape,
                box=_box(shape, index))
    assert_bits_equal(_as_numpy(view.contiguous(), dt), want)
    untouched = torch.ones_like(big, dtype=torch.bool)
    untouched[1:10, 0:122:2] = False
    assert bool((big[untouched] == 7.0).all())
    t = torch.empty(61, 9, dtype=TORCH_DTYPES[dtype]).t()
    launch.fill(t, _spec.BY_NAME["normal"].distribution(shape).core(dt), 1, 2, shape=shape, box=_box(shape, index))
    assert_bits_equal(_as_numpy(t.contiguous(), dt), want)


def test_many_partial_axes():
    """A box partial in 5 axes (more than the kernel's outer axes: one launch
    per index of the extra ones)."""
    shape = (3, 4, 5, 6, 7)
    index = (slice(1, 3), slice(1, 3), slice(0, 4), slice(2, 5), slice(1, 6))
    assert_bits_equal(device("normal", shape, "float64", 11, 0, index), core("normal", shape, "float64", 11, 0, index))


def test_empty_block_writes_nothing():
    out = torch.empty(0, 5)
    launch.fill(out, ("uniform", dict(low=0.0, span=1.0, high_below=0.99)), 0, 0, shape=(4, 5), box=((2, 2),))


GOLDEN = json.loads((ROOT / "tests" / "data" / "golden_streams.json").read_text())
# the plain calls of the distributions in every dtype, 37 x 129 (the row-id
# form is tested against the core above)
GOLDEN_CASES = [c for c in GOLDEN["cases"] if c["shape"] == [37, 129] and not c["kwargs"]
                and c["initializer"] in ("bits", "uniform", "normal", "truncated_normal")]


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda c: f"{c['initializer']}-{c['dtype']}-{c['kwargs']}")
def test_golden_hashes_on_device(case):
    name, dtype, shape = case["initializer"], case["dtype"], tuple(case["shape"])
    got = device(name, shape, dtype, GOLDEN["seed"], GOLDEN["stream"])
    assert hashlib.sha256(as_bytes(got)).hexdigest() == case["sha256"]


def test_several_tiles_per_run(monkeypatch):
    """Runs cut into several tiles (the tests above mostly use one per run)."""
    monkeypatch.setattr(launch, "INTERPRETER_BLOCK", 32)
    shape, index = (4, 300), (slice(1, 3), slice(1, 299))
    assert_bits_equal(device("normal", shape, "float32", 5, 6, index), core("normal", shape, "float32", 5, 6, index))


def test_ptx_has_no_fused_or_approximate_instruction():
    """The PTX audit (tools/ptx_check.py, compiled, so outside the
    interpreter) on the float32 normal kernel, which uses log, sincos and
    sqrt (CI runs the audit on every specialization)."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    code = ("import sys, torch; sys.path.insert(0, 'tools'); import ptx_check; "
            "sys.exit(ptx_check.check([('normal', torch.float32, False)], archs=(90,)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kernels checked" in result.stdout

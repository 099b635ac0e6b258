"""Every SIMD path this CPU supports gives the same bits as the scalar path,
for every (distribution, dtype), size, offset, alignment, seed, stream and
thread count; FASTINIT_ISA and show_config."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import _config, _core
from support.api_cases import dtype_named
from support.pool_threads import reaches

SIMD_ISAS = [name for name in _core.supported_isas() if name != "scalar"]

def truncated(mean, std, a, b):
    """truncated_normal on the window [a, b] in units of std around mean."""
    return lambda shape, seed, **kw: fastinit.truncated_normal(shape, seed, mean, std, mean + a * std, mean + b * std, **kw)


# (name, function(shape, seed, **kw), dtype): first one per kernel, then
# initializers and truncated-normal windows that reach other branches of the
# inverse CDF (one-sided, far tail, narrow, mirrored lower tail) and dtypes
KERNEL_KINDS = [
    ("bits", lambda shape, seed, dtype, **kw: fastinit.bits(shape, seed, **kw), np.uint32),
    ("uniform_f32", lambda shape, seed, **kw: fastinit.uniform(shape, seed, -2.0, 3.0, **kw), np.float32),
    ("uniform_f64", lambda shape, seed, **kw: fastinit.uniform(shape, seed, -2.0, 3.0, **kw), np.float64),
    ("normal_f32", lambda shape, seed, **kw: fastinit.normal(shape, seed, 0.5, 2.0, **kw), np.float32),
    ("normal_f64", lambda shape, seed, **kw: fastinit.normal(shape, seed, 0.5, 2.0, **kw), np.float64),
    ("truncated_f32", truncated(0.5, 2.0, -2.0, 2.0), np.float32),
    ("truncated_f64", truncated(0.5, 2.0, -2.0, 2.0), np.float64),
]
TRUNCATED_WINDOWS = {"upper": (0.0, np.inf), "tail": (3.0, 4.0), "far": (6.0, np.inf),
                     "beyond": (10.0, 10.5), "narrow": (-1e-3, 1e-3), "lower_far": (-np.inf, -6.5),
                     "wide": (-9.0, 8.0)}
BFLOAT16 = dtype_named("bfloat16")
KINDS = KERNEL_KINDS + [
    ("he_normal", lambda shape, seed, **kw: fastinit.he_normal(shape, seed, fan_in=300, **kw), np.float32),
    ("glorot_uniform", lambda shape, seed, **kw: fastinit.glorot_uniform(shape, seed, fan_in=300, fan_out=77, **kw), np.float64),
] + [
    (f"truncated_{window}_{suffix}", truncated(-1.5, 0.25, a, b), dtype)
    for window, (a, b) in TRUNCATED_WINDOWS.items() for suffix, dtype in (("f32", np.float32), ("f64", np.float64))
] + [
    ("truncated_upper_f16", truncated(0.0, 1.0, 0.0, np.inf), np.float16),
    ("truncated_tail_f16", truncated(0.0, 0.02, -4.0, -3.0), np.float16),
] + ([("truncated_bf16", truncated(0.0, 1.0, -2.0, 2.0), BFLOAT16),
      ("truncated_far_bf16", truncated(0.0, 1.0, 6.0, np.inf), BFLOAT16)] if BFLOAT16 is not None else [])
KIND_IDS = [k[0] for k in KINDS]
SEEDS_STREAMS = [(0, 0), (12345, 7), (2**64 - 1, 2**64 - 1), (2**63 + 5, 2**32 - 1)]


@pytest.fixture(params=SIMD_ISAS or [pytest.param(None, marks=pytest.mark.skip("no SIMD path on this CPU"))])
def isa(request):
    """Runs the test body with nothing forced; gen() switches paths."""
    before = _core.get_isa()
    yield request.param
    _core.set_isa(before)


def gen(isa, fn, *args, **kw):
    """fn(*args, **kw) on the path isa, checking that isa's kernels really ran
    (get_isa() alone would not notice a dispatcher that ignores it)."""
    _core.set_isa(isa)
    result = fn(*args, **kw)
    if result.size:
        assert _core.last_fill_info()["isa"] == isa
    return result


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    mismatch = np.flatnonzero(a.view(np.uint8) != b.view(np.uint8))
    assert mismatch.size == 0, f"first differing byte {mismatch[0]}: {a.ravel()[mismatch[0] // a.itemsize]!r} vs {b.ravel()[mismatch[0] // a.itemsize]!r}"


def misaligned(n, dtype):
    """A writable array of n elements whose address is not a multiple of its
    item size (nor of any vector size)."""
    itemsize = np.dtype(dtype).itemsize
    offset = itemsize // 2
    buf = bytearray(n * itemsize + 64 + offset)
    start = (-np.frombuffer(buf, np.uint8).ctypes.data) % 64 + offset
    out = np.frombuffer(buf, dtype, count=n, offset=start)
    assert out.flags.writeable and out.ctypes.data % itemsize != 0
    return out


def misaligned_by_element(n, dtype):
    """An element-aligned writable array at an address one element past a
    64-byte boundary (out= views into larger buffers look like this)."""
    itemsize = np.dtype(dtype).itemsize
    buf = bytearray(n * itemsize + 64 + itemsize)
    start = (-np.frombuffer(buf, np.uint8).ctypes.data) % 64 + itemsize
    return np.frombuffer(buf, dtype, count=n, offset=start)


@pytest.mark.parametrize("name, fn, dtype", KINDS, ids=KIND_IDS)
def test_every_small_size(isa, name, fn, dtype):
    for n in range(0, 201):
        assert_same_bits(gen("scalar", fn, n, 99, dtype=dtype), gen(isa, fn, n, 99, dtype=dtype))


@pytest.mark.parametrize("name, fn, dtype", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("seed, stream", SEEDS_STREAMS)
def test_large_odd_size_seeds_streams(isa, name, fn, dtype, seed, stream):
    n = 100_007
    want = gen("scalar", fn, n, seed, stream=stream, dtype=dtype)
    assert_same_bits(want, gen(isa, fn, n, seed, stream=stream, dtype=dtype))


@pytest.mark.parametrize("name, fn, dtype", KINDS, ids=KIND_IDS)
def test_odd_offsets(isa, name, fn, dtype):
    shape = (37, 211)
    for index in [slice(3, 30), (slice(5, 36), slice(17, 200)), (slice(1, 2), slice(63, 130))]:
        want = gen("scalar", fn, shape, 5, dtype=dtype, index=index)
        assert_same_bits(want, gen(isa, fn, shape, 5, dtype=dtype, index=index))
    for start in [1, 15, 33, 63, 65]:
        want = gen("scalar", fn, 5000, 5, dtype=dtype, index=slice(start, 4999))
        assert_same_bits(want, gen(isa, fn, 5000, 5, dtype=dtype, index=slice(start, 4999)))


@pytest.mark.parametrize("name, fn, dtype", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("make_out", [misaligned, misaligned_by_element])
def test_misaligned_out(isa, name, fn, dtype, make_out):
    for n in [8, 63, 64, 65, 1000, 20_001]:
        want = gen("scalar", fn, n, 3, dtype=dtype)
        out = make_out(n, dtype)
        got = gen(isa, fn, n, 3, dtype=dtype, out=out)
        assert got is out
        assert_same_bits(want, out)
        out = make_out(n - 7, dtype)
        got = gen(isa, fn, n, 3, dtype=dtype, index=slice(7, None), out=out)
        assert_same_bits(want[7:], got)


def aligned64(n, dtype):
    itemsize = np.dtype(dtype).itemsize
    buf = bytearray(n * itemsize + 64)
    start = (-np.frombuffer(buf, np.uint8).ctypes.data) % 64
    return np.frombuffer(buf, dtype, count=n, offset=start)


@pytest.fixture(scope="module")
def streaming_reference():
    """Scalar outputs big enough that each of two threads' kernel calls uses
    the non-temporal (streaming) stores of the SIMD paths."""
    cache = {}

    def get(name, fn, dtype):
        if name not in cache:
            n = 2 * _core.STREAM_MIN_BYTES // np.dtype(dtype).itemsize + 1001
            cache[name] = gen("scalar", fn, n, 77, dtype=dtype, stream=5)
        return cache[name]

    before = _core.get_isa()
    yield get
    _core.set_isa(before)


@pytest.mark.parametrize("name, fn, dtype", KERNEL_KINDS, ids=[k[0] for k in KERNEL_KINDS])
def test_streaming_stores(isa, streaming_reference, name, fn, dtype):
    want = streaming_reference(name, fn, dtype)
    n = want.size
    assert_same_bits(want, gen(isa, fn, n, 77, dtype=dtype, stream=5, threads=2))
    for make_out in (aligned64, misaligned_by_element, misaligned):
        out = make_out(n, dtype)
        gen(isa, fn, n, 77, dtype=dtype, stream=5, threads=2, out=out)
        assert_same_bits(want, out)
    # a block that starts and ends inside lane groups, on one thread
    out = misaligned_by_element(n - 40, dtype)
    gen(isa, fn, n, 77, dtype=dtype, stream=5, threads=1, out=out, index=slice(27, n - 13))
    assert_same_bits(want[27:n - 13], out)


@pytest.mark.parametrize("name, fn, dtype", KINDS, ids=KIND_IDS)
def test_thread_counts(isa, name, fn, dtype):
    # enough elements that run() really uses three threads
    n = 3 * 65536 + 333
    want = gen("scalar", fn, n, 11, dtype=dtype, threads=1)
    for threads in (1, 2, 3):
        assert reaches(lambda: assert_same_bits(want, gen(isa, fn, n, 11, dtype=dtype, threads=threads)), threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_finite_and_extreme_tails(isa, dtype):
    """The largest |z| comes from the smallest uniforms; the paths agree on
    them (bit equality) and they are finite and of the expected size."""
    n = 1 << 21
    want = gen("scalar", fastinit.normal, n, 2024, dtype=dtype)
    got = gen(isa, fastinit.normal, n, 2024, dtype=dtype)
    assert np.isfinite(got).all()
    assert_same_bits(want, got)
    assert 4.5 < float(np.abs(got).max()) < 7.0


def test_ci_expected_paths_are_supported():
    """CI declares the paths its CPU has (FASTINIT_EXPECT_ISAS, from
    tools/cpu_isas.py): a build without the SIMD kernels, or a detection that
    misses them, fails here rather than skipping every SIMD test."""
    expected = [name.strip() for name in os.environ.get("FASTINIT_EXPECT_ISAS", "").split(",") if name.strip()]
    if not expected:
        pytest.skip("FASTINIT_EXPECT_ISAS is not set (CI sets it: python tools/cpu_isas.py)")
    missing = [name for name in expected if name not in _core.supported_isas()]
    assert not missing, f"this CPU has {expected} but fastinit supports only {_core.supported_isas()}"


def test_forced_path_is_used():
    """Forcing a path (scalar included) runs that path's kernels, for every
    kernel and the half dtypes (which run the float32 kernels)."""
    before = _core.get_isa()
    try:
        for name in _core.supported_isas():
            for _, fn, dtype in KERNEL_KINDS + [("normal_f16", KERNEL_KINDS[3][1], np.float16)]:
                gen(name, fn, 100, 1, dtype=dtype)
            assert _core.get_isa() == name
    finally:
        _core.set_isa(before)


def test_set_isa_rejects_unknown_name():
    with pytest.raises(ValueError, match="isa must be one of"):
        _core.set_isa("sse9")


def run_python(code, **env):
    environ = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)


@pytest.mark.parametrize("name", _core.supported_isas())
def test_env_forces_path(name):
    r = run_python("import fastinit; print(fastinit.show_config('dicts')['isa'])", FASTINIT_ISA=name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == name


def test_env_unknown_name_fails_at_import():
    r = run_python("import fastinit", FASTINIT_ISA="avx1024")
    assert r.returncode != 0
    assert "FASTINIT_ISA must be one of" in r.stderr and "avx1024" in r.stderr


def test_env_unsupported_path_warns_and_falls_back(monkeypatch):
    before = _core.get_isa()
    monkeypatch.setattr(_core, "supported_isas", lambda: ["scalar"])
    try:
        with pytest.warns(RuntimeWarning, match="this CPU supports only"):
            _config.apply_isa_environment({"FASTINIT_ISA": "avx512"})
        assert _core.get_isa() == _core.best_isa()
    finally:
        _core.set_isa(before)


def test_show_config(capsys):
    cfg = fastinit.show_config(mode="dicts")
    assert cfg["isa"] == _core.get_isa()
    assert cfg["isa_supported"] == _core.supported_isas()
    assert "scalar" in cfg["isa_supported"]
    assert cfg["default_threads"] >= 1
    assert cfg["numpy"] == np.__version__
    assert fastinit.show_config() is None
    printed = capsys.readouterr().out
    assert cfg["isa"] in printed and cfg["compiler"] in printed
    with pytest.raises(ValueError, match="mode must be"):
        fastinit.show_config(mode="json")


@pytest.mark.parametrize("path", ["scalar"] + SIMD_ISAS)
@pytest.mark.parametrize("name, fn, dtype", KINDS + [
    ("normal_f16", lambda shape, seed, **kw: fastinit.normal(shape, seed, 0.5, 2.0, **kw), np.float16),
    ("truncated_normal_f32", lambda shape, seed, **kw: fastinit.truncated_normal(shape, seed, **kw), np.float32),
], ids=KIND_IDS + ["normal_f16", "truncated_normal_f32"])
def test_misaligned_out_equals_aligned_on_every_path(path, name, fn, dtype):
    """An out= view at an odd byte offset (C cannot store a float there
    directly: the driver stages whole groups through an aligned block) gets
    the same bits as a fresh array, on the scalar path too."""
    before = _core.get_isa()
    try:
        for n in [5, 64, 1000, 20_001]:
            want = gen("scalar", fn, n, 11, dtype=dtype)
            out = misaligned(n, dtype)
            assert_same_bits(want, gen(path, fn, n, 11, dtype=dtype, out=out))
    finally:
        _core.set_isa(before)

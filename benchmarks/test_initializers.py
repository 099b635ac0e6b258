"""pytest-benchmark suite: one group per (initializer, dtype, size, target),
so each group compares like with like in one run; the memory-floor contender
turns every figure into "x of the memory wall".

    pytest benchmarks/ --benchmark-autosave
    pytest benchmarks/ --benchmark-compare --benchmark-compare-fail=median:10%
"""
import math
import tracemalloc

import numpy as np
import pytest

import fastinit
from fastinit import bench

CASES = bench.all_cases()


@pytest.mark.parametrize("contender", list(bench.CONTENDERS))
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_initializer(benchmark, case, contender):
    if not bench.available(contender):
        pytest.skip(f"{bench.CONTENDERS[contender][1]} is not installed")
    benchmark.group = case.group
    benchmark.extra_info["elements"] = math.prod(case.shape)
    fn = bench.make_call(contender, case)
    if case.size == "1e8":  # seconds per call: a few rounds are enough
        benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    else:
        benchmark(fn)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_peak_memory_is_the_output(benchmark, dtype):
    """he_normal of 1e7 elements into a fresh array: traced peak vs output bytes."""
    shape = bench.SIZES["1e7"]
    out_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    tracemalloc.start()
    try:
        fastinit.he_normal(shape, 0, dtype=dtype)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    benchmark.group = "peak-memory"
    benchmark.extra_info["peak_over_output"] = peak / out_bytes
    assert peak < out_bytes * 1.01 + 65536, f"peak {peak} bytes for a {out_bytes}-byte output"
    benchmark.pedantic(fastinit.he_normal, args=(shape, 0), kwargs={"dtype": dtype}, rounds=3)

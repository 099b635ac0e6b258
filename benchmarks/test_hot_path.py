"""pytest-benchmark: the per-call cost of small arrays. Each group
is one call; its rows are the public call, the bare C fill of the same
request into an existing buffer (fastinit.bench._bare_fill: no argument
handling at all) and, for he_normal, NumPy's seeded recipe. Call minus fill
is what argument handling, planning and the new array cost; compare rows
within a group (one run), as the machine may be loaded.

    pytest benchmarks/test_hot_path.py --benchmark-group-by=group
    fastinit bench --sizes 64x64 --models ''    # the same, as one table with the targets
"""
import numpy as np
import pytest

from fastinit import bench

CASES = {label: (call, fill) for label, call, fill, _ in bench.hot_cases()}


@pytest.mark.parametrize("contender", ["call", "bare-fill"])
@pytest.mark.parametrize("label", list(CASES))
def test_hot_path(benchmark, label, contender):
    call, fill = CASES[label]
    benchmark.group = f"hot path: {label}"
    benchmark(call if contender == "call" else fill)


def test_hot_path_numpy(benchmark):
    """NumPy's seeded recipe for he_normal((64, 64)): the 5x target's baseline."""
    std = bench.bench_models.spec_parameter("he_normal", bench.HOT_SHAPE)
    benchmark.group = f"hot path: {next(iter(CASES))}"
    benchmark(lambda: np.random.default_rng(bench.SEED).standard_normal(bench.HOT_SHAPE, dtype=np.float32)
              * np.float32(std))

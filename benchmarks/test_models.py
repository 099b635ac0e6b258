"""Whole models: every parameter of BERT-base and ResNet-50 (shapes and
initializers in fastinit.bench_models), one group per model, one row per
contender; a few rounds each (a BERT-base is 438 MB of float32).

    pytest benchmarks/test_models.py --benchmark-group-by=group
"""
import pytest

from fastinit import bench_models


@pytest.mark.parametrize("contender", list(bench_models.CONTENDERS))
@pytest.mark.parametrize("model", list(bench_models.MODELS))
def test_model(benchmark, model, contender):
    if not bench_models.available(contender):
        pytest.skip(f"{bench_models.CONTENDERS[contender][1]} is not installed")
    benchmark.group = f"model-{model}"
    benchmark.extra_info["params"] = bench_models.n_params(model)
    benchmark.pedantic(bench_models.make_call(contender, model), rounds=3, iterations=1)

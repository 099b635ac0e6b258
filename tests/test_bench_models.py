"""The whole-model benchmark measures what it says: the shape lists add up to
the published parameter counts, and every contender's recipe for each
initializer draws from the same distribution (a NumPy or torch recipe with
the wrong fan would make the comparison meaningless)."""
import math

import numpy as np
import pytest

from fastinit import bench_models
from fastinit.bench_models import Param


def test_parameter_counts_are_the_published_ones():
    # BertModel.from_pretrained("bert-base-uncased") and torchvision resnet50()
    assert bench_models.n_params("bert-base") == 109_482_240
    assert bench_models.n_params("resnet50") == 25_557_032
    for params in bench_models.MODELS.values():
        names = [p.name for p in params]
        assert len(names) == len(set(names))


# (parameter, expected std) for every recipe that draws random numbers
CASES = [
    (Param("w", (512, 256), "normal_0.02"), 0.02),
    (Param("w", (256, 128, 3, 3), "kaiming_normal_fan_out_relu"), math.sqrt(2 / (256 * 9))),
    (Param("w", (512, 256), "linear_weight"), 1 / math.sqrt(256) / math.sqrt(3)),
    (Param("b", (100_000,), "linear_bias", fan_in=64), 1 / math.sqrt(64) / math.sqrt(3)),
]
RANDOM_CONTENDERS = ["fastinit", "fastinit-1thread", "numpy", "torch"]


@pytest.mark.parametrize("contender", RANDOM_CONTENDERS)
@pytest.mark.parametrize("param, std", CASES, ids=[p.init for p, _ in CASES])
def test_every_contender_draws_the_same_distribution(contender, param, std):
    if not bench_models.available(contender):
        pytest.skip(f"{bench_models.CONTENDERS[contender][1]} is not installed")
    (x,) = bench_models.CONTENDERS[contender][0]([param], seed=3)
    x = np.asarray(x, dtype=np.float64)
    assert x.shape == param.shape
    assert abs(x.mean()) < 4 * std / math.sqrt(x.size)
    assert x.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("contender", list(bench_models.CONTENDERS))
def test_constants(contender):
    if not bench_models.available(contender):
        pytest.skip(f"{bench_models.CONTENDERS[contender][1]} is not installed")
    params = [Param("gamma", (64,), "ones"), Param("beta", (64,), "ones" if contender == "memory-floor" else "zeros")]
    gamma, beta = (np.asarray(a) for a in bench_models.CONTENDERS[contender][0](params))
    assert (gamma == 1).all() and beta.shape == (64,)
    if contender != "memory-floor":
        assert (beta == 0).all()

"""init_module vs the model's own reset_parameters() on a model with a
10M x 128 embedding (5.1 GB float32) and a few Linear layers. One round each:
the model is big. Compare the two in one run:

    pytest benchmarks/test_bench_torch.py --benchmark-group-by=group
"""
import pytest

torch = pytest.importorskip("torch")
import fastinit.torch as fi  # noqa: E402
from torch import nn  # noqa: E402

ROWS, DIM, HIDDEN = 10_000_000, 128, 4096


@pytest.fixture(scope="module")
def model():
    with torch.device("meta"):
        net = nn.Sequential(nn.Embedding(ROWS, DIM), nn.Linear(DIM, HIDDEN), nn.ReLU(),
                            nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, DIM))
    net.to_empty(device="cpu")
    with torch.no_grad():  # fault the pages in, so that neither contender pays for them
        for p in net.parameters():
            p.zero_()
    return net


def reset_parameters(net):
    for m in net.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()


@pytest.mark.benchmark(group="init a 10M x 128 embedding + 3 Linear")
def test_torch_reset_parameters(benchmark, model):
    benchmark.pedantic(reset_parameters, args=(model,), rounds=1, iterations=1)


@pytest.mark.benchmark(group="init a 10M x 128 embedding + 3 Linear")
def test_fastinit_init_module(benchmark, model):
    benchmark.pedantic(fi.init_module, args=(model, 0), rounds=1, iterations=1)

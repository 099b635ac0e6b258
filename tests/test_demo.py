"""The signal-propagation demo shows the known outcomes (small config)."""
import math

import pytest

from fastinit import demo


@pytest.fixture(scope="module")
def results():
    return demo.run(depth=20, width=256, batch=128, seed=0)


def std(results, init, act, layer):
    return results[(init, act)]["std"][layer - 1]


def test_zero_init_collapses_every_unit(results):
    for act in demo.ACTIVATIONS:
        r = results[("zero", act)]
        assert r["spread"] == 0 and r["verdict"].startswith("collapsed")


def test_small_random_vanishes(results):
    for act in demo.ACTIVATIONS:
        r = results[("small N(0, 0.01^2)", act)]
        assert r["spread"] > 0 and r["std"][-1] < 1e-6 * r["std"][0] and r["verdict"] == "vanished"


def test_large_random_explodes_or_saturates(results):
    assert results[("large N(0, 1)", "tanh")]["saturated"] > 0.5
    for act in ("relu", "selu"):
        last = std(results, "large N(0, 1)", act, 20)
        assert not math.isfinite(last) or last > 1e6
        assert results[("large N(0, 1)", act)]["verdict"] == "exploded"


def test_he_holds_relu(results):
    stds = results[("He", "relu")]["std"]
    assert 0.5 < stds[-1] / stds[0] < 2
    assert results[("Glorot", "relu")]["std"][-1] < 0.01 * stds[-1]  # without the factor 2 it halves per layer


def test_glorot_holds_tanh(results):
    glorot = std(results, "Glorot", "tanh", 20)
    assert 0.05 < glorot < 1
    assert glorot > 1e6 * std(results, "small N(0, 0.01^2)", "tanh", 20)
    # with PyTorch's tanh gain the std stays within a factor 2 of layer 1
    assert results[("Glorot, gain 5/3", "tanh")]["verdict"] == "steady"


def test_lecun_selu_self_normalizes(results):
    assert all(0.8 < s < 1.2 for s in results[("LeCun", "selu")]["std"])
    assert results[("LeCun", "selu")]["verdict"] == "steady"


def test_table_and_plot(results, tmp_path):
    table = demo.format_table(results, [1, 10, 20])
    assert table.count("\n") == 1 + len(demo.INITIALIZERS) * len(demo.ACTIVATIONS)
    pytest.importorskip("matplotlib")
    assert demo.plot(results, tmp_path / "demo.png")
    assert (tmp_path / "demo.png").stat().st_size > 10_000


@pytest.mark.parametrize("kw", [dict(depth=0), dict(width=-1), dict(batch=2.5), dict(depth=True)])
def test_bad_configuration_rejected(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        demo.run(**kw)

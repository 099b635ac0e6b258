"""Why initializers matter, run for real: signal propagation in a deep MLP.

A NumPy forward pass ``h <- act(h @ W_l)`` (biases zero) through ``depth``
layers of ``width`` units, from ``x ~ N(0, 1)``, under six initializations and
three activations. The standard deviation of the activations per layer shows
the known outcomes: zero init collapses every unit to one value (std across
units 0), small random weights make the signal vanish, large ones explode it
(ReLU, SELU) or saturate it (tanh), He keeps ReLU steady, Glorot keeps tanh
alive (it decays slowly, as tanh compresses) and holds it steady with
PyTorch's tanh gain 5/3, and LeCun with SELU self-normalizes (std stays near 1).
"""
from __future__ import annotations

import math
import time

import numpy as np

import fastinit
from fastinit._checks import is_int

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "selu": _selu,
}

# name -> weights(shape, seed, stream) in the (in, out) layout used by h @ W
INITIALIZERS = {
    "zero": lambda shape, seed, stream: np.zeros(shape, np.float32),
    "small N(0, 0.01^2)": lambda shape, seed, stream: fastinit.normal(shape, seed, 0.0, 0.01, stream=stream),
    "large N(0, 1)": lambda shape, seed, stream: fastinit.normal(shape, seed, 0.0, 1.0, stream=stream),
    "Glorot": lambda shape, seed, stream: fastinit.glorot_normal(shape, seed, stream=stream),
    "Glorot, gain 5/3": lambda shape, seed, stream: fastinit.glorot_normal(
        shape, seed, gain=fastinit.calculate_gain("tanh"), stream=stream),
    "He": lambda shape, seed, stream: fastinit.he_normal(shape, seed, stream=stream),
    "LeCun": lambda shape, seed, stream: fastinit.lecun_normal(shape, seed, stream=stream),
}

REPORT_LAYERS = (1, 10, 25, 50)
# dashed LeCun: with square layers it coincides with Glorot
LINE_STYLES = ("-", "-", "-", "-", ":", "-", "--")
SATURATED = 0.99      # |tanh| above this counts as saturated
VANISHED = 1e-3       # final std below this fraction of the input's: vanished
EXPLODED = 1e3        # final std above this: exploded


def propagate(weights, activation, x):
    """Per-layer std of the activations; the largest std across units of any
    sample at layer 1 (0: every unit computes the same value, a symmetry no
    gradient step can break); the fraction of saturated units at the last layer."""
    stds = []
    h = x
    with np.errstate(over="ignore", invalid="ignore"):
        for w in weights:
            h = activation(h @ w)
            if not stds:
                spread = float(h.std(axis=1).max())
            stds.append(float(h.std()))
        saturated = float(np.mean(np.abs(h) > SATURATED))
    return stds, spread, saturated


def verdict(stds, spread, saturated, activation_name) -> str:
    last = stds[-1]
    if spread == 0:
        return "collapsed: all units equal"
    if not math.isfinite(last) or last > EXPLODED:
        return "exploded"
    if last < VANISHED:
        return "vanished"
    if activation_name == "tanh" and saturated > 0.5:
        return f"saturated ({saturated:.0%} at |a|>{SATURATED})"
    ratio = last / stds[0]
    if 0.5 <= ratio <= 2:
        return "steady"
    return f"{'slow decay' if ratio < 1 else 'grows'} (x{ratio:.2g} from layer 1)"


def run(depth=50, width=512, batch=1024, seed=0):
    """The demo's data: ``{(initializer, activation): {"std": per-layer list,
    "spread": max std across units at layer 1, "saturated": fraction,
    "verdict": str}}``. With square layers Glorot and LeCun coincide. Layer l's weights come from stream l, the input from
    stream 0 of seed + 1, so every run with the same arguments is identical."""
    for name, value in (("depth", depth), ("width", width), ("batch", batch)):
        if not is_int(value) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    x = fastinit.normal((batch, width), seed + 1)
    results = {}
    for init_name, make in INITIALIZERS.items():
        weights = [make((width, width), seed, layer) for layer in range(1, depth + 1)]
        for act_name, act in ACTIVATIONS.items():
            stds, spread, saturated = propagate(weights, act, x)
            results[(init_name, act_name)] = {"std": stds, "spread": spread, "saturated": saturated,
                                              "verdict": verdict(stds, spread, saturated, act_name)}
    return results


def format_table(results, layers) -> str:
    head = f"{'init':<20}{'act':<6}" + "".join(f"{'std@' + str(l):>11}" for l in layers) + "  outcome"
    lines = [head, "-" * len(head)]
    for (init_name, act_name), r in results.items():
        cells = "".join(f"{r['std'][l - 1]:>11.3g}" for l in layers)
        lines.append(f"{init_name:<20}{act_name:<6}{cells}  {r['verdict']}")
    return "\n".join(lines)


def plot(results, path) -> bool:
    """Per-layer std per initializer, one panel per activation, log scale.
    Returns False (after saying why) when matplotlib is absent."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'fastinit[plot]'): no plot written")
        return False
    fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(5 * len(ACTIVATIONS), 4), sharey=True)
    for ax, act_name in zip(axes, ACTIVATIONS):
        for init_name, style in zip(INITIALIZERS, LINE_STYLES):
            stds = np.array(results[(init_name, act_name)]["std"])
            finite = np.isfinite(stds) & (stds > 0)
            label = init_name if finite.any() else f"{init_name} (std 0 or inf: not drawn)"
            layers = np.arange(1, len(stds) + 1)
            ax.plot(layers[finite], stds[finite], style, label=label)
        ax.set_yscale("log")
        ax.set_title(act_name)
        ax.set_xlabel("layer")
    axes[0].set_ylabel("std of activations")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(args) -> int:
    """``fastinit demo``: print the table and write the plot."""
    start = time.perf_counter()
    results = run(args.depth, args.width, args.batch, args.seed)
    layers = [l for l in REPORT_LAYERS if l <= args.depth] or [args.depth]
    print(f"MLP: {args.depth} layers x {args.width} units, batch {args.batch}, x ~ N(0, 1), "
          f"biases 0, seed {args.seed}")
    print(format_table(results, layers))
    print(f"({time.perf_counter() - start:.1f} s)")
    if not args.no_plot and plot(results, args.png):
        print(f"plot written to {args.png}")
    return 0

"""Fans and gains: pure arithmetic on shapes, no random numbers."""
from __future__ import annotations

import math

from ._checks import as_float, check_shape, is_int

LAYOUTS = (None, "torch")


def _normalize_axes(name: str, axes, ndim: int) -> tuple:
    """An int or a tuple/list of ints, each in [-ndim, ndim), as a tuple of
    distinct non-negative axes."""
    single = is_int(axes)
    if not single and not isinstance(axes, (tuple, list)):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {axes!r}")
    out = []
    for axis in (axes,) if single else axes:
        if not is_int(axis):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {axes!r}")
        if not -ndim <= axis < ndim:
            raise ValueError(f"{name}={axes!r} is out of range for a shape with {ndim} axes")
        if int(axis) % ndim in out:
            raise ValueError(f"{name}={axes!r} names axis {int(axis) % ndim} twice")
        out.append(int(axis) % ndim)
    return tuple(out)


def compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    Default layout (NumPy, JAX, Keras): ``(..., in, out)``, with the axes of
    ``jax.nn.initializers.variance_scaling``: ``in_axis``, ``out_axis`` and
    ``batch_axis`` are each an int or a tuple of ints (disjoint);
    ``fan_in = prod(in axes) * receptive``, ``fan_out = prod(out axes) *
    receptive``, where ``receptive`` is the product of every other axis
    except the batch axes. So a 2-D convolution kernel ``(kh, kw, c_in,
    c_out)`` has ``fan_in = kh * kw * c_in`` and ``fan_out = kh * kw * c_out``.
    As in Keras, a 0-D shape has fans ``(1, 1)`` and a 1-D shape ``(n,)`` has
    ``(n, n)`` (with the default axes; JAX raises there).

    ``layout="torch"``: PyTorch's ``(out, in, *kernel)``, as in
    ``torch.nn.init._calculate_fan_in_and_fan_out``; fewer than 2 dimensions
    raise ``ValueError`` like PyTorch does, and ``in_axis``/``out_axis`` must be
    left at their defaults.

    >>> compute_fans((3, 2))
    (3, 2)
    >>> compute_fans((64, 3, 5, 5), layout="torch")
    (75, 1600)
    >>> compute_fans((8, 3, 3, 16, 32), in_axis=(-3, -2), out_axis=-1, batch_axis=0)
    (144, 96)
    """
    shape = check_shape(shape)
    if (layout is None and len(shape) >= 2 and type(in_axis) is int and in_axis == -2
            and type(out_axis) is int and out_axis == -1 and type(batch_axis) is tuple and not batch_axis):
        receptive = math.prod(shape[:-2])  # the default axes: (..., in, out)
        return shape[-2] * receptive, shape[-1] * receptive
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be None or 'torch', got {layout!r}")
    if layout == "torch":
        if (in_axis, out_axis) != (-2, -1) or batch_axis not in ((), []):
            raise ValueError("layout='torch' fixes the axes: leave in_axis, out_axis and batch_axis at their defaults")
        if len(shape) < 2:
            raise ValueError(
                f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape {shape})"
            )
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1 and (in_axis, out_axis) == (-2, -1):
        return shape[0], shape[0]
    ndim = len(shape)
    ins = _normalize_axes("in_axis", in_axis, ndim)
    outs = _normalize_axes("out_axis", out_axis, ndim)
    batch = _normalize_axes("batch_axis", batch_axis, ndim)
    if set(ins) & set(outs):
        raise ValueError(f"in_axis={in_axis!r} and out_axis={out_axis!r} must not share an axis")
    if set(batch) & (set(ins) | set(outs)):
        raise ValueError(f"batch_axis={batch_axis!r} must not contain in_axis or out_axis")
    receptive = math.prod(n for d, n in enumerate(shape) if d not in set(ins) | set(outs) | set(batch))
    fan_in = math.prod(shape[d] for d in ins) * receptive
    fan_out = math.prod(shape[d] for d in outs) * receptive
    return fan_in, fan_out


# PyTorch's torch.nn.init.calculate_gain table.
_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
NONLINEARITIES = _UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None) -> float:
    """Recommended gain for a nonlinearity (PyTorch's table).

    ======================  ==============================================
    nonlinearity            gain
    ======================  ==============================================
    linear, conv*, sigmoid  1
    tanh                    5/3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + negative_slope**2)), slope 0.01
    selu                    3/4
    ======================  ==============================================

    >>> calculate_gain("relu")
    1.4142135623730951
    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else as_float("negative_slope", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity must be one of {list(NONLINEARITIES)}, got {nonlinearity!r}")

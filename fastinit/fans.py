"""Fans and gains: pure arithmetic on shapes, no random numbers."""
from __future__ import annotations

import math
import numbers

from ._plan import check_shape

LAYOUTS = (None, "torch")


def _normalize_axis(name: str, axis, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for a shape with {ndim} axes")
    return int(axis) % ndim


def compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    Default layout (NumPy, JAX, Keras): ``(..., in, out)``; the receptive
    field is the product of every axis other than ``in_axis``, ``out_axis`` and
    ``batch_axis``, so a 2-D convolution kernel ``(kh, kw, c_in, c_out)`` has
    ``fan_in = kh * kw * c_in`` and ``fan_out = kh * kw * c_out``.
    As in Keras, a 0-D shape has fans ``(1, 1)`` and a 1-D shape ``(n,)`` has
    ``(n, n)``.

    ``layout="torch"``: PyTorch's ``(out, in, *kernel)``, as in
    ``torch.nn.init._calculate_fan_in_and_fan_out``; fewer than 2 dimensions
    raise ``ValueError`` like PyTorch does, and ``in_axis``/``out_axis`` must be
    left at their defaults.

    >>> compute_fans((3, 2))
    (3, 2)
    >>> compute_fans((64, 3, 5, 5), layout="torch")
    (75, 1600)
    """
    shape = check_shape(shape)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be None or 'torch', got {layout!r}")
    if isinstance(batch_axis, numbers.Integral) and not isinstance(batch_axis, bool):
        batch_axis = (batch_axis,)
    if not isinstance(batch_axis, (tuple, list)):
        raise TypeError(f"batch_axis must be an int or a tuple of ints, got {batch_axis!r}")
    if layout == "torch":
        if (in_axis, out_axis, tuple(batch_axis)) != (-2, -1, ()):
            raise ValueError("layout='torch' fixes the axes: leave in_axis, out_axis and batch_axis at their defaults")
        if len(shape) < 2:
            raise ValueError(
                f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape {shape})"
            )
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    ndim = len(shape)
    i = _normalize_axis("in_axis", in_axis, ndim)
    o = _normalize_axis("out_axis", out_axis, ndim)
    if i == o:
        raise ValueError(f"in_axis and out_axis must differ, both are axis {i}")
    batch = {_normalize_axis("batch_axis", b, ndim) for b in batch_axis}
    if batch & {i, o}:
        raise ValueError("batch_axis must not contain in_axis or out_axis")
    receptive = math.prod(n for d, n in enumerate(shape) if d not in batch | {i, o})
    return shape[i] * receptive, shape[o] * receptive


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
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool) and math.isfinite(param):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope must be a finite number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity must be one of {list(NONLINEARITIES)}, got {nonlinearity!r}")

"""fastinit for PyTorch: drop-in replacements for ``torch.nn.init``.

Every function has ``torch.nn.init``'s name, signature, return value, fan
rules, warnings and errors, and fills the tensor in place with fastinit's
counter-based generator, plus two keyword-only arguments:

seed : int in [0, 2**64), optional
    Pins fastinit's bits. Without it a 64-bit seed is drawn from
    ``generator`` (or from PyTorch's default CPU generator), so
    ``torch.manual_seed(s)`` and ``torch.Generator().manual_seed(s)`` give the
    same tensor and successive calls give different tensors, as in PyTorch.
stream : int in [0, 2**64), default 0
    Independent stream under the same seed.

The values are fastinit's, not PyTorch's: the same distribution, different
bits. ``fastinit.torch.normal_(t, seed=s, stream=k)`` equals
``torch.from_numpy(fastinit.normal(t.shape, s, stream=k))`` element for element.

CPU tensors that are contiguous and of a dtype fastinit generates (float32,
float64, float16, and bfloat16 when ml_dtypes is installed) are
filled in place through a zero-copy NumPy view. Any other float tensor (another
device, non-contiguous, or a half dtype fastinit cannot write directly) is
generated on the CPU in float32/float64 and copied in with ``Tensor.copy_``,
which rounds to nearest; the values are the same as for the contiguous CPU
tensor. Meta tensors are left as they are, as PyTorch does.

``init_module`` (and its context-manager form ``initializing``) runs a
module's own init code with every random fill routed through these functions,
under a stream per parameter name: reproducible, independent of construction
order and of which process builds which part.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import nn
# PyTorch's own fan and gain helpers, so fans, gains and their error messages
# are exactly those of torch.nn.init.
from torch.nn.init import _calculate_correct_fan, _calculate_fan_in_and_fan_out, calculate_gain

import fastinit
from fastinit import _plan

__all__ = [
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "lecun_uniform_", "lecun_normal_",
    "init_module", "initializing", "stable_stream", "draw_seed",
]

ZERO_ELEMENT_WARNING = "Initializing zero-element tensors is a no-op"
def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype fastinit generates for a tensor of dtype: the same one,
    except bfloat16 without ml_dtypes: float32, rounded by copy_ later."""
    if dtype == torch.float32:
        return np.dtype(np.float32)
    if dtype == torch.float64:
        return np.dtype(np.float64)
    if dtype == torch.float16:
        return np.dtype(np.float16)
    if dtype == torch.bfloat16:
        try:
            import ml_dtypes
        except ImportError:
            return np.dtype(np.float32)
        return np.dtype(ml_dtypes.bfloat16)
    raise TypeError(
        f"tensor dtype must be one of torch.float32, torch.float64, torch.float16, "
        f"torch.bfloat16, got {dtype}")


def _as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array sharing tensor's memory (CPU, contiguous)."""
    t = tensor.detach()
    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16: view the bits
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def draw_seed(generator: torch.Generator | None = None) -> int:
    """A 64-bit seed drawn from generator (default: PyTorch's default CPU
    generator), advancing it like any other draw."""
    device = generator.device if generator is not None else "cpu"
    word = torch.empty((), dtype=torch.int64, device=device).random_(-(2**63), None, generator=generator)
    return int(word) % 2**64


def _key(generator, seed, stream) -> tuple:
    """(seed, stream) for one call, validated before the tensor is touched."""
    if seed is not None and generator is not None:
        raise ValueError("pass either generator= or seed=, not both")
    stream = _plan.check_uint64("stream", stream)
    seed = draw_seed(generator) if seed is None else _plan.check_uint64("seed", seed)
    return seed, stream


def _fill(tensor: torch.Tensor, generate, generator, seed, stream) -> torch.Tensor:
    """Fill tensor with generate(shape, seed, stream=, dtype=, out=), in place
    when possible, else generated on the CPU and copied (see module doc)."""
    dtype = _numpy_dtype(tensor.dtype)
    if tensor.is_meta:  # no storage: nothing to fill, nothing to draw
        _plan.check_uint64("stream", stream)
        return tensor
    seed, stream = _key(generator, seed, stream)
    shape = tuple(tensor.shape)
    with torch.no_grad():
        # same item size: fastinit writes the tensor's own dtype (not float32 for a half)
        if tensor.device.type == "cpu" and tensor.is_contiguous() and dtype.itemsize == tensor.element_size():
            generate(shape, seed, stream=stream, out=_as_numpy(tensor))
        else:
            tensor.copy_(_from_numpy(generate(shape, seed, stream=stream, dtype=dtype)))
    return tensor


def _uniform(tensor, low, high, generator, seed, stream):
    return _fill(tensor, lambda shape, s, **kw: fastinit.uniform(shape, s, low, high, **kw),
                 generator, seed, stream)


def _normal(tensor, mean, std, generator, seed, stream):
    return _fill(tensor, lambda shape, s, **kw: fastinit.normal(shape, s, mean, std, **kw),
                 generator, seed, stream)


def uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with U(a, b) (``a`` included, ``b`` never returned).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.uniform_(torch.empty(3, 5), -1.0, 1.0, seed=0)
    >>> bool(((w >= -1) & (w < 1)).all())
    True
    """
    return _uniform(tensor, a, b, generator, seed, stream)


def normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.normal_(torch.empty(1000, 1000), 0.0, 2.0, seed=0)
    >>> round(float(w.std()), 1)
    2.0
    """
    return _normal(tensor, mean, std, generator, seed, stream)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2) truncated to [a, b] (absolute bounds,
    as in PyTorch), by the inverse CDF (no rejection loop).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.trunc_normal_(torch.empty(100, 100), std=0.02, a=-0.04, b=0.04, seed=0)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    if not tensor.is_meta and (mean < a - 2 * std or mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    return _fill(tensor, lambda shape, s, **kw: fastinit.truncated_normal(shape, s, mean=mean, std=std,
                                                                          a=a, b=b, **kw),
                 generator, seed, stream)


def xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier uniform: U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_uniform_(torch.empty(300, 100), seed=0)
    >>> bool(w.abs().max() < (6 / 400) ** 0.5)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, seed, stream)


def xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier normal: N(0, s^2), ``s = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_normal_(torch.empty(1000, 1000), seed=0)
    >>> round(float(w.std()), 3)
    0.032
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator, seed, stream)


def _kaiming_std(tensor, a, mode, nonlinearity) -> float | None:
    """std of Kaiming init, or None (after PyTorch's warning) for a
    zero-element tensor."""
    if 0 in tensor.shape:
        warnings.warn(ZERO_ELEMENT_WARNING, stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                     seed=None, stream=0):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)``, fan = fan_in or fan_out (mode).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_uniform_(torch.empty(256, 512), nonlinearity="relu", seed=0)
    >>> bool(w.abs().max() < (6 / 512) ** 0.5)
    True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, seed, stream)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                    seed=None, stream=0):
    """He/Kaiming normal: N(0, s^2), ``s = gain / sqrt(fan)``.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_normal_(torch.empty(512, 1024), nonlinearity="relu", seed=0)
    >>> round(float(w.std()) * 1024 ** 0.5, 1)
    1.4
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _normal(tensor, 0.0, std, generator, seed, stream)


def lecun_uniform_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (PyTorch lacks it).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_uniform_(torch.empty(10, 300), seed=0)
    >>> bool(w.abs().max() < 0.1)
    True
    """
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0 / fan_in)
    return _uniform(tensor, -bound, bound, generator, seed, stream)


def lecun_normal_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun normal: N(0, 1 / fan_in); with SELU, self-normalizing networks.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_normal_(torch.empty(400, 400), seed=0)
    >>> round(float(w.std()) * 20, 2)
    1.0
    """
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator, seed, stream)


def orthogonal_(tensor, gain=1, generator=None, *, seed=None, stream=0):
    """A (semi-)orthogonal matrix times gain, over ``(rows, numel / rows)``
    with rows = ``tensor.shape[0]`` as in PyTorch (Saxe et al., 2013).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.orthogonal_(torch.empty(3, 5), seed=0)
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
    True
    """
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    rows = tensor.size(0)
    matrix = (rows, tensor.numel() // rows)

    def generate(shape, s, out=None, **kw):
        if out is not None:
            kw["out"] = out.reshape(matrix)  # a view: out is contiguous
        return fastinit.orthogonal(matrix, s, gain=gain, **kw).reshape(shape)

    return _fill(tensor, generate, generator, seed, stream)


# init_module lives in its own module (it runs each module's init code with
# the fills above); imported last, as it uses them.
from fastinit._torch_module import init_module, initializing, stable_stream  # noqa: E402

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
bits. Each function is the core initializer of the same name with
``layout="torch"`` (``xavier_uniform_`` is ``fastinit.glorot_uniform``,
``kaiming_normal_`` is ``fastinit.he_normal``, ...): ``fastinit.torch.
normal_(t, seed=s, stream=k)`` equals ``torch.from_numpy(fastinit.normal(
t.shape, s, stream=k))`` bit for bit. Where ``torch.nn.init`` gives a
constant (``uniform_(t, 1.0, 1.0)``, ``trunc_normal_`` with ``a == b``,
``normal_`` with ``std=0``, gain 0), so does this module.

Writes are PyTorch in-place writes: each function runs under
``torch.no_grad()`` like ``torch.nn.init``, bumps the tensor's version
counter (so autograd refuses a backward through values saved before the
fill) and is refused where PyTorch refuses an in-place write (an inference
tensor outside ``inference_mode``, a view whose base was modified, ...).
CPU tensors that are contiguous and of a dtype fastinit generates (float32,
float64, float16, and bfloat16 when ml_dtypes is installed) are filled
through a zero-copy NumPy view; any other float CPU tensor (non-contiguous,
bfloat16 without ml_dtypes) is generated on the CPU and copied in with
``Tensor.copy_``. CUDA tensors are written in place on the device by
fastinit's Triton kernels (``FASTINIT_TORCH_BACKEND=auto|c|triton``, see
docs/torch.md; without Triton: generated on the CPU and copied, with one
warning). The values are the same every way: without ml_dtypes a bfloat16
tensor gets the float32 kernel's values rounded (by ``copy_`` or the device
kernels) and then capped below ``high`` (uniform) or clamped into ``[a, b]``
(truncated normal) in bfloat16, which are the core's bfloat16 bits. Meta
tensors are left as they are, as PyTorch does.

Sharded tensors: a DTensor (any DeviceMesh; ``Shard(d)`` on any dim, uneven
shards, ``Replicate``, FSDP2's ``_StridedShard``) or a ``ShardedTensor`` is
filled shard by shard, each rank writing only its local tensor with the
values of the global tensor at the positions it holds (fans from the global
shape), with no communication: every rank's ``full_tensor()`` equals the
single-process tensor bit for bit. ``Partial`` placements raise.
``fill_block`` does the same for any local tensor given its offsets in a
global shape.

``init_module`` (and its context-manager form ``initializing``) runs a
module's own init code with every random fill routed through these functions,
under a stream per parameter name: reproducible, independent of construction
order and of which process builds which part.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torch.nn.init import calculate_gain

from fastinit import _checks
from fastinit._torch_fill import (_LocalBlock, _is_meta, _scalars, _shape, draw_seed, fill_tensor, normal_,
                                  trunc_normal_, uniform_)
from fastinit._torch_module import init_module, initializing, stable_stream

__all__ = [
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "lecun_uniform_", "lecun_normal_",
    "fill_block", "init_module", "initializing", "stable_stream", "draw_seed",
]

ZERO_ELEMENT_WARNING = "Initializing zero-element tensors is a no-op"


# PyTorch's own fan helpers validate the arguments, so errors and their
# messages are exactly those of torch.nn.init (the values come from the core
# initializers). They are private: looked up when called, and if a PyTorch
# release drops them, the same checks made here.
def _calculate_fan_in_and_fan_out(tensor):
    helper = getattr(nn.init, "_calculate_fan_in_and_fan_out", None)
    if helper is not None:
        return helper(tensor)
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    helper = getattr(nn.init, "_calculate_correct_fan", None)
    if helper is not None:
        return helper(tensor, mode)
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# ---------------------------------------------------------------- torch.nn.init
# (uniform_, normal_ and trunc_normal_ live in fastinit._torch_fill: init_module routes fills to them)

def _probe(tensor):
    """A tensor of the global shape for PyTorch's fan helpers (a meta tensor
    for a sharded one: they index it)."""
    if type(tensor) in (torch.Tensor, nn.Parameter):
        return tensor
    return torch.empty(_shape(tensor), device="meta")


def xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier uniform: U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``
    (``fastinit.glorot_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_uniform_(torch.empty(300, 100), seed=0)
    >>> bool(w.abs().max() < (6 / 400) ** 0.5)
    True
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return fill_tensor(tensor, "glorot_uniform", generator, seed, stream, gain=_scalars(gain)[0], layout="torch")


def xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier normal: N(0, s^2), ``s = gain * sqrt(2 / (fan_in + fan_out))``
    (``fastinit.glorot_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_normal_(torch.empty(1000, 1000), seed=0)
    >>> round(float(w.std()), 3)
    0.032
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return fill_tensor(tensor, "glorot_normal", generator, seed, stream, gain=_scalars(gain)[0], layout="torch")


def _kaiming(name, tensor, a, mode, nonlinearity, generator, seed, stream):
    """PyTorch's checks and zero-element warning, then the core He initializer."""
    if 0 in _shape(tensor):
        warnings.warn(ZERO_ELEMENT_WARNING, stacklevel=3)
        return tensor
    _calculate_correct_fan(_probe(tensor), mode)
    calculate_gain(nonlinearity, a)
    return fill_tensor(tensor, name, generator, seed, stream, a=a, mode=mode, nonlinearity=nonlinearity,
                       layout="torch")


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                     seed=None, stream=0):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)``, fan = fan_in or fan_out (mode)
    (``fastinit.he_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_uniform_(torch.empty(256, 512), nonlinearity="relu", seed=0)
    >>> bool(w.abs().max() < (6 / 512) ** 0.5)
    True
    """
    return _kaiming("he_uniform", tensor, a, mode, nonlinearity, generator, seed, stream)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                    seed=None, stream=0):
    """He/Kaiming normal: N(0, s^2), ``s = gain / sqrt(fan)`` (``fastinit.he_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_normal_(torch.empty(512, 1024), nonlinearity="relu", seed=0)
    >>> round(float(w.std()) * 1024 ** 0.5, 1)
    1.4
    """
    return _kaiming("he_normal", tensor, a, mode, nonlinearity, generator, seed, stream)


def lecun_uniform_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (PyTorch lacks it;
    ``fastinit.lecun_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_uniform_(torch.empty(10, 300), seed=0)
    >>> bool(w.abs().max() < 0.1)
    True
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return fill_tensor(tensor, "lecun_uniform", generator, seed, stream, layout="torch")


def lecun_normal_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun normal: N(0, 1 / fan_in); with SELU, self-normalizing networks
    (``fastinit.lecun_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_normal_(torch.empty(400, 400), seed=0)
    >>> round(float(w.std()) * 20, 2)
    1.0
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return fill_tensor(tensor, "lecun_normal", generator, seed, stream, layout="torch")


def orthogonal_(tensor, gain=1, generator=None, *, seed=None, stream=0):
    """A (semi-)orthogonal matrix times gain, over ``(rows, numel / rows)``
    with rows = ``tensor.shape[0]`` as in PyTorch (Saxe et al., 2013;
    ``fastinit.orthogonal``). On a sharded tensor each rank computes the
    whole matrix once (a QR factorization cannot be split) and keeps its
    block, so the shards are exactly the single-process matrix.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.orthogonal_(torch.empty(3, 5), seed=0)
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
    True
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if math.prod(shape) == 0 or _is_meta(tensor):
        return tensor
    return fill_tensor(tensor, "orthogonal", generator, seed, stream, gain=_scalars(gain)[0])


def fill_block(init, local, global_shape, offsets, *args, **kwargs):
    """Fill ``local`` with the block ``[offsets, offsets + local.shape)`` of
    the tensor of shape ``global_shape`` that ``init(global tensor, *args,
    **kwargs)`` would make, and return it; fans come from ``global_shape``.
    ``init`` is any function of this module. For shards that are neither a
    DTensor nor a ShardedTensor (which the functions take directly): every
    process fills its own block with the same seed and stream, and the
    blocks are the single-process tensor bit for bit.

    >>> import torch, fastinit.torch as fi
    >>> rows = fi.fill_block(fi.kaiming_uniform_, torch.empty(2, 8), (6, 8), (4, 0), a=5 ** 0.5, seed=0)
    >>> torch.equal(rows, fi.kaiming_uniform_(torch.empty(6, 8), a=5 ** 0.5, seed=0)[4:])
    True
    """
    if getattr(init, "__module__", None) == "torch.nn.init":
        raise TypeError(f"init must be a function of fastinit.torch (fastinit.torch.{init.__name__}), got "
                        f"torch.nn.init.{init.__name__}: PyTorch's functions cannot fill a block of a global tensor")
    if not isinstance(local, torch.Tensor):
        raise TypeError(f"local must be a torch.Tensor, got {type(local).__name__}")
    global_shape = _checks.check_shape(global_shape)
    if not isinstance(offsets, (tuple, list)) or len(offsets) != len(global_shape) or \
            not all(_checks.is_int(o) for o in offsets):
        raise TypeError(f"offsets must be a tuple of {len(global_shape)} ints (one per dim of global_shape "
                        f"{global_shape}), got {offsets!r}")
    offsets = tuple(int(o) for o in offsets)
    if local.dim() != len(global_shape) or any(
            o < 0 or o + n > g for o, n, g in zip(offsets, local.shape, global_shape)):
        raise ValueError(f"a local tensor of shape {tuple(local.shape)} at offsets {offsets} is not a block "
                         f"of global_shape {global_shape}")
    init(_LocalBlock(local, global_shape, offsets), *args, **kwargs)
    return local

"""The fill machinery of fastinit.torch, below both fastinit.torch and
fastinit._torch_module: where a tensor's values go (a tensor, a DTensor's
or ShardedTensor's local blocks, fill_block's block), one prepared call
(fastinit._prepare) written into them, and the three plain distributions
(uniform_, normal_, trunc_normal_) that init_module routes fills to. See
fastinit.torch for the contract.

Two backends write a block (FASTINIT_TORCH_BACKEND, read on every call):
the C core through a NumPy view or a copy_ (CPU tensors), and the device
kernels (fastinit.device, Triton; imported on first use) straight into a
CUDA tensor's memory, with the same bits."""
from __future__ import annotations

import itertools
import math
import numbers
import os
import sys
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from fastinit import _checks, _spec
from fastinit._prepare import prepare


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype fastinit generates for a tensor of dtype: the same one,
    except bfloat16 without ml_dtypes: float32, rounded by copy_ later (see
    _bfloat16_fallback for the bounds)."""
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


def _scalars(*values):
    """values with each 0-d tensor as its Python number (torch.nn.init takes
    them wherever it takes a number)."""
    return tuple(v.item() if isinstance(v, torch.Tensor) and v.dim() == 0 else v for v in values)


def _check_key(generator, seed, stream) -> tuple:
    """(seed or None, stream) for one call, validated before the tensor is
    touched; a seed is drawn from the generator only once the write is
    known to be allowed."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    if seed is not None and generator is not None:
        raise ValueError("pass either generator= or seed=, not both")
    stream = _checks.check_uint64("stream", stream)
    return (None if seed is None else _checks.check_uint64("seed", seed)), stream


# ---------------------------------------------------------------- which backend writes

BACKEND_VARIABLE = "FASTINIT_TORCH_BACKEND"
BACKENDS = ("auto", "c", "triton")
GPU_EXTRA = "pip install 'fastinit[gpu]'"
_NOT_IMPORTED = object()
_launch = _NOT_IMPORTED  # fastinit.device.launch once imported; None when Triton cannot be imported
_warned_no_triton = False


def _device_launch():
    """fastinit.device.launch (which imports Triton), imported on first use;
    None without Triton."""
    global _launch
    if _launch is _NOT_IMPORTED:
        try:
            from fastinit.device import launch
        except ImportError:
            launch = None
        _launch = launch
    return _launch


def backend_for(device: torch.device) -> str:
    """Which backend fills a tensor on ``device``: "c" (the C core on the
    host) or "triton" (the device kernels), by FASTINIT_TORCH_BACKEND, read
    on every call: ``auto`` (default) the device kernels for CUDA tensors, the C core
    otherwise; ``c`` the C core always (CUDA tensors: generated on the host
    and copied); ``triton`` the device kernels always (CPU tensors need
    Triton's interpreter, TRITON_INTERPRET=1). Under ``auto`` without
    Triton a CUDA tensor takes the C core, with one warning per process."""
    global _warned_no_triton
    choice = os.environ.get(BACKEND_VARIABLE, "auto")
    if choice not in BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE} must be one of {', '.join(BACKENDS)}, got {choice!r}")
    if choice == "c" or (choice == "auto" and device.type != "cuda"):
        return "c"
    launch = _device_launch()
    if launch is None:
        if choice == "triton":
            raise ImportError(f"{BACKEND_VARIABLE}=triton needs Triton: {GPU_EXTRA}")
        if not _warned_no_triton:
            _warned_no_triton = True
            warnings.warn(f"fastinit.torch: Triton is not installed, so CUDA tensors are generated on the host "
                          f"and copied in; for the device kernels: {GPU_EXTRA}", UserWarning, stacklevel=4)
        return "c"
    if device.type == "cpu" and not launch._interpreting():
        raise ValueError(f"{BACKEND_VARIABLE}=triton on a CPU tensor needs Triton's interpreter: set "
                         f"TRITON_INTERPRET=1 before Triton is imported")
    return "triton"


# ---------------------------------------------------------------- where the values go

class _Block(NamedTuple):
    """A local tensor and, along each dim, the global indices of its entries
    in local order (a range when they are consecutive)."""

    local: torch.Tensor
    indices: tuple


class _Target(NamedTuple):
    """What one call fills: the global shape (fans come from it), the local
    blocks this process writes, and the tensor whose version counter the
    fill bumps besides theirs (a DTensor; None otherwise)."""

    shape: tuple
    blocks: list
    wrapper: object


class _LocalBlock(NamedTuple):
    """fill_block's argument to an initializer: local holds the block
    [offsets, offsets + local.shape) of a tensor of shape global_shape."""

    local: torch.Tensor
    global_shape: tuple
    offsets: tuple


def _loaded_class(module: str, name: str):
    """module.name if module is already imported, else None: a tensor of a
    class whose module was never imported cannot exist, and importing
    torch.distributed on every call would cost more than a small fill."""
    return getattr(sys.modules.get(module), name, None)


def _whole(shape) -> tuple:
    return tuple(range(n) for n in shape)


def _target(tensor) -> _Target:
    if isinstance(tensor, _LocalBlock):
        blk = _Block(tensor.local, tuple(range(o, o + n) for o, n in zip(tensor.offsets, tensor.local.shape)))
        return _Target(tensor.global_shape, [blk], None)
    if type(_checked(tensor)) not in (torch.Tensor, nn.Parameter):
        dtensor = _loaded_class("torch.distributed.tensor", "DTensor")
        if dtensor is not None and isinstance(tensor, dtensor):
            return _Target(tuple(tensor.shape), _dtensor_blocks(tensor), tensor)
        sharded = _loaded_class("torch.distributed._shard.sharded_tensor.api", "ShardedTensor")
        if sharded is not None and isinstance(tensor, sharded):
            blocks = [_Block(s.tensor, tuple(range(o, o + n) for o, n in
                                             zip(s.metadata.shard_offsets, s.metadata.shard_sizes)))
                      for s in tensor.local_shards()]
            return _Target(tuple(tensor.size()), blocks, None)
    return _Target(tuple(tensor.shape), [_Block(tensor, _whole(tensor.shape))], None)


def _dtensor_blocks(dtensor) -> list:
    """The block of a DTensor's global tensor that this rank holds (none if
    the rank is outside the mesh). Offsets come from PyTorch's
    compute_local_shape_and_global_offset; with FSDP2's _StridedShard, whose
    local rows are not consecutive, from each placement's own
    local_shard_size_and_offset, applied left to right as PyTorch does."""
    from torch.distributed.tensor import Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    from torch.distributed.tensor.placement_types import _StridedShard, _StridedShardOffsetMode

    mesh, placements = dtensor.device_mesh, dtensor.placements
    for p in placements:
        if p.is_partial():
            raise ValueError(
                f"cannot initialize a DTensor with a Partial placement ({placements}): its global value "
                f"is a reduction over ranks; initialize it as Replicate or Shard, then redistribute")
    coordinate = mesh.get_coordinate()
    if coordinate is None:
        return []
    shape = tuple(dtensor.shape)
    if not any(isinstance(p, _StridedShard) for p in placements):
        local_shape, offsets = compute_local_shape_and_global_offset(shape, mesh, placements)
        indices = tuple(range(o, o + n) for o, n in zip(offsets, local_shape))
    else:
        held = list(_whole(shape))
        for mesh_dim, p in enumerate(placements):
            if isinstance(p, _StridedShard):
                size, picks = p.local_shard_size_and_offset(
                    len(held[p.dim]), mesh.size(mesh_dim), coordinate[mesh_dim], _StridedShardOffsetMode.ALL)
                held[p.dim] = [held[p.dim][i] for i in picks[:size]] if size else range(0)
            elif isinstance(p, Shard):
                size, start = Shard.local_shard_size_and_offset(
                    len(held[p.dim]), mesh.size(mesh_dim), coordinate[mesh_dim])
                held[p.dim] = held[p.dim][start:start + size]
        indices = tuple(held)
    with torch.no_grad():  # the local tensor itself, not an autograd view of it
        local = dtensor.to_local()
    if tuple(local.shape) != tuple(len(ix) for ix in indices):
        raise RuntimeError(f"DTensor with placements {placements}: local shape {tuple(local.shape)} does not "
                           f"match the computed block {tuple(len(ix) for ix in indices)}")
    return [_Block(local, indices)]


def _runs(ix) -> list:
    """(local start, global start, length) of each run of consecutive global
    indices in ix."""
    if isinstance(ix, range):
        return [(0, ix.start, len(ix))] if len(ix) else []
    runs = []
    for pos, g in enumerate(ix):
        if runs and runs[-1][1] + runs[-1][2] == g:
            runs[-1][2] += 1
        else:
            runs.append([pos, g, 1])
    return [tuple(r) for r in runs]


def _announce_inplace(tensor: torch.Tensor):
    """Let PyTorch see an in-place write into tensor before it happens: an
    in-place op on an empty view shares tensor's version counter and goes
    through every check PyTorch makes for an in-place write (inference
    tensors, views of modified bases, ...), at no cost per element."""
    tensor.as_strided((0,), (1,)).zero_()


def _direct(local: torch.Tensor, dtype: np.dtype) -> bool:
    """Whether fastinit can write local's memory through a NumPy view."""
    return (type(local) in (torch.Tensor, nn.Parameter) and local.device.type == "cpu" and local.dim() > 0
            and local.is_contiguous() and dtype.itemsize == local.element_size()
            and not local.is_conj() and not local.is_neg())


def _write(local: torch.Tensor, produce, index, dtype: np.dtype, finish):
    """local = produce(index, out) (the block index of the global tensor),
    through a NumPy view when _direct (the write announced beforehand), else
    copied in and finish(local) run (bfloat16 bounds without ml_dtypes)."""
    if _direct(local, dtype):
        produce(index, _as_numpy(local))
    else:
        local.copy_(_from_numpy(produce(index, None)))
        finish(local)


def _non_overlapping(t: torch.Tensor) -> bool:
    """Whether no two elements of t share memory (a sufficient test: each
    axis, by increasing stride, steps past all the inner axes reach)."""
    reach = 0
    for size, stride in sorted(((n, s) for n, s in zip(t.shape, t.stride()) if n > 1), key=lambda a: a[1]):
        if stride <= reach:
            return False
        reach += (size - 1) * stride
    return True


def _device_direct(local: torch.Tensor) -> bool:
    """Whether the device kernels can write local's memory in place (any
    strides); else they write a temporary that copy_ writes in, so PyTorch
    makes its own checks (overlapping memory, subclasses)."""
    return (type(local) in (torch.Tensor, nn.Parameter) and not local.is_conj() and not local.is_neg()
            and _non_overlapping(local))


def _box(index) -> dict:
    """launch.fill's block arguments for an index of _write_block."""
    if index is None:
        return {}
    if isinstance(index, list):
        return dict(rows=index)
    return dict(box=tuple((s.start, s.stop) for s in index))


def _write_on_device(local: torch.Tensor, launch, core, key: tuple, shape: tuple, index, finish):
    """local = the block index of the global tensor, written by the device
    kernels into local (the write announced beforehand) or, when not
    _device_direct, into a device temporary copied in."""
    out = local if _device_direct(local) else torch.empty(local.shape, dtype=local.dtype, device=local.device)
    if not shape:  # a 0-d tensor: the one element of shape (1,)
        launch.fill(out.view(1), core, *key, shape=(1,))
    else:
        launch.fill(out, core, *key, shape=shape, **_box(index))
    if out is not local:
        local.copy_(out)
    finish(local)


def _write_block(block: _Block, shape: tuple, write):
    """Fill block.local with the global tensor at block.indices by
    write(local, index): one call for a box (Shard, Replicate), or for rows
    in any order over whole other dims (FSDP2's strided dim-0 shards); else
    one per box of runs."""
    local, indices = block
    if local.is_meta or local.numel() == 0:
        return
    runs = [_runs(ix) for ix in indices]
    if all(len(r) == 1 for r in runs):
        whole = all(g == 0 and n == size for ((_, g, n),), size in zip(runs, shape))
        write(local, None if whole else tuple(slice(g, g + n) for ((_, g, n),) in runs))
    elif all(len(r) == 1 for r in runs[1:]) and all(ix == range(n) for ix, n in zip(indices[1:], local.shape[1:])):
        write(local, list(indices[0]))
    else:
        for box in itertools.product(*runs):
            write(local[tuple(slice(l, l + n) for l, _, n in box)], tuple(slice(g, g + n) for _, g, n in box))


def _device_normal_matrix(shape: tuple, seed: int, stream: int, device: torch.device) -> torch.Tensor:
    """The float64 N(0, 1) matrix of shape that fastinit.orthogonal factors,
    made by the device kernels on device (the C core's bits)."""
    normal = prepare("normal", shape, dtype=np.float64)
    return _device_launch().fill(torch.empty(shape, dtype=torch.float64, device=device), normal.core, seed, stream,
                                 shape=shape)


def _device_orthogonal(prepared, seed: int, stream: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The whole orthogonal tensor on device, as fastinit.orthogonal makes
    it: QR (torch.linalg.qr) of the device-made normal matrix, the sign of
    diag(R), times gain, rounded through the compute dtype."""
    shape = prepared.shape
    rows, cols = shape[0], math.prod(shape[1:])
    z = _device_normal_matrix((rows, cols) if rows >= cols else (cols, rows), seed, stream, device)
    q, r = torch.linalg.qr(z)
    d = torch.sign(torch.diagonal(r))
    q *= torch.where(d == 0, 1.0, d)
    full = (q if rows >= cols else q.T).reshape(shape) * prepared.distribution.gain
    return full.to(torch.float64 if dtype == torch.float64 else torch.float32).to(dtype)


# ---------------------------------------------------------------- one fill

def fill_tensor(tensor, name_or_spec, generator, seed, stream, **options):
    """Fill tensor (a tensor, DTensor, ShardedTensor or fill_block's block)
    with the initializer ``name_or_spec`` (a name or a fastinit._spec entry)
    and ``options``, prepared for the global shape, by the backend
    backend_for picks for its device. Everything is validated (prepare)
    before the first write. Without ml_dtypes a bfloat16 tensor gets the
    float32 values, rounded (by copy_ or the device kernels) and clamped
    into the bfloat16 bounds (Prepared.rounded_to_bfloat16). Orthogonal,
    which cannot generate a block alone, is generated whole once and each
    block sliced from it."""
    target = _target(tensor)
    if all(b.local.is_meta for b in target.blocks):  # no storage: nothing to fill, nothing to draw
        _checks.check_uint64("stream", stream)
        return tensor
    seed, stream = _check_key(generator, seed, stream)
    torch_dtype = target.blocks[0].local.dtype if target.blocks else torch.float32
    dtype = _numpy_dtype(torch_dtype)
    prepared = prepare(name_or_spec, target.shape, dtype=dtype, **options)
    clamp = None
    if torch_dtype == torch.bfloat16 and dtype.name != "bfloat16":
        prepared, clamp = prepared.rounded_to_bfloat16()
    finish = (lambda local: None) if clamp is None else (lambda local: local.clamp_(*clamp))
    device = target.blocks[0].local.device if target.blocks else torch.device("cpu")
    on_device = backend_for(device) == "triton"
    key = [0 if seed is None else seed]  # the drawn seed replaces 0 before the first write
    whole = []

    def produce(index, out):
        if not prepared.whole_array:
            return prepared.fill(key[0], stream, index=index, out=out)
        if not whole:
            whole.append(prepared.fill(key[0], stream))
        block = whole[0] if index is None else whole[0][index]
        if out is None:
            return block
        out[...] = block
        return out

    def write_on_device(local, index):
        if not prepared.whole_array:
            return _write_on_device(local, _device_launch(), prepared.core, (key[0], stream), target.shape, index,
                                    finish)
        if not whole:
            whole.append(_device_orthogonal(prepared, key[0], stream, local.device, local.dtype))
        local.copy_(whole[0] if index is None else whole[0][index])

    def direct(local):
        if on_device:
            return not prepared.whole_array and _device_direct(local)
        return _direct(local, dtype)

    with torch.no_grad():
        for block in target.blocks:
            # the direct write announced; a copy_ is PyTorch's own write, but
            # an inference tensor outside inference_mode is refused now,
            # before the seed is drawn
            if direct(block.local) or (block.local.is_inference() and not torch.is_inference_mode_enabled()):
                _announce_inplace(block.local)
        if seed is None:
            key[0] = draw_seed(generator)
        for block in target.blocks:
            _write_block(block, target.shape, write_on_device if on_device else
                         lambda local, index: _write(local, produce, index, dtype, finish))
        if target.wrapper is not None and target.blocks:
            torch.autograd.graph.increment_version(target.wrapper)
    return tensor


def _checked(tensor):
    """tensor itself, or fill_block's local tensor; a TypeError for anything
    else (a NumPy array: use the core functions)."""
    if isinstance(tensor, _LocalBlock):
        return tensor.local
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__} "
                        f"(for NumPy arrays use fastinit's own functions with out=)")
    return tensor


def _shape(tensor) -> tuple:
    """The global shape of what a function fills."""
    return tensor.global_shape if isinstance(tensor, _LocalBlock) else tuple(_checked(tensor).shape)


def _is_meta(tensor) -> bool:
    return _checked(tensor).is_meta


def uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with U(a, b) (``a`` included, ``b`` never returned); the
    constant ``a`` when ``a`` and ``b`` are equal in the tensor's dtype, as
    in PyTorch.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.uniform_(torch.empty(3, 5), -1.0, 1.0, seed=0)
    >>> bool(((w >= -1) & (w < 1)).all())
    True
    """
    a, b = _scalars(a, b)
    return fill_tensor(tensor, _spec.UNIFORM_OR_POINT, generator, seed, stream, low=a, high=b)


def normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.normal_(torch.empty(1000, 1000), 0.0, 2.0, seed=0)
    >>> round(float(w.std()), 1)
    2.0
    """
    mean, std = _scalars(mean, std)
    return fill_tensor(tensor, "normal", generator, seed, stream, mean=mean, std=std)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2) truncated to [a, b] (absolute bounds,
    as in PyTorch), by the inverse CDF (no rejection loop); the constant
    ``a`` when ``a == b``, as in PyTorch.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.trunc_normal_(torch.empty(100, 100), std=0.02, a=-0.04, b=0.04, seed=0)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    mean, std, a, b = _scalars(mean, std, a, b)
    if not _is_meta(tensor) and (mean < a - 2 * std or mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    if isinstance(a, numbers.Real) and a == b:  # the window is the point a
        return fill_tensor(tensor, _spec.UNIFORM_OR_POINT, generator, seed, stream, low=a, high=b)
    return fill_tensor(tensor, "truncated_normal", generator, seed, stream, mean=mean, std=std, a=a, b=b)

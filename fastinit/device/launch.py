"""Launch the device kernels: fastinit's bits written straight into a tensor.

``fill(out, core, seed, stream, shape=..., box=... | rows=...)`` writes the
block of the logical C-order array ``shape`` that ``box`` (per-axis
``(start, stop)``) or ``rows`` (global ids along axis 0, whole other axes)
selects into ``out``, a tensor of the block's shape on any device Triton
runs on (CPU tensors under ``TRITON_INTERPRET=1``), contiguous or strided.
``core`` is the C core's request ``(kernel, params)``, as
``fastinit._spec``'s distributions' ``.core(dtype)`` return it for
``out``'s dtype: every check is made there, before anything is written;
this module only lays the block out. Temporary device memory: the row ids
(with ``rows``), nothing else.
"""
from __future__ import annotations

import itertools
import math
import os
import struct

import torch

from . import kernels

# Philox counters per program: 4096 32-bit outputs (2048 float64 ones). The
# interpreter runs a program's lanes as NumPy arrays, used or not, at a cost
# per operation: there a tile is the run's counters rounded up to a power of
# two, at most INTERPRETER_BLOCK (the values never depend on it).
BLOCK = 1024
INTERPRETER_BLOCK = 1024
NUM_WARPS = 4
# no floating-point contraction: an fma rounds once where the C core rounds twice
COMPILE_OPTIONS = dict(enable_fp_fusion=False)
# outer axes the kernels index (after merging), besides the run
OUTER_AXES = 3

# the float32 kernels' output kinds
_HALF = {torch.float16: kernels.F16.value, torch.bfloat16: kernels.BF16.value}
KERNELS = {"bits": kernels.bits_kernel, "uniform": kernels.uniform_kernel, "normal": kernels.normal_kernel,
           "truncnormal": kernels.truncnormal_kernel}
# each kernel's float parameters, in its argument order
PARAMS = {"bits": (), "uniform": ("low", "span", "high_below"), "normal": ("loc", "scale"),
          "truncnormal": ("loc", "scale", "tn_p0", "tn_c0", "tn_dp", "tn_q1", "tn_dq", "tn_log_offset",
                          "clamp_lo", "clamp_hi")}
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _word(x: int) -> int:
    """A 32-bit word as the int32 with its bits (one kernel argument type)."""
    return x - (1 << 32) if x >= 1 << 31 else x


def _bits(x: float, f64: bool) -> int:
    """x rounded to the compute dtype (nearest even, as the C core's casts),
    as the signed integer with its bits."""
    return struct.unpack("<q", struct.pack("<d", x))[0] if f64 else struct.unpack("<i", struct.pack("<f", x))[0]


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def specialization(kernel: str, dtype: torch.dtype, has_rows: bool, block: int = BLOCK) -> dict:
    """The constexprs of the kernel that fills a tensor of dtype."""
    c = dict(HAS_ROWS=has_rows, BLOCK=block)
    if kernel != "bits":
        c.update(F64=dtype == torch.float64, HALF=_HALF.get(dtype, 0))
    return c


def _axes(shape: tuple, box, rows, out: torch.Tensor):
    """(base, [(size, logical stride, out stride), ...] outermost first)
    with axes merged where both the logical and the output positions are
    consecutive, axes of size 1 dropped (never the innermost one) and the
    row axis kept apart."""
    logical = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        logical[d] = logical[d + 1] * shape[d + 1]
    sizes = tuple(out.shape)
    base = 0 if rows is not None else sum(start * ls for (start, _), ls in zip(box, logical))
    merged = []  # innermost first
    for d in range(len(shape) - 1, -1, -1):
        axis = [sizes[d], logical[d], out.stride(d)]
        if rows is not None and d == 0:
            merged.append(axis)
        elif not merged:
            merged.append(axis)
        elif sizes[d] == 1:
            continue
        else:
            inner = merged[-1]
            if inner[1] * inner[0] == axis[1] and inner[2] * inner[0] == axis[2]:
                inner[0] *= sizes[d]
            else:
                merged.append(axis)
    if rows is not None and len(shape) == 1:  # one element per row: a run of 1 inside each
        merged.insert(0, [1, 1, 1])
    return base, merged[::-1]


def fill(out: torch.Tensor, core: tuple, seed: int, stream: int, *, shape: tuple, box=None, rows=None):
    """Write the block of ``shape`` selected by ``box`` ((start, stop) per
    leading axis; None: all) or ``rows`` (global row ids of axis 0) of the
    distribution ``core`` = (kernel, params) with key (seed, stream) into
    out, and return out. out: the block's shape, dtype float32, float64,
    float16, bfloat16 (uint32 or int32 for "bits"); its values at each
    position equal the C core's bit for bit."""
    kernel, params = core
    shape = tuple(shape)
    if rows is not None:
        rows = [int(r) for r in rows]
        block = (len(rows),) + shape[1:]
    else:
        box = tuple(box or ())
        box = box + tuple((0, n) for n in shape[len(box):])
        block = tuple(stop - start for start, stop in box)
    if tuple(out.shape) != block:
        raise ValueError(f"out has shape {tuple(out.shape)}, the block is {block}")
    if math.prod(block) == 0:
        return out
    dtype = out.dtype
    if kernel == "bits":
        target = out.view(torch.int32)
    elif dtype in (torch.float16, torch.bfloat16):
        target = out.view(torch.int16)
    elif dtype in (torch.float32, torch.float64):
        target = out
    else:
        raise TypeError(f"out dtype must be one of {FLOAT_DTYPES}, got {dtype}")
    f64 = dtype == torch.float64
    values = [_bits(float(params[name]), f64) for name in PARAMS[kernel]]
    base, axes = _axes(shape, box, rows, out)
    row_ids = None
    if rows is not None:
        row_ids = torch.tensor(rows, dtype=torch.int64, device=out.device)
    per_group = 32 if f64 and kernel != "bits" else 64
    key = (_word(seed & 0xFFFFFFFF), _word(seed >> 32), _word(stream & 0xFFFFFFFF), _word(stream >> 32))
    run_len, _, d3 = axes[-1]
    outer = axes[:-1]
    # axes beyond the kernel's three outer ones: one launch per index of them
    extra, outer = outer[:-OUTER_AXES] if len(outer) > OUTER_AXES else [], outer[-OUTER_AXES:]
    rows_in_kernel = rows is not None and not extra
    # pad with axes of size 1 after the outermost (the row axis stays first)
    outer = outer[:1] + [[1, 0, 0]] * (OUTER_AXES - len(outer)) + outer[1:]
    (n0, l0, d0), (n1, l1, d1), (n2, l2, d2) = outer
    # counters a run can touch: its lane groups plus a partial one at an end
    run_counters = ((run_len + per_group - 1) // per_group + 1) * 16
    block_counters = min(INTERPRETER_BLOCK, 1 << (run_counters - 1).bit_length()) if _interpreting() else BLOCK
    tiles_per_run = -(-run_counters // block_counters)
    grid = (n0 * n1 * n2 * tiles_per_run,)
    constexprs = specialization(kernel, dtype, rows_in_kernel, block_counters)
    for index in itertools.product(*(range(n) for n, _, _ in extra)):
        offset, dest0 = base, 0
        for axis, (i, (_, ls, ds)) in enumerate(zip(index, extra)):
            offset += (rows[i] if rows is not None and axis == 0 else i) * ls
            dest0 += i * ds
        KERNELS[kernel][grid](target, row_ids if rows_in_kernel else target, *key, offset, dest0, n1, n2,
                              l0, l1, l2, d0, d1, d2, d3, run_len, tiles_per_run, *values,
                              num_warps=NUM_WARPS, **constexprs, **COMPILE_OPTIONS)
    return out

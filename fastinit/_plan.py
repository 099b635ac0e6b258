"""The runner: a call's common arguments checked into a Plan (the block to
make, its layout of runs for the C core, the thread count) and the C core
run on it. Everything is checked (fastinit._checks) before any memory is
touched."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _core
from ._checks import (available_cpus, check_dtype, check_index, check_out, check_rows, check_seed, check_shape,
                      check_threads, check_uint64, is_row_ids)

# Below this many output elements per thread, a thread costs more than it
# saves: fills of 2 * MIN_ELEMENTS_PER_THREAD (65536) elements and more get a
# second thread. Measured with benchmarks/thread_scaling.py (the numbers are in
# docs/benchmarks.md): 2 threads gain from 65536 float32 elements on the
# cheapest kernel and break even at 32768.
MIN_ELEMENTS_PER_THREAD = 1 << 15


def layout_of(shape: tuple, box: tuple) -> tuple:
    """The output block box of the C-order array shape as runs of consecutive
    logical elements: (n_runs, run_len, base, outer_shape, outer_stride)."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    base = sum(start * st for (start, _), st in zip(box, strides))
    # trailing axes taken whole merge into one run with the last partial axis
    last = len(shape) - 1
    while last >= 0 and box[last] == (0, shape[last]):
        last -= 1
    if last < 0:
        return (1, math.prod(shape), 0, (), ())
    run_len = (box[last][1] - box[last][0]) * strides[last]
    outer = [(stop - start, strides[d]) for d, (start, stop) in enumerate(box[:last]) if stop - start != 1]
    if len(outer) > _core.MAX_DIMS:
        raise ValueError(f"index leaves {len(outer)} partial axes; at most {_core.MAX_DIMS} are supported")
    n_runs = math.prod(e for e, _ in outer)
    return (n_runs, run_len, base, tuple(e for e, _ in outer), tuple(s for _, s in outer))


class Plan(NamedTuple):
    """Validated common arguments of one generation call (a NamedTuple: one
    is made per call, and it is cheap)."""

    shape: tuple       # full logical shape (fans come from it)
    out_shape: tuple   # shape of the returned block
    box: tuple
    dtype: np.dtype
    seed: int
    stream: int
    out: object
    threads: object    # int, or None for the available CPUs
    rows: object        # uint64 row ids for axis 0 (index= an array), else None
    layout: tuple       # the C core's run layout of the block (see layout_of)
    run_starts: object  # with rows: the logical start of each row's run, else None

    @property
    def size(self) -> int:
        return math.prod(self.out_shape)


def plan(shape, seed, stream, dtype, out, index, threads, allowed_dtypes) -> Plan:
    shape = check_shape(shape)
    seed = check_seed(seed)
    stream = check_uint64("stream", stream)
    dt = check_dtype(dtype, out, allowed_dtypes)
    rows = None
    if is_row_ids(index):
        if not shape:
            raise ValueError("index row ids need a shape with at least 1 axis, got shape ()")
        rows = check_rows(index, shape[0])
        box = ((0, len(rows)),) + tuple((0, n) for n in shape[1:])
    else:
        box = check_index(index, shape)
    out_shape = tuple(stop - start for start, stop in box)
    out = check_out(out, out_shape, dt)
    threads = check_threads(threads)
    if rows is None:
        layout, run_starts = layout_of(shape, box), None
    else:
        # one run per requested row: cost proportional to the rows asked for
        row_len = math.prod(shape[1:])
        layout, run_starts = (len(rows), row_len, 0, (), ()), rows * np.uint64(row_len)
    return Plan(shape, out_shape, box, dt, seed, stream, out, threads, rows, layout, run_starts)


def select(p: Plan, full: np.ndarray) -> np.ndarray:
    """p's block of an already generated full array (for initializers that
    cannot generate a block alone)."""
    if p.rows is not None:
        return full[p.rows.astype(np.intp)]
    return full[tuple(slice(start, stop) for start, stop in p.box)]


def run(p: Plan, kernel: str, **params) -> np.ndarray:
    """p's block drawn by the C kernel ``kernel`` (its parameters in params)
    into p.out or a new array."""
    out = p.out if p.out is not None else np.empty(p.out_shape, dtype=p.dtype)
    n = p.size
    if n == 0:
        return out
    _core.fill_array(out, kernel, p.seed, p.stream, p.layout, thread_count(n, p.threads), p.run_starts, **params)
    return out


def thread_count(n: int, threads) -> int:
    """The threads a fill of n elements uses, given threads= (or
    FASTINIT_NUM_THREADS; None: the available CPUs). The one place this is
    decided: the hot path caches its result per call signature (and per value
    of FASTINIT_NUM_THREADS)."""
    if n < 2 * MIN_ELEMENTS_PER_THREAD:
        return 1
    return max(1, min(threads or available_cpus(), n // MIN_ELEMENTS_PER_THREAD))

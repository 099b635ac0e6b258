"""One rank of tests/test_torch_distributed.py: joins a gloo process group,
fills DTensors, ShardedTensors and fill_block blocks with every
fastinit.torch function, and reports each case (a JSON line: the number of
checks run and the failures). Every check compares with the single-process
tensor of the same call, bit for bit.

Usage: python dtensor_worker.py RANK WORLD PORT
"""
import functools
import math
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard
from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
from torch.distributed.tensor.placement_types import _StridedShard

import fastinit.torch as fi
from support.gloo_ranks import run_cases

# (function, kwargs, least number of dims)
CALLS = [
    (fi.uniform_, dict(a=-0.5, b=2.0), 1),
    (fi.uniform_, dict(a=1.5, b=1.5), 1),
    (fi.normal_, dict(mean=1.0, std=0.5), 1),
    (fi.trunc_normal_, dict(mean=0.1, std=0.7, a=-0.5, b=1.0), 1),
    (fi.xavier_uniform_, dict(gain=1.7), 2),
    (fi.xavier_normal_, dict(), 2),
    (fi.kaiming_uniform_, dict(a=math.sqrt(5)), 2),
    (fi.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), 2),
    (fi.lecun_uniform_, dict(), 2),
    (fi.lecun_normal_, dict(), 2),
    (fi.orthogonal_, dict(gain=2.0), 2),
]
SEED, STREAM = 2**40 + 3, 7


# uneven shapes: 7 and 5 rows on 2 or 4 ranks, 3 rows on 4 ranks leaves one empty
PLACEMENTS_1D = [((7, 5), (Shard(0),)), ((3, 5, 2), (Shard(1),)), ((3, 5, 2), (Shard(2),)),
                 ((7, 5), (Replicate(),)), ((5,), (Shard(0),))]
PLACEMENTS_2D = [
    ((9, 6), (Shard(0), Shard(1))), ((9, 6), (Shard(0), Shard(0))), ((7, 6), (Replicate(), Shard(1))),
    ((6, 9), (Shard(1), Replicate())),
    ((8, 6), (_StridedShard(0, split_factor=2), Shard(0))),     # FSDP2 over TP, same dim
    ((10, 3), (_StridedShard(0, split_factor=2), Shard(0))),    # uneven
    ((8, 6), (_StridedShard(0, split_factor=2), Replicate())),  # rows in two runs per rank
    ((4, 12), (_StridedShard(1, split_factor=2), Shard(1))),
    ((6, 8), (_StridedShard(1, split_factor=2), Replicate())),  # columns in two runs per rank
]


def single(fn, kw, shape, dtype):
    return fn(torch.empty(shape, dtype=dtype), **kw, seed=SEED, stream=STREAM)


def dtensor(mesh, placements, shape, dtype=torch.float32):
    """An uninitialized DTensor, built from this rank's local shard (no
    communication), the way FSDP2 and tensor parallel hold parameters."""
    local_shape, _ = compute_local_shape_and_global_offset(shape, mesh, placements)
    stride = tuple(math.prod(shape[d + 1:]) for d in range(len(shape)))
    local = torch.full(local_shape, float("nan"), dtype=dtype)
    return DTensor.from_local(local, mesh, placements, shape=torch.Size(shape), stride=stride, run_check=False)


def check_placements(checks, mesh, cases, calls=CALLS):
    for shape, placements in cases:
        for fn, kw, ndim in calls:
            if len(shape) < ndim:
                continue
            dt = dtensor(mesh, placements, shape)
            out = fn(dt, **kw, seed=SEED, stream=STREAM)
            checks.true(f"{fn.__name__} returns its DTensor", out is dt)
            checks.true(f"{fn.__name__} {placements} bumps the DTensor's version", dt._version > 0)
            checks.equal(f"{fn.__name__}{kw} {shape} {placements}", dt.full_tensor(),
                         single(fn, kw, shape, torch.float32))


def check_dtypes(checks, mesh, placements):
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        for fn, kw, _ in (CALLS[0], CALLS[3], CALLS[6]):
            dt = dtensor(mesh, placements, (9, 6), dtype)
            fn(dt, **kw, seed=SEED, stream=STREAM)
            checks.equal(f"{fn.__name__} {dtype} {placements}", dt.full_tensor(), single(fn, kw, (9, 6), dtype))


def check_parameter_and_partial(checks, mesh):
    p = torch.nn.Parameter(dtensor(mesh, (Shard(0),), (10, 4)))
    fi.kaiming_normal_(p, seed=SEED, stream=STREAM)
    checks.equal("Parameter(DTensor)", p.full_tensor().detach(),
                 single(fi.kaiming_normal_, {}, (10, 4), torch.float32))
    checks.true("Parameter(DTensor) keeps requires_grad", p.requires_grad and isinstance(p, DTensor))
    partial = dtensor(mesh, (Partial(),), (4, 4))
    try:
        fi.normal_(partial, seed=0)
        checks.true("Partial raises", False)
    except ValueError as e:
        checks.true(f"Partial error names the placement: {e}", "Partial" in str(e))


def check_orthogonal_qr_once(checks, mesh, placements, shape):
    """A rank whose block is several runs of the global tensor still runs one QR."""
    calls = []
    qr = np.linalg.qr

    def counting_qr(a, *args, **kwargs):
        calls.append(a.shape)
        return qr(a, *args, **kwargs)

    np.linalg.qr = counting_qr
    try:
        dt = dtensor(mesh, placements, shape)
        fi.orthogonal_(dt, seed=SEED, stream=STREAM)
    finally:
        np.linalg.qr = qr
    checks.true(f"orthogonal_ on {placements}: one QR per call, got {len(calls)}", len(calls) == 1)
    checks.equal(f"orthogonal_ {placements}", dt.full_tensor(), single(fi.orthogonal_, {}, shape, torch.float32))


def check_fill_block(checks, rank, world):
    """Rows [start, stop) of a (13, 6) table per rank, gathered."""
    shape = (13, 6)
    start, stop = rank * shape[0] // world, (rank + 1) * shape[0] // world
    local = fi.fill_block(fi.kaiming_uniform_, torch.empty(stop - start, 6), shape, (start, 0),
                          a=math.sqrt(5), seed=SEED, stream=STREAM)
    parts = [None] * world
    dist.all_gather_object(parts, local)
    checks.equal("fill_block rows", torch.cat(parts), single(fi.kaiming_uniform_, dict(a=math.sqrt(5)), shape,
                                                             torch.float32))


def check_sharded_tensor(checks, world):
    from torch.distributed._shard.sharded_tensor import empty as sharded_empty
    from torch.distributed._shard.sharding_spec import ChunkShardingSpec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ShardedTensor is deprecated in favour of DTensor
        for dim, shape in ((0, (11, 6)), (1, (4, 10))):
            spec = ChunkShardingSpec(dim=dim, placements=[f"rank:{r}/cpu" for r in range(world)])
            st = sharded_empty(spec, *shape)
            fi.xavier_normal_(st, seed=SEED, stream=STREAM)
            full = single(fi.xavier_normal_, {}, shape, torch.float32)
            for shard in st.local_shards():
                box = tuple(slice(o, o + n) for o, n in zip(shard.metadata.shard_offsets,
                                                             shard.metadata.shard_sizes))
                checks.equal(f"ShardedTensor dim {dim} shard {shard.metadata.shard_offsets}", shard.tensor, full[box])


def check_fsdp2_tp(checks, mesh):
    """A real FSDP2 x tensor-parallel model: its parameters are _StridedShard DTensors."""
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    model = torch.nn.Sequential(torch.nn.Linear(6, 10), torch.nn.ReLU(), torch.nn.Linear(10, 6))
    parallelize_module(model, mesh["tp"], {"0": ColwiseParallel(), "2": RowwiseParallel()})
    fully_shard(model, mesh=mesh["dp"])
    placements = set()
    for name, p in model.named_parameters():
        placements.add(p.placements)
        fn, kw = (fi.kaiming_uniform_, dict(a=math.sqrt(5))) if p.dim() > 1 else (fi.uniform_, dict(a=-0.3, b=0.3))
        fn(p, **kw, seed=SEED, stream=fi.stable_stream(name))
        want = fn(torch.empty(p.shape), **kw, seed=SEED, stream=fi.stable_stream(name))
        checks.equal(f"FSDP2+TP {name} {p.placements}", p.full_tensor().detach(), want)
    checks.true(f"FSDP2+TP made a _StridedShard: {placements}",
                any(isinstance(q, _StridedShard) for pl in placements for q in pl))


@functools.cache
def mesh(*shape):
    """Made on first use: every rank runs the cases in the same order, so
    every rank makes the meshes in the same order."""
    return init_device_mesh("cpu", shape, mesh_dim_names=("dp", "tp") if len(shape) == 2 else None)


def cases(world, rank=None):
    """The named cases a run on `world` ranks reports, in order (the test
    parametrizes over the names; `rank` is needed only to run them)."""
    named = {
        "placements on a 1-D mesh": lambda c: check_placements(c, mesh(world), PLACEMENTS_1D),
        "dtypes on a 1-D mesh": lambda c: check_dtypes(c, mesh(world), (Shard(0),)),
        "Parameter and Partial": lambda c: check_parameter_and_partial(c, mesh(world)),
        "fill_block": lambda c: check_fill_block(c, rank, world),
        "ShardedTensor": lambda c: check_sharded_tensor(c, world),
    }
    if world == 4:
        named.update({
            "placements on a (2, 2) mesh": lambda c: check_placements(c, mesh(2, 2), PLACEMENTS_2D),
            "dtypes on a (2, 2) mesh": lambda c: check_dtypes(c, mesh(2, 2),
                                                              (_StridedShard(0, split_factor=2), Replicate())),
            "orthogonal_ runs one QR": lambda c: check_orthogonal_qr_once(
                c, mesh(2, 2), (_StridedShard(1, split_factor=2), Replicate()), (6, 8)),
            "FSDP2 x TP model": lambda c: check_fsdp2_tp(c, mesh(2, 2)),
        })
    return named


def main():
    rank, world, port = (int(a) for a in sys.argv[1:4])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    run_cases(cases(world, rank))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

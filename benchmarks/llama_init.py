"""Initializing a Llama-style model of 1.50B parameters (16 layers, hidden
2048, MLP 8192, vocabulary 128256, 32 heads / 8 KV heads: the shape of
Llama 3.2 1B with its output head untied, 6.0 GB in float32) built on
``device="meta"``:

* 1 process: ``fastinit.torch.init_module`` vs the model's own
  ``reset_parameters()`` (PyTorch's generator), after ``to_empty``. Times the
  init alone on memory already touched, and the first touch (page faults)
  that both pay once after ``to_empty``; peak RSS.
* 2 ranks, FSDP2 (``fully_shard`` per block and at the root) on gloo: each
  rank fills its own shards with ``init_module`` vs the "seed checkpoint"
  way (rank 0 materializes and initializes the full model with
  ``reset_parameters()``, then ``set_model_state_dict(...,
  broadcast_from_rank0=True)`` scatters it). Time from ``to_empty`` to
  initialized shards, and peak RSS above the rank's baseline (RSS before
  ``to_empty``) next to its shard's bytes.

Every run is a fresh process (peak RSS is per process); the table reports
medians over ``--repeats`` runs. Not part of the test suite:

    python benchmarks/llama_init.py --repeats 3
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

CONFIG = dict(layers=16, hidden=2048, mlp=8192, vocab=128256, heads=32, kv_heads=8)
SEED = 0


class Attention(nn.Module):
    def __init__(self, hidden, heads, kv_heads):
        super().__init__()
        kv = hidden // heads * kv_heads
        self.q_proj, self.k_proj = nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, kv, bias=False)
        self.v_proj, self.o_proj = nn.Linear(hidden, kv, bias=False), nn.Linear(hidden, hidden, bias=False)


class MLP(nn.Module):
    def __init__(self, hidden, mlp):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(hidden, mlp, bias=False), nn.Linear(hidden, mlp, bias=False)
        self.down_proj = nn.Linear(mlp, hidden, bias=False)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_norm, self.post_attention_norm = nn.RMSNorm(c["hidden"]), nn.RMSNorm(c["hidden"])
        self.attn, self.mlp = Attention(c["hidden"], c["heads"], c["kv_heads"]), MLP(c["hidden"], c["mlp"])


class Llama(nn.Module):
    """Parameters only: initialization does not need a forward pass."""

    def __init__(self, c=CONFIG):
        super().__init__()
        self.embed = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = nn.RMSNorm(c["hidden"])
        self.head = nn.Linear(c["hidden"], c["vocab"], bias=False)


def reset_parameters(model):
    """PyTorch's own init: every module's reset_parameters(), children first,
    as the constructors run it."""
    for module in reversed(list(model.modules())):
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def parameter_bytes(model) -> int:
    local = [getattr(p, "_local_tensor", p) for p in model.parameters()]
    return sum(t.numel() * t.element_size() for t in local)


def single(contender):
    import fastinit.torch as fi

    with torch.device("meta"):
        model = Llama()
    model.to_empty(device="cpu")
    start = time.perf_counter()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # first touch: the page faults every contender pays once
    touched = time.perf_counter()
    if contender == "fastinit":
        fi.init_module(model, seed=SEED)
    else:
        with torch.no_grad():
            reset_parameters(model)
    done = time.perf_counter()
    return dict(init_s=done - touched, first_touch_s=touched - start, peak_rss=peak_rss_bytes(),
                params=sum(p.numel() for p in model.parameters()), param_bytes=parameter_bytes(model))


def sharded(rank, world, contender, port):
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard

    import fastinit.torch as fi

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    with torch.device("meta"):
        model = Llama()
    for block in model.layers:
        fully_shard(block)
    fully_shard(model)
    baseline = rss_bytes()
    dist.barrier()
    start = time.perf_counter()
    model.to_empty(device="cpu")
    if contender == "fastinit":
        fi.init_module(model, seed=SEED)
    else:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict
        full = {}
        if rank == 0:
            with torch.device("meta"):
                whole = Llama()
            whole.to_empty(device="cpu")
            with torch.no_grad():
                reset_parameters(whole)
            full = whole.state_dict()
        set_model_state_dict(model, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
        del full
    dist.barrier()
    done = time.perf_counter()
    result = dict(rank=rank, init_s=done - start, peak_rss=peak_rss_bytes(), baseline_rss=baseline,
                  shard_bytes=parameter_bytes(model))
    results = [None] * world
    dist.all_gather_object(results, result)
    dist.destroy_process_group()
    return results


def run_child(args):
    if args.mode == "single":
        print(json.dumps(single(args.contender)))
        return
    import torch.multiprocessing as mp
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_rank_main, args=(2, args.contender, args.port, queue), nprocs=2)
    print(json.dumps(queue.get()))


def _rank_main(rank, world, contender, port, queue):
    results = sharded(rank, world, contender, port)
    if rank == 0:
        queue.put(results)


def fresh(mode, contender, port=29581):
    out = subprocess.run([sys.executable, __file__, "--child", mode, contender, "--port", str(port)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONTENDER"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29581, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["single", "fsdp"], help="run one of the two parts")
    args = parser.parse_args()
    if args.child:
        args.mode, args.contender = args.child
        return run_child(args)
    gb = 1e9
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
    if args.only in (None, "single"):
        runs = {c: [fresh("single", c) for _ in range(args.repeats)] for c in ("torch", "fastinit")}
        med = {c: {k: statistics.median(r[k] for r in rs) for k in ("init_s", "first_touch_s", "peak_rss")}
               for c, rs in runs.items()}
        first = runs["fastinit"][0]
        print(f"\n1 process, {first['params'] / 1e9:.2f}B parameters ({first['param_bytes'] / gb:.2f} GB float32), "
              f"medians of {args.repeats} fresh processes")
        print(f"{'contender':<30}{'init s':>9}{'first touch s':>15}{'peak RSS GB':>13}   runs (init s)")
        for c, name in (("torch", "reset_parameters() (PyTorch)"), ("fastinit", "fastinit init_module")):
            m = med[c]
            print(f"{name:<30}{m['init_s']:>9.2f}{m['first_touch_s']:>15.2f}{m['peak_rss'] / gb:>13.2f}   "
                  f"{[round(r['init_s'], 2) for r in runs[c]]}")
        print(f"speed-up (init alone): {med['torch']['init_s'] / med['fastinit']['init_s']:.1f}x")
    if args.only in (None, "fsdp"):
        print(f"\n2 ranks, FSDP2 on gloo, medians of {args.repeats} runs; extra = peak RSS - RSS before to_empty")
        print(f"{'contender':<34}{'rank':>5}{'s':>8}{'peak RSS GB':>13}{'shard GB':>10}{'extra - shard MB':>18}")
        for c, name in (("rank0", "rank 0 inits, broadcast (PyTorch)"), ("fastinit", "fastinit init_module per rank")):
            runs = [fresh("fsdp", c, port=29581 + i) for i in range(args.repeats)]
            for rank in range(2):
                rs = [r[rank] for r in runs]
                s = statistics.median(r["init_s"] for r in rs)
                peak = statistics.median(r["peak_rss"] for r in rs)
                over = statistics.median(r["peak_rss"] - r["baseline_rss"] - r["shard_bytes"] for r in rs)
                print(f"{name:<34}{rank:>5}{s:>8.2f}{peak / gb:>13.2f}{rs[0]['shard_bytes'] / gb:>10.2f}"
                      f"{over / 1e6:>18.0f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""A sharded embedding table: fastinit.jax vs jax.nn.initializers, time and
peak memory.

A (10_000_000, 128) float32 table (5.12 GB), N(0, 0.02^2), row-sharded over 8
host devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``,
``P("x", None)``):

* fastinit: ``fastinit.jax.normal(0.02)(key, shape, out_sharding=sharding)``,
  eager: each device's block generated alone into memory the device adopts;
* fastinit_jit: the same call, ``out_sharding`` included, inside ``jax.jit``
  with ``out_shardings``: a ``shard_map`` whose per-device
  ``pure_callback`` makes that device's block;
* fastinit_jit_unsharded: inside ``jax.jit`` with ``out_shardings`` but
  without ``out_sharding`` in the call (as ``jax.jit(model.init,
  out_shardings=...)`` calls Flax initializers): one ``pure_callback``
  makes the whole table, which XLA then replicates and slices;
* JAX: ``jax.jit(lambda k: jax.nn.initializers.normal(0.02)(k, shape),
  out_shardings=sharding)``.

Jitted contenders are compiled, then run (the compile is timed separately;
"total" is what the first call costs).

Each run is its own process, so its peak RSS (``ru_maxrss``) is its own; the
table shows medians over ``--repeats`` runs per contender, interleaved, and
"over array" = peak RSS - RSS before initializing - the table's bytes. The
fastinit run also checks that a device block equals the NumPy API's rows.

    python benchmarks/jax_sharded_embedding.py [--rows 10000000] [--cols 128] [--repeats 3]
        [--contenders fastinit,fastinit_jit,fastinit_jit_unsharded,jax]
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

DEVICES = 8
CONTENDERS = ("fastinit", "fastinit_jit", "fastinit_jit_unsharded", "jax")
STD = 0.02
SEED = 0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_one(contender: str, rows: int, cols: int) -> dict:
    """One contender in this process (XLA_FLAGS is already set)."""
    import jax
    import numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P

    import fastinit
    import fastinit.jax

    shape = (rows, cols)
    sharding = NamedSharding(jax.make_mesh((DEVICES,), ("x",)), P("x", None))
    key = jax.random.key(SEED)
    jax.block_until_ready(jax.device_put(np.zeros((DEVICES, 1), np.float32), sharding))  # start the runtime
    before = _rss_bytes()
    compile_s = 0.0
    if contender == "fastinit":
        start = time.perf_counter()
        table = fastinit.jax.normal(STD)(key, shape, out_sharding=sharding)
        table.block_until_ready()
        run_s = time.perf_counter() - start
        shard = table.addressable_shards[3]
        expected = fastinit.normal(shape, SEED, 0.0, STD, index=(slice(shard.index[0].start, shard.index[0].start + 1000),))
        assert np.array_equal(np.asarray(shard.data[:1000]), expected)
    else:
        peer = jax.nn.initializers.normal(STD) if contender == "jax" else fastinit.jax.normal(STD)
        inner = dict(out_sharding=sharding) if contender == "fastinit_jit" else {}
        start = time.perf_counter()
        init = jax.jit(lambda k: peer(k, shape, **inner), out_shardings=sharding)
        compiled = init.lower(key).compile()
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        table = compiled(key)
        table.block_until_ready()
        run_s = time.perf_counter() - start
    assert table.sharding == sharding
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return dict(contender=contender, compile_s=compile_s, run_s=run_s, total_s=compile_s + run_s,
                peak_gb=peak / 1e9, over_array_mb=(peak - before - rows * cols * 4) / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cols", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="comma-separated subset of %(default)s (JAX's peak is several times the table)")
    parser.add_argument("--run", choices=CONTENDERS, help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, args.rows, args.cols)))
        return
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}")
    results = {name: [] for name in args.contenders.split(",")}
    if not set(results) <= set(CONTENDERS):
        parser.error(f"--contenders must name some of {CONTENDERS}, got {args.contenders!r}")
    for _ in range(args.repeats):
        for contender in results:
            out = subprocess.run([sys.executable, __file__, "--run", contender, "--rows", str(args.rows),
                                  "--cols", str(args.cols)], env=env, capture_output=True, text=True, check=True)
            results[contender].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"({args.rows}, {args.cols}) float32 over {DEVICES} host devices, medians of {args.repeats} runs")
    print(f"{'contender':24} {'compile s':>10} {'run s':>8} {'total s':>8} {'peak RSS GB':>12} {'over array MB':>14}")
    for contender, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("compile_s", "run_s", "total_s", "peak_gb",
                                                                    "over_array_mb")}
        print(f"{contender:24} {med['compile_s']:10.2f} {med['run_s']:8.2f} {med['total_s']:8.2f} "
              f"{med['peak_gb']:12.2f} {med['over_array_mb']:14.0f}")
    if {"fastinit", "jax"} <= set(results):
        fast, peer = (statistics.median(r["total_s"] for r in results[c]) for c in ("fastinit", "jax"))
        print(f"fastinit is {peer / fast:.1f}x faster than JAX (total)")
    print(f"all runs: {json.dumps(results)}")


if __name__ == "__main__":
    main()

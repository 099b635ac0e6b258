"""1 thread against 2 (or more) on the same fill, interleaved in one run, for
the sizes around the point where fastinit starts threads. Prints, per
initializer and size and thread count, the median and the fastest wall time
in microseconds (on a shared machine the fastest call is the one that had
the cores to itself), the mean process CPU time per call, and the 1-thread /
n-thread ratios of the medians and of the minima.

    python benchmarks/thread_scaling.py                      # as fastinit decides
    python benchmarks/thread_scaling.py --per-thread 4096    # threads from 8192 elements
    python benchmarks/thread_scaling.py --sizes 512x512 --rounds 2000

--per-thread lowers fastinit's threshold (fastinit._plan.MIN_ELEMENTS_PER_THREAD;
threads start at twice it) for the run, to see what threads would give below
it: this is how the threshold was chosen. Calls are ``fn(shape, seed, out=buf, threads=t)``, so no allocation is
timed. On a loaded machine the second thread is often not on a free core:
read the medians and say what the load was (printed from os.getloadavg()).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import fastinit
from fastinit import _plan


def parse_size(text):
    if "x" in text:
        return tuple(int(x) for x in text.split("x"))
    return (int(float(text)),)


def measure(fn, shape, dtype, threads, rounds):
    """{t: (median wall s, min wall s, mean CPU s)} for each t, the calls interleaved."""
    buf = np.ones(shape, dtype)
    wall = {t: [] for t in threads}
    cpu = {t: [] for t in threads}
    for t in threads:  # warm-up: page in, start the pool
        fn(shape, 0, out=buf, threads=t)
    for _ in range(rounds):
        for t in threads:
            c0, w0 = time.process_time(), time.perf_counter()
            fn(shape, 0, out=buf, threads=t)
            w1, c1 = time.perf_counter(), time.process_time()
            wall[t].append(w1 - w0)
            cpu[t].append(c1 - c0)
    return {t: (statistics.median(wall[t]), min(wall[t]), statistics.mean(cpu[t])) for t in threads}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16384,32768,65536,131072,512x512,524288,1048576,4194304")
    parser.add_argument("--initializers", default="he_normal,glorot_uniform")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--per-thread", type=int,
                        help="override fastinit._plan.MIN_ELEMENTS_PER_THREAD for the run (threads from twice it)")
    args = parser.parse_args(argv)
    if args.per_thread:
        _plan.MIN_ELEMENTS_PER_THREAD = args.per_thread
    threads = [int(t) for t in args.threads.split(",")]
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs, isa {fastinit._core.get_isa()}, "
          f"threads from {2 * _plan.MIN_ELEMENTS_PER_THREAD} elements, {args.rounds} interleaved rounds")
    print(f"{'initializer':15s} {'shape':>12s} "
          + " ".join(f"{f'{t}T med':>8s} {f'{t}T min':>8s} {f'{t}T cpu':>8s}" for t in threads)
          + f" {'speedup (median, min)':>22s}")
    for name in args.initializers.split(","):
        fn = getattr(fastinit, name)
        for size in args.sizes.split(","):
            shape = parse_size(size)
            res = measure(fn, shape, args.dtype, threads, args.rounds)
            cols = " ".join(f"{res[t][0] * 1e6:8.1f} {res[t][1] * 1e6:8.1f} {res[t][2] * 1e6:8.1f}" for t in threads)
            first, last = res[threads[0]], res[threads[-1]]
            print(f"{name:15s} {size:>12s} {cols} {first[0] / last[0]:10.2f}x {first[1] / last[1]:10.2f}x", flush=True)


if __name__ == "__main__":
    main()

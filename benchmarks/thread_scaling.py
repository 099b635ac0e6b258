"""1 thread against 2 (or more) on the same fill, interleaved in one run, for
the sizes around the point where fastinit starts threads. Prints, per
initializer and size and thread count, the median and the fastest wall time
in microseconds (on a shared machine the fastest call is the one that had
the cores to itself), the mean process CPU time per call, and the 1-thread /
n-thread ratios of the medians and of the minima.

    python benchmarks/thread_scaling.py                      # as fastinit decides
    python benchmarks/thread_scaling.py --per-thread 4096    # threads from 8192 elements
    python benchmarks/thread_scaling.py --sizes 512x512 --rounds 2000
    python benchmarks/thread_scaling.py --sizes none --first-calls --models

--first-calls: the pool where fills are not back to back: after 100 ms idle,
the median of the first 10 calls of 512x512 float32 ``out=`` (each of the 10
timed, 1 and 2 threads in alternate groups); and the same with about 1 ms of
Python work between calls (a model's parameters are created between fills).
--models: whole-model init of ResNet-50 and BERT-base
(``fastinit.bench_models``, fresh arrays) with 1 thread and with 2.

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


def python_work(seconds):
    """Busy Python (no sleep) for about seconds: the interpreter, not the fill, holds the core."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def first_calls(fn, shape, threads, groups, idle=0.1, calls=10, gap=0.0):
    """{t: median wall s} over groups of `calls` calls, each group after `idle`
    seconds of sleep (the pool's workers asleep), `gap` seconds of Python
    work between the calls of a group; thread counts alternate per group."""
    buf = np.ones(shape, np.float32)
    wall = {t: [] for t in threads}
    for t in threads:
        fn(shape, 0, out=buf, threads=t)  # page in, make the pool
    for _ in range(groups):
        for t in threads:
            time.sleep(idle)
            for _ in range(calls):
                if gap:
                    python_work(gap)
                w0 = time.perf_counter()
                fn(shape, 0, out=buf, threads=t)
                wall[t].append(time.perf_counter() - w0)
    return {t: statistics.median(wall[t]) for t in threads}


def model_init(threads, rounds):
    """{t: median wall s} of initializing each whole model of fastinit.bench_models with t threads."""
    from fastinit import bench_models
    result = {}
    for model in ("resnet50", "bert-base"):
        params = bench_models.MODELS[model]
        inits = {t: bench_models._init_fastinit(t) for t in threads}
        wall = {t: [] for t in threads}
        for t in threads:
            inits[t](params)
        for _ in range(rounds):
            for t in threads:
                w0 = time.perf_counter()
                inits[t](params)
                wall[t].append(time.perf_counter() - w0)
        result[model] = {t: statistics.median(wall[t]) for t in threads}
    return result


def ratio_line(label, res, threads):
    cols = " ".join(f"{t}T {res[t] * 1e6:10.1f} us" for t in threads)
    return f"{label:45s} {cols} {res[threads[0]] / res[threads[-1]]:8.2f}x"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16384,32768,65536,131072,512x512,524288,1048576,4194304")
    parser.add_argument("--initializers", default="he_normal,glorot_uniform")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--per-thread", type=int,
                        help="override fastinit._plan.MIN_ELEMENTS_PER_THREAD for the run (threads from twice it)")
    parser.add_argument("--first-calls", action="store_true",
                        help="512x512 he_normal: first 10 calls after 100 ms idle; 1 ms of Python work between calls")
    parser.add_argument("--models", action="store_true", help="ResNet-50 and BERT-base whole-model init")
    parser.add_argument("--groups", type=int, default=30, help="idle groups for --first-calls (default 30)")
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
        for size in args.sizes.split(",") if args.sizes != "none" else ():
            shape = parse_size(size)
            res = measure(fn, shape, args.dtype, threads, args.rounds)
            cols = " ".join(f"{res[t][0] * 1e6:8.1f} {res[t][1] * 1e6:8.1f} {res[t][2] * 1e6:8.1f}" for t in threads)
            first, last = res[threads[0]], res[threads[-1]]
            print(f"{name:15s} {size:>12s} {cols} {first[0] / last[0]:10.2f}x {first[1] / last[1]:10.2f}x", flush=True)

    if args.first_calls:
        shape = (512, 512)
        print(ratio_line("512x512 first 10 calls after 100 ms idle",
                         first_calls(fastinit.he_normal, shape, threads, args.groups), threads), flush=True)
        print(ratio_line("512x512 calls 1 ms of Python work apart",
                         first_calls(fastinit.he_normal, shape, threads, args.groups, gap=1e-3), threads), flush=True)
    if args.models:
        for model, res in model_init(threads, max(3, args.rounds // 60)).items():
            print(ratio_line(f"{model} whole-model init", res, threads), flush=True)


if __name__ == "__main__":
    main()

"""Peak memory of ``trunc_normal_`` on a large CPU table: PyTorch's
``torch.nn.init.trunc_normal_`` (rejection sampling with tensor-sized
temporaries since 2.12) against ``fastinit.torch.trunc_normal_`` (inverse
CDF written in place), on a 20M x 64 float32 table (5.1 GB) by default.

Each contender runs in a fresh child process: it imports torch and
fastinit.torch, allocates the table and writes it once (so its pages are
resident), reads its RSS (``/proc/self/statm``), fills the table once
(timed: one run, a median would cost minutes at this size) and reports its
peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``). Peak over the table = peak
RSS minus the RSS before the fill (which holds the table and the imports).
The children run one after the other. ``--cap-gb X`` limits each child's
address space (RLIMIT_AS) to what it has mapped before the fill plus X GB,
so a contender that needs more fails with an allocation error (reported)
instead of waking the OOM killer on a shared machine. Not part of the test
suite:

    python benchmarks/trunc_normal_memory.py                  # 20M x 64
    python benchmarks/trunc_normal_memory.py --cap-gb 10      # on a machine without 3x the table free
    python benchmarks/trunc_normal_memory.py --rows 1000000   # a quick run
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

TARGET_MB = 64  # fastinit's target: at most this much over the table
MB = 1e6


def statm_bytes(field: int) -> int:
    """/proc/self/statm's field (0: virtual size, 1: resident) in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[field]) * os.sysconf("SC_PAGE_SIZE")


def child(contender: str, rows: int, cols: int, cap_gb: float | None) -> dict:
    import torch

    import fastinit.torch as fi

    table = torch.empty(rows, cols)
    table.fill_(0.0)  # resident before the baseline
    before = statm_bytes(1)
    if cap_gb is not None:
        resource.setrlimit(resource.RLIMIT_AS, (statm_bytes(0) + int(cap_gb * 1e9), resource.RLIM_INFINITY))
    failed = None
    start = time.perf_counter()
    try:
        if contender == "fastinit":
            fi.trunc_normal_(table, seed=0)
        else:
            torch.nn.init.trunc_normal_(table)
    except (RuntimeError, MemoryError) as e:
        failed = str(e).strip().splitlines()[-1]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if failed is None:
        lo, hi = torch.aminmax(table)  # no temporary the size of the table
        assert -2.0 <= lo < 0.0 < hi <= 2.0, f"the table is not filled with values in [-2, 2]: [{lo}, {hi}]"
    return dict(contender=contender, seconds=seconds, peak_over=peak - before, failed=failed,
                threads=torch.get_num_threads(), torch=torch.__version__,
                fastinit=os.path.dirname(fi.__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--only", choices=["torch", "fastinit"], help="run one contender")
    ap.add_argument("--cap-gb", type=float, help="fail a contender that maps more than this over the table")
    ap.add_argument("--child", choices=["torch", "fastinit"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.cols, args.cap_gb)))
        return
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs; table {args.rows} x {args.cols} float32 "
          f"({args.rows * args.cols * 4 / MB:.0f} MB)")
    results = []
    for contender in [args.only] if args.only else ["torch", "fastinit"]:
        out = subprocess.run([sys.executable, __file__, "--child", contender, "--rows", str(args.rows),
                              "--cols", str(args.cols)] + (["--cap-gb", str(args.cap_gb)] if args.cap_gb else []), check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"load average after {contender}: {os.getloadavg()}")
    print(f"\ntorch {results[0]['torch']}, {results[0]['threads']} torch threads, fastinit from "
          f"{results[0]['fastinit']}; one run each, fresh processes")
    print(f"{'contender':<36}{'s':>8}{'peak RSS over the table MB':>29}")
    names = {"torch": "torch.nn.init.trunc_normal_", "fastinit": "fastinit.torch.trunc_normal_"}
    for r in results:
        target = ""
        if r["contender"] == "fastinit":
            target = f"   (target <= {TARGET_MB}: {'met' if r['peak_over'] <= TARGET_MB * MB else 'MISSED'})"
        print(f"{names[r['contender']]:<36}{r['seconds']:>8.2f}{r['peak_over'] / MB:>29.1f}{target}")
        if r["failed"]:
            print(f"    FAILED after {r['seconds']:.1f} s under the {args.cap_gb} GB cap over the table: {r['failed']}")


if __name__ == "__main__":
    main()

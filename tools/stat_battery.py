"""Statistical battery beyond the KS tests of the suite (a script, not CI).

1. Correlations, each against the bound |r| < 4/sqrt(n) (four standard errors
   of a correlation of n independent pairs; a true r of 0 exceeds it with
   probability ~6e-5 per check):
   * within one stream, element i against element i + lag, for lags that cross
     the layout's structure (1: next counter, 16: next word of the same
     counter, 32, 48, 64: next lane group);
   * stream s against stream s' and seed s against seed s' at the same
     positions, including streams/seeds that differ only in the high word;
   on uniforms made from bits() (u = word / 2**32) and on normal() in float32
   and float64.
2. The raw bits() stream, in flat index order as little-endian bytes, into
   Debian's dieharder (``dieharder -g 200`` reads raw 32-bit words from stdin).
   ``--dieharder all`` runs ``-a``; otherwise the listed test numbers
   (``dieharder -l`` lists them).

    python tools/stat_battery.py                       # correlations only
    python tools/stat_battery.py --dieharder all       # + dieharder -a
    python tools/stat_battery.py --dieharder 0,1,2,15  # + a subset
    python tools/stat_battery.py --dieharder 0 --resolve --skip-correlations

Each ``-d`` test reads the stream from index 0; ``-a`` reads one continuing
stream, so a test's p-value there differs from its ``-d`` run.
"""
from __future__ import annotations

import argparse
import collections
import math
import re
import subprocess
import sys
import threading
import time

import numpy as np

import fastinit

SEED = 20260101
# The logical length of the bits() stream fed to dieharder: large enough that
# dieharder never reaches its end (it reads < 2**40 words even for -a).
STREAM_SHAPE = (2**62,)
CHUNK_WORDS = 1 << 22
LAGS = (1, 16, 32, 48, 64)


def uniforms(seed, stream, n):
    return fastinit.bits(n, seed, stream).astype(np.float64) / 2.0**32


def normals(dtype):
    def make(seed, stream, n):
        return fastinit.normal(n, seed, stream=stream, dtype=dtype).astype(np.float64)
    return make


SOURCES = {
    "uniform from bits": uniforms,
    "normal float32": normals(np.float32),
    "normal float64": normals(np.float64),
}


def corr(x, y) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def correlation_checks(n):
    """Yields (source, description, r, pairs) for every check."""
    pairs_of = [
        ("stream 0 vs 1", (SEED, 0), (SEED, 1)),
        ("stream 0 vs 2**32", (SEED, 0), (SEED, 2**32)),
        ("stream 5 vs 2**64-1", (SEED, 5), (SEED, 2**64 - 1)),
        ("seed s vs s+1", (SEED, 0), (SEED + 1, 0)),
        ("seed s vs s+2**32", (SEED, 0), (SEED + 2**32, 0)),
        ("seed 0 vs 2**64-1", (0, 0), (2**64 - 1, 0)),
    ]
    for name, make in SOURCES.items():
        x = make(SEED, 0, n + max(LAGS))
        for lag in LAGS:
            yield name, f"lag {lag}", corr(x[:n], x[lag:lag + n]), n
        for desc, a, b in pairs_of:
            yield name, desc, corr(make(*a, n), make(*b, n)), n


def run_correlations(n) -> bool:
    bound = 4 / math.sqrt(n)
    print(f"correlations, n = {n}, bound |r| < 4/sqrt(n) = {bound:.2e}")
    ok = True
    for source, desc, r, _ in correlation_checks(n):
        passed = abs(r) < bound
        ok &= passed
        print(f"  {source:18s} {desc:22s} r = {r:+.2e}  {'ok' if passed else 'FAIL'}")
    return ok


def feed_bits(pipe, seed, stream):
    """Writes the bits() stream from flat index 0 on until the reader closes."""
    start = 0
    try:
        while True:
            block = fastinit.bits(STREAM_SHAPE, seed, stream, index=slice(start, start + CHUNK_WORDS))
            pipe.write(block.astype("<u4", copy=False).tobytes())
            start += CHUNK_WORDS
    except (BrokenPipeError, ValueError, OSError):
        pass  # dieharder finished and closed its stdin


RESULT = re.compile(r"\|\s*(PASSED|WEAK|FAILED)\s*$")


def run_dieharder(tests, seed, stream, resolve=False) -> collections.Counter:
    # -Y 1: dieharder re-runs a WEAK test with more samples until it passes or fails
    extra = ["-Y", "1"] if resolve else []
    if tests == "all":
        commands = [["dieharder", "-a", "-g", "200", *extra]]
    else:
        commands = [["dieharder", "-d", t.strip(), "-g", "200", *extra] for t in tests.split(",")]
    counts = collections.Counter()
    t0 = time.perf_counter()
    for cmd in commands:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False)
        feeder = threading.Thread(target=feed_bits, args=(proc.stdin, seed, stream), daemon=True)
        feeder.start()
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            print(line, flush=True)
            m = RESULT.search(line)
            if m:
                counts[m.group(1)] += 1
        proc.wait()
        feeder.join()
    print(f"dieharder ({'-a' if tests == 'all' else '-d ' + tests}) on bits(seed={seed}, "
          f"stream={stream}): {dict(counts)} in {time.perf_counter() - t0:.0f} s")
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000_000, help="pairs per correlation (default 1e7)")
    ap.add_argument("--dieharder", metavar="TESTS", help="'all' for -a, or comma-separated test numbers")
    ap.add_argument("--resolve", action="store_true", help="dieharder -Y 1: re-test WEAK results")
    ap.add_argument("--skip-correlations", action="store_true")
    args = ap.parse_args(argv)
    ok = True
    if not args.skip_correlations:
        ok &= run_correlations(args.n)
    if args.dieharder:
        counts = run_dieharder(args.dieharder, SEED, 0, args.resolve)
        ok &= counts["FAILED"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Memory: many small calls do not leak, and a large fill allocates nothing
but its output."""
from __future__ import annotations

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import fastinit


def _under_asan() -> bool:
    """AddressSanitizer keeps freed memory in quarantine, so RSS grows there
    by design; the leak check is meaningful only in a normal build."""
    try:
        with open("/proc/self/maps") as maps:
            return "libasan" in maps.read()
    except OSError:
        return False


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


OUT_BITS = np.empty((64, 64), np.uint32)
CALLS = [
    lambda i: fastinit.he_normal((64, 64), seed=i),
    lambda i: fastinit.glorot_uniform((64, 64), seed=i, stream=i, dtype=np.float64),
    lambda i: fastinit.uniform((64, 64), seed=i, index=(slice(3, 40),)),
    lambda i: fastinit.bits((64, 64), seed=i, out=OUT_BITS),
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
@pytest.mark.skipif(_under_asan(), reason="ASan quarantine grows RSS by design")
def test_many_small_calls_do_not_grow_rss():
    def run(n):
        for i in range(n):
            CALLS[i % len(CALLS)](i)

    run(5_000)  # warm up: caches, allocator pools, lazily created state
    gc.collect()
    before = _rss_bytes()
    run(100_000)
    gc.collect()
    grown = _rss_bytes() - before
    print(f"\nRSS growth over 100,000 calls of 64x64: {grown / 1024:.0f} KiB")
    assert grown < 1 << 20


def test_large_fill_allocates_only_its_output():
    n = 10**7
    fastinit.normal(1000, seed=0)  # first-call state out of the measurement
    tracemalloc.start()
    try:
        x = fastinit.normal(n, seed=0, threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\ntracemalloc peak of a 1e7 float32 fill: {peak} bytes, output {x.nbytes} bytes")
    assert x.nbytes <= peak <= x.nbytes + (64 << 10)

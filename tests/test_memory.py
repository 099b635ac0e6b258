"""Memory: many small calls do not leak, and a large fill allocates nothing
but its output (peak RSS of a child process: C allocations included)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys

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


# Peak resident memory of a child process around one large fill into a
# pre-faulted out=: C allocations (malloc, thread stacks) count here, unlike
# in tracemalloc. The warm-up fill starts the same number of threads first.
PEAK_CHILD = r"""
import resource, sys
import numpy as np
import fastinit

n, dtype, threads = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
out = np.ones(n, dtype)  # every page faulted in before the measurement
fastinit.normal(n // 16, 0, dtype=dtype, out=out[: n // 16], threads=threads)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
fastinit.normal(n, 0, dtype=dtype, out=out, threads=threads)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown * 1024, out.nbytes)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB (Linux)")
@pytest.mark.skipif(_under_asan(), reason="ASan faults in shadow memory for the output")
@pytest.mark.parametrize("dtype, threads", [("float32", 2), ("float64", 1)])
def test_large_fill_into_out_allocates_nothing(dtype, threads):
    """A 64 MiB fill into an existing buffer: the peak RSS does not grow by
    more than 1 MiB (a temporary the size of one chunk, 16 MiB per thread,
    would show in full)."""
    n = (64 << 20) // np.dtype(dtype).itemsize
    r = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(n), dtype, str(threads)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    grown, out_bytes = map(int, r.stdout.split())
    print(f"\npeak RSS growth of a {out_bytes}-byte {dtype} fill into out= on {threads} thread(s): {grown} bytes")
    assert grown < 1 << 20

"""Concurrency: many Python threads each running multi-threaded fills at once,
and process pools under fork and spawn, give the same bits as sequential
calls in this process, with no deadlock (every wait has a timeout)."""
from __future__ import annotations

import hashlib
import multiprocessing
import threading

import pytest

import fastinit
from api_cases import ADDRESSABLE, as_bytes, dtypes_of, generate

TIMEOUT = 120  # seconds; a deadlock fails the test instead of hanging the suite

# (initializer, shape, seed, stream, dtype index, fastinit threads): large
# enough that every call really splits over its threads (>= 2**16 elements each)
JOBS = [
    (name, (4000 + 17 * i, 263), 1000 + i, i * 2**32 + 5, i % 2, 2 + i % 2)
    for i, name in enumerate(sorted(ADDRESSABLE) * 2)
][:8]


def run_job(job) -> str:
    """SHA-256 of the job's array (module level, so pool workers can run it)."""
    name, shape, seed, stream, dtype_index, threads = job
    dtypes = dtypes_of(name)
    dtype = dtypes[dtype_index % len(dtypes)]
    return hashlib.sha256(as_bytes(generate(name, shape, seed, stream, dtype, threads=threads))).hexdigest()


@pytest.fixture(scope="module")
def sequential():
    return [run_job(job) for job in JOBS]


def test_eight_python_threads_match_sequential(sequential):
    assert len(JOBS) == 8
    results = [None] * len(JOBS)
    errors = []
    start = threading.Barrier(len(JOBS))

    def work(i):
        try:
            start.wait(TIMEOUT)
            for _ in range(3):  # several rounds so the calls overlap in many ways
                digest = run_job(JOBS[i])
                assert results[i] in (None, digest)
                results[i] = digest
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    # daemon threads: a deadlocked one cannot keep the test process alive
    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(JOBS))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(TIMEOUT)
    assert not any(w.is_alive() for w in workers), "deadlock: threads still running after the timeout"
    assert not errors, errors
    assert results == sequential


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_process_pool_matches_parent(method, sequential):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {method!r} is not available on this platform")
    # use the C core with several threads in the parent first: whatever state
    # it keeps (ISA choice, thread pool) must survive the fork
    fastinit.normal((1 << 18,), 0, threads=2)
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        got = pool.map_async(run_job, JOBS).get(TIMEOUT)
    assert got == sequential

"""Concurrency: many Python threads each running multi-threaded fills at once,
and process pools under fork and spawn, give the same bits as sequential
calls in this process, with no deadlock (every wait has a timeout)."""
from __future__ import annotations

import hashlib
import multiprocessing
import subprocess
import sys
import threading

import pytest

import fastinit
from fastinit import _core
from support.api_cases import ADDRESSABLE, as_bytes, dtypes_of, generate

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


def _report_pool(queue):
    """In a forked child: the pool it inherited, then after a threaded fill."""
    inherited = _core.pool_workers()
    digest = run_job(JOBS[0])
    queue.put((inherited, _core.pool_workers(), digest))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_forked_child_makes_its_own_pool(sequential):
    """The parent's workers do not exist in a forked child: it must start
    from an empty pool and make its own (a child that reused the parent's
    bookkeeping would wait forever for workers that are not there)."""
    fastinit.normal((1 << 18,), 0, threads=3)
    assert _core.pool_workers() >= 2
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_report_pool, args=(queue,))
    child.start()
    try:
        inherited, grown, digest = queue.get(timeout=TIMEOUT)
    finally:
        child.join(TIMEOUT)
        child.kill()
    assert child.exitcode == 0
    assert inherited == 0
    assert grown == JOBS[0][-1] - 1  # the job's threads: the caller and its workers
    assert digest == sequential[0]


EXIT_WHILE_FILLING = r"""
import threading
import fastinit

def fill_forever():
    while True:
        fastinit.normal(1 << 20, 0, threads=3)

threading.Thread(target=fill_forever, daemon=True).start()
for seed in range(20):
    fastinit.normal(1 << 20, seed, threads=3)
print("DONE", flush=True)
"""


def test_exit_joins_the_pool_while_a_thread_fills():
    """At exit the pool's workers are joined (an atexit handler) while a
    daemon thread may still be in the middle of a threaded fill: the process
    must end, promptly and with status 0."""
    result = subprocess.run([sys.executable, "-c", EXIT_WHILE_FILLING], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0 and result.stdout.strip() == "DONE", result


IDLE_AFTER_FILL = r"""
import resource, time
import fastinit

def cpu_of_other_threads():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime - time.thread_time()

fastinit.normal(1 << 20, 0, threads=3)
time.sleep(0.1)  # longer than the workers poll for a next fill
before = cpu_of_other_threads()
time.sleep(0.5)
print(cpu_of_other_threads() - before)
"""


def test_idle_pool_sleeps():
    """Between fills the pool's workers sleep: while the process is idle for
    0.5 s, threads other than the main one use (almost) no CPU. A busy-waiting
    pool would use up to 0.5 s per worker here (less on a loaded machine,
    still far over the bound)."""
    result = subprocess.run([sys.executable, "-c", IDLE_AFTER_FILL], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result
    assert float(result.stdout) < 0.03, result.stdout

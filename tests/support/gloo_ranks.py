"""Runs a worker script as the ranks of a gloo process group on this machine
(one CPU process per rank, one fastinit and OpenMP thread each) and collects
what each rank reports, case by case.

A worker is called as ``python WORKER RANK WORLD PORT``; it defines
``cases(world)`` (name -> function of a `Checks`) and passes them to
`run_cases`, which prints one JSON line per finished case. The parent test
parametrizes over the same names and asserts each with `assert_case`, so a
failure names its case; a rank that crashes or hangs fails the cases it did
not report, with its exit status and stderr."""
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

import fastinit

TESTS = Path(__file__).resolve().parents[1]


class Checks:
    """Counts the checks a case runs and names the ones that failed."""

    def __init__(self):
        self.count, self.failures = 0, []

    def true(self, what, ok):
        self.count += 1
        if not ok:
            self.failures.append(what)

    def equal(self, what, got, want):
        """Bit for bit (so -0.0 != 0.0 and the same NaN payloads)."""
        bits = {torch.float32: torch.int32, torch.float64: torch.int64}.get(want.dtype, torch.int16)
        self.true(what, got.shape == want.shape and got.dtype == want.dtype and torch.equal(
            got.detach().contiguous().view(bits), want.detach().contiguous().view(bits)))


def run_cases(cases):
    """In a worker: runs each case in order (every rank runs the same
    collectives in the same order) and prints its result as a JSON line."""
    for name, run in cases.items():
        checks = Checks()
        run(checks)
        print(json.dumps({"case": name, "checks": checks.count, "failures": checks.failures}), flush=True)


@dataclass
class Rank:
    returncode: int
    cases: dict  # case name -> {"checks": n, "failures": [...]}
    stderr: str


def run_ranks(worker: Path, world: int, timeout_s: float = 300) -> list:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fastinit.__file__).parents[1]), str(TESTS), os.environ.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1", FASTINIT_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, str(worker), str(rank), str(world), port], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(world)]
    ranks = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            out, err = p.communicate()
            err = f"killed after {timeout_s} s\n{err}"
        records = [json.loads(line) for line in out.splitlines() if line.startswith('{"case"')]
        ranks.append(Rank(p.returncode, {r.pop("case"): r for r in records}, err))
    return ranks


def assert_case(ranks: list, case: str):
    for i, rank in enumerate(ranks):
        assert case in rank.cases, (f"rank {i} did not report {case!r} (exit status {rank.returncode}):\n"
                                    f"{rank.stderr[-3000:]}")
        result = rank.cases[case]
        assert result["failures"] == [], f"rank {i}: {result['failures']}"
        assert result["checks"] > 0, f"rank {i} ran no check in {case!r}"


def assert_every_case_ran(ranks: list, names: list):
    for i, rank in enumerate(ranks):
        assert rank.returncode == 0, f"rank {i} exited with {rank.returncode}:\n{rank.stderr[-3000:]}"
        assert list(rank.cases) == list(names), f"rank {i} reported {list(rank.cases)}"

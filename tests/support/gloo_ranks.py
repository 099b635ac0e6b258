"""Runs a worker script as the ranks of a gloo process group on this machine
(one CPU process per rank, one fastinit and OpenMP thread each) and returns
each rank's last stdout line parsed as JSON. The worker is called as
``python WORKER RANK WORLD PORT``."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import fastinit


def run_ranks(worker: Path, world: int, timeout_s: float = 300) -> list:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fastinit.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1", FASTINIT_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, str(worker), str(rank), str(world), port], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(world)]
    try:
        outputs = [p.communicate(timeout=timeout_s) for p in procs]
    finally:
        for p in procs:
            p.kill()
    results = []
    for rank, (p, (out, err)) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"rank {rank} exited with {p.returncode}:\n{err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results

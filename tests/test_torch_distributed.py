"""fastinit.torch on sharded tensors in real gloo process groups (CPU): for
world sizes 1, 2 and 4 (1-D meshes) and a (2, 2) mesh, every function on
DTensors with Shard on each dim (uneven shards and empty ones included),
Replicate, FSDP2's _StridedShard (also from a real fully_shard x
parallelize_module model), in float32/float64/float16/bfloat16; Partial
refused; ShardedTensor and fill_block. Each rank's full_tensor() (or block)
must equal the single-process tensor bit for bit. One spawn per world size;
the checks run in tests/dtensor_worker.py."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
import fastinit  # noqa: E402

WORKER = Path(__file__).with_name("dtensor_worker.py")
TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("world", [1, 2, 4])
def test_every_rank_holds_the_single_process_values(world):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fastinit.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1", FASTINIT_NUM_THREADS="1")
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(rank), str(world), port], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(world)]
    try:
        outputs = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for rank, (p, (out, err)) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"rank {rank} exited with {p.returncode}:\n{err[-3000:]}"
        result = json.loads(out.strip().splitlines()[-1])
        assert result["failures"] == [], f"rank {rank}"
        # every placement x function ran (a worker skipping its checks fails here)
        assert result["checks"] >= (450 if world == 4 else 150), result

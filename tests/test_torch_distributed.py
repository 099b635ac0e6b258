"""fastinit.torch on sharded tensors in real gloo process groups (CPU): for
world sizes 1, 2 and 4 (1-D meshes) and a (2, 2) mesh, every function on
DTensors with Shard on each dim (uneven shards and empty ones included),
Replicate, FSDP2's _StridedShard (also from a real fully_shard x
parallelize_module model), in float32/float64/float16/bfloat16; Partial
refused; ShardedTensor and fill_block. Each rank's full_tensor() (or block)
must equal the single-process tensor bit for bit. One spawn per world size;
the checks run in tests/support/dtensor_worker.py."""
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
from support.gloo_ranks import run_ranks  # noqa: E402

WORKER = Path(__file__).parent / "support" / "dtensor_worker.py"
TIMEOUT_S = 300


@pytest.mark.parametrize("world", [1, 2, 4])
def test_every_rank_holds_the_single_process_values(world):
    for rank, result in enumerate(run_ranks(WORKER, world, TIMEOUT_S)):
        assert result["failures"] == [], f"rank {rank}"
        # every placement x function ran (a worker skipping its checks fails here)
        assert result["checks"] >= (450 if world == 4 else 150), result

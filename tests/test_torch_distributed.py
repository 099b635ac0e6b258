"""fastinit.torch on sharded tensors in real gloo process groups (CPU): for
world sizes 1, 2 and 4 (1-D meshes) and a (2, 2) mesh, every function on
DTensors with Shard on each dim (uneven shards and empty ones included),
Replicate, FSDP2's _StridedShard (also from a real fully_shard x
parallelize_module model), in float32/float64/float16/bfloat16; Partial
refused; ShardedTensor and fill_block. Each rank's full_tensor() (or block)
must equal the single-process tensor bit for bit. One spawn per world size
runs every case (tests/support/dtensor_worker.py); each case is a test here."""
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
from support import dtensor_worker  # noqa: E402
from support.gloo_ranks import assert_case, assert_every_case_ran, run_ranks  # noqa: E402

WORKER = Path(dtensor_worker.__file__)
TIMEOUT_S = 300
WORLDS = [1, 2, 4]


@pytest.fixture(scope="module")
def ranks():
    """One spawn per world size, on first use."""
    runs = {}

    def of(world):
        if world not in runs:
            runs[world] = run_ranks(WORKER, world, TIMEOUT_S)
        return runs[world]
    return of


@pytest.mark.parametrize("world, case", [(w, c) for w in WORLDS for c in dtensor_worker.cases(w)])
def test_every_rank_holds_the_single_process_values(ranks, world, case):
    assert_case(ranks(world), case)


@pytest.mark.parametrize("world", WORLDS)
def test_every_case_ran(ranks, world):
    results = ranks(world)
    assert_every_case_ran(results, list(dtensor_worker.cases(world)))
    # every placement x function ran (a worker skipping its checks fails here)
    for rank, result in enumerate(results):
        assert sum(r["checks"] for r in result.cases.values()) >= (450 if world == 4 else 150), (rank, result.cases)

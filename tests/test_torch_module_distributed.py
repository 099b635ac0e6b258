"""init_module on sharded models in a real gloo process group (4 CPU
processes, one spawn): a small transformer and a DLRM-style model (EmbeddingBag
tables of uneven row counts) built on meta, sharded with FSDP2 on 1, 2 and 4
ranks and FSDP2 x tensor parallel on a (2, 2) mesh (also initialized before
fully_shard), materialized with to_empty: every parameter's full_tensor()
equals the single-process init_module result bit for bit. The checks run in
tests/support/module_worker.py."""
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
from support.gloo_ranks import run_ranks  # noqa: E402

WORKER = Path(__file__).parent / "support" / "module_worker.py"


def test_sharded_init_module_equals_single_process():
    for rank, result in enumerate(run_ranks(WORKER, world=4)):
        assert result["failures"] == [], f"rank {rank}"
        # 2 models x 5 configurations x every parameter, on DTensors of these placements
        assert result["checks"] == 220, result
        assert {"(Shard(dim=0),)", "(_StridedShard(dim=0, sf=2), Shard(dim=0))",
                "(Shard(dim=0), Shard(dim=1))"} <= set(result["placements"]), result

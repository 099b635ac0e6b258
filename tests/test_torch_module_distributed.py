"""init_module on sharded models in a real gloo process group (4 CPU
processes, one spawn): a small transformer and a DLRM-style model (EmbeddingBag
tables of uneven row counts) built on meta, sharded with FSDP2 on 1, 2 and 4
ranks and FSDP2 x tensor parallel on a (2, 2) mesh (also initialized before
fully_shard), materialized with to_empty: every parameter's full_tensor()
equals the single-process init_module result bit for bit. Padding rows
(Embedding and EmbeddingBag, a negative padding_idx, a table sharded on its
columns under TP, a tiny Hugging Face Llama's pad token under FSDP2) are
zeroed in the shards that hold them. The checks run in
tests/module_worker.py."""
import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
from gloo_ranks import run_ranks  # noqa: E402

WORKER = Path(__file__).with_name("module_worker.py")
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def test_sharded_init_module_equals_single_process():
    for rank, result in enumerate(run_ranks(WORKER, world=4)):
        assert result["failures"] == [], f"rank {rank}"
        # 3 models x 5 configurations x every parameter (and a tiny Hugging Face
        # Llama with a pad token on 2 and 4 ranks), on DTensors of these placements
        assert result["checks"] == 250 + 24 * HAS_TRANSFORMERS, result
        assert {"(Shard(dim=0),)", "(_StridedShard(dim=0, sf=2), Shard(dim=0))",
                "(Shard(dim=0), Shard(dim=1))"} <= set(result["placements"]), result

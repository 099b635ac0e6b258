"""init_module on sharded models in a real gloo process group (4 CPU
processes, one spawn): a small transformer and a DLRM-style model (EmbeddingBag
tables of uneven row counts) built on meta, sharded with FSDP2 on 1, 2 and 4
ranks and FSDP2 x tensor parallel on a (2, 2) mesh (also initialized before
fully_shard), materialized with to_empty: every parameter's full_tensor()
equals the single-process init_module result bit for bit. Padding rows
(Embedding and EmbeddingBag, a negative padding_idx, a table sharded on its
columns under TP, a tiny Hugging Face Llama's pad token under FSDP2) are
zeroed in the shards that hold them; one case fills through the device
kernels (Triton's interpreter). The spawn runs
every case (tests/support/module_worker.py); each case is a test here."""
import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)
from support import module_worker  # noqa: E402
from support.gloo_ranks import assert_case, assert_every_case_ran, run_ranks  # noqa: E402

WORLD = 4
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
HAS_TRITON = importlib.util.find_spec("triton") is not None


@pytest.fixture(scope="module")
def ranks():
    return run_ranks(Path(module_worker.__file__), WORLD)


@pytest.mark.parametrize("case", list(module_worker.cases()))
def test_sharded_init_module_equals_single_process(ranks, case):
    assert_case(ranks, case)


def test_every_case_ran(ranks):
    assert_every_case_ran(ranks, list(module_worker.cases()))
    for rank in ranks:
        # 3 models x 5 configurations x every parameter, the padding rows in
        # each Padded configuration, and a tiny Hugging Face Llama with a pad
        # token on 2 and 4 ranks, the Transformer's 32 parameters on the
        # device kernels and that they wrote
        assert sum(r["checks"] for name, r in rank.cases.items() if name != "placements made") == \
            250 + 5 + 24 * HAS_TRANSFORMERS + 33 * HAS_TRITON, rank.cases

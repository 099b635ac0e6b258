"""One rank of tests/test_torch_module_distributed.py (4 ranks, gloo):
builds a small transformer and a DLRM-style model on meta, shards them
(FSDP2 on 1, 2 and 4 ranks; FSDP2 x tensor parallel on a (2, 2) mesh),
materializes with to_empty, runs fastinit.torch.init_module, and compares
every parameter's full_tensor() with the single-process init_module result,
bit for bit. Reports each case (a model in one configuration) as a JSON
line: the checks run and the failures.

One case runs fastinit.torch on the device kernels (FASTINIT_TORCH_BACKEND=
triton, set for that case only; Triton runs its interpreter): the same bits.

Usage: python module_worker.py RANK WORLD PORT
"""
import functools
import importlib.util
import os
import sys

# the device-kernel case runs in Triton's interpreter: set before anything
# (torch.distributed included) imports Triton
os.environ.setdefault("TRITON_INTERPRET", "1")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch import nn  # noqa: E402
from torch.distributed.device_mesh import init_device_mesh  # noqa: E402
from torch.distributed.fsdp import fully_shard  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module  # noqa: E402

import fastinit.torch as fi  # noqa: E402
from support.gloo_ranks import run_cases  # noqa: E402

SEED = 2**33 + 5


class Block(nn.Module):
    def __init__(self, d=20, ff=42):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.up, self.down = nn.Linear(d, ff), nn.Linear(ff, d)


class Transformer(nn.Module):
    def __init__(self, vocab=51, d=20):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(2))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def parts(self):
        return list(self.blocks)

    def tp_plan(self):
        plan = {"head": ColwiseParallel()}
        for i in range(len(self.blocks)):
            plan.update({f"blocks.{i}.{n}": ColwiseParallel() for n in ("q", "k", "v", "up")})
            plan.update({f"blocks.{i}.{n}": RowwiseParallel() for n in ("o", "down")})
        return plan


class DLRM(nn.Module):
    """Embedding tables of uneven row counts, bottom and top MLPs."""

    def __init__(self, rows=(37, 101, 13, 250), dims=(8, 16, 8, 4)):
        super().__init__()
        self.tables = nn.ModuleDict({f"t{i}": nn.EmbeddingBag(r, d, mode="sum") for i, (r, d) in
                                     enumerate(zip(rows, dims))})
        self.bottom = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 8))
        self.top = nn.Sequential(nn.Linear(8 + sum(dims), 30), nn.ReLU(), nn.Linear(30, 1))

    def parts(self):
        return list(self.tables.values())

    def tp_plan(self):
        return {"bottom.0": ColwiseParallel(), "bottom.2": RowwiseParallel(),
                "top.0": ColwiseParallel(), "top.2": RowwiseParallel()}


class Padded(nn.Module):
    """Padding rows (a positive and a negative padding_idx) that each
    module's init zeroes with weight[padding_idx].fill_(0), and a table
    sharded on its columns under tensor parallel."""

    def __init__(self):
        super().__init__()
        self.words = nn.Embedding(23, 12, padding_idx=5)
        self.bag = nn.EmbeddingBag(17, 6, padding_idx=-2, mode="sum")
        self.proj = nn.Linear(12, 12)
        self.out = nn.Linear(12, 23)

    def parts(self):
        return [self.words, self.bag]

    def tp_plan(self):
        return {"words": ColwiseParallel(), "out": ColwiseParallel()}


def tiny_llama():
    """A Hugging Face Llama with a pad token (its _init_weights zeroes the
    row with weight.data[padding_idx].zero_()), untied."""
    import transformers
    config = transformers.LlamaConfig(
        vocab_size=37, hidden_size=16, intermediate_size=24, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=16, pad_token_id=3, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(config)
    model.parts = lambda: list(model.model.layers) + [model.model.embed_tokens]
    return model


def init(model):
    fi.init_module(model, SEED, init_fn=getattr(model, "_init_weights", None))


def sharded(build, fsdp_mesh, tp_mesh=None, init_before=False):
    with torch.device("meta"):
        model = build()
    if init_before:  # materialize and initialize the full model, then shard it
        model.to_empty(device="cpu")
        init(model)
    if tp_mesh is not None:
        parallelize_module(model, tp_mesh, model.tp_plan())
    for part in model.parts():
        fully_shard(part, mesh=fsdp_mesh)
    fully_shard(model, mesh=fsdp_mesh)
    if not init_before:
        model.to_empty(device="cpu")
        init(model)
    return model


@functools.cache
def meshes():
    """Made on first use, in the same order on every rank."""
    world = dist.get_world_size()
    solo = init_device_mesh("cpu", (world, 1), mesh_dim_names=("rest", "solo"))["solo"]
    grid = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
    return dict(solo=solo, grid=grid, everyone=init_device_mesh("cpu", (world,)))


# configuration -> the arguments of sharded(), meshes named
CONFIGS = {"1 rank": dict(fsdp_mesh="solo"), "2 ranks": dict(fsdp_mesh="dp"), "4 ranks": dict(fsdp_mesh="everyone"),
           "(2, 2) FSDP x TP": dict(fsdp_mesh="dp", tp_mesh="tp"),
           "4 ranks, initialized before fully_shard": dict(fsdp_mesh="everyone", init_before=True)}


def mesh_named(name):
    m = meshes()
    return m["grid"][name] if name in ("dp", "tp") else m[name]


@functools.cache
def reference(build):
    model = build()
    init(model)
    return dict(model.named_parameters())


def check_config(checks, build, config, placements):
    kwargs = {k: mesh_named(v) if k.endswith("mesh") else v for k, v in CONFIGS[config].items()}
    model = sharded(build, **kwargs)
    for name, param in model.named_parameters():
        placements.add(str(param.placements) if isinstance(param, DTensor) else "plain")
        full = param.full_tensor() if isinstance(param, DTensor) else param
        checks.equal(name, full, reference(build)[name])
    if build is Padded and isinstance(model.words.weight, DTensor):
        checks.true("padding rows are zero", bool((model.words.weight.full_tensor()[5] == 0).all()
                                                  and (model.bag.weight.full_tensor()[-2] == 0).all()))


def check_device_backend(checks, placements):
    """The (2, 2) FSDP x TP Transformer (Shard and _StridedShard rows)
    filled by the device kernels equals the single-process C-backend
    reference, and the kernels did the writing."""
    reference(Transformer)  # made by the C backend
    os.environ["FASTINIT_TORCH_BACKEND"] = "triton"
    from fastinit.device import launch
    launches, fill = [], launch.fill
    launch.fill = lambda *args, **kwargs: launches.append(1) or fill(*args, **kwargs)
    try:
        check_config(checks, Transformer, "(2, 2) FSDP x TP", placements)
    finally:
        del os.environ["FASTINIT_TORCH_BACKEND"]
        launch.fill = fill
    checks.true("the device kernels wrote the shards", len(launches) > 0)


def cases(world=4):
    """The named cases, in order (the test parametrizes over the names)."""
    placements = set()
    named = {f"{build.__name__}, {config}": functools.partial(check_config, build=build, config=config,
                                                              placements=placements)
             for build in (Transformer, DLRM, Padded) for config in CONFIGS}
    try:
        import transformers  # noqa: F401
    except ImportError:
        pass
    else:  # a tiny Hugging Face Llama with a pad token, under FSDP2
        named.update({f"tiny_llama, {config}": functools.partial(check_config, build=tiny_llama, config=config,
                                                                 placements=placements)
                      for config in ("2 ranks", "4 ranks")})
    if importlib.util.find_spec("triton") is not None:
        named["Transformer, (2, 2) FSDP x TP, device kernels"] = functools.partial(check_device_backend,
                                                                                    placements=placements)
    # the configurations above made DTensors of the placements FSDP2 and TP use
    named["placements made"] = lambda checks: checks.true(f"placements: {sorted(placements)}", {
        "(Shard(dim=0),)", "(_StridedShard(dim=0, sf=2), Shard(dim=0))", "(Shard(dim=0), Shard(dim=1))"}
        <= placements)
    return named


def main():
    rank, world, port = (int(a) for a in sys.argv[1:4])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    run_cases(cases(world))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

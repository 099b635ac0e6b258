"""init_module / initializing give what eager PyTorch gives: a tied tensor
initialized once by its owner, user writes during construction kept,
parametrized and lazy modules, drop-in argument types, compiled modules, and
no value taken silently from PyTorch's generator."""
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import fastinit.torch as fi  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.utils.prune  # noqa: E402,F401  (not imported by torch itself)

S = fi.stable_stream


def _embedding_init(name, shape, seed, padding_idx=None):
    """What nn.Embedding.reset_parameters gives under init_module."""
    want = fi.normal_(torch.empty(shape), seed=seed, stream=S(name))
    if padding_idx is not None:
        want[padding_idx] = 0
    return want


class TiedLM(nn.Module):
    """An embedding tied to the output Linear, as PyTorch's word language
    model ties them (head.weight = embed.weight), either module first."""

    def __init__(self, head_first):
        super().__init__()
        if head_first:
            self.head = nn.Linear(16, 50, bias=False)
        self.embed = nn.Embedding(50, 16, padding_idx=1)
        if not head_first:
            self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.embed.weight


@pytest.mark.parametrize("head_first", [False, True])
def test_tied_embedding_keeps_the_embeddings_init_as_in_eager_pytorch(head_first):
    eager = TiedLM(head_first)  # PyTorch's own: N(0, 1) with the padding row zero, not the Linear's U
    assert float(eager.embed.weight.std()) > 0.9 and (eager.embed.weight[1] == 0).all()
    m = fi.init_module(TiedLM(head_first), seed=3)
    assert m.head.weight is m.embed.weight
    assert torch.equal(m.embed.weight, _embedding_init("embed.weight", (50, 16), 3, padding_idx=1))


def test_a_tie_is_initialized_by_the_first_module_and_rewritten_by_ancestors():
    class Shared(nn.Module):  # two Linears, one tensor: the first one's init, once
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)
            self.b.weight = self.a.weight
    m = fi.init_module(Shared(), seed=1)
    want = fi.kaiming_uniform_(torch.empty(8, 8), a=5 ** 0.5, seed=1, stream=S("a.weight"))
    assert torch.equal(m.a.weight, want)
    # nn.Transformer's own init (xavier on every matrix) runs after its layers', as in its constructor
    t = fi.init_module(nn.Transformer(16, 2, 1, 1, 32), seed=1)
    w = t.encoder.layers[0].linear1.weight
    assert torch.equal(w, fi.xavier_uniform_(torch.empty(32, 16), seed=1, stream=S("encoder.layers.0.linear1.weight")))


def test_hugging_face_tied_model_padding_row_and_to_empty_then_tie_weights():
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=37, max_position_embeddings=24, pad_token_id=0)
    theirs = transformers.BertForMaskedLM(config)  # Hugging Face's own init: the tied padding row is zero
    words = theirs.bert.embeddings.word_embeddings.weight
    assert theirs.cls.predictions.decoder.weight is words and (words[0] == 0).all()
    eager = transformers.BertForMaskedLM(config)
    fi.init_module(eager, seed=2, init_fn=eager._init_weights)
    words = eager.bert.embeddings.word_embeddings.weight
    assert eager.cls.predictions.decoder.weight is words and (words[0] == 0).all()
    assert float(words[1:].std()) == pytest.approx(0.02, rel=0.1)  # N(0, 0.02), not the decoder's init
    with torch.device("meta"):
        lazy = transformers.BertForMaskedLM(config)
    lazy.to_empty(device="cpu")  # PyTorch's to_empty unties ...
    assert lazy.cls.predictions.decoder.weight is not lazy.bert.embeddings.word_embeddings.weight
    lazy.tie_weights()  # ... and Hugging Face's step after it ties again
    fi.init_module(lazy, seed=2, init_fn=lazy._init_weights)
    for (name, v), (_, w) in zip(lazy.state_dict().items(), eager.state_dict().items()):
        assert torch.equal(v, w), name


# ---------------------------------------------------------------- user writes in initializing()

def test_user_writes_after_a_modules_init_are_kept():
    pretrained = torch.arange(12.0).view(3, 4)
    kept = pretrained.clone()
    source = torch.full((3, 4), 7.0)
    with fi.initializing(seed=1):
        net = nn.ModuleDict({n: nn.Linear(4, 3) for n in ("data", "set", "copy", "math", "fastinit", "numpy")})
        net["data"].weight.data = pretrained
        with torch.no_grad():
            net["set"].weight.set_(torch.ones(3, 4))
            net["copy"].weight.copy_(source)
            net["math"].weight.mul_(0)
        fi.normal_(net["fastinit"].weight, seed=9)
        net["numpy"].weight.detach().numpy()[...] = 5.0
    assert net["data"].weight.data_ptr() == pretrained.data_ptr() and torch.equal(pretrained, kept)
    assert (net["set"].weight == 1).all() and torch.equal(net["copy"].weight, source)
    assert (net["math"].weight == 0).all() and (net["numpy"].weight == 5).all()
    assert torch.equal(net["fastinit"].weight, fi.normal_(torch.empty(3, 4), seed=9))
    # the biases, untouched by the user, got the routed init
    ref = fi.init_module(nn.ModuleDict({n: nn.Linear(4, 3) for n in net}), seed=1)
    for n in net:
        assert torch.equal(net[n].bias, ref[n].bias), n


def test_initializing_counts_only_its_own_threads_modules():
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        nn.Linear(3, 3)  # another thread's model, built during the block
        done.set()
    worker = threading.Thread(target=other)
    worker.start()
    with fi.initializing(seed=4):
        net = nn.Linear(5, 2)
        started.set()
        done.wait(30)
    worker.join()
    assert torch.equal(net.weight, fi.init_module(nn.Linear(5, 2), seed=4).weight)


def test_nested_blocks_and_init_module_inside_a_block():
    with fi.initializing(seed=1):
        with fi.initializing(seed=2):
            inner = nn.Linear(4, 4)
        standalone = fi.init_module(nn.Linear(4, 4), seed=3)
        outer = nn.Sequential(nn.Linear(4, 4), inner)
    # the inner block and init_module finish their models; the outer block leaves them alone
    assert torch.equal(inner.weight, fi.init_module(nn.Linear(4, 4), seed=2).weight)
    assert torch.equal(standalone.weight, fi.init_module(nn.Linear(4, 4), seed=3).weight)
    assert torch.equal(outer[0].weight, fi.kaiming_uniform_(torch.empty(4, 4), a=5 ** 0.5, seed=1, stream=S("0.weight")))


# ---------------------------------------------------------------- every parameter written, or an error

@pytest.mark.parametrize("wrap, name", [
    (lambda m: nn.utils.parametrizations.weight_norm(m), "parametrizations.weight.original0"),
    (lambda m: nn.utils.parametrizations.spectral_norm(m), "parametrizations.weight.original"),
    (lambda m: nn.utils.parametrizations.orthogonal(m), "parametrizations.weight.original"),
    (lambda m: nn.utils.weight_norm(m), "weight_g"),
    (lambda m: nn.utils.prune.random_unstructured(m, "weight", 0.5), "weight_orig"),
])
def test_parametrized_modules_are_refused_naming_the_parameter(wrap, name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the old weight_norm's deprecation
        net = nn.Sequential(wrap(nn.Linear(4, 4)))
    with pytest.raises(ValueError, match=f"'0.{name}'"):
        fi.init_module(net, seed=0)
    with pytest.raises(ValueError, match=f"'{name}'"):
        with fi.initializing(seed=0):
            wrap(nn.Linear(4, 4)) if name != "weight_g" else nn.utils.weight_norm(nn.Linear(4, 4))


class _Forgetful(nn.Module):
    """A module whose reset_parameters forgets its bias and its buffer."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, 4))
        self.bias = nn.Parameter(torch.empty(3))
        self.register_buffer("scale", torch.ones(3))

    def reset_parameters(self):
        nn.init.normal_(self.weight)


def test_a_tensor_its_modules_init_never_writes_is_an_error():
    with pytest.raises(ValueError, match=r"\['0.bias', '0.scale'\] are never written"):
        fi.init_module(nn.Sequential(_Forgetful()), seed=0)
    with torch.device("meta"):
        lazy = nn.Sequential(_Forgetful())
    lazy.to_empty(device="cpu")  # uninitialized memory: an error, never returned as values
    with pytest.raises(ValueError, match="'0.bias'"):
        fi.init_module(lazy, seed=0)
    m = fi.init_module(nn.Sequential(_Forgetful()), seed=0, skip=["0.bias", "0.scale"])  # set by the caller
    assert (m[0].scale == 1).all()
    # init_fn is every module's init code: it must write them too
    with pytest.raises(ValueError, match=r"\['0.bias', '0.scale'\]"):
        fi.init_module(nn.Sequential(_Forgetful()), seed=0, init_fn=lambda sub: getattr(sub, "reset_parameters",
                                                                                       lambda: None)())


def test_buffers_written_by_their_modules_init_and_writes_fastinit_does_not_route_count():
    with torch.device("meta"):
        lazy = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    lazy.to_empty(device="cpu")
    fi.init_module(lazy, seed=0)  # BatchNorm's reset writes its running stats
    assert (lazy[1].running_mean == 0).all() and (lazy[1].running_var == 1).all()
    assert int(lazy[1].num_batches_tracked) == 0

    class Writes(nn.Module):  # writes the routing sees (.data, eye_'s out=) and ones it does not (fastinit's own)
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = (nn.Parameter(torch.empty(3, 3)) for _ in range(3))

        def reset_parameters(self):
            self.a.data.zero_()
            nn.init.eye_(self.b.data)  # torch.eye(out=), on a .data
            fi.normal_(self.c, seed=5)
    m = fi.init_module(Writes(), seed=0)
    assert (m.a == 0).all() and torch.equal(m.b, torch.eye(3))
    assert torch.equal(m.c, fi.normal_(torch.empty(3, 3), seed=5))

    class SetInConstructor(nn.Module):  # no init code of its own: its values are the constructor's
        def __init__(self):
            super().__init__()
            self.register_buffer("table", torch.arange(4.0))
            self.w = nn.Parameter(torch.full((2,), 3.0))

    class Parent(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.out = SetInConstructor(), nn.Linear(2, 2)

        def reset_parameters(self):
            pass
    m = fi.init_module(Parent(), seed=0)
    assert torch.equal(m.inner.table, torch.arange(4.0)) and (m.inner.w == 3).all()


def test_unmaterialized_lazy_modules_are_skipped_as_pytorch_skips_them():
    net = nn.Sequential(nn.LazyLinear(3), nn.Linear(3, 2))
    fi.init_module(net, seed=0)
    assert isinstance(net[0].weight, nn.parameter.UninitializedParameter)
    assert torch.equal(net[1].weight, fi.kaiming_uniform_(torch.empty(2, 3), a=5 ** 0.5, seed=0, stream=S("1.weight")))


# ---------------------------------------------------------------- drop-in argument types

@pytest.mark.parametrize("name, numbers", [
    ("uniform_", dict(a=-1.0, b=2.0)), ("normal_", dict(mean=0.5, std=2.0)),
    ("trunc_normal_", dict(mean=0.0, std=1.0, a=-1.0, b=1.5)), ("xavier_uniform_", dict(gain=2.0)),
    ("xavier_normal_", dict(gain=2.0)), ("orthogonal_", dict(gain=2.0)),
])
def test_zero_dim_tensors_are_numbers_as_in_torch_nn_init(name, numbers):
    tensors = {k: torch.tensor(v) for k, v in numbers.items()}
    getattr(nn.init, name)(torch.empty(4, 5), **tensors)  # PyTorch takes them
    got = getattr(fi, name)(torch.empty(4, 5), seed=1, **tensors)
    assert torch.equal(got, getattr(fi, name)(torch.empty(4, 5), seed=1, **numbers))


def test_wrong_generator_and_torch_functions_in_fill_block_are_type_errors():
    with pytest.raises(TypeError, match="generator' must be torch.Generator, not int") as theirs:
        nn.init.normal_(torch.empty(3), generator=5)
    with pytest.raises(TypeError, match="generator' must be torch.Generator, not int") as ours:
        fi.normal_(torch.empty(3), generator=5)
    assert str(theirs.value).endswith(str(ours.value).split("argument ")[-1])
    with pytest.raises(TypeError, match=r"fastinit.torch.normal_\), got torch.nn.init.normal_"):
        fi.fill_block(nn.init.normal_, torch.empty(2, 3), (4, 3), (0, 0))


def test_compiled_module_gets_the_plain_modules_values():
    plain = fi.init_module(nn.Sequential(nn.Linear(4, 4), nn.Embedding(9, 4, padding_idx=0)), seed=6)
    compiled = torch.compile(nn.Sequential(nn.Linear(4, 4), nn.Embedding(9, 4, padding_idx=0)))
    fi.init_module(compiled, seed=6, skip=["_orig_mod.0.bias"])
    got = compiled._orig_mod.state_dict()
    for name, v in plain.state_dict().items():
        assert torch.equal(got[name], v) or name == "0.bias", name


# ---------------------------------------------------------------- no values from PyTorch's generator

class _Writes(nn.Module):
    def __init__(self, write):
        super().__init__()
        self.w = nn.Parameter(torch.empty(6, 4))
        self.write = write

    def reset_parameters(self):
        self.write(self.w)


@pytest.mark.parametrize("op, write", [
    ("torch.normal", lambda w: torch.normal(0.0, 1.0, (6, 4), out=w.data)),
    ("torch.rand", lambda w: torch.rand(6, 4, out=w.data)),
    ("torch.randn", lambda w: torch.randn(6, 4, out=w.data)),
    ("torch.randint", lambda w: torch.randint(0, 5, (6, 4), out=w.data)),
    ("Tensor.random_", lambda w: w.data.random_()),
    ("Tensor.bernoulli_", lambda w: w.data.bernoulli_(0.5)),
    ("Tensor.exponential_", lambda w: w.data.exponential_()),
    ("nn.init.sparse_", lambda w: nn.init.sparse_(w, 0.5)),
])
def test_random_writes_fastinit_cannot_place_are_refused(op, write):
    with pytest.raises(NotImplementedError, match=rf"{op}.*'w'|'w'.*"):
        fi.init_module(_Writes(write), seed=0)


def test_interleaved_parameters_are_placed_exactly_or_refused():
    class Interleaved(nn.Module):
        def __init__(self):
            super().__init__()
            base = torch.empty(8, 2)
            self.even = nn.Parameter(base[:, 0])
            self.odd = nn.Parameter(base[:, 1])

        def reset_parameters(self):
            nn.init.normal_(self.even.data[2:6])  # inside even: its positions 2..5
            nn.init.zeros_(self.odd)
    m = fi.init_module(Interleaved(), seed=2)
    np.testing.assert_array_equal(m.even.detach().numpy()[2:6],
                                  fi.normal_(torch.empty(8), seed=2, stream=S("even")).numpy()[2:6])
    assert (m.odd == 0).all()

    class Straddle(Interleaved):
        def reset_parameters(self):
            nn.init.normal_(self.even.data.as_strided((2, 2), (1, 1)))  # even[0], odd[0], odd[0], even[1]...
    with pytest.raises(NotImplementedError, match="shares storage with the parameter"):
        fi.init_module(Straddle(), seed=2)

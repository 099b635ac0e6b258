"""fastinit.torch.init_module / initializing: each module's own init code with
its random fills routed through fastinit. PyTorch's (and Hugging Face's)
distribution per parameter (KS against the library's own init, fixed seeds),
bits that depend only on (seed, name, position), views, skip, meta."""
import inspect
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")
import fastinit  # noqa: E402
import fastinit.torch as fi  # noqa: E402
from torch import nn  # noqa: E402

KS_P_MIN = 1e-3  # fixed seeds: a failure is a real mismatch, not bad luck

# One small instance of every torch.nn module type that has parameters.
CASES = {
    "Linear": lambda: nn.Linear(64, 48),
    "Bilinear": lambda: nn.Bilinear(20, 24, 16),
    "Conv1d": lambda: nn.Conv1d(8, 16, 5),
    "Conv2d": lambda: nn.Conv2d(4, 16, 3),
    "Conv3d": lambda: nn.Conv3d(2, 8, 3),
    "ConvTranspose1d": lambda: nn.ConvTranspose1d(8, 16, 5),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(4, 16, 3, groups=2),
    "ConvTranspose3d": lambda: nn.ConvTranspose3d(2, 8, 3),
    "Embedding": lambda: nn.Embedding(100, 16, padding_idx=3),
    "EmbeddingBag": lambda: nn.EmbeddingBag(100, 16, padding_idx=0),
    "RNN": lambda: nn.RNN(16, 32),
    "LSTM": lambda: nn.LSTM(16, 32, proj_size=8),
    "GRU": lambda: nn.GRU(16, 32, bidirectional=True),
    "RNNCell": lambda: nn.RNNCell(16, 32),
    "LSTMCell": lambda: nn.LSTMCell(16, 32),
    "GRUCell": lambda: nn.GRUCell(16, 32),
    "MultiheadAttention": lambda: nn.MultiheadAttention(32, 4, kdim=16, vdim=24, add_bias_kv=True),
    "Transformer": lambda: nn.Transformer(32, 4, 1, 1, 64, batch_first=True),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(32, 4, 64),
    "TransformerDecoderLayer": lambda: nn.TransformerDecoderLayer(32, 4, 64),
    "TransformerEncoder": lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64), 2,
                                                        enable_nested_tensor=False),
    "TransformerDecoder": lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(32, 4, 64), 2),
    "LayerNorm": lambda: nn.LayerNorm(32),
    "GroupNorm": lambda: nn.GroupNorm(4, 32),
    "BatchNorm1d": lambda: nn.BatchNorm1d(16),
    "BatchNorm2d": lambda: nn.BatchNorm2d(16),
    "BatchNorm3d": lambda: nn.BatchNorm3d(16),
    "SyncBatchNorm": lambda: nn.SyncBatchNorm(16),
    "InstanceNorm1d": lambda: nn.InstanceNorm1d(16, affine=True),
    "InstanceNorm2d": lambda: nn.InstanceNorm2d(16, affine=True),
    "InstanceNorm3d": lambda: nn.InstanceNorm3d(16, affine=True),
    "RMSNorm": lambda: nn.RMSNorm(32),
    "PReLU": lambda: nn.PReLU(8),
    "AdaptiveLogSoftmaxWithLoss": lambda: nn.AdaptiveLogSoftmaxWithLoss(32, 40, [10, 20]),
    "LinearCrossEntropyLoss": lambda: nn.LinearCrossEntropyLoss(32, 40),
}
# torch.nn types that need constructor arguments and have no parameters (or
# are bases of types above)
NO_PARAMETERS = {
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "ChannelShuffle", "CircularPad1d",
    "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "CrossMapLRN2d",
    "DataParallel", "Fold", "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
    "LocalResponseNorm", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "PixelShuffle", "PixelUnshuffle", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "Threshold", "Unflatten", "Unfold",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "RNNBase", "RNNCellBase",
}


def test_every_torch_nn_type_with_parameters_is_covered():
    """A torch release that adds a module type with parameters fails here
    until CASES has it."""
    uncovered = []
    for name in dir(nn):
        cls = getattr(nn, name)
        if not (inspect.isclass(cls) and issubclass(cls, nn.Module)) or name.startswith("_") or "Lazy" in name:
            continue
        if name in CASES or name in NO_PARAMETERS:
            continue
        try:
            with warnings.catch_warnings():  # deprecated types warn when built
                warnings.simplefilter("ignore")
                module = cls()
        except TypeError:
            uncovered.append(name)
            continue
        if list(module.parameters()):
            uncovered.append(name)
    assert not uncovered


def _assert_same_distribution(ours, theirs, name):
    ours, theirs = ours.detach().double().flatten(), theirs.detach().double().flatten()
    if theirs.min() == theirs.max():  # a constant (ones, zeros, 0.25): exactly that
        assert torch.equal(ours, theirs), name
    else:
        assert stats.ks_2samp(ours.numpy(), theirs.numpy()).pvalue > KS_P_MIN, name
        assert ours.std() > 0, name


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_parameter_has_pytorchs_default_distribution(case):
    torch.manual_seed(0)
    theirs = CASES[case]()  # PyTorch's own init, in the constructor
    ours = CASES[case]()
    fi.init_module(ours, seed=7)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _assert_same_distribution(p, q, name)
    for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert torch.equal(b, c), name  # running stats: reset, not drawn


def test_many_samples_of_each_default_rule():
    """The few rules behind all types, on enough samples for KS to see a
    wrong bound or std: Linear/Conv (kaiming_uniform a=sqrt(5), bias
    1/sqrt(fan_in)), RNN U(-1/sqrt(h), 1/sqrt(h)), Embedding N(0, 1), MHA
    xavier_uniform, Bilinear U(-1/sqrt(in1))."""
    def build():
        return nn.ModuleDict({"linear": nn.Linear(300, 200), "conv": nn.Conv2d(30, 40, 5), "rnn": nn.GRU(100, 100),
                              "embed": nn.Embedding(2000, 50), "mha": nn.MultiheadAttention(100, 4),
                              "bilinear": nn.Bilinear(40, 50, 30)})
    torch.manual_seed(0)
    theirs = build()
    ours = fi.init_module(build(), seed=3)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _assert_same_distribution(p, q, name)


def test_values_are_fastinit_streams_of_the_parameter_names():
    net = nn.ModuleDict({"rnn": nn.LSTM(8, 16), "mha": nn.MultiheadAttention(16, 2)})
    fi.init_module(net, seed=9)
    bound = 1 / math.sqrt(16)
    want = fastinit.uniform((64, 8), 9, -bound, bound, stream=fi.stable_stream("rnn.weight_ih_l0"))
    np.testing.assert_array_equal(net["rnn"].weight_ih_l0.detach().numpy(), want)
    want = fi.xavier_uniform_(torch.empty(48, 16), seed=9, stream=fi.stable_stream("mha.in_proj_weight"))
    assert torch.equal(net["mha"].in_proj_weight, want)
    assert (net["mha"].out_proj.bias == 0).all()  # MHA's reset runs after its out_proj's, as in PyTorch


class Custom(nn.Module):
    """Third-party style: views, .data, chunks, orthogonal_, trunc_normal_
    on both of PyTorch's paths, a Tensor method."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Parameter(torch.empty(12, 8))
        self.rot = nn.Parameter(torch.empty(6, 10))
        self.wide = nn.Parameter(torch.empty(400))  # trunc_normal_ window of mass > 0.3: normal_ then reject
        self.narrow = nn.Parameter(torch.empty(400))  # mass < 0.3: uniform_ then accept/reject
        self.scale = nn.Parameter(torch.empty(5))
        self.reset_parameters()

    def reset_parameters(self):
        for part in self.qkv.data.chunk(3):
            nn.init.xavier_normal_(part)
        nn.init.orthogonal_(self.rot, gain=2.0)
        nn.init.trunc_normal_(self.wide, std=0.02, a=-0.04, b=0.04)
        nn.init.trunc_normal_(self.narrow, mean=0.2, std=0.1, a=0.35, b=0.5)
        self.scale.data.uniform_(2.0, 3.0)


def test_views_data_orthogonal_and_trunc_normal_are_routed():
    torch.manual_seed(0)
    a = fi.init_module(Custom(), seed=4)
    torch.manual_seed(1)
    b = fi.init_module(Custom(), seed=4)
    for name, p in a.named_parameters():
        assert torch.equal(p, getattr(b, name)), name  # not PyTorch's generator
    key = dict(seed=4)
    # each chunk: its own xavier std, the values at the chunk's positions of the parameter's stream
    std = math.sqrt(2 / (4 + 8))
    whole = fastinit.normal((12, 8), 4, 0.0, std, stream=fi.stable_stream("qkv"))
    np.testing.assert_array_equal(a.qkv.detach().numpy(), whole)
    assert torch.equal(a.wide, fi.trunc_normal_(torch.empty(400), std=0.02, a=-0.04, b=0.04,
                                                stream=fi.stable_stream("wide"), **key))
    assert torch.equal(a.narrow, fi.trunc_normal_(torch.empty(400), mean=0.2, std=0.1, a=0.35, b=0.5,
                                                  stream=fi.stable_stream("narrow"), **key))
    assert torch.equal(a.scale, fi.uniform_(torch.empty(5), 2.0, 3.0, stream=fi.stable_stream("scale"), **key))
    torch.testing.assert_close(a.rot @ a.rot.T, 4 * torch.eye(6), atol=1e-5, rtol=0)


def test_a_view_fill_equals_the_block_of_the_whole_fill():
    class Halves(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(6, 10))

        def reset_parameters(self):
            nn.init.normal_(self.w[:, 3:7].T, 1.0, 2.0)  # a transposed, strided view
            self.w[:, :3].zero_()
    m = fi.init_module(Halves(), seed=2)
    whole = fastinit.normal((6, 10), 2, 1.0, 2.0, stream=fi.stable_stream("w"))
    np.testing.assert_array_equal(m.w.detach().numpy()[:, 3:7], whole[:, 3:7])
    assert (m.w[:, :3] == 0).all()


def test_orthogonal_blocks_of_one_parameter_differ():
    """An RNN-style init (orthogonal_ per gate block) gives each block the
    values at its own positions, not one matrix repeated."""
    class Gates(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(6, 4))

        def reset_parameters(self):
            for block in self.w.chunk(3):
                nn.init.orthogonal_(block)
    w = fi.init_module(Gates(), seed=3).w.detach()
    blocks = w.chunk(3)
    for block in blocks:
        torch.testing.assert_close(block @ block.T, torch.eye(2), atol=1e-5, rtol=0)
    assert not torch.equal(blocks[0], blocks[1]) and not torch.equal(blocks[1], blocks[2])


def test_skip_leaves_named_parameters_untouched():
    net = nn.Sequential(nn.Embedding(20, 4, padding_idx=0), nn.Linear(4, 4))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(7.0)
    fi.init_module(net, seed=0, skip=["0.weight", "1.bias"])
    assert (net[0].weight == 7).all() and (net[1].bias == 7).all()  # padding row too: not written at all
    assert not (net[1].weight == 7).any()
    with pytest.raises(ValueError, match=r"skip names parameters the module does not have: \['2.weight'\]"):
        fi.init_module(net, seed=0, skip=["2.weight"])
    with pytest.raises(TypeError, match="skip must be a collection"):
        fi.init_module(net, seed=0, skip="0.weight")


def test_unsupported_random_method_on_a_parameter_is_an_error():
    class Coin(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = nn.Parameter(torch.empty(4))

        def reset_parameters(self):
            self.mask.data.bernoulli_(0.5)
    with pytest.raises(NotImplementedError, match="Tensor.bernoulli_ on parameter 'mask'"):
        fi.init_module(Coin(), seed=0)


def test_meta_model_is_left_alone():
    with torch.device("meta"):
        net = nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4))
    assert fi.init_module(net, seed=0) is net
    assert net[0].weight.is_meta


def test_initializing_equals_init_module():
    def build():
        return nn.Sequential(nn.Linear(16, 8), nn.Embedding(10, 8, padding_idx=2), nn.TransformerEncoderLayer(8, 2, 16),
                             nn.BatchNorm1d(8), Custom())
    torch.manual_seed(0)
    with fi.initializing(seed=5):
        built = build()
    torch.manual_seed(1)
    later = fi.init_module(build(), seed=5)
    for (name, v), (_, w) in zip(built.state_dict().items(), later.state_dict().items()):
        assert torch.equal(v, w), name


def test_initializing_routes_init_code_in_constructors():
    class InitInConstructor(nn.Module):  # no reset_parameters: init_module cannot reach it
        def __init__(self):
            super().__init__()
            self.table = nn.Parameter(torch.empty(30, 4))
            nn.init.normal_(self.table, std=0.02)
            self.table.data[0] = 0
    with fi.initializing(seed=1):
        net = nn.Sequential(nn.Linear(4, 4), InitInConstructor())
    want = fi.normal_(torch.empty(30, 4), 0.0, 0.02, seed=1, stream=fi.stable_stream("1.table"))
    want[0] = 0
    assert torch.equal(net[1].table, want)
    with pytest.raises(ValueError, match="build one model per block, got 2"):
        with fi.initializing(seed=1):
            nn.Linear(2, 2), nn.Linear(2, 2)


# ---------------------------------------------------------------- Hugging Face

def _tiny_llama_config():
    transformers = pytest.importorskip("transformers")
    return transformers, transformers.LlamaConfig(
        vocab_size=200, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, tie_word_embeddings=True)


def test_hugging_face_model_through_its_own_init_code():
    """A tiny Llama from a local config (no download): each parameter has the
    library's distribution (N(0, 0.02) for Linear/Embedding, ones for
    RMSNorm), and the model built on meta then to_empty and init_module'd
    equals the one built eagerly under initializing(), bit for bit."""
    transformers, config = _tiny_llama_config()
    torch.manual_seed(0)
    theirs = transformers.LlamaForCausalLM(config)
    with fi.initializing(seed=11):
        eager = transformers.LlamaForCausalLM(config)
    with torch.device("meta"):
        lazy = transformers.LlamaForCausalLM(config)
    lazy.to_empty(device="cpu")
    lazy.tie_weights()  # to_empty unties: Hugging Face's own step after it
    fi.init_module(lazy, seed=11, init_fn=lazy._init_weights)
    assert lazy.lm_head.weight is lazy.model.embed_tokens.weight
    ours, reference, built = lazy.state_dict(), theirs.state_dict(), eager.state_dict()
    assert ours.keys() == reference.keys() == built.keys()
    for name in ours:
        _assert_same_distribution(ours[name], reference[name], name)
        assert torch.equal(ours[name], built[name]), name
    assert (ours["model.embed_tokens.weight"][0] == 0).all()  # the padding row


# ---------------------------------------------------------------- construction order, meta, defaults

class TwoLayers(nn.Module):
    def __init__(self, order):
        super().__init__()
        parts = {"encoder": lambda: nn.Linear(16, 32), "head": lambda: nn.Linear(32, 4),
                 "embed": lambda: nn.Embedding(50, 16, padding_idx=1), "norm": lambda: nn.LayerNorm(32),
                 "conv": lambda: nn.Conv2d(3, 8, 3), "bn": lambda: nn.BatchNorm2d(8)}
        for name in order:
            setattr(self, name, parts[name]())


ORDER = ["embed", "encoder", "norm", "head", "conv", "bn"]


def test_init_module_independent_of_construction_order():
    torch.manual_seed(0)
    a = fi.init_module(TwoLayers(ORDER), seed=42)
    torch.manual_seed(1)
    b = fi.init_module(TwoLayers(ORDER[::-1]), seed=42)
    assert list(a.state_dict()) != list(b.state_dict())
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    assert not torch.equal(fi.init_module(TwoLayers(ORDER), seed=43).encoder.weight, a.encoder.weight)


class Tied(nn.Module):
    def __init__(self, head_first):
        super().__init__()
        if head_first:
            self.head = nn.Linear(16, 50, bias=False)
            self.embed = nn.Embedding(50, 16)
        else:
            self.embed = nn.Embedding(50, 16)
            self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.embed.weight


def test_init_module_tied_weights_independent_of_order():
    a = fi.init_module(Tied(True), seed=1)
    b = fi.init_module(Tied(False), seed=1)
    assert a.head.weight is a.embed.weight
    assert torch.equal(a.embed.weight, b.embed.weight)


def test_init_module_on_meta_then_to_empty():
    with torch.device("meta"):
        meta = TwoLayers(ORDER)
    meta.to_empty(device="cpu")
    fi.init_module(meta, seed=42)
    ref = fi.init_module(TwoLayers(ORDER), seed=42)
    for (k, v), (_, w) in zip(meta.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(v, w), k


def test_init_module_default_rules_follow_pytorch():
    m = fi.init_module(TwoLayers(ORDER), seed=5)
    w = m.encoder.weight
    assert torch.equal(w, fi.kaiming_uniform_(torch.empty(32, 16), a=math.sqrt(5),
                                              seed=5, stream=fi.stable_stream("encoder.weight")))
    assert float(m.encoder.bias.detach().abs().max()) < 1 / math.sqrt(16)
    assert torch.equal(m.conv.bias, fi.uniform_(torch.empty(8), -1 / math.sqrt(27), 1 / math.sqrt(27),
                                                seed=5, stream=fi.stable_stream("conv.bias")))
    assert (m.embed.weight[1] == 0).all() and float(m.embed.weight.detach().std()) > 0.9
    assert (m.norm.weight == 1).all() and (m.norm.bias == 0).all()
    assert (m.bn.running_var == 1).all() and (m.bn.running_mean == 0).all()
    assert int(m.bn.num_batches_tracked) == 0


def test_stable_stream_is_sha256():
    assert fi.stable_stream("encoder.weight") == int.from_bytes(
        __import__("hashlib").sha256(b"encoder.weight").digest()[:8], "little")


class OwnParameter(nn.Module):
    """Parameters of its own and no reset_parameters()."""
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.empty(3))


def test_init_module_init_fn_and_missing_init():
    net = nn.Sequential(nn.Linear(4, 3), OwnParameter())
    before = net[0].weight.clone()
    with pytest.raises(ValueError, match="module '1' of type OwnParameter has parameters \\['scale'\\]"):
        fi.init_module(net, seed=0)
    assert torch.equal(before, net[0].weight)  # nothing written before the error

    def glorot_zero_bias(module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        if isinstance(module, OwnParameter):
            nn.init.normal_(module.scale, std=0.5)

    fi.init_module(net, seed=0, init_fn=glorot_zero_bias)
    assert torch.equal(net[0].weight, fi.xavier_uniform_(torch.empty(3, 4), seed=0, stream=fi.stable_stream("0.weight")))
    assert (net[0].bias == 0).all()
    assert torch.equal(net[1].scale, fi.normal_(torch.empty(3), 0, 0.5, seed=0, stream=fi.stable_stream("1.scale")))
    with pytest.raises(TypeError, match="init_fn must be a callable"):
        fi.init_module(net, seed=0, init_fn=[glorot_zero_bias])

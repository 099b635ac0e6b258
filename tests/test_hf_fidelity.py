"""Hugging Face fidelity: tiny models of several architectures (encoder,
decoder, encoder-decoder, vision, mixture of experts; tied and untied) built
from local configs (no download): ten of them. With ``init_module(m, s,
init_fn=m._init_weights)`` every parameter Hugging Face sets to a constant is
bit-equal to Hugging Face's own init, every random one has its distribution
(two-sample KS against Hugging Face's values, fixed seeds), padding rows are
zero, ties hold, two builds are bit-equal, and a model built on meta,
materialized with to_empty and re-tied with tie_weights() equals it."""
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
stats = pytest.importorskip("scipy.stats")
import fastinit.torch as fi  # noqa: E402

KS_P_MIN = 1e-3  # fixed seeds: a failure is a real mismatch, not bad luck
SEED = 7
T = transformers
SMALL = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48)

MODELS = {
    "bert-mlm (encoder, tied)": lambda: T.BertForMaskedLM(T.BertConfig(vocab_size=120, pad_token_id=1, **SMALL)),
    "gpt2 (decoder, tied)": lambda: T.GPT2LMHeadModel(T.GPT2Config(vocab_size=120, n_embd=32, n_layer=1, n_head=2,
                                                                   n_positions=32)),
    "llama (decoder, untied)": lambda: T.LlamaForCausalLM(T.LlamaConfig(
        vocab_size=120, num_key_value_heads=1, pad_token_id=0, tie_word_embeddings=False, **SMALL)),
    "t5 (encoder-decoder, tied)": lambda: T.T5ForConditionalGeneration(T.T5Config(
        vocab_size=120, d_model=32, d_kv=16, d_ff=48, num_layers=1, num_heads=2, pad_token_id=0)),
    "bart (encoder-decoder)": lambda: T.BartForConditionalGeneration(T.BartConfig(
        vocab_size=120, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=32,
        pad_token_id=1)),
    "vit (vision)": lambda: T.ViTForImageClassification(T.ViTConfig(image_size=16, patch_size=4, num_labels=5,
                                                                   **SMALL)),
    "mixtral (mixture of experts)": lambda: T.MixtralForCausalLM(T.MixtralConfig(
        vocab_size=120, num_key_value_heads=1, num_local_experts=4, num_experts_per_tok=2, **SMALL)),
    "qwen2 (decoder, tied)": lambda: T.Qwen2ForCausalLM(T.Qwen2Config(
        vocab_size=120, num_key_value_heads=1, tie_word_embeddings=True, pad_token_id=0, **SMALL)),
    "qwen2-moe (mixture of experts, shared expert)": lambda: T.Qwen2MoeForCausalLM(T.Qwen2MoeConfig(
        vocab_size=120, num_key_value_heads=1, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
        shared_expert_intermediate_size=24, **SMALL)),
    "resnet (vision, convolutions, batch norm)": lambda: T.ResNetForImageClassification(T.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=5)),
}


def _build(make, seed=0):
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def _ours(make, seed=SEED):
    model = _build(make, seed=1)
    return fi.init_module(model, seed, init_fn=model._init_weights)


def _padding(model):
    """(weight, padding_idx) of every embedding with a padding row."""
    return [(m.weight, m.padding_idx) for m in model.modules()
            if isinstance(m, torch.nn.Embedding) and m.padding_idx is not None]


@pytest.mark.parametrize("arch", MODELS)
def test_hugging_face_init_through_fastinit(arch):
    make = MODELS[arch]
    theirs, ours = _build(make), _ours(make)
    reference = dict(theirs.named_parameters(remove_duplicate=False))
    for name, p in ours.named_parameters(remove_duplicate=False):
        want = reference[name].detach().flatten()
        got = p.detach().flatten()
        if (want == want[0]).all():  # Hugging Face sets a constant
            assert torch.equal(got, want), name
        elif want.numel() >= 50:
            assert stats.ks_2samp(got.double().numpy(), want.double().numpy()).pvalue > KS_P_MIN, name
    theirs_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():  # running stats, position ids, rotary frequencies: Hugging Face's
        assert torch.equal(b, theirs_buffers[name]), name
    for weight, idx in _padding(ours):
        assert (weight[idx] == 0).all()
    # ties: the same tensors shared as in Hugging Face's model
    def shared(model):
        by_id = {}
        for name, p in model.named_parameters(remove_duplicate=False):
            by_id.setdefault(id(p), []).append(name)
        return sorted(sorted(v) for v in by_id.values() if len(v) > 1)
    assert shared(ours) == shared(theirs)
    # two builds bit-equal; meta + to_empty + tie_weights() equals the eager build
    again = _ours(make)
    with torch.device("meta"):
        lazy = _build(make)
    lazy.to_empty(device="cpu")
    lazy.tie_weights()
    fi.init_module(lazy, SEED, init_fn=lazy._init_weights)
    assert shared(lazy) == shared(theirs)
    lazy_tensors = dict(lazy.named_parameters(remove_duplicate=False), **dict(lazy.named_buffers()))
    again_tensors = dict(again.named_parameters(remove_duplicate=False), **dict(again.named_buffers()))
    for name, p in [*ours.named_parameters(remove_duplicate=False), *ours.named_buffers()]:
        assert torch.equal(p, again_tensors[name]), name
        assert torch.equal(p, lazy_tensors[name]), name

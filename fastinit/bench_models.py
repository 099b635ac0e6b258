"""Whole-model benchmark: every parameter of BERT-base and ResNet-50, written
out here (no downloads), each with the initializer its reference
implementation uses, initialized by each contender; the figure is the total
time per model.

* BERT-base (uncased ``BertModel`` of Hugging Face transformers: vocabulary
  30522, hidden 768, 12 layers, intermediate 3072, 512 positions, 2 token
  types, pooler): Linear and Embedding weights N(0, 0.02^2); biases and
  LayerNorm beta zeros, LayerNorm gamma ones. 109,482,240 parameters.
* ResNet-50 (torchvision ``resnet50``): convolutions
  ``kaiming_normal_(mode="fan_out", nonlinearity="relu")``, BatchNorm gamma
  ones and beta zeros, the classifier ``nn.Linear(2048, 1000)``'s own reset
  (weight ``kaiming_uniform_(a=sqrt(5))`` = U(+-1/sqrt(fan_in)), bias
  U(+-1/sqrt(fan_in))). 25,557,032 parameters.

Shapes are PyTorch's ``(out, in, *kernel)``. Contenders (float32, fresh
arrays, as when a model is built): fastinit with its default threads and
with one thread (one stream per parameter), the NumPy recipe (one
``default_rng`` for the model), and ``torch.nn.init`` on ``torch.empty``
tensors when torch is installed; the memory floor is ``np.ones`` of every
parameter (allocating and writing the memory, page faults included).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import fastinit
from fastinit import _spec
from fastinit._prepare import prepare

SEED = 12345


@dataclass(frozen=True)
class Param:
    name: str
    shape: tuple
    init: str  # a key of the contenders' recipe tables below
    fan_in: int = 0  # "linear_bias": the fan_in of the layer's weight


def _bert_base():
    hidden, inter, layers = 768, 3072, 12
    params = [Param("embeddings.word_embeddings.weight", (30522, hidden), "normal_0.02"),
              Param("embeddings.position_embeddings.weight", (512, hidden), "normal_0.02"),
              Param("embeddings.token_type_embeddings.weight", (2, hidden), "normal_0.02"),
              Param("embeddings.LayerNorm.weight", (hidden,), "ones"),
              Param("embeddings.LayerNorm.bias", (hidden,), "zeros")]

    def dense(name, n_out, n_in):
        return [Param(f"{name}.weight", (n_out, n_in), "normal_0.02"), Param(f"{name}.bias", (n_out,), "zeros")]

    def layer_norm(name):
        return [Param(f"{name}.weight", (hidden,), "ones"), Param(f"{name}.bias", (hidden,), "zeros")]

    for i in range(layers):
        p = f"encoder.layer.{i}"
        for q in ("query", "key", "value"):
            params += dense(f"{p}.attention.self.{q}", hidden, hidden)
        params += dense(f"{p}.attention.output.dense", hidden, hidden) + layer_norm(f"{p}.attention.output.LayerNorm")
        params += dense(f"{p}.intermediate.dense", inter, hidden)
        params += dense(f"{p}.output.dense", hidden, inter) + layer_norm(f"{p}.output.LayerNorm")
    return params + dense("pooler.dense", hidden, hidden)


def _resnet50():
    def conv_bn(name, n_out, n_in, k):
        return [Param(f"{name}.weight", (n_out, n_in, k, k), "kaiming_normal_fan_out_relu"),
                Param(f"{name.replace('conv', 'bn')}.weight", (n_out,), "ones"),
                Param(f"{name.replace('conv', 'bn')}.bias", (n_out,), "zeros")]

    params = conv_bn("conv1", 64, 3, 7)
    channels = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=1):
        for b in range(blocks):
            p = f"layer{stage}.{b}"
            params += conv_bn(f"{p}.conv1", width, channels, 1)
            params += conv_bn(f"{p}.conv2", width, width, 3)
            params += conv_bn(f"{p}.conv3", 4 * width, width, 1)
            if b == 0:  # the downsample branch: a 1x1 conv and its BatchNorm
                params += [Param(f"{p}.downsample.0.weight", (4 * width, channels, 1, 1),
                                 "kaiming_normal_fan_out_relu"),
                           Param(f"{p}.downsample.1.weight", (4 * width,), "ones"),
                           Param(f"{p}.downsample.1.bias", (4 * width,), "zeros")]
            channels = 4 * width
    return params + [Param("fc.weight", (1000, channels), "linear_weight"),
                     Param("fc.bias", (1000,), "linear_bias", fan_in=channels)]


MODELS = {"bert-base": _bert_base(), "resnet50": _resnet50()}


def n_params(model: str) -> int:
    return sum(math.prod(p.shape) for p in MODELS[model])


def _fastinit_recipes(threads):
    def he_fan_out(p, seed, stream):
        return fastinit.kaiming_normal(p.shape, seed, mode="fan_out", layout="torch", stream=stream, threads=threads)

    def linear_weight(p, seed, stream):
        # a is used by leaky_relu only (fastinit defaults to relu; PyTorch to leaky_relu)
        return fastinit.kaiming_uniform(p.shape, seed, a=math.sqrt(5), nonlinearity="leaky_relu", layout="torch",
                                        stream=stream, threads=threads)

    def linear_bias(p, seed, stream):
        bound = 1 / math.sqrt(p.fan_in)
        return fastinit.uniform(p.shape, seed, -bound, bound, stream=stream, threads=threads)

    return {"normal_0.02": lambda p, seed, stream: fastinit.normal(p.shape, seed, std=0.02, stream=stream,
                                                                   threads=threads),
            "kaiming_normal_fan_out_relu": he_fan_out, "linear_weight": linear_weight, "linear_bias": linear_bias,
            "zeros": lambda p, seed, stream: np.zeros(p.shape, np.float32),
            "ones": lambda p, seed, stream: np.ones(p.shape, np.float32)}


def _init_fastinit(threads):
    recipes = _fastinit_recipes(threads)

    def init(params, seed=SEED):
        return [recipes[p.init](p, seed, stream) for stream, p in enumerate(params)]
    return init


def spec_parameter(name: str, shape, **options) -> float:
    """The std (normal) or the bound (uniform) of initializer name for shape,
    from fastinit's spec: the parameter the NumPy recipes draw with."""
    dist = prepare(name, shape, **options).distribution
    return dist.high if isinstance(dist, _spec.Uniform) else dist.std


def _numpy_uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _numpy_normal(rng, std, shape):
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)


NUMPY_RECIPES = {
    "normal_0.02": lambda rng, p: _numpy_normal(rng, 0.02, p.shape),
    "kaiming_normal_fan_out_relu": lambda rng, p: _numpy_normal(
        rng, spec_parameter("kaiming_normal", p.shape, mode="fan_out", layout="torch"), p.shape),
    "linear_weight": lambda rng, p: _numpy_uniform(
        rng, spec_parameter("kaiming_uniform", p.shape, a=math.sqrt(5), nonlinearity="leaky_relu", layout="torch"),
        p.shape),
    "linear_bias": lambda rng, p: _numpy_uniform(rng, 1 / math.sqrt(p.fan_in), p.shape),
    "zeros": lambda rng, p: np.zeros(p.shape, np.float32),
    "ones": lambda rng, p: np.ones(p.shape, np.float32),
}


def _init_numpy(params, seed=SEED):
    rng = np.random.default_rng(seed)
    return [NUMPY_RECIPES[p.init](rng, p) for p in params]


def _init_torch(params, seed=SEED):
    import torch
    from torch.nn import init

    recipes = {"normal_0.02": lambda t, p: init.normal_(t, 0.0, 0.02),
               "kaiming_normal_fan_out_relu": lambda t, p: init.kaiming_normal_(t, mode="fan_out",
                                                                                nonlinearity="relu"),
               "linear_weight": lambda t, p: init.kaiming_uniform_(t, a=math.sqrt(5)),
               "linear_bias": lambda t, p: init.uniform_(t, -1 / math.sqrt(p.fan_in), 1 / math.sqrt(p.fan_in)),
               "zeros": lambda t, p: init.zeros_(t),
               "ones": lambda t, p: init.ones_(t)}
    torch.manual_seed(seed)
    with torch.no_grad():
        return [recipes[p.init](torch.empty(p.shape), p) for p in params]


def _memory_floor(params, seed=SEED):
    """What merely allocating and writing every parameter costs."""
    return [np.ones(p.shape, np.float32) for p in params]


# name -> (init(params, seed) -> list of arrays/tensors, module it needs or None)
CONTENDERS = {
    "fastinit": (_init_fastinit(None), None),
    "fastinit-1thread": (_init_fastinit(1), None),
    "numpy": (_init_numpy, None),
    "torch": (_init_torch, "torch"),
    "memory-floor": (_memory_floor, None),
}


def importable(module) -> bool:
    """True if module is None (nothing needed) or can be imported."""
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def available(contender: str) -> bool:
    return importable(CONTENDERS[contender][1])


def make_call(contender: str, model: str):
    """A zero-argument callable initializing every parameter of model."""
    init, params = CONTENDERS[contender][0], MODELS[model]
    return lambda: init(params)

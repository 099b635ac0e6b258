"""Case tables of the torch adapter's tests, shared by tests/test_torch.py
(against PyTorch and the core) and tests/test_torch_device.py (the device
kernels against the C backend)."""
import contextlib
import math

import numpy as np
import torch

import fastinit
import fastinit.torch as fi


def inplace_cases():
    """Tensors in the states PyTorch's in-place checks tell apart:
    name -> (tensor, run inside inference_mode)."""
    cases = {"leaf requiring grad": (torch.randn(4, 3, requires_grad=True), False),
             "non-leaf": (torch.randn(4, 3, requires_grad=True) * 2, False),
             "view of a leaf": (torch.randn(4, 3, requires_grad=True)[1:], False),
             "output of unbind": (torch.randn(2, 4, 3, requires_grad=True).mul(2).unbind(0)[1], False),
             "non-contiguous leaf": (torch.randn(3, 4, requires_grad=True).T, False),
             "normal tensor in inference_mode": (torch.empty(4, 3), True),
             "expanded (overlapping)": (torch.empty(1, 3).expand(4, 3), False)}
    with torch.no_grad():
        cases["view made under no_grad"] = (torch.randn(4, 3, requires_grad=True)[1:], False)
    with torch.inference_mode():
        cases["inference tensor outside inference_mode"] = (torch.empty(4, 3), False)
        cases["inference tensor in inference_mode"] = (torch.empty(4, 3), True)
    return cases


def inplace_outcome(fill, tensor, in_inference_mode):
    """What fill(tensor) did: refused (the message), or filled (whether the
    write was seen, the grad_fn after it)."""
    with torch.inference_mode() if in_inference_mode else contextlib.nullcontext():
        try:
            fill(tensor)
        except RuntimeError as e:
            return "refused", str(e)
    try:  # an in-place write into a multi-output view invalidates its grad_fn
        grad_fn = type(tensor.grad_fn).__name__
    except RuntimeError as e:
        grad_fn = str(e)
    return "filled", tensor.is_inference() or tensor._version > 0, grad_fn

# (description, fastinit.torch call, torch.nn.init call) on a fresh tensor
CONSTANT_CASES = [
    ("uniform_ a == b", lambda m, t: m.uniform_(t, 1.5, 1.5)),
    ("uniform_ a == b negative", lambda m, t: m.uniform_(t, -3.0, -3.0)),
    ("normal_ std 0", lambda m, t: m.normal_(t, 2.5, 0.0)),
    ("normal_ std 0 mean 0", lambda m, t: m.normal_(t, 0.0, 0.0)),
    ("trunc_normal_ a == b", lambda m, t: m.trunc_normal_(t, 0.0, 1.0, 0.5, 0.5)),
    ("trunc_normal_ a == b away from mean", lambda m, t: m.trunc_normal_(t, 0.0, 1.0, 1.25, 1.25)),
    ("xavier_uniform_ gain 0", lambda m, t: m.xavier_uniform_(t, gain=0)),
    ("xavier_normal_ gain 0", lambda m, t: m.xavier_normal_(t, gain=0.0)),
    ("orthogonal_ gain 0", lambda m, t: m.orthogonal_(t, gain=0)),
    ("zero-element xavier_uniform_", lambda m, t: m.xavier_uniform_(t[:0])),
    ("zero-element orthogonal_", lambda m, t: m.orthogonal_(t[:, :0])),
]

# (fastinit.torch function, kwargs, core function, core kwargs): the core call
# each function must equal bit for bit, for every function of the module
ADAPTER_CORE = [
    (fi.uniform_, dict(a=-0.5, b=2.0), fastinit.uniform, dict(low=-0.5, high=2.0)),
    (fi.normal_, dict(mean=1.0, std=0.5), fastinit.normal, dict(mean=1.0, std=0.5)),
    (fi.trunc_normal_, dict(mean=0.1, std=0.7, a=-0.5, b=1.0), fastinit.truncated_normal,
     dict(mean=0.1, std=0.7, a=-0.5, b=1.0)),
    (fi.xavier_uniform_, dict(gain=1.7), fastinit.glorot_uniform, dict(gain=1.7, layout="torch")),
    (fi.xavier_normal_, dict(gain=0.6), fastinit.glorot_normal, dict(gain=0.6, layout="torch")),
    (fi.kaiming_uniform_, dict(a=math.sqrt(5)), fastinit.he_uniform,
     dict(a=math.sqrt(5), nonlinearity="leaky_relu", layout="torch")),
    (fi.kaiming_normal_, dict(mode="fan_out", nonlinearity="tanh"), fastinit.he_normal,
     dict(mode="fan_out", nonlinearity="tanh", layout="torch")),
    (fi.lecun_uniform_, dict(), fastinit.lecun_uniform, dict(layout="torch")),
    (fi.lecun_normal_, dict(), fastinit.lecun_normal, dict(layout="torch")),
    (fi.orthogonal_, dict(gain=2.0), fastinit.orthogonal, dict(gain=2.0)),
]


def bf16_calls():
    """(function, kwargs) with bounds on both sides of bfloat16 values."""
    calls = [(case[0], case[1]) for case in ADAPTER_CORE]
    for low, high in ((0.0, 1.0), (-0.3, 0.3), (0.1, 0.30078125), (-1.0, -0.5), (1.0, 1.001), (1e-3, 1.0001e-3),
                      (-7.0, 3e4), (2.0, 2.0)):
        calls.append((fi.uniform_, dict(a=low, b=high)))
    for a, b in ((-0.3, 0.3), (0.30078125, 0.9), (-2.0, 2.0), (1.3, 1.32), (-np.inf, 0.1), (0.5, 0.5)):
        calls.append((fi.trunc_normal_, dict(mean=0.2, std=0.5, a=a, b=b)))
    return calls

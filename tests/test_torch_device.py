"""fastinit.torch on the device kernels (FASTINIT_TORCH_BACKEND=triton, the
whole adapter path on CPU tensors under Triton's interpreter, set here before
Triton is imported) equals the C backend bit for bit: every initializer x
every float dtype (the adapter's cases, tests/support/torch_cases.py),
strided tensors, fill_block blocks, bfloat16 with and without ml_dtypes,
PyTorch's constants, PyTorch's in-place checks, init_module; orthogonal_
within tolerance of LAPACK, its normal matrix bit for bit. The backend
choice itself (backend_for) and the import of Triton only when needed. The
interpreter runs ~1e5-1e6 values/s: small shapes."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

os.environ.setdefault("TRITON_INTERPRET", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

import fastinit.torch as fi  # noqa: E402
from fastinit import _torch_fill  # noqa: E402
from fastinit._prepare import prepare  # noqa: E402
from fastinit.device import launch  # noqa: E402
from support.torch_cases import ADAPTER_CORE, CONSTANT_CASES, bf16_calls, inplace_cases, inplace_outcome  # noqa: E402
from torch import nn  # noqa: E402

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
CASE_IDS = [c[0].__name__ + "-" + str(i) for i, c in enumerate(ADAPTER_CORE)]
# one case of each kernel (uniform, normal, truncated normal) and orthogonal
KERNEL_CASES = [c for c in ADAPTER_CORE if c[0] in (fi.kaiming_uniform_, fi.normal_, fi.trunc_normal_,
                                                     fi.orthogonal_)]


@pytest.fixture
def backend(monkeypatch):
    """backend(name): FASTINIT_TORCH_BACKEND for the next calls."""
    return lambda name: monkeypatch.setenv(_torch_fill.BACKEND_VARIABLE, name)


def _bits(t):
    t = t.detach().contiguous()
    return t.view({8: torch.int64, 4: torch.int32, 2: torch.int16}[t.element_size()])


def both(backend, make, fill):
    """fill(make()) on the C backend, then on the device kernels."""
    backend("c")
    want = fill(make())
    backend("triton")
    return fill(make()), want


def assert_same_bits(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    assert torch.equal(_bits(got), _bits(want))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTER_CORE, ids=CASE_IDS)
def test_every_initializer_and_dtype_equals_the_c_backend(backend, case, dtype):
    fn, kw = case[:2]
    got, want = both(backend, lambda: torch.empty(24, 8, 3, dtype=dtype), lambda t: fn(t, **kw, seed=2**40 + 5,
                                                                                       stream=9))
    if fn is fi.orthogonal_:  # torch.linalg.qr, not NumPy's LAPACK call: the normal matrix is tested bit for bit
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12 if dtype == torch.float64 else 0)
    else:
        assert_same_bits(got, want)


@pytest.mark.parametrize("layout", ["transposed", "step-2 slice"])
@pytest.mark.parametrize("case", KERNEL_CASES[:-1], ids=lambda c: c[0].__name__)
def test_strided_tensor_written_in_place(backend, case, layout):
    """The kernels write a strided tensor's own memory (no copy_) and only
    its elements."""
    fn, kw = case[:2]
    backend("c")
    want = fn(torch.empty(12, 10), **kw, seed=3, stream=1)
    backend("triton")
    select = (lambda x: x[:, 1:13].T) if layout == "transposed" else (lambda x: x[:, :20:2])
    big = torch.full((10, 14) if layout == "transposed" else (12, 21), 7.0)
    t = select(big)
    copies = []
    real_copy = torch.Tensor.copy_
    with pytest.MonkeyPatch.context() as m:
        m.setattr(torch.Tensor, "copy_", lambda self, *a, **k: copies.append(1) or real_copy(self, *a, **k))
        fn(t, **kw, seed=3, stream=1)
    assert copies == [] and not t.is_contiguous()
    assert_same_bits(t, want)
    untouched = torch.ones_like(big, dtype=torch.bool)
    select(untouched).fill_(False)
    assert bool((big[untouched] == 7.0).all())


@pytest.mark.parametrize("case", KERNEL_CASES, ids=lambda c: c[0].__name__)
def test_fill_block_blocks_equal_the_c_backend(backend, case):
    fn, kw = case[:2]
    shape = (9, 6, 4)
    for offsets, local_shape in (((3, 0, 0), (4, 6, 4)), ((1, 2, 1), (5, 3, 2)), ((8, 5, 3), (1, 1, 1))):
        got, want = both(backend, lambda: torch.full(local_shape, float("nan"), dtype=torch.float64),
                         lambda t: fi.fill_block(fn, t, shape, offsets, **kw, seed=4, stream=1))
        if fn is fi.orthogonal_:
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
        else:
            assert_same_bits(got, want)


@pytest.mark.parametrize("call", bf16_calls()[len(ADAPTER_CORE):], ids=lambda c: f"{c[0].__name__}-{c[1]}")
def test_bfloat16_bounds_equal_the_core_with_and_without_ml_dtypes(backend, call, monkeypatch):
    """The device kernels write bfloat16 with the core's bfloat16 parameters
    (ml_dtypes), or without ml_dtypes with the float32 ones and the bounds
    clamped on the device: the core's bits either way (bounds on both
    sides of bfloat16 values; every initializer is tested above)."""
    pytest.importorskip("ml_dtypes")
    fn, kw = call
    backend("c")
    want = fn(torch.empty(8, 6, dtype=torch.bfloat16), **kw, seed=6)
    backend("triton")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trunc_normal_'s mean far from [a, b], as PyTorch warns
        assert_same_bits(fn(torch.empty(8, 6, dtype=torch.bfloat16), **kw, seed=6), want)
        monkeypatch.setitem(sys.modules, "ml_dtypes", None)
        assert_same_bits(fn(torch.empty(6, 8, dtype=torch.bfloat16).T, **kw, seed=6), want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONSTANT_CASES, ids=[c[0] for c in CONSTANT_CASES])
def test_pytorchs_constants_equal_the_c_backend(backend, case, dtype):
    _, call = case
    got, want = both(backend, lambda: torch.full((6, 5), 9.0, dtype=dtype), lambda t: call(fi, t))
    if "orthogonal" in case[0]:  # QR's signs of zero may differ from LAPACK's
        assert torch.equal(got, want)
    else:
        assert_same_bits(got, want)


@pytest.mark.parametrize("case", list(inplace_cases()))
@pytest.mark.parametrize("name", ["normal_", "orthogonal_"])
def test_inplace_write_checks_equal_the_c_backend(backend, name, case):
    """The device write is announced like the C backend's direct write: the
    same refusals (an overlapping tensor through copy_), version counter and
    grad_fn."""
    backend("c")
    want = inplace_outcome(lambda t: getattr(fi, name)(t, seed=0), *inplace_cases()[case])
    backend("triton")
    assert inplace_outcome(lambda t: getattr(fi, name)(t, seed=0), *inplace_cases()[case]) == want


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 6, padding_idx=2)
        self.proj = nn.Linear(6, 9)
        self.norm = nn.LayerNorm(9)
        self.rnn = nn.GRU(9, 4)

    def init(self, module):
        """Each module's reset_parameters; trunc_normal_ and orthogonal_ over them."""
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        if module is self.proj:
            nn.init.trunc_normal_(module.weight, std=0.02)
        if module is self:
            nn.init.orthogonal_(self.rnn.weight_hh_l0)


def test_init_module_equals_the_c_backend(backend):
    """A model built on meta, to_empty, init_module (its own init code and an
    init_fn with trunc_normal_ and orthogonal_ routed): every parameter."""
    def build():
        with torch.device("meta"):
            model = Small()
        model.to_empty(device="cpu")
        return fi.init_module(model, 2**35 + 1, init_fn=model.init)

    got, want = both(backend, lambda: None, lambda _: dict(build().named_parameters()))
    assert got.keys() == want.keys()
    for name in want:
        assert_same_bits(got[name], want[name])


def test_orthogonal_normal_matrix_is_the_cores():
    shape = (7, 19)
    got = _torch_fill._device_normal_matrix(shape, 2**64 - 1, 5, torch.device("cpu"))
    want = prepare("normal", shape, dtype=np.float64).fill(2**64 - 1, 5)
    assert np.array_equal(got.numpy().view(np.int64), want.view(np.int64))


def test_device_path_makes_no_host_fill(backend, monkeypatch):
    """Under the device kernels nothing is generated on the host (no NumPy
    array, no Prepared.fill) and the kernels are launched."""
    launches = []
    real_fill = launch.fill
    monkeypatch.setattr(launch, "fill", lambda *a, **k: launches.append(1) or real_fill(*a, **k))
    monkeypatch.setattr(type(prepare("normal", (3,))), "fill", lambda *a, **k: pytest.fail("a host fill"))
    backend("triton")
    fi.kaiming_normal_(torch.empty(5, 4), seed=0)
    fi.fill_block(fi.uniform_, torch.empty(2, 4), (5, 4), (1, 0), seed=0)
    assert len(launches) == 2


def test_backend_for(backend, monkeypatch):
    """The decision by device type: torch.device("cuda") is made without a
    GPU (this machine has none), so the CUDA choice is tested on the device
    object alone; the fills on CPU tensors above run the same path."""
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    backend("auto")
    assert (_torch_fill.backend_for(cuda), _torch_fill.backend_for(cpu)) == ("triton", "c")
    backend("c")
    assert _torch_fill.backend_for(cuda) == "c"
    backend("triton")
    assert _torch_fill.backend_for(cpu) == "triton"
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(ValueError, match="TRITON_INTERPRET=1"):
        _torch_fill.backend_for(cpu)
    backend("gpu")
    t = torch.full((3,), 7.0)
    with pytest.raises(ValueError, match="FASTINIT_TORCH_BACKEND must be one of auto, c, triton, got 'gpu'"):
        fi.normal_(t, seed=0)
    assert (t == 7).all() and t._version == 0


def _run(code: str, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONWARNINGS": "default"})


def test_imports_never_import_triton():
    code = ("import sys, fastinit, fastinit.torch as fi, torch\n"
            "fi.normal_(torch.empty(4, 4), seed=0)\n"
            "assert 'triton' not in sys.modules and 'fastinit.device' not in sys.modules, sorted(sys.modules)\n")
    result = _run(code, FASTINIT_TORCH_BACKEND="auto")
    assert result.returncode == 0, result.stderr


def test_without_triton_cuda_keeps_the_host_path_and_warns_once():
    """Triton made unimportable: a CUDA device takes the C core with one
    UserWarning naming the extra (decided on torch.device("cuda"): no GPU
    here), CPU tensors are unaffected, and the triton backend is an
    ImportError naming the extra."""
    code = ("import sys, warnings; sys.modules['triton'] = None\n"
            "import torch, fastinit.torch as fi\n"
            "from fastinit import _torch_fill\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    warnings.simplefilter('always')\n"
            "    assert [_torch_fill.backend_for(torch.device('cuda')) for _ in range(3)] == ['c'] * 3\n"
            "    fi.normal_(torch.empty(3, 3), seed=0)\n"
            "assert [w.category for w in seen] == [UserWarning], seen\n"
            "assert \"pip install 'fastinit[gpu]'\" in str(seen[0].message)\n"
            "import os; os.environ['FASTINIT_TORCH_BACKEND'] = 'triton'\n"
            "try:\n"
            "    fi.normal_(torch.empty(3, 3), seed=0)\n"
            "except ImportError as e:\n"
            "    assert \"pip install 'fastinit[gpu]'\" in str(e)\n"
            "else:\n"
            "    raise AssertionError('no ImportError')\n")
    result = _run(code, FASTINIT_TORCH_BACKEND="auto")
    assert result.returncode == 0, result.stderr

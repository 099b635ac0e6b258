"""fastinit.torch against the real torch.nn.init: same parameters, same
distributions (KS), same warnings and errors, PyTorch's generator semantics."""
import math
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")
import fastinit  # noqa: E402
import fastinit.torch as fi  # noqa: E402
from support.torch_cases import ADAPTER_CORE, CONSTANT_CASES, bf16_calls, inplace_cases, inplace_outcome  # noqa: E402
from torch import nn  # noqa: E402

SHAPES = [(256, 128), (64, 32, 3, 3), (1000, 10)]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
KS_P_MIN = 1e-3  # fixed seeds: a failure is a real mismatch, not bad luck

# (fastinit.torch function, torch.nn.init function, extra args)
PAIRS = [
    (fi.uniform_, nn.init.uniform_, dict(a=-0.5, b=2.0)),
    (fi.normal_, nn.init.normal_, dict(mean=1.0, std=0.5)),
    (fi.xavier_uniform_, nn.init.xavier_uniform_, dict(gain=2.0)),
    (fi.xavier_normal_, nn.init.xavier_normal_, dict()),
    (fi.kaiming_uniform_, nn.init.kaiming_uniform_, dict(a=math.sqrt(5))),
    (fi.kaiming_uniform_, nn.init.kaiming_uniform_, dict(mode="fan_out", nonlinearity="relu")),
    (fi.kaiming_normal_, nn.init.kaiming_normal_, dict(nonlinearity="relu")),
    (fi.kaiming_normal_, nn.init.kaiming_normal_, dict(mode="fan_out", nonlinearity="tanh")),
]
FAN_FUNCTIONS = [fi.xavier_uniform_, fi.xavier_normal_, fi.kaiming_uniform_, fi.kaiming_normal_]


def _ids(pair):
    return f"{pair[0].__name__}-{pair[2]}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_distribution_matches_torch(pair, shape):
    ours, theirs, kw = pair
    a = ours(torch.empty(shape), **kw, seed=11).flatten().numpy()
    torch.manual_seed(11)
    b = theirs(torch.empty(shape), **kw).flatten().numpy()
    assert stats.ks_2samp(a, b).pvalue > KS_P_MIN


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_parameters_match_torch_formula(pair):
    """The bits equal the core call with the parameters torch.nn.init computes."""
    ours, _, kw = pair
    shape = (64, 32, 3, 3)
    got = ours(torch.empty(shape), **kw, seed=5, stream=9).numpy()
    t = torch.empty(shape)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(t)
    name = ours.__name__
    if name == "uniform_":
        want = fastinit.uniform(shape, 5, kw["a"], kw["b"], stream=9)
    elif name == "normal_":
        want = fastinit.normal(shape, 5, kw["mean"], kw["std"], stream=9)
    else:
        if name.startswith("xavier"):
            std = kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
        else:
            fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
            std = nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0)) / math.sqrt(fan)
        if name.endswith("uniform_"):
            want = fastinit.uniform(shape, 5, -math.sqrt(3) * std, math.sqrt(3) * std, stream=9)
        else:
            want = fastinit.normal(shape, 5, 0.0, std, stream=9)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_in_place_and_rounded_from_float32(dtype):
    t = torch.empty(128, 64, dtype=dtype)
    ptr = t.data_ptr()
    out = fi.kaiming_normal_(t, nonlinearity="relu", seed=3)
    assert out is t and t.data_ptr() == ptr and t.dtype == dtype
    ref = fi.kaiming_normal_(torch.empty(128, 64, dtype=torch.float64 if dtype == torch.float64 else torch.float32),
                             nonlinearity="relu", seed=3)
    assert torch.equal(t, ref.to(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_half_dtypes_distribution(dtype):
    a = fi.xavier_uniform_(torch.empty(300, 200, dtype=dtype), seed=1).float().flatten().numpy()
    torch.manual_seed(1)
    b = nn.init.xavier_uniform_(torch.empty(300, 200, dtype=dtype)).float().flatten().numpy()
    assert stats.ks_2samp(a, b).pvalue > KS_P_MIN


def test_non_contiguous_equals_contiguous():
    base = fi.normal_(torch.empty(40, 30), seed=2, stream=1)
    transposed = torch.empty(30, 40).T
    fi.normal_(transposed, seed=2, stream=1)
    assert not transposed.is_contiguous()
    assert torch.equal(transposed, base)


def test_parameter_with_grad_and_return_value():
    p = nn.Parameter(torch.empty(8, 4))
    assert fi.xavier_normal_(p, seed=0) is p
    assert p.requires_grad and p.grad_fn is None


def test_lecun_matches_kaiming_linear_distribution():
    a = fi.lecun_normal_(torch.empty(200, 300), seed=4).flatten().numpy()
    torch.manual_seed(4)
    b = nn.init.kaiming_normal_(torch.empty(200, 300), nonlinearity="linear").flatten().numpy()
    assert stats.ks_2samp(a, b).pvalue > KS_P_MIN
    u = fi.lecun_uniform_(torch.empty(200, 300), seed=4)
    assert float(u.abs().max()) < math.sqrt(3 / 300)
    np.testing.assert_array_equal(u.numpy(), fastinit.lecun_uniform((200, 300), 4, layout="torch"))


def _raised(fn, *args, **kw):
    with pytest.raises(Exception) as info:
        fn(*args, **kw)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_errors_identical(name):
    ours, theirs = getattr(fi, name), getattr(nn.init, name)
    assert _raised(ours, torch.empty(5)) == _raised(theirs, torch.empty(5))
    if name.startswith("kaiming"):
        assert _raised(ours, torch.empty(3, 4), mode="fan_avg") == _raised(theirs, torch.empty(3, 4), mode="fan_avg")
        assert _raised(ours, torch.empty(3, 4), nonlinearity="swish") == \
            _raised(theirs, torch.empty(3, 4), nonlinearity="swish")


def test_lecun_and_orthogonal_errors_like_torch():
    assert _raised(fi.lecun_normal_, torch.empty(5)) == _raised(nn.init.xavier_normal_, torch.empty(5))
    assert _raised(fi.orthogonal_, torch.empty(5)) == _raised(nn.init.orthogonal_, torch.empty(5))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_warning_identical(name):
    for fn in (getattr(fi, name), getattr(nn.init, name)):
        t = torch.empty(0, 3)
        with pytest.warns(UserWarning, match="^Initializing zero-element tensors is a no-op$") as record:
            assert fn(t) is t
        assert record[0].filename == __file__  # stacklevel points at the caller, as in torch


def test_generator_semantics():
    torch.manual_seed(7)
    first = fi.kaiming_uniform_(torch.empty(16, 16)).clone()
    second = fi.kaiming_uniform_(torch.empty(16, 16))
    g = torch.Generator().manual_seed(7)
    assert torch.equal(fi.kaiming_uniform_(torch.empty(16, 16), generator=g), first)
    assert torch.equal(fi.kaiming_uniform_(torch.empty(16, 16), generator=g), second)
    assert not torch.equal(first, second)
    assert torch.equal(fi.kaiming_uniform_(torch.empty(16, 16), seed=fi.draw_seed(torch.Generator().manual_seed(7))),
                       first)


def test_seed_and_stream_pin_bits():
    a = fi.normal_(torch.empty(10, 10), seed=2**64 - 1, stream=3)
    torch.manual_seed(0)
    b = fi.normal_(torch.empty(10, 10), seed=2**64 - 1, stream=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, fi.normal_(torch.empty(10, 10), seed=2**64 - 1, stream=4))


@pytest.mark.parametrize("kw, error", [
    (dict(seed=-1), ValueError), (dict(seed=1.5), TypeError), (dict(stream=2**64), ValueError),
    (dict(seed=1, generator=torch.Generator()), ValueError)])
def test_bad_seed_stream_rejected_before_writing(kw, error):
    t = torch.full((4, 4), 7.0)
    with pytest.raises(error):
        fi.uniform_(t, **kw)
    assert (t == 7).all()


def test_bad_dtype_rejected():
    with pytest.raises(TypeError, match="tensor dtype"):
        fi.normal_(torch.empty(3, 3, dtype=torch.int32), seed=0)


def test_meta_tensor_left_alone_and_generator_not_advanced():
    g = torch.Generator().manual_seed(1)
    t = torch.empty(4, 4, device="meta")
    assert fi.kaiming_normal_(t, generator=g) is t
    assert torch.equal(fi.normal_(torch.empty(3), generator=g),
                       fi.normal_(torch.empty(3), generator=torch.Generator().manual_seed(1)))


def test_trunc_normal_matches_torch():
    a = fi.trunc_normal_(torch.empty(300, 300), mean=0.1, std=0.5, a=-0.5, b=1.0, seed=3)
    assert float(a.min()) >= -0.5 and float(a.max()) <= 1.0
    torch.manual_seed(3)
    b = nn.init.trunc_normal_(torch.empty(300, 300), mean=0.1, std=0.5, a=-0.5, b=1.0)
    assert stats.ks_2samp(a.flatten().numpy(), b.flatten().numpy()).pvalue > KS_P_MIN
    for fn in (fi.trunc_normal_, nn.init.trunc_normal_):
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            fn(torch.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (8, 2, 3, 3)])
def test_orthogonal(shape):
    w = fi.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=2.0, seed=0)
    flat = w.reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    torch.testing.assert_close(gram, 4 * torch.eye(gram.shape[0], dtype=torch.float64))
    assert fi.orthogonal_(torch.empty(0, 3)).numel() == 0


def test_import_fastinit_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, fastinit; assert 'torch' not in sys.modules and 'dask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- in-place writes

# every function of the module -> the torch.nn.init write it is checked
# against (PyTorch has no LeCun: its kaiming with gain 1 is the same write)
INPLACE_COUNTERPARTS = {name: getattr(nn.init, name) for name in fi.__all__[:8]}
INPLACE_COUNTERPARTS.update(lecun_uniform_=lambda t: nn.init.kaiming_uniform_(t, nonlinearity="linear"),
                            lecun_normal_=lambda t: nn.init.kaiming_normal_(t, nonlinearity="linear"))


def _whole_block(name):
    """fill_block of the function: the whole tensor as its own block."""
    return lambda t: fi.fill_block(getattr(fi, name), t, tuple(t.shape), (0,) * t.dim(), seed=0)


@pytest.mark.parametrize("case", list(inplace_cases()))
@pytest.mark.parametrize("through", ["direct", "fill_block"])
@pytest.mark.parametrize("name", list(INPLACE_COUNTERPARTS))
def test_inplace_write_checks_equal_pytorch(name, through, case):
    """Each write, by every function and by fill_block of it, is a PyTorch
    in-place write: the same refusals (message included: inference mode, a
    view of a leaf, a multi-output view), the version counter bumped and the
    same grad_fn afterwards as torch.nn.init (its orthogonal_ bumps twice,
    once is enough)."""
    fill = (lambda t: getattr(fi, name)(t, seed=0)) if through == "direct" else _whole_block(name)
    ours = inplace_outcome(fill, *inplace_cases()[case])
    theirs = inplace_outcome(INPLACE_COUNTERPARTS[name], *inplace_cases()[case])
    assert ours == theirs


@pytest.mark.parametrize("contiguous", [True, False])
def test_backward_through_refilled_weight_raises_like_pytorch(contiguous):
    def run(fill):
        torch.manual_seed(0)
        w = torch.randn(4, 3, requires_grad=True) if contiguous else torch.randn(3, 4, requires_grad=True).T
        x = torch.randn(3, requires_grad=True)
        y = (w @ x).sum()
        fill(w)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            y.backward()
        return str(info.value)

    assert run(lambda w: fi.normal_(w, seed=0)) == run(nn.init.normal_)


def test_refused_write_leaves_tensor_and_generator_untouched():
    with torch.inference_mode():
        t = torch.full((4, 3), 7.0)
        transposed = torch.full((3, 4), 7.0).T  # filled through copy_
    g = torch.Generator().manual_seed(3)
    for tensor in (t, transposed):
        for fill in (lambda: fi.xavier_uniform_(tensor, seed=1), lambda: fi.normal_(tensor, generator=g)):
            with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
                fill()
        assert (tensor == 7).all()
    assert torch.equal(fi.normal_(torch.empty(3), generator=g),
                       fi.normal_(torch.empty(3), generator=torch.Generator().manual_seed(3)))


def test_bad_argument_leaves_version_counter():
    t = torch.zeros(4, 3)
    with pytest.raises(ValueError):
        fi.uniform_(t, 1.0, 0.0, seed=0)
    assert t._version == 0 and (t == 0).all()


# ---------------------------------------------------------------- edge cases next to PyTorch

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONSTANT_CASES, ids=[c[0] for c in CONSTANT_CASES])
def test_degenerate_parameters_give_pytorchs_result(case, dtype):
    _, call = case
    with torch.random.fork_rng():
        try:
            theirs = call(nn.init, torch.full((6, 5), 9.0, dtype=dtype))
        except NotImplementedError:  # torch's orthogonal_ has no half-precision QR: its float32 result, rounded
            theirs = call(nn.init, torch.full((6, 5), 9.0)).to(dtype)
    torch.manual_seed(0)
    ours = call(fi, torch.full((6, 5), 9.0, dtype=dtype))
    assert ours.shape == theirs.shape and torch.equal(ours, theirs)


def test_uniform_bounds_equal_in_half_dtype_give_pytorchs_constant():
    t = torch.empty(50, 50, dtype=torch.bfloat16)
    theirs = nn.init.uniform_(t.clone(), 1.0, 1.001)
    assert torch.equal(fi.uniform_(t, 1.0, 1.001, seed=0), theirs)


REFUSED_CASES = [
    ("uniform_ a > b", lambda m, t: m.uniform_(t, 1.0, 0.0)),
    ("normal_ std < 0", lambda m, t: m.normal_(t, 0.0, -1.0)),
    ("trunc_normal_ a > b", lambda m, t: m.trunc_normal_(t, 0.0, 1.0, 0.5, 0.2)),
    ("trunc_normal_ std 0", lambda m, t: m.trunc_normal_(t, 0.0, 0.0, -1.0, 1.0)),
    ("xavier_uniform_ gain < 0", lambda m, t: m.xavier_uniform_(t, gain=-1.0)),
    ("xavier_normal_ gain < 0", lambda m, t: m.xavier_normal_(t, gain=-1.0)),
]


@pytest.mark.parametrize("case", REFUSED_CASES, ids=[c[0] for c in REFUSED_CASES])
def test_parameters_pytorch_refuses_are_refused(case):
    _, call = case
    with pytest.raises((RuntimeError, ZeroDivisionError)):
        call(nn.init, torch.empty(6, 5))
    t = torch.full((6, 5), 9.0)
    with pytest.raises(ValueError):
        call(fi, t)
    assert (t == 9).all()


# ---------------------------------------------------------------- the adapter is the core

NP_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}


def _np_bits(t):
    t = t.detach()
    return t.view(torch.int16).numpy() if t.dtype == torch.bfloat16 else t.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTER_CORE, ids=[c[0].__name__ + "-" + str(i) for i, c in enumerate(ADAPTER_CORE)])
def test_adapter_equals_core_bit_for_bit(case, dtype):
    """Kills a formula drifting in the adapter (e.g. trunc_normal_ std x 1.03)."""
    ours, kw, core, core_kw = case
    shape = (24, 8, 3)
    if dtype == torch.bfloat16:
        ml_dtypes = pytest.importorskip("ml_dtypes")
        np_dtype = ml_dtypes.bfloat16
    else:
        np_dtype = NP_DTYPES[dtype]
    got = ours(torch.empty(shape, dtype=dtype), **kw, seed=2**40 + 5, stream=9)
    want = core(shape, 2**40 + 5, stream=9, dtype=np_dtype, **core_kw)
    np.testing.assert_array_equal(_np_bits(got), want.view(np.int16) if dtype == torch.bfloat16 else want)


# ---------------------------------------------------------------- fill_block

@pytest.mark.parametrize("case", ADAPTER_CORE, ids=[c[0].__name__ + "-" + str(i) for i, c in enumerate(ADAPTER_CORE)])
def test_fill_block_is_the_slice_of_the_global_tensor(case):
    ours, kw = case[:2]
    shape = (9, 6, 4)
    full = ours(torch.empty(shape), **kw, seed=4, stream=1)
    for offsets, local_shape in (((0, 0, 0), (9, 6, 4)), ((3, 0, 0), (4, 6, 4)), ((1, 2, 1), (5, 3, 2)),
                                 ((8, 5, 3), (1, 1, 1)), ((2, 0, 0), (0, 6, 4))):
        local = torch.full(local_shape, float("nan"))
        assert fi.fill_block(ours, local, shape, offsets, **kw, seed=4, stream=1) is local
        box = tuple(slice(o, o + n) for o, n in zip(offsets, local_shape))
        assert torch.equal(local, full[box]), offsets
    strided = torch.full((4, 6, 3), float("nan")).transpose(0, 2)  # not contiguous: generated, then copy_
    fi.fill_block(ours, strided, shape, (2, 0, 0), **kw, seed=4, stream=1)
    assert torch.equal(strided, full[2:5])


@pytest.mark.parametrize("offsets, local_shape, error, match", [
    ((0, 0), (3, 3), ValueError, "not a block of global_shape"),
    ((7, 0), (2, 3), ValueError, "not a block of global_shape"),
    ((-1, 0), (2, 3), ValueError, "not a block of global_shape"),
    ((0,), (2, 3, 1), TypeError, "offsets must be a tuple of 2 ints"),
    ((0, 1.0), (2, 3), TypeError, "offsets must be a tuple of 2 ints"),
])
def test_fill_block_rejects_a_block_outside_the_global_shape(offsets, local_shape, error, match):
    local = torch.full(local_shape, 7.0)
    with pytest.raises(error, match=match):
        fi.fill_block(fi.normal_, local, (8, 2) if local_shape == (3, 3) else (8, 3), offsets, seed=0)
    assert (local == 7).all()


@pytest.mark.parametrize("name", fi.__all__[:10])
def test_numpy_arrays_and_other_byte_orders_are_refused(name):
    """The torch path never sees a non-native byte order: torch
    refuses such arrays, and a NumPy array is not a tensor."""
    big_endian = np.zeros((4, 3), dtype=">f4")
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor, got ndarray"):
        getattr(fi, name)(big_endian, seed=0)
    assert (big_endian == 0).all()
    with pytest.raises((TypeError, ValueError), match="byte order"):
        torch.from_numpy(big_endian)


# ---------------------------------------------------------------- bfloat16 without ml_dtypes

@pytest.fixture
def hide_ml_dtypes(monkeypatch):
    """`import ml_dtypes` fails, as on an install without the bf16 extra."""
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("call", bf16_calls(), ids=lambda c: f"{c[0].__name__}-{c[1]}")
def test_bfloat16_without_ml_dtypes_equals_the_core(call, layout, monkeypatch):
    """Without ml_dtypes, bfloat16 is generated in float32, rounded by copy_
    and capped/clamped: the same bits as the core's bfloat16 (ml_dtypes)."""
    pytest.importorskip("ml_dtypes")
    fn, kw = call

    def make():
        t = torch.empty(64, 48, dtype=torch.bfloat16)
        return t if layout == "contiguous" else torch.empty(48, 64, dtype=torch.bfloat16).T

    with_ml_dtypes = fn(make(), **kw, seed=6, stream=2)
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    without = fn(make(), **kw, seed=6, stream=2)
    assert torch.equal(without.view(torch.int16), with_ml_dtypes.view(torch.int16))


def test_bfloat16_bounds_hold_without_ml_dtypes(hide_ml_dtypes):
    """U(0, 1) never gives 1.0, the truncated normal stays in [a, b]."""
    u = fi.uniform_(torch.empty(10**6, dtype=torch.bfloat16), 0.0, 1.0, seed=0)
    assert float(u.max()) < 1.0 and float(u.min()) >= 0.0
    t = fi.trunc_normal_(torch.empty(10**6, dtype=torch.bfloat16), a=-0.3, b=0.3, seed=0)
    assert float(t.max()) <= 0.3 and float(t.min()) >= -0.3
    w = fi.xavier_uniform_(torch.empty(1000, 1000, dtype=torch.bfloat16), seed=0)
    assert float(w.abs().max()) < math.sqrt(6 / 2000)
    with pytest.raises(ValueError, match="no bfloat16 value lies in"):
        fi.trunc_normal_(torch.full((3,), 7.0, dtype=torch.bfloat16), a=1.001, b=1.002, seed=0)


def test_bfloat16_in_a_process_without_ml_dtypes():
    """The install combination itself: fastinit.torch imported where
    ml_dtypes cannot be imported at all."""
    import subprocess
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "import torch, fastinit.torch as fi\n"
            "u = fi.uniform_(torch.empty(10**6, dtype=torch.bfloat16), 0.0, 1.0, seed=1)\n"
            "t = fi.trunc_normal_(torch.empty(10**6, dtype=torch.bfloat16), a=-0.3, b=0.3, seed=1)\n"
            "assert float(u.max()) < 1.0 and -0.3 <= float(t.min()) and float(t.max()) <= 0.3\n"
            "assert 'ml_dtypes' not in sys.modules or sys.modules['ml_dtypes'] is None\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bfloat16_bounds_property_without_ml_dtypes(monkeypatch):
    """Random bounds: without ml_dtypes the bits equal the ml_dtypes path and
    the bounds hold (uniform below high, truncated normal in [a, b])."""
    pytest.importorskip("ml_dtypes")
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    bound = st.floats(-1e4, 1e4, allow_nan=False, width=64)

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(low=bound, high=bound, seed=st.integers(0, 2**64 - 1))
    def check(low, high, seed):
        low, high = min(low, high), max(low, high)
        for fn, kw in ((fi.uniform_, dict(a=low, b=high)), (fi.trunc_normal_, dict(mean=low, std=1.0 + high - low,
                                                                                    a=low, b=high))):
            try:
                want = fn(torch.empty(4096, dtype=torch.bfloat16), **kw, seed=seed)
            except ValueError:  # e.g. no bfloat16 value in [a, b]: the fallback must refuse too
                with monkeypatch.context() as m:
                    m.setitem(sys.modules, "ml_dtypes", None)
                    with pytest.raises(ValueError):
                        fn(torch.empty(4096, dtype=torch.bfloat16), **kw, seed=seed)
                continue
            with monkeypatch.context() as m:
                m.setitem(sys.modules, "ml_dtypes", None)
                got = fn(torch.empty(4096, dtype=torch.bfloat16), **kw, seed=seed)
            assert torch.equal(got.view(torch.int16), want.view(torch.int16)), (fn.__name__, kw)
            values = got.double()
            top = float(torch.tensor(high).to(torch.bfloat16))
            if fn is fi.uniform_ and float(torch.tensor(low).to(torch.bfloat16)) != top:  # else PyTorch's constant
                assert float(values.max()) < top
            if fn is fi.trunc_normal_ and low != high:  # a == b: the point a rounded, as in PyTorch
                assert low <= float(values.min()) and float(values.max()) <= high

    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        check()


def test_bfloat16_blocks_without_ml_dtypes_equal_the_core(monkeypatch):
    """The block path (DTensor shards, fill_block) with ml_dtypes hidden:
    each block is the ml_dtypes tensor's slice, bounds included."""
    pytest.importorskip("ml_dtypes")
    shape = (40, 30)
    full = fi.uniform_(torch.empty(shape, dtype=torch.bfloat16), 0.0, 1.0, seed=8)
    trunc = fi.trunc_normal_(torch.empty(shape, dtype=torch.bfloat16), a=-0.3, b=0.3, seed=8)
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    for offsets, local_shape in (((0, 0), (40, 30)), ((7, 3), (20, 25)), ((39, 0), (1, 30))):
        box = tuple(slice(o, o + n) for o, n in zip(offsets, local_shape))
        for fn, kw, want in ((fi.uniform_, dict(a=0.0, b=1.0), full), (fi.trunc_normal_, dict(a=-0.3, b=0.3), trunc)):
            local = fi.fill_block(fn, torch.empty(local_shape, dtype=torch.bfloat16), shape, offsets, **kw, seed=8)
            assert torch.equal(local.view(torch.int16), want[box].view(torch.int16)), (fn.__name__, offsets)

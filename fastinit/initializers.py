"""The initializers: one short function each, over shared helpers for fans,
parameters and generation. Formulas follow PyTorch, Keras and JAX (see the
table in README.md); every function returns a NumPy array whose element at
each position is a pure function of (seed, stream, position).

Common keyword arguments
------------------------
stream : int in [0, 2**64), default 0
    Independent stream under the same seed (one seed can feed many tensors).
dtype : numpy.float32 (default), numpy.float64, numpy.float16 or bfloat16
    ``None`` means ``out.dtype`` when ``out`` is given. bfloat16 is
    ``ml_dtypes.bfloat16`` (or the string ``"bfloat16"``; needs the optional
    ``ml_dtypes`` package, ``pip install 'fastinit[bf16]'``). A float16 or
    bfloat16 element is the float32 element at the same position rounded to
    nearest even (so the bits of the dtypes relate), except that bounds an
    initializer guarantees (uniform never returns ``high``, truncated normal
    stays in ``[a, b]``) hold in the rounded dtype too. A non-native byte
    order (``">f4"``) gives the same numbers, stored in that order. Parameters
    whose samples could leave the dtype's finite range raise ValueError.
out : numpy.ndarray, optional
    Writable C-contiguous array of the output shape and dtype, filled in place
    and returned. On bad input nothing is written. Ctrl-C during a large
    fill raises KeyboardInterrupt within about 50 ms (between chunks); ``out``
    then holds the final values in a leading part (in C order) and is
    unchanged after it. Call again with the same arguments to complete it.
threads : int, optional
    Threads to use; the result never depends on it. Default: the
    ``FASTINIT_NUM_THREADS`` environment variable, else the CPUs this process
    may use. Small arrays always run on the calling thread.
index : slice, tuple of slices (step 1) or 1-D array of row ids, optional
    Return exactly ``full[index]`` without generating the rest of ``full``;
    fans come from the full ``shape``. Use it to make one shard of a table.
    A list or NumPy array of integer row ids selects rows of axis 0 in any
    order, repeats allowed, negative ids counting from the end as in NumPy
    (an id outside ``[-shape[0], shape[0])`` raises ``ValueError``): the cost
    is proportional to the rows asked for, so a parameter server can create
    embedding rows of a ``(10**12, D)`` table on first lookup and get the same
    values as a dense run.

Truncated normal: sampling and accuracy
---------------------------------------
``truncated_normal`` maps one uniform per element through the inverse
normal CDF (no rejection loop), so the layout of DESIGN.md and ``index=``
keep working. float32 (and float16/bfloat16, rounded from it) uses one
32-bit word per element, in the uniform float32 layout: element
``64*g + 16*w + l`` of lane group ``g`` from word ``w`` of counter
``16*g + l``; the uniform is ``u = (2*(word >> 9) + 1) / 2**24``. float64
uses two words per element like the float64 uniform: element
``32*g + 16*h + l`` from words ``(2h, 2h+1)`` (low, high) of counter
``16*g + l``, ``u = (2*k + 1) / 2**53`` with ``k`` the top 20 bits of the
high word and the 32 of the low word. Then
``x = Phi^-1(Phi(alpha) + u * (Phi(beta) - Phi(alpha)))`` with
``alpha = (a - mean) / std``, ``beta = (b - mean) / std``, carried as the
pair ``(P, 1 - P)`` (the latter rescaled by a power of two) so that windows
in the upper tail lose no precision; windows with ``alpha + beta < 0`` are
mirrored to the upper tail. ``Phi^-1`` is Wichura's AS 241 (PPND7 for
float32, PPND16 for float64) on the project's own polynomial log: only
IEEE add/mul/div/sqrt, so every ISA path gives the same bits.

Accuracy, end to end (the rounding of ``P`` to the working precision
included), measured by ``python benchmarks/truncnormal_accuracy.py 4000``
against a 200-bit quantile of each sample's own uniform, on the windows
[-2, 2], [0, inf), [3, 4], [6, inf), (-inf, -6], [10, 10.5], [-1e-3, 1e-3],
[-8, 9] and [12, inf) (float32) or [30, inf) (float64):

=========  =============================  ============================
dtype      where ``|x| >= 1/2``           where ``|x| < 1/2``
=========  =============================  ============================
float32    <= 5.1 ulp of the result       <= 1.4e-7 absolute (std units)
float64    <= 8 ulp (<= 5 for |x| < 10)   <= 4e-16 absolute (std units)
=========  =============================  ============================

(Near 0 the error is bounded by how well ``P - 1/2`` is known, about one ulp
of ``Phi(alpha) - 1/2``; a window of width 2e-3 around the mean gets 2e-10
(float32) and 4e-19 (float64).) tests/test_truncated.py checks 8 ulp on
2e5 float32 samples per window.

The result is ``mean + std * x`` clamped into ``[a, b]`` (into the dtype's
values inside ``[a, b]``), so it always lies in ``[a, b]``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import _plan
from .fans import calculate_gain, compute_fans

FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
# "untruncated_normal" is Keras' name for fastinit's (and JAX's) "normal".
DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")
NORMAL_DISTRIBUTIONS = ("normal", "truncated_normal")
# Standard deviation of the standard normal truncated to [-2, 2]
# (Keras/JAX VarianceScaling divide by it).
TRUNCATED_2_STD = 0.87962566103423978


def _plan_float(shape, seed, stream, dtype, out, index, threads):
    return _plan.plan(shape, seed, stream, dtype, out, index, threads, FLOAT_DTYPES)


def _compute_type(dtype: np.dtype):
    """The dtype the C kernels compute in: float64, else float32 (float16 and
    bfloat16 are rounded from float32)."""
    return np.float64 if _plan.dtype_name(dtype) == "float64" else np.float32


def _step(x, dtype: np.dtype, up: bool) -> float:
    """The dtype value next to x (a dtype value) upward or downward."""
    t = dtype.type
    return float(np.nextafter(t(x), t(np.inf if up else -np.inf)))


def _at_least(x: float, dtype: np.dtype) -> float:
    """The smallest dtype value >= x (x itself if infinite)."""
    with np.errstate(over="ignore"):  # x beyond the dtype is a bound samples never reach
        v = float(dtype.type(x))
    return _step(v, dtype, True) if v < x else v


def _at_most(x: float, dtype: np.dtype) -> float:
    """The largest dtype value <= x."""
    with np.errstate(over="ignore"):
        v = float(dtype.type(x))
    return _step(v, dtype, False) if v > x else v


# The least magnitude that rounds to infinity in each dtype: (2 - 2**-p) *
# 2**emax for p significand bits, less half a float32 ulp for the half dtypes
# (their values are float32 values rounded again); float64 holds every float.
_OVERFLOW = {"float64": math.inf, "float32": (2 - 2.0**-24) * 2.0**127,
             "float16": (2 - 2.0**-11 - 2.0**-24) * 2.0**15,
             "bfloat16": (2 - 2.0**-8 - 2.0**-24) * 2.0**127}
_LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max),
            "float16": 65504.0, "bfloat16": (2 - 2.0**-7) * 2.0**127}
# The normal samplers' uniforms never come nearer 0 (or 1) than 2**-k: k = 24
# for float32 (and the half dtypes, rounded from it), 53 for float64.
_UNIFORM_BITS = {"float64": 53, "float32": 24, "float16": 24, "bfloat16": 24}


def _finite_in(dtype_name: str, v: float) -> bool:
    return abs(v) < _OVERFLOW[dtype_name]


def _check_representable(dtype: np.dtype, **values):
    """Parameters must be finite in the output dtype (else every sample would
    be inf or nan)."""
    for name, v in values.items():
        if not _finite_in(_plan.dtype_name(dtype), v):
            raise ValueError(f"{name} must be finite in {dtype.name}, got {v!r}")


def _reach(dtype: np.dtype, alpha: float = -math.inf) -> float:
    """A bound on how far above max(alpha, 0) a standardized normal sample
    can get, alpha being the window's lower edge (-inf: the plain normal).
    The smallest upper-tail probability a sampler reaches is 2**-k of the
    window's mass, and Q(x) <= Q(alpha) exp(-(x^2 - alpha^2) / 2) for
    x >= alpha >= 0 (Q(x) <= exp(-x^2 / 2) / 2 when alpha < 0, where the mass
    is at least 1/2), so x^2 <= max(alpha, 0)^2 + 2 k ln 2: for the plain
    normal, Box-Muller's largest radius sqrt(-2 ln 2**-k) exactly. The factor
    covers the kernels' rounding."""
    k = _UNIFORM_BITS[_plan.dtype_name(dtype)]
    return math.sqrt(max(alpha, 0.0) ** 2 + 2 * k * math.log(2.0)) * (1 + 2.0**-16)


def _check_reach(dtype: np.dtype, lowest: float, highest: float, params: str):
    """Every sample lies in [lowest, highest]; both must be finite in dtype,
    or some samples would be inf or a pile of the largest finite value."""
    name = _plan.dtype_name(dtype)
    for v in (lowest, highest):
        if not _finite_in(name, v):
            raise ValueError(f"{params}: samples reach {v:.6g}, beyond the largest finite {name} value "
                             f"{_LARGEST[name]:.6g}")


def _normal_params(mean: float, std: float, dtype: np.dtype, params: str) -> dict:
    """C-core parameters for N(mean, std^2) in dtype; params names the
    caller's arguments in the error raised if samples could overflow dtype."""
    reach = std * _reach(dtype)
    _check_reach(dtype, mean - reach, mean + reach, params)
    return dict(loc=mean, scale=std)


def _uniform_params(low: float, high: float, dtype: np.dtype) -> dict:
    """C-core parameters for U[low, high) in dtype: the bounds rounded to
    dtype, and the largest dtype value below high, which caps the result so
    that high is never returned. Half dtypes compute with the float32
    parameters (their values are float32 values rounded) and a cap that is
    below high in the half dtype. Both bounds must be finite in dtype (a
    high that rounds to inf would make the largest finite value a pile)."""
    _check_representable(dtype, low=low, high=high)
    t = _compute_type(dtype)
    lo, hi = t(low), t(high)
    if not dtype.type(low) < dtype.type(high):
        raise ValueError(f"low must be < high in {dtype.name}, got low={low!r}, high={high!r}")
    span = float(hi) - float(lo)
    if not _finite_in(np.dtype(t).name, span):
        # low + inf * u would be nan or inf for every u
        raise ValueError(f"high - low must be finite in {dtype.name}, got low={low!r}, high={high!r}")
    top = float(np.nextafter(hi, t(-np.inf)))
    if _plan.dtype_name(dtype) in _plan.HALF_DTYPES:
        top = _at_most(min(top, _step(float(dtype.type(high)), dtype, False)), dtype)
    return dict(low=float(lo), span=span, high_below=top)


# Smallest window probability the double-precision setup resolves.
MIN_WINDOW_MASS = 1e-300


# Below this width (beta - alpha) * max(|alpha|, |beta|) of a window in
# standard deviations, the truncated normal's density is flat on the window
# to 2**-30: its quantile is linear in u to far below a float32 ulp.
FLAT_WINDOW = 2.0**-30
FLOAT32_TINY = 2.0**-126


def _truncnormal_params(mean: float, std: float, a: float, b: float, dtype: np.dtype) -> tuple:
    """The C-core distribution and parameters for N(mean, std^2) truncated to
    [a, b] (see the module docstring): the CDF pair of the window in double,
    mirrored to the upper tail when the window lies mostly below the mean.
    The float32 kernel (also behind the half dtypes) holds mean, std and the
    window's mass in float32, the float64 one the mass in float64; where they
    cannot (std or mean beyond float32, a mass below the normal range, or a
    window that standardizes to a point) but the window is flat, the result
    is U[a, b), which equals the truncated normal to the dtype's precision
    there."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    params = f"mean={mean!r}, std={std!r}, a={a!r}, b={b!r}"
    _check_reach(dtype, max(a, mean - std * _reach(dtype, -beta)), min(b, mean + std * _reach(dtype, alpha)),
                 params)
    lo, hi = _at_least(a, dtype), _at_most(b, dtype)
    if not lo <= hi:
        raise ValueError(f"no {dtype.name} value lies in [a, b] = [{a!r}, {b!r}]")
    # from a, b directly: beta - alpha may cancel to 0 for a wide window far out
    flat = (b - a) / std * max(abs(a - mean), abs(b - mean)) / std < FLAT_WINDOW
    if _compute_type(dtype) is np.float32 and not (_finite_in("float32", mean) and _finite_in("float32", std)):
        if not flat:
            raise ValueError(f"{params}: mean and std must be finite in float32 (the precision float32 and "
                             f"the half dtypes are computed in) unless the density is flat on [a, b]: "
                             f"(b - a) * max(|a - mean|, |b - mean|) < 2**-30 * std**2")
        return "uniform", dict(low=lo, span=hi - lo, high_below=hi)
    sign = 1.0
    if alpha + beta < 0:
        alpha, beta, sign = -beta, -alpha, -1.0
    rt2 = math.sqrt(2.0)
    p_alpha = 0.5 * math.erfc(-alpha / rt2)
    q_alpha, q_beta = 0.5 * math.erfc(alpha / rt2), 0.5 * math.erfc(beta / rt2)
    # window mass with the least cancellation: from erf near the mean, from
    # the upper-tail complements above it
    mass = q_alpha - q_beta if alpha >= 1 else 0.5 * (math.erf(beta / rt2) - math.erf(alpha / rt2))
    if flat and mass < (FLOAT32_TINY if _compute_type(dtype) is np.float32 else MIN_WINDOW_MASS):
        return "uniform", dict(low=lo, span=hi - lo, high_below=hi)
    if not mass >= MIN_WINDOW_MASS:
        raise ValueError(
            f"a={a!r}, b={b!r}: the window has probability {mass:.3g} under N({mean}, {std}^2); "
            f"at least {MIN_WINDOW_MASS} is needed"
        )
    k = -math.frexp(q_alpha)[1] if q_alpha < 0.5 else 0  # q_alpha * 2^k in [1/2, 1)
    return "truncnormal", dict(loc=mean, scale=sign * std, tn_p0=p_alpha, tn_c0=0.5 * math.erf(alpha / rt2),
                               tn_dp=mass, tn_q1=math.ldexp(q_beta, k), tn_dq=math.ldexp(mass, k),
                               tn_log_offset=k * math.log(2.0), clamp_lo=lo, clamp_hi=hi)


def _bound(name: str, value) -> float:
    """A truncation bound: a real number, infinities allowed."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name} must be a real number (inf allowed), got {type(value).__name__} {value!r}")
    return float(value)


def _fan(shape, mode, fan_in, fan_out, in_axis, out_axis, batch_axis, layout) -> float:
    """The fan ``mode`` selects, with optional explicit fan_in / fan_out."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    fin, fout = compute_fans(shape, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, layout=layout)
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value is not None:
            _plan.as_float(name, value, positive=True)
    fin = fin if fan_in is None else float(fan_in)
    fout = fout if fan_out is None else float(fan_out)
    return {"fan_in": fin, "fan_out": fout, "fan_avg": (fin + fout) / 2,
            "fan_geo_avg": math.sqrt(fin * fout)}[mode]


def _scaled(p, distribution: str, variance_scale: float, fan: float) -> np.ndarray:
    """Variance scale/fan: N(0, s^2) with s = sqrt(scale/fan); the same
    truncated at +-2 s' with s' = s / 0.8796... (Keras/JAX); or U(-a, a) with
    a = sqrt(3 scale/fan)."""
    if p.size == 0:  # a fan may be 0 here; there is nothing to draw
        return _plan.run(p, "uniform")
    if variance_scale == 0:  # gain=0: every weight is 0 (U(-0, 0) has no open interval)
        return _plan.run(p, "uniform", low=0.0, span=0.0, high_below=0.0)
    source = f"(scale {variance_scale!r}, gain^2 for Glorot/He; fan {fan!r})"
    if distribution in ("normal", "untruncated_normal"):
        std = math.sqrt(variance_scale / fan)
        return _plan.run(p, "normal", **_normal_params(0.0, std, p.dtype, f"std sqrt(scale / fan) = {std!r} {source}"))
    if distribution == "truncated_normal":
        std = math.sqrt(variance_scale / fan) / TRUNCATED_2_STD
        if std == 0.0:  # gain 0: the window [0, 0] is the point 0
            return _plan.run(p, "normal", loc=0.0, scale=0.0)
        dist, params = _truncnormal_params(0.0, std, -2.0 * std, 2.0 * std, p.dtype)
        return _plan.run(p, dist, **params)
    bound = math.sqrt(3.0 * variance_scale / fan)
    if not _finite_in(_plan.dtype_name(p.dtype), bound):
        raise ValueError(f"the uniform bound sqrt(3 * scale / fan) = {bound!r} {source} is not finite in {p.dtype.name}")
    if p.dtype.type(bound) == 0:  # a bound below the dtype's smallest value: every weight rounds to 0
        return _plan.run(p, "uniform", low=0.0, span=0.0, high_below=0.0)
    return _plan.run(p, "uniform", **_uniform_params(-bound, bound, p.dtype))


def _check_distribution(distribution, allowed=DISTRIBUTIONS):
    if distribution not in allowed:
        raise ValueError(f"distribution must be one of {list(allowed)}, got {distribution!r}")


def variance_scaling(shape, seed=None, scale=1.0, mode="fan_in", distribution="normal", *,
                     stream=0, dtype=None, out=None, threads=None, index=None,
                     fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """Samples with variance ``scale / n``, Keras/JAX ``VarianceScaling``.

    ``n`` is ``fan_in``, ``fan_out``, ``(fan_in + fan_out) / 2`` (``fan_avg``)
    or ``sqrt(fan_in * fan_out)`` (``fan_geo_avg``) per ``mode``; the fans
    come from ``compute_fans(shape, in_axis, out_axis, batch_axis, layout)``
    (JAX's axes; ``in_axis``/``out_axis``/``batch_axis`` may be tuples).
    ``distribution="normal"`` (or Keras' ``"untruncated_normal"``):
    N(0, s^2), s = sqrt(scale / n), untruncated;
    ``"truncated_normal"``: N(0, s'^2) truncated to [-2 s', 2 s'] with
    s' = s / 0.87962566103423978, so the variance is still scale / n;
    ``"uniform"``: U(-a, a) with a = sqrt(3 * scale / n).

    >>> import fastinit
    >>> w = fastinit.variance_scaling((256, 128), seed=0, scale=2.0, mode="fan_in")
    >>> w.shape, w.dtype
    ((256, 128), dtype('float32'))
    >>> t = fastinit.variance_scaling((256, 128), seed=0, distribution="truncated_normal")
    >>> bool(abs(t).max() <= 2 * (1 / 256) ** 0.5 / 0.87962566103423978)
    True
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    scale = _plan.as_float("scale", scale, positive=True)
    _check_distribution(distribution)
    n = _fan(p.shape, mode, fan_in, fan_out, in_axis, out_axis, batch_axis, layout)
    return _scaled(p, distribution, scale, n)


def _glorot(distribution, shape, seed, gain, common, fan_kw):
    p = _plan_float(shape, seed, **common)
    gain = _plan.as_float("gain", gain, nonnegative=True)
    n = _fan(p.shape, "fan_avg", **fan_kw)
    return _scaled(p, distribution, gain * gain, n)


def glorot_uniform(shape, seed=None, *, gain=1.0, stream=0, dtype=None, out=None, threads=None,
                   index=None, fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """Glorot/Xavier uniform: U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Glorot & Bengio (2010); ``torch.nn.init.xavier_uniform_``, Keras
    ``GlorotUniform``.

    >>> import fastinit
    >>> w = fastinit.glorot_uniform((300, 100), seed=0)
    >>> bool(abs(w).max() < (6 / 400) ** 0.5)
    True
    """
    return _glorot("uniform", shape, seed, gain,
                   dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
                   dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                        layout=layout))


def glorot_normal(shape, seed=None, *, gain=1.0, distribution="normal", stream=0, dtype=None, out=None, threads=None,
                  index=None, fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """Glorot/Xavier normal: N(0, s^2), ``s = gain * sqrt(2 / (fan_in + fan_out))``.

    Untruncated, as ``torch.nn.init.xavier_normal_``; ``distribution=
    "truncated_normal"`` gives Keras/JAX ``glorot_normal``: N(0, s'^2)
    truncated at +-2 s', s' = s / 0.87962566103423978.

    >>> import fastinit
    >>> w = fastinit.glorot_normal((1000, 1000), seed=0)
    >>> round(float(w.std()), 3)
    0.032
    """
    _check_distribution(distribution, NORMAL_DISTRIBUTIONS)
    return _glorot(distribution, shape, seed, gain,
                   dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
                   dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                        layout=layout))


def _he(distribution, shape, seed, a, mode, nonlinearity, gain, common, fan_kw):
    p = _plan_float(shape, seed, **common)
    a = _plan.as_float("a", a)
    if gain is None:
        gain = calculate_gain(nonlinearity, a)
    gain = _plan.as_float("gain", gain, nonnegative=True)
    n = _fan(p.shape, mode, **fan_kw)
    return _scaled(p, distribution, gain * gain, n)


def he_uniform(shape, seed=None, *, a=0.0, mode="fan_in", nonlinearity="relu", gain=None,
               stream=0, dtype=None, out=None, threads=None, index=None,
               fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``.

    ``gain = calculate_gain(nonlinearity, a)`` (``sqrt(2)`` for ReLU) unless
    ``gain`` is given; ``fan`` is the ``mode`` fan. He et al. (2015);
    ``torch.nn.init.kaiming_uniform_``.

    >>> import fastinit
    >>> w = fastinit.he_uniform((512, 256), seed=0)
    >>> bool(abs(w).max() < (6 / 512) ** 0.5)
    True
    """
    return _he("uniform", shape, seed, a, mode, nonlinearity, gain,
               dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
               dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                        layout=layout))


def he_normal(shape, seed=None, *, a=0.0, mode="fan_in", nonlinearity="relu", gain=None,
              distribution="normal", stream=0, dtype=None, out=None, threads=None, index=None,
              fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """He/Kaiming normal: N(0, s^2), ``s = gain / sqrt(fan)``.

    Untruncated, as in He et al. (2015) and ``torch.nn.init.kaiming_normal_``;
    ``distribution="truncated_normal"`` gives Keras/JAX ``he_normal``
    (N(0, s'^2) truncated at +-2 s', s' = s / 0.87962566103423978).

    >>> import fastinit
    >>> w = fastinit.he_normal((1024, 512), seed=0)
    >>> round(float(w.std()) * 1024 ** 0.5, 1)
    1.4
    """
    _check_distribution(distribution, NORMAL_DISTRIBUTIONS)
    return _he(distribution, shape, seed, a, mode, nonlinearity, gain,
               dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
               dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                        layout=layout))


def lecun_uniform(shape, seed=None, *, stream=0, dtype=None, out=None, threads=None, index=None,
                  fan_in=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (LeCun et al., 1998).

    >>> import fastinit
    >>> w = fastinit.lecun_uniform((300, 10), seed=0)
    >>> bool(abs(w).max() < 0.1)
    True
    """
    return variance_scaling(shape, seed, 1.0, "fan_in", "uniform", stream=stream, dtype=dtype,
                            out=out, threads=threads, index=index, fan_in=fan_in,
                            in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, layout=layout)


def lecun_normal(shape, seed=None, *, distribution="normal", stream=0, dtype=None, out=None, threads=None, index=None,
                 fan_in=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """LeCun normal: N(0, s^2), ``s = 1 / sqrt(fan_in)``; with SELU it gives
    self-normalizing networks (Klambauer et al., 2017). ``distribution=
    "truncated_normal"`` gives Keras/JAX ``lecun_normal`` (truncated at
    +-2 s', s' = s / 0.87962566103423978).

    >>> import fastinit
    >>> w = fastinit.lecun_normal((400, 400), seed=0)
    >>> round(float(w.std()) * 20, 2)
    1.0
    """
    _check_distribution(distribution, NORMAL_DISTRIBUTIONS)
    return variance_scaling(shape, seed, 1.0, "fan_in", distribution, stream=stream, dtype=dtype,
                            out=out, threads=threads, index=index, fan_in=fan_in,
                            in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, layout=layout)


def uniform(shape, seed=None, low=0.0, high=1.0, *, stream=0, dtype=None, out=None,
            threads=None, index=None):
    """U[low, high): 24 random bits per float32, 53 per float64; never returns
    ``high`` (``high`` rounded to ``dtype``).

    >>> import fastinit
    >>> x = fastinit.uniform((4,), seed=0, low=-1.0, high=1.0)
    >>> bool(((-1 <= x) & (x < 1)).all())
    True
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    low = _plan.as_float("low", low)
    high = _plan.as_float("high", high)
    return _plan.run(p, "uniform", **_uniform_params(low, high, p.dtype))


def normal(shape, seed=None, mean=0.0, std=1.0, *, stream=0, dtype=None, out=None,
           threads=None, index=None):
    """N(mean, std^2) by Box-Muller.

    >>> import fastinit
    >>> x = fastinit.normal(1_000_000, seed=0, mean=1.0, std=2.0)
    >>> round(float(x.mean()), 1), round(float(x.std()), 1)
    (1.0, 2.0)
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    mean = _plan.as_float("mean", mean)
    std = _plan.as_float("std", std, nonnegative=True)
    return _plan.run(p, "normal", **_normal_params(mean, std, p.dtype, f"mean={mean!r}, std={std!r}"))


def truncated_normal(shape, seed=None, mean=0.0, std=1.0, a=-2.0, b=2.0, *, stream=0, dtype=None,
                     out=None, threads=None, index=None):
    """N(mean, std^2) truncated to [a, b], ``torch.nn.init.trunc_normal_``
    semantics: ``a`` and ``b`` are absolute bounds (not in units of ``std``),
    either may be infinite.

    Sampled by inverse CDF, one uniform per element (see "Truncated normal"
    in the module docstring for the layout and the measured accuracy); narrow,
    one-sided and far-tail windows are exact to the dtype's precision, and the
    result always lies in [a, b].

    >>> import fastinit
    >>> x = fastinit.truncated_normal(100_000, seed=0, mean=0.0, std=1.0, a=3.0, b=4.0)
    >>> bool(((3 <= x) & (x <= 4)).all()), round(float(x.mean()), 2)
    (True, 3.26)
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    mean = _plan.as_float("mean", mean)
    std = _plan.as_float("std", std, positive=True)
    a, b = _bound("a", a), _bound("b", b)
    if not a < b:
        raise ValueError(f"a must be < b, got a={a!r}, b={b!r}")
    dist, params = _truncnormal_params(mean, std, a, b, p.dtype)
    return _plan.run(p, dist, **params)


def orthogonal(shape, seed=None, gain=1.0, *, stream=0, dtype=None, out=None, threads=None, index=None):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014),
    ``torch.nn.init.orthogonal_`` / Keras ``Orthogonal`` semantics.

    ``shape`` has at least 2 axes; trailing axes are flattened: ``rows =
    shape[0]``, ``cols = prod(shape[1:])``. A fastinit N(0, 1) float64 matrix
    of shape ``(rows, cols)`` (transposed to ``(cols, rows)`` when rows <
    cols) is factored by ``numpy.linalg.qr``; Q's columns are multiplied by
    the signs of R's diagonal, which makes Q Haar-distributed; the result is
    Q (or Q transposed) reshaped to ``shape``: orthonormal rows if rows <=
    cols, else orthonormal columns. Deterministic for a given seed on a given
    NumPy/LAPACK build; the last bits may differ across BLAS/LAPACK builds.
    ``index=`` returns ``full[index]`` of the full matrix, which is always
    computed (a QR factorization cannot be sharded).

    >>> import fastinit, numpy as np
    >>> q = fastinit.orthogonal((64, 32), seed=0, dtype=np.float64)
    >>> bool(np.allclose(q.T @ q, np.eye(32)))
    True
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    gain = _plan.as_float("gain", gain)
    if len(p.shape) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 axes, got {p.shape}")
    rows, cols = p.shape[0], math.prod(p.shape[1:])
    if rows * cols == 0:
        full = np.zeros(p.shape)
    else:
        z = normal((rows, cols) if rows >= cols else (cols, rows), p.seed, stream=p.stream,
                   dtype=np.float64, threads=p.threads)
        q, r = np.linalg.qr(z)
        d = np.sign(np.diagonal(r))
        q *= np.where(d == 0, 1.0, d)
        full = (q if rows >= cols else q.T).reshape(p.shape) * gain
    block = _plan.select(p, full).astype(_compute_type(p.dtype)).astype(p.dtype)
    if p.out is None:
        return block
    p.out[...] = block
    return p.out


def bits(shape, seed=None, stream=0, *, out=None, threads=None, index=None):
    """The raw uint32 Philox4x32-10 words in fastinit's layout.

    Element ``64*g + 16*w + l`` is word ``w`` of the Philox block with counter
    ``(n, n >> 32, stream, stream >> 32)``, ``n = 16*g + l``, under the key
    ``(seed, seed >> 32)``: elements 0, 16, 32, 48 of ``bits((64,), 0)`` are
    the Random123 known-answer vector for the all-zero counter and key.

    >>> import fastinit
    >>> [hex(x) for x in fastinit.bits(64, seed=0)[::16]]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    p = _plan.plan(shape, seed, stream, None, out, index, threads, ("uint32",))
    return _plan.run(p, "bits")


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

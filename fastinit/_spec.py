"""The one table of initializers.

Each entry of ``INITIALIZERS`` says, for one public initializer: its name and
aliases, its keyword options (in signature order), how options and the fans of
a shape give its distribution (the variance formula, the gain, the fan rule),
the dtypes it allows, and its PyTorch, Keras and JAX counterparts. The
distribution of a call is a ``Uniform``, ``Normal``, ``TruncatedNormal``,
``Bits`` or ``Orthogonal`` value; ``.core(dtype)`` of the first four is the
C-core request ``(kernel, parameters)``; ``Uniform`` and ``Normal`` also
have ``.std``. Nothing else in fastinit computes a
std or a bound: the public functions (``fastinit.initializers``), the PyTorch
adapter, Dask, the CLI, ``bench``, the golden tool and the tests all go
through this table.

>>> import numpy as np
>>> from fastinit import _spec
>>> _spec.INITIALIZERS["glorot_uniform"].distribution((3, 2)).high   # a = sqrt(6 / 5)
1.0954451150103321
>>> _spec.INITIALIZERS["he_normal"].distribution((64, 3, 7, 7), {"layout": "torch", "mode": "fan_out"}).std
0.02525381361380527
>>> _spec.BY_NAME["xavier_uniform"].distribution((3, 2), {"gain": 0.0}).core(np.dtype(np.float32))
('uniform', {'low': 0.0, 'span': 0.0, 'high_below': 0.0})

Adding an initializer: write its distribution function (options, shape ->
distribution, validating each option with the ``_plan`` checks), add an
``Initializer`` entry, and a public function in ``fastinit/initializers.py``
whose keyword options are the entry's ``options`` in the same order (a test
checks it) and whose body is ``return _generate(name, ...)``
(``_spec.generate``, which also gives it the hot path).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from . import _core, _plan
from .fans import calculate_gain, compute_fans

FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")
BITS_DTYPES = ("uint32",)
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
# "untruncated_normal" is Keras' name for fastinit's (and JAX's) "normal".
DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")
NORMAL_DISTRIBUTIONS = ("normal", "truncated_normal")
# Standard deviation of the standard normal truncated to [-2, 2]
# (Keras/JAX VarianceScaling divide by it).
TRUNCATED_2_STD = 0.87962566103423978
# Smallest window probability the double-precision setup resolves.
MIN_WINDOW_MASS = 1e-300


# ---------------------------------------------------------------- dtypes

def compute_type(dtype: np.dtype):
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
# Below this width (beta - alpha) * max(|alpha|, |beta|) of a window in
# standard deviations, the truncated normal's density is flat on the window
# to 2**-30: its quantile is linear in u to far below a float32 ulp.
FLAT_WINDOW = 2.0**-30
FLOAT32_TINY = 2.0**-126


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


# ---------------------------------------------------------------- distributions

class Uniform(NamedTuple):
    """U[low, high): never returns high (high rounded to the dtype). With
    equal_ok, low == high in the dtype is the constant high (gain 0, a bound
    below the dtype's smallest value, PyTorch's ``uniform_(t, 1, 1)``);
    otherwise it is an error. ``scaled_from``: the (variance, fan) a
    variance-scaled bound came from, for the error if it is not finite in
    the dtype."""

    low: float
    high: float
    equal_ok: bool = False
    scaled_from: tuple | None = None

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def core(self, dtype: np.dtype) -> tuple:
        """C-core parameters: the bounds rounded to dtype, and the largest
        dtype value below high, which caps the result so that high is never
        returned. Half dtypes compute with the float32 parameters (their
        values are float32 values rounded) and a cap that is below high in
        the half dtype."""
        low, high = self.low, self.high
        if self.scaled_from is not None and not _finite_in(_plan.dtype_name(dtype), high):
            raise ValueError(f"the uniform bound sqrt(3 * scale / fan) = {high!r} {_source(self.scaled_from)} "
                             f"is not finite in {dtype.name}")
        # a high that rounds to inf would make the largest finite value a pile
        _check_representable(dtype, low=low, high=high)
        if self.equal_ok and dtype.type(low) == dtype.type(high):
            v = float(dtype.type(high))
            return "uniform", dict(low=v, span=0.0, high_below=v)
        t = compute_type(dtype)
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
        return "uniform", dict(low=float(lo), span=span, high_below=top)


class Normal(NamedTuple):
    """N(mean, std^2) by Box-Muller. ``scaled_from``: the (variance, fan) a
    variance-scaled std came from, for the error if samples could leave the
    dtype's finite range."""

    mean: float
    std: float
    scaled_from: tuple | None = None

    def core(self, dtype: np.dtype) -> tuple:
        reach = self.std * _reach(dtype)
        lowest, highest = self.mean - reach, self.mean + reach
        if not (_finite_in(_plan.dtype_name(dtype), lowest) and _finite_in(_plan.dtype_name(dtype), highest)):
            params = (f"mean={self.mean!r}, std={self.std!r}" if self.scaled_from is None
                      else f"std sqrt(scale / fan) = {self.std!r} {_source(self.scaled_from)}")
            _check_reach(dtype, lowest, highest, params)
        return "normal", dict(loc=self.mean, scale=self.std)


class TruncatedNormal(NamedTuple):
    """N(mean, std^2) truncated to [a, b] (absolute bounds, either may be
    infinite), by inverse CDF (see fastinit.initializers' module doc)."""

    mean: float
    std: float
    a: float
    b: float

    def core(self, dtype: np.dtype) -> tuple:
        """The CDF pair of the window in double, mirrored to the upper tail
        when the window lies mostly below the mean. The float32 kernel (also
        behind the half dtypes) holds mean, std and the window's mass in
        float32, the float64 one the mass in float64; where they cannot (std
        or mean beyond float32, a mass below the normal range, or a window
        that standardizes to a point) but the window is flat, the result is
        U[a, b), which equals the truncated normal to the dtype's precision
        there."""
        mean, std, a, b = self
        alpha, beta = (a - mean) / std, (b - mean) / std
        params = f"mean={mean!r}, std={std!r}, a={a!r}, b={b!r}"
        _check_reach(dtype, max(a, mean - std * _reach(dtype, -beta)), min(b, mean + std * _reach(dtype, alpha)),
                     params)
        lo, hi = _at_least(a, dtype), _at_most(b, dtype)
        if not lo <= hi:
            raise ValueError(f"no {dtype.name} value lies in [a, b] = [{a!r}, {b!r}]")
        # from a, b directly: beta - alpha may cancel to 0 for a wide window far out
        flat = (b - a) / std * max(abs(a - mean), abs(b - mean)) / std < FLAT_WINDOW
        if compute_type(dtype) is np.float32 and not (_finite_in("float32", mean) and _finite_in("float32", std)):
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
        if flat and mass < (FLOAT32_TINY if compute_type(dtype) is np.float32 else MIN_WINDOW_MASS):
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


class Bits(NamedTuple):
    """The raw uint32 Philox words."""

    def core(self, dtype: np.dtype) -> tuple:
        return "bits", {}


class Orthogonal(NamedTuple):
    """QR of a fastinit N(0, 1) float64 matrix with the sign of diag(R), times
    gain; needs the whole array (see fastinit.orthogonal)."""

    gain: float


def scaled(distribution: str, variance: float, fan: float):
    """Variance ``variance / fan``: N(0, s^2) with s = sqrt(variance / fan);
    the same truncated at +-2 s' with s' = s / 0.8796... (Keras/JAX); or
    U(-a, a) with a = sqrt(3 variance / fan). Variance 0 (gain 0) is the
    constant 0; fan 0 happens only for an empty shape (nothing to draw)."""
    if variance == 0 or fan == 0:
        return Uniform(0.0, 0.0, equal_ok=True)
    if distribution in ("normal", "untruncated_normal"):
        return Normal(0.0, math.sqrt(variance / fan), (variance, fan))
    if distribution == "truncated_normal":
        std = math.sqrt(variance / fan) / TRUNCATED_2_STD
        if std == 0.0:  # underflow: the window [0, 0] is the point 0
            return Normal(0.0, 0.0)
        return TruncatedNormal(0.0, std, -2.0 * std, 2.0 * std)
    bound = math.sqrt(3.0 * variance / fan)
    return Uniform(-bound, bound, True, (variance, fan))


def _source(scaled_from: tuple) -> str:
    variance, fan = scaled_from
    return f"(scale {variance!r}, gain^2 for Glorot/He; fan {fan!r})"


# ---------------------------------------------------------------- options

def check_choice(name: str, value, allowed: tuple):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def fan(shape: tuple, mode: str, o: dict) -> float:
    """The fan ``mode`` selects: from ``compute_fans`` with the axes and
    layout in ``o``, or the fan_in / fan_out overrides there (an
    initializer without a fan_out option has none)."""
    check_choice("mode", mode, MODES)
    fin, fout = compute_fans(shape, in_axis=o["in_axis"], out_axis=o["out_axis"],
                             batch_axis=o["batch_axis"], layout=o["layout"])
    override_in, override_out = o["fan_in"], o.get("fan_out")
    for name, value in (("fan_in", override_in), ("fan_out", override_out)):
        if value is not None:
            _plan.as_float(name, value, positive=True)
    fin = fin if override_in is None else float(override_in)
    fout = fout if override_out is None else float(override_out)
    return {"fan_in": fin, "fan_out": fout, "fan_avg": (fin + fout) / 2,
            "fan_geo_avg": math.sqrt(fin * fout)}[mode]


def _variance_scaling(shape, o):
    scale = _plan.as_float("scale", o["scale"], positive=True)
    distribution = check_choice("distribution", o["distribution"], DISTRIBUTIONS)
    return scaled(distribution, scale, fan(shape, o["mode"], o))


# The Glorot, He and LeCun rules for the distributions allowed (the first
# when the initializer has no distribution option).

def _glorot(allowed):
    def glorot(shape, o):
        distribution = check_choice("distribution", o.get("distribution", allowed[0]), allowed)
        gain = _plan.as_float("gain", o["gain"], nonnegative=True)
        return scaled(distribution, gain * gain, fan(shape, "fan_avg", o))
    return glorot


def _he(allowed):
    def he(shape, o):
        distribution = check_choice("distribution", o.get("distribution", allowed[0]), allowed)
        a = _plan.as_float("a", o["a"])
        gain = calculate_gain(o["nonlinearity"], a) if o["gain"] is None else o["gain"]
        gain = _plan.as_float("gain", gain, nonnegative=True)
        return scaled(distribution, gain * gain, fan(shape, o["mode"], o))
    return he


def _lecun(allowed):
    def lecun(shape, o):
        distribution = check_choice("distribution", o.get("distribution", allowed[0]), allowed)
        return scaled(distribution, 1.0, fan(shape, "fan_in", o))
    return lecun


def _uniform(shape, o):
    return Uniform(_plan.as_float("low", o["low"]), _plan.as_float("high", o["high"]))


def _normal(shape, o):
    return Normal(_plan.as_float("mean", o["mean"]), _plan.as_float("std", o["std"], nonnegative=True))


def _truncated_normal(shape, o):
    mean = _plan.as_float("mean", o["mean"])
    std = _plan.as_float("std", o["std"], positive=True)
    a = _plan.as_float("a", o["a"], finite=False)
    b = _plan.as_float("b", o["b"], finite=False)
    if not a < b:
        raise ValueError(f"a must be < b, got a={a!r}, b={b!r}")
    return TruncatedNormal(mean, std, a, b)


def _orthogonal(shape, o):
    gain = _plan.as_float("gain", o["gain"])
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 axes, got {shape}")
    return Orthogonal(gain)


def _bits(shape, o):
    return Bits()


# ---------------------------------------------------------------- the table

class Initializer(NamedTuple):
    name: str
    options: tuple                 # (keyword, default) of its options besides the common ones, in signature order
    rule: Callable                 # (shape, {option: value} with every option) -> distribution; validates them
    formula: str                   # the distribution and its parameter, for people
    aliases: tuple = ()
    dtypes: tuple = FLOAT_DTYPES   # dtype names allowed; the first is the default
    torch: str | None = None       # torch.nn.init
    keras: str | None = None       # keras.initializers
    jax: str | None = None         # jax.nn.initializers

    @property
    def option_names(self) -> tuple:
        return _OPTION_NAMES[self.name]

    def distribution(self, shape, options: dict | None = None):
        """The distribution this initializer draws from for ``shape`` (the
        full shape: fans come from it) and ``options`` (keyword options;
        absent ones take their defaults). Validates shape and options."""
        options = options or {}
        unknown = set(options) - set(self.option_names)
        if unknown:
            raise TypeError(f"{self.name} has no option {sorted(unknown)[0]!r}; "
                            f"its options are {list(self.option_names)}")
        return self.rule(_plan.check_shape(shape), {**dict(self.options), **options})

    @property
    def whole_array(self) -> bool:
        """Needs the whole array (cannot generate one block alone)."""
        return self.name == "orthogonal"


# fan options: JAX's axes, PyTorch's layout, explicit fans
_FANS = (("fan_in", None), ("fan_out", None), ("in_axis", -2), ("out_axis", -1), ("batch_axis", ()), ("layout", None))
_FAN_IN = tuple(o for o in _FANS if o[0] != "fan_out")  # LeCun uses fan_in only
# PyTorch's default nonlinearity: with a = 0 its gain is sqrt(2), as ReLU's;
# with a given, a is the negative slope it means (nn.Linear's a = sqrt(5))
_HE = (("a", 0.0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu"), ("gain", None))
_NORMAL = (("distribution", "normal"),)  # untruncated; "truncated_normal" is the Keras/JAX default

_TABLE = (
    Initializer("variance_scaling", (("scale", 1.0), ("mode", "fan_in"), ("distribution", "normal")) + _FANS,
                _variance_scaling, "variance = scale / n, n = fan_in, fan_out, fan_avg or fan_geo_avg (mode)",
                keras="VarianceScaling", jax="variance_scaling"),
    Initializer("glorot_uniform", (("gain", 1.0),) + _FANS, _glorot(("uniform",)),
                "U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))", aliases=("xavier_uniform",),
                torch="xavier_uniform_", keras="GlorotUniform", jax="glorot_uniform"),
    Initializer("glorot_normal", (("gain", 1.0),) + _NORMAL + _FANS, _glorot(NORMAL_DISTRIBUTIONS),
                "N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))", aliases=("xavier_normal",),
                torch="xavier_normal_", keras="GlorotNormal", jax="glorot_normal"),
    Initializer("he_uniform", _HE + _FANS, _he(("uniform",)),
                "U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)",
                aliases=("kaiming_uniform",), torch="kaiming_uniform_", keras="HeUniform", jax="he_uniform"),
    Initializer("he_normal", _HE + _NORMAL + _FANS, _he(NORMAL_DISTRIBUTIONS),
                "N(0, s^2), s = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)",
                aliases=("kaiming_normal",), torch="kaiming_normal_", keras="HeNormal", jax="he_normal"),
    Initializer("lecun_uniform", _FAN_IN, _lecun(("uniform",)), "U(-a, a), a = sqrt(3 / fan_in)",
                keras="LecunUniform", jax="lecun_uniform"),
    Initializer("lecun_normal", _NORMAL + _FAN_IN, _lecun(NORMAL_DISTRIBUTIONS), "N(0, s^2), s = 1 / sqrt(fan_in)",
                keras="LecunNormal", jax="lecun_normal"),
    Initializer("uniform", (("low", 0.0), ("high", 1.0)), _uniform, "U[low, high)",
                torch="uniform_", keras="RandomUniform", jax="uniform"),
    Initializer("normal", (("mean", 0.0), ("std", 1.0)), _normal, "N(mean, std^2)",
                torch="normal_", keras="RandomNormal", jax="normal"),
    Initializer("truncated_normal", (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)), _truncated_normal,
                "N(mean, std^2) on [a, b] (absolute bounds)",
                torch="trunc_normal_", keras="TruncatedNormal", jax="truncated_normal"),
    Initializer("orthogonal", (("gain", 1.0),), _orthogonal, "Haar-orthogonal rows or columns times gain",
                torch="orthogonal_", keras="Orthogonal", jax="orthogonal"),
    Initializer("bits", (), _bits, "raw uint32 Philox4x32-10 words", dtypes=BITS_DTYPES),
)

INITIALIZERS = {entry.name: entry for entry in _TABLE}
_OPTION_NAMES = {entry.name: tuple(name for name, _ in entry.options) for entry in _TABLE}
# every public name, aliases included, to its entry
BY_NAME = {**INITIALIZERS, **{alias: entry for entry in _TABLE for alias in entry.aliases}}


# ---------------------------------------------------------------- generation

def sample(distribution, p: _plan.Plan) -> np.ndarray:
    """Generate p's block of ``distribution`` into p.out or a new array."""
    if isinstance(distribution, Orthogonal):
        return _orthogonal_block(distribution.gain, p)
    kernel, params = distribution.core(p.dtype)
    return _plan.run(p, kernel, **params)


def _orthogonal_block(gain: float, p: _plan.Plan) -> np.ndarray:
    rows, cols = p.shape[0], math.prod(p.shape[1:])
    if p.size == 0:  # an empty block (or shape): nothing to factor (and no memory for the full shape)
        full = np.broadcast_to(0.0, p.shape)
    else:
        z = generate("normal", (rows, cols) if rows >= cols else (cols, rows), p.seed,
                     p.stream, np.float64, None, p.threads, None, (0.0, 1.0))
        q, r = np.linalg.qr(z)
        d = np.sign(np.diagonal(r))
        q *= np.where(d == 0, 1.0, d)
        full = (q if rows >= cols else q.T).reshape(p.shape) * gain
    # C order like every other initializer (LAPACK returns Fortran order)
    block = _plan.select(p, full).astype(compute_type(p.dtype)).astype(p.dtype, order="C")
    if p.out is None:
        return block
    p.out[...] = block
    return p.out


def orthogonal_columns(shape, seed, *, scale, column_axis, stream=0, dtype=None, index=None, out=None):
    """JAX's and Keras' layout of an orthogonal initializer: orthonormal
    along ``column_axis`` against the product of the other axes,
    ``fastinit.orthogonal`` of that 2-D matrix moved into place; ``index=``
    selects a block (an empty block only validates: no QR)."""
    shape = _plan.check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 axes, got {shape}")
    if not -len(shape) <= column_axis < len(shape):
        raise ValueError(f"column_axis={column_axis!r} is out of range for a shape with {len(shape)} axes")
    axis = column_axis % len(shape)
    cols = shape[axis]
    rest = shape[:axis] + shape[axis + 1:]
    if index is not None:
        block_shape = np.broadcast_to(np.empty((), np.uint8), shape)[index].shape  # no allocation
        if 0 in block_shape:
            dt = _plan.check_dtype(dtype, out, FLOAT_DTYPES)
            return np.empty(block_shape, dt) if out is None else out
    q = generate("orthogonal", (math.prod(rest), cols), seed, stream, dtype, None, None, None, (scale,))
    full = np.moveaxis(q.reshape(rest + (cols,)), -1, axis)
    block = full if index is None else full[index]
    if out is None:
        return np.ascontiguousarray(block)
    out[...] = block
    return out


def _generate(name, shape, seed, stream, dtype, out, threads, index, values):
    """The full path of a call: validate everything, compute the
    distribution's parameters, fill; and cache the request if the call has a
    plain key (_core.hot_key), so the next such call only checks seed,
    stream and out (_core.generate)."""
    entry = INITIALIZERS[name]
    p = _plan.plan(shape, seed, stream, dtype, out, index, threads, entry.dtypes)
    distribution = entry.rule(p.shape, dict(zip(_OPTION_NAMES[name], values)))
    key = None
    if p.rows is None and not isinstance(distribution, Orthogonal):
        key = _core.hot_key(name, shape, dtype, out, threads, index, values)
    if key is None:
        return sample(distribution, p)
    kernel, params = distribution.core(p.dtype)
    request = _core.Request(p.out_shape, p.dtype, kernel, p.layout, _plan.thread_count(p.size, p.threads),
                            threads is None, params)
    _core.cache_request(key, request)
    return request.run(p.seed, p.stream, p.out)


_core.set_full_path(_generate)
# A call of the public initializer ``name``, ``values`` its options' values
# in the order of its ``options``; validated in full before anything is
# written, or served by the validated request of an earlier call like it.
generate = _core.generate

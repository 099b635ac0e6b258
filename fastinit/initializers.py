"""The initializers: one short function each, over shared helpers for fans,
parameters and generation. Formulas follow PyTorch, Keras and JAX (see the
table in README.md); every function returns a NumPy array whose element at
each position is a pure function of (seed, stream, position).

Common keyword arguments
------------------------
stream : int in [0, 2**64), default 0
    Independent stream under the same seed (one seed can feed many tensors).
dtype : numpy.float32 (default) or numpy.float64
    ``None`` means ``out.dtype`` when ``out`` is given.
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
index : slice or tuple of slices (step 1), optional
    Return exactly ``full[index]`` without generating the rest of ``full``;
    fans come from the full ``shape``. Use it to make one shard of a table.
"""
from __future__ import annotations

import math

import numpy as np

from . import _plan
from .fans import calculate_gain, compute_fans

FLOAT_DTYPES = (np.float32, np.float64)
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("normal", "uniform")


def _plan_float(shape, seed, stream, dtype, out, index, threads):
    return _plan.plan(shape, seed, stream, dtype, out, index, threads, FLOAT_DTYPES)


def _uniform_params(low: float, high: float, dtype: np.dtype) -> dict:
    """C-core parameters for U[low, high) in dtype: the bounds rounded to
    dtype, and the largest dtype value below high, which caps the result so
    that high is never returned."""
    t = dtype.type
    lo, hi = t(low), t(high)
    if not lo < hi:
        raise ValueError(f"low must be < high in {dtype.name}, got low={low!r}, high={high!r}")
    span = float(hi) - float(lo)
    with np.errstate(over="ignore"):
        span_finite = np.isfinite(t(span))
    if not span_finite:
        # low + inf * u would be nan or inf for every u
        raise ValueError(f"high - low must be finite in {dtype.name}, got low={low!r}, high={high!r}")
    top = np.nextafter(hi, t(-np.inf))
    return dict(low=float(lo), span=span, high_below=float(top))


def _fan(shape, mode, fan_in, fan_out, in_axis, out_axis, layout) -> float:
    """The fan ``mode`` selects, with optional explicit fan_in / fan_out."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    fin, fout = compute_fans(shape, in_axis=in_axis, out_axis=out_axis, layout=layout)
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value is not None:
            _plan.as_float(name, value, positive=True)
    fin = fin if fan_in is None else float(fan_in)
    fout = fout if fan_out is None else float(fan_out)
    return {"fan_in": fin, "fan_out": fout, "fan_avg": (fin + fout) / 2,
            "fan_geo_avg": math.sqrt(fin * fout)}[mode]


def _scaled(p, distribution: str, variance_scale: float, fan: float) -> np.ndarray:
    """N(0, scale/fan) or U(-a, a) with a = sqrt(3 scale/fan)."""
    if p.size == 0:  # a fan may be 0 here; there is nothing to draw
        return _plan.run(p, "uniform")
    if variance_scale == 0:  # gain=0: every weight is 0 (U(-0, 0) has no open interval)
        return _plan.run(p, "uniform", low=0.0, span=0.0, high_below=0.0)
    if distribution == "normal":
        return _plan.run(p, "normal", loc=0.0, scale=math.sqrt(variance_scale / fan))
    bound = math.sqrt(3.0 * variance_scale / fan)
    return _plan.run(p, "uniform", **_uniform_params(-bound, bound, p.dtype))


def _check_distribution(distribution):
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}")


def variance_scaling(shape, seed=None, scale=1.0, mode="fan_in", distribution="normal", *,
                     stream=0, dtype=None, out=None, threads=None, index=None,
                     fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, layout=None):
    """Samples with variance ``scale / n``, Keras/JAX ``VarianceScaling``.

    ``n`` is ``fan_in``, ``fan_out``, ``(fan_in + fan_out) / 2`` (``fan_avg``)
    or ``sqrt(fan_in * fan_out)`` (``fan_geo_avg``) per ``mode``.
    ``distribution="normal"``: N(0, scale / n), untruncated;
    ``"uniform"``: U(-a, a) with a = sqrt(3 * scale / n).

    >>> import fastinit
    >>> w = fastinit.variance_scaling((256, 128), seed=0, scale=2.0, mode="fan_in")
    >>> w.shape, w.dtype
    ((256, 128), dtype('float32'))
    """
    p = _plan_float(shape, seed, stream, dtype, out, index, threads)
    scale = _plan.as_float("scale", scale, positive=True)
    _check_distribution(distribution)
    n = _fan(p.shape, mode, fan_in, fan_out, in_axis, out_axis, layout)
    return _scaled(p, distribution, scale, n)


def _glorot(distribution, shape, seed, gain, common, fan_kw):
    p = _plan_float(shape, seed, **common)
    gain = _plan.as_float("gain", gain, nonnegative=True)
    n = _fan(p.shape, "fan_avg", **fan_kw)
    return _scaled(p, distribution, gain * gain, n)


def glorot_uniform(shape, seed=None, *, gain=1.0, stream=0, dtype=None, out=None, threads=None,
                   index=None, fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, layout=None):
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
                   dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, layout=layout))


def glorot_normal(shape, seed=None, *, gain=1.0, stream=0, dtype=None, out=None, threads=None,
                  index=None, fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, layout=None):
    """Glorot/Xavier normal: N(0, s^2), ``s = gain * sqrt(2 / (fan_in + fan_out))``.

    Untruncated, as ``torch.nn.init.xavier_normal_``.

    >>> import fastinit
    >>> w = fastinit.glorot_normal((1000, 1000), seed=0)
    >>> round(float(w.std()), 3)
    0.032
    """
    return _glorot("normal", shape, seed, gain,
                   dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
                   dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, layout=layout))


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
               fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, layout=None):
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
               dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, layout=layout))


def he_normal(shape, seed=None, *, a=0.0, mode="fan_in", nonlinearity="relu", gain=None,
              stream=0, dtype=None, out=None, threads=None, index=None,
              fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, layout=None):
    """He/Kaiming normal: N(0, s^2), ``s = gain / sqrt(fan)``.

    Untruncated, as in He et al. (2015) and ``torch.nn.init.kaiming_normal_``.

    >>> import fastinit
    >>> w = fastinit.he_normal((1024, 512), seed=0)
    >>> round(float(w.std()) * 1024 ** 0.5, 1)
    1.4
    """
    return _he("normal", shape, seed, a, mode, nonlinearity, gain,
               dict(stream=stream, dtype=dtype, out=out, index=index, threads=threads),
               dict(fan_in=fan_in, fan_out=fan_out, in_axis=in_axis, out_axis=out_axis, layout=layout))


def lecun_uniform(shape, seed=None, *, stream=0, dtype=None, out=None, threads=None, index=None,
                  fan_in=None, in_axis=-2, out_axis=-1, layout=None):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (LeCun et al., 1998).

    >>> import fastinit
    >>> w = fastinit.lecun_uniform((300, 10), seed=0)
    >>> bool(abs(w).max() < 0.1)
    True
    """
    return variance_scaling(shape, seed, 1.0, "fan_in", "uniform", stream=stream, dtype=dtype,
                            out=out, threads=threads, index=index, fan_in=fan_in,
                            in_axis=in_axis, out_axis=out_axis, layout=layout)


def lecun_normal(shape, seed=None, *, stream=0, dtype=None, out=None, threads=None, index=None,
                 fan_in=None, in_axis=-2, out_axis=-1, layout=None):
    """LeCun normal: N(0, s^2), ``s = 1 / sqrt(fan_in)``; with SELU it gives
    self-normalizing networks (Klambauer et al., 2017).

    >>> import fastinit
    >>> w = fastinit.lecun_normal((400, 400), seed=0)
    >>> round(float(w.std()) * 20, 2)
    1.0
    """
    return variance_scaling(shape, seed, 1.0, "fan_in", "normal", stream=stream, dtype=dtype,
                            out=out, threads=threads, index=index, fan_in=fan_in,
                            in_axis=in_axis, out_axis=out_axis, layout=layout)


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
    return _plan.run(p, "normal", loc=mean, scale=std)


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
    p = _plan.plan(shape, seed, stream, np.uint32, out, index, threads, (np.uint32,))
    return _plan.run(p, "bits")


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

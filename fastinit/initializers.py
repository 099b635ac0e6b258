"""The initializers: one short function each, with its signature and
documentation; fastinit._spec holds what each one draws (fan rule, variance
formula, gain, distribution, dtypes), so every formula is in one place. The
body of each, the same call of the prepared-call layer with the options in
the spec's order, is made from the spec by ``_from_spec``, which also checks
the signature against the spec entry: nothing is stated twice.
Formulas follow PyTorch, Keras and JAX (see the table in docs/numpy.md); every
function returns a NumPy array whose element at each position is a pure
function of (seed, stream, position).

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
normal CDF (no rejection loop), so the layout of docs/design.md and ``index=``
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

import inspect

# what the bodies _from_spec makes call
from ._prepare import fill_cached as _fill_cached, full_call as _full_call  # noqa: F401
from ._spec import INITIALIZERS as _INITIALIZERS


def _from_spec(declared):
    """The public initializer declared (its signature and docstring) for the
    spec entry of its name, with the body every one has, made from the
    entry: the hot path's lookup ``_fill_cached(name, shape, seed, stream,
    dtype, out, threads, index, values)``, ``values`` its options in the
    entry's order, and on a miss (None) ``_full_call`` of the same. The
    declared signature must be the entry's (``Initializer.signature``),
    checked here. The body is compiled once, so a call costs what a
    hand-written one does (no dispatcher frame between)."""
    entry = _INITIALIZERS[declared.__name__]
    signature = inspect.signature(declared)
    if signature != entry.signature():
        raise TypeError(f"{entry.name}{signature} is not the spec's signature {entry.signature()}")
    params = []
    for p in signature.parameters.values():
        if p.kind is p.KEYWORD_ONLY and "*" not in params:
            params.append("*")
        params.append(p.name)
    dtype = "dtype" if "dtype" in signature.parameters else "None"
    options = "".join(f"{name}, " for name in entry.option_names)
    arguments = f"{entry.name!r}, shape, seed, stream, {dtype}, out, threads, index, values"
    source = (f"def {entry.name}({', '.join(params)}):\n"
              f"    values = ({options})\n"
              f"    array = _fill_cached({arguments})\n"
              f"    return _full_call({arguments}) if array is None else array\n")
    made = {}
    exec(source, declared.__globals__, made)  # the module's globals: doctest sees it as ours
    public = made[entry.name]
    public.__defaults__, public.__kwdefaults__ = declared.__defaults__, declared.__kwdefaults__
    public.__doc__, public.__qualname__, public.__wrapped__ = declared.__doc__, declared.__qualname__, declared
    return public


@_from_spec
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


@_from_spec
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


@_from_spec
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


@_from_spec
def he_uniform(shape, seed=None, *, a=0.0, mode="fan_in", nonlinearity="leaky_relu", gain=None,
               stream=0, dtype=None, out=None, threads=None, index=None,
               fan_in=None, fan_out=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``.

    ``gain = calculate_gain(nonlinearity, a)`` unless ``gain`` is given:
    ``sqrt(2)`` for ReLU and for the default, PyTorch's ``leaky_relu`` with
    negative slope ``a = 0``; ``fan`` is the ``mode`` fan. He et al. (2015);
    ``torch.nn.init.kaiming_uniform_``.

    >>> import fastinit
    >>> w = fastinit.he_uniform((512, 256), seed=0)
    >>> bool(abs(w).max() < (6 / 512) ** 0.5)
    True
    """


@_from_spec
def he_normal(shape, seed=None, *, a=0.0, mode="fan_in", nonlinearity="leaky_relu", gain=None,
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


@_from_spec
def lecun_uniform(shape, seed=None, *, stream=0, dtype=None, out=None, threads=None, index=None,
                  fan_in=None, in_axis=-2, out_axis=-1, batch_axis=(), layout=None):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (LeCun et al., 1998).

    >>> import fastinit
    >>> w = fastinit.lecun_uniform((300, 10), seed=0)
    >>> bool(abs(w).max() < 0.1)
    True
    """


@_from_spec
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


@_from_spec
def uniform(shape, seed=None, low=0.0, high=1.0, *, stream=0, dtype=None, out=None,
            threads=None, index=None):
    """U[low, high): 24 random bits per float32, 53 per float64; never returns
    ``high`` (``high`` rounded to ``dtype``).

    >>> import fastinit
    >>> x = fastinit.uniform((4,), seed=0, low=-1.0, high=1.0)
    >>> bool(((-1 <= x) & (x < 1)).all())
    True
    """


@_from_spec
def normal(shape, seed=None, mean=0.0, std=1.0, *, stream=0, dtype=None, out=None,
           threads=None, index=None):
    """N(mean, std^2) by Box-Muller.

    >>> import fastinit
    >>> x = fastinit.normal(1_000_000, seed=0, mean=1.0, std=2.0)
    >>> round(float(x.mean()), 1), round(float(x.std()), 1)
    (1.0, 2.0)
    """


@_from_spec
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


@_from_spec
def orthogonal(shape, seed=None, gain=1.0, *, stream=0, dtype=None, out=None, threads=None, index=None):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014),
    ``torch.nn.init.orthogonal_`` / Keras ``Orthogonal`` semantics.

    ``shape`` has at least 2 axes; trailing axes are flattened: ``rows =
    shape[0]``, ``cols = prod(shape[1:])``. A fastinit N(0, 1) float64 matrix
    of shape ``(rows, cols)`` (transposed to ``(cols, rows)`` when rows <
    cols) is factored by ``numpy.linalg.qr``; Q's columns are multiplied by
    the signs of R's diagonal, which makes Q Haar-distributed; the result is
    Q (or Q transposed) reshaped to ``shape``: orthonormal rows if rows <=
    cols, else orthonormal columns. The input matrix is the same everywhere;
    the result's last bits are LAPACK's: they may differ across BLAS builds,
    the CPU kernel OpenBLAS picks and its thread count.
    ``index=`` returns ``full[index]`` of the full matrix, which is always
    computed (a QR factorization cannot be sharded).

    >>> import fastinit, numpy as np
    >>> q = fastinit.orthogonal((64, 32), seed=0, dtype=np.float64)
    >>> bool(np.allclose(q.T @ q, np.eye(32)))
    True
    """


@_from_spec
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


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

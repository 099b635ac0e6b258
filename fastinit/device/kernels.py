"""Triton kernels that write fastinit's bits on the device.

A port of the C reference (``fastinit/src/kernels_scalar.c`` and
``transforms.h``): the same Philox4x32-10 words in the same lane-group
layout, the same word-to-float conversions and the same polynomials
(``constants.py``), evaluated with the same IEEE operations in the same
order: ``tl.div_rn`` / ``tl.sqrt_rn`` for float32 (float64 ``/`` and
``tl.sqrt`` are correctly rounded), no libdevice call, and compiled with
``enable_fp_fusion=False`` so nothing is contracted into an fma
(``tools/ptx_check.py`` audits the PTX). float16 and bfloat16 are the
float32 value rounded to nearest even by the C core's integer code, stored
as int16 bits.

Each program writes one tile of BLOCK consecutive Philox counters of one
run of the output (a run: consecutive logical positions, the innermost
axis of the block after merging axes); every word lands at its position
(``_store``) if that position lies in the run. The layout arguments, the
same for every kernel:

* ``base``: logical position of the block's first element; ``dest0``: its
  offset in the output (elements);
* ``n1, n2``: sizes of the two outer axes nearest the run (the outermost
  axis's size is implied by the grid), ``l0..l2`` their logical strides,
  ``d0..d3`` the output strides of the three outer axes and the run;
* ``run_len``, ``tiles_per_run``: the run's length and the tiles per run;
* with ``HAS_ROWS`` the outermost axis's logical index is ``rows[i0]``
  (global row ids, FSDP2's strided rows).

Seed and stream arrive as 32-bit words (int32 bit patterns), float
parameters as their IEEE bit patterns (int32 for float32, int64 for
float64), so that no launcher can round them.
"""
import triton
import triton.language as tl

from . import constants as K

LOG_F32 = tl.constexpr(K.LOG_F32_COEF)
LOG_F64_EVEN = tl.constexpr(K.LOG_F64_EVEN_COEF)
LOG_F64_ODD = tl.constexpr(K.LOG_F64_ODD_COEF)
SIN_F32 = tl.constexpr(K.SIN_F32_COEF)
COS_F32 = tl.constexpr(K.COS_F32_COEF)
SIN_F64 = tl.constexpr(K.SIN_F64_COEF)
COS_F64 = tl.constexpr(K.COS_F64_COEF)
ND32_CENTRAL_NUM = tl.constexpr(K.NDTRI_F32_CENTRAL_NUM)
ND32_CENTRAL_DEN = tl.constexpr(K.NDTRI_F32_CENTRAL_DEN)
ND32_MID_NUM = tl.constexpr(K.NDTRI_F32_MID_NUM)
ND32_MID_DEN = tl.constexpr(K.NDTRI_F32_MID_DEN)
ND32_FAR_NUM = tl.constexpr(K.NDTRI_F32_FAR_NUM)
ND32_FAR_DEN = tl.constexpr(K.NDTRI_F32_FAR_DEN)
ND64_CENTRAL_NUM = tl.constexpr(K.NDTRI_F64_CENTRAL_NUM)
ND64_CENTRAL_DEN = tl.constexpr(K.NDTRI_F64_CENTRAL_DEN)
ND64_MID_NUM = tl.constexpr(K.NDTRI_F64_MID_NUM)
ND64_MID_DEN = tl.constexpr(K.NDTRI_F64_MID_DEN)
ND64_FAR_NUM = tl.constexpr(K.NDTRI_F64_FAR_NUM)
ND64_FAR_DEN = tl.constexpr(K.NDTRI_F64_FAR_DEN)
# scalars of both precisions (a float64 one as a Python float would become a
# float32 constant inside a kernel: _c makes it one of x's dtype)
LN2_HI_F32 = tl.constexpr(K.LN2_HI_F32)
LN2_LO_F32 = tl.constexpr(K.LN2_LO_F32)
LN2_HI_F64 = tl.constexpr(K.LN2_HI_F64)
LN2_LO_F64 = tl.constexpr(K.LN2_LO_F64)
HALF_PI_F32 = tl.constexpr(K.HALF_PI_F32)
HALF_PI_F64 = tl.constexpr(K.HALF_PI_F64)
SPLIT_F32 = tl.constexpr(K.NDTRI_SPLIT_F32)
SPLIT_F64 = tl.constexpr(K.NDTRI_SPLIT_F64)
CENTRAL_R_F32 = tl.constexpr(K.NDTRI_CENTRAL_R_F32)
CENTRAL_R_F64 = tl.constexpr(K.NDTRI_CENTRAL_R_F64)
MID_SHIFT_F32 = tl.constexpr(K.NDTRI_MID_SHIFT_F32)
MID_SHIFT_F64 = tl.constexpr(K.NDTRI_MID_SHIFT_F64)
FAR_SHIFT_F32 = tl.constexpr(K.NDTRI_FAR_SHIFT_F32)
FAR_SHIFT_F64 = tl.constexpr(K.NDTRI_FAR_SHIFT_F64)

# output kinds of the float32 kernels
NATIVE = tl.constexpr(0)
F16 = tl.constexpr(1)
BF16 = tl.constexpr(2)


# ---------------------------------------------------------------- helpers

@triton.jit
def _c(x, value: tl.constexpr):
    """The constant value in x's dtype and shape."""
    return tl.full(x.shape, value, x.dtype)


@triton.jit
def _horner(x, C: tl.constexpr, N: tl.constexpr):
    """C[0] x^(N-1) + ... + C[N-1]: p = p * x + C[k] (fi_horner_*)."""
    p = _c(x, C[0])
    for k in tl.static_range(1, N):
        p = p * x + _c(x, C[k])
    return p


@triton.jit
def _f32_param(bits):
    return bits.to(tl.int32).to(tl.float32, bitcast=True)


@triton.jit
def _f64_param(bits):
    return bits.to(tl.int64).to(tl.float64, bitcast=True)


@triton.jit
def _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, PER_GROUP: tl.constexpr,
          tiles_per_run, HAS_ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """(logical start of this program's run, its output offset, the tile's
    BLOCK counters). PER_GROUP: elements per lane group (64, or 32 for
    float64)."""
    pid = tl.program_id(0).to(tl.int64)
    tiles = tiles_per_run.to(tl.int64)
    run = pid // tiles
    tile = pid % tiles
    n1 = n1.to(tl.int64)
    n2 = n2.to(tl.int64)
    i2 = run % n2
    i1 = (run // n2) % n1
    i0 = run // (n2 * n1)
    if HAS_ROWS:
        r0 = tl.load(rows_ptr + i0).to(tl.int64)
    else:
        r0 = i0
    start = base.to(tl.int64) + r0 * l0.to(tl.int64) + i1 * l1.to(tl.int64) + i2 * l2.to(tl.int64)
    dest = dest0.to(tl.int64) + i0 * d0.to(tl.int64) + i1 * d1.to(tl.int64) + i2 * d2.to(tl.int64)
    counter = (start // PER_GROUP) * 16 + tile * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    return start, dest, counter


@triton.jit
def _words(counter, seed_lo, seed_hi, stream_lo, stream_hi):
    """The 4 Philox4x32-10 words of each counter: key (seed_lo, seed_hi),
    counter (n mod 2**32, n >> 32, stream_lo, stream_hi)."""
    seed = (seed_hi.to(tl.uint32, bitcast=True).to(tl.uint64) << 32) | \
        seed_lo.to(tl.uint32, bitcast=True).to(tl.uint64)
    c0 = counter.to(tl.uint32)
    c1 = (counter >> 32).to(tl.uint32)
    c2 = tl.zeros_like(c0) + stream_lo.to(tl.uint32, bitcast=True)
    c3 = tl.zeros_like(c0) + stream_hi.to(tl.uint32, bitcast=True)
    return tl.philox(seed, c0, c1, c2, c3, 10)


@triton.jit
def _store(out_ptr, y, counter, k: tl.constexpr, PER_GROUP: tl.constexpr, start, dest, run_len, d3):
    """Write y, the values of word (or word pair) k of each counter, at
    their positions PER_GROUP * g + 16 k + l (counter 16 g + l) that lie in
    the run."""
    pos = (counter >> 4) * PER_GROUP + 16 * k + (counter & 15)
    e = pos - start
    tl.store(out_ptr + dest + e * d3.to(tl.int64), y, mask=(e >= 0) & (e < run_len.to(tl.int64)))


@triton.jit
def _f16_bits(f):
    """fi_f32_to_f16_bits: float32 to IEEE half bits, nearest even."""
    x = f.to(tl.uint32, bitcast=True)
    sign = (x >> 16) & 0x8000
    x = x & 0x7fffffff
    normal = ((x + 0x0fff + ((x >> 13) & 1)) - 0x38000000) >> 13
    # subnormal half: round(value * 2**24) of the 24-bit significand; the
    # shift clamped to the range the branch uses (others are discarded)
    shift = tl.minimum(tl.maximum(126 - (x >> 23).to(tl.int32), 14), 24).to(tl.uint32)
    m = (x & 0x007fffff) | 0x00800000
    r = m >> shift
    rem = m & ((tl.full(x.shape, 1, tl.uint32) << shift) - 1)
    half = tl.full(x.shape, 1, tl.uint32) << (shift - 1)
    r = r + ((rem > half) | ((rem == half) & (r & 1))).to(tl.uint32)
    h = tl.where(x <= 0x33000000, tl.zeros_like(x), r)
    h = tl.where(x >= 0x38800000, normal, h)
    h = tl.where(x >= 0x477ff000, tl.full(x.shape, 0x7c00, tl.uint32), h)
    h = tl.where(x > 0x7f800000, tl.full(x.shape, 0x7e00, tl.uint32), h)
    return (sign | h).to(tl.uint16).to(tl.int16, bitcast=True)


@triton.jit
def _bf16_bits(f):
    """fi_f32_to_bf16_bits: the top half of the float32, nearest even."""
    x = f.to(tl.uint32, bitcast=True)
    rounded = (x + 0x7fff + ((x >> 16) & 1)) >> 16
    h = tl.where((x & 0x7fffffff) > 0x7f800000, (x >> 16) | 0x0040, rounded)
    return h.to(tl.uint16).to(tl.int16, bitcast=True)


@triton.jit
def _out(y, HALF: tl.constexpr):
    """A float32 result as the output dtype holds it."""
    if HALF == F16:
        return _f16_bits(y)
    elif HALF == BF16:
        return _bf16_bits(y)
    else:
        return y


# ---------------------------------------------------------------- transforms

@triton.jit
def _u01_f32(w):
    return (w >> 8).to(tl.float32) * 5.9604644775390625e-08  # 2**-24


@triton.jit
def _u01_open_f32(w):
    return ((w >> 8) + 1).to(tl.float32) * 5.9604644775390625e-08


@triton.jit
def _u01_mid_f32(w):
    return (((w >> 9) << 1) | 1).to(tl.float32) * 5.9604644775390625e-08


@triton.jit
def _u01_f64(lo, hi):
    return (hi >> 11).to(tl.float64) * 4.76837158203125e-07 + lo.to(tl.float64) * 1.1102230246251565e-16


@triton.jit
def _u01_open_f64(lo, hi):
    return (hi >> 11).to(tl.float64) * 4.76837158203125e-07 + \
        (lo.to(tl.float64) + 1.0) * 1.1102230246251565e-16


@triton.jit
def _u01_mid_f64(lo, hi):
    return (hi >> 12).to(tl.float64) * 9.5367431640625e-07 + lo.to(tl.float64) * 2.220446049250313e-16 + \
        1.1102230246251565e-16


@triton.jit
def _log_f32(x):
    """fi_log_f32: Cephes logf on x in (0, 1]."""
    bits = x.to(tl.uint32, bitcast=True)
    shifted = bits + (0x3f800000 - 0x3f3504f3)
    e = (shifted >> 23).to(tl.int32) - 127
    m = ((shifted & 0x007fffff) + 0x3f3504f3).to(tl.float32, bitcast=True)
    f = m - 1.0
    fe = e.to(tl.float32)
    z = f * f
    p = _horner(f, LOG_F32, 9)
    y = p * f * z
    y = y + fe * LN2_LO_F32
    y = y + -0.5 * z
    return (f + y) + fe * LN2_HI_F32


@triton.jit
def _log_f64(x):
    """fi_log_f64: fdlibm's e_log.c kernel on x in (0, 1]."""
    bits = x.to(tl.uint64, bitcast=True)
    shifted = bits + (0x3ff0000000000000 - 0x3fe6a09e667f3bcd)
    e = (shifted >> 52).to(tl.int64) - 1023
    m = ((shifted & 0x000fffffffffffff) + 0x3fe6a09e667f3bcd).to(tl.float64, bitcast=True)
    f = m - 1.0
    de = e.to(tl.float64)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _horner(w, LOG_F64_EVEN, 3)
    t2 = z * _horner(w, LOG_F64_ODD, 4)
    r = t2 + t1
    hfsq = 0.5 * f * f
    return de * _c(de, LN2_HI_F64) - ((hfsq - (s * (hfsq + r) + de * _c(de, LN2_LO_F64))) - f)


@triton.jit
def _sincos_turn24_f32(k):
    """fi_sincos_turn24_f32: (sin, cos) of 2 pi k / 2**24, k < 2**24."""
    rounded = k + (1 << 21)
    q = (rounded >> 22) & 3
    fi = (rounded & ((1 << 22) - 1)).to(tl.int32) - (1 << 21)
    phi = (fi.to(tl.float32) * 2.384185791015625e-07) * HALF_PI_F32
    z = phi * phi
    sp = _horner(z, SIN_F32, 3) * z * phi + phi
    cp = _horner(z, COS_F32, 3) * z * z + (-0.5 * z + 1.0)
    swap = (q & 1) != 0
    sin_neg = (q >> 1) << 31
    cos_neg = (((q + 1) >> 1) & 1) << 31
    s = tl.where(swap, cp, sp)
    c = tl.where(swap, sp, cp)
    return ((s.to(tl.uint32, bitcast=True) ^ sin_neg).to(tl.float32, bitcast=True),
            (c.to(tl.uint32, bitcast=True) ^ cos_neg).to(tl.float32, bitcast=True))


@triton.jit
def _sincos_turn53_f64(lo, hi):
    """fi_sincos_turn53_f64: (sin, cos) of 2 pi k / 2**53,
    k = (hi >> 11) * 2**32 + lo."""
    khi = (hi >> 11) + (1 << 18)
    q = (khi >> 19) & 3
    rem = ((khi & ((1 << 19) - 1)).to(tl.int32) - (1 << 18)).to(tl.float64) * 1.9073486328125e-06 + \
        lo.to(tl.float64) * 4.440892098500626e-16
    phi = rem * _c(rem, HALF_PI_F64)
    z = phi * phi
    sp = phi + (z * phi) * _horner(z, SIN_F64, 6)
    cr = z * _horner(z, COS_F64, 6)
    hz = 0.5 * z
    w = 1.0 - hz
    cp = w + (((1.0 - w) - hz) + z * cr)
    swap = (q & 1) != 0
    sin_neg = (q >> 1).to(tl.uint64) << 63
    cos_neg = (((q + 1) >> 1) & 1).to(tl.uint64) << 63
    s = tl.where(swap, cp, sp)
    c = tl.where(swap, sp, cp)
    return ((s.to(tl.uint64, bitcast=True) ^ sin_neg).to(tl.float64, bitcast=True),
            (c.to(tl.uint64, bitcast=True) ^ cos_neg).to(tl.float64, bitcast=True))


@triton.jit
def _ndtri_pq_f32(u, p0, c0, dp, q1, dq, log_offset):
    """fi_ndtri_pq_f32: AS 241 PPND7 on the pair (P, 2**k (1 - P))."""
    p = p0 + u * dp
    c = c0 + u * dp
    q = q1 + (1.0 - u) * dq
    r = CENTRAL_R_F32 - c * c
    central = tl.div_rn(c * _horner(r, ND32_CENTRAL_NUM, 4), _horner(r, ND32_CENTRAL_DEN, 4))
    lower = c < 0.0
    t = tl.where(lower, p, q)
    s = tl.sqrt_rn(tl.where(lower, tl.zeros_like(t), tl.zeros_like(t) + log_offset) - _log_f32(t))
    s1 = s - MID_SHIFT_F32
    mid = tl.div_rn(_horner(s1, ND32_MID_NUM, 4), _horner(s1, ND32_MID_DEN, 3))
    s5 = s - FAR_SHIFT_F32
    far = tl.div_rn(_horner(s5, ND32_FAR_NUM, 4), _horner(s5, ND32_FAR_DEN, 3))
    tail = tl.where(s <= FAR_SHIFT_F32, mid, far)
    tail = tl.where(lower, -tail, tail)
    return tl.where((c <= SPLIT_F32) & (c >= -SPLIT_F32), central, tail)


@triton.jit
def _ndtri_pq_f64(u, p0, c0, dp, q1, dq, log_offset):
    """fi_ndtri_pq_f64: AS 241 PPND16 on the pair (P, 2**k (1 - P))."""
    p = p0 + u * dp
    c = c0 + u * dp
    q = q1 + (1.0 - u) * dq
    r = _c(c, CENTRAL_R_F64) - c * c
    central = c * _horner(r, ND64_CENTRAL_NUM, 8) / _horner(r, ND64_CENTRAL_DEN, 8)
    lower = c < 0.0
    t = tl.where(lower, p, q)
    s = tl.sqrt(tl.where(lower, tl.zeros_like(t), tl.zeros_like(t) + log_offset) - _log_f64(t))
    s1 = s - _c(s, MID_SHIFT_F64)
    mid = _horner(s1, ND64_MID_NUM, 8) / _horner(s1, ND64_MID_DEN, 8)
    s5 = s - _c(s, FAR_SHIFT_F64)
    far = _horner(s5, ND64_FAR_NUM, 8) / _horner(s5, ND64_FAR_DEN, 8)
    tail = tl.where(s <= _c(s, FAR_SHIFT_F64), mid, far)
    tail = tl.where(lower, -tail, tail)
    return tl.where((c <= _c(c, SPLIT_F64)) & (c >= -_c(c, SPLIT_F64)), central, tail)


@triton.jit
def _clamp(y, lo, hi):
    """y into [lo, hi] as the C core clamps (a NaN becomes lo)."""
    y = tl.where(y > lo, y, lo)
    return tl.where(y < hi, y, hi)


# ---------------------------------------------------------------- kernels
# Argument order shared by all: output, rows, key words, layout, then the
# distribution's parameters (bit patterns), then the constexprs.

@triton.jit(do_not_specialize=["seed_lo", "seed_hi", "stream_lo", "stream_hi", "base", "dest0", "n1", "n2",
                               "l0", "l1", "l2", "d0", "d1", "d2", "d3", "run_len", "tiles_per_run"])
def bits_kernel(out_ptr, rows_ptr, seed_lo, seed_hi, stream_lo, stream_hi,
                base, dest0, n1, n2, l0, l1, l2, d0, d1, d2, d3, run_len, tiles_per_run,
                HAS_ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """The raw uint32 words (stored as int32 bits): element 64 g + 16 w + l
    is word w of counter 16 g + l."""
    start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 64, tiles_per_run,
                                 HAS_ROWS, BLOCK)
    w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
    _store(out_ptr, w0.to(tl.int32, bitcast=True), counter, 0, 64, start, dest, run_len, d3)
    _store(out_ptr, w1.to(tl.int32, bitcast=True), counter, 1, 64, start, dest, run_len, d3)
    _store(out_ptr, w2.to(tl.int32, bitcast=True), counter, 2, 64, start, dest, run_len, d3)
    _store(out_ptr, w3.to(tl.int32, bitcast=True), counter, 3, 64, start, dest, run_len, d3)


@triton.jit(do_not_specialize=["seed_lo", "seed_hi", "stream_lo", "stream_hi", "base", "dest0", "n1", "n2",
                               "l0", "l1", "l2", "d0", "d1", "d2", "d3", "run_len", "tiles_per_run",
                               "low_bits", "span_bits", "top_bits"])
def uniform_kernel(out_ptr, rows_ptr, seed_lo, seed_hi, stream_lo, stream_hi,
                   base, dest0, n1, n2, l0, l1, l2, d0, d1, d2, d3, run_len, tiles_per_run,
                   low_bits, span_bits, top_bits,
                   F64: tl.constexpr, HALF: tl.constexpr, HAS_ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """min(low + span * u01, top): uniform_f32 (word w of counter l to
    element 16 w + l) and uniform_f64 (words 2h, 2h + 1 to 16 h + l)."""
    if F64:
        low = _f64_param(low_bits)
        span = _f64_param(span_bits)
        top = _f64_param(top_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 32, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        y0 = low + span * _u01_f64(w0, w1)
        y1 = low + span * _u01_f64(w2, w3)
        _store(out_ptr, tl.where(y0 < top, y0, top), counter, 0, 32, start, dest, run_len, d3)
        _store(out_ptr, tl.where(y1 < top, y1, top), counter, 1, 32, start, dest, run_len, d3)
    else:
        low = _f32_param(low_bits)
        span = _f32_param(span_bits)
        top = _f32_param(top_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 64, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        y0 = low + span * _u01_f32(w0)
        y1 = low + span * _u01_f32(w1)
        y2 = low + span * _u01_f32(w2)
        y3 = low + span * _u01_f32(w3)
        _store(out_ptr, _out(tl.where(y0 < top, y0, top), HALF), counter, 0, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(tl.where(y1 < top, y1, top), HALF), counter, 1, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(tl.where(y2 < top, y2, top), HALF), counter, 2, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(tl.where(y3 < top, y3, top), HALF), counter, 3, 64, start, dest, run_len, d3)


@triton.jit(do_not_specialize=["seed_lo", "seed_hi", "stream_lo", "stream_hi", "base", "dest0", "n1", "n2",
                               "l0", "l1", "l2", "d0", "d1", "d2", "d3", "run_len", "tiles_per_run",
                               "loc_bits", "scale_bits"])
def normal_kernel(out_ptr, rows_ptr, seed_lo, seed_hi, stream_lo, stream_hi,
                  base, dest0, n1, n2, l0, l1, l2, d0, d1, d2, d3, run_len, tiles_per_run,
                  loc_bits, scale_bits,
                  F64: tl.constexpr, HALF: tl.constexpr, HAS_ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """Box-Muller, loc + r cos, loc + r sin. float32: pair p (words 2p,
    2p + 1) of counter l gives elements 32 p + l (cos) and 32 p + 16 + l
    (sin); float64: the four words are one pair, cos to l, sin to 16 + l."""
    if F64:
        loc = _f64_param(loc_bits)
        scale = _f64_param(scale_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 32, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        radius = tl.sqrt(-2.0 * _log_f64(_u01_open_f64(w0, w1))) * scale
        s, c = _sincos_turn53_f64(w2, w3)
        _store(out_ptr, loc + radius * c, counter, 0, 32, start, dest, run_len, d3)
        _store(out_ptr, loc + radius * s, counter, 1, 32, start, dest, run_len, d3)
    else:
        loc = _f32_param(loc_bits)
        scale = _f32_param(scale_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 64, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        radius0 = tl.sqrt_rn(-2.0 * _log_f32(_u01_open_f32(w0))) * scale
        s0, c0 = _sincos_turn24_f32(w1 >> 8)
        radius1 = tl.sqrt_rn(-2.0 * _log_f32(_u01_open_f32(w2))) * scale
        s1, c1 = _sincos_turn24_f32(w3 >> 8)
        # element 32 p + 16 h + l is "word" 2 p + h of the 16-wide layout
        _store(out_ptr, _out(loc + radius0 * c0, HALF), counter, 0, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(loc + radius0 * s0, HALF), counter, 1, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(loc + radius1 * c1, HALF), counter, 2, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(loc + radius1 * s1, HALF), counter, 3, 64, start, dest, run_len, d3)


@triton.jit(do_not_specialize=["seed_lo", "seed_hi", "stream_lo", "stream_hi", "base", "dest0", "n1", "n2",
                               "l0", "l1", "l2", "d0", "d1", "d2", "d3", "run_len", "tiles_per_run",
                               "loc_bits", "scale_bits", "p0_bits", "c0_bits", "dp_bits", "q1_bits", "dq_bits",
                               "log_offset_bits", "lo_bits", "hi_bits"])
def truncnormal_kernel(out_ptr, rows_ptr, seed_lo, seed_hi, stream_lo, stream_hi,
                       base, dest0, n1, n2, l0, l1, l2, d0, d1, d2, d3, run_len, tiles_per_run,
                       loc_bits, scale_bits, p0_bits, c0_bits, dp_bits, q1_bits, dq_bits, log_offset_bits,
                       lo_bits, hi_bits,
                       F64: tl.constexpr, HALF: tl.constexpr, HAS_ROWS: tl.constexpr, BLOCK: tl.constexpr):
    """Inverse CDF: loc + scale * Phi^-1(P(u)), clamped into [lo, hi]; the
    word layout of uniform_kernel, u = u01_mid."""
    if F64:
        loc = _f64_param(loc_bits)
        scale = _f64_param(scale_bits)
        p0 = _f64_param(p0_bits)
        c0 = _f64_param(c0_bits)
        dp = _f64_param(dp_bits)
        q1 = _f64_param(q1_bits)
        dq = _f64_param(dq_bits)
        log_offset = _f64_param(log_offset_bits)
        lo = _f64_param(lo_bits)
        hi = _f64_param(hi_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 32, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        x0 = _ndtri_pq_f64(_u01_mid_f64(w0, w1), p0, c0, dp, q1, dq, log_offset)
        x1 = _ndtri_pq_f64(_u01_mid_f64(w2, w3), p0, c0, dp, q1, dq, log_offset)
        _store(out_ptr, _clamp(loc + scale * x0, lo, hi), counter, 0, 32, start, dest, run_len, d3)
        _store(out_ptr, _clamp(loc + scale * x1, lo, hi), counter, 1, 32, start, dest, run_len, d3)
    else:
        loc = _f32_param(loc_bits)
        scale = _f32_param(scale_bits)
        p0 = _f32_param(p0_bits)
        c0 = _f32_param(c0_bits)
        dp = _f32_param(dp_bits)
        q1 = _f32_param(q1_bits)
        dq = _f32_param(dq_bits)
        log_offset = _f32_param(log_offset_bits)
        lo = _f32_param(lo_bits)
        hi = _f32_param(hi_bits)
        start, dest, counter = _tile(base, dest0, rows_ptr, n1, n2, l0, l1, l2, d0, d1, d2, 64, tiles_per_run,
                                     HAS_ROWS, BLOCK)
        w0, w1, w2, w3 = _words(counter, seed_lo, seed_hi, stream_lo, stream_hi)
        x0 = _ndtri_pq_f32(_u01_mid_f32(w0), p0, c0, dp, q1, dq, log_offset)
        x1 = _ndtri_pq_f32(_u01_mid_f32(w1), p0, c0, dp, q1, dq, log_offset)
        x2 = _ndtri_pq_f32(_u01_mid_f32(w2), p0, c0, dp, q1, dq, log_offset)
        x3 = _ndtri_pq_f32(_u01_mid_f32(w3), p0, c0, dp, q1, dq, log_offset)
        _store(out_ptr, _out(_clamp(loc + scale * x0, lo, hi), HALF), counter, 0, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(_clamp(loc + scale * x1, lo, hi), HALF), counter, 1, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(_clamp(loc + scale * x2, lo, hi), HALF), counter, 2, 64, start, dest, run_len, d3)
        _store(out_ptr, _out(_clamp(loc + scale * x3, lo, hi), HALF), counter, 3, 64, start, dest, run_len, d3)

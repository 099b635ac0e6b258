"""Pure-NumPy reference of fastinit's generator, written from docs/design.md and the
Random123 definition (not from the C): Philox4x32-R on uint64 arrays, the
lane-group layout, and the word -> float transforms. Vectorized, so a few
million positions take well under a second."""
import numpy as np

MASK32 = np.uint64(0xFFFFFFFF)
M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
LANES = 16


def philox4x32(ctr, key, rounds=10):
    """Philox4x32-``rounds`` of counters ``ctr`` (4 arrays of 32-bit words,
    any integer dtype) under ``key`` (2 words, scalars or arrays). Returns the
    4 output words as uint64 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & MASK32 for c in ctr)
    k0, k1 = (np.asarray(k, dtype=np.uint64) & MASK32 for k in key)
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        p0, p1 = M0 * c0, M1 * c2  # 32 x 32 -> 64 bits, exact in uint64
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & MASK32,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & MASK32)
    return c0, c1, c2, c3


def counter_words(seed, stream, n):
    """The 4 Philox4x32-10 words of block numbers ``n`` (uint64 array)."""
    seed, stream = int(seed), int(stream)
    n = np.asarray(n, dtype=np.uint64)
    ctr = (n & MASK32, n >> np.uint64(32),
           np.uint64(stream & 0xFFFFFFFF), np.uint64(stream >> 32))
    return philox4x32(ctr, (seed & 0xFFFFFFFF, seed >> 32))


def _flat(start, count):
    return np.uint64(start) + np.arange(count, dtype=np.uint64)


def bits(seed, stream, start, count):
    """Words at flat positions [start, start + count) of fastinit.bits: element
    64*g + 16*w + l is word w of counter n = 16*g + l."""
    i = _flat(start, count)
    g, w, l = i // np.uint64(64), (i % np.uint64(64)) // np.uint64(16), i % np.uint64(16)
    words = np.stack(counter_words(seed, stream, g * np.uint64(LANES) + l))
    return words[w.astype(np.intp), np.arange(count)].astype(np.uint32)


def words_f64(seed, stream, start, count):
    """For float64 element positions: (words of the counter, half h) where
    element 32*g + 16*h + l belongs to counter n = 16*g + l."""
    i = _flat(start, count)
    g, h, l = i // np.uint64(32), (i % np.uint64(32)) // np.uint64(16), i % np.uint64(16)
    return counter_words(seed, stream, g * np.uint64(LANES) + l), h.astype(np.intp)


# ---- word -> float ------------------------------------------------------------

def u01_f32(w):
    """[0, 1) from the top 24 bits, exact in float32."""
    return (np.asarray(w, np.uint32) >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)


def int53(lo, hi):
    """The 53-bit integer (hi >> 11) * 2**32 + lo."""
    return (np.asarray(hi, np.uint64) >> np.uint64(11) << np.uint64(32)) | np.asarray(lo, np.uint64)


def u01_f64(lo, hi):
    """[0, 1) from 53 bits, exact in float64."""
    return int53(lo, hi).astype(np.float64) * 2.0**-53


def uniform_params(low, high, dtype):
    """(low, span, top) as the documented transform uses them, in dtype: bounds
    rounded to dtype, span = high - low rounded to dtype, and top the largest
    dtype value below high."""
    t = np.dtype(dtype).type
    lo, hi = t(low), t(high)
    span = t(np.float64(hi) - np.float64(lo))
    return lo, span, np.nextafter(hi, t(-np.inf))


def uniform(seed, stream, start, count, low, high, dtype):
    """fastinit.uniform at flat positions [start, start + count): min(low + span*u,
    top), each operation rounded to dtype."""
    lo, span, top = uniform_params(low, high, dtype)
    if np.dtype(dtype) == np.float32:
        u = u01_f32(bits(seed, stream, start, count))
    else:
        words, h = words_f64(seed, stream, start, count)
        w = np.stack(words)
        cols = np.arange(count)
        u = u01_f64(w[2 * h, cols], w[2 * h + 1, cols])
    return np.minimum(lo + span * u, top)


# ---- Box-Muller in extended precision ----------------------------------------

LD = np.longdouble
TWO_PI = 8 * np.arctan(LD(1))


def _sincos_turns(k, bits_):
    """sin and cos of 2*pi*k/2**bits_ for integers k, in long double, with
    the quarter-turn reduction done exactly on the integer (so a zero of sin
    or cos is exactly zero)."""
    k = np.asarray(k, dtype=np.uint64)
    quarter = np.uint64(1) << np.uint64(bits_ - 2)
    # nearest quarter turn q and signed remainder rem in [-quarter/2, quarter/2)
    shifted = k + (quarter >> np.uint64(1))
    q = (shifted >> np.uint64(bits_ - 2)) & np.uint64(3)
    rem = (shifted & (quarter - np.uint64(1))).astype(np.int64) - np.int64(quarter >> np.uint64(1))
    phi = rem.astype(LD) * (TWO_PI / LD(2.0) ** bits_)
    s, c = np.sin(phi), np.cos(phi)
    # rotate by q quarter turns: (s, c) -> (c, -s) -> (-s, -c) -> (-c, s)
    sin = np.choose(q.astype(np.intp), [s, c, -s, -c])
    cos = np.choose(q.astype(np.intp), [c, -s, -c, s])
    return sin, cos


def normal_f32_ideal(seed, stream, start, count):
    """Standard normal at float32 positions, Box-Muller evaluated in long double
    from the same words: u1 = ((w0 >> 8) + 1) * 2**-24 (w0 = word 2p), angle
    2*pi * (w1 >> 8) * 2**-24 (w1 = word 2p + 1); cosine to elements 32p + l,
    sine to 32p + 16 + l of lane group g."""
    i = _flat(start, count)
    g, r = i // np.uint64(64), i % np.uint64(64)
    p, half, l = r // np.uint64(32), (r % np.uint64(32)) // np.uint64(16), r % np.uint64(16)
    w = np.stack(counter_words(seed, stream, g * np.uint64(LANES) + l))
    cols, p = np.arange(count), p.astype(np.intp)
    w0, w1 = w[2 * p, cols], w[2 * p + 1, cols]
    u1 = ((w0 >> np.uint64(8)) + np.uint64(1)).astype(LD) * LD(2.0) ** -24
    radius = np.sqrt(LD(-2) * np.log(u1))
    sin, cos = _sincos_turns(w1 >> np.uint64(8), 24)
    return radius * np.where(half == 0, cos, sin)


def normal_f64_ideal(seed, stream, start, count):
    """Standard normal at float64 positions, in long double: u1 =
    (int53(word0, word1) + 1) * 2**-53, angle 2*pi * int53(word2, word3) *
    2**-53; cosine to elements 0-15 of the group, sine to 16-31."""
    (w0, w1, w2, w3), h = words_f64(seed, stream, start, count)
    u1 = (int53(w0, w1).astype(LD) + LD(1)) * LD(2.0) ** -53
    radius = np.sqrt(LD(-2) * np.log(u1))
    sin, cos = _sincos_turns(int53(w2, w3), 53)
    return radius * np.where(h == 0, cos, sin)


def ulp_error(actual, ideal, dtype):
    """|actual - ideal| in units of the dtype spacing at ideal (0 where both
    are zero)."""
    dtype = np.dtype(dtype)
    ideal_rounded = np.abs(ideal).astype(dtype)
    spacing = np.spacing(ideal_rounded).astype(LD)
    return (np.abs(np.asarray(actual).astype(LD) - ideal) / spacing).astype(np.float64)

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thin layer over the C kernels: checks the buffer, releases the GIL, fills
the output in chunks (checking for Ctrl-C between them) and exposes ISA
selection. Argument validation proper lives in fastinit._plan."""
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp
import numpy as np
from threading import local
from time import perf_counter

cnp.import_array()

# Ctrl-C is seen between GIL-free calls, so each call (chunk) should last
# about CHUNK_SECONDS whatever the kernel, dtype, ISA, thread count and load:
# a fixed element count gave 180 ms chunks for float64 normal on the scalar
# path against 4 ms for float32 uniform on AVX-512. The first chunk is sized
# for the slowest kernel (about 10 ns per element per thread); later ones from
# the rate measured on the previous chunk. Results never depend on the split.
cdef double CHUNK_SECONDS = 0.05
cdef uint64_t FIRST_CHUNK_PER_THREAD = 1 << 22
cdef uint64_t MIN_CHUNK = 1 << 16
cdef uint64_t MAX_CHUNK = 1 << 28
cdef uint64_t CHUNK_ALIGN = 1 << 12  # whole lane groups of every dtype

DIST_CODES = {"bits": FI_BITS, "uniform": FI_UNIFORM, "normal": FI_NORMAL,
              "truncnormal": FI_TRUNCNORMAL}
MAX_DIMS = FI_MAX_DIMS
LANES = FI_LANES
# SIMD kernels use non-temporal stores for calls writing at least this many bytes.
STREAM_MIN_BYTES = FI_STREAM_MIN_BYTES


def fill(cnp.ndarray out, str dist, uint64_t seed, uint64_t stream, tuple layout,
         int threads, cnp.ndarray run_starts=None, double low=0.0, double span=1.0,
         double high_below=1.0, double loc=0.0, double scale=1.0,
         double tn_p0=0.0, double tn_c0=-0.5, double tn_dp=1.0, double tn_q1=0.0, double tn_dq=1.0,
         double tn_log_offset=0.0, double clamp_lo=-np.inf, double clamp_hi=np.inf):
    """Fill ``out`` (C-contiguous, writable) with elements of the logical array
    described by ``layout = (n_runs, run_len, base, outer_shape, outer_stride)``;
    ``run_starts`` (uint64, n_runs entries), if given, replaces base and the
    outer arrays: run r starts at logical index run_starts[r]. The kernels
    write native byte order: a non-native ``out`` (``>f4`` on x86) has each
    chunk byte-swapped in place right after it is made, so it needs no
    temporary and Ctrl-C still leaves final values in a leading part."""
    cdef fi_request req
    cdef fi_layout lay
    cdef uint64_t total, e0, e1, chunk
    cdef int nthreads = threads if threads > 0 else 1
    cdef char *data
    n_runs, run_len, base, outer_shape, outer_stride = layout
    if not (cnp.PyArray_IS_C_CONTIGUOUS(out) and cnp.PyArray_ISWRITEABLE(out)):
        raise ValueError("out must be a writable C-contiguous array")
    dtype_code = _dtype_code(out)
    if len(outer_shape) != len(outer_stride) or len(outer_shape) > FI_MAX_DIMS:
        raise ValueError("bad layout")
    if <uint64_t>out.size != <uint64_t>n_runs * <uint64_t>run_len:
        raise ValueError("out has the wrong number of elements for the layout")
    if run_starts is not None and not (run_starts.dtype == np.uint64 and run_starts.flags.c_contiguous
                                       and <uint64_t>run_starts.size == <uint64_t>n_runs):
        raise ValueError("run_starts must be a C-contiguous uint64 array of n_runs entries")
    req.key[0] = <uint32_t>seed
    req.key[1] = <uint32_t>(seed >> 32)
    req.stream[0] = <uint32_t>stream
    req.stream[1] = <uint32_t>(stream >> 32)
    req.dist = DIST_CODES[dist]
    req.dtype = dtype_code
    req.low, req.span, req.high_below = low, span, high_below
    req.loc, req.scale = loc, scale
    req.tn_p0, req.tn_c0, req.tn_dp = tn_p0, tn_c0, tn_dp
    req.tn_q1, req.tn_dq = tn_q1, tn_dq
    req.tn_log_offset = tn_log_offset
    req.clamp_lo, req.clamp_hi = clamp_lo, clamp_hi
    req.nontemporal = 0  # fi_fill sets it from the size of each fill
    lay.n_runs, lay.run_len, lay.base = n_runs, run_len, base
    lay.outer_ndim = len(outer_shape)
    for d in range(lay.outer_ndim):
        lay.outer_shape[d] = outer_shape[d]
        lay.outer_stride[d] = outer_stride[d]
    lay.run_starts = NULL
    if run_starts is not None:
        lay.run_starts = <const uint64_t *>cnp.PyArray_DATA(run_starts)
    total = out.size
    data = <char *>cnp.PyArray_DATA(out)
    swapped = None if out.dtype.isnative else out.reshape(-1)
    e0 = 0
    chunk = FIRST_CHUNK_PER_THREAD * <uint64_t>nthreads
    cdef fi_fill_info info
    cdef int most_threads = 0, chunks = 0
    _last_fill.info = None
    while e0 < total:
        e1 = e0 + chunk if total - e0 > chunk else total
        if e1 < total:  # more chunks follow: time this one to size the next
            started = perf_counter()
        with nogil:
            ok = fi_fill(data, &lay, e0, e1, &req, nthreads)
            info = fi_last_fill_info()
        if ok == 0:
            raise TypeError(f"no kernel for {dist} with dtype {out.dtype}")
        chunks += 1
        most_threads = max(most_threads, info.threads)
        _last_fill.info = (info.isa, most_threads, chunks)
        if swapped is not None:
            swapped[e0:e1].byteswap(inplace=True)
        if e1 < total:
            chunk = next_chunk(e1 - e0, perf_counter() - started)
            PyErr_CheckSignals()
        e0 = e1
    return out


# per Python thread: what the last fill() on it did (see last_fill_info)
_last_fill = local()


def last_fill_info():
    """What the C core really did in the last fill() on this thread, for
    tests: ``{"isa": path whose kernels ran, "threads": the most threads any
    chunk used (the calling thread included; 1 = it ran alone), "chunks":
    fi_fill calls}``; None if this thread has not filled anything yet (or the
    last fill() was empty or failed)."""
    info = getattr(_last_fill, "info", None)
    if info is None:
        return None
    isa, threads, chunks = info
    return {"isa": fi_isa_name(<fi_isa>isa).decode(), "threads": threads, "chunks": chunks}


cdef fi_dtype _dtype_code(cnp.ndarray out) except *:
    """The C dtype of out: by NumPy type number for the built-in dtypes (the
    name is computed in Python on every access), by name for bfloat16."""
    cdef int num = cnp.PyArray_TYPE(out)
    if num == cnp.NPY_FLOAT32:
        return FI_F32
    if num == cnp.NPY_FLOAT64:
        return FI_F64
    if num == cnp.NPY_FLOAT16:
        return FI_F16
    if num == cnp.NPY_UINT32:
        return FI_U32
    if out.dtype.name == "bfloat16":
        return FI_BF16
    raise TypeError(f"unsupported dtype {out.dtype}")


cdef uint64_t next_chunk(uint64_t done, double seconds):
    """Elements that take about CHUNK_SECONDS at the rate of the last chunk."""
    cdef double rate = done / (seconds if seconds > 1e-6 else 1e-6)
    cdef double want = rate * CHUNK_SECONDS
    if want <= MIN_CHUNK:
        return MIN_CHUNK
    if want >= MAX_CHUNK:
        return MAX_CHUNK
    return <uint64_t>want // CHUNK_ALIGN * CHUNK_ALIGN


def philox4x32(int rounds, ctr, key):
    """Philox4x32 with ``rounds`` rounds of one counter (4 words) under one key
    (2 words); for the Random123 known-answer tests."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    for i in range(4):
        c[i] = ctr[i]
    k[0], k[1] = key[0], key[1]
    fi_philox4x32(rounds, c, k, o)
    return (o[0], o[1], o[2], o[3])


def isa_names():
    """Names of all ISA paths this build has, best last."""
    return [fi_isa_name(<fi_isa>i).decode() for i in range(FI_NISA)]


def supported_isas():
    """Names of the ISA paths this CPU can run, best last."""
    return [fi_isa_name(<fi_isa>i).decode() for i in range(FI_NISA) if fi_isa_supported(<fi_isa>i)]


def best_isa():
    return fi_isa_name(fi_best_isa()).decode()


def get_isa():
    return fi_isa_name(fi_get_isa()).decode()


def set_isa(str name):
    """Force an ISA path; raises ValueError if unknown or unsupported here."""
    names = isa_names()
    if name not in names:
        raise ValueError(f"isa must be one of {names}, got {name!r}")
    cdef int code = names.index(name)
    if not fi_set_isa(<fi_isa>code):
        raise ValueError(f"isa {name!r} is not supported by this CPU; it supports {supported_isas()}")


def compiler():
    """The C compiler that built the core."""
    return fi_compiler().decode().strip()


def eval_transform(str name, x):
    """Evaluate one scalar transform on an array, for the accuracy tests:
    ``log_f32``/``log_f64`` of x in (0, 1] -> log(x); ``sincos_turn24_f32``
    (uint32 k < 2**24) and ``sincos_turn53_f64`` (uint64 k < 2**53) ->
    (sin, cos) of 2*pi*k/2**24 and 2*pi*k/2**53."""
    if name == "log_f32" or name == "log_f64":
        xin = np.ascontiguousarray(x, dtype=np.float32 if name == "log_f32" else np.float64)
        if xin.size and not (xin.min() > 0 and xin.max() <= 1):
            raise ValueError(f"{name} is defined here on (0, 1] only")
        y = np.empty_like(xin)
        if name == "log_f32":
            fi_eval_log_f32(<const float *>cnp.PyArray_DATA(xin), <float *>cnp.PyArray_DATA(y), xin.size)
        else:
            fi_eval_log_f64(<const double *>cnp.PyArray_DATA(xin), <double *>cnp.PyArray_DATA(y), xin.size)
        return y
    if name == "sincos_turn24_f32":
        k = np.ascontiguousarray(x, dtype=np.uint32)
        if k.size and k.max() >= 1 << 24:
            raise ValueError(f"{name} takes k < 2**24")
        s, c = np.empty(k.shape, np.float32), np.empty(k.shape, np.float32)
        fi_eval_sincos_turn24_f32(<const uint32_t *>cnp.PyArray_DATA(k), <float *>cnp.PyArray_DATA(s),
                                  <float *>cnp.PyArray_DATA(c), k.size)
        return s, c
    if name == "sincos_turn53_f64":
        k = np.ascontiguousarray(x, dtype=np.uint64)
        if k.size and k.max() >= 1 << 53:
            raise ValueError(f"{name} takes k < 2**53")
        s, c = np.empty(k.shape, np.float64), np.empty(k.shape, np.float64)
        fi_eval_sincos_turn53_f64(<const uint64_t *>cnp.PyArray_DATA(k), <double *>cnp.PyArray_DATA(s),
                                  <double *>cnp.PyArray_DATA(c), k.size)
        return s, c
    raise ValueError(f"name must be log_f32, log_f64, sincos_turn24_f32 or sincos_turn53_f64, got {name!r}")

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thin layer over the C kernels: checks the buffer, releases the GIL, fills
the output in chunks (checking for Ctrl-C between them) and exposes ISA
selection. Argument validation proper lives in fastinit._api."""
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp
import numpy as np

cnp.import_array()

# Elements per GIL-free call: small enough that Ctrl-C is seen within a few
# tens of milliseconds, large enough that the per-call cost does not show.
cdef uint64_t CHUNK_ELEMENTS = 1 << 24

DIST_CODES = {"bits": FI_BITS, "uniform": FI_UNIFORM, "normal": FI_NORMAL}
_DTYPE_CODES = {np.dtype(np.uint32): FI_U32, np.dtype(np.float32): FI_F32,
                np.dtype(np.float64): FI_F64}
MAX_DIMS = FI_MAX_DIMS
LANES = FI_LANES
# SIMD kernels use non-temporal stores for calls writing at least this many bytes.
STREAM_MIN_BYTES = FI_STREAM_MIN_BYTES


def fill(cnp.ndarray out, str dist, uint64_t seed, uint64_t stream, tuple layout,
         int threads, double low=0.0, double span=1.0, double high_below=1.0,
         double loc=0.0, double scale=1.0):
    """Fill ``out`` (C-contiguous, writable) with elements of the logical array
    described by ``layout = (n_runs, run_len, base, outer_shape, outer_stride)``."""
    cdef fi_request req
    cdef fi_layout lay
    cdef uint64_t total, e0, e1
    cdef int nthreads = threads if threads > 0 else 1
    cdef char *data
    n_runs, run_len, base, outer_shape, outer_stride = layout
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be a writable C-contiguous array")
    if out.dtype not in _DTYPE_CODES:
        raise TypeError(f"unsupported dtype {out.dtype}")
    if len(outer_shape) != len(outer_stride) or len(outer_shape) > FI_MAX_DIMS:
        raise ValueError("bad layout")
    if <uint64_t>out.size != <uint64_t>n_runs * <uint64_t>run_len:
        raise ValueError("out has the wrong number of elements for the layout")
    req.key[0] = <uint32_t>seed
    req.key[1] = <uint32_t>(seed >> 32)
    req.stream[0] = <uint32_t>stream
    req.stream[1] = <uint32_t>(stream >> 32)
    req.dist = DIST_CODES[dist]
    req.dtype = _DTYPE_CODES[out.dtype]
    req.low, req.span, req.high_below = low, span, high_below
    req.loc, req.scale = loc, scale
    req.nontemporal = 0  # fi_fill sets it from the size of each fill
    lay.n_runs, lay.run_len, lay.base = n_runs, run_len, base
    lay.outer_ndim = len(outer_shape)
    for d in range(lay.outer_ndim):
        lay.outer_shape[d] = outer_shape[d]
        lay.outer_stride[d] = outer_stride[d]
    total = out.size
    data = <char *>cnp.PyArray_DATA(out)
    e0 = 0
    while e0 < total:
        e1 = e0 + CHUNK_ELEMENTS if total - e0 > CHUNK_ELEMENTS else total
        with nogil:
            ok = fi_fill(data, &lay, e0, e1, &req, nthreads)
        if ok == 0:
            raise TypeError(f"no kernel for {dist} with dtype {out.dtype}")
        e0 = e1
        if e0 < total:
            PyErr_CheckSignals()
    return out


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

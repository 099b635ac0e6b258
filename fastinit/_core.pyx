# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thin layer over the C kernels: checks the buffer, releases the GIL, fills
the output in chunks (checking for Ctrl-C between them) and exposes ISA
selection. Argument validation proper lives in fastinit._checks, the
planning of a call in fastinit._plan; nothing here imports them."""
from cpython.exc cimport PyErr_CheckSignals, PyErr_Clear, PyErr_Occurred
from cpython.ref cimport Py_INCREF
from libc.math cimport copysign
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp
import numpy as np
import os
from threading import local
from time import perf_counter

cnp.import_array()

cdef extern from "Python.h":
    # declared here without Cython's error check: _as_uint64 clears the error
    unsigned long long PyLong_AsUnsignedLongLong(object x) noexcept

cdef extern from "numpy/arrayobject.h":
    # steals a reference to descr
    object PyArray_Empty(int nd, cnp.npy_intp *dims, cnp.dtype descr, int fortran)

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


# The distribution parameters of a request and their defaults.
PARAMETERS = {"low": 0.0, "span": 1.0, "high_below": 1.0, "loc": 0.0, "scale": 1.0,
              "tn_p0": 0.0, "tn_c0": -0.5, "tn_dp": 1.0, "tn_q1": 0.0, "tn_dq": 1.0,
              "tn_log_offset": 0.0, "clamp_lo": -np.inf, "clamp_hi": np.inf}


cdef int _set_parameters(fi_request *req, str dist, dict params) except -1:
    """req's distribution and its parameters (PARAMETERS) from params."""
    unknown = params.keys() - PARAMETERS.keys()
    if unknown:
        raise TypeError(f"unknown distribution parameters {sorted(unknown)}")
    p = {**PARAMETERS, **params}
    req.dist = DIST_CODES[dist]
    req.low, req.span, req.high_below = p["low"], p["span"], p["high_below"]
    req.loc, req.scale = p["loc"], p["scale"]
    req.tn_p0, req.tn_c0, req.tn_dp = p["tn_p0"], p["tn_c0"], p["tn_dp"]
    req.tn_q1, req.tn_dq = p["tn_q1"], p["tn_dq"]
    req.tn_log_offset = p["tn_log_offset"]
    req.clamp_lo, req.clamp_hi = p["clamp_lo"], p["clamp_hi"]
    req.nontemporal = 0  # fi_fill sets it from the size of each fill
    return 0


cdef int _set_layout(fi_layout *lay, tuple layout) except -1:
    n_runs, run_len, base, outer_shape, outer_stride = layout
    if len(outer_shape) != len(outer_stride) or len(outer_shape) > FI_MAX_DIMS:
        raise ValueError("bad layout")
    lay.n_runs, lay.run_len, lay.base = n_runs, run_len, base
    lay.outer_ndim = len(outer_shape)
    for d in range(lay.outer_ndim):
        lay.outer_shape[d] = outer_shape[d]
        lay.outer_stride[d] = outer_stride[d]
    lay.run_starts = NULL
    return 0


def fill_array(cnp.ndarray out, str dist, uint64_t seed, uint64_t stream, tuple layout,
         int threads, cnp.ndarray run_starts=None, **params):
    """Fill ``out`` (C-contiguous, writable) with elements of the logical array
    described by ``layout = (n_runs, run_len, base, outer_shape, outer_stride)``;
    ``run_starts`` (uint64, n_runs entries), if given, replaces base and the
    outer arrays: run r starts at logical index run_starts[r]. ``params``:
    the distribution's parameters (PARAMETERS, by name). The kernels
    write native byte order: a non-native ``out`` (``>f4`` on x86) has each
    chunk byte-swapped in place right after it is made, so it needs no
    temporary and Ctrl-C still leaves final values in a leading part."""
    cdef fi_request req
    cdef fi_layout lay
    cdef int nthreads = threads if threads > 0 else 1
    if not (cnp.PyArray_IS_C_CONTIGUOUS(out) and cnp.PyArray_ISWRITEABLE(out)):
        raise ValueError("out must be a writable C-contiguous array")
    req.dtype = _dtype_code(out)
    _set_layout(&lay, layout)
    _set_parameters(&req, dist, params)
    if <uint64_t>out.size != lay.n_runs * lay.run_len:
        raise ValueError("out has the wrong number of elements for the layout")
    if run_starts is not None and not (run_starts.dtype == np.uint64 and run_starts.flags.c_contiguous
                                       and <uint64_t>run_starts.size == lay.n_runs):
        raise ValueError("run_starts must be a C-contiguous uint64 array of n_runs entries")
    _set_key(&req, seed, stream)
    if run_starts is not None:
        lay.run_starts = <const uint64_t *>cnp.PyArray_DATA(run_starts)
    return _fill_chunks(out, &lay, &req, nthreads)


cdef inline void _set_key(fi_request *req, uint64_t seed, uint64_t stream) noexcept:
    req.key[0] = <uint32_t>seed
    req.key[1] = <uint32_t>(seed >> 32)
    req.stream[0] = <uint32_t>stream
    req.stream[1] = <uint32_t>(stream >> 32)


cdef object _fill_chunks(cnp.ndarray out, const fi_layout *lay, const fi_request *req, int nthreads):
    """fi_fill (the kernels over a range of elements) over all of out: chunk by chunk, the GIL released, Ctrl-C
    checked between chunks, non-native byte order swapped per chunk."""
    cdef uint64_t total, e0, e1, chunk
    cdef char *data
    total = out.size
    data = <char *>cnp.PyArray_DATA(out)
    swapped = None if cnp.PyArray_ISNOTSWAPPED(out) else out.reshape(-1)
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
            ok = fi_fill(data, lay, e0, e1, req, nthreads)
            info = fi_last_fill_info()
        if ok == 0:
            raise TypeError(f"no kernel for distribution {<int>req.dist} with dtype {out.dtype}")
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


# ---------------------------------------------------------------- hot path
#
# A call of a public initializer whose arguments are all of plain types
# (exact int, float, str, None, tuples of ints, slices of ints) gets a cache
# key: equal keys mean the same validation outcome and the same C request
# (every value has its exact type in the key, so 1, 1.0 and True never
# share one; -0.0 and nan never make a key). The first such call is
# validated in full by fastinit._prepare (prepare()), which leaves a Request
# in the cache; for the next ones fill_cached only checks what the key does
# not fix (seed, stream, out) and fills. Anything else (seed=None, NumPy scalars, row ids, a bad value) takes
# the full Python path, so errors and bits are the same either way.

cdef enum:
    MAX_KEY_OPTIONS = 26  # with the dtype's, type codes of 5 kinds packed in 64 bits

# FASTINIT_NUM_THREADS as the full path reads it (os.environ), looked up in
# os.environ's own mapping: a dict lookup, where getenv() scans the whole
# environment (~100 ns).
cdef dict _ENVIRON = os.environ._data
cdef object _THREADS_VAR = os.environ.encodekey("FASTINIT_NUM_THREADS")


cdef int _option_code(object v):
    """The kind of an option value a key may hold: 0 None, 1 str, 2 int,
    3 float, 4 tuple of ints; -1 for anything else."""
    if v is None:
        return 0
    if type(v) is str:
        return 1
    if type(v) is int:
        return 2
    if type(v) is float:
        x = <double>v
        if x != x or (x == 0.0 and copysign(1.0, x) < 0):  # nan equals nothing; -0.0 equals 0.0
            return -1
        return 3
    if type(v) is tuple:
        for item in <tuple>v:
            if type(item) is not int:
                return -1
        return 4
    return -1


cdef object _slice_key(object s):
    if type(s) is not slice:
        return None
    start, stop, step = (<slice>s).start, (<slice>s).stop, (<slice>s).step
    for b in (start, stop, step):
        if b is not None and type(b) is not int:
            return None
    return (start, stop, step)


cdef object _index_key(object index):
    """index=None, a slice or a tuple of slices as a hashable key; False if
    it cannot have one."""
    if index is None:
        return None
    if type(index) is slice:
        index = (index,)
    elif type(index) is not tuple:
        return False
    key = []
    for s in <tuple>index:
        k = _slice_key(s)
        if k is None:
            return False
        key.append(k)
    return tuple(key)


cdef object _NOT_PLAIN = object()


cdef object _plain_rest(object shape, object dtype, object threads, object index, tuple values,
                        uint64_t *codes):
    """The index key of a call whose shape, dtype, threads, index and option
    values are all plain, with their type codes in *codes; _NOT_PLAIN if one
    is not."""
    cdef int code
    if type(shape) is tuple:
        for d in <tuple>shape:
            if type(d) is not int:
                return _NOT_PLAIN
    elif type(shape) is not int:
        return _NOT_PLAIN
    if dtype is None:
        code = 0
    elif type(dtype) is str:
        code = 1
    elif type(dtype) is type:
        code = 2
    elif isinstance(dtype, np.dtype):
        code = 3
    else:
        return _NOT_PLAIN
    codes[0] = code
    if threads is not None and type(threads) is not int:
        return _NOT_PLAIN
    index_key = _index_key(index)
    if index_key is False or len(values) > MAX_KEY_OPTIONS:
        return _NOT_PLAIN
    for v in values:
        code = _option_code(v)
        if code < 0:
            return _NOT_PLAIN
        codes[0] = codes[0] * 5 + <uint64_t>code
    return index_key


cdef inline object _generated_dtype(object dtype, object out):
    """The dtype argument a key holds: out's dtype for out= and no dtype (the
    dtype the call generates)."""
    return (<cnp.ndarray>out).descr if dtype is None and out is not None else dtype


def hot_key(str name, object shape, object dtype, object out, object threads, object index, tuple values):
    """The cache key of a call of initializer ``name`` (``values``: its
    options), or None if an argument is not of a plain type: ``((name,
    shape), (type codes, values, dtype, threads, index))``. Requests are found
    by hashing the first part only and comparing the rest (comparing mostly
    identical objects costs less than hashing them)."""
    cdef uint64_t codes = 0
    if out is not None and type(out) is not np.ndarray:
        return None
    dtype = _generated_dtype(dtype, out)
    index_key = _plain_rest(shape, dtype, threads, index, values, &codes)
    if index_key is _NOT_PLAIN:
        return None
    return (name, shape), (codes, values, dtype, threads, index_key)


cdef class Request:
    """A validated fill with everything fixed but the seed, the stream and
    the output buffer: shape, dtype, the block's layout, the distribution's
    C parameters and the thread count. ``threads_from_env``: the thread
    count was decided under the current FASTINIT_NUM_THREADS (the call gave
    no threads=), so a change of that variable makes the request stale."""
    cdef fi_request req
    cdef fi_layout lay
    cdef readonly tuple out_shape
    cdef readonly cnp.dtype dtype
    cdef readonly int threads
    cdef bint threads_from_env
    cdef object env  # FASTINIT_NUM_THREADS when the thread count was decided
    # the second part of the call's hot_key (see cache_request)
    cdef uint64_t codes
    cdef object values, dtype_key, threads_key, index_key
    cdef int ndim
    cdef cnp.npy_intp dims[FI_MAX_DIMS + 32]
    cdef uint64_t size

    def __init__(self, tuple out_shape, cnp.dtype dtype, str dist, tuple layout, int threads,
                 bint threads_from_env, dict params):
        if len(out_shape) > FI_MAX_DIMS + 32:
            raise ValueError(f"a request has at most {FI_MAX_DIMS + 32} axes")
        self.out_shape, self.dtype, self.threads = out_shape, dtype, max(threads, 1)
        self.ndim = len(out_shape)
        self.size = 1
        for d in range(self.ndim):
            self.dims[d] = out_shape[d]
            self.size *= <uint64_t>out_shape[d]
        self.req.dtype = _descr_code(dtype)
        _set_layout(&self.lay, layout)
        if self.lay.n_runs * self.lay.run_len != self.size:
            raise ValueError("the layout does not have the elements of out_shape")
        _set_parameters(&self.req, dist, params)
        self.threads_from_env = threads_from_env
        self.env = _ENVIRON.get(_THREADS_VAR)

    cdef bint current(self):
        """The thread count still holds (FASTINIT_NUM_THREADS unchanged)."""
        if not self.threads_from_env:
            return True
        env = _ENVIRON.get(_THREADS_VAR)
        return env is self.env or env == self.env

    cdef bint serves(self, uint64_t codes, tuple values, object dtype, object threads, object index_key):
        """The call with these key parts is the one this request was made for."""
        return (self.codes == codes and (self.values is values or self.values == values)
                and (self.dtype_key is dtype or self.dtype_key == dtype)
                and (self.threads_key is threads or self.threads_key == threads)
                and (self.index_key is index_key or self.index_key == index_key))

    cdef bint fits(self, cnp.ndarray out):
        """out is a buffer this request may fill: its shape and dtype,
        C-contiguous and writable."""
        if cnp.PyArray_NDIM(out) != self.ndim:
            return False
        cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(out)
        for d in range(self.ndim):
            if dims[d] != self.dims[d]:
                return False
        return (cnp.PyArray_IS_C_CONTIGUOUS(out) and cnp.PyArray_ISWRITEABLE(out)
                and cnp.PyArray_EquivTypes(out.descr, self.dtype))

    def run(self, uint64_t seed, uint64_t stream, out=None):
        """Fill out (None: a new array) with this request under seed and
        stream; out must fit (see fits)."""
        if out is None:
            out = self.empty()
        elif not self.fits(out):
            raise ValueError("out does not fit this request")
        return self.fill_into(out, seed, stream)

    cdef cnp.ndarray empty(self):
        Py_INCREF(self.dtype)
        return PyArray_Empty(self.ndim, self.dims, self.dtype, 0)

    cdef object fill_into(self, cnp.ndarray out, uint64_t seed, uint64_t stream):
        cdef fi_request req = self.req
        if self.size == 0:
            _last_fill.info = None  # no fill ran: report none, not the previous one
            return out
        _set_key(&req, seed, stream)
        return _fill_chunks(out, &self.lay, &req, self.threads)


cdef bint _as_uint64(object x, uint64_t *value):
    """x is an exact int in [0, 2**64): its value in *value."""
    if type(x) is not int:
        return False
    value[0] = PyLong_AsUnsignedLongLong(x)
    if value[0] == <uint64_t>-1 and PyErr_Occurred():
        PyErr_Clear()
        return False
    return True


# Requests of the calls made so far: lists by the first part of their
# hot_key (see cache_request).
REQUESTS = {}
cdef Py_ssize_t _cached = 0
MAX_REQUESTS = 4096  # requests cached before the cache starts over


def cache_request(tuple key, Request request):
    """Serve the calls with this hot_key from request from now on."""
    global _cached
    if _cached >= MAX_REQUESTS:
        REQUESTS.clear()
        _cached = 0
    bucket, (request.codes, request.values, request.dtype_key, request.threads_key, request.index_key) = key
    requests = REQUESTS.setdefault(bucket, [])
    before = len(requests)
    # a request of the same call (a repeated full-path call, or a stale one:
    # FASTINIT_NUM_THREADS changed) gives way; only new entries count
    requests[:] = [r for r in requests if not (<Request>r).serves(request.codes, request.values, request.dtype_key,
                                                                  request.threads_key, request.index_key)]
    requests.append(request)
    _cached += len(requests) - before


def fill_cached(str name, object shape, object seed, object stream, object dtype, object out,
                object threads, object index, tuple values):
    """A call of the public initializer ``name`` (``values``: its options in
    spec order) filled from its cached Request; None if there is none that
    serves it (no plain key, not cached yet, seed=None, a seed, stream or out
    that does not fit, FASTINIT_NUM_THREADS changed): the caller then takes
    the full path, which validates and caches (cache_request)."""
    cdef uint64_t seed_value = 0, stream_value = 0, codes = 0
    cdef Request request
    if (_as_uint64(seed, &seed_value) and _as_uint64(stream, &stream_value)
            and (out is None or type(out) is np.ndarray)):
        key_dtype = _generated_dtype(dtype, out)
        index_key = _plain_rest(shape, key_dtype, threads, index, values, &codes)
        bucket = None if index_key is _NOT_PLAIN else REQUESTS.get((name, shape))
        if bucket is not None:
            for found in <list>bucket:
                request = <Request>found
                if request.serves(codes, values, key_dtype, threads, index_key) and request.current():
                    if out is None:
                        return request.fill_into(request.empty(), seed_value, stream_value)
                    if request.fits(out):
                        return request.fill_into(out, seed_value, stream_value)
                    break
    return None


# per Python thread: what the last fill_array() or Request fill on it did (see last_fill_info)
_last_fill = local()


def last_fill_info():
    """What the C core really did in the last fill_array() or Request fill on this thread, for
    tests: ``{"isa": path whose kernels ran, "threads": the most threads any
    chunk used (the calling thread included; 1 = it ran alone), "chunks":
    fi_fill calls}``; None if this thread has not filled anything yet (or the
    last one was empty or failed)."""
    info = getattr(_last_fill, "info", None)
    if info is None:
        return None
    isa, threads, chunks = info
    return {"isa": fi_isa_name(<fi_isa>isa).decode(), "threads": threads, "chunks": chunks}


def pool_workers():
    """Worker threads in the C core's pool of this process (0 until the first
    threaded fill, and in a forked child until its own first one)."""
    return fi_pool_workers()


cdef fi_dtype _dtype_code(cnp.ndarray out) except *:
    return _descr_code(out.descr)


cdef fi_dtype _descr_code(cnp.dtype descr) except *:
    """The C dtype of descr: by NumPy type number for the built-in dtypes (the
    name is computed in Python on every access), by name for bfloat16."""
    cdef int num = descr.type_num
    if num == cnp.NPY_FLOAT32:
        return FI_F32
    if num == cnp.NPY_FLOAT64:
        return FI_F64
    if num == cnp.NPY_FLOAT16:
        return FI_F16
    if num == cnp.NPY_UINT32:
        return FI_U32
    if descr.name == "bfloat16":
        return FI_BF16
    raise TypeError(f"unsupported dtype {descr}")


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

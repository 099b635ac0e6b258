# Declarations of the C core (fastinit/src/fastinit.h).
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "src/fastinit.h" nogil:
    enum:
        FI_MAX_DIMS
        FI_LANES
        FI_GROUP_U32
        FI_GROUP_F64
        FI_STREAM_MIN_BYTES

    ctypedef enum fi_dist:
        FI_BITS
        FI_UNIFORM
        FI_NORMAL
        FI_TRUNCNORMAL

    ctypedef enum fi_dtype:
        FI_U32
        FI_F32
        FI_F64
        FI_F16
        FI_BF16

    ctypedef enum fi_isa:
        FI_ISA_SCALAR
        FI_ISA_AVX2
        FI_ISA_AVX512
        FI_NISA

    ctypedef struct fi_request:
        uint32_t key[2]
        uint32_t stream[2]
        fi_dist dist
        fi_dtype dtype
        double low, span, high_below
        double loc, scale
        double tn_p0, tn_c0, tn_dp, tn_q1, tn_dq, tn_log_offset
        double clamp_lo, clamp_hi
        int nontemporal

    ctypedef struct fi_layout:
        uint64_t n_runs, run_len, base
        int outer_ndim
        uint64_t outer_shape[FI_MAX_DIMS]
        uint64_t outer_stride[FI_MAX_DIMS]
        const uint64_t *run_starts

    int fi_fill(void *out, const fi_layout *layout, uint64_t e0, uint64_t e1,
                const fi_request *req, int nthreads) noexcept
    ctypedef struct fi_fill_info:
        fi_isa isa
        int threads
    fi_fill_info fi_last_fill_info() noexcept
    int fi_pool_workers() noexcept
    void fi_philox4x32(int rounds, const uint32_t *ctr_in, const uint32_t *key,
                       uint32_t *out) noexcept
    void fi_eval_log_f32(const float *x, float *y, size_t n) noexcept
    void fi_eval_log_f64(const double *x, double *y, size_t n) noexcept
    void fi_eval_sincos_turn24_f32(const uint32_t *k, float *s, float *c, size_t n) noexcept
    void fi_eval_sincos_turn53_f64(const uint64_t *k, double *s, double *c, size_t n) noexcept
    fi_isa fi_best_isa() noexcept
    int fi_isa_supported(fi_isa isa) noexcept
    fi_isa fi_get_isa() noexcept
    int fi_set_isa(fi_isa isa) noexcept
    const char *fi_isa_name(fi_isa isa) noexcept
    const char *fi_compiler() noexcept

/* fastinit C core: public declarations. The C knows nothing of Python, fans or
 * gains: it fills element ranges of a logical flat array whose element i is a
 * pure function of (key, stream, i) under the lane-group layout of docs/design.md. */
#ifndef FASTINIT_H
#define FASTINIT_H

#include <stddef.h>
#include <stdint.h>

#define FI_LANES 16        /* Philox counters per lane group */
#define FI_GROUP_U32 64    /* 32-bit outputs per lane group (4 words x 16) */
#define FI_GROUP_F64 32    /* float64 outputs per lane group (2 per counter) */
/* SIMD kernels write a fill (one fi_fill call) of at least this many bytes
 * with non-temporal stores: such outputs do not fit the caches anyway, and
 * skipping the read of each line before writing it saves memory bandwidth. */
#define FI_STREAM_MIN_BYTES (16u << 20)

typedef enum { FI_BITS = 0, FI_UNIFORM = 1, FI_NORMAL = 2, FI_TRUNCNORMAL = 3, FI_NDIST } fi_dist;
/* FI_F16 and FI_BF16 have no kernels of their own: the driver runs the F32
 * kernel into a small buffer and rounds each value to nearest even, so a half
 * element is the float32 element at the same position, rounded. */
typedef enum { FI_U32 = 0, FI_F32 = 1, FI_F64 = 2, FI_F16 = 3, FI_BF16 = 4, FI_NDTYPE } fi_dtype;
/* ISA paths, worst to best; all produce the same bits. */
typedef enum { FI_ISA_SCALAR = 0, FI_ISA_AVX2 = 1, FI_ISA_AVX512 = 2, FI_NISA } fi_isa;

/* Everything a kernel needs to produce values; built once per call. */
typedef struct {
    uint32_t key[2];      /* (seed & 0xFFFFFFFF, seed >> 32) */
    uint32_t stream[2];   /* counter words 2, 3 */
    fi_dist dist;
    fi_dtype dtype;
    /* uniform: low + span * u, then min(., high_below) so high is never returned;
     * normal: loc + scale * z */
    double low, span, high_below;
    double loc, scale;
    /* truncated normal: loc + scale * Phi^-1(P), clamped into [clamp_lo,
     * clamp_hi]; P is given by (tn_p0, tn_c0, tn_dp, tn_q1, tn_dq,
     * tn_log_offset), see fi_ndtri_pq_* in transforms.h */
    double tn_p0, tn_c0, tn_dp, tn_q1, tn_dq, tn_log_offset;
    double clamp_lo, clamp_hi;
    int nontemporal;      /* set by fi_fill: the output is at least FI_STREAM_MIN_BYTES */
} fi_request;

/* The output is a sequence of n_runs runs of run_len consecutive logical
 * elements each, written one after the other. Run r starts at logical flat
 * index base + sum_d idx_d * outer_stride[d], where idx is r in the mixed radix
 * outer_shape (C order). A whole array is one run. If run_starts is not NULL,
 * run r starts at run_starts[r] instead (any order, repeats allowed: rows of
 * a table picked by id); base and the outer arrays are then unused. */
#define FI_MAX_DIMS 32
typedef struct {
    uint64_t n_runs, run_len, base;
    int outer_ndim;
    uint64_t outer_shape[FI_MAX_DIMS];
    uint64_t outer_stride[FI_MAX_DIMS];
    const uint64_t *run_starts;
} fi_layout;

/* Fill output elements [e0, e1) of out (which holds n_runs * run_len elements
 * of req->dtype; the caller may fill it in several calls) using up to nthreads
 * threads, each on whole lane groups of the output: the calling thread and
 * workers of a pool kept between calls (made on first need, one per process:
 * a forked child makes its own; joined at exit). Results never depend on
 * nthreads or on how [0, n_runs * run_len) is split into calls. Returns the
 * number of threads that took part (fewer than nthreads when a worker was not
 * scheduled before the caller ran out of work, or when another thread's fill
 * had the pool), 0 if the (dist, dtype) pair does not exist. */
int fi_fill(void *out, const fi_layout *layout, uint64_t e0, uint64_t e1, const fi_request *req, int nthreads);

/* Worker threads the pool of this process has now (0 before the first
 * threaded fill and in a freshly forked child). */
int fi_pool_workers(void);

/* What the last fi_fill on the calling thread really did, so tests observe
 * the mechanism and not only the output: the ISA whose kernel table supplied
 * the kernel, and the threads that took part (the calling thread included).
 * A thread-local record, two stores per fill: cheap enough for release. */
typedef struct {
    fi_isa isa;
    int threads;
} fi_fill_info;
fi_fill_info fi_last_fill_info(void);

/* Philox4x32 with R rounds, for known-answer tests. */
void fi_philox4x32(int rounds, const uint32_t ctr_in[4], const uint32_t key[2], uint32_t out[4]);

/* The scalar transforms on arrays (accuracy tests): natural log on (0, 1],
 * and sin/cos of 2*pi*k/2^24 (k < 2^24) and of 2*pi*k/2^53 (k < 2^53). */
void fi_eval_log_f32(const float *x, float *y, size_t n);
void fi_eval_log_f64(const double *x, double *y, size_t n);
void fi_eval_sincos_turn24_f32(const uint32_t *k, float *s, float *c, size_t n);
void fi_eval_sincos_turn53_f64(const uint64_t *k, double *s, double *c, size_t n);

/* ISA dispatch: the best path the CPU supports is picked once; a path can be
 * forced (FASTINIT_ISA, tests). fi_set_isa returns 0 if the CPU lacks the path. */
fi_isa fi_best_isa(void);
/* 1 if this build has the path and this CPU (and OS) can run it. */
int fi_isa_supported(fi_isa isa);
fi_isa fi_get_isa(void);
int fi_set_isa(fi_isa isa);
const char *fi_isa_name(fi_isa isa);
/* The compiler that built the core, e.g. "gcc 12.2.0" (for bug reports). */
const char *fi_compiler(void);

#endif

/* Driver: maps the output's runs onto whole lane groups, handles partial
 * groups at run edges, splits the work over threads and dispatches to the
 * kernel table of the chosen ISA. Compiled for the baseline ISA. */
#include <pthread.h>
#include <string.h>

#include "kernels.h"
#include "philox.h"

static size_t dtype_size(fi_dtype dtype) { return dtype == FI_F64 ? 8 : 4; }
static uint64_t group_size(fi_dtype dtype) { return dtype == FI_F64 ? FI_GROUP_F64 : FI_GROUP_U32; }

/* ---- ISA selection ---------------------------------------------------- */

static const fi_kernel_table *const kernel_tables[FI_NISA] = {
    [FI_ISA_SCALAR] = &fi_kernels_scalar,
#if FI_X86_SIMD
    [FI_ISA_AVX2] = &fi_kernels_avx2,
    [FI_ISA_AVX512] = &fi_kernels_avx512,
#endif
};
static const char *const isa_names[FI_NISA] = {
    [FI_ISA_SCALAR] = "scalar",
    [FI_ISA_AVX2] = "avx2",
    [FI_ISA_AVX512] = "avx512",
};

/* The AVX-512 kernels use AVX-512F instructions only. */
int fi_isa_supported(fi_isa isa)
{
    if ((int)isa < 0 || isa >= FI_NISA || !kernel_tables[isa])
        return 0;
#if FI_X86_SIMD
    __builtin_cpu_init();
    if (isa == FI_ISA_AVX2)
        return __builtin_cpu_supports("avx2");
    if (isa == FI_ISA_AVX512)
        return __builtin_cpu_supports("avx512f");
#endif
    return isa == FI_ISA_SCALAR;
}

fi_isa fi_best_isa(void)
{
    for (int isa = FI_NISA - 1; isa > FI_ISA_SCALAR; isa--)
        if (fi_isa_supported((fi_isa)isa))
            return (fi_isa)isa;
    return FI_ISA_SCALAR;
}

/* -1 until first use; the Python layer sets it at import (under the GIL). */
static int current_isa = -1;

fi_isa fi_get_isa(void)
{
    if (current_isa < 0)
        current_isa = (int)fi_best_isa();
    return (fi_isa)current_isa;
}

int fi_set_isa(fi_isa isa)
{
    if (!fi_isa_supported(isa))
        return 0;
    current_isa = (int)isa;
    return 1;
}

const char *fi_isa_name(fi_isa isa)
{
    return ((int)isa >= 0 && isa < FI_NISA) ? isa_names[isa] : "unknown";
}

const char *fi_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

void fi_philox4x32(int rounds, const uint32_t ctr_in[4], const uint32_t key[2], uint32_t out[4])
{
    memcpy(out, ctr_in, 4 * sizeof(uint32_t));
    philox4x32_R(rounds, out, key);
}

/* ---- serial fill of one logical range --------------------------------- */

/* Logical elements [start, stop) into out. Whole groups go straight to out;
 * a group cut by start or stop is made in a small buffer and copied. */
static void fill_range(char *out, uint64_t start, uint64_t stop, const fi_request *req, fi_group_fn fn)
{
    const uint64_t gsize = group_size(req->dtype);
    const size_t esize = dtype_size(req->dtype);
    uint64_t edge[FI_GROUP_U32 * 4 / 8 + 1]; /* one group of any dtype, 8-aligned */
    uint64_t g = start / gsize;
    uint64_t skip = start % gsize;
    if (skip && start < stop) {
        uint64_t n = gsize - skip < stop - start ? gsize - skip : stop - start;
        fn(edge, g, 1, req);
        memcpy(out, (char *)edge + skip * esize, n * esize);
        out += n * esize;
        start += n;
        g++;
    }
    uint64_t whole = (stop - start) / gsize;
    if (whole) {
        fn(out, g, whole, req);
        out += whole * gsize * esize;
        start += whole * gsize;
        g += whole;
    }
    if (start < stop) {
        fn(edge, g, 1, req);
        memcpy(out, edge, (stop - start) * esize);
    }
}

/* Output elements [e0, e1) of the layout (a thread's share). */
static void fill_part(char *out, const fi_layout *lay, uint64_t e0, uint64_t e1, const fi_request *req, fi_group_fn fn)
{
    const size_t esize = dtype_size(req->dtype);
    out += e0 * esize;
    while (e0 < e1) {
        uint64_t run = e0 / lay->run_len, offset = e0 % lay->run_len;
        uint64_t n = lay->run_len - offset < e1 - e0 ? lay->run_len - offset : e1 - e0;
        uint64_t logical = lay->base, rem = run;
        for (int d = lay->outer_ndim - 1; d >= 0; d--) {
            logical += (rem % lay->outer_shape[d]) * lay->outer_stride[d];
            rem /= lay->outer_shape[d];
        }
        fill_range(out, logical + offset, logical + offset + n, req, fn);
        out += n * esize;
        e0 += n;
    }
}

/* ---- threads ------------------------------------------------------------ */

typedef struct {
    char *out;
    const fi_layout *lay;
    const fi_request *req;
    fi_group_fn fn;
    uint64_t e0, e1;
} fill_task;

static void *run_task(void *arg)
{
    fill_task *t = (fill_task *)arg;
    fill_part(t->out, t->lay, t->e0, t->e1, t->req, t->fn);
    return NULL;
}

#define FI_MAX_THREADS 256

int fi_fill(void *out, const fi_layout *lay, uint64_t e0, uint64_t e1, const fi_request *req, int nthreads)
{
    /* a kernel without a SIMD variant (yet) runs on the scalar path, which
     * gives the same bits */
    fi_group_fn fn = kernel_tables[fi_get_isa()]->fn[req->dist][req->dtype];
    if (!fn)
        fn = fi_kernels_scalar.fn[req->dist][req->dtype];
    if (!fn)
        return 0;
    if (e1 <= e0)
        return 1;
    uint64_t total = e1 - e0;
    if (nthreads > FI_MAX_THREADS)
        nthreads = FI_MAX_THREADS;
    /* split on whole lane groups of the output so each thread writes whole
     * cache lines; a thread gets at least one group */
    uint64_t gsize = group_size(req->dtype);
    uint64_t groups = (total + gsize - 1) / gsize;
    if ((uint64_t)nthreads > groups)
        nthreads = (int)groups;
    if (nthreads <= 1) {
        fill_part((char *)out, lay, e0, e1, req, fn);
        return 1;
    }
    fill_task tasks[FI_MAX_THREADS];
    pthread_t ids[FI_MAX_THREADS];
    int started[FI_MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        uint64_t g0 = groups * (uint64_t)i / (uint64_t)nthreads;
        uint64_t g1 = groups * (uint64_t)(i + 1) / (uint64_t)nthreads;
        uint64_t t1 = g1 * gsize < total ? g1 * gsize : total;
        tasks[i] = (fill_task){(char *)out, lay, req, fn, e0 + g0 * gsize, e0 + t1};
    }
    /* task 0 runs on the calling thread; a thread that cannot be created has
     * its share done here too, so the output is always complete */
    for (int i = 1; i < nthreads; i++)
        started[i] = pthread_create(&ids[i], NULL, run_task, &tasks[i]) == 0;
    run_task(&tasks[0]);
    for (int i = 1; i < nthreads; i++) {
        if (started[i])
            pthread_join(ids[i], NULL);
        else
            run_task(&tasks[i]);
    }
    return nthreads;
}

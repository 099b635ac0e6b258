/* Driver: maps the output's runs onto whole lane groups, handles partial
 * groups at run edges, splits the work over threads and dispatches to the
 * kernel table of the chosen ISA. Compiled for the baseline ISA. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "kernels.h"
#include "philox.h"
#include "transforms.h"

static int is_half(fi_dtype dtype) { return dtype == FI_F16 || dtype == FI_BF16; }
static size_t dtype_size(fi_dtype dtype) { return dtype == FI_F64 ? 8 : is_half(dtype) ? 2 : 4; }
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

/* The kernel of the current ISA for (dist, dtype); the scalar one where that
 * ISA has none (every ISA path reproduces the scalar bits, so mixing is safe
 * and a new distribution works before it has SIMD variants). */
static fi_group_fn kernel_for(fi_dist dist, fi_dtype dtype, fi_isa *from)
{
    fi_isa isa = fi_get_isa();
    fi_group_fn fn = kernel_tables[isa]->fn[dist][dtype];
    if (!fn) {
        isa = FI_ISA_SCALAR;
        fn = fi_kernels_scalar.fn[dist][dtype];
    }
    if (from)
        *from = isa;
    return fn;
}

/* ---- float16 / bfloat16 ------------------------------------------------ */

/* Lane groups per float32 scratch block: 16 KiB on the stack. */
#define HALF_BLOCK_GROUPS 64

/* The group kernel of the half dtypes: the F32 kernel of the current ISA into
 * a scratch block, then each value rounded to nearest even. Any bound the
 * result must respect is already applied by the F32 kernel with a bound
 * representable in the half dtype, so rounding cannot cross it. */
static void half_groups(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    fi_group_fn fn32 = kernel_for(req->dist, FI_F32, NULL);
    float block[HALF_BLOCK_GROUPS * FI_GROUP_U32];
    uint16_t *out = (uint16_t *)dst;
    fi_request req32 = *req;
    req32.nontemporal = 0; /* the scratch block is read right back: keep it in cache */
    while (ngroups) {
        uint64_t n = ngroups < HALF_BLOCK_GROUPS ? ngroups : HALF_BLOCK_GROUPS;
        fn32(block, g0, n, &req32);
        uint64_t count = n * FI_GROUP_U32;
        if (req->dtype == FI_F16)
            for (uint64_t i = 0; i < count; i++)
                out[i] = fi_f32_to_f16_bits(block[i]);
        else
            for (uint64_t i = 0; i < count; i++)
                out[i] = fi_f32_to_bf16_bits(block[i]);
        out += count;
        g0 += n;
        ngroups -= n;
    }
}

/* ---- serial fill of one logical range --------------------------------- */

/* Lane groups per aligned staging block (8 KiB on the stack). */
#define STAGE_GROUPS 32

/* ngroups whole lane groups from g into out. C may store a float only through
 * an aligned pointer, so an out= buffer that is not aligned to its element
 * size (a view at an odd byte offset) gets them through an aligned block. */
static void groups_to(char *out, uint64_t g, uint64_t ngroups, const fi_request *req, fi_group_fn fn)
{
    const size_t group_bytes = group_size(req->dtype) * dtype_size(req->dtype);
    if ((uintptr_t)out % dtype_size(req->dtype) == 0) {
        fn(out, g, ngroups, req);
        return;
    }
    uint64_t stage[STAGE_GROUPS * FI_GROUP_U32 * 4 / 8];
    fi_request cached = *req;
    cached.nontemporal = 0; /* the block is read right back */
    while (ngroups) {
        uint64_t n = ngroups < STAGE_GROUPS ? ngroups : STAGE_GROUPS;
        fn(stage, g, n, &cached);
        memcpy(out, stage, n * group_bytes);
        out += n * group_bytes;
        g += n;
        ngroups -= n;
    }
}

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
        groups_to(out, g, whole, req, fn);
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
        if (lay->run_starts)
            logical = lay->run_starts[run];
        else
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

/* Threads claim blocks of whole output lane groups from a shared counter, so
 * a thread on a busy core does less of the work instead of holding up the
 * others (results never depend on who fills what). */
typedef struct {
    char *out;
    const fi_layout *lay;
    const fi_request *req;
    fi_group_fn fn;
    uint64_t e1, block;
    _Atomic uint64_t next; /* first element of the next unclaimed block */
} fill_job;

static void *run_job(void *arg)
{
    fill_job *job = (fill_job *)arg;
    for (;;) {
        uint64_t b0 = atomic_fetch_add_explicit(&job->next, job->block, memory_order_relaxed);
        if (b0 >= job->e1)
            return NULL;
        uint64_t b1 = job->e1 - b0 < job->block ? job->e1 : b0 + job->block;
        fill_part(job->out, job->lay, b0, b1, job->req, job->fn);
    }
}

#define FI_MAX_THREADS 256
#define FI_BLOCKS_PER_THREAD 16          /* enough for a busy core to matter little */
#define FI_MIN_BLOCK_ELEMENTS (1u << 16) /* a block costs far more than its claim */

static _Thread_local fi_fill_info last_fill = {FI_ISA_SCALAR, 0};

fi_fill_info fi_last_fill_info(void) { return last_fill; }

int fi_fill(void *out, const fi_layout *lay, uint64_t e0, uint64_t e1, const fi_request *req_in, int nthreads)
{
    fi_group_fn fn;
    last_fill.threads = 0;
    if (is_half(req_in->dtype))
        fn = kernel_for(req_in->dist, FI_F32, &last_fill.isa) ? half_groups : NULL;
    else
        fn = kernel_for(req_in->dist, req_in->dtype, &last_fill.isa);
    if (!fn)
        return 0;
    last_fill.threads = 1;
    if (e1 <= e0)
        return 1;
    uint64_t total = e1 - e0;
    fi_request req = *req_in;
    req.nontemporal = total * dtype_size(req.dtype) >= FI_STREAM_MIN_BYTES;
    if (nthreads > FI_MAX_THREADS)
        nthreads = FI_MAX_THREADS;
    /* blocks of whole lane groups of the output, so each thread writes whole
     * cache lines; a thread gets at least one block */
    uint64_t gsize = group_size(req.dtype);
    uint64_t groups = (total + gsize - 1) / gsize;
    uint64_t block_groups = groups / ((uint64_t)nthreads * FI_BLOCKS_PER_THREAD);
    if (block_groups * gsize < FI_MIN_BLOCK_ELEMENTS)
        block_groups = (FI_MIN_BLOCK_ELEMENTS + gsize - 1) / gsize;
    uint64_t blocks = (groups + block_groups - 1) / block_groups;
    if ((uint64_t)nthreads > blocks)
        nthreads = (int)blocks;
    if (nthreads <= 1) {
        fill_part((char *)out, lay, e0, e1, &req, fn);
        return 1;
    }
    fill_job job = {(char *)out, lay, &req, fn, e1, block_groups * gsize, e0};
    pthread_t ids[FI_MAX_THREADS];
    int started = 1;
    /* the calling thread works too; if a thread cannot be created, the ones
     * running still claim every block, so the output is always complete */
    for (; started < nthreads; started++)
        if (pthread_create(&ids[started], NULL, run_job, &job) != 0)
            break;
    run_job(&job);
    for (int i = 1; i < started; i++)
        pthread_join(ids[i], NULL);
    last_fill.threads = started;
    return started;
}

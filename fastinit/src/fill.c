/* Driver: maps the output's runs onto whole lane groups, handles partial
 * groups at run edges, splits the work over threads and dispatches to the
 * kernel table of the chosen ISA. Compiled for the baseline ISA. */
#define _POSIX_C_SOURCE 200809L /* pthread_sigmask, sigfillset under -std=c11 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void run_job(fill_job *job)
{
    for (;;) {
        uint64_t b0 = atomic_fetch_add_explicit(&job->next, job->block, memory_order_relaxed);
        if (b0 >= job->e1)
            return;
        uint64_t b1 = job->e1 - b0 < job->block ? job->e1 : b0 + job->block;
        fill_part(job->out, job->lay, b0, b1, job->req, job->fn);
    }
}

#define FI_MAX_THREADS 256
#define FI_BLOCKS_PER_THREAD 16          /* enough for a busy core to matter little */
#define FI_MIN_BLOCK_ELEMENTS (1u << 12) /* a block costs far more than its claim */

/* The worker pool: threads made on first need (grown to the most helpers any
 * fill asked for) and kept, sleeping on a condition variable between fills,
 * because creating and joining threads on every fill cost as much as filling
 * 2**18 elements. One fill owns the pool at a time; a fill that finds it busy
 * (another Python thread is filling) runs on its calling thread alone, which
 * keeps the cores no more than full. Every field is written under mutex;
 * posted and pending are also polled without it (see SPIN_NS). */
static struct {
    pthread_mutex_t mutex;
    pthread_cond_t wake;     /* workers: seats were posted, or shutdown */
    pthread_cond_t done;     /* the owner: pending reached 0 */
    pthread_t workers[FI_MAX_THREADS - 1];
    int nworkers;
    int sleepers;            /* workers waiting on wake */
    int busy;                /* a fill owns the pool */
    fill_job *job;           /* the owner's job while it has seats or pending */
    int seats;               /* workers still to join job */
    _Atomic int pending;     /* seats not yet taken plus workers still inside job */
    _Atomic unsigned posted; /* jobs posted so far */
    int shutdown;            /* exit: workers leave once no seats are left */
} pool = {.mutex = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A worker that has just finished a job, and a caller waiting for the
 * workers still inside its job, poll for up to SPIN_NS before sleeping on a
 * condition variable, giving the core away (sched_yield) between polls: a
 * sleeping worker takes tens of microseconds to wake (as long as filling
 * 2**15 elements), and fills often come back to back (a model's parameters).
 * With 2 threads on he_normal((512, 512)), interleaved with 1-thread calls,
 * polling for 1 ms gave 1.8x, for 0.1 ms 1.6x. A pool with no fill for
 * SPIN_NS is asleep (tests/test_concurrency.py checks it uses no CPU). */
#define SPIN_NS 1000000

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mutex);
    for (;;) {
        if (pool.seats == 0 && !pool.shutdown) {
            unsigned seen = atomic_load(&pool.posted);
            pthread_mutex_unlock(&pool.mutex);
            uint64_t deadline = now_ns() + SPIN_NS;
            while (atomic_load(&pool.posted) == seen && now_ns() < deadline)
                sched_yield();
            pthread_mutex_lock(&pool.mutex);
        }
        while (pool.seats == 0 && !pool.shutdown) {
            pool.sleepers++;
            pthread_cond_wait(&pool.wake, &pool.mutex);
            pool.sleepers--;
        }
        if (pool.seats == 0)
            break; /* shutdown, and no job waits for this worker */
        pool.seats--;
        fill_job *job = pool.job;
        pthread_mutex_unlock(&pool.mutex);
        run_job(job);
        pthread_mutex_lock(&pool.mutex);
        if (--pool.pending == 0)
            pthread_cond_signal(&pool.done);
    }
    pthread_mutex_unlock(&pool.mutex);
    return NULL;
}

/* At exit: wake every worker, let it finish any job it is seated for, join it. */
static void pool_shutdown(void)
{
    pthread_mutex_lock(&pool.mutex);
    pool.shutdown = 1;
    int n = pool.nworkers;
    atomic_fetch_add(&pool.posted, 1); /* ends the polling of spinning workers */
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mutex);
    for (int i = 0; i < n; i++)
        pthread_join(pool.workers[i], NULL);
    pthread_mutex_lock(&pool.mutex);
    pool.nworkers = 0;
    pthread_mutex_unlock(&pool.mutex);
}

/* fork: hold the mutex across it so the child's copy of the pool is
 * consistent. The child has none of the workers: it starts with an empty pool
 * (made again on its first threaded fill) and fresh condition variables (the
 * copies may record waiters that do not exist in the child). */
static void pool_before_fork(void) { pthread_mutex_lock(&pool.mutex); }
static void pool_after_fork_parent(void) { pthread_mutex_unlock(&pool.mutex); }
static void pool_after_fork_child(void)
{
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.nworkers = pool.sleepers = pool.busy = pool.seats = 0;
    pool.pending = 0;
    pool.job = NULL;
    pthread_mutex_unlock(&pool.mutex);
}

static void pool_register(void)
{
    pthread_atfork(pool_before_fork, pool_after_fork_parent, pool_after_fork_child);
    atexit(pool_shutdown);
}

/* Under the mutex: start workers until there are n (or creation fails).
 * Workers block every signal, so signals (Ctrl-C) go to the caller's threads. */
static void pool_grow(int n)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    while (pool.nworkers < n && pthread_create(&pool.workers[pool.nworkers], NULL, worker_main, NULL) == 0)
        pool.nworkers++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Run job on the calling thread and up to helpers pool workers; returns the
 * threads that took part. Once the caller has no block left to claim, it
 * withdraws the seats no worker has taken yet and waits only for the workers
 * inside the job: a worker that has not been scheduled by then (a loaded
 * machine) cannot make the fill slower than the caller alone. */
static int pool_run(fill_job *job, int helpers)
{
    pthread_once(&pool_once, pool_register);
    pthread_mutex_lock(&pool.mutex);
    if (pool.busy || pool.shutdown) {
        pthread_mutex_unlock(&pool.mutex);
        run_job(job);
        return 1;
    }
    pool.busy = 1;
    pool_grow(helpers);
    if (helpers > pool.nworkers)
        helpers = pool.nworkers;
    pool.job = job;
    pool.seats = helpers;
    pool.pending = helpers;
    atomic_fetch_add(&pool.posted, 1);
    /* wake up to helpers sleepers; a worker that is not asleep (spinning, or
     * between jobs) checks the seats before it sleeps */
    for (int i = 0; i < helpers && i < pool.sleepers; i++)
        pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.mutex);
    run_job(job);
    pthread_mutex_lock(&pool.mutex);
    int joined = helpers - pool.seats;
    pool.pending -= pool.seats;
    pool.seats = 0;
    if (pool.pending) {
        pthread_mutex_unlock(&pool.mutex);
        uint64_t deadline = now_ns() + SPIN_NS;
        while (atomic_load(&pool.pending) && now_ns() < deadline)
            sched_yield();
        pthread_mutex_lock(&pool.mutex);
    }
    while (pool.pending)
        pthread_cond_wait(&pool.done, &pool.mutex);
    pool.job = NULL;
    pool.busy = 0;
    pthread_mutex_unlock(&pool.mutex);
    return 1 + joined;
}

int fi_pool_workers(void)
{
    pthread_mutex_lock(&pool.mutex);
    int n = pool.nworkers;
    pthread_mutex_unlock(&pool.mutex);
    return n;
}

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
    last_fill.threads = pool_run(&job, nthreads - 1);
    return last_fill.threads;
}

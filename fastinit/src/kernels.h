/* Per-ISA group kernels: each fills ngroups whole lane groups, starting at
 * lane group g0, into dst (contiguous). The driver (fill.c) handles partial
 * groups, runs and threads. Every ISA's table must reproduce the scalar one
 * bit for bit. */
#ifndef FASTINIT_KERNELS_H
#define FASTINIT_KERNELS_H

#include "fastinit.h"

typedef void (*fi_group_fn)(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req);

typedef struct {
    fi_group_fn fn[FI_NDIST][FI_NDTYPE]; /* NULL where the pair does not exist */
} fi_kernel_table;

extern const fi_kernel_table fi_kernels_scalar;

/* x86-64 SIMD paths (kernels_avx2.c, kernels_avx512.c): built with gcc or
 * clang, each unit for its own ISA only; elsewhere those units are empty. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FI_X86_SIMD 1
extern const fi_kernel_table fi_kernels_avx2;
extern const fi_kernel_table fi_kernels_avx512;
#else
#define FI_X86_SIMD 0
#endif

#endif

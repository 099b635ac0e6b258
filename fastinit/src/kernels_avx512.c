/* The AVX-512 path: the vocabulary of kernels_simd.h on 512-bit vectors
 * (AVX-512F only). Only this unit is compiled for AVX-512, through a target
 * pragma; fill.c checks the CPU before it calls anything here. */
#include "kernels.h"

#if FI_X86_SIMD
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif

#define FI_N64 8
#define FI_VEC_BYTES 64
/* 4 vectors = 2 lane groups per step: enough independent multiplies to hide
 * their latency, 16 of the 32 registers for the Philox state */
#define FI_STEP_VECS 4
#define FI_TABLE_NAME fi_kernels_avx512

typedef __m512i vi;
typedef __m512 vf;
typedef __m512d vd;

static inline vi vi_set1_32(uint32_t x) { return _mm512_set1_epi32((int)x); }
static inline vi vi_set1_64(uint64_t x) { return _mm512_set1_epi64((long long)x); }
static inline vi vi_loadu(const void *p) { return _mm512_loadu_si512(p); }
static inline void vi_storeu(void *p, vi a) { _mm512_storeu_si512(p, a); }
static inline vi vi_add32(vi a, vi b) { return _mm512_add_epi32(a, b); }
static inline vi vi_add64(vi a, vi b) { return _mm512_add_epi64(a, b); }
static inline vi vi_sub32(vi a, vi b) { return _mm512_sub_epi32(a, b); }
static inline vi vi_and(vi a, vi b) { return _mm512_and_si512(a, b); }
static inline vi vi_or(vi a, vi b) { return _mm512_or_si512(a, b); }
static inline vi vi_xor(vi a, vi b) { return _mm512_xor_si512(a, b); }
static inline vi vi_xor3(vi a, vi b, vi c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }
#define vi_srli32(a, n) _mm512_srli_epi32((a), (n))
#define vi_slli32(a, n) _mm512_slli_epi32((a), (n))
#define vi_srli64(a, n) _mm512_srli_epi64((a), (n))
#define vi_slli64(a, n) _mm512_slli_epi64((a), (n))
static inline vi vi_mul_u32(vi a, vi b) { return _mm512_mul_epu32(a, b); }
static inline vi vi_swap32(vi a) { return _mm512_shuffle_epi32(a, _MM_PERM_CDAB); }
static inline vi vi_pack_lo32(vi a, vi b)
{
    return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}

static inline vf vf_set1(float x) { return _mm512_set1_ps(x); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_from_bits(vi a) { return _mm512_castsi512_ps(a); }
static inline vi vf_to_bits(vf a) { return _mm512_castps_si512(a); }
static inline vf vf_from_i32(vi a) { return _mm512_cvtepi32_ps(a); }
#define vf_select_bit(x, n, a, b) _mm512_mask_blend_ps(_mm512_test_epi32_mask((x), vi_set1_32(1u << (n))), (b), (a))

static inline vd vd_set1(double x) { return _mm512_set1_pd(x); }
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
static inline vd vd_sqrt(vd a) { return _mm512_sqrt_pd(a); }
static inline vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
static inline vd vd_from_bits(vi a) { return _mm512_castsi512_pd(a); }
static inline vi vd_to_bits(vd a) { return _mm512_castpd_si512(a); }
#define vd_select_bit(x, n, a, b) _mm512_mask_blend_pd(_mm512_test_epi64_mask((x), vi_set1_64(1ull << (n))), (b), (a))
/* comparison masks: one bit per lane; ordered compares, false for NaN as in C */
typedef __mmask16 vfm;
typedef __mmask8 vdm;
static inline vfm vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vfm vf_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline vfm vfm_and(vfm a, vfm b) { return a & b; }
static inline vf vf_select(vfm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
static inline vdm vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
static inline vdm vd_le(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
static inline vdm vdm_and(vdm a, vdm b) { return a & b; }
static inline vd vd_select(vdm m, vd a, vd b) { return _mm512_mask_blend_pd(m, b, a); }
/* 2^52 + x as the bits of a double, minus 2^52: exact for x < 2^32 */
static inline vd vd_from_u32lo(vi a)
{
    vi magic = vi_or(vi_and(a, vi_set1_64(0xffffffffull)), vi_set1_64(0x4330000000000000ull));
    return vd_sub(vd_from_bits(magic), vd_set1(0x1p52));
}

static inline void vi_stream(void *p, vi a) { _mm512_stream_si512((__m512i *)p, a); }
static inline void vi_stream_fence(void) { _mm_sfence(); }
static inline void vi_store_lanes(void *p, vi a, int lo, int hi)
{
    _mm512_mask_storeu_epi32(p, (__mmask16)((1u << hi) - (1u << lo)), a);
}
typedef __m512i realign_ctl; /* vpermt2d indices: lane i takes lane i + 16 - k of (prev, cur) */
static inline void realign_init(realign_ctl *c, int k)
{
    *c = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), vi_set1_32((uint32_t)(16 - k)));
}
static inline vi vi_realign(vi prev, vi cur, const realign_ctl *c) { return _mm512_permutex2var_epi32(prev, *c, cur); }

#include "kernels_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* FI_X86_SIMD */

/* The AVX2 path: the vocabulary of kernels_simd.h on 256-bit vectors. Only
 * this unit is compiled for AVX2, through a target pragma ("avx2" without
 * "fma": no multiply-add may be fused); fill.c checks the CPU before it calls
 * anything here. */
#include "kernels.h"

#if FI_X86_SIMD
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#define FI_N64 4
#define FI_VEC_BYTES 32
/* one lane group per step (4 vectors; some of the Philox state spills to the
 * stack, which costs less than it saves) */
#define FI_STEP_VECS 4
#define FI_TABLE_NAME fi_kernels_avx2

typedef __m256i vi;
typedef __m256 vf;
typedef __m256d vd;

static inline vi vi_set1_32(uint32_t x) { return _mm256_set1_epi32((int)x); }
static inline vi vi_set1_64(uint64_t x) { return _mm256_set1_epi64x((long long)x); }
static inline vi vi_loadu(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void vi_storeu(void *p, vi a) { _mm256_storeu_si256((__m256i *)p, a); }
static inline vi vi_add32(vi a, vi b) { return _mm256_add_epi32(a, b); }
static inline vi vi_add64(vi a, vi b) { return _mm256_add_epi64(a, b); }
static inline vi vi_sub32(vi a, vi b) { return _mm256_sub_epi32(a, b); }
static inline vi vi_and(vi a, vi b) { return _mm256_and_si256(a, b); }
static inline vi vi_or(vi a, vi b) { return _mm256_or_si256(a, b); }
static inline vi vi_xor(vi a, vi b) { return _mm256_xor_si256(a, b); }
static inline vi vi_xor3(vi a, vi b, vi c) { return _mm256_xor_si256(a, _mm256_xor_si256(b, c)); }
#define vi_srli32(a, n) _mm256_srli_epi32((a), (n))
#define vi_slli32(a, n) _mm256_slli_epi32((a), (n))
#define vi_srli64(a, n) _mm256_srli_epi64((a), (n))
#define vi_slli64(a, n) _mm256_slli_epi64((a), (n))
static inline vi vi_mul_u32(vi a, vi b) { return _mm256_mul_epu32(a, b); }
static inline vi vi_swap32(vi a) { return _mm256_shuffle_epi32(a, _MM_SHUFFLE(2, 3, 0, 1)); }
static inline vi vi_pack_lo32(vi a, vi b)
{
    return _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}

static inline vf vf_set1(float x) { return _mm256_set1_ps(x); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_from_bits(vi a) { return _mm256_castsi256_ps(a); }
static inline vi vf_to_bits(vf a) { return _mm256_castps_si256(a); }
static inline vf vf_from_i32(vi a) { return _mm256_cvtepi32_ps(a); }
/* blendv picks by the sign bit: move bit n there */
#define vf_select_bit(x, n, a, b) _mm256_blendv_ps((b), (a), _mm256_castsi256_ps(_mm256_slli_epi32((x), 31 - (n))))

static inline vd vd_set1(double x) { return _mm256_set1_pd(x); }
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm256_div_pd(a, b); }
static inline vd vd_sqrt(vd a) { return _mm256_sqrt_pd(a); }
static inline vd vd_min(vd a, vd b) { return _mm256_min_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm256_max_pd(a, b); }
static inline vd vd_from_bits(vi a) { return _mm256_castsi256_pd(a); }
static inline vi vd_to_bits(vd a) { return _mm256_castpd_si256(a); }
#define vd_select_bit(x, n, a, b) _mm256_blendv_pd((b), (a), _mm256_castsi256_pd(_mm256_slli_epi64((x), 63 - (n))))
/* comparison masks: all-ones lanes; ordered compares, false for NaN as in C */
typedef __m256 vfm;
typedef __m256d vdm;
static inline vfm vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vfm vf_le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline vfm vfm_and(vfm a, vfm b) { return _mm256_and_ps(a, b); }
static inline vf vf_select(vfm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
static inline vdm vd_lt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
static inline vdm vd_le(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
static inline vdm vdm_and(vdm a, vdm b) { return _mm256_and_pd(a, b); }
static inline vd vd_select(vdm m, vd a, vd b) { return _mm256_blendv_pd(b, a, m); }
/* 2^52 + x as the bits of a double, minus 2^52: exact for x < 2^32 */
static inline vd vd_from_u32lo(vi a)
{
    vi magic = vi_or(vi_and(a, vi_set1_64(0xffffffffull)), vi_set1_64(0x4330000000000000ull));
    return vd_sub(vd_from_bits(magic), vd_set1(0x1p52));
}

static inline void vi_stream(void *p, vi a) { _mm256_stream_si256((__m256i *)p, a); }
static inline void vi_stream_fence(void) { _mm_sfence(); }
static inline vi lane_index(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
static inline void vi_store_lanes(void *p, vi a, int lo, int hi)
{
    vi lane = lane_index();
    vi mask = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(lo - 1)), _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane));
    _mm256_maskstore_epi32((int *)p, mask, a);
}
/* lane i takes lane (i - k) mod 8 of prev (i < k) or of cur (i >= k) */
typedef struct {
    vi index, from_cur;
} realign_ctl;
static inline void realign_init(realign_ctl *c, int k)
{
    vi lane = lane_index();
    c->index = _mm256_and_si256(_mm256_sub_epi32(lane, _mm256_set1_epi32(k)), _mm256_set1_epi32(7));
    c->from_cur = _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(k - 1));
}
static inline vi vi_realign(vi prev, vi cur, const realign_ctl *c)
{
    return _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(prev, c->index), _mm256_permutevar8x32_epi32(cur, c->index), c->from_cur);
}

#include "kernels_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* FI_X86_SIMD */

/* The scalar reference path. Loops run over the 16 lanes of a group so the
 * compiler may vectorize them for the baseline ISA; other paths are tested
 * bit for bit against this one. */
#include "kernels.h"
#include "philox.h"
#include "transforms.h"

/* Words of the 16 counters of lane group g: words[w][l] is word w of counter
 * 16*g + l. */
static inline void philox_group(uint64_t g, const fi_request *req, uint32_t words[4][FI_LANES])
{
    uint64_t n0 = g * FI_LANES;
    for (int l = 0; l < FI_LANES; l++) {
        uint64_t n = n0 + (uint64_t)l;
        uint32_t ctr[4] = {(uint32_t)n, (uint32_t)(n >> 32), req->stream[0], req->stream[1]};
        philox4x32_R(PHILOX_ROUNDS, ctr, req->key);
        for (int w = 0; w < 4; w++)
            words[w][l] = ctr[w];
    }
}

static void bits_u32(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    uint32_t *out = (uint32_t *)dst;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_U32) {
        philox_group(g0 + g, req, words);
        memcpy(out, words, sizeof words);
    }
}

static void uniform_f32(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    float *out = (float *)dst;
    const float low = (float)req->low, span = (float)req->span, top = (float)req->high_below;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_U32) {
        philox_group(g0 + g, req, words);
        for (int w = 0; w < 4; w++)
            for (int l = 0; l < FI_LANES; l++) {
                float y = low + span * fi_u01_f32(words[w][l]);
                out[FI_LANES * w + l] = y < top ? y : top;
            }
    }
}

static void uniform_f64(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    double *out = (double *)dst;
    const double low = req->low, span = req->span, top = req->high_below;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_F64) {
        philox_group(g0 + g, req, words);
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < FI_LANES; l++) {
                double y = low + span * fi_u01_f64(words[2 * h][l], words[2 * h + 1][l]);
                out[FI_LANES * h + l] = y < top ? y : top;
            }
    }
}

/* Box-Muller: pair p uses words (2p, 2p+1); cosine to the first 16 of its 32
 * elements, sine to the next 16. */
static void normal_f32(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    float *out = (float *)dst;
    const float loc = (float)req->loc, scale = (float)req->scale;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_U32) {
        philox_group(g0 + g, req, words);
        for (int p = 0; p < 2; p++)
            for (int l = 0; l < FI_LANES; l++) {
                float radius = __builtin_sqrtf(-2.0f * fi_log_f32(fi_u01_open_f32(words[2 * p][l]))) * scale;
                float s, c;
                fi_sincos_turn24_f32(words[2 * p + 1][l] >> 8, &s, &c);
                out[32 * p + l] = loc + radius * c;
                out[32 * p + FI_LANES + l] = loc + radius * s;
            }
    }
}

/* float64 Box-Muller: the four words of a counter make one pair of 53-bit
 * uniforms; cosine to elements 0-15, sine to 16-31. */
static void normal_f64(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    double *out = (double *)dst;
    const double loc = req->loc, scale = req->scale;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_F64) {
        philox_group(g0 + g, req, words);
        for (int l = 0; l < FI_LANES; l++) {
            double radius = __builtin_sqrt(-2.0 * fi_log_f64(fi_u01_open_f64(words[0][l], words[1][l]))) * scale;
            double s, c;
            fi_sincos_turn53_f64(words[2][l], words[3][l], &s, &c);
            out[l] = loc + radius * c;
            out[FI_LANES + l] = loc + radius * s;
        }
    }
}

/* Truncated normal by inverse CDF: element 16*w + l of a group from word w of
 * counter l, as for uniform; the result is clamped into [clamp_lo, clamp_hi]
 * (a NaN, which the parameters the caller builds cannot produce, becomes
 * clamp_lo). */
static void truncnormal_f32(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    float *out = (float *)dst;
    const float loc = (float)req->loc, scale = (float)req->scale;
    const float p0 = (float)req->tn_p0, c0 = (float)req->tn_c0, dp = (float)req->tn_dp;
    const float q1 = (float)req->tn_q1, dq = (float)req->tn_dq;
    const float log_offset = (float)req->tn_log_offset;
    const float lo = (float)req->clamp_lo, hi = (float)req->clamp_hi;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_U32) {
        philox_group(g0 + g, req, words);
        for (int w = 0; w < 4; w++)
            for (int l = 0; l < FI_LANES; l++) {
                float x = fi_ndtri_pq_f32(fi_u01_mid_f32(words[w][l]), p0, c0, dp, q1, dq, log_offset);
                float y = loc + scale * x;
                y = y > lo ? y : lo;
                out[FI_LANES * w + l] = y < hi ? y : hi;
            }
    }
}

/* float64: element 16*h + l from words (2h, 2h+1) of counter l, as uniform_f64. */
static void truncnormal_f64(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)
{
    double *out = (double *)dst;
    const double loc = req->loc, scale = req->scale, lo = req->clamp_lo, hi = req->clamp_hi;
    uint32_t words[4][FI_LANES];
    for (uint64_t g = 0; g < ngroups; g++, out += FI_GROUP_F64) {
        philox_group(g0 + g, req, words);
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < FI_LANES; l++) {
                double u = fi_u01_mid_f64(words[2 * h][l], words[2 * h + 1][l]);
                double x = fi_ndtri_pq_f64(u, req->tn_p0, req->tn_c0, req->tn_dp, req->tn_q1, req->tn_dq,
                                           req->tn_log_offset);
                double y = loc + scale * x;
                y = y > lo ? y : lo;
                out[FI_LANES * h + l] = y < hi ? y : hi;
            }
    }
}

const fi_kernel_table fi_kernels_scalar = {{
    [FI_BITS] = {[FI_U32] = bits_u32},
    [FI_UNIFORM] = {[FI_F32] = uniform_f32, [FI_F64] = uniform_f64},
    [FI_NORMAL] = {[FI_F32] = normal_f32, [FI_F64] = normal_f64},
    [FI_TRUNCNORMAL] = {[FI_F32] = truncnormal_f32, [FI_F64] = truncnormal_f64},
}};

/* The transforms on arrays, so tests can measure their accuracy over the
 * whole input range against a higher-precision reference. */
void fi_eval_log_f32(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fi_log_f32(x[i]);
}

void fi_eval_log_f64(const double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fi_log_f64(x[i]);
}

void fi_eval_sincos_turn24_f32(const uint32_t *k, float *s, float *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fi_sincos_turn24_f32(k[i], &s[i], &c[i]);
}

void fi_eval_sincos_turn53_f64(const uint64_t *k, double *s, double *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fi_sincos_turn53_f64((uint32_t)k[i], (uint32_t)(k[i] >> 32) << 11, &s[i], &c[i]);
}

/* Word -> float conversions and the polynomial log / sincos used by
 * Box-Muller. Every operation here is an IEEE add, multiply, divide, sqrt or an
 * exact integer/bit operation, evaluated in a fixed order and built with
 * -ffp-contract=off, so SIMD paths that perform the same operations produce the
 * same bits. No libm call, no fast-math.
 *
 * Accuracy, measured by tests/test_accuracy.py over the inputs the kernels
 * use (exhaustively for float32, 2^21 random inputs plus edges for float64),
 * against float64 / long double references:
 *   fi_log_f32             0.83 ulp max    fi_log_f64             0.82 ulp max
 *   fi_sincos_turn24_f32   1.95 ulp max    fi_sincos_turn53_f64   1.77 ulp max
 * End to end (radius * cos/sin, tests/test_transforms.py, 2^24 samples):
 *   normal float32 3.41 ulp max, float64 3.21 ulp max.
 * Truncated normal (fi_ndtri_pq_*), end to end where |x| >= 1/2: float32
 *   <= 5.1 ulp, float64 <= 8 ulp (benchmarks/truncnormal_accuracy.py).
 */
#ifndef FASTINIT_TRANSFORMS_H
#define FASTINIT_TRANSFORMS_H

#include <stdint.h>
#include <string.h>

static inline float fi_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t fi_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline double fi_bits_to_f64(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static inline uint64_t fi_f64_to_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }

/* [0, 1) from the top 24 bits of a word: exact, every value equally likely. */
static inline float fi_u01_f32(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }
/* (0, 1] from the top 24 bits: never 0, so log() is always finite. */
static inline float fi_u01_open_f32(uint32_t w) { return (float)((w >> 8) + 1u) * 0x1p-24f; }

/* [0, 1) from 53 bits: the top 21 of hi, all 32 of lo (exact, two exact
 * int->double conversions and an exact sum). */
static inline double fi_u01_f64(uint32_t lo, uint32_t hi)
{
    return (double)(hi >> 11) * 0x1p-21 + (double)lo * 0x1p-53;
}
/* (0, 1]: the 53-bit integer plus one, times 2^-53. */
static inline double fi_u01_open_f64(uint32_t lo, uint32_t hi)
{
    return (double)(hi >> 11) * 0x1p-21 + ((double)lo + 1.0) * 0x1p-53;
}

/* ---- polynomial coefficients ---------------------------------------------
 * Highest degree first, in the order Horner's rule uses them. The scalar
 * functions below and the SIMD kernels (kernels_simd.h) evaluate these same
 * tables with the same operations, so the paths cannot drift apart. */

/* Cephes logf (Moshier): log1p(f) = f - f^2/2 + f^3 P(f), f in [sqrt(1/2) - 1, sqrt(2) - 1) */
static const float fi_log_f32_coef[9] = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f,
                                         -1.2420140846e-1f, 1.4249322787e-1f, -1.6668057665e-1f,
                                         2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f};
/* fdlibm e_log.c: R(z) = w (Lg2 + w (Lg4 + w Lg6)) + z (Lg1 + w (Lg3 + w (Lg5 + w Lg7))), w = z^2 */
static const double fi_log_f64_even_coef[3] = {1.531383769920937332e-01, 2.222219843214978396e-01,
                                               3.999999999940941908e-01}; /* Lg6, Lg4, Lg2 */
static const double fi_log_f64_odd_coef[4] = {1.479819860511658591e-01, 1.818357216161805012e-01,
                                              2.857142874366239149e-01, 6.666666666666735130e-01}; /* Lg7, Lg5, Lg3, Lg1 */
/* Cephes sinf/cosf on [-pi/4, pi/4], in z = phi^2 */
static const float fi_sin_f32_coef[3] = {-1.9515295891e-4f, 8.3321608736e-3f, -1.6666654611e-1f};
static const float fi_cos_f32_coef[3] = {2.443315711809948e-5f, -1.388731625493765e-3f, 4.166664568298827e-2f};
/* fdlibm k_sin.c (S6..S1) and k_cos.c (C6..C1) on [-pi/4, pi/4], in z = phi^2 */
static const double fi_sin_f64_coef[6] = {1.58969099521155010221e-10, -2.50507602534068634195e-08,
                                          2.75573137070700676789e-06, -1.98412698298579493134e-04,
                                          8.33333333332248946124e-03, -1.66666666666666324348e-01};
static const double fi_cos_f64_coef[6] = {-1.13596475577881948265e-11, 2.08757232129817482790e-09,
                                          -2.75573143513906633035e-07, 2.48015872894767294178e-05,
                                          -1.38888888888741095749e-03, 4.16666666666666019037e-02};
/* Wichura AS 241: PPND7 (float) and PPND16 (double), each branch num / den */
static const float fi_ndtri_f32_central_num[4] = {5.9109374720e+1f, 1.5929113202e+2f, 5.0434271938e+1f, 3.3871327179e+0f};
static const float fi_ndtri_f32_central_den[4] = {6.7187563600e+1f, 7.8757757664e+1f, 1.7895169469e+1f, 1.0f};
static const float fi_ndtri_f32_mid_num[4] = {1.7023821103e-1f, 1.3067284816e+0f, 2.7568153900e+0f, 1.4234372777e+0f};
static const float fi_ndtri_f32_mid_den[3] = {1.2021132975e-1f, 7.3700164250e-1f, 1.0f};
static const float fi_ndtri_f32_far_num[4] = {1.7337203997e-2f, 4.2868294337e-1f, 3.0812263860e+0f, 6.6579051150e+0f};
static const float fi_ndtri_f32_far_den[3] = {1.2258202635e-2f, 2.4197894225e-1f, 1.0f};
static const double fi_ndtri_f64_central_num[8] = {
    2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4, 4.5921953931549871457e+4,
    1.3731693765509461125e+4, 1.9715909503065514427e+3, 1.3314166789178437745e+2, 3.3871328727963666080e+0};
static const double fi_ndtri_f64_central_den[8] = {
    5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4, 2.1213794301586595867e+4,
    5.3941960214247511077e+3, 6.8718700749205790830e+2, 4.2313330701600911252e+1, 1.0};
static const double fi_ndtri_f64_mid_num[8] = {
    7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1, 1.27045825245236838258e+0,
    3.64784832476320460504e+0, 5.76949722146069140550e+0, 4.63033784615654529590e+0, 1.42343711074968357734e+0};
static const double fi_ndtri_f64_mid_den[8] = {
    1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2, 1.48103976427480074590e-1,
    6.89767334985100004550e-1, 1.67638483018380384940e+0, 2.05319162663775882187e+0, 1.0};
static const double fi_ndtri_f64_far_num[8] = {
    2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3, 2.65321895265761230930e-2,
    2.96560571828504891230e-1, 1.78482653991729133580e+0, 5.46378491116411436990e+0, 6.65790464350110377720e+0};
static const double fi_ndtri_f64_far_den[8] = {
    2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5, 7.86869131145613259100e-4,
    1.48753612908506148525e-2, 1.36929880922735805310e-1, 5.99832206555887937690e-1, 1.0};

/* ln 2 split so that e * hi is exact for the exponents e of (0, 1] */
#define FI_LN2_HI_F32 0.693359375f
#define FI_LN2_LO_F32 -2.12194440e-4f
#define FI_LN2_HI_F64 6.93147180369123816490e-01
#define FI_LN2_LO_F64 1.90821492927058770002e-10

/* c[0] x^(n-1) + ... + c[n-1] by Horner's rule: p = p * x + c[k] */
static inline float fi_horner_f32(float x, const float *c, int n)
{
    float p = c[0];
    for (int k = 1; k < n; k++)
        p = p * x + c[k];
    return p;
}

static inline double fi_horner_f64(double x, const double *c, int n)
{
    double p = c[0];
    for (int k = 1; k < n; k++)
        p = p * x + c[k];
    return p;
}

/* Natural log of x in (0, 1] (normal positive floats only: fi_u01_open_* never
 * produce less than 2^-24 or 2^-53). x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
 * log(x) = e*ln2 + log1p(m - 1); the exponent split keeps the ln2 product
 * exact. Polynomial: Cephes logf (Moshier), degree 9 in f = m - 1. */
static inline float fi_log_f32(float x)
{
    uint32_t bits = fi_f32_to_bits(x);
    /* shifting by the bits of sqrt(1/2) puts m in [sqrt(1/2), sqrt(2)) */
    uint32_t shifted = bits + (0x3f800000u - 0x3f3504f3u);
    int32_t e = (int32_t)(shifted >> 23) - 127;
    float m = fi_bits_to_f32((shifted & 0x007fffffu) + 0x3f3504f3u);
    float f = m - 1.0f;
    float fe = (float)e;
    float z = f * f;
    float p = fi_horner_f32(f, fi_log_f32_coef, 9);
    float y = p * f * z;
    y = y + fe * FI_LN2_LO_F32;
    y = y + -0.5f * z;
    return (f + y) + fe * FI_LN2_HI_F32;
}

/* log for double, same reduction; fdlibm's e_log.c kernel:
 * log1p(f) = f - s*(f - R(z)), s = f/(2+f), z = s^2. */
static inline double fi_log_f64(double x)
{
    uint64_t bits = fi_f64_to_bits(x);
    uint64_t shifted = bits + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
    int64_t e = (int64_t)(shifted >> 52) - 1023;
    double m = fi_bits_to_f64((shifted & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
    double f = m - 1.0;
    double de = (double)e;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * fi_horner_f64(w, fi_log_f64_even_coef, 3);
    double t2 = z * fi_horner_f64(w, fi_log_f64_odd_coef, 4);
    double r = t2 + t1;
    double hfsq = 0.5 * f * f;
    return de * FI_LN2_HI_F64 - ((hfsq - (s * (hfsq + r) + de * FI_LN2_LO_F64)) - f);
}

/* sin and cos of 2*pi*k/2^24 for a 24-bit integer k, with no range
 * reduction: the nearest quarter turn q and the remainder f in [-1/2, 1/2)
 * quarter turns come straight from the integer bits. Polynomials: Cephes
 * sinf/cosf on [-pi/4, pi/4]. */
static inline void fi_sincos_turn24_f32(uint32_t k, float *s_out, float *c_out)
{
    uint32_t rounded = k + (1u << 21);
    uint32_t q = (rounded >> 22) & 3u;
    int32_t fi = (int32_t)(rounded & ((1u << 22) - 1u)) - (1 << 21);
    float phi = ((float)fi * 0x1p-22f) * 1.57079632679489661923f;
    float z = phi * phi;
    float sp = fi_horner_f32(z, fi_sin_f32_coef, 3) * z * phi + phi;
    float cp = fi_horner_f32(z, fi_cos_f32_coef, 3) * z * z + (-0.5f * z + 1.0f);
    /* theta = q*pi/2 + phi: odd q swaps sin and cos; signs by quadrant */
    uint32_t swap = q & 1u;
    uint32_t sin_neg = (q >> 1) << 31;
    uint32_t cos_neg = ((q + 1u) >> 1 & 1u) << 31;
    float s = swap ? cp : sp;
    float c = swap ? sp : cp;
    *s_out = fi_bits_to_f32(fi_f32_to_bits(s) ^ sin_neg);
    *c_out = fi_bits_to_f32(fi_f32_to_bits(c) ^ cos_neg);
}

/* sin and cos of 2*pi*k/2^53 for a 53-bit integer k = (hi >> 11) * 2^32 + lo.
 * Polynomials: fdlibm's k_sin.c / k_cos.c on [-pi/4, pi/4]. */
static inline void fi_sincos_turn53_f64(uint32_t lo, uint32_t hi, double *s_out, double *c_out)
{
    /* k + 2^50, done on the high part (bit 50 of k is bit 18 of hi >> 11) */
    uint32_t khi = (hi >> 11) + (1u << 18);
    uint32_t q = (khi >> 19) & 3u;
    /* remainder in quarter turns: low 19 bits of khi and lo, minus one half */
    double rem = (double)(int32_t)((khi & ((1u << 19) - 1u)) - (1u << 18)) * 0x1p-19 + (double)lo * 0x1p-51;
    double phi = rem * 1.57079632679489661923;
    double z = phi * phi;
    double sp = phi + (z * phi) * fi_horner_f64(z, fi_sin_f64_coef, 6);
    double cr = z * fi_horner_f64(z, fi_cos_f64_coef, 6);
    double hz = 0.5 * z;
    double w = 1.0 - hz;
    double cp = w + (((1.0 - w) - hz) + z * cr);
    uint64_t swap = q & 1u;
    uint64_t sin_neg = (uint64_t)(q >> 1) << 63;
    uint64_t cos_neg = (uint64_t)((q + 1u) >> 1 & 1u) << 63;
    double s = swap ? cp : sp;
    double c = swap ? sp : cp;
    *s_out = fi_bits_to_f64(fi_f64_to_bits(s) ^ sin_neg);
    *c_out = fi_bits_to_f64(fi_f64_to_bits(c) ^ cos_neg);
}

/* ---- inverse normal CDF for the truncated normal ----------------------
 *
 * A window [alpha, beta] (standard units) is sampled as x = Phi^-1(P) with
 * P = Phi(alpha) + u * (Phi(beta) - Phi(alpha)), u in (0, 1). To stay accurate
 * in the upper tail, P is carried as the pair
 *     p  = p0 + u * dp                     (P itself)
 *     q' = q1 + (1 - u) * dq               (1 - P, times 2^k)
 * where p0 = Phi(alpha), dp = Phi(beta) - Phi(alpha), q1 = 2^k (1 - Phi(beta)),
 * dq = 2^k dp and log_offset = k ln 2, all computed once per call in double by
 * the caller. Both sums add non-negative terms, so each has a small relative
 * error however close P is to 0 or 1, and the scale 2^k keeps q' a normal
 * float even for windows far out in the upper tail (-log(1 - P) =
 * log_offset - log(q')). The caller mirrors windows in the lower tail
 * (alpha + beta < 0) to the upper one, so p never needs a scale.
 *
 * The quantile itself is Wichura's algorithm AS 241 (Applied Statistics 37,
 * 1988): a rational function of P - 1/2 for |P - 1/2| <= 0.425, else of
 * s = sqrt(-log(min(P, 1 - P))) on s <= 5 and s > 5. PPND7 (7 digits) for
 * float, PPND16 (16 digits) for double. Only IEEE add, multiply, divide,
 * sqrt and the polynomial logs above: a SIMD path computing both branches
 * and selecting per lane reproduces the scalar result bit for bit.
 * Accuracy: see the module docstring of fastinit/initializers.py
 * (truncated_normal) and tests/test_truncated.py. */

/* u in (0, 1) from the top 23 bits: (2k + 1) / 2^24, symmetric, so 1 - u is
 * exact and in the same set; never 0 or 1. */
static inline float fi_u01_mid_f32(uint32_t w) { return (float)(((w >> 9) << 1) | 1u) * 0x1p-24f; }
/* u in (0, 1) from 52 bits (top 20 of hi, all of lo): (2k + 1) / 2^53. */
static inline double fi_u01_mid_f64(uint32_t lo, uint32_t hi)
{
    return (double)(hi >> 12) * 0x1p-20 + (double)lo * 0x1p-52 + 0x1p-53;
}

static inline float fi_ndtri_pq_f32(float u, float p0, float c0, float dp, float q1, float dq, float log_offset)
{
    float p = p0 + u * dp;
    float c = c0 + u * dp;
    float q = q1 + (1.0f - u) * dq;
    /* central branch */
    float r = 0.180625f - c * c;
    float central = c * fi_horner_f32(r, fi_ndtri_f32_central_num, 4) / fi_horner_f32(r, fi_ndtri_f32_central_den, 4);
    /* tail branch: s = sqrt(-log(min(P, 1 - P))) */
    int lower = c < 0.0f;
    float t = lower ? p : q;
    float s = __builtin_sqrtf((lower ? 0.0f : log_offset) - fi_log_f32(t));
    float s1 = s - 1.6f;
    float mid = fi_horner_f32(s1, fi_ndtri_f32_mid_num, 4) / fi_horner_f32(s1, fi_ndtri_f32_mid_den, 3);
    float s5 = s - 5.0f;
    float far = fi_horner_f32(s5, fi_ndtri_f32_far_num, 4) / fi_horner_f32(s5, fi_ndtri_f32_far_den, 3);
    float tail = s <= 5.0f ? mid : far;
    tail = lower ? -tail : tail;
    return (c <= 0.425f && c >= -0.425f) ? central : tail;
}

static inline double fi_ndtri_pq_f64(double u, double p0, double c0, double dp, double q1, double dq, double log_offset)
{
    double p = p0 + u * dp;
    double c = c0 + u * dp;
    double q = q1 + (1.0 - u) * dq;
    double r = 0.180625 - c * c;
    double central = c * fi_horner_f64(r, fi_ndtri_f64_central_num, 8) / fi_horner_f64(r, fi_ndtri_f64_central_den, 8);
    int lower = c < 0.0;
    double t = lower ? p : q;
    double s = __builtin_sqrt((lower ? 0.0 : log_offset) - fi_log_f64(t));
    double s1 = s - 1.6;
    double mid = fi_horner_f64(s1, fi_ndtri_f64_mid_num, 8) / fi_horner_f64(s1, fi_ndtri_f64_mid_den, 8);
    double s5 = s - 5.0;
    double far = fi_horner_f64(s5, fi_ndtri_f64_far_num, 8) / fi_horner_f64(s5, fi_ndtri_f64_far_den, 8);
    double tail = s <= 5.0 ? mid : far;
    tail = lower ? -tail : tail;
    return (c <= 0.425 && c >= -0.425) ? central : tail;
}

/* ---- float32 -> float16 / bfloat16, round to nearest even ------------- */

/* IEEE binary16: overflow to inf, gradual underflow to subnormals, NaN stays
 * a (quiet) NaN with its sign. */
static inline uint16_t fi_f32_to_f16_bits(float f)
{
    uint32_t x = fi_f32_to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u)                      /* NaN: keep it quiet */
        return sign | 0x7e00u;
    if (x >= 0x477ff000u)                     /* >= 65520 rounds to inf */
        return sign | 0x7c00u;
    if (x >= 0x38800000u) {                   /* normal half: >= 2^-14 */
        x += 0x0fffu + ((x >> 13) & 1u);      /* round the 13 dropped bits to even */
        return sign | (uint16_t)((x - 0x38000000u) >> 13); /* rebias 127 -> 15 */
    }
    if (x <= 0x33000000u)                     /* <= 2^-25 (a tie) rounds to 0 */
        return sign;
    /* subnormal half: round(value * 2^24) of the 24-bit significand */
    uint32_t e = x >> 23, m = (x & 0x007fffffu) | 0x00800000u;
    uint32_t shift = 126u - e;                /* 14..24 */
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    r += (rem > half) | ((rem == half) & r);
    return sign | (uint16_t)r;                /* a carry into 0x400 is the smallest normal */
}

/* bfloat16: the top half of the float32, rounded to nearest even. */
static inline uint16_t fi_f32_to_bf16_bits(float f)
{
    uint32_t x = fi_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif

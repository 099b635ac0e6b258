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
    float p = 7.0376836292e-2f;
    p = p * f + -1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f + -1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f + -1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f + -2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    y = y + fe * -2.12194440e-4f;
    y = y + -0.5f * z;
    return (f + y) + fe * 0.693359375f;
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
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double r = t2 + t1;
    double hfsq = 0.5 * f * f;
    return de * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + r) + de * 1.90821492927058770002e-10)) - f);
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
    float sp = -1.9515295891e-4f;
    sp = sp * z + 8.3321608736e-3f;
    sp = sp * z + -1.6666654611e-1f;
    sp = sp * z * phi + phi;
    float cp = 2.443315711809948e-5f;
    cp = cp * z + -1.388731625493765e-3f;
    cp = cp * z + 4.166664568298827e-2f;
    cp = cp * z * z + (-0.5f * z + 1.0f);
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
    double sr = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
    double sp = phi + (z * phi) * (-1.66666666666666324348e-01 + z * sr);
    double cr = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * (2.48015872894767294178e-05 + z * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))));
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

#endif

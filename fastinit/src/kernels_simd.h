/* The lane-group kernels written once over a small vector vocabulary. A unit
 * (kernels_avx2.c, kernels_avx512.c) defines the vocabulary for its ISA and
 * then includes this file, which defines the kernels and the unit's
 * fi_kernel_table under the name FI_TABLE_NAME. A new kernel is written once
 * here and every ISA gets it: a NAME_step function (Philox, transform, output
 * vectors in memory order), FI_GROUP_KERNEL(NAME) and an entry in the table.
 *
 * Vocabulary the unit provides (all lanes independent):
 *   FI_N64             64-bit lanes per vector (32-bit lanes: 2 * FI_N64)
 *   FI_VEC_BYTES       bytes per vector
 *   FI_STEP_VECS       Philox vectors per step: whole lane groups (a multiple
 *                      of 16 / FI_N64); more vectors = more independent work
 *                      for the multiplier, fewer = fewer registers
 *   vi, vf, vd         integer, float32 and float64 vectors
 *   vi_set1_32/64, vi_loadu, vi_storeu, vi_add32/64, vi_sub32, vi_and, vi_or,
 *   vi_xor, vi_xor3, vi_srli32/64, vi_slli32/64 (macros: immediate counts),
 *   vi_mul_u32         64-bit products of the low 32 bits of each 64-bit lane
 *   vi_swap32          swaps the 32-bit halves of each 64-bit lane
 *   vi_pack_lo32(a, b) low halves of the 64-bit lanes of a and b as 32-bit
 *                      lanes; within each 128 bits: a0 a1 b0 b1
 *   vf_*, vd_*         set1, add, sub, mul, div, sqrt, min (a < b ? a : b),
 *                      max (a > b ? a : b), from_bits, to_bits
 *   vfm, vdm           lane masks: vf/vd_lt (a < b), vf/vd_le (a <= b),
 *                      vfm/vdm_and, vf/vd_select(m, a, b) (m ? a : b)
 *   vf_from_i32        signed 32-bit lanes -> float (exact for |x| <= 2^24)
 *   vd_from_u32lo      low 32 bits of each 64-bit lane -> double (exact)
 *   vf/vd_select_bit(x, n, a, b)  lanes where bit n of x (its 32- / 64-bit
 *                      lane; n an immediate) is set take a, the others b
 *   vi_stream(p, v)    non-temporal store to an aligned address
 *   vi_store_lanes(p, v, lo, hi)  stores 32-bit lanes lo..hi-1 of v to p (the same lanes)
 *   realign_ctl, realign_init(ctl, k), vi_realign(prev, cur, ctl):
 *                      lane i = i < k ? prev[FI_N32 - k + i] : cur[i - k]
 *   vi_stream_fence    orders the non-temporal stores before later stores
 *
 * Bit identity with the scalar path (kernels_scalar.c, transforms.h): every
 * float operation below is the same IEEE operation, on the same operands, in
 * the same order as there; integer -> float conversions are of exact values,
 * so any exact method gives the same result. The unit is built with
 * -ffp-contract=off and uses no FMA intrinsic.
 *
 * Philox runs in 64-bit lanes: each lane keeps a 32-bit counter word in its
 * low half (the high half is don't-care), so one vpmuludq gives lo and hi of
 * the product and a swap of halves moves hi down. */
#include "kernels.h"
#include "philox.h"
#include "transforms.h"

#define FI_N32 (2 * FI_N64)
#define FI_GROUP_VECS (FI_LANES / FI_N64)          /* 64-bit vectors per lane group */
#define FI_STEP_COUNTERS (FI_STEP_VECS * FI_N64)
#define FI_GROUP_BYTES 256                         /* every dtype: 64 x 4 or 32 x 8 bytes */
#define FI_INLINE static inline __attribute__((always_inline))

/* Round keys, broadcast once per call. */
typedef struct {
    vi key0[PHILOX_ROUNDS], key1[PHILOX_ROUNDS];
    vi stream0, stream1;
    vi offset_paired[FI_STEP_VECS]; /* counter offsets for 32-bit outputs */
    vi offset_natural[FI_STEP_VECS]; /* counter offsets for 64-bit outputs */
} philox_ctx;

static void philox_ctx_init(philox_ctx *c, const fi_request *req)
{
    uint32_t k0 = req->key[0], k1 = req->key[1];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        c->key0[r] = vi_set1_32(k0);
        c->key1[r] = vi_set1_32(k1);
        k0 += PHILOX_W32_0;
        k1 += PHILOX_W32_1;
    }
    c->stream0 = vi_set1_32(req->stream[0]);
    c->stream1 = vi_set1_32(req->stream[1]);
    /* 32-bit outputs: vectors 2j and 2j+1 are packed by vi_pack_lo32 into the
     * 32-bit lanes of counters FI_N32*j ... FI_N32*j + FI_N32 - 1 in order, so
     * qword i of vector 2j+s holds counter FI_N32*j + 4*(i/2) + 2*s + i%2.
     * 64-bit outputs: qword i of vector v holds counter FI_N64*v + i. */
    for (int v = 0; v < FI_STEP_VECS; v++) {
        uint64_t paired[FI_N64], natural[FI_N64];
        for (int i = 0; i < FI_N64; i++) {
            paired[i] = (uint64_t)(FI_N32 * (v / 2) + 4 * (i / 2) + 2 * (v % 2) + i % 2);
            natural[i] = (uint64_t)(FI_N64 * v + i);
        }
        c->offset_paired[v] = vi_loadu(paired);
        c->offset_natural[v] = vi_loadu(natural);
    }
}

/* Philox4x32-10 of the counters n0 + offset[v] (v < nvec): x[w][v] holds word
 * w in the low halves of its 64-bit lanes. */
FI_INLINE void philox_step(uint64_t n0, int nvec, const vi offset[], const philox_ctx *c, vi x[4][FI_STEP_VECS])
{
    const vi m0 = vi_set1_64(PHILOX_M4x32_0), m1 = vi_set1_64(PHILOX_M4x32_1);
    const vi base = vi_set1_64(n0);
    for (int v = 0; v < nvec; v++) {
        x[0][v] = vi_add64(base, offset[v]);
        x[1][v] = vi_srli64(x[0][v], 32);
        x[2][v] = c->stream0;
        x[3][v] = c->stream1;
    }
    for (int r = 0; r < PHILOX_ROUNDS; r++)
        for (int v = 0; v < nvec; v++) {
            vi p0 = vi_mul_u32(x[0][v], m0);
            vi p1 = vi_mul_u32(x[2][v], m1);
            x[0][v] = vi_xor3(vi_swap32(p1), x[1][v], c->key0[r]);
            x[1][v] = p1;
            x[2][v] = vi_xor3(vi_swap32(p0), x[3][v], c->key1[r]);
            x[3][v] = p0;
        }
}

/* ---- transforms (transforms.h, vectorized op for op) --------------------- */

FI_INLINE vf u01_f32(vi w) { return vf_mul(vf_from_i32(vi_srli32(w, 8)), vf_set1(0x1p-24f)); }
FI_INLINE vf u01_open_f32(vi w)
{
    return vf_mul(vf_from_i32(vi_add32(vi_srli32(w, 8), vi_set1_32(1))), vf_set1(0x1p-24f));
}

/* (double)(hi >> 11) * 2^-21 + (double)lo * 2^-53, with ((double)lo + 1.0) for
 * the open interval */
FI_INLINE vd u01_f64(vi lo, vi hi, int open)
{
    vd top = vd_mul(vd_from_u32lo(vi_srli32(hi, 11)), vd_set1(0x1p-21));
    vd low = vd_from_u32lo(lo);
    if (open)
        low = vd_add(low, vd_set1(1.0));
    return vd_add(top, vd_mul(low, vd_set1(0x1p-53)));
}

/* The log, sincos and inverse-CDF transforms run n independent vectors
 * ("chains", n <= FI_MAX_CHAINS) in lockstep: each step, e.g. of a Horner
 * scheme, is applied to every chain before the next step, so the core has
 * independent work while one chain waits on the latency of its previous
 * step (one vector at a time was latency-bound). Chain i's operations are
 * exactly those of the scalar code, so lockstep changes no bit. */
#define FI_MAX_CHAINS FI_STEP_VECS
#define FI_EACH(i, n) for (int i = 0; i < (n); i++)

/* p[i] = coef[0] * x[i] + coef[1], then p[i] * x[i] + coef[k]: Horner, i < n */
FI_INLINE void horner_f32(int n, vf p[], const vf x[], const float coef[], int ncoef)
{
    FI_EACH(i, n) p[i] = vf_set1(coef[0]);
    for (int k = 1; k < ncoef; k++)
        FI_EACH(i, n) p[i] = vf_add(vf_mul(p[i], x[i]), vf_set1(coef[k]));
}
FI_INLINE void horner_f64(int n, vd p[], const vd x[], const double coef[], int ncoef)
{
    FI_EACH(i, n) p[i] = vd_set1(coef[0]);
    for (int k = 1; k < ncoef; k++)
        FI_EACH(i, n) p[i] = vd_add(vd_mul(p[i], x[i]), vd_set1(coef[k]));
}

/* x[i] = log(x[i]), i < n */
FI_INLINE void log_f32(int n, vf x[])
{
    vf f[FI_MAX_CHAINS], fe[FI_MAX_CHAINS], z[FI_MAX_CHAINS], p[FI_MAX_CHAINS];
    FI_EACH(i, n) {
        vi shifted = vi_add32(vf_to_bits(x[i]), vi_set1_32(0x3f800000u - 0x3f3504f3u));
        vi e = vi_sub32(vi_srli32(shifted, 23), vi_set1_32(127));
        vf m = vf_from_bits(vi_add32(vi_and(shifted, vi_set1_32(0x007fffffu)), vi_set1_32(0x3f3504f3u)));
        f[i] = vf_sub(m, vf_set1(1.0f));
        fe[i] = vf_from_i32(e);
        z[i] = vf_mul(f[i], f[i]);
    }
    horner_f32(n, p, f, fi_log_f32_coef, 9);
    FI_EACH(i, n) {
        vf y = vf_mul(vf_mul(p[i], f[i]), z[i]);
        y = vf_add(y, vf_mul(fe[i], vf_set1(FI_LN2_LO_F32)));
        y = vf_add(y, vf_mul(vf_set1(-0.5f), z[i]));
        x[i] = vf_add(vf_add(f[i], y), vf_mul(fe[i], vf_set1(FI_LN2_HI_F32)));
    }
}

/* sin and cos of 2*pi*k/2^24, k in the low 24 bits of each lane of k[i], i < n */
FI_INLINE void sincos_turn24_f32(int n, const vi k[], vf s_out[], vf c_out[])
{
    vi rounded[FI_MAX_CHAINS];
    vf phi[FI_MAX_CHAINS], z[FI_MAX_CHAINS], sp[FI_MAX_CHAINS], cp[FI_MAX_CHAINS];
    FI_EACH(i, n) {
        rounded[i] = vi_add32(k[i], vi_set1_32(1u << 21));
        vi fi = vi_sub32(vi_and(rounded[i], vi_set1_32((1u << 22) - 1u)), vi_set1_32(1u << 21));
        phi[i] = vf_mul(vf_mul(vf_from_i32(fi), vf_set1(0x1p-22f)), vf_set1(1.57079632679489661923f));
        z[i] = vf_mul(phi[i], phi[i]);
    }
    horner_f32(n, sp, z, fi_sin_f32_coef, 3);
    horner_f32(n, cp, z, fi_cos_f32_coef, 3);
    FI_EACH(i, n) {
        sp[i] = vf_add(vf_mul(vf_mul(sp[i], z[i]), phi[i]), phi[i]);
        cp[i] = vf_add(vf_mul(vf_mul(cp[i], z[i]), z[i]), vf_add(vf_mul(vf_set1(-0.5f), z[i]), vf_set1(1.0f)));
        /* the quadrant q is bits 22-23 of rounded: bit 22 (q odd) swaps sin
         * and cos; sin's sign is bit 1 of q (bit 23), cos's is bit 1 of q + 1
         * (bit 23 of rounded + 2^22); shifted by 8 to the sign bit */
        vi sign = vi_set1_32(0x80000000u);
        vi sin_neg = vi_and(vi_slli32(rounded[i], 8), sign);
        vi cos_neg = vi_and(vi_slli32(vi_add32(rounded[i], vi_set1_32(1u << 22)), 8), sign);
        s_out[i] = vf_from_bits(vi_xor(vf_to_bits(vf_select_bit(rounded[i], 22, cp[i], sp[i])), sin_neg));
        c_out[i] = vf_from_bits(vi_xor(vf_to_bits(vf_select_bit(rounded[i], 22, sp[i], cp[i])), cos_neg));
    }
}

/* x[i] = log(x[i]), i < n (chains in lockstep, as log_f32) */
FI_INLINE void log_f64(int n, vd x[])
{
    vd de[FI_MAX_CHAINS], f[FI_MAX_CHAINS], s[FI_MAX_CHAINS], z[FI_MAX_CHAINS], w[FI_MAX_CHAINS];
    vd t1[FI_MAX_CHAINS], t2[FI_MAX_CHAINS];
    FI_EACH(i, n) {
        vi shifted = vi_add64(vd_to_bits(x[i]), vi_set1_64(0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull));
        /* (double)e = (double)(shifted >> 52) - 1023.0, both exact */
        de[i] = vd_sub(vd_from_u32lo(vi_srli64(shifted, 52)), vd_set1(1023.0));
        vd m = vd_from_bits(vi_add64(vi_and(shifted, vi_set1_64(0x000fffffffffffffull)), vi_set1_64(0x3fe6a09e667f3bcdull)));
        f[i] = vd_sub(m, vd_set1(1.0));
        s[i] = vd_div(f[i], vd_add(vd_set1(2.0), f[i]));
    }
    FI_EACH(i, n) {
        z[i] = vd_mul(s[i], s[i]);
        w[i] = vd_mul(z[i], z[i]);
    }
    horner_f64(n, t1, w, fi_log_f64_even_coef, 3);
    horner_f64(n, t2, w, fi_log_f64_odd_coef, 4);
    FI_EACH(i, n) {
        t1[i] = vd_mul(w[i], t1[i]);
        t2[i] = vd_mul(z[i], t2[i]);
    }
    FI_EACH(i, n) {
        vd r = vd_add(t2[i], t1[i]);
        vd hfsq = vd_mul(vd_mul(vd_set1(0.5), f[i]), f[i]);
        vd inner = vd_add(vd_mul(s[i], vd_add(hfsq, r)), vd_mul(de[i], vd_set1(FI_LN2_LO_F64)));
        x[i] = vd_sub(vd_mul(de[i], vd_set1(FI_LN2_HI_F64)), vd_sub(vd_sub(hfsq, inner), f[i]));
    }
}

/* sin and cos of 2*pi*k/2^53, k = (hi >> 11) * 2^32 + lo */
FI_INLINE void sincos_turn53_f64(vi lo, vi hi, vd *s_out, vd *c_out)
{
    vi khi = vi_add32(vi_srli32(hi, 11), vi_set1_32(1u << 18));
    vi q = vi_and(vi_srli32(khi, 19), vi_set1_32(3));
    /* (double)(int32_t)(u - 2^18) = (double)u - 2^18, both exact */
    vd frac = vd_sub(vd_from_u32lo(vi_and(khi, vi_set1_32((1u << 19) - 1u))), vd_set1(262144.0));
    vd rem = vd_add(vd_mul(frac, vd_set1(0x1p-19)), vd_mul(vd_from_u32lo(lo), vd_set1(0x1p-51)));
    vd phi = vd_mul(rem, vd_set1(1.57079632679489661923));
    vd z = vd_mul(phi, phi);
    vd sp, cr;
    horner_f64(1, &sp, &z, fi_sin_f64_coef, 6);
    horner_f64(1, &cr, &z, fi_cos_f64_coef, 6);
    sp = vd_add(phi, vd_mul(vd_mul(z, phi), sp));
    cr = vd_mul(z, cr);
    vd hz = vd_mul(vd_set1(0.5), z);
    vd w = vd_sub(vd_set1(1.0), hz);
    vd cp = vd_add(w, vd_add(vd_sub(vd_sub(vd_set1(1.0), w), hz), vd_mul(z, cr)));
    /* the sign bits: bit 0 of each 64-bit lane shifted to bit 63 */
    vi sin_neg = vi_slli64(vi_srli32(q, 1), 63);
    vi cos_neg = vi_slli64(vi_srli32(vi_add32(q, vi_set1_32(1)), 1), 63);
    *s_out = vd_from_bits(vi_xor(vd_to_bits(vd_select_bit(q, 0, cp, sp)), sin_neg));
    *c_out = vd_from_bits(vi_xor(vd_to_bits(vd_select_bit(q, 0, sp, cp)), cos_neg));
}

/* ---- inverse normal CDF (fi_ndtri_pq_* in transforms.h) -----------------
 * Every lane computes the central and both tail branches, op for op as the
 * scalar code does, and keeps the one the scalar code returns. */

FI_INLINE vf neg_f32(vf x) { return vf_from_bits(vi_xor(vf_to_bits(x), vi_set1_32(0x80000000u))); }
FI_INLINE vd neg_f64(vd x) { return vd_from_bits(vi_xor(vd_to_bits(x), vi_set1_64(0x8000000000000000ull))); }

/* (2k + 1) / 2^24 from the top 23 bits */
FI_INLINE vf u01_mid_f32(vi w)
{
    return vf_mul(vf_from_i32(vi_or(vi_slli32(vi_srli32(w, 9), 1), vi_set1_32(1))), vf_set1(0x1p-24f));
}
/* (double)(hi >> 12) * 2^-20 + (double)lo * 2^-52 + 2^-53 */
FI_INLINE vd u01_mid_f64(vi lo, vi hi)
{
    vd top = vd_mul(vd_from_u32lo(vi_srli32(hi, 12)), vd_set1(0x1p-20));
    return vd_add(vd_add(top, vd_mul(vd_from_u32lo(lo), vd_set1(0x1p-52))), vd_set1(0x1p-53));
}

/* the window's parameters (fi_request's tn_*), broadcast */
typedef struct {
    vf p0, c0, dp, q1, dq, log_offset;
} ndtri_f32_params;
typedef struct {
    vd p0, c0, dp, q1, dq, log_offset;
} ndtri_f64_params;

/* x[i] = Phi^-1 of the window at u = x[i], i < n (chains in lockstep) */
FI_INLINE void ndtri_pq_f32(int n, vf x[], const ndtri_f32_params *w)
{
    vf c[FI_MAX_CHAINS], r[FI_MAX_CHAINS], t[FI_MAX_CHAINS], s1[FI_MAX_CHAINS], s5[FI_MAX_CHAINS];
    vf num[FI_MAX_CHAINS], den[FI_MAX_CHAINS], mid[FI_MAX_CHAINS], mid_den[FI_MAX_CHAINS];
    vf far[FI_MAX_CHAINS], far_den[FI_MAX_CHAINS];
    vfm lower[FI_MAX_CHAINS], near[FI_MAX_CHAINS];
    FI_EACH(i, n) {
        vf p = vf_add(w->p0, vf_mul(x[i], w->dp));
        c[i] = vf_add(w->c0, vf_mul(x[i], w->dp));
        vf q = vf_add(w->q1, vf_mul(vf_sub(vf_set1(1.0f), x[i]), w->dq));
        r[i] = vf_sub(vf_set1(0.180625f), vf_mul(c[i], c[i]));
        lower[i] = vf_lt(c[i], vf_set1(0.0f));
        t[i] = vf_select(lower[i], p, q);
    }
    horner_f32(n, num, r, fi_ndtri_f32_central_num, 4);
    horner_f32(n, den, r, fi_ndtri_f32_central_den, 4);
    /* tail: s = sqrt(-log(min(P, 1 - P))) */
    log_f32(n, t);
    FI_EACH(i, n) {
        vf s = vf_sqrt(vf_sub(vf_select(lower[i], vf_set1(0.0f), w->log_offset), t[i]));
        s1[i] = vf_sub(s, vf_set1(1.6f));
        s5[i] = vf_sub(s, vf_set1(5.0f));
        near[i] = vf_le(s, vf_set1(5.0f));
    }
    horner_f32(n, mid, s1, fi_ndtri_f32_mid_num, 4);
    horner_f32(n, mid_den, s1, fi_ndtri_f32_mid_den, 3);
    horner_f32(n, far, s5, fi_ndtri_f32_far_num, 4);
    horner_f32(n, far_den, s5, fi_ndtri_f32_far_den, 3);
    FI_EACH(i, n) {
        vf central = vf_div(vf_mul(c[i], num[i]), den[i]);
        vf tail = vf_select(near[i], vf_div(mid[i], mid_den[i]), vf_div(far[i], far_den[i]));
        tail = vf_select(lower[i], neg_f32(tail), tail);
        x[i] = vf_select(vfm_and(vf_le(c[i], vf_set1(0.425f)), vf_le(vf_set1(-0.425f), c[i])), central, tail);
    }
}

FI_INLINE void ndtri_pq_f64(int n, vd x[], const ndtri_f64_params *w)
{
    vd c[FI_MAX_CHAINS], r[FI_MAX_CHAINS], t[FI_MAX_CHAINS], s1[FI_MAX_CHAINS], s5[FI_MAX_CHAINS];
    vd num[FI_MAX_CHAINS], den[FI_MAX_CHAINS], mid[FI_MAX_CHAINS], mid_den[FI_MAX_CHAINS];
    vd far[FI_MAX_CHAINS], far_den[FI_MAX_CHAINS];
    vdm lower[FI_MAX_CHAINS], near[FI_MAX_CHAINS];
    FI_EACH(i, n) {
        vd p = vd_add(w->p0, vd_mul(x[i], w->dp));
        c[i] = vd_add(w->c0, vd_mul(x[i], w->dp));
        vd q = vd_add(w->q1, vd_mul(vd_sub(vd_set1(1.0), x[i]), w->dq));
        r[i] = vd_sub(vd_set1(0.180625), vd_mul(c[i], c[i]));
        lower[i] = vd_lt(c[i], vd_set1(0.0));
        t[i] = vd_select(lower[i], p, q);
    }
    horner_f64(n, num, r, fi_ndtri_f64_central_num, 8);
    horner_f64(n, den, r, fi_ndtri_f64_central_den, 8);
    log_f64(n, t);
    FI_EACH(i, n) {
        vd s = vd_sqrt(vd_sub(vd_select(lower[i], vd_set1(0.0), w->log_offset), t[i]));
        s1[i] = vd_sub(s, vd_set1(1.6));
        s5[i] = vd_sub(s, vd_set1(5.0));
        near[i] = vd_le(s, vd_set1(5.0));
    }
    horner_f64(n, mid, s1, fi_ndtri_f64_mid_num, 8);
    horner_f64(n, mid_den, s1, fi_ndtri_f64_mid_den, 8);
    horner_f64(n, far, s5, fi_ndtri_f64_far_num, 8);
    horner_f64(n, far_den, s5, fi_ndtri_f64_far_den, 8);
    FI_EACH(i, n) {
        vd central = vd_div(vd_mul(c[i], num[i]), den[i]);
        vd tail = vd_select(near[i], vd_div(mid[i], mid_den[i]), vd_div(far[i], far_den[i]));
        tail = vd_select(lower[i], neg_f64(tail), tail);
        x[i] = vd_select(vdm_and(vd_le(c[i], vd_set1(0.425)), vd_le(vd_set1(-0.425), c[i])), central, tail);
    }
}

/* ---- output writer ----------------------------------------------------
 * A step hands its output vectors over in memory order. Plain mode stores
 * them unaligned. Streaming mode (req->nontemporal: the whole fill is larger
 * than the caches can usefully hold) writes whole aligned
 * lines with non-temporal stores, which skip the read of each line before it
 * is written: each aligned line is the tail of the previous vector and the
 * head of the current one (vi_realign); the partial lines at both ends, which
 * may hold bytes outside this call, get masked ordinary stores. */

typedef struct {
    char *next;     /* plain: address of the next vector; streaming: next aligned line */
    int streaming;
    int head;       /* streaming: the next line is the first, partial one */
    int shift;      /* streaming: misalignment of dst in 32-bit lanes */
    realign_ctl ctl;
    vi prev;
} writer;

/* Below a page per call, the fence and the partial lines cost more than
 * streaming saves (a layout of many short runs makes such calls). */
#define FI_STREAM_MIN_CALL_BYTES 4096

static void writer_init(writer *wr, void *dst, uint64_t bytes, int nontemporal)
{
    uintptr_t misalign = (uintptr_t)dst % FI_VEC_BYTES;
    int streaming = nontemporal && bytes >= FI_STREAM_MIN_CALL_BYTES && misalign % 4 == 0;
    *wr = (writer){
        .next = (char *)dst - (streaming ? misalign : 0),
        .streaming = streaming,
        .head = 1,
        .shift = (int)(misalign / 4),
        .prev = vi_set1_32(0),
    };
    realign_init(&wr->ctl, wr->shift);
}

FI_INLINE void writer_put(writer *wr, vi v)
{
    if (!wr->streaming) {
        vi_storeu(wr->next, v);
    } else {
        vi line = vi_realign(wr->prev, v, &wr->ctl);
        if (wr->head) {
            vi_store_lanes(wr->next, line, wr->shift, FI_N32);
            wr->head = 0;
        } else {
            vi_stream(wr->next, line);
        }
        wr->prev = v;
    }
    wr->next += FI_VEC_BYTES;
}

static void writer_finish(writer *wr)
{
    if (!wr->streaming)
        return;
    if (wr->shift)
        vi_store_lanes(wr->next, vi_realign(wr->prev, wr->prev, &wr->ctl), 0, wr->shift);
    vi_stream_fence();
}

/* ---- kernels ---------------------------------------------------------------
 * A step makes nvec vectors of counters, whole lane groups, starting at
 * counter n0, and puts its 2 * nvec output vectors in memory order. */

typedef struct {
    philox_ctx philox;
    fi_request req; /* a local copy: no store through dst can change it */
} kernel_ctx;

/* Index among a step's output vectors (memory order) of word w of the packed
 * counters FI_N32*j ... (lane group layout: element 64*g + 16*w + l) */
FI_INLINE int vec32(int j, int w)
{
    int r = FI_N32 * j;
    return (r / FI_LANES * FI_GROUP_U32 + FI_LANES * w + r % FI_LANES) / FI_N32;
}
/* ... of half h of the float64 outputs of counters FI_N64*v ... (32*g + 16*h + l) */
FI_INLINE int vec64(int v, int h)
{
    int r = FI_N64 * v;
    return (r / FI_LANES * FI_GROUP_F64 + FI_LANES * h + r % FI_LANES) / FI_N64;
}

FI_INLINE void put_all(writer *wr, const vi res[], int n)
{
    for (int i = 0; i < n; i++)
        writer_put(wr, res[i]);
}

FI_INLINE void bits_u32_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_paired, &k->philox, x);
    for (int j = 0; j < nvec / 2; j++)
        for (int w = 0; w < 4; w++)
            res[vec32(j, w)] = vi_pack_lo32(x[w][2 * j], x[w][2 * j + 1]);
    put_all(wr, res, 2 * nvec);
}

FI_INLINE void uniform_f32_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const vf low = vf_set1((float)k->req.low), span = vf_set1((float)k->req.span), top = vf_set1((float)k->req.high_below);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_paired, &k->philox, x);
    for (int j = 0; j < nvec / 2; j++)
        for (int w = 0; w < 4; w++) {
            vf u = u01_f32(vi_pack_lo32(x[w][2 * j], x[w][2 * j + 1]));
            res[vec32(j, w)] = vf_to_bits(vf_min(vf_add(low, vf_mul(span, u)), top));
        }
    put_all(wr, res, 2 * nvec);
}

FI_INLINE void uniform_f64_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const vd low = vd_set1(k->req.low), span = vd_set1(k->req.span), top = vd_set1(k->req.high_below);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_natural, &k->philox, x);
    for (int v = 0; v < nvec; v++)
        for (int h = 0; h < 2; h++) {
            vd u = u01_f64(x[2 * h][v], x[2 * h + 1][v], 0);
            res[vec64(v, h)] = vd_to_bits(vd_min(vd_add(low, vd_mul(span, u)), top));
        }
    put_all(wr, res, 2 * nvec);
}

FI_INLINE void normal_f32_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const vf loc = vf_set1((float)k->req.loc), scale = vf_set1((float)k->req.scale);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS], angle[FI_STEP_VECS];
    vf radius[FI_STEP_VECS], s[FI_STEP_VECS], c[FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_paired, &k->philox, x);
    /* chain 2j + p: pair p of the packed counters FI_N32*j ... */
    for (int j = 0; j < nvec / 2; j++)
        for (int p = 0; p < 2; p++) {
            radius[2 * j + p] = u01_open_f32(vi_pack_lo32(x[2 * p][2 * j], x[2 * p][2 * j + 1]));
            angle[2 * j + p] = vi_srli32(vi_pack_lo32(x[2 * p + 1][2 * j], x[2 * p + 1][2 * j + 1]), 8);
        }
    log_f32(nvec, radius);
    sincos_turn24_f32(nvec, angle, s, c);
    for (int j = 0; j < nvec / 2; j++)
        for (int p = 0; p < 2; p++) {
            vf r = vf_mul(vf_sqrt(vf_mul(vf_set1(-2.0f), radius[2 * j + p])), scale);
            /* pair p: cosines at word 2p's place, sines at word 2p+1's */
            res[vec32(j, 2 * p)] = vf_to_bits(vf_add(loc, vf_mul(r, c[2 * j + p])));
            res[vec32(j, 2 * p + 1)] = vf_to_bits(vf_add(loc, vf_mul(r, s[2 * j + p])));
        }
    put_all(wr, res, 2 * nvec);
}

FI_INLINE void normal_f64_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const vd loc = vd_set1(k->req.loc), scale = vd_set1(k->req.scale);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    vd radius[FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_natural, &k->philox, x);
    for (int v = 0; v < nvec; v++)
        radius[v] = u01_f64(x[0][v], x[1][v], 1);
    log_f64(nvec, radius);
    for (int v = 0; v < nvec; v++) {
        vd r = vd_mul(vd_sqrt(vd_mul(vd_set1(-2.0), radius[v])), scale);
        vd s, c;
        sincos_turn53_f64(x[2][v], x[3][v], &s, &c);
        res[vec64(v, 0)] = vd_to_bits(vd_add(loc, vd_mul(r, c)));
        res[vec64(v, 1)] = vd_to_bits(vd_add(loc, vd_mul(r, s)));
    }
    put_all(wr, res, 2 * nvec);
}

/* truncated normal: element 16*w + l from word w of counter l (as uniform_f32),
 * loc + scale * x clamped into [clamp_lo, clamp_hi] */
FI_INLINE void truncnormal_f32_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const fi_request *req = &k->req;
    const ndtri_f32_params w = {vf_set1((float)req->tn_p0), vf_set1((float)req->tn_c0), vf_set1((float)req->tn_dp),
                                vf_set1((float)req->tn_q1), vf_set1((float)req->tn_dq), vf_set1((float)req->tn_log_offset)};
    const vf loc = vf_set1((float)req->loc), scale = vf_set1((float)req->scale);
    const vf lo = vf_set1((float)req->clamp_lo), hi = vf_set1((float)req->clamp_hi);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    vf t[2 * FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_paired, &k->philox, x);
    for (int j = 0; j < nvec / 2; j++)
        for (int v = 0; v < 4; v++)
            t[4 * j + v] = u01_mid_f32(vi_pack_lo32(x[v][2 * j], x[v][2 * j + 1]));
    for (int b = 0; b < 2 * nvec; b += FI_MAX_CHAINS)
        ndtri_pq_f32(2 * nvec - b < FI_MAX_CHAINS ? 2 * nvec - b : FI_MAX_CHAINS, &t[b], &w);
    for (int j = 0; j < nvec / 2; j++)
        for (int v = 0; v < 4; v++)
            res[vec32(j, v)] = vf_to_bits(vf_min(vf_max(vf_add(loc, vf_mul(scale, t[4 * j + v])), lo), hi));
    put_all(wr, res, 2 * nvec);
}

/* float64: element 16*h + l from words (2h, 2h+1) of counter l (as uniform_f64) */
FI_INLINE void truncnormal_f64_step(writer *wr, uint64_t n0, int nvec, const kernel_ctx *k)
{
    const fi_request *req = &k->req;
    const ndtri_f64_params w = {vd_set1(req->tn_p0), vd_set1(req->tn_c0), vd_set1(req->tn_dp),
                                vd_set1(req->tn_q1), vd_set1(req->tn_dq), vd_set1(req->tn_log_offset)};
    const vd loc = vd_set1(req->loc), scale = vd_set1(req->scale);
    const vd lo = vd_set1(req->clamp_lo), hi = vd_set1(req->clamp_hi);
    vi x[4][FI_STEP_VECS], res[2 * FI_STEP_VECS];
    vd t[2 * FI_STEP_VECS];
    philox_step(n0, nvec, k->philox.offset_natural, &k->philox, x);
    for (int v = 0; v < nvec; v++)
        for (int h = 0; h < 2; h++)
            t[2 * v + h] = u01_mid_f64(x[2 * h][v], x[2 * h + 1][v]);
    for (int b = 0; b < 2 * nvec; b += FI_MAX_CHAINS)
        ndtri_pq_f64(2 * nvec - b < FI_MAX_CHAINS ? 2 * nvec - b : FI_MAX_CHAINS, &t[b], &w);
    for (int v = 0; v < nvec; v++)
        for (int h = 0; h < 2; h++)
            res[vec64(v, h)] = vd_to_bits(vd_min(vd_max(vd_add(loc, vd_mul(scale, t[2 * v + h])), lo), hi));
    put_all(wr, res, 2 * nvec);
}

/* fi_group_fn around a step: whole steps, then (when a step spans more than
 * one lane group) the remaining lane groups one by one. */
#define FI_GROUP_KERNEL(name)                                                              \
    static void name(void *dst, uint64_t g0, uint64_t ngroups, const fi_request *req)     \
    {                                                                                     \
        kernel_ctx k;                                                                     \
        writer wr;                                                                        \
        philox_ctx_init(&k.philox, req);                                                  \
        k.req = *req;                                                                     \
        writer_init(&wr, dst, ngroups * FI_GROUP_BYTES, req->nontemporal);                \
        const uint64_t n_end = (g0 + ngroups) * FI_LANES;                                 \
        uint64_t n = g0 * FI_LANES;                                                       \
        for (; n + FI_STEP_COUNTERS <= n_end; n += FI_STEP_COUNTERS)                      \
            name##_step(&wr, n, FI_STEP_VECS, &k);                                        \
        for (; n < n_end; n += FI_LANES)                                                  \
            name##_step(&wr, n, FI_GROUP_VECS, &k);                                       \
        writer_finish(&wr);                                                               \
    }

FI_GROUP_KERNEL(bits_u32)
FI_GROUP_KERNEL(uniform_f32)
FI_GROUP_KERNEL(uniform_f64)
FI_GROUP_KERNEL(normal_f32)
FI_GROUP_KERNEL(normal_f64)
FI_GROUP_KERNEL(truncnormal_f32)
FI_GROUP_KERNEL(truncnormal_f64)

const fi_kernel_table FI_TABLE_NAME = {{
    [FI_BITS] = {[FI_U32] = bits_u32},
    [FI_UNIFORM] = {[FI_F32] = uniform_f32, [FI_F64] = uniform_f64},
    [FI_NORMAL] = {[FI_F32] = normal_f32, [FI_F64] = normal_f64},
    [FI_TRUNCNORMAL] = {[FI_F32] = truncnormal_f32, [FI_F64] = truncnormal_f64},
}};

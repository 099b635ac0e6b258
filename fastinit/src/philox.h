/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC11), as Random123 defines it.
 * Plain C, no Python. */
#ifndef FASTINIT_PHILOX_H
#define FASTINIT_PHILOX_H

#include <stdint.h>

#define PHILOX_M4x32_0 0xD2511F53u /* multiplier applied to counter word 0 */
#define PHILOX_M4x32_1 0xCD9E8D57u /* multiplier applied to counter word 2 */
#define PHILOX_W32_0 0x9E3779B9u   /* key schedule: golden ratio */
#define PHILOX_W32_1 0xBB67AE85u   /* key schedule: sqrt(3) - 1 */
#define PHILOX_ROUNDS 10

static inline uint32_t philox_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t product = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(product >> 32);
    return (uint32_t)product;
}

static inline void philox4x32_round(uint32_t ctr[4], const uint32_t key[2])
{
    uint32_t hi0, hi1;
    uint32_t lo0 = philox_mulhilo32(PHILOX_M4x32_0, ctr[0], &hi0);
    uint32_t lo1 = philox_mulhilo32(PHILOX_M4x32_1, ctr[2], &hi1);
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ key[0];
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ key[1];
    ctr[3] = lo0;
}

/* R rounds of Philox4x32 on ctr, in place (R = 10 is the generator; R = 7 is
 * exposed only for the Random123 known-answer tests). */
static inline void philox4x32_R(int rounds, uint32_t ctr[4], const uint32_t key_in[2])
{
    uint32_t key[2] = {key_in[0], key_in[1]};
    for (int r = 0; r < rounds; r++) {
        if (r > 0) {
            key[0] += PHILOX_W32_0;
            key[1] += PHILOX_W32_1;
        }
        philox4x32_round(ctr, key);
    }
}

#endif

"""Philox4x32-10 (Salmon et al., SC11) and fastinit's bits() layout in plain
Python, written independently of the C core, to check it at any position."""
from __future__ import annotations

MASK32 = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """One Philox4x32-10 block: four counter words under a two-word key."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


def reference_bit(seed, stream, i):
    """Element i of bits(): word (i % 64) // 16 of counter 16 * (i // 64) + i % 16."""
    n = 16 * (i // 64) + i % 16
    ctr = (n & MASK32, n >> 32, stream & MASK32, stream >> 32)
    return philox4x32_10(ctr, (seed & MASK32, seed >> 32))[(i % 64) // 16]

"""Accuracy of truncated_normal's inverse CDF, end to end: each sample
against the exact quantile (mpmath, 200 bits) of its own uniform, with the
orientation fastinit uses (windows with alpha + beta < 0 are mirrored).

    python benchmarks/truncnormal_accuracy.py [samples per window]

Needs mpmath (pip install mpmath)."""
import sys

import mpmath
import numpy as np

import fastinit

mpmath.mp.prec = 200
WINDOWS = [(-2, 2), (0, np.inf), (3, 4), (6, np.inf), (-np.inf, -6), (10, 10.5), (-1e-3, 1e-3), (-8, 9)]
FAR = {np.float32: (12, np.inf), np.float64: (30, np.inf)}


def uniforms(seed, n, dtype):
    """The integers 2k + 1 (u = (2k + 1) / 2**bits) of elements 0..n-1."""
    if dtype == np.float32:
        return [(2 * (int(w) >> 9) + 1, 24) for w in fastinit.bits(n, seed=seed)]
    groups = fastinit.bits(-(-n // 32) * 64, seed=seed).astype(np.uint64).reshape(-1, 4, 16)
    out = []
    for g in groups:  # element 32g + 16h + l from words (2h, 2h+1) of counter l
        for h in range(2):
            for lo, hi in zip(g[2 * h], g[2 * h + 1]):
                out.append((2 * (((int(hi) >> 12) << 32) | int(lo)) + 1, 53))
    return out[:n]


def upper_quantile(q):
    """x with Q(x) = q, by Newton on log Q (exact for tiny q too)."""
    x, log_q = mpmath.sqrt(-2 * mpmath.log(q)), mpmath.log(q)
    for _ in range(100):
        qx = mpmath.ncdf(-x)
        step = (mpmath.log(qx) - log_q) * qx / mpmath.npdf(x)
        x += step
        if abs(step) < mpmath.mpf(2) ** -150 * x:
            break
    return x


def exact(alpha, beta, num, bits):
    sign = 1
    if alpha + beta < 0:
        alpha, beta, sign = -beta, -alpha, -1
    a, b, u = mpmath.mpf(alpha), mpmath.mpf(beta), mpmath.mpf(num) / 2**bits
    qa, qb = mpmath.ncdf(-a), mpmath.ncdf(-b)
    q = qb + (1 - u) * (qa - qb)
    x = upper_quantile(q) if q < mpmath.mpf(1) / 4 else -mpmath.sqrt(2) * mpmath.erfinv(2 * q - 1)
    return sign * x


def main(n):
    for dtype in (np.float32, np.float64):
        for a, b in WINDOWS + [FAR[dtype]]:
            x = fastinit.truncated_normal(n, seed=7, a=a, b=b, dtype=dtype).astype(np.float64)
            ref = np.array([float(exact(a, b, num, bits)) for num, bits in uniforms(7, n, dtype)])
            ref = np.clip(ref, a, b)
            err = np.abs(x - ref)
            ulp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
            big = np.abs(ref) >= 0.5
            max_ulp = (err[big] / ulp[big]).max() if big.any() else float("nan")
            small = err[~big].max() if (~big).any() else float("nan")
            print(f"{np.dtype(dtype).name:8s} [{a}, {b}]: max {max_ulp:.1f} ulp where |x| >= 1/2, "
                  f"max abs err {small:.2g} where |x| < 1/2")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)

"""Stored references for the truncated normal's accuracy test: the exact
quantile (mpmath, 200 bits, rounded to float64) of the uniform behind each of
the first N elements of truncated_normal(N, seed=SEED, a=a, b=b, dtype) for
windows that reach every branch of the inverse CDF: around the mean, one-sided,
the tail windows where the mass comes from upper-tail complements ([3, 4],
[4, 4.5]), the far tail (s > 5: [7, inf), [8, 9], mirrored below -10) and
beyond. tests/test_truncated.py checks fastinit against them at the documented
bounds without needing mpmath.

    pip install mpmath && python tools/make_truncnormal_refs.py   # ~1 min; writes tests/data/truncnormal_refs.npz

The references depend only on the uniforms (fastinit.bits, pinned by the
golden hashes) and on mathematics, so they never need regenerating unless the
windows change."""
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from truncnormal_accuracy import exact, uniforms  # noqa: E402  (needs mpmath)

OUT = ROOT / "tests" / "data" / "truncnormal_refs.npz"
SEED, N = 7, 1024
COMMON = [(-2.0, 2.0), (0.0, np.inf), (3.0, 4.0), (4.0, 4.5), (6.0, np.inf), (7.0, np.inf), (8.0, 9.0),
          (-np.inf, -6.0), (-np.inf, -10.0), (10.0, 10.5), (-8.0, 9.0), (-1e-3, 1e-3)]
WINDOWS = {"float32": COMMON + [(12.0, np.inf)], "float64": COMMON + [(30.0, np.inf)]}


def main():
    arrays = {"seed": np.array(SEED)}
    for name, windows in WINDOWS.items():
        draws = uniforms(SEED, N, np.dtype(name).type)
        refs = [np.clip([float(exact(a, b, num, bits)) for num, bits in draws], a, b) for a, b in windows]
        arrays[f"windows_{name}"] = np.array(windows)
        arrays[f"refs_{name}"] = np.array(refs)
        print(f"{name}: {len(windows)} windows x {N} samples")
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

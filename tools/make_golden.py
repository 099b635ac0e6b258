"""Golden streams: SHA-256 of every initializer x dtype x fixed shape, pinned
in tests/data/golden_streams.json and checked by tests/test_golden.py on every
ISA path the CPU has. Only fastinit's own bits are pinned: for orthogonal,
the N(0, 1) float64 matrix it factors (the same for every dtype), never a
BLAS/LAPACK result.

Changing a pinned hash is a deliberate, documented break (a major version), so
this script only writes when asked to:

    python tools/make_golden.py                 # check: report ok/CHANGED/missing, write nothing
    python tools/make_golden.py --add-missing   # pin cases not pinned yet (new initializer or
                                                # dtype); never touches existing hashes
    python tools/make_golden.py --overwrite     # re-pin everything: a breaking change

Shapes: (37, 129) is odd in both axes, so rows start at every offset within a
lane group and end in partial ones; (3, 3, 16, 32) is a conv kernel whose
fans come from the receptive field. Seed 2026, stream 7.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fastinit import _spec  # noqa: E402
from support.api_cases import INITIALIZERS, PINNED_INPUT, as_bytes, dtype_named, dtypes_of, generate  # noqa: E402

GOLDEN = ROOT / "tests" / "data" / "golden_streams.json"
SEED, STREAM = 2026, 7
SHAPES = [(37, 129), (3, 3, 16, 32)]


# Truncated-normal windows reaching every branch of the inverse CDF: one-sided
# tail, far tail (s > 5) above and mirrored below, beyond 10 std, narrow
# around and off the mean (a, b absolute: mean -1.5, std 0.25 for the last).
TRUNCATED_WINDOWS = [{"a": 3.0, "b": 4.0}, {"a": 6.0, "b": 50.0}, {"a": -50.0, "b": -6.5},
                     {"a": 10.0, "b": 10.5}, {"a": -1e-3, "b": 1e-3},
                     {"mean": -1.5, "std": 0.25, "a": -1.0, "b": -0.9}]
# Row ids for axis 0 (valid for every pinned shape): any order, repeats, negative.
ROW_IDS = {"index": [2, 0, 2, -1, 1]}
# He/Glorot options besides the defaults
HE_OPTIONS = [{"mode": "fan_out"}, {"layout": "torch"}, {"gain": 0.5}]
GLOROT_OPTIONS = [{"layout": "torch"}, {"gain": 0.5}]
TRUNCATED = {"distribution": "truncated_normal"}


def _parameter_variants(name):
    """Keyword arguments pinned for initializer name besides its defaults."""
    if name == "uniform":
        return [{}, {"low": -3.0, "high": 5.0}, ROW_IDS]
    if name == "normal":
        return [{}, {"mean": 1.0, "std": 2.0}]
    if name == "truncated_normal":
        return [{}, *TRUNCATED_WINDOWS, ROW_IDS]
    if name == "bits":
        return [{}, ROW_IDS]
    if name == "variance_scaling":
        return [{"scale": 0.5, "mode": mode, "distribution": dist}
                for dist in _spec.DISTRIBUTIONS for mode in ("fan_in", "fan_avg")]
    if name == "he_normal":
        return [{}, *HE_OPTIONS, TRUNCATED, ROW_IDS]
    if name == "he_uniform":
        return [{}, *HE_OPTIONS]
    if name == "glorot_normal":
        return [{}, *GLOROT_OPTIONS, TRUNCATED]
    if name == "glorot_uniform":
        return [{}, *GLOROT_OPTIONS]
    return [{}]


def case_key(case) -> str:
    return json.dumps([case["initializer"], case["dtype"], case["shape"], case["kwargs"]], sort_keys=True)


def current_cases() -> list:
    """Every case the installed fastinit can generate, without hashes."""
    return [{"initializer": name, "dtype": dtype.name, "shape": list(shape), "kwargs": kwargs}
            for name in INITIALIZERS for dtype in dtypes_of(name)
            for shape in SHAPES for kwargs in _parameter_variants(name)]


def digest(case) -> str:
    """SHA-256 of the case's array as little-endian bytes in C order; for
    orthogonal, of the fastinit matrix it factors (PINNED_INPUT), since the
    result's last bits are LAPACK's and differ between BLAS kernels."""
    name, shape = case["initializer"], tuple(case["shape"])
    if name in PINNED_INPUT:
        a = PINNED_INPUT[name](shape, SEED, STREAM)
    else:
        a = generate(name, shape, SEED, STREAM, dtype_named(case["dtype"]), **case["kwargs"])
    return hashlib.sha256(as_bytes(a)).hexdigest()


def load() -> dict:
    if not GOLDEN.exists():
        return {}
    return {case_key(c): c for c in json.loads(GOLDEN.read_text())["cases"]}


def save(cases):
    """One case per line, so a diff shows exactly which hashes changed."""
    about = ("SHA-256 of fastinit outputs (little-endian bytes, C order); see tools/make_golden.py. "
             "Changing a hash is a breaking change.")
    lines = ",\n  ".join(json.dumps(c, sort_keys=True) for c in sorted(cases, key=case_key))
    GOLDEN.write_text(f'{{"about": {json.dumps(about)},\n "seed": {SEED}, "stream": {STREAM},\n'
                      f' "cases": [\n  {lines}\n ]}}\n')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--add-missing", action="store_true", help="pin cases that have no hash yet")
    mode.add_argument("--overwrite", action="store_true", help="re-pin every case (breaking change)")
    args = ap.parse_args(argv)

    pinned = load()
    result, changed, missing = [], 0, 0
    for case in current_cases():
        key = case_key(case)
        new = digest(case)
        old = pinned.pop(key, None)
        if old is None:
            missing += 1
            print(f"missing  {key}")
            if args.add_missing or args.overwrite:
                result.append({**case, "sha256": new})
        elif old["sha256"] != new:
            changed += 1
            print(f"CHANGED  {key}")
            result.append({**case, "sha256": new if args.overwrite else old["sha256"]})
        else:
            result.append(old)
    for key in pinned:  # pinned for an initializer/dtype this build lacks
        print(f"not generated here (kept)  {key}")
        result.append(pinned[key])
    print(f"{len(result)} cases: {changed} changed, {missing} missing")
    if args.add_missing or args.overwrite:
        save(result)
        print(f"wrote {GOLDEN.relative_to(ROOT)}")
    return 1 if changed and not args.overwrite else 0


if __name__ == "__main__":
    sys.exit(main())

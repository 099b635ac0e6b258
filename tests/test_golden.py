"""Golden streams: the SHA-256 of every initializer x dtype pinned in
tests/data/golden_streams.json, checked on every ISA path this CPU has.
Only bits fastinit computes are pinned: for orthogonal, the N(0, 1) matrix
it hands to LAPACK (tests/test_orthogonal.py checks the result with
tolerances), so the hashes hold under any BLAS build and kernel.
A failure here means released values changed: a breaking change, not a test
to update casually (see tools/make_golden.py)."""
from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest

from fastinit import _core
from support.api_cases import INITIALIZERS, PINNED_INPUT, as_bytes, dtype_named, dtypes_of, generate
from support import philox_ref

GOLDEN = json.loads((pathlib.Path(__file__).parent / "data" / "golden_streams.json").read_text())
SEED, STREAM = GOLDEN["seed"], GOLDEN["stream"]
CASES = GOLDEN["cases"]


def _case_id(case):
    kw = ",".join(f"{k}={v}" for k, v in sorted(case["kwargs"].items()))
    return f"{case['initializer']}-{case['dtype']}-{'x'.join(map(str, case['shape']))}" + (f"-{kw}" if kw else "")


def _available_isas():
    """The ISA paths this build has and this CPU runs (set_isa refuses the rest)."""
    default = _core.get_isa()
    usable = []
    try:
        for name in _core.isa_names():
            try:
                _core.set_isa(name)
            except ValueError:
                continue
            usable.append(name)
    finally:
        _core.set_isa(default)
    return usable


@pytest.fixture(params=_available_isas())
def isa(request):
    default = _core.get_isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(default)


def _array(case):
    """The pinned array: the output, or for orthogonal the fastinit matrix it
    factors (support.api_cases.PINNED_INPUT: LAPACK's bits are not fastinit's)."""
    name, dtype = case["initializer"], dtype_named(case["dtype"])
    if name not in INITIALIZERS or dtype is None or dtype not in dtypes_of(name):
        pytest.skip(f"this build has no {name} in {case['dtype']}")
    if name in PINNED_INPUT:
        return PINNED_INPUT[name](tuple(case["shape"]), SEED, STREAM)
    return generate(name, tuple(case["shape"]), SEED, STREAM, dtype, **case["kwargs"])


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_golden_stream(case, isa):
    digest = hashlib.sha256(as_bytes(_array(case))).hexdigest()
    assert digest == case["sha256"], f"{_case_id(case)} changed on ISA {isa}"


def test_every_initializer_and_dtype_is_pinned():
    pinned = {(c["initializer"], c["dtype"]) for c in CASES}
    unpinned = [(name, dt.name) for name in INITIALIZERS for dt in dtypes_of(name)
                if (name, dt.name) not in pinned]
    assert not unpinned, f"no golden hash for {unpinned}: run python tools/make_golden.py --add-missing"


def test_golden_bits_are_philox():
    """The pinned bits() hashes are right, not just stable: they hash what an
    independent Philox gives at every position."""
    for case in (c for c in CASES if c["initializer"] == "bits"):
        n = int(np.prod(case["shape"]))
        words = philox_ref.bits(SEED, STREAM, 0, n).astype("<u4").reshape(case["shape"])
        if "index" in case["kwargs"]:  # row ids
            words = words[case["kwargs"]["index"]]
        assert hashlib.sha256(words.tobytes()).hexdigest() == case["sha256"], _case_id(case)

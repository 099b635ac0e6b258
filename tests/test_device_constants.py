"""The device kernels' constants (fastinit/device/constants.py) are the C
literals of fastinit/src/transforms.h bit for bit: each float literal
rounded to float32 correctly (from its exact decimal value, not through a
double), each double literal to float64. Needs neither Triton nor a GPU."""
from __future__ import annotations

import pathlib
import re
import struct
from fractions import Fraction

import numpy as np

from fastinit.device import constants

HEADER = (pathlib.Path(__file__).resolve().parents[1] / "fastinit" / "src" / "transforms.h").read_text()


def _f32_of(literal: str) -> float:
    """The float32 nearest the decimal literal (ties to even)."""
    exact = Fraction(literal)
    guess = np.float32(float(exact))
    near = (np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf)))
    best = min(near, key=lambda v: (abs(Fraction(float(v)) - exact), int(np.array(v).view(np.uint32)) & 1))
    return float(best)


def _value(literal: str, single: bool) -> float:
    return _f32_of(literal.rstrip("f")) if single else float(literal)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def test_every_coefficient_table_matches_the_header():
    tables = re.findall(r"static const (float|double) fi_(\w+)\[\d+\] = \{(.*?)\};", HEADER, re.S)
    assert len(tables) == 19
    for kind, name, body in tables:
        literals = [t.strip() for t in re.sub(r"/\*.*?\*/", "", body).split(",") if t.strip()]
        want = [_value(t, kind == "float") for t in literals]
        got = getattr(constants, name.upper())
        assert [_bits(v) for v in got] == [_bits(v) for v in want], name


def test_scalars_match_the_header():
    defines = dict(re.findall(r"#define FI_(LN2_\w+) (\S+)", HEADER))
    for name, literal in defines.items():
        assert _bits(getattr(constants, name)) == _bits(_value(literal, name.endswith("F32"))), name
    # the literals written inline in the code
    inline = {"HALF_PI": "1.57079632679489661923", "NDTRI_SPLIT": "0.425", "NDTRI_CENTRAL_R": "0.180625",
              "NDTRI_MID_SHIFT": "1.6", "NDTRI_FAR_SHIFT": "5.0"}
    for name, literal in inline.items():
        assert f"{literal}f" in HEADER and re.search(re.escape(literal) + r"(?![0-9f])", HEADER), name
        assert _bits(getattr(constants, name + "_F32")) == _bits(_value(literal, True)), name
        assert _bits(getattr(constants, name + "_F64")) == _bits(_value(literal, False)), name

"""The device check (benchmarks/gpu_check.py) runs without a GPU: its bits
part, ``--interpret --small``, on CPU tensors under Triton's interpreter,
compares a golden case of every kernel x dtype x row-id form and a small
array per distribution x dtype with the C core, and reports 0 mismatches."""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")
# without ml_dtypes the bfloat16 cases cannot be made on the CPU side: the
# check reports them as not compared and fails, as it should on a GPU
pytest.importorskip("ml_dtypes")

ROOT = pathlib.Path(__file__).resolve().parents[1]
# golden forms: bits (uint32) and uniform, normal, truncnormal in 4 dtypes,
# each plain and with row ids; arrays: the same distributions x dtypes
GOLDEN_FORMS = (1 + 3 * 4) * 2
ARRAYS = 1 + 3 * 4


def test_interpreted_bits_check_reports_no_mismatch():
    result = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--interpret", "--small"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"golden: {GOLDEN_FORMS} cases compared, 0 mismatches, 0 not compared" in out, out
    assert f"arrays: {ARRAYS} compared, 0 with mismatches or not compared" in out, out
    rows = re.findall(r"^  (bits|uniform|normal|truncated_normal) +(\w+) +(\d+)$", out, re.MULTILINE)
    assert len(rows) == ARRAYS and all(n == "0" for _, _, n in rows), out
    assert "OK: 0 failed comparisons" in out, out

"""Audit the device kernels' PTX: no instruction that rounds differently
from the C core.

Compiles every kernel specialization the launcher (fastinit/device/launch.py)
can emit (each kernel x output dtype x row form) for sm_80 and sm_90, without
a GPU, with the launcher's compile options, and fails on any fused
multiply-add (one rounding where the C core rounds twice), approximate or
flush-to-zero instruction, non-IEEE division, or libdevice call (``__nv_``:
not fastinit's polynomials).

    python tools/ptx_check.py          # exit 1 on a finding; prints the count checked
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import triton  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402

from fastinit.device import launch  # noqa: E402

ARCHS = (80, 90)
FORBIDDEN = re.compile(r"\bfma\.|\bmad\.[a-z.]*f(32|64)|\.approx\b|\bdiv\.full\b|\.ftz\b|__nv_")
DTYPES = {"bits": (torch.int32,), **{k: launch.FLOAT_DTYPES for k in ("uniform", "normal", "truncnormal")}}
_POINTER = {torch.int32: "*i32", torch.float32: "*fp32", torch.float64: "*fp64", torch.float16: "*i16",
            torch.bfloat16: "*i16"}


def specializations():
    """(kernel name, dtype, has_rows) of every launch the launcher can make."""
    return [(k, dt, rows) for k, dts in DTYPES.items() for dt in dts for rows in (False, True)]


def ptx(kernel: str, dtype: torch.dtype, has_rows: bool, arch: int, options=None) -> str:
    fn = launch.KERNELS[kernel]
    constexprs = launch.specialization(kernel, dtype, has_rows)
    f64 = dtype == torch.float64
    signature = {}
    for name in fn.arg_names:
        if name in constexprs:
            signature[name] = "constexpr"
        elif name == "out_ptr":
            signature[name] = _POINTER[dtype]
        elif name == "rows_ptr":
            signature[name] = "*i64" if has_rows else _POINTER[dtype]
        elif name.endswith("_bits"):
            signature[name] = "i64" if f64 else "i32"
        elif name.startswith(("seed", "stream")):
            signature[name] = "i32"
        else:  # layout: positions and strides may pass 2**31
            signature[name] = "i64"
    src = triton.compiler.ASTSource(fn=fn, signature=signature, constexprs=constexprs)
    opts = dict(launch.COMPILE_OPTIONS if options is None else options, num_warps=launch.NUM_WARPS)
    return triton.compile(src, target=GPUTarget("cuda", arch, 32), options=opts).asm["ptx"]


def findings(text: str) -> list:
    return [line.strip() for line in text.splitlines() if FORBIDDEN.search(line)]


def check(cases=None, archs=ARCHS, options=None) -> int:
    """Compile and audit cases (default: all); returns how many were bad."""
    bad = checked = 0
    for kernel, dtype, has_rows in cases or specializations():
        for arch in archs:
            found = findings(ptx(kernel, dtype, has_rows, arch, options))
            checked += 1
            if found:
                bad += 1
                print(f"FAIL {kernel} {dtype} rows={has_rows} sm_{arch}: {len(found)} forbidden, e.g. {found[:3]}")
    print(f"ptx_check: {checked} kernels checked (sm_{', sm_'.join(map(str, archs))}), {bad} with forbidden "
          f"instructions")
    return bad


if __name__ == "__main__":
    sys.exit(1 if check() else 0)

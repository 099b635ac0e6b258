"""Print the fastinit ISA paths this CPU offers, comma-separated, read from
the kernel's CPU flags (/proc/cpuinfo) and not from fastinit's own detection.
CI exports the result as FASTINIT_EXPECT_ISAS, and tests/test_isa.py fails if
fastinit does not support one of them: a build or dispatcher that silently
loses a SIMD path would otherwise only turn its tests into skips.

    python tools/cpu_isas.py        # e.g. scalar,avx2,avx512

On a machine without /proc/cpuinfo it prints only "scalar"."""
import pathlib

# fastinit path -> the CPU flag its kernels need (the AVX-512 kernels use AVX-512F only)
PATH_FLAGS = {"avx2": "avx2", "avx512": "avx512f"}


def cpu_isas() -> list:
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return ["scalar"]
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    return ["scalar"] + [path for path, flag in PATH_FLAGS.items() if flag in flags]


if __name__ == "__main__":
    print(",".join(cpu_isas()))

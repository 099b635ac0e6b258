"""Build of the C core. Flags: -O3 for speed; -ffp-contract=off so no path
fuses a multiply and an add (bits must not depend on the ISA); -fno-math-errno
so sqrt is the single IEEE instruction. No -march, no ISA flags on any file: kernels_avx2.c / kernels_avx512.c
select their ISA with a target pragma, and fill.c runs them only on a CPU that
has it."""
import glob
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

sources = [
    "fastinit/_core.pyx",
    "fastinit/src/fill.c",
    "fastinit/src/kernels_scalar.c",
    "fastinit/src/kernels_avx2.c",
    "fastinit/src/kernels_avx512.c",
]
compile_args = [] if sys.platform == "win32" else [
    "-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno", "-fno-strict-aliasing",
    "-Wall", "-Wno-unused-function",
]
link_args = [] if sys.platform == "win32" else ["-pthread"]

extensions = [
    Extension(
        "fastinit._core",
        sources=sources,
        depends=sorted(glob.glob("fastinit/src/*.h")),  # rebuild when a header changes
        include_dirs=[np.get_include(), "fastinit/src"],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    )
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))

"""Which CPU path the C core runs, and a report of the build for bug reports.

At import, the environment variable ``FASTINIT_ISA`` (``scalar``, ``avx2`` or
``avx512``) forces a path; every path gives the same bits, so this only changes
speed (and lets anyone check that claim). An unknown name is an error at
import; a path this CPU cannot run gives a ``RuntimeWarning`` and the best path
it can run instead, so one setting can be shared by different machines.
"""
from __future__ import annotations

import os
import platform
import sys
import warnings

import numpy as np

from . import _core
from ._checks import default_threads

ISA_ENV = "FASTINIT_ISA"


def apply_isa_environment(environ=os.environ) -> None:
    """Select the ISA path once, at import and so under the GIL (the C core
    reads the choice from threads that run without it): FASTINIT_ISA if set,
    else the best path this CPU supports."""
    value = environ.get(ISA_ENV, "").strip().lower()
    if not value:
        _core.set_isa(_core.best_isa())
        return
    names = _core.isa_names()
    if value not in names:
        raise ValueError(f"{ISA_ENV} must be one of {names}, got {environ[ISA_ENV]!r}")
    supported = _core.supported_isas()
    if value not in supported:
        warnings.warn(f"{ISA_ENV}={value!r}: this CPU supports only {supported}; "
                      f"using {_core.best_isa()!r}", RuntimeWarning, stacklevel=2)
        _core.set_isa(_core.best_isa())
        return
    _core.set_isa(value)


def show_config(mode="stdout"):
    """Report the ISA path in use, the paths this CPU supports, the default
    thread count and the versions of fastinit, NumPy, Python and the C compiler.

    mode="stdout" prints the report; mode="dicts" returns it as a dict.

    >>> import fastinit
    >>> cfg = fastinit.show_config(mode="dicts")
    >>> cfg["isa"] in cfg["isa_supported"]
    True
    """
    from . import __version__

    config = {
        "isa": _core.get_isa(),
        "isa_supported": _core.supported_isas(),
        "isa_compiled": _core.isa_names(),
        "default_threads": default_threads(),
        "fastinit": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "compiler": _core.compiler(),
        "machine": platform.machine(),
    }
    if mode == "dicts":
        return config
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', got {mode!r}")
    width = max(len(k) for k in config)
    for key, value in config.items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}}  {value}", file=sys.stdout)
    return None


apply_isa_environment()

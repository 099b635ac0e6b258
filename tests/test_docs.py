"""The runnable examples in the docstrings run and print what they show."""
import doctest
import importlib
import pkgutil

import pytest

import fastinit

MODULES = sorted(m.name for m in pkgutil.iter_modules(fastinit.__path__, "fastinit.") if m.name != "fastinit.__main__")
# modules whose framework is an optional extra
EXTRAS = {"fastinit.torch": "torch", "fastinit._torch_module": "torch", "fastinit.dask": "dask",
          "fastinit.jax": "jax", "fastinit.keras": "keras"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in EXTRAS:
        pytest.importorskip(EXTRAS[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_public_functions_have_examples():
    """Every public initializer documents a runnable example."""
    missing = [n for n in fastinit.__all__ if ">>>" not in (getattr(fastinit, n).__doc__ or "")]
    assert not missing, missing

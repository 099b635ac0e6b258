"""The runnable examples in the docstrings run and print what they show."""
import doctest
import importlib
import pathlib
import pkgutil
import re

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


ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_design_doc_names_only_files_that_exist():
    """docs/design.md maps the code: every repository path it names exists
    (a renamed or removed file must be updated there), and nothing cites a
    design document by another name."""
    text = (ROOT / "docs" / "design.md").read_text()
    named = set(re.findall(r"`((?:fastinit|tests|tools|docs|benchmarks)/[\w./]+\.(?:py|pyx|pxd|c|h|json|txt|md))`",
                           text))
    assert named, "docs/design.md names no files"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/design.md names files that do not exist: {missing}"
    sources = [p for p in ROOT.glob("**/*") if p.suffix in {".py", ".pyx", ".pxd", ".c", ".h", ".md"}
               and not any(part.startswith(".") or part == "build" for part in p.relative_to(ROOT).parts)]
    old_name = "DESIGN" ".md"  # split, so this file does not cite it
    citing = [str(p.relative_to(ROOT)) for p in sources if old_name in p.read_text(errors="replace")]
    assert not citing, f"cite docs/design.md instead of {old_name}: {citing}"

"""The examples run: every docstring example prints what it shows, and every
Python block of every page (README.md, docs/*.md) runs.

A page's fenced blocks each carry a language tag: ``python`` blocks run, each
alone in a fresh namespace (so a reader can paste any one of them), and one
whose optional framework (torch, jax, keras, ...) is absent skips; shell
commands are ``bash``, printed output ``text``. A block without a tag fails:
nothing on a page is left unchecked by accident."""
import doctest
import importlib
import pathlib
import pkgutil
import re
import textwrap

import pytest

import fastinit

MODULES = sorted(m.name for m in pkgutil.iter_modules(fastinit.__path__, "fastinit.") if m.name != "fastinit.__main__")
# modules whose framework is an optional extra
EXTRAS = {"fastinit.torch": "torch", "fastinit._torch_fill": "torch", "fastinit._torch_module": "torch",
          "fastinit.dask": "dask",
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
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "tests" / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_name_only_files_that_exist(page):
    """Every repository path a page names exists (a renamed or removed file
    must be updated there)."""
    named = set(re.findall(r"`((?:fastinit|tests|tools|docs|benchmarks)/[\w./]+\.(?:py|pyx|pxd|c|h|json|txt|md|npz))`",
                           page.read_text()))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{page.relative_to(ROOT)} names files that do not exist: {missing}"


def test_design_doc_is_cited_by_its_name():
    """docs/design.md maps the code, and nothing cites a design document by another name."""
    assert re.search(r"`fastinit/", (ROOT / "docs" / "design.md").read_text()), "docs/design.md names no files"
    sources = [p for p in ROOT.glob("**/*") if p.suffix in {".py", ".pyx", ".pxd", ".c", ".h", ".md"}
               and not any(part.startswith(".") or part == "build" for part in p.relative_to(ROOT).parts)]
    old_name = "DESIGN" ".md"  # split, so this file does not cite it
    citing = [str(p.relative_to(ROOT)) for p in sources if old_name in p.read_text(errors="replace")]
    assert not citing, f"cite docs/design.md instead of {old_name}: {citing}"

FENCE = re.compile(r"^([ \t]*)```(\S*)\n(.*?)^\1```$", re.M | re.S)
# top-level modules of the optional extras: a block importing an absent one skips
OPTIONAL = {"torch", "jax", "flax", "keras", "dask", "distributed", "ml_dtypes", "matplotlib", "tqdm"}
TAGS = {"python", "bash", "text"}


def blocks(tag):
    """(page:line, tag, code) of every fenced block with this tag (None: every block)."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            _, block_tag, code = match.groups()
            if tag is None or block_tag == tag:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT)}:{line}", block_tag, textwrap.dedent(code)))
    return found


def test_every_block_is_marked():
    """A fence without one of the known tags is neither run nor declared as a
    command or output: mark it python (it runs), bash or text."""
    unmarked = [f"{where} ({tag or 'no tag'})" for where, tag, _ in blocks(None) if tag not in TAGS]
    assert not unmarked, f"fenced blocks not tagged {sorted(TAGS)}: {unmarked}"


@pytest.mark.parametrize("where, code", [pytest.param(w, c, id=w) for w, _, c in blocks("python")])
def test_page_python_block_runs(where, code):
    try:
        exec(compile(code, where, "exec"), {"__name__": "__doc_block__"})
    except ModuleNotFoundError as e:
        if e.name not in OPTIONAL:
            raise
        pytest.skip(f"{where} needs {e.name}")


def test_nothing_cites_an_issue_number():
    """Issue numbers mean nothing in the repository: comments and pages say
    what a thing is and why, not which ticket asked for it."""
    sources = [p for p in ROOT.glob("**/*") if p.suffix in {".py", ".pyx", ".pxd", ".c", ".h", ".md", ".sh"}
               and not any(part.startswith(".") or part == "build" for part in p.relative_to(ROOT).parts)]
    citing = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in sources
              for m in re.finditer(r"(?i)\bissues?\s*#?\d+", p.read_text(errors="replace"))]
    assert not citing, citing


def test_the_test_map_lists_every_test_file_and_helper():
    """tests/README.md is the suite's map: it names every test file and every
    helper in tests/support, and nothing that does not exist."""
    text = (ROOT / "tests" / "README.md").read_text()
    listed = set(re.findall(r"`(test_\w+\.py)`", text))
    files = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    assert listed == files, f"not in the map: {sorted(files - listed)}; gone: {sorted(listed - files)}"
    helpers = {p.name for p in (ROOT / "tests" / "support").glob("*.py") if p.name != "__init__.py"}
    unnamed = sorted(h for h in helpers if f"`{h}`" not in text)
    assert not unnamed, f"helpers tests/README.md does not describe: {unnamed}"

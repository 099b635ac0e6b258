"""The import graph of fastinit/ is the one docs/design.md section 2 states:
each module imports only the fastinit modules its row of the layer table
lists, no import cycle, no module left out of the table, and the compiled
core imports nothing of the package (no callback into a layer above it)."""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fastinit"
MODULES = sorted(f.stem for f in PACKAGE.glob("*.py"))


def layer_table() -> dict:
    """{module: set of fastinit modules it may import} from the table of
    docs/design.md section 2 (its modules column: backticked names that are
    modules of fastinit/)."""
    text = (ROOT / "docs" / "design.md").read_text()
    section = text[text.index("## 2. Layers"):text.index("\n## 3.")]
    allowed = {}
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) != 5 or set(cells[1].strip()) <= set("-"):
            continue
        modules = {m for m in re.findall(r"`([\w.]+)`", cells[2]) if m in MODULES or m == "_core"}
        for module in modules:
            assert module not in allowed, f"{module} is in two rows of the layer table"
            allowed[module] = set(re.findall(r"`([\w.]+)`", cells[3]))
    return allowed


def imports(module: str) -> set:
    """The fastinit modules (or "fastinit", the package) module imports,
    at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] if "." in a.name else a.name
                         for a in node.names if a.name.split(".")[0] == "fastinit")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 0 and base.split(".")[0] != "fastinit":
                continue
            if node.level == 0 and "." in base:
                found.add(base.split(".")[1])
            elif node.level == 1 and base:
                found.add(base.split(".")[0])
            else:  # from fastinit import x / from . import x: x a module, or a name of the package
                found.update(a.name if a.name in MODULES or a.name == "_core" else "fastinit" for a in node.names)
    return found - {module}


def test_every_module_is_in_the_table():
    assert set(MODULES) <= set(layer_table()), "add a row to docs/design.md section 2"


@pytest.mark.parametrize("module", MODULES)
def test_imports_follow_the_table(module):
    forbidden = imports(module) - layer_table()[module]
    assert not forbidden, f"fastinit/{module}.py imports {sorted(forbidden)}, which docs/design.md does not allow"


def test_no_import_cycle():
    graph = {m: imports(m) & set(MODULES) for m in MODULES}

    def visit(module, path):
        assert module not in path, f"import cycle: {' -> '.join(path + [module])}"
        for dep in graph[module]:
            visit(dep, path + [module])

    for module in MODULES:
        visit(module, [])


def test_compiled_core_imports_nothing_of_the_package():
    """_core is the bottom layer: it never imports fastinit (so it cannot
    call back up into the spec or the runner)."""
    text = (PACKAGE / "_core.pyx").read_text()
    assert not re.search(r"^\s*(from|import)\s+(fastinit|\.)", text, re.MULTILINE)
    assert layer_table()["_core"] == set()


def test_device_package_imports_nothing_of_fastinit_outside_it():
    """fastinit/device (the Triton kernels) sits below every adapter: only
    relative imports of its own modules, never _torch_fill or torch.py."""
    for path in (PACKAGE / "device").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 if node.level else node.module.split(".")[0] != "fastinit", (path, node.module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "fastinit" for a in node.names), path


def test_the_check_fails_on_a_forbidden_edge(tmp_path, monkeypatch):
    """The checker itself sees an adapter importing the runner."""
    monkeypatch.setattr(ast, "parse", lambda text, _parse=ast.parse: _parse(text + "\nfrom fastinit import _plan\n"))
    assert "_plan" in imports("dask") and "_plan" not in layer_table()["dask"]

"""Every private PyTorch name the adapter touches (fastinit/torch.py,
fastinit/_torch_fill.py, fastinit/_torch_module.py), found by parsing them, is declared here and
exists in the installed torch: a PyTorch release that renames one fails
this test, not ``import fastinit.torch``."""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import fastinit  # noqa: E402

SOURCES = [Path(fastinit.__file__).with_name(n) for n in ("torch.py", "_torch_fill.py", "_torch_module.py")]

# (module, name): each private name, where it is looked up
DECLARED = {
    ("torch.nn.init", "_calculate_fan_in_and_fan_out"),  # looked up when called, own checks if gone
    ("torch.nn.init", "_calculate_correct_fan"),  # likewise
    ("torch.nn.init", "_no_grad_trunc_normal_"),  # looked up when called, trunc_normal_ if gone
    ("torch.distributed.tensor._utils", "compute_local_shape_and_global_offset"),  # in a sharded fill
    ("torch.distributed.tensor.placement_types", "_StridedShard"),  # likewise
    ("torch.distributed.tensor.placement_types", "_StridedShardOffsetMode"),  # likewise
    ("torch.distributed._shard.sharded_tensor.api", "ShardedTensor"),  # only if already imported
}


def _private_uses(path):
    """(module, name) of private names: ``from torch... import _x``, imports
    of private torch modules, and ``nn.init._x`` / ``getattr(nn.init, "_x")``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            for alias in node.names:
                if alias.name.startswith("_") or "._" in node.module:
                    found.add((node.module, alias.name))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if ast.unparse(node.value) == "nn.init":
                found.add(("torch.nn.init", node.attr))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "getattr" and len(node.args) >= 2 \
                and ast.unparse(node.args[0]) == "nn.init" and isinstance(node.args[1], ast.Constant):
            found.add(("torch.nn.init", node.args[1].value))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "_loaded_class":
            found.add(tuple(a.value for a in node.args))
    return {(m, n) for m, n in found if n.startswith("_") or "._" in m}


def test_every_private_pytorch_name_is_declared_and_exists():
    used = set().union(*(_private_uses(p) for p in SOURCES))
    assert used == DECLARED, f"undeclared: {sorted(used - DECLARED)}, declared but unused: {sorted(DECLARED - used)}"
    for module, name in sorted(DECLARED):
        if module.startswith("torch.distributed") and not torch.distributed.is_available():
            continue
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone in torch {torch.__version__}"


def test_import_reads_nothing_private():
    """import fastinit.torch works with PyTorch's private helpers gone."""
    code = ("import torch, torch.nn.init as init\n"
            "net = torch.nn.Embedding(5, 3, padding_idx=0)  # its init uses no private helper\n"
            "for n in ('_no_grad_trunc_normal_', '_calculate_fan_in_and_fan_out', '_calculate_correct_fan'):\n"
            "    delattr(init, n)\n"
            "import torch, fastinit.torch as fi\n"
            "w = fi.xavier_uniform_(torch.empty(4, 6), seed=0)\n"
            "assert float(w.abs().max()) < (6 / 10) ** 0.5\n"
            "fi.kaiming_normal_(torch.empty(4, 6), mode='fan_out', seed=0)\n"
            "fi.init_module(net, seed=0)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(fastinit.__file__).parents[1])
    assert out.stdout.strip() == "ok", out.stderr[-2000:]

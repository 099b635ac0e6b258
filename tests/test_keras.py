"""fastinit.keras on the JAX, PyTorch and NumPy backends, one subprocess each
(KERAS_BACKEND is read once, at import): values equal the fastinit NumPy API,
Keras' seed semantics, config and saved-model round trips, dtypes, and on JAX
a keras.distribution layout (tests/support/keras_backend_check.py). Keras' formulas
themselves are checked in tests/test_parity.py."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND_MODULES = {"jax": "jax", "torch": "torch", "numpy": "jax"}  # Keras' numpy backend uses jax for some ops


def run(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_keras_backend(backend, tmp_path):
    pytest.importorskip("keras")
    pytest.importorskip(BACKEND_MODULES[backend])
    result = run(os.path.join(HERE, "support", "keras_backend_check.py"), backend, str(tmp_path / "model.keras"))
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"ok {backend}" in result.stdout

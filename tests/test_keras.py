"""fastinit.keras on the JAX, PyTorch and NumPy backends, one subprocess each
(KERAS_BACKEND is read once, at import): values equal the fastinit NumPy API,
Keras' seed semantics, config and saved-model round trips, dtypes, and on JAX
a keras.distribution layout (tests/support/keras_backend_check.py). The
subprocess reports each case; each case is a test here. Keras' formulas
themselves are checked in tests/test_parity.py."""
import json
import os
import subprocess
import sys

import pytest

from support import keras_backend_check

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND_MODULES = {"jax": "jax", "torch": "torch", "numpy": "jax"}  # Keras' numpy backend uses jax for some ops


@pytest.fixture(scope="module")
def backend_run(tmp_path_factory):
    """One subprocess per backend, on first use: (the process, case -> "ok" or traceback)."""
    runs = {}

    def of(backend):
        pytest.importorskip("keras")
        pytest.importorskip(BACKEND_MODULES[backend])
        if backend not in runs:
            folder = tmp_path_factory.mktemp(f"keras-{backend}")
            results = folder / "results.json"
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(HERE),
                                                               os.environ.get("PYTHONPATH", "")]))
            process = subprocess.run([sys.executable, keras_backend_check.__file__, backend,
                                      str(folder / "model.keras"), str(results)],
                                     capture_output=True, text=True, env=env, timeout=600)
            runs[backend] = process, json.loads(results.read_text()) if results.exists() else {}
        return runs[backend]
    return of


@pytest.mark.parametrize("backend, case", [(backend, case) for backend in sorted(BACKEND_MODULES)
                                           for case in keras_backend_check.case_names(backend)])
def test_keras_backend(backend_run, backend, case):
    process, results = backend_run(backend)
    assert case in results, f"not reported (exit status {process.returncode}):\n{process.stderr[-4000:]}"
    assert results[case] == "ok", results[case]


@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_every_case_ran(backend_run, backend):
    process, results = backend_run(backend)
    assert process.returncode == 0, process.stderr[-4000:]
    assert list(results) == keras_backend_check.case_names(backend)

import os
import sys

# the tests import their helpers as the package tests/support
sys.path.insert(0, os.path.dirname(__file__))

# tests/test_jax.py shards over 8 host devices; XLA reads this flag once, when
# JAX first creates its CPU backend, so it is set before any test imports jax.
_DEVICES_FLAG = "--xla_force_host_platform_device_count=8"
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_DEVICES_FLAG}".strip()

# Keras 3 picks TensorFlow unless told otherwise, and TensorFlow is not a
# dependency: in this process (tests/test_docs.py imports fastinit.keras) use
# JAX; tests/test_keras.py runs each backend in its own subprocess.
os.environ.setdefault("KERAS_BACKEND", "jax")

"""fastinit for Keras 3: ``keras.initializers``' classes filled by fastinit,
on every backend (JAX, PyTorch, NumPy; TensorFlow is not needed).

Each class subclasses its ``keras.initializers`` namesake (so it is a
``keras.initializers.Initializer`` with Keras' arguments, checks, defaults
and ``get_config``) and replaces only ``__call__``: the parameters Keras
computes (fans from ``compute_fans``, at least 1; ``scale``, ``mode``,
``distribution``; ``stddev`` ...) go to the fastinit NumPy initializer, whose
array becomes a backend tensor. The values are fastinit's, not Keras': the
same distribution, different bits.

``seed`` as in Keras:

* an int: fastinit's seed (stream 0), the same values on every call:
  ``HeNormal(seed=3)(shape)`` equals ``fastinit.variance_scaling(shape, 3,
  2.0, "fan_in", "truncated_normal")``;
* ``None``: Keras draws a seed once, when the initializer is made, so one
  instance gives the same values on every call and ``get_config`` keeps
  ``None`` (a clone or a reloaded model draws again), as in Keras;
* a ``keras.random.SeedGenerator``: each call draws a fresh fastinit seed
  (below 2**62) from it, so successive calls differ, as in Keras.

The classes are registered for serialization (package ``"fastinit"``), so a
model saved with them (``model.save("m.keras")``) loads back with them.

Layouts: on the JAX backend, under a ``keras.distribution`` that gives a
variable a layout, Keras calls ``__call__(shape, dtype, layout=...)``; the
array is then made with ``fastinit.jax.make_array``, each device's block
alone (see ``fastinit.jax``), with the same values as without a layout.
The other backends have no layouts.

>>> import fastinit, fastinit.keras
>>> init = fastinit.keras.GlorotUniform(seed=0)
>>> w = init((256, 128))
>>> bool((fastinit.keras.to_numpy(w) == fastinit.glorot_uniform((256, 128), 0)).all())
True
"""
from __future__ import annotations

import functools
import math

import keras
import numpy as np

import fastinit
from fastinit import _checks, _spec
from fastinit._prepare import orthogonal_columns

__all__ = [
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
    "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "to_numpy",
]

# keras.random.randint draws int32 in [0, maxval): two draws make a seed below 2**62.
_DRAW_LIMIT = 2**31 - 1


def to_numpy(x) -> np.ndarray:
    """A backend tensor as a NumPy array (``keras.ops.convert_to_numpy``)."""
    return keras.ops.convert_to_numpy(x)


def _seed(initializer) -> int:
    """The fastinit seed of one call (see the module doc)."""
    if isinstance(initializer.seed, keras.random.SeedGenerator):
        hi, lo = (int(w) for w in to_numpy(keras.random.randint((2,), 0, _DRAW_LIMIT, seed=initializer.seed)))
        return hi * _DRAW_LIMIT + lo
    return _checks.check_uint64("seed", initializer.seed)


def _to_tensor(make, seed, shape, dtype, layout):
    """make(shape, seed, dtype=..., index=...), a fastinit NumPy initializer,
    as a backend tensor of Keras' dtype, laid out by layout (JAX backend)."""
    shape = tuple(int(d) for d in shape)
    dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
    if keras.backend.backend() == "jax":  # float64 is float32 unless jax_enable_x64: make float32
        import jax
        dtype = np.dtype(jax.dtypes.canonicalize_dtype(dtype)).name
    if layout is not None:
        import fastinit.jax  # layouts exist on the JAX backend only
        return fastinit.jax.make_array(make, shape, seed, _concrete(layout), dtype=dtype)
    return keras.ops.convert_to_tensor(make(shape, seed, dtype=dtype), dtype=dtype)


def _constant(value, initializer, shape, dtype, layout):
    """The constant ``value`` (a normal of std 0: the value rounded to the
    dtype), where Keras' degenerate parameters give it."""
    make = functools.partial(fastinit.normal, mean=value, std=0.0)
    return _to_tensor(make, _seed(initializer), shape, dtype, layout)


def _concrete(layout):
    """A Keras layout (a TensorLayout, or the NamedSharding over the abstract
    mesh that Keras' JAX variables pass inside ``jax.set_mesh``) as a
    sharding over devices."""
    import jax
    layout = getattr(layout, "backend_layout", layout)
    if isinstance(layout.mesh, jax.sharding.AbstractMesh):
        layout = jax.sharding.NamedSharding(jax.sharding.get_mesh(), layout.spec)
    return layout


register = keras.saving.register_keras_serializable(package="fastinit")


class _VarianceScaling:
    """``__call__`` for Keras' VarianceScaling family: Keras' fans (its own
    ``compute_fans``, explicit input/output axes if both are given, each at
    least 1), scale, mode and distribution through
    ``fastinit.variance_scaling``."""

    def __call__(self, shape, dtype=None, layout=None):
        from keras.src.initializers.random_initializers import compute_fans
        fan_in, fan_out = compute_fans(shape, input_axes=self.input_axes, output_axes=self.output_axes)
        make = functools.partial(fastinit.variance_scaling, scale=self.scale, mode=self.mode,
                                 distribution=self.distribution, fan_in=max(1, fan_in), fan_out=max(1, fan_out))
        return _to_tensor(make, _seed(self), shape, dtype, layout)


def _variance_scaling_class(name: str):
    """The fastinit version of the keras.initializers VarianceScaling class
    that fastinit's table gives as the counterpart of the entry ``name``."""
    keras_class = getattr(keras.initializers, _spec.INITIALIZERS[name].keras)
    cls = type(keras_class.__name__, (_VarianceScaling, keras_class), {
        "__module__": __name__,
        "__doc__": (f"``keras.initializers.{keras_class.__name__}`` (same arguments), filled by "
                    f"``fastinit.variance_scaling`` with its scale, mode and distribution."),
    })
    return register(cls)


VarianceScaling = _variance_scaling_class("variance_scaling")
GlorotUniform = _variance_scaling_class("glorot_uniform")
GlorotNormal = _variance_scaling_class("glorot_normal")
HeUniform = _variance_scaling_class("he_uniform")
HeNormal = _variance_scaling_class("he_normal")
LecunUniform = _variance_scaling_class("lecun_uniform")
LecunNormal = _variance_scaling_class("lecun_normal")


@register
class RandomNormal(keras.initializers.RandomNormal):
    """``keras.initializers.RandomNormal``: ``fastinit.normal(shape, seed, mean, stddev)``."""

    def __call__(self, shape, dtype=None, layout=None):
        make = functools.partial(fastinit.normal, mean=self.mean, std=self.stddev)
        return _to_tensor(make, _seed(self), shape, dtype, layout)


@register
class RandomUniform(keras.initializers.RandomUniform):
    """``keras.initializers.RandomUniform``: ``fastinit.uniform(shape, seed, minval, maxval)``;
    ``minval == maxval`` is that constant, as in Keras."""

    def __call__(self, shape, dtype=None, layout=None):
        if self.minval == self.maxval:
            return _constant(self.minval, self, shape, dtype, layout)
        make = functools.partial(fastinit.uniform, low=self.minval, high=self.maxval)
        return _to_tensor(make, _seed(self), shape, dtype, layout)


@register
class TruncatedNormal(keras.initializers.TruncatedNormal):
    """``keras.initializers.TruncatedNormal``: N(mean, stddev^2) cut at two
    standard deviations, ``fastinit.truncated_normal(shape, seed, mean,
    stddev, mean - 2 * stddev, mean + 2 * stddev)``; ``stddev=0`` is the
    constant ``mean``, as in Keras."""

    def __call__(self, shape, dtype=None, layout=None):
        if self.stddev == 0:
            return _constant(self.mean, self, shape, dtype, layout)
        make = functools.partial(fastinit.truncated_normal, mean=self.mean, std=self.stddev,
                                 a=self.mean - 2 * self.stddev, b=self.mean + 2 * self.stddev)
        return _to_tensor(make, _seed(self), shape, dtype, layout)


@register
class Orthogonal(keras.initializers.Orthogonal):
    """``keras.initializers.Orthogonal``: ``fastinit.orthogonal`` of the
    ``(prod(shape[:-1]), shape[-1])`` matrix, times ``gain``, reshaped."""

    def __call__(self, shape, dtype=None, layout=None):
        make = functools.partial(orthogonal_columns, scale=self.gain, column_axis=-1)
        return _to_tensor(make, _seed(self), shape, dtype, layout)

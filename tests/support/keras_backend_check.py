"""Run by tests/test_keras.py as
``python keras_backend_check.py BACKEND MODEL_PATH RESULTS_PATH``:
KERAS_BACKEND must be set before keras is imported, so each backend gets its
own process. Runs every case of `case_names` and writes RESULTS_PATH, a JSON
object: case name -> "ok" or the failure's traceback. Importing this module
imports no keras (the test reads `case_names` from it)."""
import json
import os
import sys
import traceback

import numpy as np

import fastinit
from fastinit import _spec

CONV, DENSE = (3, 3, 4, 8), (30, 20)
# every Keras counterpart in fastinit's table
KERAS_NAMES = sorted({entry.keras for entry in _spec.INITIALIZERS.values() if entry.keras})


def same(tensor, reference):
    x = fk.to_numpy(tensor)
    assert x.dtype == reference.dtype and x.shape == reference.shape, (x.dtype, x.shape, reference.dtype)
    assert np.array_equal(x.view(np.uint8), np.ascontiguousarray(reference).view(np.uint8))


def vs(shape, seed, scale, mode, distribution, **kw):
    return fastinit.variance_scaling(shape, seed, scale, mode, distribution, **kw)


def keras_cases():
    """(class, its Keras arguments, the equal fastinit NumPy call (shape, seed, dtype))."""
    return [
        (fk.GlorotUniform, {}, lambda s, seed, dt: vs(s, seed, 1.0, "fan_avg", "uniform", dtype=dt)),
        (fk.GlorotNormal, {}, lambda s, seed, dt: vs(s, seed, 1.0, "fan_avg", "truncated_normal", dtype=dt)),
        (fk.HeUniform, {}, lambda s, seed, dt: vs(s, seed, 2.0, "fan_in", "uniform", dtype=dt)),
        (fk.HeNormal, {}, lambda s, seed, dt: vs(s, seed, 2.0, "fan_in", "truncated_normal", dtype=dt)),
        (fk.LecunUniform, {}, lambda s, seed, dt: vs(s, seed, 1.0, "fan_in", "uniform", dtype=dt)),
        (fk.LecunNormal, {}, lambda s, seed, dt: vs(s, seed, 1.0, "fan_in", "truncated_normal", dtype=dt)),
        # Keras' "normal" is its truncated normal
        (fk.VarianceScaling, dict(scale=0.5, mode="fan_out", distribution="normal"),
         lambda s, seed, dt: vs(s, seed, 0.5, "fan_out", "truncated_normal", dtype=dt)),
        (fk.VarianceScaling, dict(distribution="untruncated_normal", mode="fan_avg"),
         lambda s, seed, dt: vs(s, seed, 1.0, "fan_avg", "normal", dtype=dt)),
        # Keras' explicit axes: fans are products of those axes alone
        (fk.GlorotNormal, dict(input_axes=[0, 1], output_axes=[-1]),
         lambda s, seed, dt: vs(s, seed, 1.0, "fan_avg", "truncated_normal", fan_in=s[0] * s[1], fan_out=s[-1],
                                dtype=dt)),
        (fk.RandomNormal, dict(mean=1.0, stddev=0.5), lambda s, seed, dt: fastinit.normal(s, seed, 1.0, 0.5, dtype=dt)),
        (fk.RandomUniform, dict(minval=-2.0, maxval=3.0),
         lambda s, seed, dt: fastinit.uniform(s, seed, -2.0, 3.0, dtype=dt)),
        (fk.TruncatedNormal, dict(mean=0.5, stddev=0.1),
         lambda s, seed, dt: fastinit.truncated_normal(s, seed, 0.5, 0.1, 0.3, 0.7, dtype=dt)),
        (fk.Orthogonal, dict(gain=2.0),
         lambda s, seed, dt: fastinit.orthogonal((int(np.prod(s[:-1])), s[-1]), seed, 2.0, dtype=dt).reshape(s)),
    ]


def check_values_and_seeds(name):
    for cls, kwargs, numpy_call in (case for case in keras_cases() if case[0].__name__ == name):
        assert isinstance(cls(**kwargs), keras.initializers.Initializer)
        for shape in (CONV, DENSE):
            init = cls(seed=7, **kwargs)
            same(init(shape), numpy_call(shape, 7, "float32"))
            same(init(shape), numpy_call(shape, 7, "float32"))  # an int seed: the same values every call
        for dtype in ("float16", "bfloat16", "float64"):
            # JAX without x64 makes float32, as Keras' own initializers do there
            made = "float32" if (keras.backend.backend(), dtype) == ("jax", "float64") else dtype
            same(cls(seed=7, **kwargs)(DENSE, dtype=dtype), numpy_call(DENSE, 7, made))
        unseeded = cls(**kwargs)  # Keras draws the seed once: the same values every call
        same(unseeded(DENSE), fk.to_numpy(unseeded(DENSE)))
        assert unseeded.get_config()["seed"] is None
        generated = cls(seed=keras.random.SeedGenerator(3), **kwargs)  # a fresh seed per call
        assert not np.array_equal(fk.to_numpy(generated(DENSE)), fk.to_numpy(generated(DENSE)))
        # configuration round trips keep the class and the values
        init = cls(seed=11, **kwargs)
        for clone in (cls.from_config(init.get_config()), init.clone(),
                      keras.initializers.deserialize(keras.initializers.serialize(init))):
            assert type(clone) is cls and clone.get_config() == init.get_config()
            same(clone(CONV), numpy_call(CONV, 11, "float32"))


def check_saved_model(path):
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(5, kernel_initializer=fk.HeNormal(seed=1), bias_initializer=fk.RandomNormal(seed=2)),
        keras.layers.Dense(3, kernel_initializer=fk.Orthogonal(seed=3, gain=0.5)),
    ])
    same(model.layers[0].kernel, vs((6, 5), 1, 2.0, "fan_in", "truncated_normal"))
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(model.layers, loaded.layers):
        assert type(b.kernel_initializer) is type(a.kernel_initializer)
        assert b.kernel_initializer.get_config() == a.kernel_initializer.get_config()
        same(b.kernel, fk.to_numpy(a.kernel))
    rebuilt = keras.Sequential.from_config(model.get_config())  # re-initialized from the configs
    for a, b in zip(model.layers, rebuilt.layers):
        same(b.kernel, fk.to_numpy(a.kernel))


def check_jax_layout():
    """A keras.distribution layout: each device holds its block, values unchanged."""
    import jax
    from keras import distribution
    if len(jax.devices()) < 8:
        return
    mesh = distribution.DeviceMesh((2, 4), ["batch", "model"], distribution.list_devices())
    layouts = distribution.LayoutMap(mesh)
    layouts["d/kernel"] = distribution.TensorLayout([None, "model"])
    layouts["d/bias"] = distribution.TensorLayout(["model"])
    layouts["o/kernel"] = distribution.TensorLayout(["model", None])
    distribution.set_distribution(distribution.ModelParallel(layout_map=layouts, batch_dim_name="batch"))
    try:
        layer = keras.layers.Dense(16, kernel_initializer=fk.HeUniform(seed=4),
                                   bias_initializer=fk.RandomNormal(seed=1), name="d")
        layer.build((None, 8))
        orthogonal = keras.layers.Dense(8, kernel_initializer=fk.Orthogonal(seed=3), name="o")
        orthogonal.build((None, 16))
    finally:
        distribution.set_distribution(None)
    kernel = layer.kernel.value
    assert kernel.sharding.spec == jax.sharding.PartitionSpec(None, "model"), kernel.sharding
    assert len({str(s.index) for s in kernel.addressable_shards}) == 4  # 4 column blocks
    same(kernel, vs((8, 16), 4, 2.0, "fan_in", "uniform"))
    same(layer.bias, fastinit.normal(16, 1, 0.0, 0.05))
    assert len({str(s.index) for s in orthogonal.kernel.value.addressable_shards}) == 4  # 4 row blocks
    same(orthogonal.kernel, fastinit.orthogonal((16, 8), 3))


def check_degenerate_parameters():
    """Bounds that coincide and stddev 0 give Keras' own constants (no error)."""
    for name, kwargs in (("RandomUniform", dict(minval=1.0, maxval=1.0)),
                         ("TruncatedNormal", dict(mean=1.0, stddev=0.0)),
                         ("TruncatedNormal", dict(mean=-0.3, stddev=0.0))):
        for dtype in ("float32", "float16"):
            theirs = fk.to_numpy(getattr(keras.initializers, name)(**kwargs, seed=5)((4, 3), dtype=dtype))
            same(getattr(fk, name)(**kwargs, seed=5)((4, 3), dtype=dtype), theirs)


def check_table_counterparts():
    """Every Keras counterpart in fastinit's table has its fastinit.keras class."""
    names = {cls.__name__ for cls, _, _ in keras_cases()}
    assert names == set(KERAS_NAMES), names
    for name in names:
        assert issubclass(getattr(fk, name), getattr(keras.initializers, name)) and name in fk.__all__


def case_names(backend):
    """The cases a run on `backend` reports, in order."""
    return (["counterparts"] + [f"values and seeds: {name}" for name in KERAS_NAMES]
            + ["degenerate parameters", "saved model"]
            + (["keras.distribution layout"] if backend == "jax" else []))


def main(backend, model_path, results_path):
    os.environ["KERAS_BACKEND"] = backend
    global keras, fk
    import keras

    import fastinit.keras as fk
    run = {"counterparts": check_table_counterparts, "degenerate parameters": check_degenerate_parameters,
           "saved model": lambda: check_saved_model(model_path),
           "keras.distribution layout": check_jax_layout}
    results = {}
    for case in case_names(backend):
        try:
            run[case]() if case in run else check_values_and_seeds(case.removeprefix("values and seeds: "))
            results[case] = "ok"
        except Exception:
            results[case] = traceback.format_exc()
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])

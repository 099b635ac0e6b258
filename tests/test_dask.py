"""fastinit.dask: lazy arrays whose chunks, generated independently, equal
the in-memory array bit for bit for any chunking."""
import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import fastinit  # noqa: E402
import fastinit.dask as fd  # noqa: E402

SHAPE = (300, 70)
CHUNKINGS = [(64, 70), (300, 7), ((1, 99, 200), (13, 50, 7)), "auto", 1000]
CASES = [
    ("he_normal", dict(stream=5)),
    ("glorot_uniform", dict(gain=2.0, dtype=np.float64)),
    ("variance_scaling", dict(scale=0.5, mode="fan_avg", distribution="uniform")),
    ("uniform", dict(low=-3.0, high=1.0)),
    ("normal", dict(mean=1.0, std=0.1, dtype=np.float64)),
    ("lecun_uniform", dict(layout="torch")),
    ("bits", dict(stream=2**64 - 1)),
]


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("name, kw", CASES, ids=[c[0] for c in CASES])
def test_compute_equals_in_memory(name, kw, chunks):
    lazy = getattr(fd, name)(SHAPE, 9, chunks=chunks, **kw)
    full = getattr(fastinit, name)(SHAPE, 9, **kw)
    assert lazy.dtype == full.dtype
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), full)


def test_every_chunkable_initializer_is_exported():
    for name in fastinit.__all__:
        fn = getattr(fastinit, name)
        # not generators, or (orthogonal) not generated block by block
        if callable(fn) and name not in ("calculate_gain", "compute_fans", "show_config", "orthogonal"):
            assert getattr(fd, name).__name__ == name


def test_3d_and_slicing_stays_lazy():
    lazy = fd.he_uniform((6, 40, 50), 1, chunks=(2, 15, 50))
    full = fastinit.he_uniform((6, 40, 50), 1)
    np.testing.assert_array_equal(lazy[3:, 10:33].compute(), full[3:, 10:33])


def test_seed_none_is_drawn_once():
    # float64: a chance repeat among 1000 values is ~1e-10 (float32: ~1e-4);
    # chunks made from per-chunk positions under one seed would repeat a block
    lazy = fd.normal((100, 10), None, chunks=(10, 10), dtype=np.float64)
    a = lazy.compute()
    np.testing.assert_array_equal(a, lazy.compute())
    assert len(np.unique(a)) == a.size


def test_bad_arguments_raise_at_construction():
    with pytest.raises(ValueError, match="mode"):
        fd.he_normal((10, 10), 0, mode="fan_middle")
    with pytest.raises(TypeError, match="out="):
        fd.normal((10, 10), 0, out=np.empty((10, 10), np.float32))
    with pytest.raises(TypeError, match="index="):
        fd.normal((10, 10), 0, index=slice(0, 2))
    with pytest.raises(ValueError, match="seed"):
        fd.normal((10, 10), -1)


def test_distributed_processes():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        lazy = fd.he_normal((2000, 64), 3, chunks=((500, 300, 1200), (40, 24)), stream=1)
        got = client.compute(lazy).result()
    np.testing.assert_array_equal(got, fastinit.he_normal((2000, 64), 3, stream=1))


def test_to_zarr(tmp_path):
    zarr = pytest.importorskip("zarr")
    lazy = fd.glorot_normal((500, 40), 4, chunks=(128, 40))
    lazy.to_zarr(str(tmp_path / "w.zarr"))
    np.testing.assert_array_equal(zarr.open(str(tmp_path / "w.zarr"), mode="r")[:], fastinit.glorot_normal((500, 40), 4))

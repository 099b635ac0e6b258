"""orthogonal: orthonormal rows/columns, gain, flattening, Haar sign fix."""
import numpy as np
import pytest

import fastinit


@pytest.mark.parametrize("shape", [(64, 64), (200, 50), (50, 200), (32, 16, 3, 3), (10, 4, 5)])
def test_orthonormal(shape):
    q = fastinit.orthogonal(shape, seed=1)
    assert q.shape == shape and q.dtype == np.float32
    m = q.reshape(shape[0], -1).astype(np.float64)
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_gain_scales_exactly():
    q1 = fastinit.orthogonal((40, 30), seed=2, dtype=np.float64)
    q3 = fastinit.orthogonal((40, 30), seed=2, gain=3.0, dtype=np.float64)
    np.testing.assert_allclose(q3, 3.0 * q1, rtol=1e-15)
    np.testing.assert_allclose(q3.T @ q3, 9.0 * np.eye(30), atol=1e-12)


def test_built_from_fastinit_normal_with_sign_fix():
    """Q is the QR factor of the fastinit N(0, 1) matrix with R's diagonal
    made positive: Q^T z is upper triangular with a positive diagonal."""
    z = fastinit.normal((30, 20), seed=3, dtype=np.float64)
    q = fastinit.orthogonal((30, 20), seed=3, dtype=np.float64)
    r = q.T @ z
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert np.all(np.diag(r) > 0)


def test_haar_first_entry_is_symmetric():
    """Without the sign fix LAPACK's Householder QR biases the signs; with
    it, Q[0, 0] of a Haar 2x2 matrix is cos(theta), theta uniform."""
    v = np.array([fastinit.orthogonal((2, 2), seed=s, dtype=np.float64)[0, 0] for s in range(2000)])
    assert abs(v.mean()) < 0.05
    assert abs((v**2).mean() - 0.5) < 0.03


def test_index_out_and_determinism():
    full = fastinit.orthogonal((50, 20), seed=4)
    np.testing.assert_array_equal(full, fastinit.orthogonal((50, 20), seed=4))
    out = np.empty((10, 20), np.float32)
    assert fastinit.orthogonal((50, 20), seed=4, index=slice(5, 15), out=out) is out
    np.testing.assert_array_equal(out, full[5:15])


@pytest.mark.parametrize("shape", [(5,), ()])
def test_needs_two_axes(shape):
    with pytest.raises(ValueError, match="2 axes"):
        fastinit.orthogonal(shape, seed=0)

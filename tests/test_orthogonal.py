"""orthogonal: orthonormal rows/columns, gain, flattening, Haar sign fix.

Every check on the result has a tolerance: the QR is LAPACK's, whose last
bits depend on the BLAS build and on the kernel OpenBLAS picks for the CPU
(CI reruns this file under other OPENBLAS_CORETYPE kernels and one thread).
What fastinit computes itself, the N(0, 1) matrix it factors, is pinned bit
for bit by the golden streams (support.api_cases.PINNED_INPUT); here we check that
the result is the QR of exactly that matrix."""
import math

import numpy as np
import pytest

import fastinit
from support.api_cases import dtypes_of, orthogonal_input

EPS = {dt.name: float(np.finfo(np.float32 if dt.name == "bfloat16" else dt).eps) * (
    2.0**16 if dt.name == "bfloat16" else 1.0) for dt in dtypes_of("orthogonal")}
# the golden shapes (tools/make_golden.py) and a few more, all far from square
# so that no diagonal entry of R is near 0 (its sign is then well defined)
SHAPES = [(37, 129), (3, 3, 16, 32), (200, 50), (10, 4, 5), (64, 8, 3, 3)]


def as_q(result, shape):
    """The result as the Q factor (tall, orthonormal columns) in float64."""
    m = np.asarray(result, dtype=np.float64).reshape(shape[0], -1)
    return m if m.shape[0] >= m.shape[1] else m.T


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", dtypes_of("orthogonal"), ids=str)
def test_result_is_the_qr_of_the_pinned_input(shape, dtype):
    """Q^T z is upper triangular with a positive diagonal and Q Q^T z = z:
    Q is the (unique) QR factor of fastinit's z with the sign of diag(R)
    folded in, to the dtype's precision."""
    eps = EPS[dtype.name]
    result = fastinit.orthogonal(shape, 2026, stream=7, dtype=dtype)
    assert result.shape == shape and result.dtype == dtype and result.flags.c_contiguous
    q, z = as_q(result, shape), orthogonal_input(shape, 2026, 7)
    n = z.shape[0]
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=4 * eps)
    r = q.T @ z
    tol = 8 * eps * math.sqrt(n)  # |dQ^T z| with |dQ| <= eps/2 per entry and |z column| ~ sqrt(n)
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=tol)
    assert np.all(np.diag(r) > tol)
    np.testing.assert_allclose(q @ r, z, atol=tol)


@pytest.mark.parametrize("shape", [(64, 64), (200, 50), (50, 200), (32, 16, 3, 3), (10, 4, 5)])
def test_orthonormal(shape):
    q = fastinit.orthogonal(shape, seed=1)
    assert q.shape == shape and q.dtype == np.float32
    m = q.reshape(shape[0], -1).astype(np.float64)
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_gain_scales():
    q1 = fastinit.orthogonal((40, 30), seed=2, dtype=np.float64)
    q3 = fastinit.orthogonal((40, 30), seed=2, gain=3.0, dtype=np.float64)
    np.testing.assert_allclose(q3, 3.0 * q1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(q3.T @ q3, 9.0 * np.eye(30), atol=1e-12)


def test_haar_first_entry_is_symmetric():
    """Without the sign fix LAPACK's Householder QR biases the signs; with
    it, Q[0, 0] of a Haar 2x2 matrix is cos(theta), theta uniform."""
    v = np.array([fastinit.orthogonal((2, 2), seed=s, dtype=np.float64)[0, 0] for s in range(2000)])
    assert abs(v.mean()) < 0.05
    assert abs((v**2).mean() - 0.5) < 0.03


@pytest.mark.parametrize("dtype", dtypes_of("orthogonal"), ids=str)
def test_index_and_out_equal_a_slice(dtype):
    """index= (slices or row ids) and out= give full[index]; two calls run two
    QRs, equal to the dtype's precision."""
    full = fastinit.orthogonal((50, 20), seed=4, dtype=dtype).astype(np.float64)
    out = np.empty((10, 20), dtype)
    assert fastinit.orthogonal((50, 20), seed=4, index=slice(5, 15), out=out) is out
    np.testing.assert_allclose(out.astype(np.float64), full[5:15], atol=EPS[dtype.name])
    rows = fastinit.orthogonal((50, 20), seed=4, dtype=dtype, index=[7, 3, -1])
    np.testing.assert_allclose(rows.astype(np.float64), full[[7, 3, -1]], atol=EPS[dtype.name])

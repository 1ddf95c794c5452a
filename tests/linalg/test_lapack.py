"""Cholesky and its inverse in place, through numpy's OpenBLAS and through scipy's LAPACK."""

import numpy as np
import pytest

from kronbox.linalg import lapack


def _spd(n, dtype, seed=0):
    A = np.random.default_rng(seed).standard_normal((n, n))
    return (A @ A.T / n + np.eye(n)).astype(dtype)


@pytest.fixture(params=["numpy's OpenBLAS", "scipy"])
def backend(request, monkeypatch):
    if request.param == "scipy":
        monkeypatch.setattr(lapack, "_numpy_routines", lambda: None)
    return request.param


def test_numpy_openblas_routines_are_found():
    # numpy's PyPI wheels bundle OpenBLAS; the fast path must be the one in use here.
    assert lapack._numpy_routines() is not None


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
@pytest.mark.parametrize("n", [1, 2, 7, 130])
def test_cholesky_and_inverse_match_numpy(backend, n, dtype, tol):
    S = _spd(n, dtype)
    W = S.copy()
    assert lapack.cholesky_in_place(W)
    U = np.triu(W)
    np.testing.assert_allclose(U, np.linalg.cholesky(S.astype(np.float64)).T, rtol=tol, atol=tol)
    assert lapack.inverse_from_cholesky_in_place(W)
    inverse = np.triu(W) + np.triu(W, 1).T
    np.testing.assert_allclose(inverse, np.linalg.inv(S.astype(np.float64)), rtol=tol * 10, atol=tol * 10)


def test_not_positive_definite_is_reported(backend):
    S = _spd(5, np.float64)
    S[2, 2] = -1.0
    assert not lapack.cholesky_in_place(S.copy())


@pytest.mark.parametrize(
    "W", [np.eye(3, dtype=complex), np.eye(3, dtype=np.float64, order="F")[:, :2].copy(), np.eye(4)[:, ::2]]
)
def test_refuses_what_it_cannot_factor(W):
    with pytest.raises(ValueError, match="square C-ordered float64/float32"):
        lapack.cholesky_in_place(W)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-3), (np.complex128, 1e-11)])
@pytest.mark.parametrize("n", [1, 3, 40])
def test_lu_determinant_and_inverse_match_numpy(backend, n, dtype, tol):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n)) + (1j * rng.standard_normal((n, n)) if dtype == np.complex128 else 0)
    A = A.astype(dtype)
    W = A.copy()
    pivots, info = lapack.lu_in_place(W)
    assert info == 0
    swaps = np.count_nonzero(pivots != np.arange(1, n + 1))
    det = (-1) ** swaps * np.prod(W.diagonal().astype(np.complex128))
    reference = np.linalg.det(A.astype(np.complex128))
    assert abs(det - reference) <= tol * abs(reference)
    assert lapack.inverse_from_lu_in_place(W, pivots)
    np.testing.assert_allclose(W, np.linalg.inv(A.astype(np.complex128)), rtol=tol, atol=tol)


def test_lu_reports_an_exactly_singular_matrix(backend):
    W = np.array([[1.0, 2.0], [2.0, 4.0]])
    _, info = lapack.lu_in_place(W)
    assert info > 0


def test_one_thread_per_pool_factorizes_through_scipys_wrappers_with_the_same_results():
    from kronbox.linalg import blas

    S = _spd(20, np.float64)
    outside = S.copy()
    assert lapack._routines() is not None
    assert lapack.cholesky_in_place(outside) and lapack.inverse_from_cholesky_in_place(outside)
    with blas.threads(1):
        assert lapack._routines() is None
        inside = S.copy()
        assert lapack.cholesky_in_place(inside) and lapack.inverse_from_cholesky_in_place(inside)
    np.testing.assert_allclose(np.triu(inside), np.triu(outside), rtol=1e-12)
    np.testing.assert_allclose(np.triu(inside), np.triu(np.linalg.inv(S)), rtol=1e-10)

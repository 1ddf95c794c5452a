"""scipy's iterative solvers and eigensolvers on lazy Kronecker and box systems, against dense numpy.

The operators go to ``scipy.sparse.linalg`` as they are (they are ``LinearOperator`` s); the
references solve or diagonalize ``np.kron(A, B)`` (or the box twin) with ``numpy.linalg``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.linalg import cg, eigsh, gmres, lsmr, lsqr, minres
from zoo import box_twin, random

import kronbox as kb


def spd(rng, n: int, dtype=np.float64) -> np.ndarray:
    """A well-conditioned symmetric (Hermitian) positive definite ``n × n`` matrix."""
    M = random(rng, (n, n), dtype)
    return M @ M.conj().T / n + np.eye(n, dtype=dtype)


def well_conditioned(rng, n: int, dtype=np.float64) -> np.ndarray:
    return np.eye(n, dtype=dtype) * 3 + random(rng, (n, n), dtype) / np.sqrt(n)


def assert_solves(x, info, dense: np.ndarray, b: np.ndarray, tol: float) -> None:
    assert info == 0, f"the solver did not converge (info={info})"
    reference = np.linalg.solve(dense, b)
    np.testing.assert_allclose(x, reference, rtol=tol, atol=tol * np.abs(reference).max())


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_cg_on_a_kron_of_spd_factors(dtype, rng):
    A, B = spd(rng, 6, dtype), spd(rng, 5, dtype)
    op, dense = kb.Kron(A, B), np.kron(A, B)
    b = random(rng, 30, dtype)
    x, info = cg(op, b, rtol=1e-12, maxiter=500)
    assert_solves(x, info, dense, b, 1e-8)


def test_cg_on_a_kronecker_sum(rng):
    """``A ⊗ I + I ⊗ B`` with SPD ``A``, ``B`` (the Lyapunov operator) is SPD."""
    A, B = spd(rng, 5), spd(rng, 4)
    op = kb.Kron(A, kb.Identity(4)) + kb.Kron(kb.Identity(5), B)
    dense = np.kron(A, np.eye(4)) + np.kron(np.eye(5), B)
    b = rng.standard_normal(20)
    x, info = cg(op, b, rtol=1e-12, maxiter=500)
    assert_solves(x, info, dense, b, 1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("product", ["kron", "box"])
def test_gmres_on_square_products(product, dtype, rng):
    A, B = well_conditioned(rng, 4, dtype), well_conditioned(rng, 5, dtype)
    op, dense = (kb.Kron(A, B), np.kron(A, B)) if product == "kron" else (kb.Box(A, B), box_twin(A, B))
    b = random(rng, 20, dtype)
    x, info = gmres(op, b, rtol=1e-12, restart=20, maxiter=50)
    assert_solves(x, info, dense, b, 1e-8)


def test_minres_on_a_symmetric_indefinite_kron(rng):
    S = rng.standard_normal((5, 5))
    A = S + S.T + np.diag([6.0, -6.0, 7.0, -7.0, 8.0])  # symmetric, indefinite, nonsingular
    B = spd(rng, 4)
    op, dense = kb.Kron(A, B), np.kron(A, B)
    assert np.linalg.eigvalsh(dense).min() < 0 < np.linalg.eigvalsh(dense).max()
    b = rng.standard_normal(20)
    x, info = minres(op, b, rtol=1e-12, maxiter=500)
    assert_solves(x, info, dense, b, 1e-7)


@pytest.mark.parametrize("solver", [lsqr, lsmr])
@pytest.mark.parametrize("product", ["kron", "box"])
def test_least_squares_on_a_rectangular_product(solver, product, rng):
    """A tall ``20 × 6`` product: lsqr/lsmr agree with ``numpy.linalg.lstsq`` on the dense twin."""
    A, B = rng.standard_normal((5, 3)), rng.standard_normal((4, 2))
    op, dense = (kb.Kron(A, B), np.kron(A, B)) if product == "kron" else (kb.Box(A, B), box_twin(A, B))
    b = rng.standard_normal(20)
    result = solver(op, b, atol=1e-14, btol=1e-14)
    x, istop = result[0], result[1]
    assert istop in (1, 2), f"{solver.__name__} stopped with istop={istop}"
    reference = np.linalg.lstsq(dense, b, rcond=None)[0]
    np.testing.assert_allclose(x, reference, rtol=1e-8, atol=1e-10)
    # The normal equations hold: Aᴴ(b - A x) = 0.
    np.testing.assert_allclose(op.rmatvec(b - op @ x), 0, atol=1e-8)


def test_least_squares_on_a_wide_product_gives_the_minimum_norm_solution(rng):
    A, B = rng.standard_normal((2, 4)), rng.standard_normal((3, 5))
    op, dense = kb.Kron(A, B), np.kron(A, B)
    b = rng.standard_normal(6)
    x = lsqr(op, b, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(x, np.linalg.pinv(dense) @ b, rtol=1e-8, atol=1e-10)


def test_eigsh_on_a_symmetric_kron(rng):
    """The extreme eigenvalues of ``A ⊗ B`` are products of the factors' eigenvalues."""
    S, T = rng.standard_normal((6, 6)), rng.standard_normal((5, 5))
    A, B = S + S.T, T + T.T
    op = kb.Kron(A, B)
    everything = np.sort(np.linalg.eigvalsh(np.kron(A, B)))
    products = np.sort(np.outer(np.linalg.eigvalsh(A), np.linalg.eigvalsh(B)).ravel())
    np.testing.assert_allclose(everything, products, atol=1e-10)
    values, vectors = eigsh(op, k=4, which="LA", tol=1e-12)
    np.testing.assert_allclose(np.sort(values), everything[-4:], rtol=1e-9)
    np.testing.assert_allclose(op @ vectors, vectors * values, atol=1e-8)
    values = eigsh(op, k=3, which="SA", tol=1e-12, return_eigenvectors=False)
    np.testing.assert_allclose(np.sort(values), everything[:3], rtol=1e-9)


def test_solvers_on_float32_operators_stay_in_float32(rng):
    A, B = spd(rng, 4).astype(np.float32), spd(rng, 3).astype(np.float32)
    op = kb.Kron(A, B)
    b = rng.standard_normal(12).astype(np.float32)
    x, info = cg(op, b, rtol=1e-5, maxiter=200)
    assert info == 0 and x.dtype == np.float32
    reference = np.linalg.solve(np.kron(A, B).astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(x, reference, rtol=1e-3, atol=1e-4)

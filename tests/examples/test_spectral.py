"""The matrix-function applications against independent references: eigenvalue gradients against central
differences of numpy's ``eigvalsh``; Newton's roots of ``det M(λ)`` against numpy's eigenvalues, the Lambert W
roots of a delay eigenproblem with commuting matrices (``scipy.special.lambertw``), the companion
linearization of a quadratic eigenproblem, and the smallest singular value; the exponential fit against the
matrix that made the data (``scipy.linalg.expm``) and its gradient against ``expm_frechet``."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import scipy.linalg
import scipy.special

from kronbox import amd
from kronbox.examples.spectral import eigenvalue, expm_fit_objective, fit_expm, newton_eigenvalue, nonlinear_eigenvalue

N = 6


def symmetric(rng: np.random.Generator, n: int = N) -> np.ndarray:
    G = rng.standard_normal((n, n))
    return (G + G.T) / 2


# ------------------------------------------------------------------------------- eigenvalue sensitivity
@pytest.mark.parametrize("k", [0, 2, -1])
def test_eigenvalue_gradient_is_q_qT_and_matches_central_differences(k):
    rng = np.random.default_rng(0)
    X0, E = symmetric(rng), symmetric(rng)
    X = amd.var("X", (N, N), symmetric=True)
    G = np.asarray(amd.grad(eigenvalue(X, k), X).eval(X=X0))
    q = np.linalg.eigh(X0)[1][:, k]
    np.testing.assert_allclose(G, np.outer(q, q), atol=1e-12)
    h = 1e-6
    slope = (np.linalg.eigvalsh(X0 + h * E)[k] - np.linalg.eigvalsh(X0 - h * E)[k]) / (2 * h)
    assert abs(np.sum(G * E) - slope) <= 1e-8 * max(1.0, abs(slope))
    assert float(eigenvalue(X, k).eval(X=X0)) == pytest.approx(np.linalg.eigvalsh(X0)[k], abs=1e-13)


def test_eigenvalues_of_matrices_of_different_sizes_combine():
    X, Y = amd.var("X", (3, 3), symmetric=True), amd.var("Y", (4, 4), symmetric=True)
    gap = eigenvalue(Y, 0) - eigenvalue(X, 0)
    assert float(gap.eval(X=np.diag([1.0, 2.0, 3.0]), Y=np.diag([5.0, 6.0, 7.0, 8.0]))) == 4.0


# ------------------------------------------------------------------------ Newton on det(A − λI) = 0
def _starts(roots: np.ndarray) -> list[tuple[float, float]]:
    """(root, start) pairs: each root approached from a tenth of the way to its nearest neighbour."""
    gaps = np.array([np.min(np.abs(np.delete(roots, i) - r)) for i, r in enumerate(roots)])
    return [(r, r + 0.1 * g) for r, g in zip(roots, gaps, strict=True)]


def _converged_quadratically(steps: tuple[float, ...]) -> bool:
    """Past the first steps each step is at most a fixed multiple of the square of the one before."""
    tail = [s for s in steps if s > 1e-13][-3:]
    return all(b <= 10 * a * a for a, b in pairwise(tail))


def test_newton_finds_every_eigenvalue_of_a_symmetric_matrix():
    A = symmetric(np.random.default_rng(1))
    for root, start in _starts(np.linalg.eigvalsh(A)):
        found = newton_eigenvalue(A, start)
        assert found.value == pytest.approx(root, abs=1e-12), (root, start, found)
        assert found.iterations <= 8 and _converged_quadratically(found.steps), found


def test_newton_on_a_nonsymmetric_matrix_with_real_eigenvalues():
    rng = np.random.default_rng(2)
    S = rng.standard_normal((N, N)) + 3 * np.eye(N)
    A = S @ np.diag(np.arange(1.0, N + 1)) @ np.linalg.inv(S)
    eigenvalues = np.sort(np.linalg.eigvals(A).real)
    for root, start in _starts(eigenvalues):
        assert newton_eigenvalue(A, start).value == pytest.approx(root, abs=1e-9)


def test_determinant_negative_stationary_singular_and_rootless():
    A = np.diag([1.0, 3.0])
    assert np.linalg.det(A - 2.5 * np.eye(2)) < 0
    assert newton_eigenvalue(A, 2.5).value == pytest.approx(3.0, abs=1e-14)  # det < 0 on the way
    assert newton_eigenvalue(A, 3.0).iterations == 0  # exactly singular: the start is the root
    with pytest.raises(ArithmeticError, match="stationary"):
        newton_eigenvalue(A, 2.0)  # det(A − λI) = (1 − λ)(3 − λ) has its minimum at 2
    with pytest.raises(RuntimeError, match="did not converge"):
        newton_eigenvalue([[0.0, 1.0], [-1.0, 0.0]], 0.3, maxiter=20)  # eigenvalues ±i: no real root


# ------------------------------------------------------------------------------ nonlinear eigenvalues
def _delay(A: np.ndarray, B: np.ndarray) -> tuple[amd.Expr, amd.Expr]:
    """``M(λ) = A − λI + e^{−λ} B``: ``ẋ(t) = A x(t) + B x(t − 1)`` has the solutions ``e^{λt} x`` with
    ``M(λ) x = 0``."""
    lam = amd.var("lam", ())
    return amd.const("A", A) - lam * amd.eye(A.shape[0]) + amd.exp(-lam) * amd.const("B", B), lam


def test_delay_eigenvalues_of_commuting_matrices_are_lambert_w():
    """``A = Q diag(a) Qᵀ``, ``B = Q diag(b) Qᵀ``: ``det M(λ) = Πᵢ (aᵢ − λ + e^{−λ} bᵢ)``, whose real roots for
    ``bᵢ > 0`` are ``λᵢ = aᵢ + W₀(bᵢ e^{−aᵢ})``."""
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.standard_normal((N, N)))[0]
    a, b = np.linspace(-2.0, 2.0, N), rng.uniform(0.2, 1.0, N)
    M, lam = _delay(Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T)
    roots = a + scipy.special.lambertw(b * np.exp(-a), 0).real
    for root, start in _starts(roots):
        assert nonlinear_eigenvalue(M, lam, start).value == pytest.approx(root, abs=1e-12)


def test_delay_eigenvalue_makes_M_singular():
    rng = np.random.default_rng(4)
    A, B = symmetric(rng), rng.standard_normal((N, N)) / 3
    M, lam = _delay(A, B)
    root = nonlinear_eigenvalue(M, lam, 0.5).value
    M_star = A - root * np.eye(N) + np.exp(-root) * B
    sigma = np.linalg.svd(M_star, compute_uv=False)
    assert sigma[-1] <= 1e-14 * sigma[0]
    assert abs(np.linalg.det(M_star)) <= 1e-13 * np.prod(sigma[:-1])
    assert float(amd.det(M).eval(lam=root)) == pytest.approx(np.linalg.det(M_star), abs=1e-13)


def test_quadratic_eigenvalues_against_the_companion_linearization():
    """``M(λ) = λ² I + λ C + K`` with ``C`` much larger than ``K`` (an overdamped system): ``2n`` real
    eigenvalues, those of ``[[0, I], [−K, −C]]``."""
    rng = np.random.default_rng(5)
    C = 10 * np.eye(N) + symmetric(rng)
    G = rng.standard_normal((N, N))
    K = G @ G.T / N + np.eye(N)
    lam = amd.var("lam", ())
    M = lam * lam * amd.eye(N) + lam * amd.const("C", C) + amd.const("K", K)
    companion = np.block([[np.zeros((N, N)), np.eye(N)], [-K, -C]])
    eigenvalues = scipy.linalg.eigvals(companion)
    assert np.max(np.abs(eigenvalues.imag)) == 0.0
    for root, start in _starts(np.sort(eigenvalues.real)):
        assert nonlinear_eigenvalue(M, lam, start).value == pytest.approx(root, abs=1e-10 * max(1.0, abs(root)))


# -------------------------------------------------------------------------------- exponential fit
def _trajectory(rng: np.random.Generator, n: int = 4):
    X_true = rng.standard_normal((n, n)) / 2 - 0.5 * np.eye(n)
    return X_true, rng.standard_normal(n), 0.5 * np.arange(1, n + 2)


def test_fit_expm_recovers_the_system_from_one_trajectory():
    X_true, v, times = _trajectory(np.random.default_rng(6))
    observations = [scipy.linalg.expm(t * X_true) @ v for t in times]
    result = fit_expm(times, v, observations, tol=1e-12)
    assert result.success and result.fun <= 1e-20
    np.testing.assert_allclose(result.X, X_true, atol=1e-6)
    for t in (0.25, 3.0):  # between the samples and past them
        np.testing.assert_allclose(scipy.linalg.expm(t * result.X) @ v, scipy.linalg.expm(t * X_true) @ v, atol=1e-8)


def test_fit_expm_objective_and_gradient_against_scipy():
    rng = np.random.default_rng(7)
    X_true, v, times = _trajectory(rng)
    V = np.column_stack([v, rng.standard_normal(v.size)])
    observations = [scipy.linalg.expm(t * X_true) @ V for t in times]
    phi = expm_fit_objective(times, V, observations)
    X0 = rng.standard_normal(X_true.shape) / 2
    residuals = [scipy.linalg.expm(t * X0) @ V - B for t, B in zip(times, observations, strict=True)]
    gradient = sum(2 * t * scipy.linalg.expm_frechet(t * X0.T, R @ V.T, compute_expm=False)
                   for t, R in zip(times, residuals, strict=True))
    value, G = amd.value_and_grad(phi, "X", X=X0)
    assert float(value) == pytest.approx(sum(np.sum(R * R) for R in residuals), rel=1e-12)
    np.testing.assert_allclose(G, gradient, rtol=1e-10, atol=1e-12)


def test_fit_expm_refuses_mismatched_data():
    with pytest.raises(ValueError, match="one observation per time"):
        fit_expm([1.0, 2.0], np.ones(3), [np.ones(3)])
    with pytest.raises(amd.ShapeError, match="shape of V"):
        fit_expm([1.0], np.ones(3), [np.ones(2)])

"""Implicit Jacobians inside scipy's Krylov solvers: the Jacobian of ``X^{1/2}`` (the lazy inverse of a
Kronecker sum) in ``gmres``, ``cg`` and ``eigsh``, and Sylvester / Lyapunov equations as ``KronSum``
operators solved by a Krylov method and by Bartels–Stewart, all against independent references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse.linalg as spla
from amd_reference import near_identity, spd

import kronbox as kb
from kronbox import amd


def _sqrtm_jacobian(A: np.ndarray):
    n = A.shape[0]
    return amd.jacobian(amd.sqrtm(amd.var("X", (n, n))), "X").at(X=A)


@pytest.mark.parametrize("kind", [spd, near_identity], ids=["spd", "general"])
def test_the_sqrtm_jacobian_is_the_inverse_of_a_kronecker_sum(kind):
    """Row-major: ``∂vec(X^{1/2})/∂vec(X) = (R ⊗ I + I ⊗ Rᵀ)⁻¹``, ``R = X^{1/2}``; and it is the derivative."""
    rng = np.random.default_rng(0)
    n = 5
    A = kind(rng, n)
    J = _sqrtm_jacobian(A)
    R, I = np.real(scipy.linalg.sqrtm(A)), np.eye(n)
    dense = np.linalg.inv(np.kron(R, I) + np.kron(I, R.T))
    V = rng.standard_normal((n * n, 3))
    np.testing.assert_allclose(J @ V, dense @ V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(J.T @ V, dense.T @ V, rtol=1e-10, atol=1e-12)
    h, D = 1e-6, V[:, 0].reshape(n, n)
    fd = (np.real(scipy.linalg.sqrtm(A + h * D)) - np.real(scipy.linalg.sqrtm(A - h * D))) / (2 * h)
    np.testing.assert_allclose((J @ V[:, 0]).reshape(n, n), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind, solver", [(spd, "cg"), (spd, "gmres"), (near_identity, "gmres")],
                         ids=["spd-cg", "spd-gmres", "general-gmres"])
def test_krylov_solves_with_the_sqrtm_jacobian_recover_the_sylvester_operator(kind, solver):
    """``J x = vec(B)`` has ``x = vec(R B + B R)``: each Krylov step applies ``J``, a Sylvester solve."""
    rng = np.random.default_rng(1)
    n = 12
    A = kind(rng, n)
    J = _sqrtm_jacobian(A)
    B = rng.standard_normal((n, n))
    x, info = getattr(spla, solver)(J, B.ravel(), rtol=1e-12, maxiter=500)
    assert info == 0
    R = np.real(scipy.linalg.sqrtm(A))
    np.testing.assert_allclose(x.reshape(n, n), R @ B + B @ R, rtol=1e-8, atol=1e-9)


def test_the_condition_number_of_the_square_root_by_eigsh():
    """For SPD ``A`` the Jacobian is symmetric with eigenvalues ``1/(√λᵢ + √λⱼ)``: ``‖J‖₂ = 1/(2√λ_min)``, and
    the relative condition number of ``A ↦ A^{1/2}`` in the 2-norm is ``‖J‖₂ ‖A‖₂ / ‖A^{1/2}‖₂ = √κ(A)/2``."""
    rng = np.random.default_rng(2)
    n = 30
    A = spd(rng, n)
    J = _sqrtm_jacobian(A)
    largest = spla.eigsh(J, k=1, which="LA", tol=1e-10)[0][0]
    smallest = spla.eigsh(J, k=1, which="SA", tol=1e-10)[0][0]
    lam = np.linalg.eigvalsh(A)
    assert largest == pytest.approx(1 / (2 * np.sqrt(lam[0])), rel=1e-8)
    assert smallest == pytest.approx(1 / (2 * np.sqrt(lam[-1])), rel=1e-8)
    condition = largest * lam[-1] / np.sqrt(lam[-1])
    assert condition == pytest.approx(np.sqrt(lam[-1] / lam[0]) / 2, rel=1e-8)


def test_a_lyapunov_equation_by_gmres_and_by_bartels_stewart():
    """``A X + X Aᵀ = C`` is ``(A ⊕ A) vec(X) = vec(C)`` (row-major ``KronSum(A, A)``)."""
    rng = np.random.default_rng(3)
    n = 40
    A, C = near_identity(rng, n), rng.standard_normal((n, n))
    L = kb.KronSum(A, A)
    reference = scipy.linalg.solve_continuous_lyapunov(A, C)
    x, info = spla.gmres(L, C.ravel(), rtol=1e-12, restart=60, maxiter=20)
    assert info == 0
    np.testing.assert_allclose(x.reshape(n, n), reference, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(L.solve(C.ravel()).reshape(n, n), reference, rtol=1e-10, atol=1e-12)


def test_a_sylvester_equation_by_bicgstab_and_by_bartels_stewart():
    """``A X + X Bᵀ = C`` with ``A`` ``m×m`` and ``B`` ``n×n``: a rectangular unknown."""
    rng = np.random.default_rng(4)
    m, n = 15, 25
    A, B, C = near_identity(rng, m), near_identity(rng, n), rng.standard_normal((m, n))
    L = kb.KronSum(A, B)
    reference = scipy.linalg.solve_sylvester(A, B.T, C)
    x, info = spla.bicgstab(L, C.ravel(), rtol=1e-12, maxiter=500)
    assert info == 0
    np.testing.assert_allclose(x.reshape(m, n), reference, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(L.solve(C.ravel()).reshape(m, n), reference, rtol=1e-10, atol=1e-12)

"""Closed-form det / slogdet / logdet / inv / solve against dense numpy references.

Every reference is built without kronbox: ``np.kron``, an einsum of the box definition
``(A ⊠ B)[(ij),(kl)] = A[i,l] B[j,k]``, index arithmetic for the commutation matrix, and
``np.linalg.{det, slogdet, inv, solve}`` of those dense matrices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import random as rand

import kronbox as kb
from kronbox.linalg.krylov import ConvergenceError, krylov_solve

DTYPES = (np.float32, np.float64, np.complex128)
SETTINGS = settings(max_examples=25, deadline=None)


def well_conditioned(rng, n, dtype=np.float64):
    """A random ``n×n`` matrix with its diagonal shifted away from singularity."""
    return (rand(rng, (n, n), dtype) + 3 * np.sqrt(n) * np.eye(n)).astype(dtype)


def box_dense(A, B):
    (m1, n1), (m2, n2) = A.shape, B.shape
    return np.einsum("il,jk->ijkl", A, B).reshape(m1 * m2, n1 * n2)


def commutation_dense(m, n):
    """``K vec(X) = vec(Xᵀ)`` for ``X`` of shape ``n×m``: row ``(i, j)`` of ``Xᵀ`` is entry ``(j, i)`` of ``X``."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1
    return K


def tol(dtype):
    return 2e-3 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-9


def assert_slogdet(actual, dense, dtype):
    sign, logabsdet = np.linalg.slogdet(dense.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64))
    assert actual.sign == pytest.approx(sign, abs=tol(dtype))
    assert actual.logabsdet == pytest.approx(logabsdet, abs=tol(dtype) * max(1, abs(logabsdet)))


def assert_solves(x, dense, b, dtype):
    expected = np.linalg.solve(dense.astype(np.complex128 if np.iscomplexobj(dense) else np.float64), b)
    np.testing.assert_allclose(x, expected, rtol=tol(dtype), atol=tol(dtype) * np.abs(expected).max())


sizes = st.integers(1, 4)
dtypes = st.sampled_from(DTYPES)


# ------------------------------------------------------------------------------ determinants
def structured_cases(rng, m1, m2, dtype):
    """``(operator, dense reference)`` for every operator type with a determinant closed form."""
    A, B = well_conditioned(rng, m1, dtype), well_conditioned(rng, m2, dtype)
    C, D = well_conditioned(rng, m1, dtype), well_conditioned(rng, m2, dtype)
    d = rand(rng, m1 * m2, dtype)
    c = 1.5 - 0.5j if np.dtype(dtype).kind == "c" else -1.5
    I1, I2 = np.eye(m1), np.eye(m2)
    return [
        (kb.Kron(A, B), np.kron(A, B)),
        (kb.Box(A, B), box_dense(A, B)),
        (kb.Commutation(m1, m2), commutation_dense(m1, m2)),
        (kb.Diag(d), np.diag(d)),
        (kb.Identity((m1, m2)), np.eye(m1 * m2)),
        (kb.Scaled(c, kb.Kron(A, B)), c * np.kron(A, B)),
        (kb.Transpose(kb.Box(A, B)), box_dense(A, B).T),
        (kb.Compose(kb.Kron(A, B), kb.Box(C, D), kb.Diag(d)), np.kron(A, B) @ box_dense(C, D) @ np.diag(d)),
        (kb.Dense(np.kron(A, B)), np.kron(A, B)),
        (kb.Dense(sp.csr_array(np.kron(A, B))), np.kron(A, B)),
        (kb.Kron(sp.csr_array(A), kb.Dense(B)), np.kron(A, B)),
        (kb.Kron(A, kb.Box(B, I1)), np.kron(A, box_dense(B, I1))),
        (kb.KronSum(A, B), np.kron(A, I2) + np.kron(I1, B)),
        (2 * kb.Kron(A, B) - 0.5 * kb.Kron(C, D), 2 * np.kron(A, B) - 0.5 * np.kron(C, D)),
        (kb.Inverse(kb.Kron(A, B)), np.linalg.inv(np.kron(A, B))),
    ]


@SETTINGS
@given(m1=sizes, m2=sizes, dtype=dtypes, seed=st.integers(0, 2**16))
def test_slogdet_and_det_match_dense(m1, m2, dtype, seed):
    for op, dense in structured_cases(np.random.default_rng(seed), m1, m2, dtype):
        assert_slogdet(op.slogdet(), dense, dtype)
        expected = np.linalg.det(dense.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64))
        assert op.det() == pytest.approx(expected, rel=tol(dtype) * 10), repr(op)


@pytest.mark.parametrize("m1", range(1, 6))
@pytest.mark.parametrize("m2", range(1, 6))
def test_box_determinant_sign(m1, m2):
    rng = np.random.default_rng(100 * m1 + m2)
    A, B = rand(rng, (m1, m1)), rand(rng, (m2, m2))
    dense = np.linalg.det(box_dense(A, B))
    assert kb.Box(A, B).det() == pytest.approx(dense, rel=1e-9)
    assert np.sign(kb.Box(A, B).det()) == np.sign(dense)
    expected_sign = (-1) ** (math.comb(m1, 2) * math.comb(m2, 2))
    assert kb.Commutation(m1, m2).det() == np.linalg.det(commutation_dense(m1, m2)) == pytest.approx(expected_sign)


def test_slogdet_does_not_overflow():
    rng = np.random.default_rng(1)
    A, B = 10 * rand(rng, (30, 30)), 10 * rand(rng, (30, 30))
    dense = np.kron(A, B)
    with np.errstate(over="ignore"):
        assert np.isinf(np.linalg.det(dense))  # the number itself overflows float64
    assert_slogdet(kb.Kron(A, B).slogdet(), dense, np.float64)
    assert_slogdet(kb.Box(A, B).slogdet(), box_dense(A, B), np.float64)
    assert np.isinf(kb.Kron(A, B).det())


def test_slogdet_at_200x200_factors_against_eigenvalues():
    """``eig(A ⊗ B) = {λᵢ μⱼ}``: an independent route to ``log|det|`` (the 40000² matrix is never formed)."""
    rng = np.random.default_rng(2)
    A, B = 5 * rand(rng, (200, 200)), 5 * rand(rng, (200, 200))
    lam, mu = np.linalg.eigvals(A), np.linalg.eigvals(B)
    pairs = lam[:, None] * mu[None, :]
    sign = np.prod(pairs / np.abs(pairs)).real
    logabsdet = np.log(np.abs(pairs)).sum()
    result = kb.Kron(A, B).slogdet()
    assert result.sign == np.sign(sign)
    assert result.logabsdet == pytest.approx(logabsdet, rel=1e-10)
    assert logabsdet > 800  # det itself would overflow


def test_logdet():
    rng = np.random.default_rng(3)
    A = well_conditioned(rng, 3)
    P = A @ A.T  # positive definite
    assert kb.Kron(P, P).logdet() == pytest.approx(np.log(np.linalg.det(np.kron(P, P))), rel=1e-10)
    N = -P
    assert np.linalg.det(np.kron(N, P)) < 0  # det(−P)³ det(P)³
    with pytest.raises(ValueError, match=r"negative.*slogdet"):
        kb.Kron(N, P).logdet()
    Z = well_conditioned(rng, 3, np.complex128)
    expected = np.log(np.linalg.det(np.kron(Z, Z[:2, :2])))
    assert kb.Kron(Z, Z[:2, :2]).logdet() == pytest.approx(expected, rel=1e-10)
    assert kb.Kron(np.zeros((2, 2)), P).logdet() == -np.inf


def test_structurally_singular_operators():
    rng = np.random.default_rng(4)
    A, B = rand(rng, (2, 3)), rand(rng, (3, 2))
    for op, dense in [
        (kb.Kron(A, B), np.kron(A, B)),
        (kb.Box(A, B), box_dense(A, B)),
        (kb.Outer(rand(rng, 4), rand(rng, 4)), None),
        (kb.Zero(3, 3), np.zeros((3, 3))),
        (kb.Compose(kb.Dense(rand(rng, (4, 2))), kb.Dense(rand(rng, (2, 4)))), None),
    ]:
        assert op.slogdet() == (0.0, -np.inf)
        assert op.det() == 0
        if dense is not None:
            assert abs(np.linalg.det(dense)) < 1e-12
        with pytest.raises(np.linalg.LinAlgError, match=r"singular|zero|rank"):
            op.inv()
        with pytest.raises(np.linalg.LinAlgError):
            op.solve(np.ones(op.shape[0]))


# ---------------------------------------------------------------------------------- inverse
@SETTINGS
@given(m1=sizes, m2=sizes, dtype=dtypes, seed=st.integers(0, 2**16))
def test_inv_matches_dense(m1, m2, dtype, seed):
    for op, dense in structured_cases(np.random.default_rng(seed), m1, m2, dtype):
        inverse = op.inv()
        assert isinstance(inverse, kb.Operator)
        expected = np.linalg.inv(dense.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64))
        scale = np.abs(expected).max()
        np.testing.assert_allclose(inverse.to_dense(), expected, rtol=tol(dtype), atol=tol(dtype) * scale)
        assert inverse.in_shape == op.out_shape and inverse.out_shape == op.in_shape


def test_inv_is_lazy_and_structured():
    rng = np.random.default_rng(5)
    A, B = well_conditioned(rng, 3), well_conditioned(rng, 4)
    assert isinstance(kb.Kron(A, B).inv(), kb.Kron)
    box_inverse = kb.Box(A, B).inv()
    assert isinstance(box_inverse, kb.Box)
    np.testing.assert_allclose(box_inverse.A, np.linalg.inv(B), rtol=1e-12)  # (A ⊠ B)⁻¹ = B⁻¹ ⊠ A⁻¹
    np.testing.assert_allclose(box_inverse.B, np.linalg.inv(A), rtol=1e-12)
    K = kb.Commutation(3, 4).inv()
    assert isinstance(K, kb.Commutation) and (K.m, K.n) == (4, 3)
    assert isinstance(kb.Diag(np.arange(1.0, 5.0)).inv(), kb.Diag)
    assert isinstance(kb.Scaled(2.0, kb.Kron(A, B)).inv(), kb.Scaled)
    assert isinstance(kb.Compose(kb.Kron(A, B), kb.Box(B, A)).inv(), kb.Compose)
    assert isinstance(kb.KronSum(A, B).inv(), kb.Inverse)
    identity = kb.Identity(5)
    assert identity.inv() is identity
    back = kb.Inverse(kb.Kron(A, B)).inv()
    assert isinstance(back, kb.Kron) and back.A.base is A  # the operator itself: a read-only view of A


def test_inv_of_large_kron_never_materializes():
    """``(A ⊗ B)⁻¹`` with 300×300 factors is a 90000² operator; only the factors get inverted."""
    rng = np.random.default_rng(6)
    A, B = well_conditioned(rng, 300), well_conditioned(rng, 300)
    inverse = kb.Kron(A, B).inv()
    X = rand(rng, (300, 300))
    Y = inverse.apply(kb.Kron(A, B).apply(X))
    np.testing.assert_allclose(Y, X, atol=1e-9)


# ------------------------------------------------------------------------------------ solve
@SETTINGS
@given(m1=sizes, m2=sizes, dtype=dtypes, k=st.sampled_from([None, 1, 3]), seed=st.integers(0, 2**16))
def test_solve_matches_dense(m1, m2, dtype, k, seed):
    rng = np.random.default_rng(seed)
    for op, dense in structured_cases(rng, m1, m2, dtype):
        b = rand(rng, op.shape[0] if k is None else (op.shape[0], k), dtype)
        x = op.solve(b)
        assert x.shape == b.shape
        assert_solves(x, dense, b, dtype)


def test_solve_many_right_hand_sides_in_one_call():
    rng = np.random.default_rng(7)
    A, B = well_conditioned(rng, 20), well_conditioned(rng, 15)
    b = rand(rng, (300, 40))
    cases = [(kb.Kron(A, B), np.kron(A, B)), (kb.Box(A, B), box_dense(A, B)), (kb.Kron(A, B).T, np.kron(A, B).T)]
    for op, dense in cases:
        assert_solves(op.solve(b), dense, b, np.float64)


def test_solve_and_inv_keep_float32():
    rng = np.random.default_rng(8)
    A, B = well_conditioned(rng, 4, np.float32), well_conditioned(rng, 3, np.float32)
    b = rand(rng, 12, np.float32)
    C = well_conditioned(rng, 4, np.float32)
    for op in [kb.Kron(A, B), kb.Box(A, B), kb.KronSum(A, B), kb.Diag(b), 2 * kb.Kron(A, B) + kb.Kron(C, np.eye(3))]:
        assert op.solve(b).dtype == np.float32, repr(op)
        assert op.inv().dtype == np.float32, repr(op)
        assert (op.inv() @ b).dtype == np.float32, repr(op)
    assert kb.Commutation(4, 3).solve(b).dtype == np.float32
    assert kb.Kron(A, B).solve(b.astype(np.float64)).dtype == np.float64


def test_solve_without_closed_form_small_uses_dense_lu():
    rng = np.random.default_rng(9)
    mats = [well_conditioned(rng, 4) for _ in range(6)]
    op = kb.Kron(mats[0], mats[1]) + kb.Kron(mats[2], mats[3]) + kb.Kron(mats[4], mats[5])
    dense = sum(np.kron(mats[2 * i], mats[2 * i + 1]) for i in range(3))
    b = rand(rng, (16, 2))
    assert_solves(op.solve(b), dense, b, np.float64)
    assert_slogdet(op.slogdet(), dense, np.float64)
    np.testing.assert_allclose(op.inv().to_dense(), np.linalg.inv(dense), rtol=1e-9)


def test_solve_without_closed_form_large_uses_krylov():
    """N = 2500 > 2048: GMRES on the lazy operator to rtol 1e-10 (MINRES when Hermitian)."""
    rng = np.random.default_rng(10)
    n = 50
    mats = [np.eye(n) * 4 + rand(rng, (n, n)) / (4 * np.sqrt(n)) for _ in range(4)]
    op = kb.Kron(mats[0], mats[1]) + kb.Kron(mats[2], mats[3]) + kb.Diag(np.full(n * n, 1.0))
    dense = np.kron(mats[0], mats[1]) + np.kron(mats[2], mats[3]) + np.eye(n * n)
    b = rand(rng, n * n)
    x = op.solve(b)
    assert np.linalg.norm(dense @ x - b) <= 1e-9 * np.linalg.norm(b)
    symmetric = [M + M.T for M in mats[:2]]
    op = kb.Kron(symmetric[0], symmetric[1]) + kb.Kron(symmetric[1], symmetric[0]) + kb.Diag(np.full(n * n, 1.0))
    dense = np.kron(symmetric[0], symmetric[1]) + np.kron(symmetric[1], symmetric[0]) + np.eye(n * n)
    x = op.solve(b)
    assert np.linalg.norm(dense @ x - b) <= 1e-9 * np.linalg.norm(b)


def test_krylov_reports_non_convergence():
    rng = np.random.default_rng(11)
    op = kb.Dense(rand(rng, (60, 60)))
    with pytest.raises(ConvergenceError, match=r"GMRES.*residual") as err:
        krylov_solve(op, rand(rng, (60, 1)), maxiter=3)
    assert isinstance(err.value, np.linalg.LinAlgError)


# -------------------------------------------------------------------------------- bad input
def test_non_square_is_a_value_error_with_the_shape():
    op = kb.Kron(np.ones((2, 3)), np.ones((2, 2)))
    for method in ("det", "slogdet", "logdet", "inv"):
        with pytest.raises(ValueError, match="4×6, not square"):
            getattr(op, method)()
    with pytest.raises(ValueError, match="4×6, not square"):
        op.solve(np.ones(4))


def test_singular_factors_are_named():
    rng = np.random.default_rng(12)
    A, S = well_conditioned(rng, 2), np.zeros((3, 3))
    cases = [
        (kb.Kron(S, A), r"Kron: the left factor \(3×3\) is singular"),
        (kb.Kron(A, S), r"Kron: the right factor \(3×3\) is singular"),
        (kb.Box(S, A), r"Box: the left factor \(3×3\) is singular"),
        (kb.Box(A, sp.csr_array(S)), r"Box: the right factor \(3×3\) is singular"),
        (kb.Kron(A, kb.Diag(np.array([1.0, 0.0, 2.0]))), r"Kron: the right factor \(3×3\) is singular"),
        (kb.Diag(np.array([1.0, 0.0])), r"diagonal entry 1 is zero"),
        (kb.Scaled(0.0, kb.Identity(3)), r"coefficient is zero"),
        (kb.Dense(S), r"Dense \(3×3\) is singular"),
    ]
    for op, message in cases:
        with pytest.raises(np.linalg.LinAlgError, match=message):
            op.inv()
        with pytest.raises(np.linalg.LinAlgError, match=message):
            op.solve(np.ones(op.shape[0]))
        assert op.slogdet().sign == 0


def test_wrong_right_hand_side_length():
    op = kb.Kron(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="expected a vector of length 6"):
        op.solve(np.ones(5))
    with pytest.raises(ValueError, match="expected a vector of length 6"):
        op.solve(np.ones((5, 2)))
    with pytest.raises(ValueError, match="numbers"):
        op.solve(np.array(["a"] * 6))


def test_inverse_of_a_sparse_factor_factorizes_it_once(monkeypatch):
    """``inv()`` checks a sparse factor by its LU and every later apply reuses that LU."""
    from kronbox.linalg import checks

    calls = []
    real_splu = checks.splu
    monkeypatch.setattr(checks, "splu", lambda M: calls.append(M.shape) or real_splu(M))
    rng = np.random.default_rng(3)
    S = sp.random(30, 30, density=0.2, random_state=4, format="csr") + 5 * sp.eye(30)
    A = rand(rng, (4, 4)) + 4 * np.eye(4)
    inverse = kb.Kron(S, A).inv()
    dense = np.linalg.inv(np.kron(S.toarray(), A))
    for _ in range(3):
        x = rng.standard_normal(120)
        np.testing.assert_allclose(inverse @ x, dense @ x, rtol=1e-10)
    assert calls == [(30, 30)]

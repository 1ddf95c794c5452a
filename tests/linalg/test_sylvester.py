"""Kronecker sums ``A ⊗ I + I ⊗ B`` and their Bartels–Stewart solves, against dense references.

References: ``np.kron(A, I) + np.kron(I, B)``, ``np.linalg.solve`` / ``slogdet`` of it, and
``scipy.linalg.solve_sylvester`` (which solves ``a X + X b = q``).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits
from zoo import random as rand

import kronbox as kb
from kronbox.check import dot_test
from kronbox.linalg.sylvester import as_kronecker_sum

DTYPES = (np.float32, np.float64, np.complex128)
SETTINGS = settings(max_examples=25, deadline=None)


def shifted(rng, n, dtype=np.float64, shift=None):
    """Random ``n×n`` with a positive diagonal shift, so that ``A ⊕ B`` is safely invertible."""
    shift = 3 * np.sqrt(n) if shift is None else shift
    return (rand(rng, (n, n), dtype) + shift * np.eye(n)).astype(dtype)


def hermitian(rng, n, dtype=np.float64):
    M = rand(rng, (n, n), dtype)
    return (M @ M.conj().T + np.eye(n)).astype(dtype)


def kronsum_dense(A, B):
    return np.kron(A, np.eye(B.shape[0])) + np.kron(np.eye(A.shape[0]), B)


def tol(dtype):
    return 2e-3 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-9


def assert_solves(x, dense, b, dtype):
    expected = np.linalg.solve(dense.astype(np.complex128 if np.iscomplexobj(dense) else np.float64), b)
    np.testing.assert_allclose(x, expected, rtol=tol(dtype), atol=tol(dtype) * np.abs(expected).max())


sizes = st.integers(1, 6)


# ------------------------------------------------------------------------- the operator
@SETTINGS
@given(m1=sizes, m2=sizes, dtype=st.sampled_from(DTYPES), k=st.sampled_from([1, 3]), seed=st.integers(0, 2**16))
def test_kronsum_applies_like_its_dense_twin(m1, m2, dtype, k, seed):
    rng = np.random.default_rng(seed)
    A, B = rand(rng, (m1, m1), dtype), rand(rng, (m2, m2), dtype)
    op, dense = kb.KronSum(A, B), kronsum_dense(A, B)
    X = rand(rng, (m1 * m2, k), dtype)
    for lazy, twin in [(op, dense), (op.T, dense.T), (op.H, dense.conj().T)]:
        np.testing.assert_allclose(lazy @ X, twin @ X, rtol=tol(dtype), atol=tol(dtype) * np.abs(twin @ X).max())
    np.testing.assert_allclose(op.to_dense(), dense, rtol=tol(dtype))
    assert op.dtype == dtype
    assert dot_test(op)


def test_kronsum_is_the_sylvester_operator():
    """Row-major ``vec``: ``(A ⊗ I + I ⊗ B) vec(X) = vec(A X + X Bᵀ)``; its solve is ``solve_sylvester(A, Bᵀ, C)``."""
    rng = np.random.default_rng(1)
    A, B, X, C = rand(rng, (4, 4)), rand(rng, (3, 3)), rand(rng, (4, 3)), rand(rng, (4, 3))
    op = kb.KronSum(A, B)
    np.testing.assert_allclose(op.apply(X), A @ X + X @ B.T, rtol=1e-12)
    expected = scipy.linalg.solve_sylvester(A, B.T, C)
    np.testing.assert_allclose(op.solve(C.ravel()).reshape(op.in_shape), expected, rtol=1e-10)
    np.testing.assert_allclose(op.solve(C.ravel()), np.linalg.solve(kronsum_dense(A, B), C.ravel()), rtol=1e-10)


def test_kronsum_rejects_non_square_factors():
    with pytest.raises(ValueError, match="KronSum: the right factor must be square, got 2×3"):
        kb.KronSum(np.eye(2), np.ones((2, 3)))


# ------------------------------------------------------------------------------- solves
@SETTINGS
@given(
    m1=sizes,
    m2=sizes,
    dtype=st.sampled_from(DTYPES),
    kinds=st.sampled_from(["general", "hermitian", "mixed"]),
    k=st.sampled_from([None, 1, 4]),
    seed=st.integers(0, 2**16),
)
def test_kronsum_solve_matches_dense(m1, m2, dtype, kinds, k, seed):
    rng = np.random.default_rng(seed)
    A = hermitian(rng, m1, dtype) if kinds != "general" else shifted(rng, m1, dtype)
    B = hermitian(rng, m2, dtype) if kinds == "hermitian" else shifted(rng, m2, dtype)
    op = kb.KronSum(A, B)
    b = rand(rng, m1 * m2 if k is None else (m1 * m2, k), dtype)
    x = op.solve(b)
    assert x.dtype == dtype and x.shape == b.shape
    assert_solves(x, kronsum_dense(A, B), b, dtype)
    np.testing.assert_allclose(op.inv() @ b, x, rtol=tol(dtype), atol=tol(dtype) * np.abs(x).max())
    sign, logabsdet = np.linalg.slogdet(kronsum_dense(A, B).astype(np.complex128 if dtype == np.complex128 else float))
    result = op.slogdet()
    assert result.sign == pytest.approx(sign, abs=tol(dtype))
    assert result.logabsdet == pytest.approx(logabsdet, abs=tol(dtype) * max(1, abs(logabsdet)))


@pytest.mark.parametrize(
    ("m1", "m2", "dtype", "kinds"),
    [
        (150, 97, np.float64, "general"),
        (70, 200, np.float64, "general"),
        (130, 90, np.complex128, "general"),
        (140, 80, np.float64, "mixed"),
        (100, 100, np.float32, "general"),
    ],
)
def test_blocked_triangular_solve_on_large_factors(m1, m2, dtype, kinds):
    """Factors beyond the 64-row blocks: the recursive solve (with the real Schur form's 2×2 blocks)."""
    rng = np.random.default_rng(m1 + m2)
    A = hermitian(rng, m1, dtype) if kinds == "mixed" else shifted(rng, m1, dtype, shift=2 * np.sqrt(m1))
    B = shifted(rng, m2, dtype, shift=2 * np.sqrt(m2))
    C = rand(rng, (m1, m2), dtype)
    x = kb.KronSum(A, B).solve(C.ravel())
    assert x.dtype == dtype
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    with threadpool_limits(1, user_api="blas"):  # two BLAS pools with two threads each thrash on 2 cores
        expected = scipy.linalg.solve_sylvester(A.astype(wide), B.T.astype(wide), C.astype(wide))
    np.testing.assert_allclose(x.reshape(m1, m2), expected, rtol=tol(dtype), atol=tol(dtype) * np.abs(expected).max())


def test_complex_right_hand_side_with_real_factors():
    rng = np.random.default_rng(2)
    A, B = shifted(rng, 5), shifted(rng, 4)
    b = rand(rng, (20, 3), np.complex128)
    x = kb.KronSum(A, B).solve(b)
    assert x.dtype == np.complex128
    assert_solves(x, kronsum_dense(A, B), b, np.float64)


def test_schur_forms_are_computed_once_per_operator():
    rng = np.random.default_rng(3)
    op = kb.KronSum(shifted(rng, 6), shifted(rng, 5))
    first = op.sylvester
    b = rand(rng, (30, 2))
    x = op.solve(b)
    assert op.sylvester is first
    np.testing.assert_allclose(op.solve(b), x)


@pytest.mark.parametrize("symmetric", [False, True])
def test_singular_kronsum_is_reported(symmetric):
    """``λ(A) + μ(B) = 0`` for a pair: ``A = diag(1, 2)`` and ``B`` with the eigenvalue −2."""
    rng = np.random.default_rng(4)
    if symmetric:
        Q = np.linalg.qr(rand(rng, (3, 3)))[0]
        B = Q @ np.diag([-2.0, 5.0, 7.0]) @ Q.T
        B = (B + B.T) / 2
    else:
        B = np.diag([-2.0, 5.0, 7.0]) + np.triu(rand(rng, (3, 3)), 1)
    A = np.diag([1.0, 2.0])
    assert abs(np.linalg.det(kronsum_dense(A, B))) < 1e-10
    with pytest.raises(np.linalg.LinAlgError, match=r"common .*eigenvalue"):
        kb.KronSum(A, B).solve(np.ones(6))


# ---------------------------------------------------------- Kronecker sums inside a Sum
def test_sum_of_krons_with_identity_factors_is_recognized():
    rng = np.random.default_rng(5)
    A, B = shifted(rng, 4), shifted(rng, 3)
    b = rand(rng, (12, 2))
    for op in [
        kb.Kron(A, kb.Identity(3)) + kb.Kron(kb.Identity(4), B),
        kb.Kron(np.eye(4), B) + kb.Kron(A, np.eye(3)),
    ]:
        outer, kronsum = as_kronecker_sum(op)
        assert outer is None and isinstance(kronsum, kb.KronSum)
        assert_solves(op.solve(b), kronsum_dense(A, B), b, np.float64)
        np.testing.assert_allclose(op.inv().to_dense(), np.linalg.inv(kronsum_dense(A, B)), rtol=1e-9)


@SETTINGS
@given(m1=sizes, m2=sizes, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_general_two_term_sum_reduces_to_sylvester(m1, m2, dtype, seed):
    """``α (A ⊗ B) + β (C ⊗ D) = (C ⊗ B)(α C⁻¹A ⊕ β B⁻¹D)``."""
    rng = np.random.default_rng(seed)
    A, B, C, D = (shifted(rng, m, dtype) for m in (m1, m2, m1, m2))
    alpha, beta = 1.5, -0.75
    op = alpha * kb.Kron(A, B) + beta * kb.Kron(C, D)
    dense = alpha * np.kron(A, B) + beta * np.kron(C, D)
    split = as_kronecker_sum(op)
    assert split is not None and isinstance(split[1], kb.KronSum)
    b = rand(rng, (m1 * m2, 2), dtype)
    x = op.solve(b)
    assert x.dtype == dtype
    assert_solves(x, dense, b, dtype)
    expected = np.linalg.inv(dense.astype(np.complex128 if dtype == np.complex128 else float))
    scale = np.abs(expected).max()
    np.testing.assert_allclose(op.inv().to_dense(), expected, rtol=tol(dtype), atol=tol(dtype) * scale)
    sign, logabsdet = np.linalg.slogdet(dense.astype(np.complex128 if dtype == np.complex128 else float))
    assert op.slogdet().sign == pytest.approx(sign, abs=tol(dtype))
    assert op.slogdet().logabsdet == pytest.approx(logabsdet, abs=tol(dtype) * max(1, abs(logabsdet)))


def test_reduction_uses_the_other_pair_when_one_is_singular():
    """``C`` singular: ``(A ⊗ D)(β A⁻¹C ⊕ α D⁻¹B)`` still works."""
    rng = np.random.default_rng(6)
    A, B, D = shifted(rng, 3), shifted(rng, 4), shifted(rng, 4)
    C = np.diag([1.0, 0.0, 2.0])
    op = kb.Kron(A, B) + kb.Kron(C, D)
    dense = np.kron(A, B) + np.kron(C, D)
    outer, _ = as_kronecker_sum(op)
    np.testing.assert_array_equal(outer.A, A)
    b = rand(rng, 12)
    assert_solves(op.solve(b), dense, b, np.float64)


def test_sums_that_are_not_kronecker_sums_fall_back():
    rng = np.random.default_rng(7)
    A, B = shifted(rng, 2), shifted(rng, 3)
    op = kb.Kron(A, B) + kb.Kron(B, A)  # 6×6, but factor sizes do not line up
    assert as_kronecker_sum(op) is None
    dense = np.kron(A, B) + np.kron(B, A)
    b = rand(rng, 6)
    assert_solves(op.solve(b), dense, b, np.float64)


def test_repeated_solves_with_a_sum_reuse_its_schur_forms(monkeypatch):
    """``α (A ⊗ I) + β (I ⊗ B)`` is recognized once; later solves reuse the Kronecker sum and its Schur forms."""
    from kronbox.linalg import sylvester

    calls = []
    real_schur_form = sylvester._schur_form
    monkeypatch.setattr(sylvester, "_schur_form", lambda F: calls.append(F.shape) or real_schur_form(F))
    rng = np.random.default_rng(11)
    A, B = rand(rng, (5, 5)) + 4 * np.eye(5), rand(rng, (6, 6)) + 4 * np.eye(6)
    op = 2.0 * kb.Kron(A, np.eye(6)) + 3.0 * kb.Kron(np.eye(5), B)
    dense = 2.0 * np.kron(A, np.eye(6)) + 3.0 * np.kron(np.eye(5), B)
    for _ in range(3):
        b = rng.standard_normal(30)
        np.testing.assert_allclose(op.solve(b), np.linalg.solve(dense, b), rtol=1e-9)
    assert len(calls) == 2  # one Schur form per factor, once

"""The identities of docs/identities.md on random rectangular factors, checked both ways.

Each identity ``lhs = rhs`` is checked (1) on dense matrices built with numpy alone (``np.kron``, the
einsum of the box definition, the commutation permutation), (2) against the lazy kronbox operators
of both sides, (3) by ``simplify()`` turning the left side into the right side's structure, and (4)
by ``kb.check.identity`` in both directions. ``check.identity`` itself is tested at the end.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import box_twin, commutation_twin

import kronbox as kb

dims = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)
FAST = settings(max_examples=25, deadline=None)


def rand(rng, *shape):
    return rng.standard_normal(shape)


def assert_identity(lhs_op, rhs_op, lhs_dense, rhs_dense, simplified_type=None):
    """``lhs = rhs``: as dense matrices, as lazy operators, through simplify() and check.identity.

    ``simplified_type`` (if given) is the structure ``lhs.simplify()`` must have.
    """
    np.testing.assert_allclose(lhs_dense, rhs_dense, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(lhs_op.to_dense(), lhs_dense, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(rhs_op.to_dense(), rhs_dense, rtol=1e-11, atol=1e-11)
    simplified = lhs_op.simplify()
    if simplified_type:
        assert isinstance(simplified, simplified_type), simplified
    np.testing.assert_allclose(simplified.to_dense(), rhs_dense, rtol=1e-11, atol=1e-11)
    assert simplified.matvec_flops() <= lhs_op.matvec_flops()
    assert kb.check.identity(lhs_op, rhs_op)
    assert kb.check.identity(rhs_op, lhs_op)


# ------------------------------------------------------------------------------- connectors
@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, seed=seeds)
def test_connector_kron_to_box(m1, n1, m2, n2, seed):
    """``(A ⊗ B)(I_{n1} ⊠ I_{n2}) = A ⊠ B``."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    assert_identity(
        kb.Kron(A, B) @ kb.Commutation(n1, n2),
        kb.Box(A, B),
        np.kron(A, B) @ commutation_twin(n1, n2, float),
        box_twin(A, B),
        kb.Box,
    )


@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, seed=seeds)
def test_connector_box_to_kron(m1, n1, m2, n2, seed):
    """``(A ⊠ B)(I_{n2} ⊠ I_{n1}) = A ⊗ B``."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    assert_identity(
        kb.Box(A, B) @ kb.Commutation(n2, n1),
        kb.Kron(A, B),
        box_twin(A, B) @ commutation_twin(n2, n1, float),
        np.kron(A, B),
        kb.Kron,
    )


@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, seed=seeds)
def test_commutation_from_the_left(m1, n1, m2, n2, seed):
    """``K_{m2,m1} (A ⊗ B) = B ⊠ A`` and ``K_{m2,m1} (A ⊠ B) = B ⊗ A``."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    K = commutation_twin(m2, m1, float)
    assert_identity(kb.Commutation(m2, m1) @ kb.Kron(A, B), kb.Box(B, A), K @ np.kron(A, B), box_twin(B, A), kb.Box)
    assert_identity(kb.Commutation(m2, m1) @ kb.Box(A, B), kb.Kron(B, A), K @ box_twin(A, B), np.kron(B, A), kb.Kron)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 4), (3, 1), (2, 3), (4, 4)])
def test_commutation_is_orthogonal(m, n):
    """``(I_m ⊠ I_n)ᵀ (I_m ⊠ I_n) = I`` and ``K_{m,n} K_{n,m} = I``."""
    K = commutation_twin(m, n, float)
    np.testing.assert_array_equal(commutation_twin(m, n, float), box_twin(np.eye(m), np.eye(n)))
    for lhs in (kb.Transpose(kb.Commutation(m, n)) @ kb.Commutation(m, n), kb.Commutation(n, m) @ kb.Commutation(m, n)):
        assert_identity(lhs, kb.Identity(m * n), K.T @ K, np.eye(m * n), kb.Identity)


# --------------------------------------------------------------------------- mixed products
@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, p1=dims, p2=dims, seed=seeds)
def test_mixed_product_kron_kron(m1, n1, m2, n2, p1, p2, seed):
    """``(A ⊗ B)(C ⊗ D) = (AC) ⊗ (BD)``."""
    rng = np.random.default_rng(seed)
    A, B, C, D = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, n1, p1), rand(rng, n2, p2)
    assert_identity(
        kb.Kron(A, B) @ kb.Kron(C, D), kb.Kron(A @ C, B @ D), np.kron(A, B) @ np.kron(C, D), np.kron(A @ C, B @ D)
    )


@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, p1=dims, p2=dims, seed=seeds)
def test_mixed_product_box_box(m1, n1, m2, n2, p1, p2, seed):
    """``(A ⊠ B)(C ⊠ D) = (AD) ⊗ (BC)``: ``C`` is ``n2×p1``, ``D`` is ``n1×p2``."""
    rng = np.random.default_rng(seed)
    A, B, C, D = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, n2, p1), rand(rng, n1, p2)
    assert_identity(
        kb.Box(A, B) @ kb.Box(C, D), kb.Kron(A @ D, B @ C), box_twin(A, B) @ box_twin(C, D), np.kron(A @ D, B @ C)
    )


@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, p1=dims, p2=dims, seed=seeds)
def test_mixed_product_kron_box(m1, n1, m2, n2, p1, p2, seed):
    """``(A ⊗ B)(C ⊠ D) = (AC) ⊠ (BD)``."""
    rng = np.random.default_rng(seed)
    A, B, C, D = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, n1, p1), rand(rng, n2, p2)
    assert_identity(
        kb.Kron(A, B) @ kb.Box(C, D), kb.Box(A @ C, B @ D), np.kron(A, B) @ box_twin(C, D), box_twin(A @ C, B @ D)
    )


@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, p1=dims, p2=dims, seed=seeds)
def test_mixed_product_box_kron(m1, n1, m2, n2, p1, p2, seed):
    """``(A ⊠ B)(C ⊗ D) = (AD) ⊠ (BC)``: ``C`` is ``n2×p1``, ``D`` is ``n1×p2``."""
    rng = np.random.default_rng(seed)
    A, B, C, D = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, n2, p1), rand(rng, n1, p2)
    assert_identity(
        kb.Box(A, B) @ kb.Kron(C, D), kb.Box(A @ D, B @ C), box_twin(A, B) @ np.kron(C, D), box_twin(A @ D, B @ C)
    )


def test_the_slides_mixed_product_is_wrong():
    """The slides' ``(A ⊠ B)(C ⊠ D) = (AC) ⊠ (BD)`` fails (square factors, so both sides exist)."""
    rng = np.random.default_rng(0)
    A, B, C, D = (rand(rng, 3, 3) for _ in range(4))
    assert not np.allclose(box_twin(A, B) @ box_twin(C, D), box_twin(A @ C, B @ D))
    report = kb.check.identity(kb.Box(A, B) @ kb.Box(C, D), kb.Box(A @ C, B @ D))
    assert not report
    assert report.error > 0.1


# -------------------------------------------------------------------------------- transposes
@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, seed=seeds)
def test_transposes(m1, n1, m2, n2, seed):
    """``(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ`` and ``(A ⊠ B)ᵀ = Bᵀ ⊠ Aᵀ``."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    assert_identity(kb.Transpose(kb.Kron(A, B)), kb.Kron(A.T, B.T), np.kron(A, B).T, np.kron(A.T, B.T), kb.Kron)
    assert_identity(kb.Transpose(kb.Box(A, B)), kb.Box(B.T, A.T), box_twin(A, B).T, box_twin(B.T, A.T), kb.Box)


@FAST
@given(m=dims, n=dims, seed=seeds)
def test_inverses(m, n, seed):
    """``(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹`` and ``(A ⊠ B)⁻¹ = B⁻¹ ⊠ A⁻¹`` (well-conditioned square factors)."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m, m) + 3 * m * np.eye(m), rand(rng, n, n) + 3 * n * np.eye(n)
    Ai, Bi = np.linalg.inv(A), np.linalg.inv(B)
    np.testing.assert_allclose(np.linalg.inv(np.kron(A, B)), np.kron(Ai, Bi), atol=1e-12)
    np.testing.assert_allclose(np.linalg.inv(box_twin(A, B)), box_twin(Bi, Ai), atol=1e-12)
    assert kb.check.identity(kb.Kron(Ai, Bi) @ kb.Kron(A, B), kb.Identity(m * n))
    assert kb.check.identity(kb.Box(Bi, Ai) @ kb.Box(A, B), kb.Identity(m * n))
    assert isinstance((kb.Box(Bi, Ai) @ kb.Box(A, B)).simplify(), kb.Kron)
    # with a 1×1 factor the lazy inverse (2·(mn)² flops) is cheaper than the pushed one: no rewrite
    pushed = min(m, n) >= 2
    assert_identity(
        kb.Inverse(kb.Kron(A, B)), kb.Kron(Ai, Bi), np.linalg.inv(np.kron(A, B)), np.kron(Ai, Bi), pushed and kb.Kron
    )
    assert_identity(
        kb.Inverse(kb.Box(A, B)), kb.Box(Bi, Ai), np.linalg.inv(box_twin(A, B)), box_twin(Bi, Ai), pushed and kb.Box
    )


# ----------------------------------------------------------------------------------- traces
@FAST
@given(m=dims, n=dims, p=dims, q=dims, seed=seeds)
def test_traces(m, n, p, q, seed):
    """``tr(A ⊗ B) = tr A · tr B`` and ``tr(A ⊠ B) = tr(AB)`` (``A`` ``m×n``, ``B`` ``n×m``)."""
    rng = np.random.default_rng(seed)
    A, B = rand(rng, m, m), rand(rng, p, p)
    assert np.isclose(np.trace(np.kron(A, B)), np.trace(A) * np.trace(B))
    assert np.isclose(kb.Kron(A, B).trace(), np.trace(A) * np.trace(B))
    A, B = rand(rng, m, n), rand(rng, n, m)
    assert np.isclose(np.trace(box_twin(A, B)), np.trace(A @ B))
    assert np.isclose(kb.Box(A, B).trace(), np.trace(A @ B))


# ---------------------------------------------------------------------------- associativity
@FAST
@given(shapes=st.lists(st.tuples(dims, dims), min_size=3, max_size=3), seed=seeds)
def test_associativity_of_kron_and_of_box(shapes, seed):
    rng = np.random.default_rng(seed)
    A, B, C = (rand(rng, *s) for s in shapes)
    assert_identity(
        kb.Kron(kb.Kron(A, B), C), kb.Kron(A, kb.Kron(B, C)), np.kron(np.kron(A, B), C), np.kron(A, np.kron(B, C))
    )
    assert_identity(
        kb.Box(kb.Box(A, B), C),
        kb.Box(A, kb.Box(B, C)),
        box_twin(box_twin(A, B), C),
        box_twin(A, box_twin(B, C)),
    )


def test_mixed_products_do_not_associate():
    rng = np.random.default_rng(1)
    A, B, C = rand(rng, 2, 3), rand(rng, 3, 2), rand(rng, 2, 2)
    assert not kb.check.identity(kb.Box(kb.Kron(A, B), C), kb.Kron(A, kb.Box(B, C)))
    assert not kb.check.identity(kb.Kron(kb.Box(A, B), C), kb.Box(A, kb.Kron(B, C)))
    assert not np.allclose(box_twin(np.kron(A, B), C), np.kron(A, box_twin(B, C)))


# --------------------------------------------------------------------------- outer products
@FAST
@given(m1=dims, n1=dims, m2=dims, n2=dims, p=dims, q=dims, seed=seeds)
def test_absorption_into_outer_products(m1, n1, m2, n2, p, q, seed):
    """``(A ⊗ B) vec(C) vec(D)ᵀ = vec(A C Bᵀ) vec(D)ᵀ``, the box and right-hand versions."""
    rng = np.random.default_rng(seed)
    A, B, D = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, p, q)
    C = rand(rng, n1, n2)
    outer = np.outer(C.ravel(), D.ravel())
    assert_identity(
        kb.Kron(A, B) @ kb.Outer(C, D), kb.Outer(A @ C @ B.T, D), np.kron(A, B) @ outer,
        np.outer((A @ C @ B.T).ravel(), D.ravel()), kb.Outer,
    )
    C = rand(rng, n2, n1)
    outer = np.outer(C.ravel(), D.ravel())
    assert_identity(
        kb.Box(A, B) @ kb.Outer(C, D), kb.Outer(A @ C.T @ B.T, D), box_twin(A, B) @ outer,
        np.outer((A @ C.T @ B.T).ravel(), D.ravel()), kb.Outer,
    )
    # from the right: vec(D) vec(C)ᵀ (A ⊗ B) = vec(D) vec(Aᵀ C B)ᵀ with C of shape m1×m2
    C = rand(rng, m1, m2)
    outer = np.outer(D.ravel(), C.ravel())
    assert_identity(
        kb.Outer(D, C) @ kb.Kron(A, B), kb.Outer(D, A.T @ C @ B), outer @ np.kron(A, B),
        np.outer(D.ravel(), (A.T @ C @ B).ravel()), kb.Outer,
    )


# ---------------------------------------------------------------------------- check.identity
def test_check_identity_passes_on_a_true_identity_and_reports_numbers():
    rng = np.random.default_rng(2)
    A, B, C, D = rand(rng, 2, 3), rand(rng, 4, 5), rand(rng, 3, 2), rand(rng, 5, 3)
    report = kb.check.identity(kb.Kron(A, B) @ kb.Kron(C, D), kb.Kron(A @ C, B @ D))
    assert report.passed and report.error < 1e-13
    assert "identity: ok" in str(report)


def test_check_identity_fails_on_a_slightly_wrong_identity():
    rng = np.random.default_rng(3)
    A, B = rand(rng, 3, 3), rand(rng, 2, 2)
    wrong = A.copy()
    wrong[1, 2] += 1e-6
    report = kb.check.identity(kb.Kron(A, B), kb.Kron(wrong, B))
    assert not report
    assert 1e-9 < report.error < 1e-4
    assert "FAILED" in str(report)


def test_check_identity_with_mismatched_shapes_says_so():
    report = kb.check.identity(kb.Kron(np.ones((2, 3)), np.ones((4, 5))), kb.Kron(np.ones((3, 2)), np.ones((5, 4))))
    assert not report
    assert report.error == np.inf
    assert "shapes differ" in report.detail and "8×15" in report.detail and "15×8" in report.detail


def test_check_identity_accepts_arrays_and_complex_operators():
    rng = np.random.default_rng(4)
    A = rand(rng, 3, 2) + 1j * rand(rng, 3, 2)
    B = rand(rng, 2, 2)
    assert kb.check.identity(kb.Kron(A, B), np.kron(A, B))
    # conjugating a factor is not the same operator
    assert not kb.check.identity(kb.Kron(A, B), np.kron(A.conj(), B))


def test_check_identity_rejects_bad_input():
    with pytest.raises(ValueError, match=r"lhs \(str\) is not an operator"):
        kb.check.identity("A @ B", np.eye(2))
    with pytest.raises(ValueError, match="columns must be a non-negative integer"):
        kb.check.identity(np.eye(2), np.eye(2), columns=-1)


def test_check_identity_float32_tolerance():
    rng = np.random.default_rng(5)
    A, B = rand(rng, 3, 3).astype(np.float32), rand(rng, 4, 4).astype(np.float32)
    report = kb.check.identity(kb.Transpose(kb.Box(A, B)), kb.Box(B.T, A.T))
    assert report and report.tolerance == pytest.approx(1e-3)
    # a single-precision side against a double-precision one is held to single precision
    assert kb.check.identity(kb.Kron(A, B), np.kron(A.astype(np.float64), B.astype(np.float64)))
    assert not kb.check.identity(kb.Kron(A, B), np.kron(A + 1e-2, B.astype(np.float64)))


def test_check_identity_never_forms_the_operators():
    """A 10⁶ × 10⁶ identity is checked by probing: the dense matrices would not fit in memory."""
    rng = np.random.default_rng(6)
    A, B = rand(rng, 1000, 1000), rand(rng, 1000, 1000)
    lhs = kb.Kron(A, B) @ kb.Commutation(1000, 1000)
    assert kb.check.identity(lhs, kb.Box(A, B), columns=1)

"""Every operator against its dense twin (the zoo), then the products' own formulas and the algebra.

The shared checks run on every zoo member in float32, float64 and complex128, and on its views
``op.T``, ``op.H`` and ``Transpose(op)`` against ``twin.T`` and ``twin.conj().T``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import (
    DTYPES,
    assert_close,
    box_twin,
    commutation_twin,
    dims,
    dtypes,
    factor_pairs,
    matrix_shapes,
    operator_trees,
    random,
    seeds,
    views,
)

import kronbox as kb

HYPOTHESIS = settings(deadline=None, max_examples=40)

# ------------------------------------------------------------------------ the shared checks
def test_to_dense_and_dtype(built):
    for name, op, twin in views(built):
        assert isinstance(op, kb.Operator), name
        assert op.shape == twin.shape, name
        assert op.dtype == twin.dtype, f"{name}: {op.dtype}, expected {twin.dtype}"
        dense = op.to_dense()
        assert dense.dtype == twin.dtype, f"{name}.to_dense(): {dense.dtype}, expected {twin.dtype}"
        assert_close(dense, twin, op.dtype, f"{name} = {op!r}: to_dense()")


def test_matvec_and_rmatvec(built, rng):
    for view, op, twin in views(built):
        x, y = random(rng, op.shape[1], op.dtype), random(rng, op.shape[0], op.dtype)
        for name, got, want in [
            ("matvec", op.matvec(x), twin @ x),
            ("op @ x", op @ x, twin @ x),
            ("op(x)", op(x), twin @ x),
            ("op.dot(x)", op.dot(x), twin @ x),
            ("rmatvec", op.rmatvec(y), twin.conj().T @ y),
            ("y @ op", y @ op, y @ twin),
        ]:
            assert got.dtype == op.dtype, f"{view}, {name}: {got.dtype}, expected {op.dtype}"
            assert_close(got, want, op.dtype, f"{view} = {op!r}: {name}")


def test_matmat_and_rmatmat(built, rng):
    """0, 1 and several columns at once, against the twin and against column-by-column matvec."""
    for view, op, twin in views(built):
        for columns in (0, 1, 3):
            X = random(rng, (op.shape[1], columns), op.dtype)
            Y = random(rng, (op.shape[0], columns), op.dtype)
            checks = [
                ("matmat", op.matmat(X), twin @ X),
                ("op @ X", op @ X, twin @ X),
                ("rmatmat", op.rmatmat(Y), twin.conj().T @ Y),
                ("Y.T @ op", Y.T @ op, Y.T @ twin),
            ]
            if columns:
                checks.append(("matvec by column", np.stack([op.matvec(c) for c in X.T], axis=1), op.matmat(X)))
            for name, got, want in checks:
                assert got.dtype == op.dtype, f"{view}, {name}: {got.dtype}, expected {op.dtype}"
                assert_close(got, want, op.dtype, f"{view} = {op!r}: {name} with {columns} columns")


def test_results_never_alias_the_input(built, rng):
    """Writing into ``op @ x`` must not change ``x`` (even for permutations, which could return views)."""
    for view, op, _ in views(built):
        x, X = random(rng, op.shape[1], op.dtype), random(rng, (op.shape[1], 2), op.dtype)
        y, Y = random(rng, op.shape[0], op.dtype), random(rng, (op.shape[0], 2), op.dtype)
        for name, result, operand in [
            ("op @ x", op @ x, x),
            ("matvec", op.matvec(x), x),
            ("op @ X", op @ X, X),
            ("rmatvec", op.rmatvec(y), y),
            ("rmatmat", op.rmatmat(Y), Y),
            ("y @ op", y @ op, y),
        ]:
            assert not np.shares_memory(result, operand), f"{view} = {op!r}: {name} returns a view of its input"


def test_dot_test(built):
    for view, op, _ in views(built):
        report = kb.check.dot_test(op)
        assert report, f"{view} = {op!r}: {report}"


def test_complex_vector_on_any_operator(built, rng):
    for view, op, twin in views(built):
        z = random(rng, op.shape[1], np.complex128)
        assert_close(op @ z, twin @ z, op.dtype, f"{view} = {op!r} @ complex vector")


def test_apply_both_orders(built, rng):
    """``apply(X)`` is ``unvec(A vec(X))``; with ``order="F"`` both vec and unvec stack columns."""
    for view, op, twin in views(built):
        X = random(rng, op.in_shape, op.dtype)
        want = (twin @ X.ravel()).reshape(op.out_shape)
        assert_close(op.apply(X), want, op.dtype, f"{view} = {op!r}: apply")
        if len(op.in_shape) == 2 and len(op.out_shape) == 2:
            XF = random(rng, op.in_shape[::-1], op.dtype)
            want = (twin @ XF.ravel(order="F")).reshape(op.out_shape[::-1], order="F")
            assert_close(op.apply(XF, order="F"), want, op.dtype, f"{view} = {op!r}: apply(order='F')")


def test_trace(built):
    for view, op, twin in views(built):
        if op.shape[0] != op.shape[1]:
            with pytest.raises(ValueError, match="square"):
                op.trace()
        else:
            assert_close(op.trace(), np.trace(twin), op.dtype, f"trace of {view} = {op!r}")


def test_algebra_keeps_dtype(built):
    """float32 stays float32 through products with vectors, scalings, sums and compositions."""
    op, twin = built
    m, n = op.shape
    companion = kb.Identity(m, dtype=op.dtype) if m == n else kb.Zero(m, n, dtype=op.dtype)
    for name, combined, want in [
        ("2.0 * op", 2.0 * op, 2 * twin),
        ("op * 2", op * 2, 2 * twin),
        ("op / 4", op / 4, twin / 4),
        ("-op", -op, -twin),
        ("op + I", op + companion, twin + companion.to_dense()),
        ("op - op", op - op, twin - twin),
        ("op @ op.H", op @ op.H, twin @ twin.conj().T),
        ("Compose(op.H, op)", kb.Compose(op.H, op), twin.conj().T @ twin),
    ]:
        assert combined.dtype == op.dtype, f"{name}: {combined.dtype}, expected {op.dtype}"
        assert_close(combined.to_dense(), want, op.dtype, name)
        x = np.ones(combined.shape[1], dtype=op.dtype)
        assert (combined @ x).dtype == op.dtype, name


def test_repr_shows_the_operator(built):
    op, _ = built
    text = repr(op)
    assert text and "object at" not in text and "<" not in text


# ------------------------------------------------------------------ Kron and Box, by formula
@given(factor_pairs(), seeds)
@HYPOTHESIS
def test_kron_against_np_kron(pair, seed):
    A, B = pair
    op = kb.Kron(A, B)
    twin = np.kron(A, B)
    assert op.shape == twin.shape and op.dtype == twin.dtype
    assert op.in_shape == (A.shape[1], B.shape[1]) and op.out_shape == (A.shape[0], B.shape[0])
    assert_close(op.to_dense(), twin, A.dtype)
    rng = np.random.default_rng(seed)
    X, C = random(rng, op.in_shape, A.dtype), random(rng, op.out_shape, A.dtype)
    assert_close(op.apply(X), A @ X @ B.T, A.dtype, "(A ⊗ B) vec(X) = vec(A X Bᵀ)")
    assert_close(C.ravel() @ op, (A.T @ C @ B).ravel(), A.dtype, "vecᵀ(C)(A ⊗ B) = vecᵀ(Aᵀ C B)")
    XF = random(rng, (A.shape[1], B.shape[0]), A.dtype)
    assert_close(
        kb.Kron(B.T, A).apply(XF, order="F"), A @ XF @ B, A.dtype, "(Bᵀ ⊗ A) vec_F(X) = vec_F(A X B)"
    )
    CF = random(rng, (B.shape[0], A.shape[0]), A.dtype)
    assert_close(
        CF.ravel(order="F") @ op, (B.T @ CF @ A).ravel(order="F"), A.dtype, "vec_Fᵀ(C)(A ⊗ B) = vec_Fᵀ(Bᵀ C A)"
    )


@given(factor_pairs(), seeds)
@HYPOTHESIS
def test_box_against_definition(pair, seed):
    A, B = pair
    op = kb.Box(A, B)
    twin = box_twin(A, B)
    assert op.shape == twin.shape and op.dtype == twin.dtype
    assert op.in_shape == (B.shape[1], A.shape[1]) and op.out_shape == (A.shape[0], B.shape[0])
    assert_close(op.to_dense(), twin, A.dtype)
    rng = np.random.default_rng(seed)
    X, C = random(rng, op.in_shape, A.dtype), random(rng, op.out_shape, A.dtype)
    assert_close(op.apply(X), A @ X.T @ B.T, A.dtype, "(A ⊠ B) vec(X) = vec(A Xᵀ Bᵀ)")
    assert_close(C.ravel() @ op, (B.T @ C.T @ A).ravel(), A.dtype, "vecᵀ(C)(A ⊠ B) = vecᵀ(Bᵀ Cᵀ A)")
    XF = random(rng, (B.shape[0], A.shape[1]), A.dtype)
    assert_close(
        kb.Box(B.T, A).apply(XF, order="F"), A @ XF.T @ B, A.dtype, "(Bᵀ ⊠ A) vec_F(X) = vec_F(A Xᵀ B)"
    )


@given(factor_pairs(), st.integers(0, 5), seeds)
@HYPOTHESIS
def test_products_on_many_columns(pair, columns, seed):
    """matmat and rmatmat of Kron and Box carry all columns at once and agree with the twins."""
    A, B = pair
    rng = np.random.default_rng(seed)
    for op, twin in [(kb.Kron(A, B), np.kron(A, B)), (kb.Box(A, B), box_twin(A, B))]:
        X, Y = random(rng, (op.shape[1], columns), A.dtype), random(rng, (op.shape[0], columns), A.dtype)
        assert_close(op @ X, twin @ X, A.dtype, f"{op!r} @ X")
        assert_close(op.rmatmat(Y), twin.conj().T @ Y, A.dtype, f"{op!r}.rmatmat")


@given(st.lists(matrix_shapes, min_size=3, max_size=4), dtypes, seeds)
@HYPOTHESIS
def test_nary_products(shapes, dtype, seed):
    """``Kron(A, B, C)`` is ``A ⊗ (B ⊗ C)``; ``Box(A, B, C)`` is ``A ⊠ (B ⊠ C)``."""
    rng = np.random.default_rng(seed)
    mats = [random(rng, s, dtype) for s in shapes]
    kron_twin, box = mats[-1], mats[-1]
    for M in reversed(mats[:-1]):
        kron_twin, box = np.kron(M, kron_twin), box_twin(M, box)
    for op, twin in [(kb.Kron(*mats), kron_twin), (kb.Box(*mats), box)]:
        assert_close(op.to_dense(), twin, dtype, repr(op))
        x = random(rng, op.shape[1], dtype)
        assert_close(op @ x, twin @ x, dtype, repr(op))
        assert kb.check.dot_test(op)


@given(factor_pairs(), dtypes, seeds)
@HYPOTHESIS
def test_mixed_factor_kinds(pair, dtype, seed):
    """Sparse, dense and operator factors give the same Kronecker and box products."""
    A, B = pair
    for left in (A, sp.csr_array(A), kb.Dense(A), kb.Kron(np.ones((1, 1), dtype=A.dtype), A)):
        for right in (B, sp.csc_array(B)):
            rng = np.random.default_rng(seed)
            x = random(rng, A.shape[1] * B.shape[1], A.dtype)
            assert_close(kb.Kron(left, right) @ x, np.kron(A, B) @ x, A.dtype, f"Kron({left!r}, …)")
            assert_close(kb.Box(left, right) @ x, box_twin(A, B) @ x, A.dtype, f"Box({left!r}, …)")


@given(operator_trees(), seeds)
@settings(deadline=None, max_examples=60)
def test_random_operator_trees(tree, seed):
    """Sums, compositions, transposes, adjoints and scalings of every leaf, nested up to depth 3."""
    op, twin = tree
    assert op.shape == twin.shape and op.dtype == twin.dtype, repr(op)
    assert_close(op.to_dense(), twin, op.dtype, repr(op))
    rng = np.random.default_rng(seed)
    x, X = random(rng, op.shape[1], op.dtype), random(rng, (op.shape[1], 2), op.dtype)
    y = random(rng, op.shape[0], op.dtype)
    assert_close(op @ x, twin @ x, op.dtype, repr(op))
    assert_close(op @ X, twin @ X, op.dtype, repr(op))
    assert_close(op.rmatvec(y), twin.conj().T @ y, op.dtype, repr(op))
    assert_close(op.apply(x.reshape(op.in_shape)), (twin @ x).reshape(op.out_shape), op.dtype, repr(op))
    assert_close(op.H.to_dense(), twin.conj().T, op.dtype, repr(op))
    if op.shape[0] == op.shape[1]:
        assert_close(op.trace(), np.trace(twin), op.dtype, repr(op))
    assert kb.check.dot_test(op), repr(op)


# ------------------------------------------------------------------------------------- trace
@given(factor_pairs(square_product=True))
@HYPOTHESIS
def test_trace_with_rectangular_factors(pair):
    """Square ``A ⊗ B`` and ``A ⊠ B`` from ``m×n`` and ``n×m`` factors, and their sums and scalings."""
    A, B = pair
    for op, twin in [
        (kb.Kron(A, B), np.kron(A, B)),
        (kb.Box(A, B), box_twin(A, B)),
        (kb.Box(sp.csr_array(A), B), box_twin(A, B)),
        (kb.Box(A, sp.csc_array(B)), box_twin(A, B)),
        (kb.Box(A, kb.Dense(B)), box_twin(A, B)),
        (kb.Box(kb.Kron(A, np.ones((1, 1), dtype=A.dtype)), B), box_twin(A, B)),
        (kb.Kron(kb.Dense(A), B), np.kron(A, B)),
        (kb.Kron(A, B) - 3 * kb.Box(A, B), np.kron(A, B) - 3 * box_twin(A, B)),
        (kb.Transpose(kb.Box(A, B)), box_twin(A, B).T),
    ]:
        assert_close(op.trace(), np.trace(twin), A.dtype, f"trace of {op!r}")
    assert_close(kb.Box(A, B).trace(), np.trace(A @ B), A.dtype, "tr(A ⊠ B) = tr(AB)")


@pytest.mark.parametrize("m", range(1, 6))
@pytest.mark.parametrize("n", range(1, 6))
def test_commutation(m, n, rng):
    K = kb.Commutation(m, n)
    twin = commutation_twin(m, n, np.float64)
    assert K.shape == (m * n, m * n) and K.in_shape == (n, m) and K.out_shape == (m, n)
    assert_close(K.trace(), np.trace(twin), np.float64, f"trace of {K!r}")
    X = rng.standard_normal((n, m))
    np.testing.assert_array_equal(K @ X.ravel(), X.T.ravel())
    np.testing.assert_array_equal(K.to_dense(), box_twin(np.eye(m), np.eye(n)))
    np.testing.assert_array_equal(K.T.to_dense() @ K.to_dense(), np.eye(m * n))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_trace_of_sums_compositions_and_scalings(dtype, rng):
    A, B = random(rng, (3, 3), dtype), random(rng, (2, 2), dtype)
    op = 2 * kb.Kron(A, B) @ kb.Commutation(3, 2) + kb.Identity(6) - kb.Box(A.T[:2, :2], A[:3, :3])
    twin = 2 * np.kron(A, B) @ commutation_twin(3, 2, dtype) + np.eye(6) - box_twin(A.T[:2, :2], A[:3, :3])
    assert_close(op.trace(), np.trace(twin), dtype)


def test_trace_never_materializes():
    """Closed forms on 10⁸ × 10⁸ operators with sparse 10⁴ × 10⁴ factors (a probe would need 10⁸ columns).

    References from the definitions: ``tr(A ⊗ B) = Σ_{ik} A[i,i] B[k,k]``, ``tr(A ⊠ B) = Σ A ∘ Bᵀ``,
    ``K_{n,n}`` fixes the ``n`` diagonal entries of an ``n × n`` matrix.
    """
    n = 10_000
    S = [sp.random_array((n, n), density=2 / n, format="csr", rng=seed) + sp.eye_array(n) for seed in range(2)]
    A, B = S
    trA, trB = A.diagonal().sum(), B.diagonal().sum()
    tr_box = A.multiply(B.T).sum()
    for op, want in [
        (kb.Kron(A, B), trA * trB),
        (kb.Box(A, B), tr_box),
        (kb.KronSum(A, B), n * trA + n * trB),
        (kb.Commutation(n, n), n),
        (kb.Kron(A, kb.Identity(n)), n * trA),
        (2 * kb.Kron(A, B).T - kb.Box(A, B) + kb.Identity(n * n), 2 * trA * trB - tr_box + n * n),
        (kb.Kron(A, B) @ kb.Commutation(n, n), tr_box),
    ]:
        assert op.shape == (n * n, n * n)
        np.testing.assert_allclose(op.trace(), want, rtol=1e-12, err_msg=repr(op))


def test_trace_of_products(rng):
    """Mixed products merge into one Kron or Box; an outer factor gives ``vᵀ (rest) u``; else the
    cheapest cyclic rotation is probed. Every value against ``np.trace`` of the dense product."""
    A, B, C, D = (rng.standard_normal((30, 30)) for _ in range(4))
    u, v = rng.standard_normal(900), rng.standard_normal(900)
    U, V = rng.standard_normal((900, 3)), rng.standard_normal((3, 900))
    for op, twin in [
        (kb.Kron(A, B) @ kb.Kron(C, D), np.kron(A, B) @ np.kron(C, D)),
        (kb.Box(A, B) @ kb.Box(C, D) @ kb.Kron(A, D), box_twin(A, B) @ box_twin(C, D) @ np.kron(A, D)),
        (kb.Kron(A, B) @ kb.Outer(u, v) @ kb.Box(C, D), np.kron(A, B) @ np.outer(u, v) @ box_twin(C, D)),
        (kb.Dense(U) @ kb.Dense(V), U @ V),
        (kb.Kron(A, B) @ kb.Dense(U) @ kb.Dense(V), np.kron(A, B) @ U @ V),
    ]:
        np.testing.assert_allclose(op.trace(), np.trace(twin), rtol=1e-10, err_msg=repr(op))


# ------------------------------------------------------------------------------ the algebra
def test_algebra_builds_the_right_nodes(rng):
    A, B, C, D = (rng.standard_normal((2, 2)) for _ in range(4))
    P, Q = kb.Kron(A, B), kb.Box(C, D)
    assert isinstance(P @ Q, kb.Compose) and (P @ Q).ops == (P, Q)
    assert isinstance(P + Q, kb.Sum) and (P + Q).ops == (P, Q)
    assert isinstance(P - Q, kb.Sum) and isinstance((P - Q).ops[1], kb.Scaled)
    assert isinstance(3 * P, kb.Scaled) and (3 * P).c == 3 and (3 * P).op is P
    assert isinstance(-P, kb.Scaled) and (-P).c == -1
    # n-ary and flat: nested sums and compositions splice into their parents.
    assert len((P + Q + P).ops) == 3 and len(((P @ Q) @ (Q @ P)).ops) == 4
    assert isinstance(P**0, kb.Identity) and (P**1) is P
    # Scalars are hoisted: a scaled scaled operator is one scaling.
    assert isinstance(kb.Scaled(2, kb.Scaled(3, P)).op, kb.Kron)


def test_products_with_scipy_operators(rng):
    """Any scipy LinearOperator combines with kronbox operators and stays a kronbox operator."""
    from scipy.sparse.linalg import aslinearoperator

    A, B, M = rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((6, 4))
    P, L = kb.Kron(A, B), aslinearoperator(M)
    for combined, twin in [(P @ L, np.kron(A, B) @ M), (L.T @ P.T, M.T @ np.kron(A, B).T)]:
        x = rng.standard_normal(combined.shape[1])
        assert_close(combined @ x, twin @ x, np.float64)
    assert isinstance(P @ L, kb.Compose)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_column_vectors_and_np_matrix_inputs(rng):
    """scipy's contract: ``matvec`` of an ``(N, 1)`` column gives an ``(M, 1)`` column; ``np.matrix`` works."""
    A, B = rng.standard_normal((2, 3)), rng.standard_normal((4, 2))
    op, twin = kb.Kron(A, B), np.kron(A, B)
    x = rng.standard_normal((6, 1))
    assert op.matvec(x).shape == (8, 1) and op.rmatvec(twin @ x).shape == (6, 1)
    assert_close(op.matvec(x), twin @ x, np.float64)
    for M in (np.matrix(x), np.matrix(rng.standard_normal((6, 3)))):
        assert_close(np.asarray(op @ M), twin @ np.asarray(M), np.float64, "op @ np.matrix")
        assert_close(np.asarray(M.T @ op.T), np.asarray(M).T @ twin.T, np.float64, "np.matrix @ op")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_float32_stays_float32_with_weak_operators(dtype):
    """Identity, Zero and Commutation (default float64) do not promote a float32 operator."""
    A = np.ones((2, 3), dtype=dtype)
    P = kb.Kron(A, A.T)
    for combined in [P + kb.Identity(6), P @ kb.Commutation(2, 3), P - kb.Zero(6, 6), kb.Kron(A, kb.Identity(2))]:
        assert combined.dtype == dtype, repr(combined)
        assert (combined @ np.ones(combined.shape[1], dtype=dtype)).dtype == dtype


def test_repr_shows_the_tree(rng):
    A, B, C = rng.standard_normal((3, 4)), rng.standard_normal((5, 6)), rng.standard_normal((2, 2))
    text = repr(kb.Kron(A, kb.Box(B, C)) + 2 * kb.Outer(np.ones(48), np.ones(30)).T)
    for part in ("Kron", "Box", "Outer", "3×4", "5×6", "2×2", "+", "2"):
        assert part in text, f"{part!r} missing from {text!r}"
    assert repr(kb.Kron(A, B)) in repr(kb.Kron(A, B) @ kb.Identity(24))


@given(dims, dims, dtypes, seeds)
@HYPOTHESIS
def test_outer_of_matrices(m, n, dtype, seed):
    """``Outer(U, V)`` is ``vec(U) vec(V)ᵀ`` in the chosen order; ``trace(A X) B`` has Jacobian ``vec(B) vec(Aᵀ)ᵀ``."""
    rng = np.random.default_rng(seed)
    U, V, X = random(rng, (m, n), dtype), random(rng, (n, m), dtype), random(rng, (m, n), dtype)
    op = kb.Outer(U, V)
    assert op.in_shape == (n, m) and op.out_shape == (m, n)
    Y = random(rng, (n, m), dtype)
    assert_close(op.apply(Y), np.sum(V * Y) * U, dtype)
    # F(X) = trace(A X) B with A n×m, B m×n; its Jacobian vec(B) vec(Aᵀ)ᵀ applied to vec(X).
    A, B = V, U
    assert_close(kb.Outer(B, A.T).apply(X), np.trace(A @ X) * B, dtype)
    F = kb.Outer(U, V, order="F")
    assert F.in_shape == (m, n) and F.out_shape == (n, m)
    assert_close(F.apply(X.T, order="F"), np.sum(V * X.T) * U, dtype)

"""``simplify()``: every rule on its own, and random operator trees (equal to the input, never costlier).

The random trees carry a dense twin built with numpy alone (``np.kron``, the einsum of the box
definition, the commutation permutation, ``@``, ``+``, ``.T``), so the input and the simplified
operator are both checked against an independent reference.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import box_twin, commutation_twin

import kronbox as kb
from kronbox.operators.identities import MIXED_PRODUCTS, PAIR_RULES, RULES, same


def rand(rng, *shape):
    return rng.standard_normal(shape)


def assert_equal_and_not_costlier(op, simplified, twin=None):
    twin = op.to_dense() if twin is None else twin
    scale = max(1.0, float(np.abs(twin).max(initial=0.0)))
    np.testing.assert_allclose(simplified.to_dense(), twin, rtol=1e-10, atol=1e-10 * scale)
    assert simplified.matvec_flops() <= op.matvec_flops()
    assert (simplified.in_shape, simplified.out_shape) == (op.in_shape, op.out_shape)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ------------------------------------------------------------------------------ the tables
def test_the_rule_tables_state_their_identities():
    assert len(MIXED_PRODUCTS) == 4
    assert all(rule.identity for rule in RULES) and all(rule.identity for rule in PAIR_RULES)
    kinds = {k for rule in RULES for k in (rule.kind if isinstance(rule.kind, tuple) else (rule.kind,))}
    assert {kb.Transpose, kb.Scaled, kb.Kron, kb.Box, kb.Compose, kb.Sum} <= kinds


# ---------------------------------------------------------------------------- single rules
def test_mixed_product_multiplies_the_small_factors(rng):
    A, B, C, D = rand(rng, 2, 3), rand(rng, 4, 5), rand(rng, 3, 2), rand(rng, 5, 3)
    op = kb.Kron(A, B) @ kb.Kron(C, D)
    s = op.simplify()
    assert isinstance(s, kb.Kron) and isinstance(s.A, np.ndarray) and isinstance(s.B, np.ndarray)
    np.testing.assert_allclose(s.A, A @ C)
    np.testing.assert_allclose(s.B, B @ D)
    assert s.matvec_flops() < op.matvec_flops()


def test_a_costlier_mixed_product_is_not_taken(rng):
    """``(u⊗v)(wᵀ⊗zᵀ)`` with n×1 and 1×n factors: ``(uwᵀ)⊗(vzᵀ)`` has n×n factors, costlier."""
    n = 9
    op = kb.Kron(rand(rng, n, 1), rand(rng, n, 1)) @ kb.Kron(rand(rng, 1, n), rand(rng, 1, n))
    product = kb.Kron(op.ops[0].A @ op.ops[1].A, op.ops[0].B @ op.ops[1].B)
    assert product.matvec_flops() > op.matvec_flops()  # the rewrite exists but would cost more
    s = op.simplify()
    assert isinstance(s, kb.Compose)
    assert_equal_and_not_costlier(op, s, np.kron(op.ops[0].A, op.ops[0].B) @ np.kron(op.ops[1].A, op.ops[1].B))


def test_inner_factor_shapes_must_agree_not_just_operator_shapes(rng):
    """``(A⊗B)(C⊗D)`` with A 2×6, B 3×1, C 2×3, D 3×2: composable (6 = 6) but ``AC`` is undefined."""
    A, B, C, D = rand(rng, 2, 6), rand(rng, 3, 1), rand(rng, 2, 3), rand(rng, 3, 2)
    op = kb.Kron(A, B) @ kb.Kron(C, D)
    s = op.simplify()
    assert isinstance(s, kb.Compose) and len(s.ops) == 2
    assert_equal_and_not_costlier(op, s, np.kron(A, B) @ np.kron(C, D))


def test_nested_kron_factors_multiply_as_operators(rng):
    A, B, C, D, E, F = (rand(rng, 2, 2) for _ in range(6))
    op = kb.Kron(kb.Kron(A, B), C) @ kb.Kron(kb.Kron(D, E), F)
    s = op.simplify()
    assert isinstance(s, kb.Kron) and isinstance(s.A, kb.Kron)
    assert_equal_and_not_costlier(op, s, np.kron(np.kron(A @ D, B @ E), C @ F))


def test_commutation_pairs(rng):
    s = (kb.Commutation(2, 3) @ kb.Commutation(3, 2)).simplify()
    assert isinstance(s, kb.Identity) and s.in_shape == (2, 3)
    op = kb.Commutation(2, 2) @ kb.Commutation(2, 2) @ kb.Commutation(2, 2)
    s = op.simplify()
    assert isinstance(s, kb.Commutation)
    assert_equal_and_not_costlier(op, s, commutation_twin(2, 2, float))


def test_commutation_pair_that_does_not_fit_stays(rng):
    """``K_{2,3} K_{2,3}`` composes (6×6 each) but is not the identity: no rewrite to ``I``."""
    op = kb.Commutation(2, 3) @ kb.Commutation(2, 3)
    s = op.simplify()
    assert not isinstance(s, kb.Identity)
    assert_equal_and_not_costlier(op, s, commutation_twin(2, 3, float) @ commutation_twin(2, 3, float))


def test_double_transpose_and_transpose_through_products(rng):
    A, B = rand(rng, 2, 3), rand(rng, 4, 5)
    s = kb.Transpose(kb.Transpose(kb.Kron(A, B))).simplify()
    assert isinstance(s, kb.Kron) and np.shares_memory(s.A, A) and np.shares_memory(s.B, B)
    C, D = rand(rng, 3, 2), rand(rng, 5, 3)
    op = kb.Transpose(kb.Compose(kb.Kron(A, B), kb.Box(C, D)))
    s = op.simplify()
    assert isinstance(s, kb.Box)
    assert_equal_and_not_costlier(op, s, (np.kron(A, B) @ box_twin(C, D)).T)


def test_scalars_are_hoisted_out_of_factors_and_products(rng):
    A, B, C = rand(rng, 3, 3), rand(rng, 2, 2), rand(rng, 6, 6)
    op = kb.Kron(kb.Scaled(2.0, kb.Dense(A)), kb.Scaled(-3.0, kb.Dense(B)))
    s = op.simplify()
    assert isinstance(s, kb.Scaled) and s.c == -6.0 and isinstance(s.op, kb.Kron)
    assert_equal_and_not_costlier(op, s, -6.0 * np.kron(A, B))
    op = kb.Dense(C) @ (0.5 * kb.Kron(A, B))
    s = op.simplify()
    assert isinstance(s, kb.Scaled) and s.c == 0.5
    assert_equal_and_not_costlier(op, s, 0.5 * C @ np.kron(A, B))


def test_identity_zero_and_unit_scalars_fold(rng):
    A, B = rand(rng, 2, 3), rand(rng, 4, 5)
    K = kb.Kron(A, B)
    assert (kb.Identity((2, 4)) @ K @ kb.Identity((3, 5))).simplify() is K
    z = (kb.Dense(rand(rng, 8, 8)) @ kb.Zero((2, 4), (3, 5)) @ K.T @ K).simplify()
    assert isinstance(z, kb.Zero) and z.shape == (8, 15)
    assert (kb.Scaled(1, K)).simplify() is K
    assert isinstance(kb.Scaled(0, K).simplify(), kb.Zero)
    assert (K + kb.Zero((2, 4), (3, 5))).simplify() is K
    assert isinstance(kb.Kron(kb.Identity(2), kb.Identity(3)).simplify(), kb.Identity)
    s = kb.Box(kb.Identity(2), kb.Identity(3)).simplify()
    assert isinstance(s, kb.Commutation) and (s.m, s.n) == (2, 3)
    assert isinstance(kb.Kron(kb.Zero(2, 3), B).simplify(), kb.Zero)


def test_like_terms_merge(rng):
    A, B = rand(rng, 2, 3), rand(rng, 4, 5)
    op = 2 * kb.Kron(A, B) + 3 * kb.Kron(A.copy(), B) - kb.Kron(A, B)
    s = op.simplify()
    assert isinstance(s, kb.Scaled) and s.c == 4 and isinstance(s.op, kb.Kron)
    assert_equal_and_not_costlier(op, s, 4 * np.kron(A, B))
    assert isinstance((kb.Kron(A, B) - kb.Kron(A, B)).simplify(), kb.Zero)


def test_common_factors_merge(rng):
    A, B, C, D = rand(rng, 2, 3), rand(rng, 4, 5), rand(rng, 4, 5), rand(rng, 2, 3)
    op = kb.Kron(A, B) + 2 * kb.Kron(A, C) + kb.Box(A, B) - kb.Box(D, B)
    s = op.simplify()
    assert isinstance(s, kb.Sum) and len(s.ops) == 2
    assert isinstance(s.ops[0], kb.Kron) and isinstance(s.ops[1], kb.Box)
    assert_equal_and_not_costlier(op, s, np.kron(A, B + 2 * C) + box_twin(A - D, B))


def test_common_operator_factor_merges_into_a_sum_factor(rng):
    A, B, C = kb.Dense(rand(rng, 3, 3)), kb.Outer(rand(rng, 4), rand(rng, 4)), kb.Diag(rand(rng, 4))
    op = kb.Kron(B, A) + kb.Kron(C, A)
    s = op.simplify()
    assert isinstance(s, kb.Kron) and isinstance(s.A, kb.Sum)
    assert_equal_and_not_costlier(op, s, np.kron(B.to_dense() + C.to_dense(), A.to_dense()))


def test_absorption_into_outer_from_both_sides(rng):
    A, B, U, V = rand(rng, 3, 2), rand(rng, 4, 5), rand(rng, 2, 5), rand(rng, 3, 3)
    C, D = rand(rng, 3, 2), rand(rng, 3, 4)
    op = kb.Kron(A, B) @ kb.Outer(U, V) @ kb.Box(C, D)
    s = op.simplify()
    assert isinstance(s, kb.Outer)
    assert_equal_and_not_costlier(op, s, np.kron(A, B) @ np.outer(U.ravel(), V.ravel()) @ box_twin(C, D))


def test_inverses_push_through_products_and_cancel(rng):
    A, B = rand(rng, 3, 3) + 4 * np.eye(3), rand(rng, 4, 4) + 4 * np.eye(4)
    Ai, Bi = np.linalg.inv(A), np.linalg.inv(B)
    op = kb.Inverse(kb.Kron(A, B))
    s = op.simplify()
    assert isinstance(s, kb.Kron) and isinstance(s.A, kb.Inverse)
    assert_equal_and_not_costlier(op, s, np.kron(Ai, Bi))
    op = kb.Inverse(kb.Box(A, B))
    s = op.simplify()
    assert isinstance(s, kb.Box) and s.A.shape == (4, 4)
    assert_equal_and_not_costlier(op, s, box_twin(Bi, Ai))
    for op in (kb.Inverse(kb.Box(A, B)) @ kb.Box(A, B), kb.Kron(A, B) @ kb.Inverse(kb.Kron(A, B))):
        s = op.simplify()
        assert isinstance(s, kb.Identity) and s.in_shape == op.in_shape
    assert isinstance(kb.Inverse(kb.Inverse(kb.Kron(A, B))).simplify(), kb.Kron)
    s = kb.Inverse(2 * kb.Commutation(3, 4)).simplify()
    assert isinstance(s, kb.Scaled) and s.c == 0.5 and isinstance(s.op, kb.Commutation)
    assert_equal_and_not_costlier(kb.Inverse(2 * kb.Commutation(3, 4)), s, 0.5 * commutation_twin(4, 3, float))
    assert isinstance(kb.Inverse(kb.Identity(5)).simplify(), kb.Identity)


def test_an_inverse_of_non_square_factors_stays(rng):
    """``A⊗B`` with A 2×3, B 3×2 is square (6×6) but its factors have no inverses."""
    op = kb.Inverse(kb.Kron(rand(rng, 2, 3), rand(rng, 3, 2)))
    assert isinstance(op.simplify(), kb.Inverse)


def test_simplify_keeps_matrix_shapes_of_the_input(rng):
    """Dropping a trailing ``I(6)`` would change ``in_shape`` from ``(6,)`` to ``(2, 3)``: it is kept."""
    A, B = rand(rng, 2, 2), rand(rng, 3, 3)
    op = kb.Kron(A, B) @ kb.Identity(6)
    s = op.simplify()
    assert s.in_shape == (6,) and s.out_shape == (2, 3)
    assert_equal_and_not_costlier(op, s, np.kron(A, B))
    assert s.simplify().matvec_flops() == s.matvec_flops()


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_dtype_is_kept(dtype, rng):
    A, B, C, D = (rand(rng, 3, 3).astype(dtype) for _ in range(4))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rand(rng, 3, 3)
    op = kb.Box(A, B) @ kb.Box(C, D) + kb.Zero(9, 9)
    s = op.simplify()
    assert isinstance(s, kb.Kron) and s.dtype == op.dtype
    np.testing.assert_allclose(s.to_dense(), np.kron(A @ D, B @ C), rtol=1e-4, atol=1e-4)


def test_sparse_factors(rng):
    A = sp.random(3, 4, density=0.5, random_state=2, format="csr")
    B, C, D = rand(rng, 2, 2), sp.random(4, 3, density=0.5, random_state=3, format="csr"), rand(rng, 2, 2)
    op = kb.Kron(A, B) @ kb.Kron(C, D) + kb.Kron(A @ C, D)
    s = op.simplify()
    assert isinstance(s, kb.Kron)
    assert_equal_and_not_costlier(op, s, np.kron((A @ C).toarray(), B @ D + D))


def test_structural_equality():
    A = np.arange(6.0).reshape(2, 3)
    assert same(kb.Kron(A, A.T), kb.Kron(A.copy(), A.T.copy()))
    assert not same(kb.Kron(A, A.T), kb.Box(A, A.T))
    assert not same(kb.Commutation(2, 3), kb.Commutation(3, 2))
    assert same(2 * kb.Identity(3), 2.0 * kb.Identity(3))
    assert not same(kb.Dense(A), kb.Dense(A + 1))


def test_simplify_accepts_plain_linear_operators_and_arrays():
    M = np.arange(4.0).reshape(2, 2)
    assert isinstance(kb.operators.identities.simplify_operator(M), kb.Dense)
    with pytest.raises(ValueError, match="simplify"):
        kb.operators.identities.simplify_operator("not an operator")


# ---------------------------------------------------------------------------- random trees
DIM = st.integers(1, 3)
SCALARS = st.sampled_from([2.0, -0.5, 1.0, 0.0, 3.0])


def _factor(draw, rng, m, n, depth):
    """A factor ``m×n`` of a product: an array (sometimes sparse, sometimes scaled) or an operator."""
    kind = draw(st.sampled_from(["array", "array", "sparse", "operator"] if depth > 0 else ["array"]))
    if kind == "operator":
        shape_out, shape_in = ((m, 1), (n, 1)) if draw(st.booleans()) else ((1, m), (1, n))
        return _tree(draw, rng, shape_out, shape_in, depth - 1)
    M = rand(rng, m, n)
    if kind == "sparse":
        M[rng.random((m, n)) < 0.5] = 0
        return sp.csr_array(M), M
    return M, M


def _tree(draw, rng, out_shape, in_shape, depth):
    """``(op, twin)``: a random operator from ``in_shape`` to ``out_shape`` and its numpy twin."""
    (m1, m2), (n1, n2) = out_shape, in_shape
    M, N = m1 * m2, n1 * n2
    leaves = ["dense", "outer", "zero"]
    nodes = ["kron", "box", "compose", "compose", "commuted", "sum", "scaled", "transpose"]
    if out_shape == in_shape:
        leaves += ["identity", "inverse kron"]
    if in_shape == (m2, m1):
        leaves += ["commutation", "inverse box"]
    # at depth > 0 a leaf one time in five (shrinking goes to leaves)
    leaf = depth == 0 or draw(st.integers(0, 4)) == 0
    kind = draw(st.sampled_from(leaves if leaf else nodes))
    if kind == "dense":
        D = rand(rng, M, N)
        return kb.Dense(D, in_shape, out_shape), D
    if kind == "outer":
        U, V = rand(rng, *out_shape), rand(rng, *in_shape)
        return kb.Outer(U, V), np.outer(U.ravel(), V.ravel())
    if kind == "identity":
        return kb.Identity(in_shape), np.eye(N)
    if kind == "commutation":
        return kb.Commutation(m1, m2), commutation_twin(m1, m2, float)
    if kind.startswith("inverse"):  # of well-conditioned square factors
        A, B = rand(rng, m1, m1) + 4 * np.eye(m1), rand(rng, m2, m2) + 4 * np.eye(m2)
        if kind == "inverse kron":
            return kb.Inverse(kb.Kron(A, B)), np.linalg.inv(np.kron(A, B))
        return kb.Inverse(kb.Box(A, B)), np.linalg.inv(box_twin(A, B))
    if kind == "zero":
        return kb.Zero(out_shape, in_shape), np.zeros((M, N))
    if kind == "kron":
        (A, a), (B, b) = _factor(draw, rng, m1, n1, depth), _factor(draw, rng, m2, n2, depth)
        return kb.Kron(A, B), np.kron(a, b)
    if kind == "box":  # Box(A, B) reads n2×n1 matrices: A is m1×n2 of in_shape, B is m2×n1
        (A, a), (B, b) = _factor(draw, rng, m1, n2, depth), _factor(draw, rng, m2, n1, depth)
        return kb.Box(A, B), box_twin(a, b)
    if kind == "compose":
        mid = (draw(DIM), draw(DIM))
        (L, left), (R, right) = _tree(draw, rng, out_shape, mid, depth - 1), _tree(draw, rng, mid, in_shape, depth - 1)
        return kb.Compose(L, R), left @ right
    if kind == "commuted":  # a commutation matrix on one side (the connector identities)
        if draw(st.booleans()):
            inner, twin = _tree(draw, rng, out_shape, (n2, n1), depth - 1)
            return kb.Compose(inner, kb.Commutation(n2, n1)), twin @ commutation_twin(n2, n1, float)
        inner, twin = _tree(draw, rng, (m2, m1), in_shape, depth - 1)
        return kb.Compose(kb.Commutation(m1, m2), inner), commutation_twin(m1, m2, float) @ twin
    if kind == "sum":
        first, first_twin = _tree(draw, rng, out_shape, in_shape, depth - 1)
        pattern = draw(st.sampled_from(["two", "like", "shared"]))
        if pattern == "like":  # the same term twice, with coefficients
            c = draw(SCALARS)
            return kb.Sum(first, kb.Scaled(c, first)), (1 + c) * first_twin
        if pattern == "shared" and isinstance(first, kb.Kron | kb.Box):  # a shared left factor
            B = rand(rng, *first.B.shape)
            twin = np.kron if isinstance(first, kb.Kron) else box_twin
            shared = first.A.to_dense() if isinstance(first.A, kb.Operator) else first.A
            shared = shared.toarray() if sp.issparse(shared) else shared
            return kb.Sum(first, type(first)(first.A, B)), first_twin + twin(shared, B)
        second, second_twin = _tree(draw, rng, out_shape, in_shape, depth - 1)
        return kb.Sum(first, second), first_twin + second_twin
    if kind == "scaled":
        c = draw(SCALARS)
        inner, twin = _tree(draw, rng, out_shape, in_shape, depth - 1)
        return kb.Scaled(c, inner), c * twin
    inner, twin = _tree(draw, rng, in_shape, out_shape, depth - 1)  # transpose
    return kb.Transpose(inner), twin.T


@st.composite
def trees(draw, depth=4):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    out_shape, in_shape = (draw(DIM), draw(DIM)), (draw(DIM), draw(DIM))
    return _tree(draw, rng, out_shape, in_shape, depth)


@settings(max_examples=150, deadline=None)
@given(tree=trees())
def test_random_trees_simplify_to_an_equal_operator_that_is_never_costlier(tree):
    op, twin = tree
    scale = max(1.0, float(np.abs(twin).max(initial=0.0)))
    np.testing.assert_allclose(op.to_dense(), twin, rtol=1e-10, atol=1e-10 * scale)
    simplified = op.simplify()
    assert_equal_and_not_costlier(op, simplified, twin)
    assert kb.check.identity(op, simplified)

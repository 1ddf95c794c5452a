"""Edge cases a demanding user hits: non-finite entries, empty operators, odd argument types,
mixed dtypes and non-contiguous inputs, each against an independent reference."""

import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import kronbox as kb

DTYPES = [np.float32, np.float64, np.complex128, np.int64]


def _array(rng, shape, dtype):
    if np.dtype(dtype).kind == "i":
        return rng.integers(-3, 4, shape).astype(dtype)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize(
    "d",
    [[np.nan, 1.0], [np.inf, -1.0], [-np.inf, -2.0, 3.0], [np.inf, np.nan], [0.0, np.nan], [0.0, np.inf]],
)
def test_diag_det_of_non_finite_entries_is_the_product(d):
    d = np.array(d)
    with np.errstate(invalid="ignore"):
        expected = np.prod(d)
    np.testing.assert_equal(kb.Diag(d).det(), expected)


@pytest.mark.parametrize("size", [2.5, None, "ab", -1, (2, 3, 4)])
def test_structural_operators_reject_bad_sizes_with_value_error(size):
    for make in (kb.Identity, lambda s: kb.Zero(s, 2)):
        with pytest.raises(ValueError, match="expected a size n or a matrix shape"):
            make(size)


def test_dot_test_accepts_a_plain_matrix_and_rejects_non_operators():
    A = np.random.default_rng(0).standard_normal((4, 3))
    assert kb.check.dot_test(A)
    with pytest.raises(ValueError, match=r"check\.dot_test: op \(str\)"):
        kb.check.dot_test("A")


@pytest.mark.parametrize(
    "op",
    [
        kb.Identity(0),
        kb.Diag(np.zeros(0)),
        kb.Dense(np.zeros((0, 0))),
        kb.Kron(np.zeros((0, 0)), np.eye(2)),
        kb.KronSum(np.zeros((0, 0)), np.eye(2)),
    ],
    ids=repr,
)
@pytest.mark.parametrize("b_shape", [(0,), (0, 1), (0, 3)])
def test_solve_on_empty_operators_returns_an_empty_solution(op, b_shape):
    b = np.zeros(b_shape)
    np.testing.assert_array_equal(op.solve(b), np.linalg.solve(np.zeros((0, 0)), b))


@settings(deadline=None, max_examples=30)
@given(
    shapes=st.tuples(*[st.integers(1, 3)] * 4),
    dtypes=st.tuples(*[st.sampled_from(DTYPES)] * 3),
    layout=st.sampled_from(["C", "F", "strided"]),
    seed=st.integers(0, 2**16),
)
def test_kron_and_box_on_mixed_dtypes_and_layouts(shapes, dtypes, layout, seed):
    """Factors and right-hand sides of different dtypes, in any memory layout, against ``np.kron``
    and an einsum of ``(A ⊠ B)_{(i,j),(k,l)} = A_{il} B_{jk}``."""
    m1, n1, m2, n2 = shapes
    rng = np.random.default_rng(seed)
    A = _array(rng, (m1, n1), dtypes[0])
    B = _array(rng, (m2, n2), dtypes[1])
    C = _array(rng, (m1, n1), dtypes[0])
    X = _array(rng, (n1 * n2, 6), dtypes[2])
    if layout == "F":
        A, B, X = np.asfortranarray(A), np.asfortranarray(B), np.asfortranarray(X)
    elif layout == "strided":
        X = X[:, ::2]
    kron = np.kron(A.astype(np.complex128), B)
    box = np.einsum("il,jk->ijkl", C.astype(np.complex128), B).reshape(m1 * m2, n2 * n1)
    tol = 1e-4 if np.float32 in dtypes else 1e-10
    np.testing.assert_allclose(kb.Kron(A, B) @ X, kron @ X, rtol=tol, atol=tol)
    np.testing.assert_allclose(kb.Kron(A, B) @ X[:, 0], kron @ X[:, 0], rtol=tol, atol=tol)
    np.testing.assert_allclose(kb.Kron(A, B).H @ (kron @ X), kron.conj().T @ (kron @ X), rtol=tol, atol=tol)
    np.testing.assert_allclose(kb.Box(C, B) @ X, box @ X, rtol=tol, atol=tol)
    np.testing.assert_allclose(kb.Box(C, B).T @ (box @ X), box.T @ (box @ X), rtol=tol, atol=tol)


@pytest.mark.parametrize("sparse", [sp.csr_matrix, sp.csc_array])
def test_sparse_right_hand_sides_are_read_as_dense_blocks(sparse):
    """scipy's LinearOperator accepts sparse blocks in ``matmat``/``@``; so does every operator."""
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((2, 4)) + 1j
    op, D = kb.Kron(A, B), np.kron(A, B)
    S = sparse(sp.random(12, 3, density=0.5, random_state=2))
    R = sparse(sp.random(6, 3, density=0.5, random_state=3))
    for got in (op @ S, op.dot(S), op.matmat(S)):
        np.testing.assert_allclose(got, D @ S.toarray())
    np.testing.assert_allclose(op.matvec(S[:, [0]]), D @ S.toarray()[:, [0]])
    np.testing.assert_allclose(op.rmatmat(R), D.conj().T @ R.toarray())
    np.testing.assert_allclose(R.T @ op, R.toarray().T @ D)


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1.0, 1e200])
def test_check_identity_verdict_does_not_depend_on_the_scale(scale):
    """Squares of tiny (huge) entries under- (over-)flow: a naive 2-norm calls any two tiny
    operators equal. The verdict must be the same at every scale."""
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    assert not kb.check.identity(kb.Dense(scale * A), kb.Dense(scale * B))
    assert not kb.check.identity(kb.Zero(3, 3), kb.Dense(scale * A))
    assert kb.check.identity(kb.Dense(scale * A), kb.Kron(np.array([[scale]]), A))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_check_identity_never_passes_non_finite_values(bad):
    """A failed report, and no FP warning: the checks apply non-finite operators on purpose (OpenBLAS
    multiplies an inf by padding zeros inside a matmul, which numpy reports as an invalid value)."""
    M = np.array([[bad, 1.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = kb.check.identity(kb.Dense(M), kb.Dense(M.copy()))
        assert not report
        assert not kb.check.dot_test(kb.Dense(M))


@pytest.mark.parametrize("c", [Fraction(1, 3), Decimal("0.5"), Fraction(-7, 2)])
def test_scaling_by_python_number_types(c):
    rng = np.random.default_rng(5)
    A, B, x = rng.standard_normal((3, 2)), rng.standard_normal((2, 4)), rng.standard_normal(8)
    reference = float(c) * np.kron(A, B)
    for op in (c * kb.Kron(A, B), kb.Kron(A, B) * c, -(c * kb.Kron(A, B)) * c / c * -1):
        assert op.dtype == np.float64
        np.testing.assert_allclose(op @ x, reference @ x)
    np.testing.assert_allclose((kb.Kron(A, B) / c) @ x, np.kron(A, B) @ x / float(c))


def test_half_precision_is_promoted_and_extended_precision_refused():
    """float16 factors compute in float32 (numpy.linalg has no float16); longdouble is refused clearly."""
    rng = np.random.default_rng(7)
    A = (rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float16)
    B = (rng.standard_normal((2, 2)) + 3 * np.eye(2)).astype(np.float16)
    op = kb.Kron(A, B)
    dense = np.kron(A.astype(np.float64), B.astype(np.float64))
    b = rng.standard_normal(6)
    assert op.dtype == np.float32
    np.testing.assert_allclose(op.solve(b), np.linalg.solve(dense, b), rtol=1e-4)
    np.testing.assert_allclose(op.det(), np.linalg.det(dense), rtol=1e-4)
    assert kb.Diag(np.ones(4, np.float16)).dtype == np.float32
    with pytest.raises(ValueError, match=r"float128|longdouble"):
        kb.Kron(np.eye(2, dtype=np.longdouble), np.eye(2))
    with pytest.raises(ValueError, match="Dense: the matrix must hold"):
        kb.Dense(np.array([["a"]]))

"""``vec`` and ``unvec`` in both orders, and the two conventions they give the Kronecker product.

Row-major (``"C"``, the default): ``vec(X) = X.ravel()``; column-major (``"F"``):
``vec_F(X) = vec_C(Xᵀ)``, the stacking of columns of Magnus–Neudecker and the Matrix Cookbook.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from zoo import dtypes, matrix_shapes, random, seeds

import kronbox as kb

HYPOTHESIS = settings(deadline=None, max_examples=40)


@given(matrix_shapes, dtypes, seeds)
@HYPOTHESIS
def test_vec_stacks_rows_or_columns(shape, dtype, seed):
    X = random(np.random.default_rng(seed), shape, dtype)
    m, n = shape
    rows = np.concatenate([X[i, :] for i in range(m)])
    columns = np.concatenate([X[:, j] for j in range(n)])
    np.testing.assert_array_equal(kb.vec(X), rows)
    np.testing.assert_array_equal(kb.vec(X, order="C"), rows)
    np.testing.assert_array_equal(kb.vec(X, order="F"), columns)
    np.testing.assert_array_equal(kb.vec(X, order="F"), kb.vec(X.T))
    assert kb.vec(X).dtype == dtype


@given(matrix_shapes, dtypes, seeds)
@HYPOTHESIS
def test_unvec_inverts_vec(shape, dtype, seed):
    X = random(np.random.default_rng(seed), shape, dtype)
    for order in ("C", "F"):
        np.testing.assert_array_equal(kb.unvec(kb.vec(X, order), shape, order), X)
        x = kb.vec(X, order)
        np.testing.assert_array_equal(kb.vec(kb.unvec(x, shape, order), order), x)
        np.testing.assert_array_equal(kb.unvec(x[:, None], shape, order), X)  # a column vector
        np.testing.assert_array_equal(kb.unvec(x[None, :], shape, order), X)  # a row vector


def test_row_major_vec_is_a_view(rng):
    X = rng.standard_normal((4, 3))
    assert np.shares_memory(kb.vec(X), X)
    assert np.shares_memory(kb.unvec(kb.vec(X), (4, 3)), X)


def test_vec_accepts_nested_lists():
    np.testing.assert_array_equal(kb.vec([[1, 2], [3, 4]]), [1, 2, 3, 4])
    np.testing.assert_array_equal(kb.vec([[1, 2], [3, 4]], order="F"), [1, 3, 2, 4])


@given(matrix_shapes, matrix_shapes, dtypes, seeds)
@HYPOTHESIS
def test_kronecker_identities_in_both_conventions(shape_a, shape_b, dtype, seed):
    """``(A ⊗ B) vec(X) = vec(A X Bᵀ)`` row-major; ``(Bᵀ ⊗ A) vec_F(X) = vec_F(A X B)`` column-major."""
    rng = np.random.default_rng(seed)
    A, B = random(rng, shape_a, dtype), random(rng, shape_b, dtype)
    X = random(rng, (A.shape[1], B.shape[1]), dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(np.kron(A, B) @ kb.vec(X), kb.vec(A @ X @ B.T), rtol=tol, atol=tol)
    Y = random(rng, (A.shape[1], B.shape[0]), dtype)
    np.testing.assert_allclose(
        kb.unvec(np.kron(B.T, A) @ kb.vec(Y, "F"), (A.shape[0], B.shape[1]), "F"), A @ Y @ B, rtol=tol, atol=tol
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: kb.vec(np.ones(3)), "(3,)"),
        (lambda: kb.vec(np.ones((2, 2, 2))), "(2, 2, 2)"),
        (lambda: kb.vec(np.ones((2, 2)), order="K"), "order"),
        (lambda: kb.unvec(np.ones(6), (4, 2)), "needs length 8"),
        (lambda: kb.unvec(np.ones(6), (6,)), "(m, n)"),
        (lambda: kb.unvec(np.ones((2, 3)), (3, 2)), "(2, 3)"),
        (lambda: kb.unvec(np.ones(6), (2, 3), order="A"), "order"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        call()

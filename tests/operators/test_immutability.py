"""Operators never serve results of values they no longer hold (issue 14, item 6).

Operators keep read-only views of the caller's numpy arrays: writing through an operator raises, the
caller's array stays writeable. When the caller changes its own array in place, products read the new
values, and results kept for later solves (Schur forms, the split of a disguised Kronecker sum, sparse
LUs, eigendecompositions) are recomputed: every answer below is checked against numpy on the changed
arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import kronbox as kb


def _matrix(rng, n, shift=4.0):
    return rng.standard_normal((n, n)) + shift * np.eye(n)


def _spd(rng, n):
    G = rng.standard_normal((n, n))
    return G @ G.T / n + np.eye(n)


def test_writing_through_an_operator_raises_and_the_callers_array_stays_writeable():
    rng = np.random.default_rng(0)
    A, B = _matrix(rng, 3), _matrix(rng, 2)
    u, d = rng.standard_normal(6), rng.standard_normal((3, 2))
    for op, held in [
        (kb.Kron(A, B), "A"), (kb.Box(A, B), "B"), (kb.KronSum(A, B), "A"),
        (kb.Outer(u, u), "u"), (kb.Diag(d), "d"), (kb.Dense(A), "M"),
    ]:
        with pytest.raises(ValueError, match="read-only"):
            getattr(op, held)[0] = 1.0
    assert A.flags.writeable and B.flags.writeable and u.flags.writeable and d.flags.writeable
    A[0, 0] = 7.0  # the caller's own array is untouched by kronbox
    assert A[0, 0] == 7.0


def _kronsum_twin(A, B):
    return np.kron(A, np.eye(B.shape[0])) + np.kron(np.eye(A.shape[0]), B)


@pytest.mark.parametrize("symmetric", [False, True], ids=["general", "symmetric"])
@pytest.mark.parametrize("changed", ["A", "B"])
def test_a_kronecker_sum_solves_with_the_values_it_holds_now(changed, symmetric):
    rng = np.random.default_rng(1)
    make = _spd if symmetric else _matrix
    A, B = make(rng, 5), make(rng, 4)
    L, inverse = kb.KronSum(A, B), kb.KronSum(A, B).inv()
    y = rng.standard_normal(20)
    np.testing.assert_allclose(L.solve(y), np.linalg.solve(_kronsum_twin(A, B), y), rtol=1e-10)
    inverse @ y
    M = A if changed == "A" else B
    M *= 2.0  # in place, after the factorization was kept
    M[0, 0] += 1.0
    twin = _kronsum_twin(A, B)
    expected = np.linalg.solve(twin, y)
    np.testing.assert_allclose(L @ expected, y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.solve(y), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(inverse @ y, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.solve(y[:, None]), expected[:, None], rtol=1e-10, atol=1e-12)


def test_a_disguised_kronecker_sum_solves_with_the_values_it_holds_now():
    rng = np.random.default_rng(2)
    A, B, C, D = _matrix(rng, 4), _spd(rng, 3), _spd(rng, 4), _matrix(rng, 3)
    op = kb.Kron(A, B) + 2 * kb.Kron(C, D)
    y = rng.standard_normal(12)
    op.solve(y)
    C += np.eye(4)
    D[1, 2] -= 0.5
    twin = np.kron(A, B) + 2 * np.kron(C, D)
    np.testing.assert_allclose(op.solve(y), np.linalg.solve(twin, y), rtol=1e-10, atol=1e-12)


def test_a_sparse_lu_follows_the_matrix():
    rng = np.random.default_rng(3)
    S = sp.random(10, 10, density=0.3, random_state=4, format="csr") + 5 * sp.eye(10, format="csr")
    op = kb.Dense(S)
    inverse = op.inv()
    y = rng.standard_normal(10)
    np.testing.assert_allclose(op.solve(y), np.linalg.solve(S.toarray(), y), rtol=1e-10)
    S.data *= 3.0  # in place: the same csr arrays
    expected = np.linalg.solve(S.toarray(), y)
    np.testing.assert_allclose(op.solve(y), expected, rtol=1e-10)
    np.testing.assert_allclose(inverse @ y, expected, rtol=1e-10)


def test_an_unchanged_operator_reuses_its_factorization():
    rng = np.random.default_rng(4)
    A, B = _matrix(rng, 6), _matrix(rng, 5)
    L = kb.KronSum(A, B)
    first = L.sylvester
    L.solve(rng.standard_normal(30))
    assert L.sylvester is first
    A[0, 0] += 1.0
    assert L.sylvester is not first


def test_a_foreign_symmetric_kronecker_sum_follows_its_factors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    A, B = torch.asarray(_spd(rng, 4)), torch.asarray(_spd(rng, 3))
    L = kb.KronSum(A, B)
    C = torch.asarray(rng.standard_normal((4, 3)))
    L.inv().apply(C)
    A.mul_(2.0)
    X = L.inv().apply(C)
    np.testing.assert_allclose((A @ X + X @ B.T).numpy(), C.numpy(), rtol=1e-10, atol=1e-12)


def test_products_and_dense_forms_read_the_callers_arrays_at_each_call():
    """The documented contract: no operator keeps a private copy of the caller's numbers for its products."""
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((2, 5))
    S, T = _matrix(rng, 3), _matrix(rng, 2)
    u, v, d = rng.standard_normal(6), rng.standard_normal(20), rng.standard_normal((3, 4))
    cases = [
        (kb.Kron(A, B), lambda: np.kron(A, B)),
        (kb.Box(A, B), lambda: np.einsum("il,jk->ijkl", A, B).reshape(6, 20)),
        (kb.KronSum(S, T), lambda: _kronsum_twin(S, T)),
        (kb.Outer(u, v), lambda: np.outer(u, v)),
        (kb.Diag(d), lambda: np.diag(d.ravel())),
        (kb.Dense(A), lambda: A),
        (2 * kb.Kron(A, B) + kb.Kron(A, B), lambda: 3 * np.kron(A, B)),
    ]
    for op, _ in cases:
        x, X = rng.standard_normal(op.shape[1]), rng.standard_normal((op.shape[1], 3))
        op @ x, op @ X, op.to_dense()  # used once before the change
    for M in (A, B, S, T, u, v, d):
        M *= -1.5  # in place
    for op, twin in cases:
        x, X = rng.standard_normal(op.shape[1]), rng.standard_normal((op.shape[1], 3))
        np.testing.assert_allclose(op @ x, twin() @ x, rtol=1e-12, err_msg=repr(op))
        np.testing.assert_allclose(op.matvec(x), twin() @ x, rtol=1e-12, err_msg=repr(op))
        np.testing.assert_allclose(op @ X, twin() @ X, rtol=1e-12, err_msg=repr(op))
        np.testing.assert_allclose(op.to_dense(), twin(), rtol=1e-12, err_msg=repr(op))

"""Every operator and expression pickles and deep-copies, before and after use (issue 14, item 5).

"Use" runs everything that keeps derived results on an operator (``Operator.kept``): products, the
dense form, the closed forms and, for square operators, ``solve`` and ``inv`` (Bartels–Stewart's Schur
forms on a Kronecker sum, the split of a disguised Kronecker sum, a sparse LU). A copy must equal the
zoo's dense twin and solve again; expressions come back as the same canonical (hash-consed) node.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from zoo import assert_close

import kronbox as kb
from kronbox import amd


def _copies(obj):
    return {"pickle": pickle.loads(pickle.dumps(obj)), "deepcopy": copy.deepcopy(obj), "copy": copy.copy(obj)}


def _use(op, rng) -> None:
    """Everything that can keep a derived result on ``op``."""
    x = rng.standard_normal(op.shape[1])
    op @ x
    op @ rng.standard_normal((op.shape[1], 2))
    op.to_dense()
    if not op.square:
        return
    op.trace()
    try:
        op.solve(rng.standard_normal(op.shape[0]))
        op.inv() @ x
        op.slogdet()
    except (np.linalg.LinAlgError, ValueError):  # a singular member of the zoo
        pass


def _check_copy(original, twin, dtype, rng, when: str) -> None:
    for how, op in _copies(original).items():
        what = f"{original!r}, {how} {when}"
        assert type(op) is type(original), what
        assert_close(op.to_dense(), twin, dtype, what)
        x = rng.standard_normal(op.shape[1]).astype(dtype)
        assert_close(op @ x, twin @ x, dtype, what)
        _use(op, rng)  # a copy computes what it needs again


@pytest.mark.parametrize("stage", ["before use", "after use"])
def test_every_zoo_operator_pickles_and_copies(built, dtype, stage):
    op, twin = built
    rng = np.random.default_rng(5)
    if stage == "after use":
        _use(op, rng)
    _check_copy(op, twin, dtype, rng, stage)


def _spd(rng, n):
    G = rng.standard_normal((n, n))
    return G @ G.T / n + np.eye(n)


def _solved_operators(rng):
    """Operators that keep a factorization once solved with, and their dense twins."""
    A, B = rng.standard_normal((4, 4)) + 4 * np.eye(4), rng.standard_normal((3, 3)) + 4 * np.eye(3)
    C, D = _spd(rng, 4), _spd(rng, 3)
    S = sp.random(12, 12, density=0.3, random_state=1, format="csr") + 4 * sp.eye(12, format="csr")
    kronsum_twin = np.kron(A, np.eye(3)) + np.kron(np.eye(4), B)
    return {
        "KronSum": (kb.KronSum(A, B), kronsum_twin),
        "KronSum (symmetric)": (kb.KronSum(C, D), np.kron(C, np.eye(3)) + np.kron(np.eye(4), D)),
        "KronSum(A, B).inv()": (kb.KronSum(A, B).inv(), np.linalg.inv(kronsum_twin)),
        "Inverse(KronSum)": (kb.Inverse(kb.KronSum(A, B)), np.linalg.inv(kronsum_twin)),
        "disguised Kronecker sum": (kb.Kron(A, D) + 2 * kb.Kron(C, B), np.kron(A, D) + 2 * np.kron(C, B)),
        "sparse Dense": (kb.Dense(S), S.toarray()),
        "sparse Dense inverse": (kb.Dense(S).inv(), np.linalg.inv(S.toarray())),
    }


@pytest.mark.parametrize("name", list(_solved_operators(np.random.default_rng(0))))
def test_solved_operators_pickle_and_copy_and_solve_again(name):
    rng = np.random.default_rng(11)
    op, twin = _solved_operators(rng)[name]
    b = rng.standard_normal(op.shape[0])
    expected = np.linalg.solve(twin, b)
    np.testing.assert_allclose(op.solve(b), expected, rtol=1e-10, atol=1e-12)
    op @ b
    for how, again in _copies(op).items():
        np.testing.assert_allclose(again.solve(b), expected, rtol=1e-10, atol=1e-12, err_msg=how)
        np.testing.assert_allclose(again @ b, twin @ b, rtol=1e-10, atol=1e-12, err_msg=how)
        for twice in _copies(again).values():  # a used copy copies again
            np.testing.assert_allclose(twice.solve(b), expected, rtol=1e-10, atol=1e-12, err_msg=how)


def test_the_sylvester_solver_pickles():
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((70, 70)) + 9 * np.eye(70), rng.standard_normal((5, 5)) + 9 * np.eye(5)
    solver = kb.KronSum(A, B).sylvester
    C = rng.standard_normal((70 * 5, 2))
    for how, again in _copies(solver).items():
        np.testing.assert_allclose(again.solve(C), solver.solve(C), rtol=1e-12, atol=1e-12, err_msg=how)


def test_expressions_and_derivatives_pickle_and_copy():
    rng = np.random.default_rng(3)
    n = 4
    X0 = _spd(rng, n)
    X = amd.var("X", (n, n))
    S = amd.const("S", _spd(rng, n))
    f = -amd.logdet(X) - amd.trace(S @ amd.inv(X)) + amd.sum(amd.exp(X))
    g = amd.grad(f, X)
    J = amd.jacobian(amd.sqrtm(X), X)
    parsed = amd.parse("x'*A*x + trace(inv(Y))")
    values = {"X": X0}
    f_value, g_value = f.eval(**values), g.eval(**values)
    J_dense = J.at(values).to_dense()
    free = -amd.logdet(X) + amd.sum(amd.exp(X))  # no constant array: hash-consed by structure alone
    for e in (X, free, amd.grad(free, X), parsed):
        for how, again in _copies(e).items():
            assert again is e, f"{e}: {how} is not the canonical node"
    # a constant is interned by its array, so a copy of S (and of what holds it) is a new node, and works
    for how, again in _copies(f).items():
        assert again.eval(**values) == f_value, how
    for how, again in _copies(g).items():
        np.testing.assert_array_equal(again.eval(**values), g_value, err_msg=how)
    for how, again in _copies(J).items():
        np.testing.assert_allclose(again.at(values).to_dense(), J_dense, rtol=1e-12, atol=1e-12, err_msg=how)
    # a lazy Jacobian, used (its Kronecker sum solved), pickles and solves again
    op = J.at(values)
    b = rng.standard_normal(op.shape[1])
    y = op @ b
    for how, again in _copies(op).items():
        np.testing.assert_allclose(again @ b, y, rtol=1e-12, atol=1e-12, err_msg=how)


def test_a_hessian_pickles():
    X = amd.var("X", (3, 3))
    H = amd.hessian(amd.logdet(X), X)
    again = pickle.loads(pickle.dumps(H))
    X0 = 2 * np.eye(3)
    np.testing.assert_allclose(again.at({"X": X0}).to_dense(), H.at({"X": X0}).to_dense())

"""kronbox keeps scipy's LinearOperator contract (issue 14, item 13): scipy ≥ 1.18 deprecates passing an
``(N, 1)`` column to ``LinearOperator.matvec``/``rmatvec`` (a FutureWarning). kronbox's own ``matvec`` and
``rmatvec`` take such a column (and return an ``(M, 1)`` column, as scipy does) without ever handing it
to scipy's methods: the test wraps them to fail on any 2-D input, whatever the installed scipy says.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from scipy.sparse.linalg import LinearOperator


@pytest.fixture
def strict_scipy(monkeypatch):
    """scipy's ``matvec``/``rmatvec`` as of 1.18's deprecation, made an error: no 2-D input."""
    calls = []

    def guard(name):
        original = getattr(LinearOperator, name)

        def checked(self, x):
            if np.ndim(x) == 2:
                calls.append((type(self).__name__, name, np.shape(x)))
                raise AssertionError(f"{type(self).__name__}: scipy's LinearOperator.{name} got a 2-D input")
            return original(self, x)

        monkeypatch.setattr(LinearOperator, name, checked)

    guard("matvec")
    guard("rmatvec")
    return calls


def test_columns_through_matvec_and_rmatvec(built, dtype, strict_scipy):
    op, twin = built
    rng = np.random.default_rng(9)
    x = rng.standard_normal((op.shape[1], 1)).astype(dtype)
    y = rng.standard_normal((op.shape[0], 1)).astype(dtype)
    tol = 2e-4 if np.dtype(dtype) == np.float32 else 1e-10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = op.matvec(x)
        assert got.shape == (op.shape[0], 1)
        np.testing.assert_allclose(got, twin @ x, rtol=tol, atol=tol * max(1, np.abs(twin).max(initial=0)))
        got = op.rmatvec(y)
        assert got.shape == (op.shape[1], 1)
        np.testing.assert_allclose(got, twin.conj().T @ y, rtol=tol, atol=tol * max(1, np.abs(twin).max(initial=0)))
        # and a vector stays a vector
        assert op.matvec(x[:, 0]).shape == (op.shape[0],)
        assert op.rmatvec(y[:, 0]).shape == (op.shape[1],)
    assert strict_scipy == []


def test_scipy_solvers_on_kronbox_operators_keep_the_contract(strict_scipy):
    import kronbox as kb

    rng = np.random.default_rng(10)
    A = rng.standard_normal((6, 6)) + 6 * np.eye(6)
    B = rng.standard_normal((5, 5)) + 6 * np.eye(5)
    L = kb.KronSum(A, B)
    b = rng.standard_normal(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, info = spla.gmres(L, b, rtol=1e-12, atol=0)
        assert info == 0
        x2 = spla.lsqr(L, b, atol=1e-14, btol=1e-14)[0]
        np.testing.assert_allclose(L @ x2, b, atol=1e-9)
        np.testing.assert_allclose(L @ x, b, atol=1e-9)
        np.testing.assert_allclose(L.solve(b[:, None]), L.solve(b)[:, None], atol=1e-12)
    assert strict_scipy == []

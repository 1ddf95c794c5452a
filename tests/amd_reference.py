"""Independent references for the differentiation tests: derivatives of plain numpy functions.

Everything here is computed from numpy (and scipy's dense routines) alone, never through kronbox:
central finite differences of a function written in numpy give the dense Jacobian, gradient and
Hessian that :mod:`kronbox.amd` must reproduce. ``vec`` is row-major (``X.ravel()``) unless
``order="F"`` asks for column stacking; a Jacobian is ``∂vec(F)/∂vec(X)ᵀ`` in that order.

Also here: well-conditioned random values, the walk over a lazy operator's tree, and the
comparison with a tolerance relative to the largest entry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import kronbox as kb


# ------------------------------------------------------------------------------------ values
def spd(rng: np.random.Generator, n: int) -> np.ndarray:
    """``A Aᵀ / n + I``: symmetric positive definite, eigenvalues in about ``[1, 5]``."""
    A = rng.standard_normal((n, n))
    return A @ A.T / n + np.eye(n)


def near_identity(rng: np.random.Generator, n: int, scale: float = 2.0) -> np.ndarray:
    """``scale·I + 0.3 N/√n``: not symmetric, eigenvalues in a small disk about ``scale`` (so the
    inverse, ``logdet`` and the principal square root are well defined and well conditioned)."""
    return scale * np.eye(n) + 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)


# ------------------------------------------------------------------------ finite differences
def _step(X: np.ndarray, h: float | None) -> float:
    return 1e-6 * max(1.0, float(np.abs(X).max())) if h is None else h


def fd_jacobian(f: Callable[[np.ndarray], np.ndarray], X: np.ndarray, order: str = "C",
                h: float | None = None) -> np.ndarray:
    """``∂vec(f)/∂vec(X)ᵀ`` by central differences, ``vec`` in ``order`` on both sides; a scalar
    ``f`` gives one row."""
    X = np.asarray(X, dtype=np.float64)
    h = _step(X, h)
    x = X.ravel(order=order)
    columns = []
    for k in range(x.size):
        E = np.zeros_like(x)
        E[k] = h
        plus = np.asarray(f((x + E).reshape(X.shape, order=order)), dtype=np.float64)
        minus = np.asarray(f((x - E).reshape(X.shape, order=order)), dtype=np.float64)
        columns.append(((plus - minus) / (2 * h)).ravel(order=order))
    return np.stack(columns, axis=1)


def fd_gradient(f: Callable[[np.ndarray], float], X: np.ndarray, h: float | None = None) -> np.ndarray:
    """``∂f/∂X`` (the shape of ``X``, every entry independent) by central differences."""
    X = np.asarray(X, dtype=np.float64)
    return fd_jacobian(f, X, h=h).reshape(X.shape)


def fd_hessian(f: Callable[[np.ndarray], float], X: np.ndarray, h: float | None = None) -> np.ndarray:
    """The dense Hessian on row-major ``vec(X)`` by second central differences of ``f`` itself."""
    X = np.asarray(X, dtype=np.float64)
    h = 1e-4 * max(1.0, float(np.abs(X).max())) if h is None else h
    x, N = X.ravel(), X.size

    def at(*shifts):
        y = x.copy()
        for k, s in shifts:
            y[k] += s * h
        return float(f(y.reshape(X.shape)))

    H = np.empty((N, N))
    for i in range(N):
        H[i, i] = (at((i, 1)) - 2 * at() + at((i, -1))) / h**2
        for j in range(i):
            H[i, j] = H[j, i] = (at((i, 1), (j, 1)) - at((i, 1), (j, -1)) - at((i, -1), (j, 1))
                                 + at((i, -1), (j, -1))) / (4 * h**2)
    return H


# ------------------------------------------------------------------------------ comparisons
def assert_close(actual, expected, rtol: float, what: str = "") -> None:
    """Entrywise agreement within ``rtol`` times the largest entry of ``expected`` (at least 1)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale, err_msg=what)


# --------------------------------------------------------------------------- operator trees
def operator_nodes(op) -> list:
    """Every kronbox operator in the tree of ``op`` (``op`` itself first); factors that are
    operators (a Kronecker factor, the summands, the inverted operator) are visited too."""
    out, stack = [], [op]
    while stack:
        node = stack.pop()
        if not isinstance(node, kb.Operator):
            continue
        out.append(node)
        for attr in ("ops", "op", "A", "B"):
            child = getattr(node, attr, None)
            stack.extend(child if isinstance(child, tuple) else [child])
    return out


def assert_lazy(op, jacobian_shape: tuple[int, int]) -> None:
    """``op`` is a kronbox operator of ``jacobian_shape`` built from structured pieces: no
    :class:`kronbox.Dense` node anywhere in its tree (the full Jacobian is never stored)."""
    assert isinstance(op, kb.Operator), f"{type(op).__name__} is not a kronbox operator"
    assert op.shape == jacobian_shape, f"shape {op.shape}, expected {jacobian_shape}"
    dense = [type(n).__name__ for n in operator_nodes(op) if isinstance(n, kb.Dense)]
    assert not dense, f"{op!r} holds a dense matrix"


def symmetric_projector(n: int) -> np.ndarray:
    """``Π`` with ``Π vec(V) = vec(sym V) = vec((V + Vᵀ)/2)`` (row-major), by its entries."""
    K = np.zeros((n * n, n * n))
    for i in range(n):
        for j in range(n):
            K[i * n + j, j * n + i] = 1.0
    return (np.eye(n * n) + K) / 2

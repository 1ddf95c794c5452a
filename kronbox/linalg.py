"""Closed forms on operators that never form the matrix: ``trace`` (more to come per operator).

Each function dispatches on the operator type, so the table of closed forms reads top to bottom.
Row-major index pairs ``(ij) = i·m2 + j`` as in :mod:`kronbox.operators.products`.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .operators import (
    Box,
    Commutation,
    Compose,
    Dense,
    Diag,
    Identity,
    Kron,
    Outer,
    Scaled,
    Sum,
    Transpose,
    Zero,
    factors,
)
from .operators.base import Operator, shape_text

# Columns probed at once when a trace has no closed form.
_PROBE_BLOCK = 64


def _require_square(op: Operator, what: str) -> None:
    if op.shape[0] != op.shape[1]:
        raise ValueError(f"{what} needs a square operator, {op!r} is {shape_text(op.shape)}")


def _factor_entries(F, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``F[rows, cols]`` for a dense, sparse or operator factor (operators are densified: they are small)."""
    if sp.issparse(F):
        return np.asarray(F.tocsr()[rows, cols]).ravel()
    return factors.to_array(F)[rows, cols]


@singledispatch
def trace(op: LinearOperator):
    """``tr(A) = Σ_p A[p, p]``, exact. Without a closed form: probe ``A`` with blocks of unit vectors."""
    op = op if isinstance(op, Operator) else Dense(op)
    _require_square(op, "trace")
    N = op.shape[0]
    total = np.zeros((), dtype=op.dtype)
    for start in range(0, N, _PROBE_BLOCK):
        stop = min(start + _PROBE_BLOCK, N)
        E = np.zeros((N, stop - start), dtype=op.dtype)
        E[np.arange(start, stop), np.arange(stop - start)] = 1
        total = total + np.trace(op._matmat(E)[start:stop])
    return total.item()


@trace.register
def _(op: Kron):
    """``tr(A ⊗ B) = tr A · tr B`` for square factors; else ``Σ_p A[i,k] B[j,l]`` on the diagonal."""
    _require_square(op, "trace")
    A, B = op.A, op.B
    if A.shape[0] == A.shape[1] and B.shape[0] == B.shape[1]:
        return (_factor_trace(A) * _factor_trace(B)).item()
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, B.shape[1])
    return np.sum(_factor_entries(A, i, k) * _factor_entries(B, j, l)).item()


@trace.register
def _(op: Box):
    """``tr(A ⊠ B) = tr(A B)`` for ``A`` ``m×n`` and ``B`` ``n×m``; else ``Σ_p A[i,l] B[j,k]``."""
    _require_square(op, "trace")
    A, B = op.A, op.B
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, A.shape[1])
    if A.shape == B.shape[::-1] and isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
        return np.einsum("ij,ji->", A, B).item()
    return np.sum(_factor_entries(A, i, l) * _factor_entries(B, j, k)).item()


def _factor_trace(F):
    if isinstance(F, LinearOperator):
        return np.asarray(trace(F))
    return np.asarray(F.diagonal().sum())


@trace.register
def _(op: Outer):
    """``tr(u vᵀ) = vᵀ u``."""
    _require_square(op, "trace")
    return (op.v @ op.u).item()


@trace.register
def _(op: Diag):
    return op.diagonal.sum().item()


@trace.register
def _(op: Identity):
    return op.dtype.type(op.shape[0]).item()


@trace.register
def _(op: Zero):
    _require_square(op, "trace")
    return op.dtype.type(0).item()


@trace.register
def _(op: Commutation):
    """``tr(I_m ⊠ I_n)`` counts the fixed points of the perfect shuffle: ``1 + gcd(m-1, n-1)``."""
    if op.m == 0 or op.n == 0:
        return op.dtype.type(0).item()
    return op.dtype.type(1 + np.gcd(op.m - 1, op.n - 1)).item()


@trace.register
def _(op: Scaled):
    return op.c * trace(op.op)


@trace.register
def _(op: Sum):
    """Linearity: ``tr(Σ Aᵢ) = Σ tr(Aᵢ)``."""
    _require_square(op, "trace")
    return sum(trace(term) for term in op.ops)


@trace.register
def _(op: Transpose):
    return trace(op.op)


@trace.register
def _(op: Dense):
    _require_square(op, "trace")
    if isinstance(op.M, LinearOperator):
        return trace(op.M)
    return op.M.diagonal().sum().item()


@trace.register
def _(op: Compose):
    """A single factor is its own trace; otherwise probe (simplify first where identities apply)."""
    _require_square(op, "trace")
    if len(op.ops) == 1:
        return trace(op.ops[0])
    return trace.dispatch(LinearOperator)(op)

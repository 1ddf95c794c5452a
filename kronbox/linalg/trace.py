"""``tr(A)`` of an operator without forming it: a closed form per operator type.

Row-major index pairs ``(ij) = i·m2 + j``: ``tr(A ⊗ B) = tr A · tr B``, ``tr(A ⊠ B) = tr(A B)``,
``tr(u vᵀ) = vᵀ u``, ``tr(A ⊕ B) = m2 tr A + m1 tr B``; without a closed form the trace is probed
with blocks of unit vectors.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox import operators as ops
from kronbox.linalg.checks import numpy_only, require_square
from kronbox.linalg.shared_eigenbasis import recognize
from kronbox.operators.base import Operator

# Columns probed at once when a trace has no closed form.
_PROBE_BLOCK = 64


def _factor_entries(F, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``F[rows, cols]`` for a dense, sparse or operator factor (operators are densified: they are small)."""
    if sp.issparse(F):
        return np.asarray(F.tocsr()[rows, cols]).ravel()
    return ops.factors.to_array(F)[rows, cols]


@singledispatch
def trace(op: LinearOperator) -> float | complex:
    """``tr(A) = Σ_p A[p, p]``, exact. Without a closed form: probe ``A`` with blocks of unit vectors."""
    op = op if isinstance(op, Operator) else ops.Dense(op)
    require_square(op, "trace")
    N = op.shape[0]
    total = np.zeros((), dtype=op.dtype)
    for start in range(0, N, _PROBE_BLOCK):
        stop = min(start + _PROBE_BLOCK, N)
        E = np.zeros((N, stop - start), dtype=op.dtype)
        E[np.arange(start, stop), np.arange(stop - start)] = 1
        total = total + np.trace(op._matmat(E)[start:stop])
    return total.item()


@trace.register
def _(op: ops.Kron):
    """``tr(A ⊗ B) = tr A · tr B`` for square factors; else ``Σ_p A[i,k] B[j,l]`` on the diagonal."""
    require_square(op, "trace")
    A, B = op.A, op.B
    if A.shape[0] == A.shape[1] and B.shape[0] == B.shape[1]:
        return (_factor_trace(A) * _factor_trace(B)).item()
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, B.shape[1])
    return np.sum(_factor_entries(A, i, k) * _factor_entries(B, j, l)).item()


@trace.register
def _(op: ops.Box):
    """``tr(A ⊠ B) = tr(A B)`` for ``A`` ``m×n`` and ``B`` ``n×m``; else ``Σ_p A[i,l] B[j,k]``."""
    require_square(op, "trace")
    A, B = op.A, op.B
    if A.shape == B.shape[::-1]:
        return _product_trace(A, B).item()
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, A.shape[1])
    return np.sum(_factor_entries(A, i, l) * _factor_entries(B, j, k)).item()


def _factor_trace(F):
    if isinstance(F, LinearOperator):
        return np.asarray(trace(F))
    return np.asarray(F.diagonal().sum())


def _product_trace(A, B):
    """``tr(A B) = Σ A ∘ Bᵀ`` for factors ``A`` (``m×n``) and ``B`` (``n×m``) of any kind."""
    if isinstance(A, LinearOperator) or isinstance(B, LinearOperator):
        return np.asarray(trace(ops.Compose(A, B)))
    if sp.issparse(A):
        return np.asarray(A.multiply(B.T).sum())
    if sp.issparse(B):
        return np.asarray(B.multiply(A.T).sum())
    return np.asarray(np.einsum("ij,ji->", A, B))


@trace.register
def _(op: ops.Outer):
    """``tr(u vᵀ) = vᵀ u``."""
    require_square(op, "trace")
    return (op.v @ op.u).item()


@trace.register
def _(op: ops.Diag):
    return op.diagonal.sum().item()


@trace.register
def _(op: ops.Identity):
    return op.dtype.type(op.shape[0]).item()


@trace.register
def _(op: ops.Zero):
    require_square(op, "trace")
    return op.dtype.type(0).item()


@trace.register
def _(op: ops.Commutation):
    """``tr(I_m ⊠ I_n)`` counts the fixed points of the perfect shuffle: ``1 + gcd(m-1, n-1)``."""
    if op.m == 0 or op.n == 0:
        return op.dtype.type(0).item()
    return op.dtype.type(1 + np.gcd(op.m - 1, op.n - 1)).item()


@trace.register
def _(op: ops.Scaled):
    return op.c * trace(op.op)


@trace.register
def _(op: ops.Sum):
    """Linearity: ``tr(Σ Aᵢ) = Σ tr(Aᵢ)``."""
    require_square(op, "trace")
    return sum(trace(term) for term in op.ops)


@trace.register
def _(op: ops.Transpose):
    return trace(op.op)


@trace.register
def _(op: ops.Dense):
    require_square(op, "trace")
    if isinstance(op.M, LinearOperator):
        return trace(op.M)
    return op.M.diagonal().sum().item()


@trace.register
def _(op: ops.KronSum):
    """``tr(A ⊗ I_{m2} + I_{m1} ⊗ B) = m2 tr A + m1 tr B``."""
    m1, m2 = op.in_shape
    return (m2 * _factor_trace(op.A) + m1 * _factor_trace(op.B)).item()


@trace.register
def _(op: ops.Compose):
    """The product simplified (mixed products, connectors); if it stays a product, cyclically:
    an outer factor gives ``tr(A u vᵀ B) = vᵀ B A u``, else probe ``tr(A B) = tr(B A)`` in the
    rotation with the fewest rows."""
    require_square(op, "trace")
    simplified = op.simplify()
    if not isinstance(simplified, ops.Compose):
        return trace(simplified)
    chain = simplified.ops
    i = next((i for i, factor in enumerate(chain) if isinstance(factor, ops.Outer)), None)
    if i is not None:
        outer = chain[i]
        assert isinstance(outer, ops.Outer)
        w = outer.u[:, None]
        for factor in reversed(chain[i + 1 :] + chain[:i]):
            w = factor._matmat(w)
        return (outer.v @ w)[0].item()
    i = min(range(len(chain)), key=lambda i: chain[i].shape[0])
    return trace.dispatch(LinearOperator)(ops.Compose(*chain[i:], *chain[:i]))




@trace.register
def _(op: ops.Inverse):
    """``tr((c ⊗Kᵢ + s ⊗Dᵢ)⁻¹)`` in closed form (:mod:`kronbox.linalg.shared_eigenbasis`); otherwise probed."""
    structure = recognize(op.op)
    closed = structure.trace_of_inverse() if structure is not None else None
    return closed if closed is not None else trace.dispatch(LinearOperator)(op)


def checked_trace(op: Operator):
    """:func:`trace` of a kronbox operator of numpy arrays (the closed forms read factor entries on the host).

    A zero trace is ``+0.0`` (``0j``): products of factor traces can make a ``-0.0`` (``tr(0×0 ⊗ B) =
    0 · tr B``) where the sum of the diagonal, empty or not, is a plain zero.
    """
    if op.backend is not None:
        raise numpy_only(op, "trace", op.backend.library)
    return _positive_zero(trace(op))


def _positive_zero(t):
    """``t`` with a signed zero (in either part of a complex number) made ``+0.0``; other values as they are."""
    if isinstance(t, complex | np.complexfloating):
        return type(t)(complex(t.real + 0.0, t.imag + 0.0))
    if isinstance(t, float | np.floating):
        return t + type(t)(0.0)
    return t

"""``A⁻¹`` as a lazy operator built from the inverses of the small factors, never of the big matrix.

``(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹``, ``(A ⊠ B)⁻¹ = B⁻¹ ⊠ A⁻¹``, ``(A₁ ⋯ A_k)⁻¹ = A_k⁻¹ ⋯ A₁⁻¹``. A small dense factor
is inverted by ``numpy.linalg.inv``: applying it is then one GEMM in numpy's BLAS pool, measured at
0.49–0.86× the time of ``scipy.linalg.lu_solve`` with kept LU factors (n = 100–1000,
``bench/suites/sylvester.py``). A Kronecker sum, a sparse factor or a large operator without
structure gets the lazy :class:`kronbox.Inverse`, which solves on every apply.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox import operators as ops
from kronbox.linalg.checks import (
    DENSE_MAX,
    kept_sparse_lu,
    singular_factor,
    singular_reason,
    square_operator,
    symmetric_foreign_kronsum,
)
from kronbox.linalg.shared_eigenbasis import foreign_eigenbasis, recognize
from kronbox.linalg.sylvester import as_kron_plus_box, as_kronecker_sum
from kronbox.operators.base import Operator, shape_text


def inv(op) -> Operator:
    """``A⁻¹`` as a lazy operator (closed forms, see the table); ``LinAlgError`` if ``A`` is singular."""
    if symmetric_foreign_kronsum(op) or foreign_eigenbasis(op) is not None:
        return ops.Inverse(op)  # solved in the library (kronbox.linalg.symmetric_sylvester)
    op = square_operator(op, "inv")
    reason = singular_reason(op)
    if reason is not None:
        raise np.linalg.LinAlgError(f"inv: {reason}; it has no inverse")
    return _inv(op)


def _factor_inv(F, role: str):
    """``F⁻¹`` of a Kron or Box factor: dense factors by ``numpy.linalg.inv`` (see the module docstring)."""
    try:
        if isinstance(F, np.ndarray):
            return np.linalg.inv(F)
        if sp.issparse(F):
            dense = ops.Dense(F)
            inverse = ops.Inverse(dense)  # solves through dense's kept LU
            kept_sparse_lu(dense, F.dtype)  # fail now, with the factor's name, if it is singular
            return inverse
        return inv(F)
    except np.linalg.LinAlgError as err:
        raise singular_factor(role, F, err) from None


@singledispatch
def _inv(op: LinearOperator) -> Operator:
    """No closed form: the dense inverse if ``N ≤ 2048``, else the lazy :class:`Inverse` (Krylov solves)."""
    op = op if isinstance(op, Operator) else ops.Dense(op)
    if op.shape[0] > DENSE_MAX:
        return ops.Inverse(op)
    try:
        return ops.Dense(np.linalg.inv(op.to_dense()), op.out_shape, op.in_shape)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"inv: {op!r} ({shape_text(op.shape)}) is singular") from None


@_inv.register
def _(op: ops.Kron):
    """``(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹``."""
    return ops.Kron(_factor_inv(op.A, "Kron: the left factor"), _factor_inv(op.B, "Kron: the right factor"))


@_inv.register
def _(op: ops.Box):
    """``(A ⊠ B)⁻¹ = B⁻¹ ⊠ A⁻¹``."""
    return ops.Box(_factor_inv(op.B, "Box: the right factor"), _factor_inv(op.A, "Box: the left factor"))


@_inv.register
def _(op: ops.Commutation):
    """``(I_m ⊠ I_n)⁻¹ = (I_m ⊠ I_n)ᵀ = I_n ⊠ I_m`` (a permutation)."""
    return ops.Commutation(op.n, op.m, dtype=op.dtype)


@_inv.register
def _(op: ops.Diag):
    """``diag(d)⁻¹ = diag(1/d)``."""
    zeros = np.flatnonzero(op.diagonal == 0)
    if zeros.size:
        raise np.linalg.LinAlgError(f"{op!r} is singular: diagonal entry {zeros[0]} is zero")
    return ops.Diag(1 / op.d)


@_inv.register
def _(op: ops.Identity):
    return op


@_inv.register
def _(op: ops.Scaled):
    """``(c A)⁻¹ = c⁻¹ A⁻¹``."""
    if op.c == 0:
        raise np.linalg.LinAlgError(f"{op!r} is singular: the coefficient is zero")
    return ops.Scaled(1 / op.c, inv(op.op))


@_inv.register
def _(op: ops.Transpose):
    """``(Aᵀ)⁻¹ = (A⁻¹)ᵀ``."""
    return inv(op.op).T


@_inv.register
def _(op: ops.Compose):
    """``(A₁ ⋯ A_k)⁻¹ = A_k⁻¹ ⋯ A₁⁻¹`` for square factors; otherwise no closed form."""
    if not all(factor.square for factor in op.ops):
        return _inv.dispatch(LinearOperator)(op)
    return ops.Compose(*(inv(factor) for factor in reversed(op.ops)))


@_inv.register
def _(op: ops.Dense):
    """A dense matrix: ``numpy.linalg.inv``; sparse: the lazy :class:`Inverse` (sparse LU solves)."""
    if isinstance(op.M, np.ndarray):
        return ops.Dense(_factor_inv(op.M, "Dense"), op.out_shape, op.in_shape)
    if sp.issparse(op.M):
        kept_sparse_lu(op, op.M.dtype)
        return ops.Inverse(op)
    if isinstance(op.M, Operator):
        return inv(op.M)
    return _inv.dispatch(LinearOperator)(op)


@_inv.register
def _(op: ops.KronSum):
    """``(A ⊕ B)⁻¹``: lazy, each apply one Bartels–Stewart solve with the Schur forms kept on ``op``."""
    return ops.Inverse(op)


@_inv.register
def _(op: ops.Sum):
    """Kronecker plus diagonal, or a Kron plus a Box: the lazy inverse, each apply a structured solve;
    ``((P ⊗ Q)(A' ⊕ B'))⁻¹ = (A' ⊕ B')⁻¹ (P⁻¹ ⊗ Q⁻¹)`` when the sum is a disguised Kronecker sum."""
    if recognize(op) is not None or as_kron_plus_box(op) is not None:
        return ops.Inverse(op)
    split = as_kronecker_sum(op)
    if split is None:
        return _inv.dispatch(LinearOperator)(op)
    outer, kronsum = split
    return ops.Inverse(kronsum) if outer is None else ops.Compose(ops.Inverse(kronsum), inv(outer))


@_inv.register
def _(op: ops.Inverse):
    return op.op



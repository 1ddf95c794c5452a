"""``x`` with ``A x = b`` by a closed form per operator type, every right-hand side at once.

Each factor is factorized once per call, for all columns together, with ``numpy.linalg.solve``
(LU and triangular solves in numpy's pool: 1.05–1.10× scipy's ``lu_factor`` + ``lu_solve`` on one
thread, 0.54–0.67× on two at n ≥ 300). ``(A ⊗ B) vec(X) = vec(C)`` is ``X = A⁻¹ C B⁻ᵀ``; Kronecker
sums go by Bartels–Stewart (:mod:`kronbox.linalg.sylvester`). Operators without a closed form are
factorized densely up to ``N = 2048`` and solved by Krylov methods beyond
(:mod:`kronbox.linalg.krylov`).
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox import operators as ops
from kronbox.backend import library, numeric_array, of_foreign
from kronbox.linalg.checks import (
    DENSE_MAX,
    kept_sparse_lu,
    numpy_only,
    singular_factor,
    singular_reason,
    sparse_lu,
    square_operator,
    symmetric_foreign_kronsum,
)
from kronbox.linalg.inverse import inv
from kronbox.linalg.krylov import krylov_solve
from kronbox.linalg.shared_eigenbasis import foreign_eigenbasis, recognize
from kronbox.linalg.sylvester import as_kronecker_sum, kron_plus_box_solve
from kronbox.linalg.symmetric_sylvester import for_kronsum
from kronbox.operators.base import Operator, shape_text


def solve(op, b) -> np.ndarray:
    """``x`` with ``A x = b``, for a vector ``b`` of length ``N`` or an ``N × k`` block of columns.

    Closed forms per operator type (see the table); each factor is factorized once for all
    columns. Row-major ``vec``: to solve ``A vec(X) = vec(C)`` pass ``C.ravel()`` and read
    ``x.reshape(A.in_shape)``. Singular operators raise ``numpy.linalg.LinAlgError``.
    """
    if (symmetric_foreign_kronsum(op) or foreign_eigenbasis(op) is not None) and library(b) == op.backend.library:
        return ops.Inverse(op) @ b
    op = square_operator(op, "solve")
    name = library(b)
    if name is not None:
        raise numpy_only(op, "solve", name)
    b = op._check_vector(b, op.shape[0], "solve")
    B = numeric_array(b, "solve: the right-hand side")
    X = _solve_checked(op, B.reshape(op.shape[0], 1 if B.ndim == 1 else B.shape[1]))
    return X.reshape(B.shape)


def _solve_checked(op: Operator, B: np.ndarray) -> np.ndarray:
    reason = singular_reason(op)
    if reason is not None:
        raise np.linalg.LinAlgError(f"solve: {reason}")
    return _solve(op, B)


def _factor_solve(F, M: np.ndarray, role: str) -> np.ndarray:
    """``F⁻¹ M`` for a Kron or Box factor, one factorization for all columns of ``M``."""
    try:
        if isinstance(F, np.ndarray):
            return np.linalg.solve(F, M)
        if sp.issparse(F):
            return sparse_lu(F, role, np.result_type(F.dtype, M.dtype)).solve(M)
        return _solve_checked(F, M)
    except np.linalg.LinAlgError as err:
        raise singular_factor(role, F, err) from None


def _two_sided_solve(A, B, C: np.ndarray, what: str) -> np.ndarray:
    """``(A⁻¹ C_c B⁻ᵀ)ᵀ`` for every column ``c`` of ``C`` (``(m1·m2) × k``), as an ``(m2, m1, k)`` array."""
    m1, m2, k = A.shape[0], B.shape[0], C.shape[1]
    T = _factor_solve(A, C.reshape(m1, m2 * k), f"{what}: the left factor")
    T = np.ascontiguousarray(T.reshape(m1, m2, k).transpose(1, 0, 2)).reshape(m2, m1 * k)
    return _factor_solve(B, T, f"{what}: the right factor").reshape(m2, m1, k)


@singledispatch
def _solve(op: LinearOperator, B: np.ndarray) -> np.ndarray:
    """No closed form: a dense LU if ``N ≤ 2048``, else :func:`kronbox.linalg.krylov.krylov_solve`."""
    op = op if isinstance(op, Operator) else ops.Dense(op)
    if op.shape[0] > DENSE_MAX:
        return krylov_solve(op, B)
    try:
        return np.linalg.solve(op.to_dense(), B)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"solve: {op!r} ({shape_text(op.shape)}) is singular") from None


@_solve.register
def _(op: ops.Kron, B):
    """``(A ⊗ B) vec(X) = vec(C)``  ⇔  ``X = A⁻¹ C B⁻ᵀ``."""
    Xt = _two_sided_solve(op.A, op.B, B, "Kron")
    return Xt.transpose(1, 0, 2).reshape(op.shape[0], B.shape[1])


@_solve.register
def _(op: ops.Box, B):
    """``(A ⊠ B) vec(X) = vec(A Xᵀ Bᵀ) = vec(C)``  ⇔  ``X = (A⁻¹ C B⁻ᵀ)ᵀ``."""
    return _two_sided_solve(op.A, op.B, B, "Box").reshape(op.shape[0], B.shape[1])


@_solve.register
def _(op: ops.Commutation, B):
    """``K⁻¹ = Kᵀ``."""
    return inv(op)._matmat(B)


@_solve.register
def _(op: ops.Diag, B):
    """``diag(d)⁻¹ b = b / d``."""
    return inv(op)._matmat(B)


@_solve.register
def _(op: ops.Identity, B):
    return B.copy()


@_solve.register
def _(op: ops.Scaled, B):
    """``(c A)⁻¹ b = A⁻¹ b / c``."""
    if op.c == 0:
        raise np.linalg.LinAlgError(f"{op!r} is singular: the coefficient is zero")
    return _solve_checked(op.op, B) / op.c


@_solve.register
def _(op: ops.Transpose, B):
    """``Aᵀ x = b`` is a solve with the transposed structure (``Kron(A, B)ᵀ = Kron(Aᵀ, Bᵀ)`` …)."""
    transposed = op.op.T
    if isinstance(transposed, ops.Transpose):  # no structure to transpose into
        return _solve.dispatch(LinearOperator)(op, B)
    return _solve_checked(transposed, B)


@_solve.register
def _(op: ops.Compose, B):
    """``A₁ ⋯ A_k x = b``: solve with ``A₁`` first, then ``A₂`` … (square factors)."""
    if not all(factor.square for factor in op.ops):
        return _solve.dispatch(LinearOperator)(op, B)
    for factor in op.ops:
        B = _solve_checked(factor, B)
    return B


@_solve.register
def _(op: ops.Dense, B):
    """``numpy.linalg.solve`` (LU); a sparse matrix by its sparse LU, kept for the next solve."""
    if sp.issparse(op.M):
        return kept_sparse_lu(op, np.result_type(op.M.dtype, B.dtype)).solve(B)
    if isinstance(op.M, np.ndarray):
        return _factor_solve(op.M, B, "Dense")
    if isinstance(op.M, Operator):
        return _solve_checked(op.M, B)
    return _solve.dispatch(LinearOperator)(op, B)


@_solve.register
def _(op: ops.KronSum, B):
    """``A X + X Bᵀ = C`` by Bartels–Stewart (:class:`kronbox.linalg.sylvester.SylvesterSolver`), ``O(m1³ + m2³)``."""
    return op.sylvester.solve(B)


@_solve.register
def _(op: ops.Sum, B):
    """Kronecker plus diagonal by the factors' eigendecompositions (:mod:`kronbox.linalg.shared_eigenbasis`);
    ``(P ⊗ Q)(A' ⊕ B') x = b``: a Kron solve, then a Sylvester solve, when the sum is one in disguise;
    ``α A ⊗ B + β C ⊠ D`` reduced to one (:func:`kronbox.linalg.sylvester.kron_plus_box_solve`)."""
    structure = recognize(op)
    if structure is not None:
        return structure.solve(B)
    split = as_kronecker_sum(op)
    if split is None:
        X = kron_plus_box_solve(op, B)
        return X if X is not None else _solve.dispatch(LinearOperator)(op, B)
    outer, kronsum = split
    return _solve(kronsum, B if outer is None else _solve(outer, B))


@_solve.register
def _(op: ops.Inverse, B):
    """``(A⁻¹)⁻¹ b = A b``."""
    return op.op._matmat(B)


def solve_stack(op: Operator, X3):
    """``A⁻¹`` applied to a stack ``X3`` of another array library: a Kronecker sum of symmetric factors is
    solved there by eigendecompositions (:mod:`kronbox.linalg.symmetric_sylvester`); every other direct solve
    runs on numpy arrays only."""
    solver = for_kronsum(op) if isinstance(op, ops.KronSum) else None
    if solver is not None:
        return solver.solve(X3)
    foreign = foreign_eigenbasis(op)
    if foreign is not None:
        return foreign.solve_stack(X3)
    raise numpy_only(op, "a direct solve (applying the inverse)", of_foreign(X3).library)

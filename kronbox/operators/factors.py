"""The factors of a Kronecker or box product: dense arrays, scipy sparse matrices or operators.

A factor ``F`` only has to be multiplied from the left onto a block of columns (``F @ M``) and
from the right by its transpose (``M @ Fᵀ``); these helpers do both for every kind of factor
without densifying sparse matrices or operators. The ``*_stack`` helpers do the same for a stack
``X3`` of matrices of another array library (:mod:`kronbox.backend`), with its namespace ``xp``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox.backend import BackendError, is_foreign, library, matmul, numeric_array


def as_factor(F, role: str):
    """Validate a factor: a 2-D array (kept as a read-only view), a scipy sparse matrix, or a LinearOperator."""
    from kronbox.operators.base import Operator, readonly
    from kronbox.operators.structural import Dense

    if isinstance(F, Operator) or sp.issparse(F):
        return F
    if isinstance(F, LinearOperator):
        return Dense(F)
    return readonly(numeric_array(F, role, ndims=(2,)))


def left(F, M: np.ndarray) -> np.ndarray:
    """``F @ M`` for a 2-D block ``M``, as a dense array."""
    if isinstance(F, np.ndarray):
        return F @ M
    if sp.issparse(F):
        return np.asarray(F @ M)
    return F.matmat(M)


def right_transposed(M: np.ndarray, F) -> np.ndarray:
    """``M @ Fᵀ`` for a 2-D block ``M``, as a dense array."""
    if isinstance(F, np.ndarray):
        return M @ F.T
    return left(F, M.T).T


def transpose(F):
    return F.T


def adjoint(F):
    if isinstance(F, LinearOperator):
        return F.H
    return F.conj().T


def conjugate(F):
    """``conj(F)`` as a factor (for an operator: ``(Fᴴ)ᵀ``)."""
    if isinstance(F, LinearOperator):
        return F.H.T
    return F.conj()


def left_stack(xp, F, X3):
    """``F @ X3[c]`` for every matrix of the stack ``X3`` (``k × n × p``): a ``k × m × p`` stack."""
    if isinstance(F, LinearOperator):
        k, n, p = X3.shape
        Y = F.matmat(xp.reshape(xp.permute_dims(X3, (1, 0, 2)), (n, k * p)))
        return xp.permute_dims(xp.reshape(Y, (F.shape[0], k, p)), (1, 0, 2))
    if sp.issparse(F):
        raise BackendError(f"a sparse factor ({describe(F)}) applies to numpy arrays only: use a dense factor")
    return matmul(xp, F, X3)


def right_transposed_stack(xp, X3, F):
    """``X3[c] @ Fᵀ`` for every matrix of the stack ``X3``."""
    if isinstance(F, LinearOperator) or sp.issparse(F):
        return xp.matrix_transpose(left_stack(xp, F, xp.matrix_transpose(X3)))
    return matmul(xp, X3, F.T)


def to_array(F) -> np.ndarray:
    if isinstance(F, np.ndarray) or is_foreign(F):
        return F
    if sp.issparse(F):
        return F.toarray()
    return F.to_dense()


def shape_text(F) -> str:
    m, n = F.shape
    return f"{m}×{n}"


def describe(F) -> str:
    """A short description for reprs: the shape of an array, the tree of an operator."""
    if isinstance(F, LinearOperator):
        return repr(F)
    kind = "sparse " if sp.issparse(F) else f"{library(F)} " if is_foreign(F) else ""
    return f"{kind}{shape_text(F)}"

"""What every closed form checks first, and the helpers the closed forms share.

A closed form needs a square operator of numpy arrays (``square_operator``; another array library
gets :func:`numpy_only`'s error, which names the alternatives) that is not *structurally* singular
(:func:`singular_reason`: a zero, a rank-one outer product, a Kron or Box of non-square factors,
a composition through a narrower space have ``det = 0`` and no inverse). Sparse factors are
factorized by SuperLU, kept on the operator for the next solve.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, splu

from kronbox import operators as ops
from kronbox.backend import BackendError, unsupported
from kronbox.linalg.symmetric_sylvester import for_kronsum
from kronbox.operators.base import Operator, shape_text

# Operators without a closed form are factorized densely up to this size (an LU of a 2048×2048
# matrix takes about 0.1 s and 32 MB); beyond it ``det`` gives up and ``solve`` iterates.
DENSE_MAX = 2048


def numpy_only(op: Operator, what: str, name: str) -> BackendError:
    """The error for a closed form or direct solve (``what``) of ``op`` asked on ``name`` arrays."""
    return unsupported(
        f"{what} of {op!r}", name,
        "direct solves and closed forms (LU, Cholesky, Bartels–Stewart) run on numpy arrays in memory; pass numpy "
        "arrays (numpy.asarray(b), if it fits) or solve iteratively with the lazy operator, e.g. "
        "scipy.sparse.linalg.gmres(op, b)",
    )


def symmetric_foreign_kronsum(op) -> bool:
    """A Kronecker sum with symmetric factors of another library: solved there by eigendecompositions."""
    return isinstance(op, ops.KronSum) and for_kronsum(op) is not None


def require_square(op: Operator, what: str) -> None:
    if op.shape[0] != op.shape[1]:
        raise ValueError(f"{what} needs a square operator, {op!r} is {shape_text(op.shape)}")


def square_operator(op, what: str) -> Operator:
    op = op if isinstance(op, Operator) else ops.Dense(op)
    if not op.square:
        raise ValueError(
            f"{what}: {op!r} is {shape_text(op.shape)}, not square; {what} is defined for square operators only"
        )
    if op.backend is not None:
        raise numpy_only(op, what, op.backend.library)
    return op


# ------------------------------------------------------------- structural singularity
@singledispatch
def singular_reason(op: LinearOperator) -> str | None:
    """Why a square operator is singular from its structure alone, or ``None`` if it need not be."""
    return None


@singular_reason.register(ops.Kron)
@singular_reason.register(ops.Box)
def _(op):
    """``rank(A ⊗ B) = rank(A ⊠ B) = rank A · rank B ≤ min(m1,n1) · min(m2,n2)``.

    A square product (``m1 m2 = n1 n2``) of non-square factors has, say, ``m1 < n1`` and so
    ``n2 < m2``: its rank is at most ``m1 n2 < m1 m2``. Such a product is always singular.
    """
    (m1, n1), (m2, n2) = op.A.shape, op.B.shape
    if m1 == n1 and m2 == n2:
        return None
    rank = min(m1, n1) * min(m2, n2)
    return (
        f"{op!r} has non-square factors ({m1}×{n1} and {m2}×{n2}), so its rank is at most "
        f"{min(m1, n1)}·{min(m2, n2)} = {rank} < {op.shape[0]}: it is singular"
    )


@singular_reason.register
def _(op: ops.Zero):
    return f"{op!r} is zero" if op.shape[0] else None


@singular_reason.register
def _(op: ops.Outer):
    """``u vᵀ`` has rank one."""
    return f"{op!r} has rank one < {op.shape[0]}" if op.shape[0] > 1 else None


@singular_reason.register
def _(op: ops.Compose):
    """``rank(A₁ ⋯ A_k)`` is at most the narrowest dimension along the chain."""
    narrowest = min(min(factor.shape) for factor in op.ops)
    if narrowest < op.shape[0]:
        return f"{op!r} passes through a space of dimension {narrowest} < {op.shape[0]}: it is singular"
    return None


@singular_reason.register
def _(op: ops.SymmetricPart):
    """``Π A Π`` has rank at most ``n(n+1)/2`` on the ``n²`` entries of ``n×n`` matrices."""
    if op.n < 2:
        return None
    return (
        f"{op!r} acts on symmetric {op.n}×{op.n} matrices only (rank ≤ {op.n * (op.n + 1) // 2} < {op.shape[0]}): "
        "it is singular on the full space; solve a symmetric right-hand side on the subspace with "
        "scipy.sparse.linalg.minres(op, b)"
    )


def sparse_lu(F, role: str, dtype=None):
    """SuperLU of ``F`` (in ``dtype``, if given); ``LinAlgError`` naming ``role`` if it is singular."""
    try:
        return splu(sp.csc_matrix(F, dtype=dtype))
    except RuntimeError:  # SuperLU: "Factor is exactly singular"
        raise np.linalg.LinAlgError(f"{role} (sparse {shape_text(F.shape)}) is singular") from None


def kept_sparse_lu(op: ops.Dense, dtype):
    """The SuperLU of the sparse matrix of ``op`` in ``dtype``, kept on ``op``: an ``Inverse`` of a sparse
    matrix factorizes it once (when ``inv()`` checks that it is nonsingular) and reuses it on every apply."""
    return op.kept(("sparse LU", np.dtype(dtype)), lambda: sparse_lu(op.M, repr(op), dtype))


def singular_factor(role: str, F, err: Exception) -> np.linalg.LinAlgError:
    detail = f" ({err})" if isinstance(F, LinearOperator) else ""
    return np.linalg.LinAlgError(f"{role} ({ops.factors.shape_text(F)}) is singular{detail}")



"""``Π A Π``: an operator on ``n×n`` matrices restricted to the symmetric ones.

``Π = (I + K_{n,n}) / 2`` is the orthogonal projection onto symmetric matrices (``K`` the
commutation matrix, ``Π vec(X) = vec((X + Xᵀ)/2)`` in either ``vec`` convention). The Hessian of a
function of a symmetric matrix is ``Π H Π``: it acts on symmetric directions, and there an operator
``H'`` with fewer terms may stand for ``H`` (on a symmetric ``V``, ``A ⊠ B`` acts as ``A ⊗ B``). Such an
``H'`` is right only inside the projection, so it is carried inside one: ``SymmetricPart(H')``
symmetrizes its input and its output. On the full space of ``n×n`` matrices ``Π A Π`` is singular
(rank at most ``n(n+1)/2``): ``solve``, ``inv`` and ``slogdet`` say so rather than solving another
system; a symmetric right-hand side is solved on the subspace by ``scipy.sparse.linalg.minres`` or
``cg`` on this operator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kronbox.kernels.symmetric import symmetrize
from kronbox.operators.base import Operator, shape_text


class _SymmetricPath:
    """``x ↦ vec(sym(A vec(sym X)))`` through ``A``'s thin path: the thin path of ``Π A Π``. ``fresh``: the
    path returns a new array each call (its result is symmetrized in place)."""

    __slots__ = ("fresh", "n", "vector")

    def __init__(self, n: int, vector: Callable[[np.ndarray], np.ndarray], fresh: bool = False):
        self.n, self.vector, self.fresh = n, vector, fresh

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = self.n
        y = self.vector(symmetrize(x.reshape(n, n)).ravel()).reshape(n, n)
        return symmetrize(y, in_place=self.fresh and y.flags.c_contiguous).ravel()


class SymmetricPart(Operator):
    """``Π A Π`` for an operator ``A`` on ``n×n`` matrices: ``X ↦ sym(A sym(X))``, ``sym(X) = (X + Xᵀ)/2``."""

    def __init__(self, op: Operator):
        if not isinstance(op, Operator) or len(op.in_shape) != 2 or op.in_shape != op.out_shape \
                or op.in_shape[0] != op.in_shape[1]:
            shape = shape_text(op.in_shape) if isinstance(op, Operator) else type(op).__name__
            raise ValueError(f"SymmetricPart: needs an operator from n×n matrices to n×n matrices, got {shape}")
        self.op = op
        self.n = op.in_shape[0]
        self.weak_dtype = op.weak_dtype
        super().__init__(op.dtype, op.shape, op.in_shape, op.out_shape, (op,))
        if op._vector is not None:
            self._vector = _SymmetricPath(self.n, op._vector)

    def _symmetrize(self, X: np.ndarray) -> np.ndarray:
        k = X.shape[1]
        M = X.reshape(self.n, self.n, k)
        return ((M + M.transpose(1, 0, 2)) / 2).reshape(self.shape[0], k)

    def _matmat(self, X):
        return self._symmetrize(self.op._matmat(self._symmetrize(X)))

    def _apply_stack(self, xp, X3):
        def sym(M):
            return (M + xp.matrix_transpose(M)) / 2

        return sym(self.op._apply_stack(xp, sym(X3)))

    def _transpose(self):
        return SymmetricPart(self.op.T)

    def _adjoint(self):
        return SymmetricPart(self.op.H)

    def matvec_flops(self) -> int:
        return self.op.matvec_flops() + 4 * self.shape[0]

    def __repr__(self) -> str:
        return f"SymmetricPart({self.op!r})"

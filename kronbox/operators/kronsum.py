"""The Kronecker sum ``A ⊕ B = A ⊗ I + I ⊗ B``: the Sylvester operator on row-major ``vec``.

With ``A`` of shape ``m1×m1`` and ``B`` of shape ``m2×m2``:
``(A ⊗ I_{m2} + I_{m1} ⊗ B) vec(X) = vec(A X + X Bᵀ)`` with ``X`` of shape ``m1×m2``
(row-major ``vec``; in column-major terms it is ``(I ⊗ A + Bᵀ ⊗ I) vec_F(X)``). Solving with it
is the Sylvester equation ``A X + X Bᵀ = C``, done by Bartels–Stewart in ``O(m1³ + m2³)``
(:mod:`kronbox.linalg.sylvester`) instead of ``O(m1³ m2³)`` for a dense solve. ``X^{1/2}`` has the
Jacobian ``(X^{1/2} ⊕ (X^{1/2})ᵀ)⁻¹``.
"""

from __future__ import annotations

import numpy as np

from kronbox import services
from kronbox.operators import factors
from kronbox.operators.base import Operator, result_dtype
from kronbox.operators.products import Kron
from kronbox.operators.structural import Identity


def _square_factor(F, role: str):
    F = factors.as_factor(F, role)
    if F.shape[0] != F.shape[1]:
        raise ValueError(f"{role} must be square, got {factors.shape_text(F)}")
    return F


class KronSum(Operator):
    """``A ⊕ B = A ⊗ I + I ⊗ B`` for square ``A`` (``m1×m1``) and ``B`` (``m2×m2``).

    ``(A ⊕ B) vec(X) = vec(A X + X Bᵀ)``, ``X`` is ``m1×m2`` (row-major ``vec``). Its eigenvalues
    are the sums ``λᵢ(A) + μⱼ(B)``, so it is singular exactly when ``A`` and ``−B`` share one.
    """

    def __init__(self, A, B):
        self.A = _square_factor(A, "KronSum: the left factor")
        self.B = _square_factor(B, "KronSum: the right factor")
        m1, m2 = self.A.shape[0], self.B.shape[0]
        super().__init__(result_dtype(self.A, self.B), (m1 * m2, m1 * m2), (m1, m2), (m1, m2), (self.A, self.B))

    def _matmat(self, X):
        (m1, m2), k = self.in_shape, X.shape[1]
        X3 = X.reshape(m1, m2, k)
        Y = factors.left(self.A, X.reshape(m1, m2 * k)).reshape(m1, m2, k)
        # X Bᵀ for every column: rows (i, c) of X against the rows of B.
        rows = X3.transpose(0, 2, 1).reshape(m1 * k, m2)
        Z = factors.right_transposed(rows, self.B).reshape(m1, k, m2).transpose(0, 2, 1)
        return (Y + Z).reshape(m1 * m2, k)

    def _apply_stack(self, xp, X3):
        return factors.left_stack(xp, self.A, X3) + factors.right_transposed_stack(xp, X3, self.B)

    def _transpose(self):
        return KronSum(factors.transpose(self.A), factors.transpose(self.B))

    def _adjoint(self):
        return KronSum(factors.adjoint(self.A), factors.adjoint(self.B))

    def matvec_flops(self) -> int:
        m1, m2 = self.in_shape
        terms = Kron(self.A, Identity(m2)).matvec_flops() + Kron(Identity(m1), self.B).matvec_flops()
        return terms + self.shape[0]

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        m1, m2 = self.in_shape
        D = kernels.kron_dense(factors.to_array(self.A), np.eye(m2, dtype=self.dtype))
        blocks = D.reshape(m1, m2, m1, m2)
        diagonal = np.arange(m1)
        blocks[diagonal, :, diagonal, :] += factors.to_array(self.B)
        return D

    @property
    def sylvester(self):
        """The Bartels–Stewart factorization of ``(A, B)`` (Schur forms), computed on first use and kept
        (:meth:`~kronbox.Operator.kept`)."""
        return self.kept("sylvester", lambda: services.call(
            "linalg.sylvester", factors.to_array(self.A), factors.to_array(self.B), name=repr(self)))

    def __repr__(self) -> str:
        return f"KronSum({factors.describe(self.A)}, {factors.describe(self.B)})"

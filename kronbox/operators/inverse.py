"""The lazy inverse ``A⁻¹`` of a square operator: applying it solves with ``A``; nothing is inverted.

``A⁻¹ vec(C) = vec(X)`` with ``A vec(X) = vec(C)``, computed by :func:`kronbox.linalg.solve.solve`
(a closed form where the structure gives one, a Krylov method otherwise). ``inv()`` returns this
operator only where no cheaper closed-form inverse exists (a Kronecker sum, a sparse factor, a
large operator without structure).
"""

from __future__ import annotations

from kronbox import services
from kronbox.operators.base import Operator, shape_text
from kronbox.operators.combinators import as_operator


class Inverse(Operator):
    """``A⁻¹`` for a square operator ``A``: reads ``A``'s ``out_shape``, writes its ``in_shape``."""

    def __init__(self, op):
        self.op = as_operator(op, "Inverse")
        if not self.op.square:
            raise ValueError(
                f"Inverse: {self.op!r} is {shape_text(self.op.shape)}; only a square operator has an inverse"
            )
        self.weak_dtype = self.op.weak_dtype
        super().__init__(self.op.dtype, self.op.shape, self.op.out_shape, self.op.in_shape, (self.op,))

    def _matmat(self, X):
        return services.call("linalg.solve", self.op, X)

    def _apply_stack(self, xp, X3):
        return services.call("linalg.solve_stack", self.op, X3)

    def _transpose(self):
        return Inverse(self.op.T)

    def _adjoint(self):
        return Inverse(self.op.H)

    def matvec_flops(self) -> int:
        """An estimate: a dense triangular-solve pair (structured solves cost less, Krylov ones more)."""
        return 2 * self.shape[0] * self.shape[0]

    def __repr__(self) -> str:
        return f"Inverse({self.op!r})"

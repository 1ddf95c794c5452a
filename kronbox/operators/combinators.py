"""Operators built from operators: ``Sum``, ``Compose`` and ``Transpose``.

Sums and compositions are n-ary and flat (a nested ``Sum`` or ``Compose`` is spliced into its
parent), so long chains do not grow deep trees. Shapes are checked at construction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator

from kronbox.operators.base import Operator, all_weak, result_dtype, shape_text
from kronbox.operators.structural import Dense


def as_operator(op, where: str) -> Operator:
    """A kronbox operator from an operator, a LinearOperator, an array or a sparse matrix."""
    if isinstance(op, Operator):
        return op
    try:
        return Dense(op)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: cannot use {type(op).__name__} as an operator ({err})") from None


def _matrix_shape(ops, attr: str) -> tuple[int, ...]:
    """The first matrix (2-D) shape among the operands' ``attr``, else the first one."""
    shapes = [getattr(op, attr) for op in ops]
    return next((s for s in shapes if len(s) == 2), shapes[0])


class _SumPath:
    """``x ↦ Σ Aᵢ x`` through the terms' thin paths, added into the first term's new result: the thin
    path of a sum whose terms have one (all of one dtype, so the sum has it too). A Hessian of three
    Kron/Box terms at n = 64 applies in 0.85× the time of the general path (``python -m bench compiled``)."""

    __slots__ = ("first", "rest")

    def __init__(self, vectors: tuple[Callable[[np.ndarray], np.ndarray], ...]):
        self.first, self.rest = vectors[0], vectors[1:]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = self.first(x)
        for term in self.rest:
            y += term(x)
        return y


class Sum(Operator):
    """``A₁ + A₂ + … + A_k``; every term must have the same shape."""

    def __init__(self, *ops):
        if not ops:
            raise ValueError("Sum needs at least one operator")
        terms: list[Operator] = []
        for op in ops:
            op = as_operator(op, "Sum")
            terms.extend(op.ops if isinstance(op, Sum) else [op])
        for op in terms[1:]:
            if op.shape != terms[0].shape:
                raise ValueError(
                    f"Sum: cannot add {terms[0]!r} of shape {shape_text(terms[0].shape)} "
                    f"and {op!r} of shape {shape_text(op.shape)}"
                )
        self.ops: tuple[Operator, ...] = tuple(terms)
        self.weak_dtype = all_weak(*terms)
        super().__init__(
            result_dtype(*terms), terms[0].shape, _matrix_shape(terms, "in_shape"), _matrix_shape(terms, "out_shape"),
            terms,
        )
        paths = [op._vector for op in terms if op._vector is not None and op.dtype == self.dtype]
        if len(paths) == len(terms):
            self._vector = _SumPath(tuple(paths))

    def _matmat(self, X):
        Y = self.ops[0]._matmat(X)
        for op in self.ops[1:]:
            Z = op._matmat(X)
            if Y.dtype == np.result_type(Y, Z) and Y.flags.writeable and not np.shares_memory(Y, X):
                Y += Z
            else:
                Y = Y + Z
        return Y

    def _apply_stack(self, xp, X3):
        Y = self.ops[0]._apply_stack_as(xp, X3, self.out_shape)
        for op in self.ops[1:]:
            Y = Y + op._apply_stack_as(xp, X3, self.out_shape)
        return Y

    def _transpose(self):
        return Sum(*(op.T for op in self.ops))

    def _adjoint(self):
        return Sum(*(op.H for op in self.ops))

    def matvec_flops(self) -> int:
        return sum(op.matvec_flops() for op in self.ops) + (len(self.ops) - 1) * self.shape[0]

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        return kernels.sum_dense((term for op in self.ops for term in op.dense_terms()), self.shape, self.dtype)

    def __repr__(self) -> str:
        return "(" + " + ".join(repr(op) for op in self.ops) + ")"


class Compose(Operator):
    """``A₁ A₂ ⋯ A_k`` (applied right to left); adjacent inner dimensions must agree."""

    def __init__(self, *ops):
        if not ops:
            raise ValueError("Compose needs at least one operator")
        factors: list[Operator] = []
        for op in ops:
            op = as_operator(op, "Compose")
            factors.extend(op.ops if isinstance(op, Compose) else [op])
        for left, right in itertools.pairwise(factors):
            if left.shape[1] != right.shape[0]:
                raise ValueError(
                    f"Compose: cannot compose {left!r} of shape {shape_text(left.shape)} with "
                    f"{right!r} of shape {shape_text(right.shape)}: inner dimensions "
                    f"{left.shape[1]} and {right.shape[0]} differ"
                )
        self.ops: tuple[Operator, ...] = tuple(factors)
        self.weak_dtype = all_weak(*factors)
        super().__init__(
            result_dtype(*factors),
            (factors[0].shape[0], factors[-1].shape[1]),
            factors[-1].in_shape,
            factors[0].out_shape,
            factors,
        )

    def _matmat(self, X):
        for op in reversed(self.ops):
            X = op._matmat(X)
        return X

    def _apply_stack(self, xp, X3):
        for op in reversed(self.ops):
            X3 = op._apply_stack_as(xp, X3, op.out_shape)
        return X3

    def _transpose(self):
        return Compose(*(op.T for op in reversed(self.ops)))

    def _adjoint(self):
        return Compose(*(op.H for op in reversed(self.ops)))

    def matvec_flops(self) -> int:
        return sum(op.matvec_flops() for op in self.ops)

    def _dense(self) -> np.ndarray:
        D = self.ops[-1].to_dense()
        for op in reversed(self.ops[:-1]):
            D = op._matmat(D)
        return D

    def __repr__(self) -> str:
        return " @ ".join(
            f"({op!r})" if isinstance(op, Sum | Compose) else repr(op) for op in self.ops
        )


class Transpose(Operator):
    """The lazy transpose ``Aᵀ`` (no conjugation): ``Aᵀ x = conj(Aᴴ conj(x))``."""

    def __init__(self, op: LinearOperator):
        self.op = as_operator(op, "Transpose")
        self._adjoint_of_op = self.op.H
        self.weak_dtype = self.op.weak_dtype
        m, n = self.op.shape
        super().__init__(self.op.dtype, (n, m), self.op.out_shape, self.op.in_shape, (self.op,))

    def _matmat(self, X):
        if np.iscomplexobj(X) or self.dtype.kind == "c":
            return np.conj(self._adjoint_of_op._matmat(np.conj(X)))
        return self._adjoint_of_op._matmat(X)

    def _apply_stack(self, xp, X3):
        if xp.isdtype(X3.dtype, "complex floating") or self.dtype.kind == "c":
            return xp.conj(self._adjoint_of_op._apply_stack(xp, xp.conj(X3)))
        return self._adjoint_of_op._apply_stack(xp, X3)

    def _transpose(self):
        return self.op

    def _adjoint(self):
        return Transpose(self._adjoint_of_op)

    def matvec_flops(self) -> int:
        return self.op.matvec_flops()

    def _dense(self) -> np.ndarray:
        return self.op.to_dense().T

    def __repr__(self) -> str:
        return f"Transpose({self.op!r})"

"""Structural operators: ``Identity``, ``Zero``, ``Diag``, ``Scaled``, ``Dense``, ``Commutation``.

``Identity``, ``Zero`` and ``Commutation`` hold no numbers of their own: their dtype is *weak* and
does not promote the dtype of a sum or product they take part in (float32 stays float32).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox.backend import is_foreign, matmul, numeric_array, of_foreign
from kronbox.operators.base import Operator, all_weak, is_scalar, readonly, result_dtype, shape_text


def _vector_or_matrix_shape(size, what: str) -> tuple[int, ...]:
    """``n`` → ``(n,)``; ``(m, n)`` → ``(m, n)`` (an operator acting on ``m×n`` matrices)."""
    try:
        shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    except TypeError:
        shape = ()
    if not 1 <= len(shape) <= 2 or any(not isinstance(s, numbers.Integral) or s < 0 for s in shape):
        raise ValueError(f"{what}: expected a size n or a matrix shape (m, n), got {size!r}")
    return tuple(int(s) for s in shape)


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


class Identity(Operator):
    """The identity ``I_n``; ``Identity((m, n))`` is the identity on ``m×n`` matrices (``I_m ⊗ I_n``)."""

    weak_dtype = True

    def __init__(self, n, dtype=np.float64):
        shape = _vector_or_matrix_shape(n, "Identity")
        N = _size(shape)
        super().__init__(dtype, (N, N), shape, shape)

    def _matmat(self, X):
        return X.copy()

    def _apply_stack(self, xp, X3):
        return xp.asarray(X3, copy=True)

    def _transpose(self):
        return self

    def _adjoint(self):
        return self

    def matvec_flops(self) -> int:
        return 0

    def _dense(self) -> np.ndarray:
        return np.eye(self.shape[0], dtype=self.dtype)

    def __repr__(self) -> str:
        return f"I({shape_text(self.in_shape)})"


class Zero(Operator):
    """The zero operator from ``in_shape`` to ``out_shape`` (each a size or a matrix shape)."""

    weak_dtype = True

    def __init__(self, m, n, dtype=np.float64):
        out_shape = _vector_or_matrix_shape(m, "Zero")
        in_shape = _vector_or_matrix_shape(n, "Zero")
        super().__init__(dtype, (_size(out_shape), _size(in_shape)), in_shape, out_shape)

    def _matmat(self, X):
        return np.zeros((self.shape[0], X.shape[1]), dtype=X.dtype)

    def _apply_stack(self, xp, X3):
        return xp.zeros((X3.shape[0], *self.out_shape), dtype=X3.dtype, device=of_foreign(X3).device)

    def _transpose(self):
        return Zero(self.in_shape, self.out_shape, dtype=self.dtype)

    def _adjoint(self):
        return self._transpose()

    def matvec_flops(self) -> int:
        return 0

    def _dense(self) -> np.ndarray:
        return np.zeros(self.shape, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"Zero({shape_text(self.out_shape)}, {shape_text(self.in_shape)})"


class Diag(Operator):
    """``diag(vec(D))``: entrywise multiplication by ``D`` (a vector, or a matrix acting on matrices).

    ``Diag(D).apply(X) = D ∘ X``. The Jacobian of an elementwise product ``G ∘ H`` is
    ``diag(vec H) G' + diag(vec G) H'``.
    """

    def __init__(self, d):
        d = readonly(numeric_array(d, "Diag: the diagonal"))
        self.d = d
        shape = tuple(d.shape)
        size = _size(shape)
        self.diagonal = of_foreign(d).xp.reshape(d, (size,)) if is_foreign(d) else d.ravel()
        super().__init__(d.dtype, (size, size), shape, shape, (d,))

    def _matmat(self, X):
        return self.diagonal[:, None] * X

    def _apply_stack(self, xp, X3):
        return self.d * X3

    def _transpose(self):
        return self

    def _adjoint(self):
        return Diag(self.d.conj()) if self.dtype.kind == "c" else self

    def matvec_flops(self) -> int:
        return self.shape[0]

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        return kernels.diag_dense(self.diagonal)

    def dense_terms(self, c=1):
        yield ("diag", c, self.diagonal, None)

    def __repr__(self) -> str:
        return f"Diag({shape_text(tuple(self.d.shape))})"


class _ScaledPath:
    """``x ↦ c A x``, scaling ``A``'s new result in place: the thin path of a scaled operator whose
    operator has one and whose coefficient keeps its dtype."""

    __slots__ = ("c", "vector")

    def __init__(self, c, vector: Callable[[np.ndarray], np.ndarray]):
        self.c, self.vector = c, vector

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = self.vector(x)
        y *= self.c
        return y


class Scaled(Operator):
    """``c · A`` for a scalar ``c``; nested scalings fold into one (the scalar is hoisted)."""

    def __init__(self, c, op):
        if not is_scalar(c):
            raise ValueError(f"Scaled: the coefficient must be a scalar, got {type(c).__name__}")
        if isinstance(c, numbers.Number) and not isinstance(c, int | float | complex | np.generic):
            number: Any = c  # numbers.Number declares no conversions; Fraction, Decimal, ... have them
            c = float(number) if number == getattr(number, "real", number) else complex(number)
        if not isinstance(op, Operator):
            op = Dense(op)
        if isinstance(op, Scaled):
            c, op = c * op.c, op.op
        self.c: int | float | complex = c.item() if isinstance(c, np.generic | np.ndarray) else c
        self.op: Operator = op
        self.weak_dtype = all_weak(op, self.c)
        super().__init__(result_dtype(op, self.c), op.shape, op.in_shape, op.out_shape, (op,))
        if op._vector is not None and self.dtype == op.dtype:
            self._vector = _ScaledPath(self.c, op._vector)

    def _matmat(self, X):
        return self.c * self.op._matmat(X)

    def _apply_stack(self, xp, X3):
        return self.c * self.op._apply_stack(xp, X3)

    def _transpose(self):
        return Scaled(self.c, self.op.T)

    def _adjoint(self):
        return Scaled(np.conj(self.c).item(), self.op.H)

    def matvec_flops(self) -> int:
        return self.op.matvec_flops() + self.shape[0]

    def _dense(self) -> np.ndarray:
        return self.c * self.op.to_dense()

    def dense_terms(self, c=1):
        return self.op.dense_terms(c * self.c)

    def __repr__(self) -> str:
        return f"{self.c!r} * {self.op!r}"


class Dense(Operator):
    """An explicit matrix as an operator: an ndarray, a scipy sparse matrix or any LinearOperator."""

    def __init__(self, M, in_shape=None, out_shape=None):
        if sp.issparse(M):
            M = M.tocsr()
        elif not isinstance(M, LinearOperator):
            M = readonly(numeric_array(M, "Dense: the matrix", ndims=(2,)))
        self.M = M
        m, n = M.shape
        in_shape = in_shape if in_shape is not None else (n,)
        out_shape = out_shape if out_shape is not None else (m,)
        if _size(in_shape) != n or _size(out_shape) != m:
            raise ValueError(
                f"Dense: matrix shapes {tuple(out_shape)} ← {tuple(in_shape)} do not fit a {m}×{n} matrix"
            )
        super().__init__(M.dtype, (m, n), in_shape, out_shape, (M,))

    def _matmat(self, X):
        if isinstance(self.M, LinearOperator):
            return self.M.matmat(X)
        return np.asarray(self.M @ X)

    def _apply_stack(self, xp, X3):
        if isinstance(self.M, Operator):
            return self.M._apply_stack_as(xp, X3, self.out_shape)
        if sp.issparse(self.M) or isinstance(self.M, LinearOperator):
            return super()._apply_stack(xp, X3)
        k = X3.shape[0]
        return xp.reshape(matmul(xp, xp.reshape(X3, (k, self.shape[1])), self.M.T), (k, *self.out_shape))

    def _transpose(self):
        return Dense(self.M.T, self.out_shape, self.in_shape)

    def _adjoint(self):
        M = self.M.H if isinstance(self.M, LinearOperator) else self.M.conj().T
        return Dense(M, self.out_shape, self.in_shape)

    def matvec_flops(self) -> int:
        if sp.issparse(self.M):
            return 2 * self.M.nnz
        if isinstance(self.M, Operator):
            return self.M.matvec_flops()
        return super().matvec_flops()

    def _dense(self) -> np.ndarray:
        if isinstance(self.M, np.ndarray):
            return self.M.copy()
        if sp.issparse(self.M):
            return self.M.toarray()
        if isinstance(self.M, Operator):
            return self.M.to_dense()
        return super()._dense()

    def __repr__(self) -> str:
        if isinstance(self.M, Operator):
            return f"Dense({self.M!r})"
        kind = "sparse " if sp.issparse(self.M) else ""
        if isinstance(self.M, LinearOperator):
            kind = f"{type(self.M).__name__.lstrip('_')} "
        return f"Dense({kind}{shape_text(self.M.shape)})"


class Commutation(Operator):
    """The commutation (perfect-shuffle) matrix ``K = I_m ⊠ I_n``: ``K vec(X) = vec(Xᵀ)``, ``X`` is ``n×m``."""

    weak_dtype = True

    def __init__(self, m: int, n: int, dtype=np.float64):
        for s in (m, n):
            if not isinstance(s, numbers.Integral) or s < 0:
                raise ValueError(f"Commutation(m, n) needs non-negative integers, got ({m!r}, {n!r})")
        self.m, self.n = int(m), int(n)
        super().__init__(dtype, (self.m * self.n, self.m * self.n), (self.n, self.m), (self.m, self.n))

    def _matmat(self, X):
        k = X.shape[1]
        # Always a copy: for m = 1 or n = 1 the shuffle is the identity and a view would alias the input.
        return X.reshape(self.n, self.m, k).transpose(1, 0, 2).copy().reshape(self.shape[0], k)

    def _apply_stack(self, xp, X3):
        return xp.matrix_transpose(X3)

    def _transpose(self):
        return Commutation(self.n, self.m, dtype=self.dtype)

    def _adjoint(self):
        return self._transpose()

    def matvec_flops(self) -> int:
        return 0

    def _dense(self) -> np.ndarray:
        K = np.zeros(self.shape, dtype=self.dtype)
        rows = np.arange(self.shape[0])
        i, j = np.divmod(rows, self.n)
        K[rows, j * self.m + i] = 1
        return K

    def __repr__(self) -> str:
        return f"Commutation({self.m}, {self.n})"

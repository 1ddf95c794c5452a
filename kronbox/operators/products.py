"""The three products of two matrices that act on ``vec(X)``: ``Kron``, ``Box`` and ``Outer``.

Row-major ``vec`` throughout (``vec(X) = X.ravel()``). With ``A`` of shape ``m1×n1`` and ``B`` of
shape ``m2×n2``:

- ``(A ⊗ B)[(ij),(kl)] = A[i,k] B[j,l]`` and ``(A ⊗ B) vec(X) = vec(A X Bᵀ)``, ``X`` is ``n1×n2``;
- ``(A ⊠ B)[(ij),(kl)] = A[i,l] B[j,k]`` and ``(A ⊠ B) vec(X) = vec(A Xᵀ Bᵀ)``, ``X`` is ``n2×n1``;
- ``Outer(u, v) = u vᵀ``; from two matrices, ``vec(U) vec(V)ᵀ``.

Kron and Box apply by the unwinding rule: two matrix products, never the ``(m1 m2)×(n1 n2)``
matrix. Many right-hand sides go through each factor in one batched product. Arrays of another
library go through the same two products as a stack: ``A @ X3 @ Bᵀ`` (Box: ``A @ X3ᵀ @ Bᵀ``) with
``X3`` of shape ``(k, n1, n2)``.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox.backend import is_foreign, matmul, numeric_array, of_foreign
from kronbox.operators import factors
from kronbox.operators.base import Operator, readonly, result_dtype
from kronbox.vec import check_order

# Below this many input entries (rows × columns) one GEMM plus a batched ``matmul`` (no copies) beats
# einsum (two big GEMMs, one or two transposing copies); ``python -m bench operators``, 16 columns:
# n = 16 (2¹² entries) 10 µs against 23 µs, n = 64 (2¹⁶) 306 µs against einsum's 186 µs.
_EINSUM_MIN_ENTRIES = 1 << 16


def _factor_flops(F, columns: int) -> int:
    """Flops of ``F @ M`` with ``M`` holding ``columns`` columns."""
    if isinstance(F, np.ndarray) or is_foreign(F):
        return 2 * F.shape[0] * F.shape[1] * columns
    if sp.issparse(F):
        return 2 * F.nnz * columns
    return F.matvec_flops() * columns


def _two_sided(A, B, X3: np.ndarray) -> np.ndarray:
    """``Y[:, :, c] = A X3[:, :, c] Bᵀ`` for every column ``c``, as a ``(m1, m2, k)`` array.

    ``X3`` (``n1 × n2 × k``) may be a strided view: Box passes a transposed one. The cheaper side goes
    first; on a tie, A first (einsum's B-first path measured 1.2–1.35× slower on square factors, either
    layout), except that the small batched path reads a transposed input in place, B first.
    """
    n1, n2, k = X3.shape
    m1, m2 = A.shape[0], B.shape[0]
    if isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
        a_cost, b_cost = m1 * n2 * (n1 + m2), m2 * n1 * (n2 + m1)  # flops / 2k of either order
        if k == 1:
            X = X3[:, :, 0]
            return ((A @ X) @ B.T if a_cost <= b_cost else A @ (X @ B.T))[:, :, None]
        if X3.size >= _EINSUM_MIN_ENTRIES:
            path = ["einsum_path", (0, 2), (0, 1)] if a_cost <= b_cost else ["einsum_path", (1, 2), (0, 1)]
            return np.einsum("ik,jl,klc->ijc", A, B, X3, optimize=path)
        if a_cost < b_cost or (a_cost == b_cost and X3.flags.c_contiguous):
            return np.matmul(B, (A @ X3.reshape(n1, n2 * k)).reshape(m1, n2, k))
        return (A @ np.matmul(B, X3).reshape(n1, m2 * k)).reshape(m1, m2, k)
    # Sparse or operator factors: the same two products through the factors' own ``@``.
    T = factors.left(A, X3.reshape(n1, n2 * k)).reshape(m1, n2, k)
    T2 = np.ascontiguousarray(T.transpose(1, 0, 2)).reshape(n2, m1 * k)
    return factors.left(B, T2).reshape(m2, m1, k).transpose(1, 0, 2)


_SMALL_BOX = 64 * 64  # up to this many input entries a box product's thin path goes B first on a tie


class _VectorPath:
    """``x ↦ vec(A X Bᵀ)`` for numpy factors, ``X`` being ``x`` read as an ``n1×n2`` matrix (or, for a box product,
    the transpose of ``x`` read as ``n2×n1``): the thin path of ``op @ x``. The order of the two products
    (the cheaper side first, as in :func:`_two_sided`) and the view ``Bᵀ`` are fixed at construction, so
    applying costs two GEMMs, a reshape and a ravel (``python -m bench operators``). On a tie a small box
    product (``X`` of at most 64 × 64 entries) goes B first, ``A (Xᵀ Bᵀ)``: both transposed operands on the
    left of one GEMM, where OpenBLAS is fast; ``(A Xᵀ) Bᵀ`` has a transposed right operand in both, and at
    n = 64 took 22 µs against 16 µs. From n = 128 on A first is the faster by about 3%."""

    __slots__ = ("A", "BT", "a_first", "shape", "transposed")

    def __init__(self, A: np.ndarray, B: np.ndarray, shape: tuple[int, int], transposed: bool):
        self.A, self.BT, self.shape, self.transposed = A, B.T, shape, transposed
        n1, n2 = shape[::-1] if transposed else shape
        m1, m2 = A.shape[0], B.shape[0]
        a_cost, b_cost = m1 * n2 * (n1 + m2), m2 * n1 * (n2 + m1)
        self.a_first = a_cost < b_cost or (a_cost == b_cost and (not transposed or n1 * n2 > _SMALL_BOX))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        X = x.reshape(self.shape)
        if self.transposed:
            X = X.T
        return ((self.A @ X) @ self.BT if self.a_first else self.A @ (X @ self.BT)).ravel()


def _two_sided_stack(xp, A, B, X3):
    """``A X3[c] Bᵀ`` for every matrix of a stack ``X3`` (``k × n1 × n2``) of another array library,
    the cheaper side first (as in :func:`_two_sided`)."""
    (m1, n1), (m2, n2) = A.shape, B.shape
    if m1 * n2 * (n1 + m2) <= m2 * n1 * (n2 + m1):
        return factors.right_transposed_stack(xp, factors.left_stack(xp, A, X3), B)
    return factors.left_stack(xp, A, factors.right_transposed_stack(xp, X3, B))


# Where a factor's axes go in the broadcast product laid out as the dense matrix (row pair, column pair):
# Kron (m1, m2, n1, n2), Box (m1, m2, n2, n1); as in kernels.py, for arrays of other libraries.
_KRON_AXES = ((slice(None), None, slice(None), None), (None, slice(None), None, slice(None)))
_BOX_AXES = ((slice(None), None, None, slice(None)), (None, slice(None), slice(None), None))


def _broadcast_dense(op: Kron | Box, b, axes) -> object:
    """``op.to_dense()`` for array factors of another library: one broadcast product, no identity."""
    if isinstance(op.A, LinearOperator) or isinstance(op.B, LinearOperator):
        return Operator._dense_in(op, b)
    return b.xp.reshape(op.A[axes[0]] * op.B[axes[1]], op.shape)


def _numpy_factors(op) -> bool:
    """Both factors of a Kron or Box are numpy arrays (what the dense kernels take as they are)."""
    return isinstance(op.A, np.ndarray) and isinstance(op.B, np.ndarray)


class Kron(Operator):
    """The Kronecker product ``A ⊗ B`` (``Kron(A, B, C)`` is ``A ⊗ (B ⊗ C)``).

    ``(A ⊗ B)[(ij),(kl)] = A[i,k] B[j,l]``; on row-major ``vec``: ``(A ⊗ B) vec(X) = vec(A X Bᵀ)``
    with ``X`` of shape ``n1×n2``. In column-major terms ``(Bᵀ ⊗ A) vec_F(X) = vec_F(A X B)``.
    """

    def __init__(self, A, B, *more):
        if more:
            B = reduce(lambda right, left: Kron(left, right), reversed((B, *more)))
        self.A = factors.as_factor(A, "Kron: the left factor")
        self.B = factors.as_factor(B, "Kron: the right factor")
        (m1, n1), (m2, n2) = self.A.shape, self.B.shape
        super().__init__(result_dtype(self.A, self.B), (m1 * m2, n1 * n2), (n1, n2), (m1, m2), (self.A, self.B))
        if _numpy_factors(self):
            self._vector = _VectorPath(self.A, self.B, (n1, n2), transposed=False)

    def _matmat(self, X):
        k = X.shape[1]
        Y = _two_sided(self.A, self.B, X.reshape((*self.in_shape, k)))
        return Y.reshape(self.shape[0], k)

    def _apply_stack(self, xp, X3):
        return _two_sided_stack(xp, self.A, self.B, X3)

    def _transpose(self):
        return Kron(factors.transpose(self.A), factors.transpose(self.B))

    def _adjoint(self):
        return Kron(factors.adjoint(self.A), factors.adjoint(self.B))

    def matvec_flops(self) -> int:
        (m1, n1), (m2, n2) = self.A.shape, self.B.shape
        return min(
            _factor_flops(self.A, n2) + _factor_flops(self.B, m1),
            _factor_flops(self.B, n1) + _factor_flops(self.A, m2),
        )

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        return kernels.kron_dense(factors.to_array(self.A), factors.to_array(self.B))

    def dense_terms(self, c=1):
        yield ("kron", c, self.A, self.B) if _numpy_factors(self) else ("dense", c, self._dense(), None)

    def _dense_in(self, b):
        return _broadcast_dense(self, b, _KRON_AXES)

    def __repr__(self) -> str:
        return f"Kron({factors.describe(self.A)}, {factors.describe(self.B)})"


class Box(Operator):
    """The box product ``A ⊠ B`` (``Box(A, B, C)`` is ``A ⊠ (B ⊠ C)``).

    ``(A ⊠ B)[(ij),(kl)] = A[i,l] B[j,k]``; on row-major ``vec``: ``(A ⊠ B) vec(X) = vec(A Xᵀ Bᵀ)``
    with ``X`` of shape ``n2×n1``. ``I_m ⊠ I_n`` is the commutation matrix: ``vec(X) ↦ vec(Xᵀ)``.
    """

    def __init__(self, A, B, *more):
        if more:
            B = reduce(lambda right, left: Box(left, right), reversed((B, *more)))
        self.A = factors.as_factor(A, "Box: the left factor")
        self.B = factors.as_factor(B, "Box: the right factor")
        (m1, n1), (m2, n2) = self.A.shape, self.B.shape
        super().__init__(result_dtype(self.A, self.B), (m1 * m2, n1 * n2), (n2, n1), (m1, m2), (self.A, self.B))
        if _numpy_factors(self):
            self._vector = _VectorPath(self.A, self.B, (n2, n1), transposed=True)

    def _matmat(self, X):
        k = X.shape[1]
        # A Xᵀ Bᵀ: the Kronecker application to the transposed input, read as a view (no copy).
        Y = _two_sided(self.A, self.B, X.reshape((*self.in_shape, k)).transpose(1, 0, 2))
        return Y.reshape(self.shape[0], k)

    def _apply_stack(self, xp, X3):
        return _two_sided_stack(xp, self.A, self.B, xp.matrix_transpose(X3))

    def _transpose(self):
        return Box(factors.transpose(self.B), factors.transpose(self.A))

    def _adjoint(self):
        return Box(factors.adjoint(self.B), factors.adjoint(self.A))

    def matvec_flops(self) -> int:
        (m1, n1), (m2, n2) = self.A.shape, self.B.shape
        return min(
            _factor_flops(self.B, n1) + _factor_flops(self.A, m2),
            _factor_flops(self.A, n2) + _factor_flops(self.B, m1),
        )

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        return kernels.box_dense(factors.to_array(self.A), factors.to_array(self.B))

    def dense_terms(self, c=1):
        yield ("box", c, self.A, self.B) if _numpy_factors(self) else ("dense", c, self._dense(), None)

    def _dense_in(self, b):
        return _broadcast_dense(self, b, _BOX_AXES)

    def __repr__(self) -> str:
        return f"Box({factors.describe(self.A)}, {factors.describe(self.B)})"


def _size(u) -> int:
    return int(u.shape[0])


def _as_vector(u, order: str, role: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """A 1-D vector and the (C-order) matrix shape it is the ``vec`` of."""
    u = readonly(numeric_array(u, f"Outer: {role}"))
    if u.ndim == 1:
        return u, tuple(u.shape)
    if is_foreign(u):  # another array library: vec by its namespace
        xp = of_foreign(u).xp
        return xp.reshape(u.T if order == "F" else u, (-1,)), tuple(u.shape)[:: -1 if order == "F" else 1]
    if u.ndim == 2:
        if order == "F":
            return u.ravel(order="F"), u.shape[::-1]
        return u.ravel(), u.shape
    raise ValueError(f"Outer: {role} must be a vector or a matrix, got an array of shape {u.shape}")


class Outer(Operator):
    """The outer product ``u vᵀ`` (no conjugation), or ``vec(U) vec(V)ᵀ`` for matrices ``U``, ``V``.

    ``(u vᵀ) x = u (vᵀ x)``: one dot product and one scaling. For matrices ``order`` picks the
    ``vec`` (``"C"`` rows, ``"F"`` columns); ``trace(A X) B`` has Jacobian ``vec(B) vec(Aᵀ)ᵀ``.
    """

    def __init__(self, u, v, order: str = "C"):
        check_order(order)
        self.u, out_shape = _as_vector(u, order, "the left vector")
        self.v, in_shape = _as_vector(v, order, "the right vector")
        super().__init__(
            result_dtype(self.u, self.v), (_size(self.u), _size(self.v)), in_shape, out_shape, (self.u, self.v)
        )

    @classmethod
    def _from_vectors(cls, u, v, in_shape, out_shape) -> Outer:
        op = cls(u, v)
        op.in_shape, op.out_shape = in_shape, out_shape
        return op

    def _matmat(self, X):
        return self.u[:, None] * (self.v @ X)[None, :]

    def _apply_stack(self, xp, X3):
        k = X3.shape[0]
        s = matmul(xp, xp.reshape(X3, (k, self.shape[1])), self.v)
        return xp.reshape(s[:, None] * self.u[None, :], (k, *self.out_shape))

    def _transpose(self):
        return Outer._from_vectors(self.v, self.u, self.out_shape, self.in_shape)

    def _adjoint(self):
        return Outer._from_vectors(self.v.conj(), self.u.conj(), self.out_shape, self.in_shape)

    def matvec_flops(self) -> int:
        return 2 * (self.shape[0] + self.shape[1])

    def _dense(self) -> np.ndarray:
        from kronbox.kernels import dense as kernels

        return kernels.outer_dense(self.u, self.v)

    def dense_terms(self, c=1):
        yield ("outer", c, self.u, self.v)

    def __repr__(self) -> str:
        return f"Outer({'×'.join(map(str, self.out_shape))}, {'×'.join(map(str, self.in_shape))})"

"""From a linear-map expression to the lazy kronbox operator: evaluate the factors, build the tree.

Every factor of the map is evaluated in one pass (shared nodes once); identity factors become
:class:`kronbox.Identity` rather than dense ``eye`` matrices, so ``I ⊗ B`` costs one product.
Row-major ``vec`` by default; ``order="F"`` conjugates the map with the commutation matrices,
``K J K``, which is the Jacobian in the column-major arrangement (Magnus–Neudecker).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kronbox import operators as ops
from kronbox.amd.evaluation import spectral
from kronbox.amd.evaluation.evaluate import evaluate
from kronbox.amd.expressions.expr import Expr, ShapeError, eye_size
from kronbox.amd.expressions.kronecker import slot_adjoint, slot_value
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.backend import Backend, is_foreign, numpy_dtype, of_foreign
from kronbox.backend import of as backend_of
from kronbox.vec import check_order


def _matrix(value) -> np.ndarray:
    """A factor as a 2-D array (an array of another library stays in it)."""
    if is_foreign(value):
        return value if value.ndim == 2 else of_foreign(value).xp.reshape(value, (1, -1))
    return np.atleast_2d(np.asarray(value))


def _coefficient(value):
    """A scalar factor as a Python number (a 1×1 matrix, such as ``x'*y``, is its entry; an array of
    another library is read once)."""
    if not is_foreign(value):
        return value.reshape(()).item() if isinstance(value, np.ndarray) else value
    value = of_foreign(value).xp.reshape(value, ())
    return complex(value) if numpy_dtype(value.dtype).kind == "c" else float(value)


def _eye(n: int, backend: Backend | None):
    if backend is None:
        return np.eye(n)
    return backend.xp.eye(n, dtype=backend.xp.float64, device=backend.device)


def _size(e: Expr) -> int:
    """The size of an identity factor (a map's identities are sized when the map is bound to values)."""
    n = eye_size(e)
    if n is None:
        raise ShapeError(f"the size of the identity factor {e} is not known")
    return n


def _placed(e: Expr, value, backend: Backend | None):
    """The value of the factor ``e``; a number, or an array without symbols (``ones``, ``zeros`` of a
    known shape), is made in the library of the values, so that it joins their computation."""
    if backend is None or is_foreign(value) or (e.symbols and np.ndim(value) > 0):
        return value
    return backend.xp.asarray(value, device=backend.device)


def _build(M: LinearMap, evaluated: dict[int, Any], backend: Backend | None = None) -> ops.Operator:
    """The operator of ``M`` from the values of its factors (``id(factor) → value``), arrays of
    ``backend``'s library when that is not ``None``.

    A module-level function, not a closure: a closure that calls itself is a reference cycle, and it
    kept every factor value alive until the next garbage collection (10 MB per Hessian at n = 500)."""

    def factor(e: Expr):
        return _eye(_size(e), backend) if e.kind == "eye" else _placed(e, evaluated[id(e)], backend)

    def kron_factor(e: Expr):
        return ops.Identity(_size(e)) if e.kind == "eye" else _matrix(_placed(e, evaluated[id(e)], backend))

    def build(child: LinearMap) -> ops.Operator:
        return _build(child, evaluated, backend)

    k, a = M.kind, M.args
    if k == "identity":
        return ops.Identity(M.in_shape)
    if k == "zero":
        return ops.Zero(M.out_shape, M.in_shape)
    if k in ("kron", "box"):
        A, B = map(kron_factor, a)
        return (ops.Kron if k == "kron" else ops.Box)(A, B)
    if k == "outer":
        return ops.Outer(_matrix(factor(a[0])), _matrix(factor(a[1])))
    if k == "diag":
        return ops.Diag(_matrix(factor(a[0])))
    if k == "scaled":
        return ops.Scaled(_coefficient(factor(a[0])), build(a[1]))
    if k == "sum":
        return ops.Sum(*map(build, a))
    if k == "compose":
        return ops.Compose(*map(build, a))
    if k == "kronsum_inv":
        A, B = (_matrix(factor(f)) for f in a)
        return ops.KronSum(A, B).inv()
    if k == "frechet":
        return _frechet_operator(M.param, [_matrix(factor(f)) for f in a], backend)
    if k == "slot":
        return SlotOperator(M.param, tuple(_matrix(factor(f)) for f in a), M.in_shape, M.out_shape)
    raise AssertionError(k)


def _frechet_operator(param: tuple, arrays: list, backend: Backend | None) -> ops.Operator:
    """``U ↦ L_f^{(k)}(X)[E₁, …, U]``: for ``k = 1`` and a real symmetric ``X = Q diag(λ) Qᵀ`` the Daleckii–Krein
    operator ``(Q ⊗ Q) diag(vec Φ) (Qᵀ ⊗ Qᵀ)``; else a matrix-free operator that computes the derivative at
    each product (its transpose at ``Xᵀ``, ``Eᵢᵀ``)."""
    X, fixed = arrays[0], arrays[1:]
    xp = np if backend is None else backend.xp
    what = "the matrix of the Fréchet derivative"
    decomposition = None if fixed else spectral.symmetric_eigh(xp, None, X)
    if decomposition is not None:
        w, Q = decomposition
        spectral.check_spectrum(param, w, what, xp)
        return ops.Compose(ops.Kron(Q, Q), ops.Diag(spectral.divided_differences(xp, param, w)),
                           ops.Kron(Q.T, Q.T))
    return FrechetDerivative(param, X, fixed)


class FrechetDerivative(ops.Operator):
    """``vec(U) ↦ vec(L_f^{(k)}(X)[E₁, …, E_{k−1}, U])`` without a matrix: each product computes the derivative
    (:func:`kronbox.amd.evaluation.spectral.frechet_derivative`); the transpose is the same at ``Xᵀ``, ``Eᵢᵀ``."""

    def __init__(self, param: tuple, X: np.ndarray, fixed: list[np.ndarray]):
        self.param, self.X, self.fixed = param, X, fixed
        self.decompositions: dict = {}  # X's eigendecomposition, made at the first product (spectral._eigh)
        n = X.shape[0]
        dtype = np.result_type(*(numpy_dtype(a.dtype) for a in (X, *fixed)), np.float64)
        super().__init__(dtype, (n * n, n * n), (n, n), (n, n), (X, *fixed))

    def _derivative(self, xp, U):
        return spectral.frechet_derivative(xp, self, self.param, self.X, [*self.fixed, U],
                                           "the matrix of the Fréchet derivative")

    def _matmat(self, Y):
        n = self.X.shape[0]
        return np.stack([self._derivative(np, u.reshape(n, n)).ravel() for u in Y.T], axis=1)

    def _apply_stack(self, xp, X3):
        return xp.stack([self._derivative(xp, X3[c]) for c in range(X3.shape[0])])

    def _transpose(self):
        return FrechetDerivative(self.param, self.X.T, [E.T for E in self.fixed])

    def _adjoint(self):
        return FrechetDerivative(self.param, self.X.conj().T, [E.conj().T for E in self.fixed])

    def __repr__(self) -> str:
        name = self.param[0] if self.param[0] != "pow" else f"X^{self.param[1]}"
        order = "" if not self.fixed else f"^({len(self.fixed) + 1})"
        return f"FrechetDerivative{order}({name}, {self.X.shape[0]}×{self.X.shape[0]})"


def to_operator(L: LinearMap, values: dict, order: str = "C", simplify: bool = True) -> ops.Operator:
    """The kronbox operator of ``L`` with its factors evaluated at ``values``."""
    check_order(order)
    factors = [f for f in dict.fromkeys(L.factors()) if f.kind != "eye"]
    evaluated = dict(zip(map(id, factors), evaluate(factors, values), strict=True))
    backend = next((backend_of(v) for v in values.values() if is_foreign(v)), None)
    op = _build(L, evaluated, backend)
    if order == "F":
        (m, n), (p, q) = op.out_shape, op.in_shape
        op = ops.Compose(ops.Commutation(n, m), op, ops.Commutation(p, q))
    return op.simplify() if simplify else op


class SlotOperator(ops.Operator):
    """``vec(U) ↦ vec(kind(args with U at slot))`` for ``kron`` and ``kronfactor``, which are bilinear: one
    broadcast product (and a sum for ``kronfactor``) per application, ``O(size of the result)``; the transpose is
    the slot map of :func:`kronbox.amd.expressions.kronecker.slot_adjoint`."""

    def __init__(self, param: tuple, others: tuple, in_shape, out_shape):
        self.param, self.others = param, others
        m, n = (int(np.prod(s)) for s in (out_shape, in_shape))
        dtype = np.result_type(*(numpy_dtype(a.dtype) for a in others), np.float64)
        super().__init__(dtype, (m, n), in_shape, out_shape, others)

    def _value(self, xp, U):
        kind, param, slot = self.param
        return slot_value(xp, kind, param, (*self.others[:slot], U, *self.others[slot:]))

    def _matmat(self, Y):
        k = Y.shape[1]
        return self._value(np, Y.T.reshape(k, *self.in_shape)).reshape(k, -1).T

    def _apply_stack(self, xp, X3):  # the values take stacks: one broadcast product for all k inputs
        return self._value(xp, X3)

    def _transpose(self):
        kind, param, slot = self.param
        adjoint = slot_adjoint(kind, param, slot, self.others)
        return SlotOperator(adjoint[:3], adjoint[3], self.out_shape, self.in_shape)

    def _adjoint(self):
        return self._transpose() if self.dtype.kind != "c" else super()._adjoint()

    def __repr__(self) -> str:
        kind, _, slot = self.param
        shown = ["×".join(map(str, a.shape)) for a in self.others]
        shown.insert(slot, "·")
        return f"SlotOperator({kind}({', '.join(shown)}))"


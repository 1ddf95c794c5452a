"""From a linear-map expression to the lazy kronbox operator: evaluate the factors, build the tree.

Every factor of the map is evaluated in one pass (shared nodes once); identity factors become
:class:`kronbox.Identity` rather than dense ``eye`` matrices, so ``I ⊗ B`` costs one product.
Row-major ``vec`` by default; ``order="F"`` conjugates the map with the commutation matrices,
``K J K``, which is the Jacobian in the column-major arrangement (Magnus–Neudecker).
"""

from __future__ import annotations

import numpy as np

from .. import operators as ops
from ..vec import check_order
from .evaluate import evaluate
from .expr import Expr
from .linear import LinearMap


def _matrix(value) -> np.ndarray:
    return np.atleast_2d(np.asarray(value))


def _build(M: LinearMap, evaluated: dict[int, object]) -> ops.Operator:
    """The operator of ``M`` from the values of its factors (``id(factor) → value``).

    A module-level function, not a closure: a closure that calls itself is a reference cycle, and it
    kept every factor value alive until the next garbage collection (10 MB per Hessian at n = 500)."""

    def factor(e: Expr):
        return np.eye(e.param) if e.kind == "eye" else evaluated[id(e)]

    def kron_factor(e: Expr):
        return ops.Identity(e.param) if e.kind == "eye" else _matrix(evaluated[id(e)])

    def build(child: LinearMap) -> ops.Operator:
        return _build(child, evaluated)

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
        return ops.Scaled(factor(a[0]), build(a[1]))
    if k == "sum":
        return ops.Sum(*map(build, a))
    if k == "compose":
        return ops.Compose(*map(build, a))
    if k == "kronsum_inv":
        A, B = (_matrix(factor(f)) for f in a)
        return ops.KronSum(A, B).inv()
    raise AssertionError(k)


def to_operator(L: LinearMap, values: dict, order: str = "C", simplify: bool = True) -> ops.Operator:
    """The kronbox operator of ``L`` with its factors evaluated at ``values``."""
    check_order(order)
    factors = [f for f in dict.fromkeys(L.factors()) if f.kind != "eye"]
    op = _build(L, dict(zip(map(id, factors), evaluate(factors, values), strict=True)))
    if order == "F":
        (m, n), (p, q) = op.out_shape, op.in_shape
        op = ops.Compose(ops.Commutation(n, m), op, ops.Commutation(p, q))
    return op.simplify() if simplify else op

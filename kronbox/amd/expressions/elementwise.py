"""Elementwise functions: one row each (value, derivative as an expression, analytic or not).

For ``F = f∘(A)`` (``f`` applied entry by entry) the Jacobian is ``diag(vec f'(A))`` and the
reverse-mode rule is ``Ā = G ∘ f'(A)``; ``derivative(F, A)`` builds ``f'(A)`` from the node ``F``
itself where that is cheaper (``exp' = exp``, ``tanh' = 1 − tanh²``). A function is *analytic*
when the complex step may differentiate it (``abs``, ``sign`` and ``relu`` are not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kronbox.amd.expressions.expr import Expr, add, div, elementwise, literal, mul, neg, power, zeros_like


@dataclass(frozen=True)
class Elementwise:
    """``numpy``: the function on numpy arrays; ``array_api(xp, x)``: on an array of another library,
    where the namespace's function of the same name does not do (``None``: it does)."""

    name: str
    numpy: Callable
    derivative: Callable[[Expr, Expr], Expr]
    analytic: bool = True
    array_api: Callable | None = None

    def in_namespace(self, xp, x):
        """``f(x)`` for an array ``x`` of the Array API namespace ``xp``."""
        return self.array_api(xp, x) if self.array_api is not None else getattr(xp, self.name)(x)


def _relu(x):
    return np.maximum(x, 0) if not np.iscomplexobj(x) else np.where(x.real > 0, x, 0)


def _step(x):
    return (np.real(x) > 0).astype(np.result_type(x, np.float64))


def _real_part(xp, x):
    return xp.real(x) if xp.isdtype(x.dtype, "complex floating") else x


def _relu_array_api(xp, x):
    return xp.where(_real_part(xp, x) > 0, x, xp.zeros_like(x))


def _step_array_api(xp, x):
    return xp.astype(_real_part(xp, x) > 0, xp.result_type(x, xp.float64))


def _zero_derivative(F: Expr, A: Expr) -> Expr:
    return zeros_like(A)


FUNCTIONS: dict[str, Elementwise] = {row.name: row for row in (
    Elementwise("exp", np.exp, lambda F, A: F),
    Elementwise("log", np.log, lambda F, A: div(literal(1.0), A)),
    Elementwise("sqrt", np.sqrt, lambda F, A: div(literal(0.5), F)),
    Elementwise("sin", np.sin, lambda F, A: elementwise("cos", A)),
    Elementwise("cos", np.cos, lambda F, A: neg(elementwise("sin", A))),
    Elementwise("tan", np.tan, lambda F, A: add(literal(1.0), power(F, 2))),
    Elementwise("tanh", np.tanh, lambda F, A: add(literal(1.0), neg(power(F, 2)))),
    # d arcsin = 1/√(1 − a²), d arccos = −1/√(1 − a²), d arctan = 1/(1 + a²); the Array API spells them asin, …
    Elementwise("arcsin", np.arcsin, lambda F, A: power(add(literal(1.0), neg(power(A, 2))), -0.5),
                array_api=lambda xp, x: xp.asin(x)),
    Elementwise("arccos", np.arccos, lambda F, A: neg(power(add(literal(1.0), neg(power(A, 2))), -0.5)),
                array_api=lambda xp, x: xp.acos(x)),
    Elementwise("arctan", np.arctan, lambda F, A: div(literal(1.0), add(literal(1.0), power(A, 2))),
                array_api=lambda xp, x: xp.atan(x)),
    Elementwise("abs", np.abs, lambda F, A: elementwise("sign", A), analytic=False),
    Elementwise("sign", np.sign, _zero_derivative, analytic=False),
    Elementwise("relu", _relu, lambda F, A: elementwise("step", A), analytic=False, array_api=_relu_array_api),
    Elementwise("step", _step, _zero_derivative, analytic=False, array_api=_step_array_api),
)}


def power_derivative(F: Expr, A: Expr, p: float) -> Expr:
    """``d(A .^ p) = p A .^ (p − 1) ∘ dA``."""
    return mul(literal(p), power(A, p - 1.0))

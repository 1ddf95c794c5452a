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

from .expr import Expr, add, div, elementwise, literal, mul, neg, power, zeros_like


@dataclass(frozen=True)
class Elementwise:
    numpy: Callable
    derivative: Callable[[Expr, Expr], Expr]
    analytic: bool = True


def _relu(x):
    return np.maximum(x, 0) if not np.iscomplexobj(x) else np.where(x.real > 0, x, 0)


def _step(x):
    return (np.real(x) > 0).astype(np.result_type(x, np.float64))


def _zero_derivative(F: Expr, A: Expr) -> Expr:
    return zeros_like(A)


FUNCTIONS: dict[str, Elementwise] = {
    "exp": Elementwise(np.exp, lambda F, A: F),
    "log": Elementwise(np.log, lambda F, A: div(literal(1.0), A)),
    "sqrt": Elementwise(np.sqrt, lambda F, A: div(literal(0.5), F)),
    "sin": Elementwise(np.sin, lambda F, A: elementwise("cos", A)),
    "cos": Elementwise(np.cos, lambda F, A: neg(elementwise("sin", A))),
    "tan": Elementwise(np.tan, lambda F, A: add(literal(1.0), power(F, 2))),
    "tanh": Elementwise(np.tanh, lambda F, A: add(literal(1.0), neg(power(F, 2)))),
    "abs": Elementwise(np.abs, lambda F, A: elementwise("sign", A), analytic=False),
    "sign": Elementwise(np.sign, _zero_derivative, analytic=False),
    "relu": Elementwise(_relu, lambda F, A: elementwise("step", A), analytic=False),
    "step": Elementwise(_step, _zero_derivative, analytic=False),
}


def power_derivative(F: Expr, A: Expr, p: float) -> Expr:
    """``d(A .^ p) = p A .^ (p − 1) ∘ dA``."""
    return mul(literal(p), power(A, p - 1.0))

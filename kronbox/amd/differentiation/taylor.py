"""Taylor expansions by the AMD construction: each term is a directional derivative of the last.

With ``Δ = X − X₀`` held constant, ``f₀ = f(X₀)`` and ``f_{k+1} = trace(Δ · (∂f_k/∂X₀)ᵀ) = ⟨Δ, ∂f_k/∂X₀⟩``,
so ``f_k = D^k f(X₀)[Δ, …, Δ]`` and ``f(X) = Σ_k f_k / k!``. Every term is an ordinary expression
in ``X`` and ``X₀`` (``Δ`` is substituted back once the derivatives are taken), evaluated
without forming any derivative tensor.
"""

from __future__ import annotations

import math
import numbers

from kronbox.amd.differentiation.derivative import find_symbol, gradient
from kronbox.amd.expressions.expr import Expr, ShapeError, const, inner, literal, mul, sub, substitute, var


def taylor(f: Expr, wrt: str | Expr, around: str | Expr, order: int) -> list[Expr]:
    """The terms ``f_k / k!``, ``k = 0 … order``, of the expansion of ``f`` in ``wrt`` about ``around``."""
    x = find_symbol(f, wrt)
    if not isinstance(order, numbers.Integral) or isinstance(order, bool) or order < 0:
        raise ValueError(f"taylor: order is a non-negative integer, got {order!r}")
    order = int(order)
    if isinstance(around, Expr):
        centre = around
    elif isinstance(around, str) and around.isidentifier():
        centre = var(around, x.shape)
    else:
        raise TypeError(f"taylor: around is a symbol or its name, got {around!r}")
    if centre.shape is not None and x.shape is not None and centre.shape != x.shape:
        raise ShapeError(f"taylor: {centre} is {centre.shape} but {x} is {x.shape}")
    if centre.name in f.symbols:
        raise ValueError(f"taylor: {centre} already appears in {f}; expand about a new symbol")
    delta = const("_Delta", shape=x.shape)
    term = substitute(f, {x: centre})
    terms = [term]
    for _ in range(order):
        term = inner(delta, gradient(term, centre)) if term.depends_on(centre) else literal(0.0)
        terms.append(term)
    step = sub(x, centre)
    return [mul(literal(1.0 / math.factorial(k)), substitute(t, {delta: step})) for k, t in enumerate(terms)]

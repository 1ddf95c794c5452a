"""The elementwise functions as callables on expressions: ``amd.exp(X)`` is ``exp`` entry by entry."""

from __future__ import annotations

from collections.abc import Callable

from kronbox.amd.expressions.expr import Expr, Operand, as_expr, elementwise


def _entrywise(name: str) -> Callable[[Operand], Expr]:
    def f(a: Operand) -> Expr:
        return elementwise(name, as_expr(a))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{name}`` applied to every entry."
    return f


exp, log, sqrt, sin, cos, tan, tanh, arcsin, arccos, arctan, abs, sign, relu = map(
    _entrywise, ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "arcsin", "arccos", "arctan", "abs", "sign", "relu")
)

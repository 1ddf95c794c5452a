"""``amd.compile(f, g, ...)``: expressions evaluated together as one function of the values, compiled once.

``fn = amd.compile(f, amd.grad(f, X))`` plans the expressions' DAG once (shared subexpressions,
the fusions of :mod:`~kronbox.amd.evaluation.plan`) and writes it out as one Python function
(:mod:`~kronbox.amd.evaluation.compiled`); ``fn(values)`` (or ``fn(X=...)``) returns their values,
bit for bit those of :func:`kronbox.amd.evaluate`, with ``inv(X)`` and its factorization shared by
``f`` and its gradient. Symbols declared without a shape get one function per shape of their values.
Values the compiled function does not take as they are (numbers, vectors, integer arrays, arrays
of PyTorch, JAX, CuPy or dask) are evaluated by the interpreter, which also reports every error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kronbox.amd.evaluation.compiled import CompiledPlan, compile_program
from kronbox.amd.evaluation.evaluate import evaluate_with
from kronbox.amd.evaluation.plan import bound_values, program, specialize
from kronbox.amd.expressions.expr import Expr


class CompiledFunction:
    """The values of ``exprs`` at given values, by a function compiled once per shape of the values."""

    def __init__(self, exprs: tuple[Expr, ...]):
        self.exprs = exprs
        plan = program(exprs)
        self._unshaped = tuple(n.name for n in plan.symbols if n.shape is None)
        self._plans: dict[tuple[Any, ...], tuple[tuple[Expr, ...], CompiledPlan]] = {}

    def _plan(self, values: Mapping[str, Any]) -> tuple[tuple[Expr, ...], CompiledPlan]:
        """The expressions with their symbols' shapes, and their compiled plan, for ``values``."""
        key = tuple(np.shape(values[name]) if name in values else None for name in self._unshaped)
        found = self._plans.get(key)
        if found is None:
            exprs = list(self.exprs)
            if self._unshaped:
                exprs = specialize(exprs, bound_values(exprs, values))
            found = self._plans[key] = (tuple(exprs), CompiledPlan(program(tuple(exprs)), hot=1))
        return found

    def __call__(self, values: Mapping[str, Any] | None = None, **named: Any) -> list[Any]:
        """The value of each expression at ``values`` (name → array or number) and ``named``."""
        values = {**(values or {}), **named}
        exprs, plan = self._plan(values)
        return evaluate_with(plan, list(exprs), values)

    def source(self, values: Mapping[str, Any] | None = None, **named: Any) -> str:
        """The Python source of the compiled function (for the shapes of ``values`` when some symbol
        has none): one line per step, node values in locals ``t1``, ``t2``, ..."""
        exprs, _ = self._plan({**(values or {}), **named})
        return compile_program(program(exprs)).source  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<compiled {', '.join(map(str, self.exprs))}>"


def compile(*exprs: Expr) -> CompiledFunction:
    """``exprs`` as one compiled function of their symbols' values: ``compile(f, g)(values) = [f, g]``
    at ``values``, evaluated together (shared work once) by a straight-line function written once.

        >>> from kronbox import amd
        >>> import numpy as np
        >>> X = amd.var("X", (2, 2))
        >>> f = amd.logdet(X)
        >>> value_and_grad = amd.compile(f, amd.grad(f, X))
        >>> value, G = value_and_grad(X=np.diag([1.0, 4.0]))
        >>> float(value), G.diagonal().tolist()
        (1.3862943611198906, [1.0, 0.25])
    """
    for e in exprs:
        if not isinstance(e, Expr):
            raise TypeError(f"compile takes amd expressions, got {type(e).__name__}")
    if not exprs:
        raise ValueError("compile needs at least one expression")
    return CompiledFunction(tuple(exprs))

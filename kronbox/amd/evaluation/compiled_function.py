"""``amd.compile(f, g, H, ...)``: expressions and derivatives at the same values, as one function compiled once.

``fn = amd.compile(f, amd.grad(f, X), amd.hessian(f, X))`` plans the expressions' DAG once (shared
subexpressions, the fusions of :mod:`~kronbox.amd.evaluation.plan`) and writes it out as one Python
function (:mod:`~kronbox.amd.evaluation.compiled`); ``fn(values)`` (or ``fn(X=...)``) returns their
values, bit for bit those of :func:`kronbox.amd.evaluate`, with ``inv(X)`` and its factorization
shared by ``f``, its gradient and the Hessian's factors. A derivative (or a
:class:`~kronbox.amd.expressions.linear_map.LinearMap`) comes back bound at the values as a scipy
``LinearOperator``: for a sum of Kron and box terms, the terms applied by their GEMMs
(:class:`~kronbox.amd.evaluation.compiled_map.BoundTerms`, nothing built but the bound factors),
else the kronbox operator of :func:`~kronbox.amd.evaluation.lazy_operator.to_operator`.

Symbols declared without a shape get one function per shape of their values (derivatives need
declared shapes). Values the compiled function does not take as they are (numbers, vectors,
integer arrays, arrays of PyTorch, JAX, CuPy or dask) are evaluated by the interpreter, which also
reports every error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
from scipy.sparse.linalg import LinearOperator

from kronbox.amd.evaluation.compiled import CompiledPlan, compile_program
from kronbox.amd.evaluation.compiled_map import BoundTerms, CompiledMap
from kronbox.amd.evaluation.evaluate import evaluate_with
from kronbox.amd.evaluation.lazy_operator import to_operator
from kronbox.amd.evaluation.plan import bound_values, program, specialize
from kronbox.amd.expressions.expr import Expr
from kronbox.amd.expressions.linear_map import LinearMap


class HasMap(Protocol):
    """A derivative (:class:`kronbox.amd.Derivative`): its linear map."""

    @property
    def map(self) -> LinearMap: ...

    @property
    def symmetric_core(self) -> LinearMap | None: ...


class CompiledFunction:
    """The values of expressions and linear maps at given values, by a function compiled once per shape.

    ``cores``: for a map that is the Hessian ``Π H Π`` of a function of a symmetric variable, the merged Kron
    terms ``H'`` with ``Π H' Π`` the same map (``Derivative.symmetric_core``): those are bound, and applied
    inside the projection."""

    def __init__(self, items: tuple[Expr | LinearMap, ...], cores: tuple[LinearMap | None, ...] = ()):
        self.items = items
        cores = cores or (None,) * len(items)
        self._maps = {i: CompiledMap(cores[i] or L) for i, L in enumerate(items) if isinstance(L, LinearMap)}
        self._projected = {i for i in self._maps if cores[i] is not None and self._maps[i].terms is not None}
        factors = [f for m in self._maps.values() for f in m.factors]
        shown = dict.fromkeys(e for e in items if isinstance(e, Expr))
        self.exprs = tuple(dict.fromkeys([*shown, *factors]))
        self._private = len(self.exprs) - len(shown)  # the maps' own factors, only read by their bound terms
        position = {id(e): i for i, e in enumerate(self.exprs)}
        # each item's place among the evaluated values: an expression's own, or its map's factors'
        self._places = [position[id(item)] if isinstance(item, Expr) else [position[id(f)] for f in
                        self._maps[i].factors] for i, item in enumerate(items)]
        plan = program(self.exprs)
        self._unshaped = tuple(n.name for n in plan.symbols if n.shape is None)
        if self._maps and (self._unshaped or any(L.in_shape is None for L in items if isinstance(L, LinearMap))):
            raise ValueError("compile: a derivative is compiled for declared shapes; declare the shapes of its "
                             "symbols (amd.var(name, shape)), or bind it with .at(values)")
        self._plans: dict[tuple[Any, ...], tuple[tuple[Expr, ...], CompiledPlan]] = {}

    def _plan(self, values: Mapping[str, Any]) -> tuple[tuple[Expr, ...], CompiledPlan]:
        """The expressions with their symbols' shapes, and their compiled plan, for ``values``."""
        key = tuple(np.shape(values[name]) if name in values else None for name in self._unshaped)
        found = self._plans.get(key)
        if found is None:
            exprs = list(self.exprs)
            if self._unshaped:
                exprs = specialize(exprs, bound_values(exprs, values))
            found = self._plans[key] = (tuple(exprs), CompiledPlan(program(tuple(exprs)), hot=1, private=self._private))
        return found

    def __call__(self, values: Mapping[str, Any] | None = None, **named: Any) -> list[Any]:
        """The value of each item at ``values`` (name → array or number) and ``named``: an expression's
        value, or a map bound at the values as a ``LinearOperator``."""
        if values is not None and not isinstance(values, Mapping):
            raise TypeError(f"a compiled function takes values by name, fn(X=…) or fn({{'X': …}}); got "
                            f"{type(values).__name__}")
        values = {**(values or {}), **named}
        exprs, plan = self._plan(values)
        evaluated = evaluate_with(plan, list(exprs), values)
        if not self._maps:
            return evaluated
        return [evaluated[place] if isinstance(place, int) else self._bound(i, [evaluated[j] for j in place], values)
                for i, place in enumerate(self._places)]

    def _bound(self, i: int, factors: list[Any], values: dict[str, Any]) -> LinearOperator:
        L = self.items[i]
        assert isinstance(L, LinearMap)  # an item with factors
        terms = self._maps[i].bind(factors)
        if terms is None:
            return to_operator(L, values)
        assert L.in_shape is not None and L.out_shape is not None  # checked at construction
        return BoundTerms(terms, L.in_shape, L.out_shape, projected=i in self._projected)

    def source(self, values: Mapping[str, Any] | None = None, **named: Any) -> str:
        """The Python source of the compiled function (for the shapes of ``values`` when some symbol
        has none): one line per step, node values in locals ``t1``, ``t2``, ..."""
        exprs, _ = self._plan({**(values or {}), **named})
        return compile_program(program(exprs), self._private).source

    def __repr__(self) -> str:
        return f"<compiled {', '.join(map(str, self.items))}>"


def compile(*items: Expr | LinearMap | HasMap) -> CompiledFunction:
    """Expressions and derivatives as one compiled function of their symbols' values:
    ``compile(f, g, H)(values) = [f, g, H]`` at ``values``, evaluated together (shared work once) by a
    straight-line function written once; a derivative comes back as a ``LinearOperator`` bound there.

        >>> from kronbox import amd
        >>> import numpy as np
        >>> X = amd.var("X", (2, 2))
        >>> f = amd.logdet(X)
        >>> fn = amd.compile(f, amd.grad(f, X), amd.hessian(f, X))
        >>> value, G, H = fn(X=np.diag([1.0, 4.0]))
        >>> float(value), G.diagonal().tolist(), (H @ np.eye(4)[0])[0]
        (1.3862943611198906, [1.0, 0.25], np.float64(-1.0))
    """
    if not items:
        raise ValueError("compile needs at least one expression")
    found: list[Expr | LinearMap] = []
    cores: list[LinearMap | None] = []
    for item in items:
        cores.append(getattr(item, "symmetric_core", None))  # a Hessian in a symmetric variable: Π H' Π
        item = item if isinstance(item, Expr | LinearMap) else getattr(item, "map", item)
        if not isinstance(item, Expr | LinearMap):
            raise TypeError(f"compile takes amd expressions and derivatives, got {type(item).__name__}")
        found.append(item)
    return CompiledFunction(tuple(found), tuple(cores))

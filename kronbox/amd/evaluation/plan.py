"""Plans: what evaluating a tuple of expressions needs besides values, worked out once per tuple.

The nodes in topological order (shared nodes once), how often each is used, and the nodes folded
into their single user rather than formed: ``trace(A B)`` is ``Σ aᵢⱼ bⱼᵢ`` and ``sum(A ∘ B)`` is
``Σ aᵢⱼ bᵢⱼ`` (``O(n²)`` instead of ``O(n³)``), ``A + (−B)`` a subtraction. Values are bound by name
and checked against the declared shapes; symbols of unknown shape take the shape of their value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from kronbox.amd.evaluation.spectral import require_symmetric
from kronbox.amd.expressions.expr import (
    Expr,
    ShapeError,
    const,
    declared_shape,
    is_symmetric_variable,
    numeric_value,
    shape_text,
    substitute,
    symbol_table,
    topological,
    var,
)


class Program:
    """What evaluating a tuple of expressions needs besides values, worked out once per tuple:
    the nodes in order, how often each is used, the nodes folded into their user, the symbols."""

    def __init__(self, exprs: tuple[Expr, ...]):
        self.exprs = exprs
        self.order = topological(list(exprs))
        self.uses, self.fused = _plan(self.order, list(exprs))
        self.symbols = list(symbol_table(self.order).values())
        self.shaped = all(n.shape is not None for n in self.symbols)


@lru_cache(maxsize=512)
def program(exprs: tuple[Expr, ...]) -> Program:
    return Program(exprs)


def bound_values(exprs: list[Expr], values: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The value of every symbol in ``exprs``: from ``values`` or the constant's own; errors name it."""
    out = {}
    for n in program(tuple(exprs)).symbols:
        name = n.name
        if name in values:
            v = values[name]
        elif n.value is not None:
            v = n.value
        else:
            kind = "variable" if n.kind == "var" else "constant"
            raise ValueError(f"no value given for the {kind} {name!r}")
        array = numeric_value(v, f"the value of {name!r}")
        declared = declared_shape(n)
        if declared is not None and (len(array.shape) != len(declared) or
                                     any(d is not None and d != a for d, a in zip(declared, array.shape, strict=True))):
            raise ShapeError(f"{name!r} is {shape_text(declared)} but the value given is {shape_text(array.shape)}")
        if is_symmetric_variable(n):
            require_symmetric(array, f"the symmetric variable {name!r}", "the value given")
        out[name] = array
    return out


def specialize(exprs: list[Expr], arrays: dict[str, np.ndarray]) -> list[Expr]:
    """``exprs`` with every symbol of unknown shape given the shape of its value (shapes rechecked)."""
    unshaped = {n: n for n in program(tuple(exprs)).symbols if n.shape is None}
    if not unshaped:
        return exprs
    for n in unshaped:
        name = n.name
        unshaped[n] = var(name, tuple(arrays[name].shape), symmetric=is_symmetric_variable(n)) if n.kind == "var" \
            else _shaped_const(n, arrays[name])
    return [substitute(e, unshaped) for e in exprs]


def _shaped_const(n: Expr, array: np.ndarray) -> Expr:
    return const(n.name, shape=tuple(array.shape))


def _plan(order: list[Expr], roots: list[Expr]) -> tuple[Counter, set[int]]:
    """How often each node is used, and the nodes folded into their user rather than formed:
    ``trace(A B)``, ``sum(A ∘ B)`` and ``A + (−B)`` (a subtraction) when nothing else needs them."""
    uses = Counter(id(a) for n in order for a in n.args)
    root_ids = {id(r) for r in roots}
    fused: set[int] = set()

    def alone(child: Expr) -> bool:
        return uses[id(child)] == 1 and id(child) not in root_ids

    for n in order:
        if not n.args:
            continue
        child = n.args[0]
        if n.kind == "trace" and child.kind == "matmul" and alone(child):
            fused.add(id(child))
        elif n.kind == "sum" and child.kind == "mul" and child.shape != () and alone(child):
            fused.add(id(child))
        elif n.kind == "add" and n.args[1].kind == "neg" and alone(n.args[1]):
            fused.add(id(n.args[1]))
    return uses, fused

"""Evaluation: every node of the DAG once, children first, with values bound by name.

Several expressions evaluated together (a function and its gradient, the factors of a Jacobian)
share their common nodes, and a square matrix is factorized once for all of ``inv``, ``det`` and
``logdet`` of it. Two shapes of work never become a matrix product: ``trace(A B)`` is
``Σ aᵢⱼ bⱼᵢ`` and ``sum(A ∘ B)`` is ``Σ aᵢⱼ bᵢⱼ`` (``O(n²)`` instead of ``O(n³)``) whenever the
product is not needed for anything else.

Values of another array library (PyTorch, JAX, CuPy, dask.array) are evaluated by the same plan
with the Array API kernels of :mod:`kronbox.amd.evaluation.array_api`, in that library and on its device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from kronbox.amd.evaluation import array_api
from kronbox.amd.evaluation.compiled import CompiledPlan
from kronbox.amd.evaluation.context import Context
from kronbox.amd.evaluation.numpy_kernels import NUMPY_KERNELS
from kronbox.amd.evaluation.plan import Program, bound_values, program, specialize
from kronbox.amd.expressions.expr import Expr, ShapeError
from kronbox.backend import is_foreign


def evaluate(exprs: list[Expr], values: Mapping[str, Any]) -> list[Any]:
    """The values of ``exprs`` at ``values`` (name → array or number), computed together: by the
    compiled plan of ``exprs`` once it is hot (:mod:`kronbox.amd.evaluation.compiled`), else by
    :func:`interpret`, which also raises any error a compiled plan met (naming the subexpression)."""
    return evaluate_with(compiled_plan(tuple(exprs)), exprs, values)


def evaluate_with(compiled: CompiledPlan, exprs: list[Expr], values: Mapping[str, Any]) -> list[Any]:
    """The values of ``exprs`` by their compiled plan, or by :func:`interpret` where the plan declines
    (see :class:`CompiledPlan`) or fails: the interpreter then raises the error, naming the subexpression."""
    try:
        result = compiled(values)
    except Exception:  # evaluated again by the interpreter, which raises it located
        result = None
    return result if result is not None else interpret(exprs, values)


@lru_cache(maxsize=512)
def compiled_plan(exprs: tuple[Expr, ...]) -> CompiledPlan:
    return CompiledPlan(program(exprs))


def interpret(exprs: list[Expr], values: Mapping[str, Any]) -> list[Any]:
    """The values of ``exprs`` at ``values``, node by node with the kernels of the values' library."""
    arrays = bound_values(exprs, values)
    plan = program(tuple(exprs))
    if not plan.shaped:
        plan = program(tuple(specialize(exprs, arrays)))
    roots = {id(e) for e in plan.exprs}
    if any(is_foreign(v) for v in arrays.values()) or any(is_foreign(v) for v in values.values()):
        return _run(plan, array_api.context(arrays, values, plan.uses, roots), array_api.ARRAY_API_KERNELS)
    return _run(plan, Context(arrays, plan.uses, roots), NUMPY_KERNELS)


C = TypeVar("C", bound=Context)


def _run(plan: Program, ctx: C, kernels: Mapping[str, Callable[[Expr, C], object]]) -> list[Any]:
    """Every node of ``plan`` by ``kernels`` in the context ``ctx`` (numpy's, or another library's)."""
    vals, fused = ctx.values, plan.fused
    for n in plan.order:
        if id(n) in fused:
            continue
        try:
            vals[id(n)] = kernels[n.kind](n, ctx)
        except ShapeError:
            raise
        except (ValueError, np.linalg.LinAlgError) as err:
            raise type(err)(_located(err, n)) from None
    return [_result(vals[id(e)]) for e in plan.exprs]


def _located(err: Exception, n: Expr) -> str:
    text = str(err)
    return text if str(n) in text else f"{text} (in {n})"


def _result(v: Any) -> Any:
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    return v

"""Evaluation: every node of the DAG once, children first, with values bound by name.

Several expressions evaluated together (a function and its gradient, the factors of a Jacobian)
share their common nodes, and a square matrix is factorized once for all of ``inv``, ``det`` and
``logdet`` of it. Two shapes of work never become a matrix product: ``trace(A B)`` is
``Σ aᵢⱼ bⱼᵢ`` and ``sum(A ∘ B)`` is ``Σ aᵢⱼ bᵢⱼ`` (``O(n²)`` instead of ``O(n³)``) whenever the
product is not needed for anything else.

Values of another array library (PyTorch, JAX, CuPy, dask.array) are evaluated by the same plan
with the Array API kernels of :mod:`kronbox.amd.generic`, in that library and on its device.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import scipy.linalg

from ..backend import is_foreign
from .elementwise import FUNCTIONS
from .expr import (
    SYMBOL_KINDS,
    Expr,
    ShapeError,
    _numeric,
    declared_shape,
    shape_text,
    substitute,
    symbol_table,
    topological,
    var,
)
from .factor import Factorization
from .symmetric import is_symmetric


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


def bound_values(exprs: list[Expr], values: dict) -> dict[str, np.ndarray]:
    """The value of every symbol in ``exprs``: from ``values`` or the constant's own; errors name it."""
    out = {}
    for n in program(tuple(exprs)).symbols:
        name = n.param[0]
        if name in values:
            v = values[name]
        elif n.value is not None:
            v = n.value
        else:
            kind = "variable" if n.kind == "var" else "constant"
            raise ValueError(f"no value given for the {kind} {name!r}")
        array = _numeric(v, f"the value of {name!r}")
        declared = declared_shape(n)
        if declared is not None and (len(array.shape) != len(declared) or
                                     any(d is not None and d != a for d, a in zip(declared, array.shape, strict=True))):
            raise ShapeError(f"{name!r} is {shape_text(declared)} but the value given is {shape_text(array.shape)}")
        out[name] = array
    return out


def specialize(exprs: list[Expr], arrays: dict[str, np.ndarray]) -> list[Expr]:
    """``exprs`` with every symbol of unknown shape given the shape of its value (shapes rechecked)."""
    unshaped = {n: n for n in program(tuple(exprs)).symbols if n.shape is None}
    if not unshaped:
        return exprs
    for n in unshaped:
        name = n.param[0]
        unshaped[n] = var(name, tuple(arrays[name].shape)) if n.kind == "var" else _shaped_const(n, arrays[name])
    return [substitute(e, unshaped) for e in exprs]


def _shaped_const(n: Expr, array: np.ndarray) -> Expr:
    from .expr import const

    return const(n.param[0], shape=tuple(array.shape))


class _ValueOf:
    """``the value of e``, printed only when an error message needs it."""

    __slots__ = ("e",)

    def __init__(self, e: Expr):
        self.e = e

    def __str__(self) -> str:
        return f"the value of {self.e}"


class Context:
    """One evaluation: node values, factorizations, which values are known symmetric, and which
    are temporaries that their single user may overwrite (saving an allocation per elementwise step)."""

    def __init__(self, arrays: dict[str, np.ndarray], uses: Counter, roots: set[int]):
        self.arrays = arrays
        self.uses, self.roots = uses, roots
        self.values: dict[int, object] = {}
        self.factorizations: dict[int, Factorization] = {}
        self.symmetric: set[int] = set()
        self.dtype = self.precision(arrays)

    def precision(self, arrays: dict):
        """The dtype of identities, zeros and ones: the precision of the values (float32 stays float32)."""
        return np.result_type(*arrays.values(), np.float32) if arrays else np.dtype(np.float64)

    def factor(self, e: Expr) -> Factorization:
        """The factorization of the value of ``e``, made on first use."""
        f = self.factorizations.get(id(e))
        if f is None:
            f = self.factorizations[id(e)] = self.factorize(self.values[id(e)], _ValueOf(e))
        return f

    def factorize(self, A, what: object) -> Factorization:
        return Factorization(A, what)

    def scratch(self, n: Expr, *candidates: Expr):
        """A value among ``candidates`` (the operands ``n`` computes from) that ``n`` may overwrite with
        its own result, or ``None``; it must already have the result's dtype."""
        operands = {id(x): x for x in (*n.args, *candidates) if id(x) in self.values}
        dtype = None
        for c in candidates:
            v = self.values.get(id(c))
            if (c.kind in _FRESH and self.uses[id(c)] == 1 and id(c) not in self.roots
                    and isinstance(v, np.ndarray) and v.shape == n.shape and v.flags.writeable):
                if dtype is None:
                    dtype = np.result_type(*(self.values[i] for i in operands))
                if v.dtype == dtype:
                    return v
        return None


# Kinds whose kernels return a newly allocated array (never a view, a leaf or a cached factor).
_FRESH = frozenset({"add", "neg", "mul", "div", "matmul", "ew", "power", "mpow"})


def _plan(order: list[Expr], roots: list[Expr]) -> tuple[Counter, set[int]]:
    """How often each node is used, and the nodes folded into their user rather than formed:
    ``trace(A B)``, ``sum(A ∘ B)`` and ``A + (−B)`` (a subtraction) when nothing else needs them."""
    uses = Counter(id(a) for n in order for a in n.args)
    root_ids = {id(r) for r in roots}
    fused = set()

    def alone(child: Expr) -> bool:
        return uses[id(child)] == 1 and id(child) not in root_ids

    for n in order:
        child = n.args[0] if n.args else None
        if n.kind == "trace" and child.kind == "matmul" and alone(child):
            fused.add(id(child))
        elif n.kind == "sum" and child.kind == "mul" and child.shape != () and alone(child):
            fused.add(id(child))
        elif n.kind == "add" and n.args[1].kind == "neg" and alone(n.args[1]):
            fused.add(id(n.args[1]))
    return uses, fused


def evaluate(exprs: list[Expr], values: dict) -> list:
    """The values of ``exprs`` at ``values`` (name → array or number), computed together."""
    arrays = bound_values(exprs, values)
    plan = program(tuple(exprs))
    if not plan.shaped:
        plan = program(tuple(specialize(exprs, arrays)))
    fused = plan.fused
    if any(is_foreign(v) for v in arrays.values()) or any(is_foreign(v) for v in values.values()):
        from . import generic  # a foreign value decides, even one that these expressions do not read

        ctx = generic.context(arrays, values, plan.uses, {id(e) for e in plan.exprs})
        kernels = generic.KERNELS
    else:
        ctx, kernels = Context(arrays, plan.uses, {id(e) for e in plan.exprs}), KERNELS
    vals = ctx.values
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


def _result(v):
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    return v


def _arg(n: Expr, ctx: Context, i: int = 0):
    return ctx.values[id(n.args[i])]


def _trace(n: Expr, ctx: Context):
    child = n.args[0]
    if id(child) in ctx.values:
        return np.trace(ctx.values[id(child)])
    A, B = (ctx.values[id(a)] for a in child.args)
    return np.einsum("ij,ji->", A, B)


def _sum(n: Expr, ctx: Context):
    child = n.args[0]
    if id(child) in ctx.values:
        return np.sum(ctx.values[id(child)])
    A, B = (ctx.values[id(a)] for a in child.args)
    if np.ndim(A) == 0 or np.ndim(B) == 0:
        return A * np.sum(B) if np.ndim(A) == 0 else np.sum(A) * B
    return _bilinear(A, B)


def _bilinear(A: np.ndarray, B: np.ndarray):
    """``Σ aᵢⱼ bᵢⱼ`` without conjugation (the analytic continuation the complex step needs).

    einsum rather than ``vdot``: a BLAS dot wakes numpy's OpenBLAS threads, which right after a
    LAPACK call in scipy's pool cost 2–3 ms at n = 256 (measured), far more than the sum itself."""
    return np.einsum("ij,ij->", A, B)


def _size(n: Expr):
    if n.param is None:
        name = "I" if n.kind == "eye" else n.kind
        raise ShapeError(f"the size of {name} is not known: use it with a matrix of known shape, or give it a size")
    return n.param


def _symbol(n: Expr, ctx: Context):
    return ctx.arrays[n.param[0]]


def _sqrtm(n: Expr, ctx: Context):
    A = _arg(n, ctx)
    if A.dtype.kind == "f" and np.array_equal(A, A.T):
        w, Q = np.linalg.eigh(A)
        if w.min() >= 0:
            return (Q * np.sqrt(w)) @ Q.T
    root = scipy.linalg.sqrtm(A)
    if np.iscomplexobj(root) and A.dtype.kind == "f" and not np.any(root.imag):
        root = root.real
    return root


def _sylvester(n: Expr, ctx: Context):
    A, B, C = (ctx.values[id(a)] for a in n.args)
    return scipy.linalg.solve_sylvester(np.atleast_2d(A), np.atleast_2d(B), C)


def _logdet(n: Expr, ctx: Context):
    return ctx.factor(n.args[0]).logdet()


def _elementwise(ufunc):
    """A binary elementwise kernel that writes into an argument's temporary when it may."""

    def kernel(n: Expr, ctx: Context):
        a, b = _arg(n, ctx, 0), _arg(n, ctx, 1)
        out = ctx.scratch(n, *n.args)
        result = ufunc(a, b, out=out) if out is not None else ufunc(a, b)
        if all(id(x) in ctx.symmetric or x.shape == () for x in n.args):
            ctx.symmetric.add(id(n))
        return result

    return kernel


def _add(n: Expr, ctx: Context):
    a, second = n.args
    if id(second) in ctx.values:
        return _plus(n, ctx)
    b = second.args[0]  # a − b, the negation folded in
    out = ctx.scratch(n, a, b)
    A, B = ctx.values[id(a)], ctx.values[id(b)]
    if id(a) in ctx.symmetric and id(b) in ctx.symmetric:
        ctx.symmetric.add(id(n))
    return np.subtract(A, B, out=out) if out is not None else A - B


def _neg(n: Expr, ctx: Context):
    out = ctx.scratch(n, n.args[0])
    if id(n.args[0]) in ctx.symmetric:
        ctx.symmetric.add(id(n))
    return np.negative(_arg(n, ctx), out=out) if out is not None else -_arg(n, ctx)


def _transpose(n: Expr, ctx: Context):
    """``Aᵀ``: a view, or ``A`` itself when ``A`` is known to be symmetric (a symbol's value is
    tested, in a tiled pass far cheaper than the strided elementwise work a transposed view costs)."""
    child, A = n.args[0], _arg(n, ctx)
    if id(child) not in ctx.symmetric and child.kind in SYMBOL_KINDS and _symmetric_value(A):
        ctx.symmetric.add(id(child))
    if id(child) in ctx.symmetric:
        ctx.symmetric.add(id(n))
        return A
    return A.T


def _symmetric_value(A) -> bool:
    return isinstance(A, np.ndarray) and A.ndim == 2 and A.dtype.kind == "f" and A.shape[0] == A.shape[1] > 1 \
        and is_symmetric(A)


def _inv(n: Expr, ctx: Context):
    factorization = ctx.factor(n.args[0])
    inverse = factorization.inverse
    if factorization.positive_definite:
        ctx.symmetric.add(id(n))
    return inverse


_plus = _elementwise(np.add)

KERNELS: dict[str, Callable[[Expr, Context], object]] = {
    "var": _symbol,
    "const": _symbol,
    "literal": lambda n, ctx: n.param,
    "eye": lambda n, ctx: np.eye(_size(n), dtype=ctx.dtype),
    "zeros": lambda n, ctx: np.zeros(_size(n), dtype=ctx.dtype),
    "ones": lambda n, ctx: np.ones(_size(n), dtype=ctx.dtype),
    "eye_like": lambda n, ctx: np.eye((np.shape(_arg(n, ctx)) or (1, 1))[n.param], dtype=ctx.dtype),
    "ones_like": lambda n, ctx: np.ones(np.shape(_arg(n, ctx)), dtype=ctx.dtype),
    "zeros_like": lambda n, ctx: np.zeros(np.shape(_arg(n, ctx)), dtype=ctx.dtype),
    "add": _add,
    "neg": _neg,
    "mul": _elementwise(np.multiply),
    "div": _elementwise(np.divide),
    "matmul": lambda n, ctx: _arg(n, ctx, 0) @ _arg(n, ctx, 1),
    "transpose": _transpose,
    "inv": _inv,
    "trace": _trace,
    "det": lambda n, ctx: ctx.factor(n.args[0]).det(),
    "logdet": _logdet,
    "sum": _sum,
    "normsq": lambda n, ctx: _bilinear(_arg(n, ctx), _arg(n, ctx)),
    "norm": lambda n, ctx: np.sqrt(_bilinear(_arg(n, ctx), _arg(n, ctx))),
    "mpow": lambda n, ctx: np.linalg.matrix_power(_arg(n, ctx), n.param),
    "sqrtm": _sqrtm,
    "sylvester": _sylvester,
    "ew": lambda n, ctx: FUNCTIONS[n.param].numpy(_arg(n, ctx)),
    "power": lambda n, ctx: np.power(_arg(n, ctx), n.param),
}

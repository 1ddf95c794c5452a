"""Compiled plans: a tuple of expressions as one straight-line Python function over numpy.

:func:`compile_program` turns a :class:`~kronbox.amd.evaluation.plan.Program` (nodes in topological
order, use counts, fused nodes) into the source of one function, compiled once, whose locals hold
the node values: ``t5 = t3 @ t4``, ``t7 = _into(np.subtract, t5, t6, t5)``. What the interpreter
decides per node and per call is decided here once: which kernel, which operand a step may
overwrite (a temporary used once, of the result's shape: ``out=`` saves an allocation per
elementwise step), which nodes are factorized, and which symmetry facts a later step reads.

Every value is the interpreter's, bit for bit: the steps are the kernels of
:mod:`~kronbox.amd.evaluation.numpy_kernels` written out, with the same factorization
(:class:`~kronbox.amd.evaluation.factorization.Factorization`, one per factorized node: Cholesky
for a symmetric positive definite value, LU otherwise), the same fused sums ``trace(A B) =
Σ aᵢⱼ bⱼᵢ`` and ``sum(A ∘ B) = Σ aᵢⱼ bᵢⱼ``, and the same symmetry facts (a transpose of a value
known to be symmetric is the value itself), kept as local booleans that are computed only where
a later step reads them. A kind without a written-out step (``sqrtm``, ``sylvester``, ``ew``, a
newly added primitive, ...) calls its kernel from the table with an evaluation context, so a new
kind is compiled without a line here.

An error in a compiled function is raised again by the interpreter, which names the subexpression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from kronbox.amd.evaluation.context import _FRESH, Context, _ValueOf
from kronbox.amd.evaluation.factorization import factorize
from kronbox.amd.evaluation.numpy_kernels import NUMPY_KERNELS, _symmetric_value
from kronbox.amd.evaluation.plan import Program
from kronbox.amd.evaluation.spectral import symmetric_to_rounding
from kronbox.amd.expressions.expr import SYMBOL_KINDS, Expr, is_symmetric_variable
from kronbox.backend import is_foreign

_OPERATORS = {"np.add": "+", "np.subtract": "-", "np.multiply": "*", "np.divide": "/"}
_FACTORED = frozenset({"inv", "det", "logdet"})  # kinds that read the factorization of their argument
_ELEMENTWISE = frozenset({"add", "neg", "mul", "div"})  # kinds whose value is symmetric when their operands are
_STEPS = _FACTORED | _ELEMENTWISE | {"literal", "matmul", "transpose", "trace", "sum", "normsq", "norm"}


def _into(ufunc, a, b, out):
    """``ufunc(a, b)`` written into ``out`` when the result has its dtype exactly, else a new array."""
    try:
        return ufunc(a, b, out=out, casting="no")
    except TypeError:
        return ufunc(a, b)


def _negative(a, out):
    try:
        return np.negative(a, out=out, casting="no")
    except TypeError:
        return np.negative(a)


def _scalar(v):
    """A 0-d array as its scalar (as the interpreter returns it)."""
    return v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v


class _Writer:
    """The source of one compiled function, built node by node."""

    def __init__(self, plan: Program, private: int = 0):
        self.plan = plan
        self.roots = {id(e) for e in plan.exprs}
        # results the caller hands to no one (the factors of a bound map): they may share memory with each other
        public = len(plan.exprs) - private
        self.private = {id(e) for e in plan.exprs[public:]} - {id(e) for e in plan.exprs[:public]}
        self.lines: list[str] = []
        self.names: dict[int, str] = {}
        self.constants: dict[str, object] = {}
        self.flags: dict[int, str] = {}  # node → the Python expression of "its value is known symmetric"
        self.factored: dict[int, str] = {}
        self.needs_flag = self._flags_read()
        self.context = False
        self.twins = self._twin_products()
        self.returned: set[int] = set()  # twins whose value a result other than a private one takes uncopied
        self.shared = set(self.twins) | {id(n) for n in self.twins.values()}  # never scratch: one may be the other

    # -- what later steps read ----------------------------------------------------------------------
    def _flags_read(self) -> set[int]:
        """The nodes whose symmetry some step reads: children of transposes, of kernels called from the
        table, the second factor of a fused ``trace(A B)``, and (transitively) the operands of elementwise
        steps whose own symmetry is read."""
        plan, needed = self.plan, set[int]()
        for n in reversed(plan.order):
            if id(n) in plan.fused:
                continue
            if n.kind == "transpose" or n.kind not in _STEPS:
                needed.update(id(a) for a in n.args)
            elif n.kind == "trace" and id(n.args[0]) in plan.fused:  # Σ aᵢⱼ bⱼᵢ reads B in order when symmetric
                needed.add(id(n.args[0].args[1]))
            elif n.kind in _ELEMENTWISE and id(n) in needed:
                needed.update(id(a) for a in self._operands(n))
        return needed

    def _twin_products(self) -> dict[int, Expr]:
        """Products that may be one product at run time: ``Aᵀ B`` and ``A Bᵀ`` of the same ``A`` and ``B``
        are ``A B`` itself when their transposes are the values (symmetric ones). A later twin takes the
        earlier one's value (a copy, if it is a result) when its operands are the same arrays (``P P`` for
        ``inv(X)ᵀ inv(X)`` and ``inv(X) inv(X)ᵀ`` of a positive definite ``X``); neither is written into.
        A product of twins is a twin too: ``(Pᵀ M) Pᵀ`` beside ``(P Mᵀ) P``."""
        def base(e: Expr) -> Expr:
            e = e.args[0] if e.kind == "transpose" else e
            return twins.get(id(e), e)

        first: dict[tuple[int, int], Expr] = {}
        twins: dict[int, Expr] = {}
        for n in self.plan.order:
            if n.kind == "matmul" and id(n) not in self.plan.fused:
                key = (id(base(n.args[0])), id(base(n.args[1])))
                if key in first:
                    twins[id(n)] = first[key]
                else:
                    first[key] = n
        return twins

    def _operands(self, n: Expr) -> tuple[Expr, ...]:
        """The nodes ``n`` reads: a fused child's arguments in place of the child."""
        out: list[Expr] = []
        for a in n.args:
            out.extend(a.args if id(a) in self.plan.fused else (a,))
        return tuple(out)

    # -- names --------------------------------------------------------------------------------------
    def constant(self, value: object) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def name(self, n: Expr) -> str:
        return self.names[id(n)]

    def flag(self, n: Expr) -> str:
        if n.shape == ():
            return "True"
        return self.flags.get(id(n), "False")

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    def scratch(self, n: Expr, *candidates: Expr) -> str:
        """The operand ``n`` may write into (the interpreter's ``Context.scratch`` decided once), or ``None``."""
        for c in candidates:
            if (c.kind in _FRESH and self.plan.uses[id(c)] == 1 and id(c) not in self.roots
                    and c.shape == n.shape and n.shape not in ((), None) and id(c) not in self.shared):
                return self.name(c)
        return "None"

    # -- steps --------------------------------------------------------------------------------------
    def node(self, n: Expr) -> None:
        target = f"t{len(self.names)}"
        self.names[id(n)] = target
        k = n.kind
        if k in SYMBOL_KINDS:
            self.names[id(n)] = f"a_{n.name}"
            self.flags[id(n)] = "False"
            return
        if k == "literal":
            self.names[id(n)] = self.constant(n.param)
            return
        if k not in _STEPS:
            self.table_kernel(n, target)
            return
        getattr(self, "_" + k)(n, target)

    def _flag_of(self, n: Expr, expression: str) -> None:
        if id(n) in self.needs_flag:
            self.emit(f"s{self.names[id(n)]} = {expression}")
            self.flags[id(n)] = f"s{self.names[id(n)]}"

    def _elementwise_flag(self, n: Expr, operands: tuple[Expr, ...]) -> None:
        if id(n) in self.needs_flag:
            self._flag_of(n, " and ".join(self.flag(a) for a in operands))

    def _add(self, n: Expr, t: str) -> None:
        a, second = n.args
        if id(second) in self.plan.fused:  # a − b, the negation folded in
            b = second.args[0]
            self.emit(f"{t} = {self._binary('np.subtract', n, a, b)}")
            self._elementwise_flag(n, (a, b))
            return
        self.emit(f"{t} = {self._binary('np.add', n, a, second)}")
        self._elementwise_flag(n, (a, second))

    def _mul(self, n: Expr, t: str) -> None:
        self.emit(f"{t} = {self._binary('np.multiply', n, *n.args)}")
        self._elementwise_flag(n, n.args)

    def _div(self, n: Expr, t: str) -> None:
        self.emit(f"{t} = {self._binary('np.divide', n, *n.args)}")
        self._elementwise_flag(n, n.args)

    def _binary(self, ufunc: str, n: Expr, a: Expr, b: Expr) -> str:
        if n.shape == ():  # numbers: Python's operators, the same IEEE operations without a ufunc call
            return f"{self.name(a)} {_OPERATORS[ufunc]} {self.name(b)}"
        out = self.scratch(n, a, b)
        if out == "None":
            return f"{ufunc}({self.name(a)}, {self.name(b)})"
        return f"_into({ufunc}, {self.name(a)}, {self.name(b)}, {out})"

    def _neg(self, n: Expr, t: str) -> None:
        (a,) = n.args
        out = self.scratch(n, a)
        if n.shape == ():
            self.emit(f"{t} = -{self.name(a)}")
        elif out == "None":
            self.emit(f"{t} = np.negative({self.name(a)})")
        else:
            self.emit(f"{t} = _negative({self.name(a)}, {out})")
        self._elementwise_flag(n, (a,))

    def _matmul(self, n: Expr, t: str) -> None:
        a, b = self.name(n.args[0]), self.name(n.args[1])
        twin = self.twins.get(id(n))
        if twin is None:
            self.emit(f"{t} = {a} @ {b}")
            return
        c, d = self.name(twin.args[0]), self.name(twin.args[1])
        same = self.name(twin)
        if id(n) in self.roots:  # a result never aliases another, but private results may alias each other
            public = id(n) not in self.private
            if id(twin) in self.returned or (id(twin) in self.roots and (public or id(twin) not in self.private)):
                same += ".copy()"
            if public:
                self.returned.add(id(twin))
        self.emit(f"{t} = {same} if {a} is {c} and {b} is {d} else {a} @ {b}")

    def _transpose(self, n: Expr, t: str) -> None:
        """``Aᵀ``: ``A`` itself when known symmetric (a symbol's value is tested where first transposed)."""
        (child,) = n.args
        a = self.name(child)
        if child.kind in SYMBOL_KINDS and self.flags[id(child)] == "False":
            self.emit(f"s{a} = _symmetric_value({a})")
            self.flags[id(child)] = f"s{a}"
        flag = self.flag(child)
        if flag == "False":
            self.emit(f"{t} = {a}.T")
            return
        self.emit(f"{t} = {a} if {flag} else {a}.T")
        self._flag_of(n, flag)

    def _factor(self, child: Expr) -> str:
        if id(child) not in self.factored:
            name = f"f{self.name(child)}"
            self.emit(f"{name} = _factorize({self.name(child)}, {self.constant(_ValueOf(child))})")
            self.factored[id(child)] = name
        return self.factored[id(child)]

    def _inv(self, n: Expr, t: str) -> None:
        if n.args[0].kind == "cholesky":  # a triangular factor: the kernel's trtri
            self.table_kernel(n, t)
            return
        f = self._factor(n.args[0])
        self.emit(f"{t} = {f}.inverse")
        self._flag_of(n, f"{f}.positive_definite")

    def _det(self, n: Expr, t: str) -> None:
        self.emit(f"{t} = {self._factor(n.args[0])}.det()")

    def _logdet(self, n: Expr, t: str) -> None:
        self.emit(f"{t} = {self._factor(n.args[0])}.logdet()")

    def _trace(self, n: Expr, t: str) -> None:
        (child,) = n.args
        if id(child) not in self.plan.fused:
            self.emit(f"{t} = np.trace({self.name(child)})")
            return
        a, b = child.args
        transposed = f"np.einsum('ij,ji->', {self.name(a)}, {self.name(b)})"
        flag = self.flag(b)
        if flag == "False":
            self.emit(f"{t} = {transposed}")
        else:  # Σ aᵢⱼ bⱼᵢ = Σ aᵢⱼ bᵢⱼ for a symmetric B (the interpreter's rule)
            self.emit(f"{t} = np.einsum('ij,ij->', {self.name(a)}, {self.name(b)}) if {flag} else {transposed}")

    def _sum(self, n: Expr, t: str) -> None:
        (child,) = n.args
        if id(child) not in self.plan.fused:
            self.emit(f"{t} = np.sum({self.name(child)})")
            return
        a, b = child.args
        if a.shape == ():
            self.emit(f"{t} = {self.name(a)} * np.sum({self.name(b)})")
        elif b.shape == ():
            self.emit(f"{t} = np.sum({self.name(a)}) * {self.name(b)}")
        else:
            self.emit(f"{t} = np.einsum('ij,ij->', {self.name(a)}, {self.name(b)})")

    def _normsq(self, n: Expr, t: str) -> None:
        a = self.name(n.args[0])
        self.emit(f"{t} = np.einsum('ij,ij->', {a}, {a})")

    def _norm(self, n: Expr, t: str) -> None:
        a = self.name(n.args[0])
        self.emit(f"{t} = np.sqrt(np.einsum('ij,ij->', {a}, {a}))")

    def table_kernel(self, n: Expr, t: str) -> None:
        """A kind without a written-out step: its kernel from the table, on the context ``_c``."""
        self.context = True
        for a in n.args:
            i = self.constant(id(a))
            self.emit(f"_v[{i}] = {self.name(a)}")
            flag = self.flag(a)
            if flag != "False":
                self.emit(f"if {flag}: _c.symmetric.add({i})")
        self.emit(f"{t} = {self.constant(NUMPY_KERNELS[n.kind])}({self.constant(n)}, _c)")
        if id(n) in self.needs_flag:
            self._flag_of(n, f"{self.constant(id(n))} in _c.symmetric")

    # -- the function -------------------------------------------------------------------------------
    def source(self) -> str:
        for n in self.plan.order:
            if id(n) not in self.plan.fused:
                self.node(n)
        results = []
        for e in self.plan.exprs:
            name = self.name(e)
            results.append(f"_scalar({name})" if e.shape == () else name)
        symbols = [f"a_{n.name}" for n in self.plan.symbols]
        head = ["def _compiled(_arrays, " + ", ".join(symbols) + "):"]
        if self.context:
            head.append("    _c = _Context(_arrays, _uses, _roots)")
            head.append("    _v = _c.values")
        return "\n".join([*head, *self.lines, f"    return [{', '.join(results)}]"]) + "\n"


class CompiledRun(Protocol):
    """The compiled function of a plan, ``run(arrays, *symbol values)``, with its ``source``."""

    source: str

    def __call__(self, arrays: Mapping[str, object], /, *values: Any) -> list[Any]: ...


def compile_program(plan: Program, private: int = 0) -> CompiledRun:
    """``run(arrays, *symbol values)``: the values of ``plan.exprs``, in one compiled function.

    ``arrays`` maps every symbol's name to its value (read by kernels called from the table); the
    symbol values follow in the order of ``plan.symbols``. No two results share memory, except among
    the last ``private`` ones (values the caller only reads, such as the factors of a bound map)."""
    writer = _Writer(plan, private)
    source = writer.source()
    namespace: dict[str, object] = {
        "np": np, "_into": _into, "_negative": _negative, "_scalar": _scalar, "_factorize": factorize,
        "_symmetric_value": _symmetric_value, "_Context": Context, "_uses": plan.uses, "_roots": writer.roots,
        **writer.constants,
    }
    exec(compile(source, "<kronbox compiled plan>", "exec"), namespace)
    run: Any = namespace["_compiled"]  # defined by exec: no static type
    run.source = source  # shown by amd.compile(...).source
    return run


# The dtypes a value passes through unchanged (numpy.linalg's); anything else is bound by the interpreter.
_AS_GIVEN = frozenset(map(np.dtype, (np.float64, np.float32, np.complex128, np.complex64)))
HOT = 2  # a plan is compiled at its second evaluation: a one-off evaluation is not worth the compile


def _symmetric_as_given(A: np.ndarray) -> bool:
    """``A`` symmetric to rounding: at once when exactly symmetric with finite entries (the tiled test
    costs a quarter of ``max|A − Aᵀ|`` at n = 50, and a point of ``amd.minimize`` is exactly symmetric)."""
    return (_symmetric_value(A) and bool(np.isfinite(A).all())) or symmetric_to_rounding(np, A)


class CompiledPlan:
    """The compiled function of one tuple of shaped expressions, made at its ``hot``-th call.

    Calling it with ``values`` (name → array) gives the values of the expressions, or ``None`` when
    the interpreter should evaluate instead: before the plan is hot, or when a value is not a numpy
    array of the declared shape and of a dtype used as given (numbers, vectors, integer arrays and
    arrays of other libraries are converted, checked or evaluated by the interpreter). The last ``private``
    results may share memory with each other (see :func:`compile_program`)."""

    def __init__(self, plan: Program, hot: int = HOT, private: int = 0):
        self.plan, self.hot, self.private = plan, hot, private
        self.calls = 0
        self.run: Callable[..., list] | None = None
        self.symbols = [(n.name, n.shape, n.value) for n in plan.symbols]
        self.symmetric = {n.name for n in plan.symbols if is_symmetric_variable(n)}  # values checked at each call

    def __call__(self, values: Mapping[str, object]) -> list | None:
        run = self.run
        if run is None:
            self.calls += 1
            if self.calls < self.hot or not self.plan.shaped:
                return None
            run = self.run = compile_program(self.plan, self.private)
        arrays = {}
        for name, shape, own in self.symbols:
            v = values.get(name, own)
            if type(v) is not np.ndarray or v.shape != shape or v.dtype not in _AS_GIVEN or \
                    (name in self.symmetric and not _symmetric_as_given(v)):
                return None
            arrays[name] = v
        for v in values.values():
            if type(v) is not np.ndarray and is_foreign(v):
                return None  # any value of another library, read or not, decides the library (the interpreter's rule)
        return run(arrays, *arrays.values())

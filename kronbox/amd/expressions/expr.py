"""Matrix expressions: immutable, hash-consed nodes with shapes checked as soon as they are known.

An expression is a DAG of :class:`Expr` nodes. Building the same node twice returns the same
object (``X @ Y is X @ Y``), so a common subexpression exists once and is evaluated once. Every
node is built by a *smart constructor* (``add``, ``matmul``, ``inv``, ...) that checks shapes and
folds the neutral cases that need no thought (``I X → X``, ``(Xᵀ)ᵀ → X``, ``0 + X → X``,
``1 · X → X``, ``(c X) Y → c (X Y)`` for a scalar ``c``); it never rearranges anything that
would hide a shared subexpression.

Shapes: ``()`` is a scalar, ``(m, n)`` a matrix (a vector is ``(n, 1)``), ``None`` not yet known
(a symbol declared without a shape, an identity whose size the context has not fixed). Binding
values gives symbols their shapes (:func:`specialize`); a clash is reported with the subexpression.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, SupportsFloat, TypeAlias, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from kronbox import services
from kronbox.backend import is_foreign, numeric_array, of_foreign

Shape = tuple[int, ...] | None
_P = TypeVar("_P")
# The shape a symbol is declared with: open sizes (None) are allowed, ``(None, 1)`` a column of a length yet to come.
DeclaredShape = tuple[int | None, ...] | None
# What the operators of an expression take besides an expression: a number (a literal) or an array (a constant).
Operand: TypeAlias = "Expr | complex | np.ndarray | np.generic | list[Any] | tuple[Any, ...]"
# A shape as var and const take it: (rows, columns), () for a scalar, n for a column of n; None (whole or a
# size) to be given by the values.
ShapeLike: TypeAlias = "int | Sequence[int | None] | None"

# Kinds whose value is a scalar whatever the argument.
SCALAR_VALUED = frozenset({"trace", "det", "logdet", "sum", "norm", "normsq"})
SYMBOL_KINDS = frozenset({"var", "const"})
LEAF_KINDS = SYMBOL_KINDS | {"literal", "eye", "zeros", "ones"}
# Every kind of node. Each has its row in every table: the derivative rules (operations only), the numpy and
# Array API kernels, each printer and the parser (tests/amd/test_tables.py holds them to it).
OPERATION_KINDS = frozenset({
    "add", "neg", "mul", "div", "matmul", "transpose", "inv", "trace", "det", "logdet", "sum", "norm", "normsq",
    "mpow", "power", "sqrtm", "sylvester", "solve", "logsumexp", "softmax", "ew", "eye_like", "ones_like", "zeros_like",
    # matrix functions and decompositions (kronbox.amd.expressions.spectral)
    "matfun", "frechet", "eigvalsh", "eigvecs", "cholesky", "diag", "diagm", "trilhalf_like",
    # the Kronecker product in formulas and its adjoint (kronbox.amd.expressions.kronecker)
    "kron", "kronfactor",
})
KINDS = LEAF_KINDS | OPERATION_KINDS


class ShapeError(ValueError):
    """Shapes that do not fit together; the message shows the subexpression and the shapes."""


def shape_text(shape: DeclaredShape) -> str:
    """``3×4``, ``scalar``, ``unknown``, and ``?×1`` for a declared shape with an open size."""
    if shape is None:
        return "unknown"
    return "scalar" if shape == () else "×".join("?" if s is None else str(s) for s in shape)


def is_scalar_shape(shape: Shape) -> bool:
    return shape == () or shape == (1, 1)


class Expr:
    """A node of a matrix expression. Build them with :func:`var`, :func:`const` and the operators.

    ``+ - @ * /`` are sum, difference, matrix product, and the elementwise product and quotient
    (a scalar operand scales); ``.T`` transposes; ``**`` is the matrix power of a square matrix
    (``X ** -1`` the inverse, ``X ** 0.5`` the square root) and the ordinary power of a scalar.
    """

    __slots__ = ("__weakref__", "args", "kind", "param", "shape", "value")
    __array_ufunc__ = None  # ndarray @ expr defers to Expr.__rmatmul__

    kind: str
    args: tuple[Expr, ...]
    param: object
    shape: Shape
    value: np.ndarray | None

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("expressions are immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("expressions are immutable")

    def __copy__(self) -> Expr:
        return self  # immutable and hash-consed: a copy is the node itself

    def __deepcopy__(self, memo: dict[int, object]) -> Expr:
        return self

    def __reduce__(self) -> tuple[Callable[..., Expr], tuple[object, ...]]:
        # unpickled through node(), so a loaded expression is hash-consed like a built one
        return _restore, (self.kind, self.args, self.param, self.shape, self.value)

    # -- structure -------------------------------------------------------------------------------
    def nodes(self) -> list[Expr]:
        """Every node of the DAG once, children before parents (a topological order; worked out once per
        node, as expressions are immutable)."""
        order = _ORDERS.get(self)
        if order is None:
            order = _ORDERS[self] = tuple(topological([self]))
        return list(order)

    @property
    def symbols(self) -> dict[str, Expr]:
        """The symbols (variables and constants) the expression mentions, by name."""
        return symbol_table(self.nodes())

    @property
    def name(self) -> str:
        if self.kind not in SYMBOL_KINDS:
            raise AttributeError(f"{self} is not a symbol and has no name")
        return _symbol_param(self)[0]

    def depends_on(self, symbol: Expr) -> bool:
        return symbol in self.nodes()

    # -- evaluation ------------------------------------------------------------------------------
    def eval(self, values: Mapping[str, Any] | None = None, **named: Any) -> Any:
        """The value at ``values`` (symbol name → array or number): a numpy array, a number for a scalar, or an
        array of the values' library when they are of another (so ``Any``: that library's type)."""
        return services.call("amd.evaluate", [self], {**(values or {}), **named})[0]

    # -- algebra ---------------------------------------------------------------------------------
    def __add__(self, other: Operand) -> Expr:
        return add(self, as_expr(other))

    def __radd__(self, other: Operand) -> Expr:
        return add(as_expr(other), self)

    def __sub__(self, other: Operand) -> Expr:
        return add(self, neg(as_expr(other)))

    def __rsub__(self, other: Operand) -> Expr:
        return add(as_expr(other), neg(self))

    def __neg__(self) -> Expr:
        return neg(self)

    def __pos__(self) -> Expr:
        return self

    def __matmul__(self, other: Operand) -> Expr:
        return matmul(self, as_expr(other))

    def __rmatmul__(self, other: Operand) -> Expr:
        return matmul(as_expr(other), self)

    def __mul__(self, other: Operand) -> Expr:
        return mul(self, as_expr(other))

    def __rmul__(self, other: Operand) -> Expr:
        return mul(as_expr(other), self)

    def __truediv__(self, other: Operand) -> Expr:
        return div(self, as_expr(other))

    def __rtruediv__(self, other: Operand) -> Expr:
        return div(as_expr(other), self)

    def __pow__(self, k: float) -> Expr:
        return mpow(self, k)

    @property
    def T(self) -> Expr:
        return transpose(self)

    def __bool__(self) -> NoReturn:
        raise TypeError("the truth value of a matrix expression is undefined; compare values with .eval()")

    def to_format(self, fmt: str = "amd", simplify: bool = True) -> str:
        """The expression printed in ``fmt`` (``"amd"``, ``"latex"``, ``"numpy"``), simplified unless
        ``simplify=False`` (:func:`kronbox.amd.to_format`)."""
        return services.call("amd.to_format", self, fmt, simplify=simplify)

    def __str__(self) -> str:
        """The readable form, simplified (``amd.to_format(e)``); ``amd.to_text(e)`` or
        ``e.to_format(simplify=False)`` print the expression as it is built."""
        return services.call("amd.to_format", self)

    def _repr_latex_(self) -> str:
        """The simplified expression as LaTeX math, which a notebook typesets (``amd.to_format(e, \"latex\")``)."""
        return f"${services.call('amd.to_format', self, 'latex')}$"

    def __repr__(self) -> str:
        return f"<Expr {self} : {shape_text(self.shape)}>"


def _describe_symbol(n: Expr) -> str:
    kind = "variable" if n.kind == "var" else "constant"
    bound = " with a value" if n.value is not None else ""
    return f"a {kind} of shape {shape_text(declared_shape(n))}{bound}"


def symbol_table(nodes: Iterable[Expr]) -> dict[str, Expr]:
    """The symbols among ``nodes`` by name; two different symbols of one name are an error
    (a value bound by that name could not tell them apart)."""
    table: dict[str, Expr] = {}
    for n in nodes:
        if n.kind not in SYMBOL_KINDS:
            continue
        other = table.setdefault(n.name, n)
        if other is not n:
            raise ValueError(f"two different symbols are named {n.name!r}: {_describe_symbol(other)} and "
                             f"{_describe_symbol(n)}; give them different names")
    return table


# -- hash-consing ----------------------------------------------------------------------------------
_NODES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_ORDERS: weakref.WeakKeyDictionary[Expr, tuple[Expr, ...]] = weakref.WeakKeyDictionary()  # e.nodes(), by e


def node(kind: str, args: tuple[Expr, ...], param, shape: Shape, value=None, key_extra=()) -> Expr:
    """The unique node ``(kind, args, param)``; built once while anything refers to it."""
    key = (kind, tuple(map(id, args)), param, *key_extra)
    found = _NODES.get(key)
    if found is not None:
        return found
    e = object.__new__(Expr)
    for slot, v in zip(("kind", "args", "param", "shape", "value"), (kind, args, param, shape, value), strict=True):
        object.__setattr__(e, slot, v)
    _NODES[key] = e
    return e


def _restore(kind, args, param, shape, value) -> Expr:
    return node(kind, args, param, shape, value=value, key_extra=() if value is None else (id(value),))


def topological(roots: list[Expr]) -> list[Expr]:
    """All nodes reachable from ``roots``, each once, children first (iterative: deep trees are fine)."""
    order, seen = [], set()
    stack: list[tuple[Expr, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        e, expanded = stack.pop()
        if expanded:
            order.append(e)
            continue
        if id(e) in seen:
            continue
        seen.add(id(e))
        stack.append((e, True))
        stack.extend((a, False) for a in reversed(e.args) if id(a) not in seen)
    return order


# -- leaves ----------------------------------------------------------------------------------------
def _check_shape(shape, who: str, open_sizes: bool = False):
    """``shape`` as a tuple of ints (``None`` entries allowed where ``open_sizes``: a declared shape
    such as ``(None, 1)``, a column vector whose length the values will give)."""
    if shape is None:
        return None
    if isinstance(shape, numbers.Integral):
        shape = (int(shape), 1)
    shape = tuple(shape)
    allowed = (lambda s: s is None or (isinstance(s, numbers.Integral) and int(s) >= 1)) if open_sizes else \
        (lambda s: isinstance(s, numbers.Integral) and int(s) >= 1)
    if len(shape) not in (0, 2) or not all(allowed(s) for s in shape) or (len(shape) and isinstance(shape[0], bool)):
        raise ShapeError(f"{who}: a shape is () for a scalar or (rows, columns) of positive integers, got {shape!r}")
    return tuple(None if s is None else int(s) for s in shape)


def declared_shape(symbol: Expr) -> DeclaredShape:
    """The shape a symbol was declared with: its shape, or a partial one such as ``(None, 1)``."""
    return _symbol_param(symbol)[1]


# -- a node's parameter, typed: what it holds depends on the kind (each smart constructor stores its own) ----
def _wrong_param(e: Expr, what: str) -> TypeError:
    return TypeError(f"a {e.kind} node with parameter {e.param!r} where {what} was expected")


def _symbol_param(e: Expr) -> tuple[str, DeclaredShape]:
    p = e.param
    if e.kind not in SYMBOL_KINDS or not (isinstance(p, tuple) and len(p) in (2, 3) and isinstance(p[0], str)):
        raise _wrong_param(e, "a symbol's (name, declared shape)")
    return p[0], p[1]  # a symmetric variable's third entry is read by is_symmetric_variable


def literal_value(e: Expr) -> float | complex:
    """The number of a ``literal`` node."""
    p = e.param
    if e.kind != "literal" or not isinstance(p, float | complex):
        raise _wrong_param(e, "a literal's number")
    return p


def _checked_param(e: Expr, kinds: tuple[str, ...], kind_of_param: type[_P], what: str) -> _P:
    """``e.param``, which must be a ``kind_of_param`` for a node of one of ``kinds``."""
    p = e.param
    if e.kind not in kinds or not isinstance(p, kind_of_param):
        raise _wrong_param(e, what)
    return p


def matrix_exponent(e: Expr) -> int:
    """The integer ``k`` of a matrix power ``A^k`` (an ``mpow`` node)."""
    return _checked_param(e, ("mpow",), int, "the integer exponent of a matrix power")


def power_exponent(e: Expr) -> float:
    """The exponent ``p`` of an elementwise power ``a .^ p`` (a ``power`` node)."""
    return _checked_param(e, ("power",), float, "the exponent of an elementwise power")


def function_name(e: Expr) -> str:
    """The name of the function of an elementwise node (``ew``), a key of ``FUNCTIONS``."""
    return _checked_param(e, ("ew",), str, "the name of an elementwise function")


def like_axis(e: Expr) -> int:
    """The axis (0: rows, 1: columns) of its argument that an ``eye_like`` node takes its size from."""
    return _checked_param(e, ("eye_like",), int, "an axis")


def eye_size(e: Expr) -> int | None:
    """The size ``n`` of an identity ``eye(n)``, ``None`` while the context has not fixed it."""
    p = e.param
    if e.kind != "eye" or not (p is None or isinstance(p, numbers.Integral)):
        raise _wrong_param(e, "the size of an identity")
    return None if p is None else int(p)


def fill_shape(e: Expr) -> Shape:
    """The shape of a ``zeros`` or ``ones`` node, ``None`` where it is not known."""
    p = e.param
    if e.kind not in ("zeros", "ones") or not (p is None or isinstance(p, tuple)):
        raise _wrong_param(e, "the shape of zeros or ones")
    return p


def matrix_function_of(e: Expr) -> tuple[Any, ...]:
    """The matrix function of a ``matfun`` or ``frechet`` node: ``("expm",)``, ``("logm",)`` or ``("pow", p)``."""
    p = e.param
    if e.kind not in ("matfun", "frechet") or not (isinstance(p, tuple) and p and isinstance(p[0], str)):
        raise _wrong_param(e, "a matrix function")
    return p


def _check_name(name, who: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{who}: a name is an identifier such as 'X' or 'Sigma', got {name!r}")
    return name


def var(name: str, shape: ShapeLike = None, *, symmetric: bool = False) -> Expr:
    """The variable ``name`` (differentiable); ``shape`` may be left to the values bound later,
    wholly (``None``) or in part (``(None, 1)``: a column vector of a length yet to come).

    ``symmetric=True`` declares a symmetric matrix: ``Xᵀ`` is ``X`` itself, a value must be symmetric, and
    derivatives are taken on the space of symmetric matrices: the gradient is ``sym(G) = (G + Gᵀ)/2`` of the
    gradient ``G`` with every entry independent (the Frobenius-consistent one, whose inner product with a
    symmetric direction is the directional derivative), the Jacobian ``J Π`` and the Hessian ``Π H Π``, with
    ``Π vec(V) = vec(sym V)``. (The Matrix Cookbook's ``G + Gᵀ − I ∘ G``, the derivative with respect to the
    entries of one triangle, is ``amd.grad(f, X, convention="triangle")``.)"""
    declared = _check_shape(shape, f"var {name!r}", open_sizes=True)
    known = None if declared is None or None in declared else declared
    name = _check_name(name, "var")
    if not symmetric:
        return node("var", (), (name, declared), known)
    if declared is not None and (len(declared) != 2 or (None not in declared and declared[0] != declared[1])):
        raise ShapeError(f"var {name!r}: a symmetric variable is a square matrix, not {shape_text(declared)}")
    return node("var", (), (name, declared, "symmetric"), known)


def is_symmetric_variable(e: Expr) -> bool:
    """``e`` is a variable declared symmetric (``var(name, shape, symmetric=True)``)."""
    return e.kind == "var" and isinstance(e.param, tuple) and len(e.param) == 3


_SYMMETRY_KEEPING = frozenset({"inv", "mpow", "sqrtm", "matfun", "ew", "power", "neg"})


def known_symmetric(e: Expr, depth: int = 6) -> bool:
    """``e`` is symmetric by its structure (a cheap, incomplete test): a symmetric variable, ``I``, a matrix
    function, inverse, power or entrywise function of a symmetric matrix, a sum or entrywise product of
    symmetric matrices, ``A Aᵀ``, ``Aᵀ A`` and ``A S Aᵀ`` with ``S`` symmetric."""
    if depth == 0 or (e.shape is not None and (len(e.shape) != 2 or e.shape[0] != e.shape[1])):
        return False
    k, a = e.kind, e.args
    if is_symmetric_variable(e) or is_eye(e) or k == "diagm" or (k in ("zeros", "ones") and e.shape is not None):
        return True
    if k in _SYMMETRY_KEEPING:
        return known_symmetric(a[0], depth - 1)
    if k in ("add", "mul", "div"):
        return all(x.shape == () or known_symmetric(x, depth - 1) for x in a)
    if k == "matmul":
        left, right = a
        if _transposes(left, right) or (left is right and known_symmetric(left, depth - 1)):  # A Aᵀ, Aᵀ A, S S
            return True
        if left.kind == "matmul" and _transposes(left.args[0], right):  # (A S) Aᵀ
            return known_symmetric(left.args[1], depth - 1)
        if right.kind == "matmul" and _transposes(left, right.args[1]):  # A (S Aᵀ)
            return known_symmetric(right.args[0], depth - 1)
    return False


def _transposes(a: Expr, b: Expr) -> bool:
    """``b = aᵀ`` as nodes (no new node is built)."""
    return (b.kind == "transpose" and b.args[0] is a) or (a.kind == "transpose" and a.args[0] is b)


def const(name: str, value: ArrayLike | None = None, *, shape: ShapeLike = None) -> Expr:
    """The constant ``name``, with a bound ``value`` or a ``shape`` (or neither, bound at eval)."""
    name = _check_name(name, "const")
    declared = _check_shape(shape, f"const {name!r}")
    if value is None:
        return node("const", (), (name, declared), declared)
    array = numeric_value(value, f"const {name!r}")
    if declared is not None and declared != array.shape:
        raise ShapeError(f"const {name!r}: the value is {shape_text(array.shape)}, not {shape_text(declared)}")
    return node("const", (), (name, array.shape), array.shape, value=array, key_extra=(id(array),))


def numeric_value(value, who: str):
    """``value`` as a number (0-D), a column (from a vector) or a matrix of a dtype numpy.linalg supports
    (:func:`kronbox.backend.numeric_array`); an array of another library stays in its library."""
    ndim = value.ndim if is_foreign(value) else np.ndim(value)
    if ndim > 2:
        raise ShapeError(f"{who}: a value is a number, a vector or a matrix, got an array of shape {np.shape(value)}")
    array = numeric_array(value, who, ndims=(0, 1, 2))
    if array.ndim != 1:
        return array
    return array[:, None] if not is_foreign(array) else of_foreign(array).xp.reshape(array, (array.shape[0], 1))


def literal(x: object) -> Expr:
    """A numeric scalar constant."""
    if isinstance(x, np.generic | np.ndarray):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Number):
        raise TypeError(f"a literal is a number, got {type(x).__name__}")
    if isinstance(x, numbers.Complex):
        z = complex(x)
    elif isinstance(x, SupportsFloat):  # a number of another kind, such as a Decimal
        z = complex(float(x))
    else:
        raise TypeError(f"a literal is a number that converts to a float or a complex, got {type(x).__name__}")
    value = z if z.imag else z.real
    return node("literal", (), value + 0.0, ())


def eye(n: int | None = None) -> Expr:
    """The identity matrix; ``eye()`` takes its size from the expression it meets."""
    return node("eye", (), n, None if n is None else (n, n))


def zeros(shape: Shape) -> Expr:
    """The zero matrix of ``shape`` (a constant: its derivative is 0)."""
    return node("zeros", (), shape, shape)


def ones(shape: Shape) -> Expr:
    return node("ones", (), shape, shape)


def eye_like(a: Expr, axis: int) -> Expr:
    """The identity as large as ``a``'s rows (``axis=0``) or columns (``axis=1``); sized as soon
    as ``a``'s shape is known (a node of its own until then, evaluated from ``a``'s value)."""
    if a.shape is not None:
        return eye(1 if a.shape == () else a.shape[axis])
    return node("eye_like", (a,), axis, None)


def ones_like(a: Expr) -> Expr:
    """The all-ones matrix of ``a``'s shape (1 for a scalar)."""
    if a.shape is not None:
        return ones(a.shape) if a.shape != () else literal(1.0)
    return node("ones_like", (a,), None, None)


def zeros_like(a: Expr) -> Expr:
    """The zero matrix of ``a``'s shape (0 for a scalar)."""
    if a.shape is not None:
        return zeros(a.shape) if a.shape != () else literal(0.0)
    return node("zeros_like", (a,), None, None)


# Nodes whose value does not depend on their argument's entries, only on its shape.
SHAPE_ONLY = frozenset({"eye_like", "ones_like", "zeros_like", "trilhalf_like"})


_anonymous = iter(range(1, 1 << 62))


def as_expr(x: Operand) -> Expr:
    """``x`` as an expression: numbers become literals, arrays anonymous constants."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, numbers.Number) or (isinstance(x, np.ndarray | np.generic) and np.ndim(x) == 0):
        return literal(x)
    if isinstance(x, np.ndarray | list | tuple):
        return const(f"C{next(_anonymous)}", x)
    raise TypeError(f"cannot use a {type(x).__name__} in a matrix expression")


def ieee(op: Callable, *xs):
    """``op`` applied to numbers the way IEEE arithmetic does it (numpy's float64 / complex128, no
    warnings, no exceptions): ``1e308 * 10 = inf``, ``0 / 0 = nan``, ``0 * inf = nan``, ``log(0) = -inf``.
    Constant folding goes through here, so that folding never changes a value."""
    with np.errstate(all="ignore"):
        out = op(*(np.complex128(x) if isinstance(x, complex) else np.float64(x) for x in xs))
    return out.item() if isinstance(out, np.generic | np.ndarray) else out


def is_finite_literal(e: Expr) -> bool:
    return e.kind == "literal" and bool(np.isfinite(literal_value(e)))


def has_nonfinite_literal(e: Expr) -> bool:
    """Whether a literal ``inf`` or ``nan`` occurs in ``e`` (such an ``e`` is never folded away)."""
    return any(n.kind == "literal" and not np.isfinite(literal_value(n)) for n in e.nodes())


def is_literal(e: Expr, value=None) -> bool:
    return e.kind == "literal" and (value is None or e.param == value)


def is_zero(e: Expr) -> bool:
    return e.kind in ("zeros", "zeros_like") or is_literal(e, 0.0)


def is_eye(e: Expr) -> bool:
    return e.kind in ("eye", "eye_like")


def scalar_factor(e: Expr) -> tuple[Expr | None, Expr]:
    """``(c, A)`` when ``e = c · A`` with a scalar ``c`` (``(None, e)`` otherwise); ``-A`` is ``(-1) · A``."""
    if e.kind == "neg":
        return literal(-1.0), e.args[0]
    if e.kind == "mul" and e.args[0].shape == () and e.args[1].shape != ():
        return e.args[0], e.args[1]
    return None, e


# -- shape rules: one per kind, used when building and again when values fix the shapes --------------
def _clash(what: str, parts: list[tuple[Expr, Shape]], why: str) -> ShapeError:
    shown = ", ".join(f"{p} is {shape_text(s)}" for p, s in parts)
    return ShapeError(f"{what}: {why} ({shown})")


def _same_or_broadcast(kind_text: str, a: Expr, b: Expr) -> Shape:
    sa, sb = a.shape, b.shape
    if sa is None or sb is None:
        return sb if sa == () else sa if sb == () else (sa if sb is None else sb)
    if sa == sb:
        return sa
    if sa == () or sb == ():
        return sb if sa == () else sa
    if kind_text != "+" and (sa == (1, 1) or sb == (1, 1)):
        return sb if sa == (1, 1) else sa
    raise _clash(f"{a} {kind_text} {b}", [(a, sa), (b, sb)], "the shapes differ")


def _square(e: Expr, what: Callable[[], str]) -> Shape:
    """``e``'s shape, which must be square; ``what()`` names the call in the error (printed only then)."""
    s = e.shape
    if s is not None and (len(s) != 2 or s[0] != s[1]):
        raise ShapeError(f"{what()}: needs a square matrix, but {e} is {shape_text(s)}")
    return s


# -- smart constructors ------------------------------------------------------------------------------
def _resolve_eye(e: Expr, shape: Shape) -> Expr:
    """An identity of unknown size takes the (square) shape of the expression it is combined with."""
    if e.kind == "eye" and e.shape is None and shape is not None and len(shape) == 2 and shape[0] == shape[1]:
        return eye(shape[0])
    if e.kind == "mul" and e.args[1].kind == "eye" and e.args[1].shape is None:
        return mul(e.args[0], _resolve_eye(e.args[1], shape))
    if e.kind == "neg" and e.args[0].shape is None:
        return neg(_resolve_eye(e.args[0], shape))
    return e


def _unsized_eye(e: Expr) -> bool:
    """``I``, ``c I`` or ``−I`` with the size still open."""
    while e.shape is None and e.kind in ("mul", "neg"):  # a loop: a long chain of scalings is fine
        e = e.args[-1]
    return e.shape is None and e.kind == "eye"


def _resolve_eyes(a: Expr, b: Expr, op: str) -> tuple[Expr, Expr]:
    """``(a, b)`` with an identity of open size sized by the other operand, which must be square."""
    ra, rb = _resolve_eye(a, b.shape), _resolve_eye(b, a.shape)
    for x, y in ((ra, rb), (rb, ra)):
        if _unsized_eye(x) and y.shape is not None and len(y.shape) == 2:
            raise _clash(f"{a} {op} {b}", [(a, a.shape), (b, b.shape)], "the identity I is square")
    return ra, rb


def add(a: Expr, b: Expr) -> Expr:
    a, b = _resolve_eyes(a, b, "+")
    shape = _same_or_broadcast("+", a, b)
    if is_zero(a) and b.shape == shape:
        return b
    if is_zero(b) and a.shape == shape:
        return a
    if is_literal(a) and is_literal(b):
        return literal(ieee(np.add, a.param, b.param))
    return node("add", (a, b), None, shape)


def neg(a: Expr) -> Expr:
    if a.kind == "neg":
        return a.args[0]
    if a.kind == "literal":
        return literal(-literal_value(a))
    if a.kind == "zeros":
        return a
    if a.kind == "mul" and is_literal(a.args[0]) and a.args[0].shape == ():
        return mul(literal(-literal_value(a.args[0])), a.args[1])  # −(c A) = (−c) A
    return node("neg", (a,), None, a.shape)


def sub(a: Expr, b: Expr) -> Expr:
    return add(a, neg(b))


def mul(a: Expr, b: Expr) -> Expr:
    """Elementwise product; a scalar operand scales the other."""
    if (a.shape != () and b.shape == ()) or (b.kind == "literal" and a.kind != "literal" and a.shape == ()):
        a, b = b, a  # scalars first, numbers first: c · A
    a, b = _resolve_eyes(a, b, "*")
    shape = _same_or_broadcast("*", a, b)
    if is_literal(a) and is_literal(b):
        return literal(ieee(np.multiply, a.param, b.param))
    if a.kind == "literal" and not np.isfinite(literal_value(a)):  # inf · X, nan · X: nothing folds away
        c, rest = scalar_factor(b)
        if c is not None and is_literal(c):
            return mul(literal(ieee(np.multiply, a.param, c.param)), rest)
        return node("mul", (a, b), None, shape)
    if a.kind == "ones" and b.shape == shape:
        return b
    if b.kind == "ones" and a.shape == shape:
        return a
    if a.shape == ():
        if is_literal(a, 1.0) and b.shape == shape:
            return b
        if is_literal(a, 0.0) and shape is not None and not has_nonfinite_literal(b):
            # symbolic: 0 · X = 0 for every finite X (a literal inf or nan in X is never folded away)
            return zeros(shape) if shape != () else literal(0.0)
        if is_literal(a, -1.0):
            return neg(b)
        if is_zero(b):
            return b
        c, rest = scalar_factor(b)
        if c is not None and is_literal(a) and is_literal(c):
            return mul(literal(ieee(np.multiply, a.param, c.param)), rest)
        if b.kind == "neg":
            return neg(mul(a, b.args[0]))
    for x, y in ((a, b), (b, a)):  # I ∘ (x 1ᵀ) = diagm(x), the diagonal matrix of a column
        if is_eye(x) and y.kind == "matmul" and _is_ones(y.args[1], transposed=True) and shape is not None:
            return node("diagm", (y.args[0],), None, shape)
    return node("mul", (a, b), None, shape)


def _is_ones(e: Expr, transposed: bool) -> bool:
    """``e`` is a column of ones of a known size (``transposed``: a row)."""
    if transposed:
        return (e.kind == "transpose" and _is_ones(e.args[0], False)) or \
            (e.kind == "ones" and e.shape is not None and e.shape[0] == 1)
    return e.kind in ("ones", "ones_like") and e.shape is not None and e.shape[1] == 1


def div(a: Expr, b: Expr) -> Expr:
    """Elementwise quotient; a scalar numerator or denominator broadcasts."""
    shape = _same_or_broadcast("/", a, b)
    if is_literal(a) and is_literal(b):
        return literal(ieee(np.divide, a.param, b.param))
    if is_finite_literal(b) and b.param != 0 and np.isfinite(ieee(np.divide, 1.0, b.param)):
        return mul(literal(ieee(np.divide, 1.0, b.param)), a)
    if is_zero(a) and a.shape == shape and not is_literal(b):  # symbolic: 0 / X = 0
        return a
    return node("div", (a, b), None, shape)


def matmul(a: Expr, b: Expr) -> Expr:
    """Matrix product; a scalar factor is pulled out (``(c A) B = c (A B)``)."""
    sa, sb = a.shape, b.shape
    if sa == () or sb == ():
        raise ShapeError(f"{a} * {b}: a matrix product needs two matrices ({a} is {shape_text(sa)}, "
                         f"{b} is {shape_text(sb)}); scale with the elementwise product")
    if sa is not None and sb is not None and sa[1] != sb[0]:
        raise _clash(f"{a} * {b}", [(a, sa), (b, sb)], "the inner dimensions differ")
    for x, y in ((a, b), (b, a)):
        c, rest = scalar_factor(x)
        if is_eye(rest):
            if rest.shape is not None and y.shape is not None and x is a and rest.shape[1] != y.shape[0]:
                raise _clash(f"{a} * {b}", [(a, sa), (b, sb)], "the inner dimensions differ")
            return y if c is None else mul(c, y)
    if a.kind == "zeros" or b.kind == "zeros":
        shape = None if sa is None or sb is None else (sa[0], sb[1])
        if shape is not None:
            return zeros(shape)
    ca, ra = scalar_factor(a)
    cb, rb = scalar_factor(b)
    if ca is not None or cb is not None:
        c = ca if cb is None else cb if ca is None else mul(ca, cb)
        if c is not None:  # one of them is not None
            return mul(c, matmul(ra, rb))
    shape = None if sa is None or sb is None else (sa[0], sb[1])
    if a.kind == b.kind == "ones" and sa is not None and shape is not None:  # all-ones matrices: k · ones
        return mul(literal(float(sa[1])), ones(shape))
    if a.kind == "eigvecs" and b.kind == "transpose" and b.args[0].kind == "eigvecs" and \
            a.args[0] is b.args[0].args[0]:  # Q Qᵀ = I for the orthonormal eigenvectors
        return eye_like(a, 0)
    if a.kind == "transpose" and a.args[0].kind == "eigvecs" and b.kind == "eigvecs" and \
            a.args[0].args[0] is b.args[0]:  # Qᵀ Q = I
        return eye_like(b, 1)
    if a.kind == "mul" and _is_ones(b, transposed=False):  # (I ∘ Y) 1 = diag(Y), the diagonal as a column
        eye_at = [i for i, x in enumerate(a.args) if is_eye(x)]
        if eye_at and a.args[1 - eye_at[0]].shape == sa:
            return node("diag", (a.args[1 - eye_at[0]],), None, shape)
    return node("matmul", (a, b), None, shape)


def transpose(a: Expr) -> Expr:
    if a.kind == "transpose":
        return a.args[0]
    if a.shape == () or is_eye(a) or is_symmetric_variable(a) or (a.kind != "matmul" and known_symmetric(a, 3)):
        return a
    if a.kind in ("zeros", "ones"):  # of an unknown shape: the transpose is the same node
        return a if a.shape is None else node(a.kind, (), a.shape[::-1], a.shape[::-1])
    if a.kind == "neg":
        return neg(transpose(a.args[0]))
    c, rest = scalar_factor(a)
    if c is not None:
        return mul(c, transpose(rest))
    return node("transpose", (a,), None, None if a.shape is None else a.shape[::-1])


def inv(a: Expr) -> Expr:
    """The matrix inverse (the reciprocal of a scalar)."""
    if a.shape == ():
        return div(literal(1.0), a)
    shape = _square(a, lambda: f"inv({a})")
    if a.kind == "inv":
        return a.args[0]
    if is_eye(a):
        return a
    if a.kind == "transpose" and a.args[0].kind == "inv":
        return transpose(a.args[0].args[0])
    return node("inv", (a,), None, shape)


def _scalar_of(kind: str, a: Expr, what: str | None = None) -> Expr:
    if what is not None:
        _square(a, lambda: f"{what}({a})")
    return node(kind, (a,), None, ())


def trace(a: Expr) -> Expr:
    """The trace (sum of the diagonal) of a square matrix."""
    _square(a, lambda: f"trace({a})")
    if a.shape == ():
        return a
    if a.kind in ("eye", "ones") and a.shape is not None:
        return literal(float(a.shape[0]))
    if a.kind == "zeros":
        return literal(0.0)
    if a.kind == "transpose":
        return trace(a.args[0])
    c, rest = scalar_factor(a)
    if c is not None:
        return mul(c, trace(rest))
    return node("trace", (a,), None, ())


def det(a: Expr) -> Expr:
    """The determinant of a square matrix (of a scalar: the scalar itself)."""
    if a.shape == ():
        return a
    return _scalar_of("det", a, "det")


def logdet(a: Expr) -> Expr:
    """``log det(A)``; evaluating it where ``det(A) ≤ 0`` is an error rather than a clamp."""
    if a.shape == ():
        return elementwise("log", a)
    return _scalar_of("logdet", a, "logdet")


def sum_(a: Expr) -> Expr:
    """The sum of all entries."""
    if a.shape == ():
        return a
    if a.kind in ("eye", "ones", "zeros") and a.shape is not None:
        m, n = a.shape
        return literal(0.0 if a.kind == "zeros" else float(m if a.kind == "eye" else m * n))
    c, rest = scalar_factor(a)
    if c is not None:
        return mul(c, sum_(rest))
    return node("sum", (a,), None, ())


def norm(a: Expr) -> Expr:
    """The Frobenius norm ``√(Σ aᵢⱼ²)`` (its analytic continuation for complex entries)."""
    return node("norm", (a,), None, ())


def normsq(a: Expr) -> Expr:
    """The squared Frobenius norm ``Σ aᵢⱼ²``."""
    if a.kind in ("neg", "transpose"):
        return normsq(a.args[0])
    return node("normsq", (a,), None, ())


def mpow(a: Expr, k: float) -> Expr:
    """``A ** k``: integer matrix powers (negative ones through the inverse), ``k = ±1/2`` the square root,
    any other real ``k`` the principal power (a ``matfun`` node)."""
    if a.shape == ():
        return power(a, k)
    if not isinstance(k, numbers.Real) or isinstance(k, bool):
        raise TypeError(f"{a} ** {k!r}: the exponent of a matrix power is a number")
    if a.kind == "norm" and k == 2:
        return normsq(a.args[0])
    if k in (0.5, -0.5):
        root = sqrtm(a)
        return root if k > 0 else inv(root)
    if not np.isfinite(k):
        raise ValueError(f"{a} ** {k}: the exponent of a matrix power is a finite number")
    if k != int(k):  # the principal power expm(k logm(A)) (kronbox.amd.expressions.spectral)
        return node("matfun", (a,), ("pow", float(k)), _square(a, lambda: f"{a} ** {k}"))
    k = int(k)
    shape = _square(a, lambda: f"{a} ** {k}")
    if k < 0:
        return mpow(inv(a), -k)
    if k == 0:  # I, of the size of A (which the values may fix later)
        return eye_like(a, 0)
    if k == 1:
        return a
    return node("mpow", (a,), k, shape)


def sqrtm(a: Expr) -> Expr:
    """The principal matrix square root ``A^{1/2}`` (``R`` with ``R² = A``)."""
    if a.shape == ():
        return power(a, 0.5)
    shape = _square(a, lambda: f"sqrtm({a})")
    if a.kind == "eye":
        return a
    return node("sqrtm", (a,), None, shape)


def sylvester(a: Expr, b: Expr, c: Expr) -> Expr:
    """The solution ``Z`` of ``A Z + Z B = C`` (``A``, ``B`` square)."""
    for m, role in ((a, "first"), (b, "second")):
        def what(role: str = role) -> str:
            return f"sylvester({a}, {b}, {c}): the {role} argument"

        _square(m, what)
    if c.shape is not None:
        for m, axis in ((a, 0), (b, 1)):
            if m.shape is not None and m.shape[0] != c.shape[axis]:
                raise _clash(f"sylvester({a}, {b}, {c})", [(a, a.shape), (b, b.shape), (c, c.shape)],
                             "A Z + Z B = C needs A rows = C rows and B columns = C columns")
    if is_zero(c):
        return c
    return node("sylvester", (a, b, c), None, c.shape)


def solve(a: Expr, b: Expr) -> Expr:
    """``A⁻¹ B``, the solution ``Z`` of ``A Z = B``, without forming ``A⁻¹`` (``A`` square, ``B`` with its rows)."""
    if a.shape == ():
        return div(b, a)
    _square(a, lambda: f"solve({a}, {b})")
    if b.shape == ():
        raise ShapeError(f"solve({a}, {b}): the right-hand side must be a matrix or a column, {b} is a scalar")
    if a.shape is not None and b.shape is not None and a.shape[0] != b.shape[0]:
        raise _clash(f"solve({a}, {b})", [(a, a.shape), (b, b.shape)], "A Z = B needs B to have as many rows as A")
    if is_eye(a) or is_zero(b):
        return b
    return node("solve", (a, b), None, b.shape)


def logsumexp(a: Expr) -> Expr:
    """``log Σᵢⱼ exp(aᵢⱼ)`` over every entry, computed with the maximum shifted out (no overflow)."""
    if a.shape == ():
        return a
    return node("logsumexp", (a,), None, ())


def softmax(a: Expr) -> Expr:
    """``exp(a) / Σ exp(a)`` over every entry (the gradient of :func:`logsumexp`), shifted, so no overflow."""
    if a.shape == ():
        return ones_like(a)
    return node("softmax", (a,), None, a.shape)


def elementwise(fname: str, a: Expr) -> Expr:
    from kronbox.amd.expressions.elementwise import FUNCTIONS

    if fname not in FUNCTIONS:
        raise ValueError(f"unknown elementwise function {fname!r}; known: {', '.join(sorted(FUNCTIONS))}")
    if a.kind == "literal" and not isinstance(a.param, complex):
        return literal(ieee(FUNCTIONS[fname].numpy, a.param))
    return node("ew", (a,), fname, a.shape)


def power(a: Expr, p: float) -> Expr:
    """The elementwise power ``a .^ p`` for a number ``p``."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"power({a}, {p!r}): the exponent is a number")
    p = float(p)
    if p == 1.0:
        return a
    if a.kind == "literal":
        return literal(ieee(np.power, a.param, p))
    if a.kind == "norm" and p == 2.0:
        return normsq(a.args[0])
    if a.kind == "power":
        return power(a.args[0], power_exponent(a) * p)
    return node("power", (a,), p, a.shape)


def inner(a: Expr, b: Expr) -> Expr:
    """``⟨A, B⟩ = Σ aᵢⱼ bᵢⱼ = trace(Aᵀ B)`` (no conjugation)."""
    if a.shape == () and b.shape == ():
        return mul(a, b)
    if a is b:
        return normsq(a)
    return sum_(mul(a, b))


# -- rebuilding ---------------------------------------------------------------------------------------
BUILDERS: dict[str, Callable[..., Expr]] = {
    "add": add, "neg": neg, "mul": mul, "div": div, "matmul": matmul, "transpose": transpose, "inv": inv,
    "trace": trace, "det": det, "logdet": logdet, "sum": sum_, "norm": norm, "normsq": normsq,
    "sqrtm": sqrtm, "sylvester": sylvester, "solve": solve, "logsumexp": logsumexp, "softmax": softmax,
    "ones_like": ones_like, "zeros_like": zeros_like,
}


# Constructors of the kinds whose node carries a parameter: ``builder(param, *args)``.
PARAMETRIC_BUILDERS: dict[str, Callable[..., Expr]] = {}


def rebuild(e: Expr, args: tuple[Expr, ...]) -> Expr:
    """``e`` with new children, through its smart constructor (which rechecks shapes)."""
    if args == e.args:
        return e
    if e.kind in PARAMETRIC_BUILDERS:
        return PARAMETRIC_BUILDERS[e.kind](e.param, *args)
    if e.kind == "mpow":
        return mpow(args[0], matrix_exponent(e))
    if e.kind == "ew":
        return elementwise(function_name(e), args[0])
    if e.kind == "power":
        return power(args[0], power_exponent(e))
    if e.kind == "eye_like":
        return eye_like(args[0], like_axis(e))
    return BUILDERS[e.kind](*args)


def substitute(e: Expr, mapping: dict[Expr, Expr]) -> Expr:
    """``e`` with the nodes of ``mapping`` replaced (bottom-up, shared nodes rebuilt once)."""
    done: dict[int, Expr] = {}
    for n in e.nodes():
        if n in mapping:
            done[id(n)] = mapping[n]
        else:
            done[id(n)] = rebuild(n, tuple(done[id(a)] for a in n.args))
    return done[id(e)]


def iter_symbols(e: Expr) -> Iterator[Expr]:
    return (n for n in e.nodes() if n.kind in SYMBOL_KINDS)

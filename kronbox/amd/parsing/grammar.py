"""Formulas as text: the AMD / MATLAB dialect and matrixcalculus.org's, parsed into expressions.

    >>> from kronbox import amd
    >>> print(amd.grad(amd.parse("logdet(X)"), "X"))
    inv(X)'

Syntax (lowest binding first): ``+ -``; ``⊗ ⊠`` (for :func:`~kronbox.amd.parse_map` only);
``*`` (the matrix product, or scaling when one side is a scalar, or a 1×1 matrix that does not fit
as a matrix factor: ``(x'*y)*x``), ``.*`` and ``./`` (elementwise), ``/`` (by a scalar; ``A/B`` is ``A*inv(B)``); unary
``-``; postfix ``'`` (transpose, also ``.'`` and ``transpose(·)``), ``^`` (the matrix power of a
square matrix, the ordinary power of a scalar) and ``.^`` (elementwise power); numbers (``Inf`` and ``NaN`` too),
parentheses, names and calls. Functions: ``inv trace tr det logdet sqrtm norm1 norm2 sum``
(``log(det(·))`` is ``logdet``; ``norm2`` is the Frobenius norm of a matrix), ``eye``/``I``,
``vector(c)``/``matrix(c)`` (all entries ``c``, size from the context), ``zeros(m, n)``,
``ones(m, n)``, ``ones(size(A))``, ``sylvester(A, B, C)``, ``solve(A, B)``, ``expm logm`` (and ``X^p`` for a
real ``p``), their Fréchet derivatives ``dexpm(X, E, …)``, ``dlogm(X, E, …)``, ``dpowm(X, p, E, …)``,
``eigvalsh eigvecs chol``, ``diag`` (the diagonal of a matrix as a column, or the diagonal matrix of a
vector, by the argument's shape; ``diagm`` for the latter always), ``trilhalf`` and, entry by entry,
``exp log sqrt sin cos tan tanh arcsin arccos arctan abs sign relu step``.

Every other name is a symbol. Its shape comes from ``shapes`` (a shape or a value, by name); where
none is given, matrixcalculus.org's typing applies by the first letter: ``a``–``g`` scalars,
``h``–``z`` column vectors, ``A``–``Z`` matrices. The shapes are then *inferred*: dimensions are
unified along the formula (``x'*A*x`` makes ``A`` square and as large as ``x``), so a clash is found
before any value exists and reported at its place; sizes that stay open are left to the values
bound at evaluation (or, with ``default_size``, fixed to distinct sizes from that one on).

The text is read by a LALR(1) grammar (lark), never evaluated as Python. Every error is a
:class:`ParseError` that knows its column.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from kronbox.amd.expressions import expr as E
from kronbox.amd.expressions import kronecker as K
from kronbox.amd.expressions import spectral as S
from kronbox.amd.expressions.elementwise import FUNCTIONS
from kronbox.amd.expressions.expr import Expr, ShapeError, shape_text

GRAMMAR = r"""
?start: sum
?sum: kronecker
    | sum PLUS kronecker           -> binary
    | sum MINUS kronecker          -> binary
?kronecker: product
    | product (KRON | BOX) product -> binary
?product: unary
    | product STAR unary           -> binary
    | product DOTSTAR unary        -> binary
    | product SLASH unary          -> binary
    | product DOTSLASH unary       -> binary
?unary: postfix
    | (MINUS | PLUS) unary         -> prefix
?postfix: atom
    | postfix (QUOTE | DOTQUOTE)   -> suffix
    | postfix CARET exponent       -> binary
    | postfix DOTCARET exponent    -> binary
?exponent: atom
    | (MINUS | PLUS) exponent      -> prefix
?atom: NUMBER                      -> number
    | IMAGINARY                    -> imaginary
    | NAME                         -> name
    | NAME LPAR [sum (COMMA sum)*] RPAR -> call
    | LPAR sum RPAR                -> group
    | SLOT                         -> slot

PLUS: "+"
KRON: "⊗"
BOX: "⊠"
MINUS: "-"
STAR: "*"
DOTSTAR: ".*"
SLASH: "/"
DOTSLASH: "./"
CARET: "^"
DOTCARET: ".^"
QUOTE: "'"
DOTQUOTE: ".'"
LPAR: "("
RPAR: ")"
COMMA: ","
SLOT: "·"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
NUMBER: /(\d+\.(?![*\/^'])\d*|\.\d+|\d+)([eE][+-]?\d+)?/
IMAGINARY: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ij](?![A-Za-z0-9_])/
%ignore /[ \t\r\n]+/
"""


class ParseError(ValueError):
    """A formula that cannot be read: ``message``, the ``text`` and the 0-based ``position``."""

    def __init__(self, message: str, text: str, position: int):
        self.message, self.text, self.position = message, text, max(0, min(position, len(text)))
        super().__init__(f"{message} (column {self.position + 1})")

    def caret(self) -> str:
        """The formula with a caret under the position, as two lines."""
        line = " ".join(self.text.splitlines())
        return f"  {line}\n  {' ' * self.position}^"


@dataclass(frozen=True, eq=False)
class Node:
    """A piece of the formula: ``op`` (an operator, ``num``, ``name``, ``call``), its arguments,
    its ``value`` (number, name), the span ``[start, end)``, the column ``at`` that errors point to,
    and whether it was written in parentheses."""

    op: str
    args: tuple[Node, ...]
    value: float | complex | str | None
    start: int
    end: int
    at: int
    grouped: bool = False

    @property
    def name(self) -> str:
        """The name of a ``name`` or ``call`` node."""
        if not isinstance(self.value, str):
            raise TypeError(f"a {self.op} node has no name")
        return self.value

    @property
    def number(self) -> float | complex:
        """The number of a ``num`` node."""
        if self.op != "num" or not isinstance(self.value, float | complex):
            raise TypeError(f"a {self.op} node is not a number")
        return self.value


def _span(first: Token | Node, last: Token | Node) -> tuple[int, int]:
    start = first.start_pos if isinstance(first, Token) else first.start
    end = last.end_pos if isinstance(last, Token) else last.end
    assert start is not None and end is not None, "the tokens of a parse have their positions"
    return start, end


_NONFINITE = {"Inf": float("inf"), "inf": float("inf"), "NaN": float("nan"), "nan": float("nan")}


class _Tree(Transformer):
    """Builds :class:`Node` objects while the LALR parser reduces (no recursion: deep nesting is fine)."""

    def binary(self, c):
        return Node(str(c[1]), (c[0], c[2]), None, *_span(c[0], c[2]), at=c[1].start_pos)

    def prefix(self, c):
        return Node("neg" if c[0] == "-" else "pos", (c[1],), None, *_span(c[0], c[1]), at=c[0].start_pos)

    def suffix(self, c):
        return Node("'", (c[0],), None, *_span(c[0], c[1]), at=c[1].start_pos)

    def number(self, c):
        return Node("num", (), float(c[0]), *_span(c[0], c[0]), at=c[0].start_pos)

    def imaginary(self, c):
        return Node("num", (), complex(0, float(c[0][:-1])), *_span(c[0], c[0]), at=c[0].start_pos)

    def name(self, c):
        if str(c[0]) in _NONFINITE:  # Inf and NaN are numbers, as in MATLAB (and as kronbox prints them)
            return Node("num", (), _NONFINITE[str(c[0])], *_span(c[0], c[0]), at=c[0].start_pos)
        return Node("name", (), str(c[0]), *_span(c[0], c[0]), at=c[0].start_pos)

    def call(self, c):
        args = tuple(a for a in c[2:-1] if isinstance(a, Node))
        return Node("call", args, str(c[0]), *_span(c[0], c[-1]), at=c[0].start_pos)

    def slot(self, c):  # the free argument of a linear map, kron(·, B): read by parse_map
        return Node("slot", (), None, *_span(c[0], c[0]), at=c[0].start_pos)

    def group(self, c):  # the span takes in the parentheses, so that it is a formula of its own
        return dataclasses.replace(c[1], start=c[0].start_pos, end=c[2].end_pos, grouped=True)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(GRAMMAR, parser="lalr", transformer=_Tree(), keep_all_tokens=True, maybe_placeholders=False)


_SHOWN = {"$END": "the end", "RPAR": "')'", "LPAR": "'('", "COMMA": "','"}


def read(text: str) -> Node:
    """The syntax tree of ``text``; a :class:`ParseError` says what is wrong and where."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty formula", text, 0)
    _check_parentheses(text)
    try:
        root = _lark().parse(text)
    except UnexpectedCharacters as error:
        at = error.pos_in_stream or 0
        raise ParseError(f"unexpected character {text[at]!r}", text, at) from None
    except UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            raise ParseError("the formula ends too early (an operator or argument is missing)", text,
                             len(text.rstrip())) from None
        raise ParseError(f"unexpected {token.value!r}", text, token.start_pos) from None
    except UnexpectedEOF:
        raise ParseError("the formula ends too early", text, len(text.rstrip())) from None
    except UnexpectedInput as error:  # any other lark complaint, with its position
        raise ParseError("cannot read the formula", text, getattr(error, "pos_in_stream", 0) or 0) from None
    assert isinstance(root, Node), "the parser's transformer builds Nodes (lark types its result as a Tree)"
    return root


def _check_parentheses(text: str) -> None:
    opened: list[int] = []
    for i, ch in enumerate(text):
        if ch == "(":
            opened.append(i)
        elif ch == ")":
            if not opened:
                raise ParseError("unbalanced parentheses: this ')' closes nothing", text, i)
            opened.pop()
    if opened:
        raise ParseError("unbalanced parentheses: this '(' is never closed", text, opened[-1])


# -- the function table -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Function:
    """A callable name: how many arguments, how its result's shape follows, how it is built."""

    arity: int | tuple[int, ...]
    typing: str  # "same", "square", "square->scalar", "scalar", "swap", or a special kind
    build: Callable[..., Expr] | None = None


def _norm1(a: Expr) -> Expr:
    return E.sum_(E.elementwise("abs", a))


def _log(a: Expr) -> Expr:
    return E.logdet(a.args[0]) if a.kind == "det" else E.elementwise("log", a)


FUNCTION_TABLE: dict[str, Function] = {
    "inv": Function(1, "square", E.inv),
    "sqrtm": Function(1, "square", E.sqrtm),
    "trace": Function(1, "square->scalar", E.trace),
    "tr": Function(1, "square->scalar", E.trace),
    "det": Function(1, "square->scalar", E.det),
    "logdet": Function(1, "square->scalar", E.logdet),
    "sum": Function(1, "scalar", E.sum_),
    "norm1": Function(1, "scalar", _norm1),
    "norm2": Function(1, "scalar", E.norm),
    "transpose": Function(1, "swap", E.transpose),
    "sylvester": Function(3, "sylvester", E.sylvester),
    "solve": Function(2, "solve", E.solve),
    "logsumexp": Function(1, "scalar", E.logsumexp),
    "softmax": Function(1, "same", E.softmax),
    "expm": Function(1, "square", S.expm),
    "logm": Function(1, "square", S.logm),
    "dexpm": Function((2, 3, 4), "frechet", lambda X, *es: S.frechet(("expm",), X, *es)),
    "dlogm": Function((2, 3, 4), "frechet", lambda X, *es: S.frechet(("logm",), X, *es)),
    "dpowm": Function((3, 4, 5), "frechet"),
    "eigvalsh": Function(1, "square->column", S.eigvalsh),
    "eigvecs": Function(1, "square", S.eigvecs),
    "chol": Function(1, "square", S.cholesky),
    "diag": Function(1, "diag"),
    "diagm": Function(1, "diagm", S.diagm),
    "trilhalf": Function(1, "square", S.trilhalf_like),
    "kron": Function(2, "kron", K.kron),
    "kronfactor": Function(3, "kronfactor"),
    "eye": Function((0, 1), "eye"),
    "vector": Function(1, "vector"),
    "matrix": Function(1, "matrix"),
    "zeros": Function((1, 2), "filled"),
    "ones": Function((1, 2), "filled"),
    "size": Function(1, "size"),
    **{name: Function(1, "same", _log if name == "log" else (lambda a, name=name: E.elementwise(name, a)))
       for name in FUNCTIONS},
}


# -- shape inference: dimensions unified along the formula --------------------------------------------
class _Dim:
    """An open dimension (a size not known yet); unified by union-find."""

    __slots__ = ("parent",)

    def __init__(self):
        self.parent: _Dim | int | None = None


def _find(d):
    while isinstance(d, _Dim) and d.parent is not None:
        d = d.parent
    return d


Type = tuple  # () for a scalar, (rows, columns) of ints and _Dims for a matrix


class _Typing:
    """The type of every node, found by unifying dimensions; errors point at the node that clashes."""

    def __init__(self, text: str, shapes: Mapping[str, object]):
        self.text, self.shapes = text, shapes
        self.types: dict[int, Type] = {}
        self.scalings: set[int] = set()  # products A*B in which a 1×1 A or B scales the other
        self.symbols: dict[str, Type] = {}
        self.dim_names: dict[int, str] = {}  # open sizes as they are shown in messages: n, m, p, ...
        self.products: list[tuple[object, object, object]] = []  # (d, x, y): the size d is x·y (kron)

    def error(self, node: Node, message: str) -> ParseError:
        return ParseError(message, self.text, node.at)

    def show(self, node: Node) -> str:
        return self.text[node.start:node.end]

    def shape_text(self, t: Type) -> str:
        if t == ():
            return "scalar"
        names = self.dim_names
        parts = []
        for d in map(_find, t):
            parts.append(str(d) if isinstance(d, int) else names.setdefault(id(d), _dim_name(len(names))))
        return "×".join(parts)

    def unify(self, a, b, node: Node, why: Callable[[], str], given: bool = False) -> None:
        a, b = _find(a), _find(b)
        if a is b or (isinstance(a, int) and a == b):
            return
        if isinstance(a, int) and isinstance(b, int):
            raise self.error(node, why())
        if 1 in (a, b) and not given:
            raise self.error(node, why())  # an open size is a true dimension, never 1, unless given so
        if isinstance(a, _Dim):
            a.parent = b
        else:
            b.parent = a

    def kron_size(self, x, y):
        """The size ``x·y``: a number when both are known, else an open size that parse's sizes multiply."""
        x, y = _find(x), _find(y)
        if isinstance(x, int) and isinstance(y, int):
            return x * y
        d = _Dim()
        self.products.append((d, x, y))
        return d

    def square(self, t: Type, node: Node, what: str, subject: Node | None = None) -> None:
        """The type ``t`` of ``subject`` (by default ``node``'s first argument) must be square."""
        if t == ():
            return
        shown = self.show(subject if subject is not None else node.args[0])
        self.unify(t[0], t[1], node, lambda: f"{what} needs a square matrix, but {shown} is {self.shape_text(t)}")

    def same(self, ta: Type, tb: Type, node: Node, op: str) -> Type:
        """Operands of ``+ - .* ./``: equal shapes, or a scalar spread over the other."""
        if ta == () or tb == ():
            return tb if ta == () else ta
        if op in (".*", "./") and (_is_one(ta) or _is_one(tb)):
            return tb if _is_one(ta) else ta
        message = self._clash(node, ta, tb, "the shapes differ")
        for x, y in zip(ta, tb, strict=True):
            self.unify(x, y, node, lambda: message)
        return ta

    def _clash(self, node: Node, ta: Type, tb: Type, why: str) -> str:
        left, right = node.args
        return (f"{why}: {self.show(left)} is {self.shape_text(ta)} and {self.show(right)} is "
                f"{self.shape_text(tb)}")

    def symbol(self, node: Node) -> Type:
        name = node.name
        if name in ("I", "eye"):
            d = _Dim()
            return (d, d)
        if name not in self.symbols:
            self.symbols[name] = self._declared(name, node)
        return self.symbols[name]

    def _declared(self, name: str, node: Node) -> Type:
        if name in self.shapes:
            given = self.shapes[name]
            shape = given if isinstance(given, tuple) else _shape_of(given)
            if len(shape) == 1:
                shape = (shape[0], 1)
            if len(shape) not in (0, 2):
                raise self.error(node, f"the shape given for {name!r} is {shape!r}; a formula takes numbers, vectors "
                                       "and matrices")
            return tuple(_Dim() if s is None else int(s) for s in shape)
        first = name[0]
        if "a" <= first <= "g":
            return ()
        if "h" <= first <= "z":
            return (_Dim(), 1)
        return (_Dim(), _Dim())

    def expect(self, node: Node, shape: tuple) -> None:
        """The formula ``node`` must have ``shape`` (``None`` for a size left open)."""
        t = self.types[id(node)]
        message = f"the formula is {self.shape_text(t)}, but {shape_text(shape)} was expected"
        if (t == ()) != (shape == ()) and not (t == () and shape == (1, 1)):
            raise self.error(node, message)
        for d, s in zip(t, shape, strict=False):
            if s is not None:
                self.unify(d, s, node, lambda: message, given=True)

    def type_of(self, node: Node) -> Type:
        t = self._type(node, [self.types[id(a)] for a in node.args])
        self.types[id(node)] = t
        return t

    def _type(self, node: Node, ts: list[Type]) -> Type:
        op = node.op
        if op == "num":
            return ()
        if op == "name":
            return self.symbol(node)
        if op in ("neg", "pos"):
            return ts[0]
        if op == "'":
            return ts[0][::-1]
        if op in ("+", "-", ".*", "./"):
            return self.same(ts[0], ts[1], node, op)
        if op in ("⊗", "⊠"):
            raise self.error(node, f"{op} builds a linear map, not a matrix: read Kron/Box notation with "
                                   "amd.parse_map")
        if op == "slot":
            raise self.error(node, "· marks the free argument of a linear map, such as kron(·, B): read it with "
                                   "amd.parse_map")
        if op == "*":
            return self.product(node, ts[0], ts[1])
        if op == "/":
            if ts[1] == ():
                return ts[0]
            if ts[0] == ():
                return ts[1]  # c / B: entry by entry
            self.square(ts[1], node, "A/B = A*inv(B)", subject=node.args[1])
            return self.product(node, ts[0], ts[1])
        if op in ("^", ".^"):
            if ts[1] != ():
                raise self.error(node, f"the exponent {self.show(node.args[1])} must be a number")
            if op == "^":
                self.square(ts[0], node, f"the matrix power {self.show(node)}")
            return ts[0]
        return self.call(node, ts)

    def product(self, node: Node, ta: Type, tb: Type) -> Type:
        if ta == () or tb == ():
            return tb if ta == () else ta
        # MATLAB's rule, and matrixcalculus.org's: a 1×1 factor that does not fit as a matrix scales the
        # other, (x'*y)*x
        if node.op == "*" and ((_is_one(ta) and _find(tb[0]) != 1) or (_is_one(tb) and _find(ta[1]) != 1)):
            self.scalings.add(id(node))
            return tb if _is_one(ta) and _find(tb[0]) != 1 else ta
        self.unify(ta[1], tb[0], node, lambda: self._clash(node, ta, tb, "the inner dimensions of the product differ"))
        return (ta[0], tb[1])

    def call(self, node: Node, ts: list[Type]) -> Type:
        name = node.name
        f = FUNCTION_TABLE.get(name)
        if f is None:
            known = ", ".join(sorted(n for n in FUNCTION_TABLE if n != "size"))
            raise self.error(node, f"unknown function {name!r} (known: {known})")
        arities = f.arity if isinstance(f.arity, tuple) else (f.arity,)
        if len(ts) not in arities:
            wanted = " or ".join(map(str, arities))
            raise self.error(node, f"{name} takes {wanted} argument{'s' if arities != (1,) else ''}, got {len(ts)}")
        t: Type = ts[0] if ts else ()  # no argument: eye()
        kind = f.typing
        if kind == "same":
            return t
        if kind == "swap":
            return t[::-1]
        if kind == "square":
            self.square(t, node, f"{name}")
            return t
        if kind == "square->scalar":
            self.square(t, node, f"{name}")
            return ()
        if kind == "scalar":
            return ()
        if kind == "square->column":
            self.square(t, node, name)
            return t if t == () else (t[0], 1)
        if kind == "diag":  # of a column: the diagonal matrix; of a matrix: its diagonal, as a column
            if t == ():
                return t
            if _find(t[1]) == 1:
                return (t[0], t[0])
            self.square(t, node, name)
            return (t[0], 1)
        if kind == "diagm":
            if t != ():
                self.unify(t[1], 1, node, lambda: f"diagm(x) needs a column vector x, but {self.show(node.args[0])} "
                                                  f"is {self.shape_text(t)}")
                return (t[0], t[0])
            return t
        if kind == "frechet":  # dexpm(X, E, …), dpowm(X, p, E, …): the directions have X's shape
            first = 2 if name == "dpowm" else 1
            if name == "dpowm" and (ts[1] != () or node.args[1].op != "num"):
                raise self.error(node, "dpowm(X, p, E, …) takes the exponent p as a number")
            if t == ():
                raise self.error(node, f"{name}(X, E, …): X must be a square matrix")
            self.square(t, node, name)
            for direction, te in zip(node.args[first:], ts[first:], strict=True):
                if te == ():
                    raise self.error(node, f"{name}(X, E, …): the direction {self.show(direction)} must be a matrix")
                for x, y in ((t[0], te[0]), (t[1], te[1])):
                    self.unify(x, y, node, lambda: f"{name}(X, E, …): the directions have the shape of X")
            return t
        if kind == "kron":  # sizes multiply: known ones now, open ones when sizes are given (parse's sizes)
            if () in ts:
                return ts[0] if ts[1] == () else ts[1]
            return tuple(self.kron_size(x, y) for x, y in zip(ts[0], ts[1], strict=True))
        if kind == "kronfactor":  # kronfactor(G, M, k): G's sizes are the result's times M's
            if ts[0] == () or ts[1] == () or node.args[2].op != "num" or node.args[2].value not in (1, 2):
                raise self.error(node, "kronfactor(G, M, k) takes two matrices and k = 1 or 2")
            result: list = []
            for g, m in zip(ts[0], ts[1], strict=True):
                g, m = _find(g), _find(m)
                if isinstance(g, int) and isinstance(m, int):
                    result.append(g // m)
                else:  # G's size is the result's times M's
                    r = _Dim()
                    self.products.append((g, r, m))
                    result.append(r)
            return tuple(result)
        if kind == "sylvester":
            ta, tb, tc = ts
            for x, role, subject in ((ta, "A", node.args[0]), (tb, "B", node.args[1])):
                if x == ():
                    raise self.error(node, f"sylvester(A, B, C): {role} must be a square matrix")
                self.square(x, node, f"sylvester(A, B, C): {role}", subject)
            if tc == ():
                raise self.error(node, "sylvester(A, B, C): C must be a matrix")
            for x, y in ((ta[0], tc[0]), (tb[1], tc[1])):
                self.unify(x, y, node, lambda: "sylvester(A, B, C) solves A Z + Z B = C: the rows of A, the columns "
                                               "of B and the shape of C must agree")
            return tc
        if kind == "solve":
            ta, tb = ts
            if ta == () or tb == ():
                raise self.error(node, "solve(A, B): A must be a square matrix and B a matrix or a column")
            self.square(ta, node, "solve(A, B): A", node.args[0])
            self.unify(ta[0], tb[0], node, lambda: "solve(A, B) solves A Z = B: B must have as many rows as A")
            return tb
        if kind in ("vector", "matrix"):
            if t != ():
                raise self.error(node, f"{name}(c) fills a {name} with the number c")
            return (_Dim(), 1) if kind == "vector" else (_Dim(), _Dim())
        if kind == "eye":
            if not ts:
                d = _Dim()
                return (d, d)
            n = _size_argument(node.args[0])
            if n is None:
                raise self.error(node, "eye(n) takes a positive whole number n")
            return (n, n)
        if kind == "filled":
            if len(ts) == 1:
                inner = node.args[0]
                if inner.op != "call" or inner.value != "size":
                    raise self.error(node, f"{name}(m, n) takes two sizes, or {name}(size(A))")
                return self.types[id(inner.args[0])]
            sizes = [_size_argument(a) for a in node.args]
            if None in sizes:
                raise self.error(node, f"{name}(m, n) takes positive whole numbers")
            return tuple(sizes)
        if kind == "size":
            return t
        raise AssertionError(kind)


def _shape_of(value: object) -> tuple[int, ...]:
    """The shape of a value: an array of any library (its ``shape``), a number or nested lists."""
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else np.shape(np.asarray(value))


def _dim_name(i: int) -> str:
    return "nmpqrs"[i % 6] + ("" if i < 6 else str(i // 6))


def _is_one(t: Type) -> bool:
    return all(_find(d) == 1 for d in t)


def _size_argument(node: Node) -> int | None:
    """The size written at ``node``: a positive whole number (``None`` for anything else, ``Inf`` and ``NaN`` too)."""
    value = node.number if node.op == "num" else None
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and value >= 1:
        return int(value)
    return None


def _check_sizes(order: list[Node], text: str) -> None:
    """``size(A)`` means something only as the argument of ``ones`` or ``zeros``."""
    allowed = {id(n.args[0]) for n in order if n.op == "call" and n.value in ("ones", "zeros") and len(n.args) == 1}
    for n in order:
        if n.op == "call" and n.value == "size" and id(n) not in allowed:
            raise ParseError("size(A) appears only inside ones(size(A)) and zeros(size(A))", text, n.at)


def _post_order(root: Node) -> list[Node]:
    order, stack = [], [(root, False)]
    while stack:
        n, expanded = stack.pop()
        if expanded:
            order.append(n)
        else:
            stack.append((n, True))
            stack.extend((a, False) for a in reversed(n.args))
    return order


# -- building the expression ------------------------------------------------------------------------------
class _Builder:
    """Turns typed nodes into expressions through the smart constructors of :mod:`kronbox.amd.expressions.expr`."""

    def __init__(self, typing: _Typing, sizes: Callable[[object], int | None], symmetric: frozenset[str] = frozenset()):
        self.typing, self.sizes, self.symmetric = typing, sizes, symmetric
        self.built: dict[int, Expr] = {}
        self.symbols: list[tuple[Expr, Type]] = []

    def shape(self, t: Type) -> tuple:
        return tuple(self.sizes(d) for d in t)

    def build(self, node: Node) -> Expr:
        args = [self.built[id(a)] for a in node.args]
        try:
            e = self._build(node, args)
        except ParseError:
            raise
        except (ShapeError, ValueError, TypeError, ZeroDivisionError, OverflowError) as error:
            raise ParseError(str(error), self.typing.text, node.at) from None
        self.built[id(node)] = e
        return e

    def _build(self, node: Node, args: list[Expr]) -> Expr:
        op, t = node.op, self.typing.types[id(node)]
        if op == "num":
            return E.literal(node.number)
        if op == "name":
            if node.name in ("I", "eye"):
                return self.filled(E.eye, t, node)
            symbol = E.var(node.name, self.shape(t), symmetric=node.name in self.symmetric)
            self.symbols.append((symbol, t))
            return symbol
        if op == "neg":
            return E.neg(args[0])
        if op == "pos":
            return args[0]
        if op == "'":
            return E.transpose(args[0])
        if op == "call":
            return self.call(node, args, t)
        a, b = args
        ta, tb = (self.typing.types[id(x)] for x in node.args)
        if op == "+":
            return E.add(a, b)
        if op == "-":
            return E.sub(a, b)
        if op == ".*" or (op == "*" and (ta == () or tb == () or id(node) in self.typing.scalings)):
            return E.mul(a, b)
        if op == "*":
            return E.matmul(a, b)
        if op == "./" or (op == "/" and (ta == () or tb == ())):
            return E.div(a, b)
        if op == "/":
            return E.matmul(a, E.inv(b))
        k = E.literal_value(b) if E.is_literal(b) else None
        if not isinstance(k, float):  # ^ and .^
            raise self.typing.error(node, f"the exponent {self.typing.show(node.args[1])} must be a number")
        return E.power(a, k) if op == ".^" or ta == () else E.mpow(a, int(k) if np.isfinite(k) and k == int(k) else k)

    def call(self, node: Node, args: list[Expr], t: Type) -> Expr:
        f = FUNCTION_TABLE[node.name]
        if f.build is not None:
            return f.build(*args)
        kind = f.typing
        if kind == "diag":
            ta = self.typing.types[id(node.args[0])]
            return S.diagm(args[0]) if ta != () and _find(ta[1]) == 1 else S.diag(args[0])
        if kind == "kronfactor":
            return K.kronfactor(args[0], args[1], int(node.args[2].number.real))
        if kind == "frechet":  # dpowm(X, p, E, …)
            p = node.args[1].number
            if isinstance(p, complex):
                raise self.typing.error(node, "dpowm(X, p, E, …) takes a real exponent p")
            return S.frechet(("pow", p), args[0], *args[2:])
        if kind == "eye":
            return self.filled(E.eye, t, node)
        if kind in ("vector", "matrix"):
            return E.mul(args[0], self.filled(E.ones, t, node))
        if kind == "filled":
            if node.args[0].op == "call":  # ones(size(A))
                inner = self.built[id(node.args[0].args[0])]
                return E.ones_like(inner) if node.value == "ones" else E.zeros_like(inner)
            return (E.ones if node.value == "ones" else E.zeros)(self.shape(t))
        if kind == "size":  # only inside ones(size(A)) and zeros(size(A)): checked by _check_sizes
            return args[0]
        raise AssertionError(kind)

    def filled(self, make: Callable[..., Expr], t: Type, node: Node) -> Expr:
        """The identity (``make = eye``) or the all-ones matrix of type ``t``, sized now if the sizes
        are known, else by a symbol of the same dimensions (``ones_like(x)``, ``eye_like(A, 0)``)."""
        shape = self.shape(t)
        if None not in shape:
            return make(shape[0]) if make is E.eye else make(shape)
        dims = [_find(d) for d in t]
        for symbol, st in self.symbols:
            if st == ():
                continue
            sd = [_find(d) for d in st]
            if make is E.eye:
                for axis in (0, 1):
                    if sd[axis] is dims[0]:
                        return E.eye_like(symbol, axis)
            elif sd == dims:
                return E.ones_like(symbol)
            elif sd[::-1] == dims:
                return E.transpose(E.ones_like(symbol))
        if make is E.eye:
            return E.eye()
        raise self.typing.error(node, f"the size of {self.typing.show(node)} cannot be told from the formula; "
                                      "give the shapes of the symbols")


def _declare_symmetric(typing: _Typing, order: list[Node], text: str, names: Iterable[str]) -> frozenset[str]:
    """The symbols declared symmetric, each a square matrix of the formula (made square if its size is open)."""
    declared = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(declared):
        place = next((n for n in order if n.op == "name" and n.name == name), None)
        if place is None:
            raise ParseError(f"{name!r} is declared symmetric but is not a symbol of the formula", text, 0)
        t = typing.types[id(place)]
        if t == ():
            raise ParseError(f"{name!r} is declared symmetric but it is a scalar", text, place.at)
        def why(t: Type = t, name: str = name) -> str:
            return f"{name!r} is declared symmetric but it is {typing.shape_text(t)}, not square"

        typing.unify(t[0], t[1], place, why)
    return declared


def parse(text: str, shapes: Mapping[str, object] | None = None, *, default_size: int | None = None,
          result_shape: tuple[int | None, ...] | None = None, symmetric: Iterable[str] = ()) -> Expr:
    """The expression written in ``text`` (see the module docstring for the syntax).

    ``shapes`` gives symbols their shapes, by name: a shape tuple (``()``, ``(n, 1)``, ``(m, n)``;
    ``None`` for an open size) or a value whose shape is taken. Sizes the formula and ``shapes``
    leave open stay open (the values bound at evaluation fix them) unless ``default_size`` is given:
    then they become distinct sizes ``default_size, default_size + 1, …`` (for a random check).
    ``result_shape`` is the shape the whole formula must have, ``None`` for a size left open (it
    sizes a lone ``I``: a gradient printed as ``I`` is the identity of the variable's size).
    ``symmetric`` names the symbols that are symmetric matrices (``var(…, symmetric=True)``: their gradients
    are symmetric, their transposes themselves).
    Raises :class:`ParseError` for anything wrong with the text, shapes included.
    """
    root = read(text)
    typing = _Typing(text, shapes or {})
    order = _post_order(root)
    _check_sizes(order, text)
    for node in order:
        typing.type_of(node)
    if result_shape is not None:
        typing.expect(root, tuple(result_shape))
    declared = _declare_symmetric(typing, order, text, symmetric)
    fresh = itertools.count(default_size) if default_size is not None else None
    chosen: dict[int, int] = {}

    def known(d) -> int | None:
        d = _find(d)
        return d if isinstance(d, int) else chosen.get(id(d))

    def sizes(d, seen: frozenset[int] = frozenset()) -> int | None:
        d = _find(d)
        if isinstance(d, int):
            return d
        if id(d) in chosen or id(d) in seen:
            return chosen.get(id(d))
        seen |= {id(d)}
        # the sizes of Kronecker products (kron, kronfactor), p = x·y: a product from its factors, a factor from
        # a product and the other factor that are known
        for product, x, y in typing.products:
            if _find(product) is d:
                sx, sy = sizes(x, seen), sizes(y, seen)
                if sx is not None and sy is not None:
                    chosen[id(d)] = sx * sy
                    return sx * sy
        for product, x, y in typing.products:
            if d in (_find(x), _find(y)):
                sp, so = known(product), known(y if d is _find(x) else x)
                if sp is not None and so and sp % so == 0:
                    chosen[id(d)] = sp // so
                    return sp // so
        if fresh is None:
            return None
        if id(d) not in chosen:
            chosen[id(d)] = next(fresh)
        return chosen[id(d)]

    builder = _Builder(typing, sizes, declared)
    for node in sorted(order, key=lambda n: n.op != "name"):  # symbols first: I and ones(…) are sized by them
        builder.build(node)
    return builder.built[id(root)]

"""Linear maps as text: the Kron/Box notation that :func:`~kronbox.amd.map_text` prints, read back.

    >>> from kronbox import amd
    >>> L = amd.parse_map("-(inv(X) ⊗ inv(X)')", {"X": (3, 3)}, in_shape=(3, 3))
    >>> L.in_shape, L.out_shape
    ((3, 3), (3, 3))

A map acts on ``vec(D)`` (row-major) for a matrix ``D`` of shape ``in_shape``. It is written with

- ``A ⊗ B``: ``vec(D) ↦ vec(A D Bᵀ)``, and ``A ⊠ B``: ``vec(D) ↦ vec(A Dᵀ Bᵀ)``;
- ``vec(U)*vec(V)'``: ``vec(D) ↦ ⟨V, D⟩ vec(U)``; ``diag(vec(E))``: ``vec(D) ↦ vec(E ∘ D)``;
- ``inv(A ⊗ I + I ⊗ B)``: ``vec(C) ↦ vec(Z)`` with ``A Z + Z Bᵀ = C``;
- ``I`` (the identity map) and ``0`` (the zero map, of ``out_shape``);
- ``c*L`` for a scalar formula ``c``, ``-L``, ``L + M``, ``L - M`` and ``L*M`` (``M`` acts first);
- on column vectors, a matrix ``C`` for ``x ↦ C x`` (``C ⊗ 1``) and ``diag(d)`` for ``diag(vec(d))``,
  as vector calculus writes them: ``A``, ``A + A'``, ``A'*diag(d)*A``.

``⊗`` and ``⊠`` bind looser than ``*`` and tighter than ``+``: ``I ⊗ X'*A'`` is ``I ⊗ (X'*A')``. The
factors are formulas of :func:`~kronbox.amd.parse`; a factor's column count comes from the map's
input, so a lone ``I`` factor needs no size written: shapes flow from ``in_shape`` through a
composition from right to left (``(I ⊗ X)*(A ⊗ I)``), and ``out_shape``, where it is given, sizes
the rows of what the input leaves open (``vec(matrix(1))*vec(X)'``). A factor or coefficient
without symbols whose size nothing fixes (``trace(tanh(I))``) cannot be read: printing lost its size.
Every error is a :class:`ParseError` with its column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kronbox.amd.expressions import expr as E
from kronbox.amd.expressions import linear_map as L
from kronbox.amd.expressions.expr import Expr, ShapeError, shape_text
from kronbox.amd.expressions.kronecker import SLOT_KINDS, build_slot
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.amd.parsing.grammar import Node, ParseError, parse, read

Shape = tuple[int, int]
Partial = tuple[int | None, int | None]  # a matrix shape with sizes still open (None)
_EYE_NAMES = ("I", "eye")
_FORMS = "A ⊗ B, A ⊠ B, vec(U)*vec(V)', diag(vec(E)), inv(A ⊗ I + I ⊗ B), dexpm(X), I or 0"
# The Fréchet derivatives of the matrix functions, written as maps without their last direction: dexpm(X) is
# U ↦ dexpm(X, U); dpowm(X, p) takes the exponent first.
_FRECHET = {"dexpm": 1, "dlogm": 1, "dpowm": 2}


def parse_map(text: str, shapes: Mapping[str, object] | None = None, *, in_shape: tuple[int, ...],
              out_shape: tuple[int, ...] | None = None) -> LinearMap:
    """The linear map written in ``text``, acting on matrices of shape ``in_shape``.

    ``shapes`` gives the symbols their shapes (shape tuples or values, by name), as for
    :func:`~kronbox.amd.parse`; ``out_shape``, when given, is checked (and sizes a lone ``0``).
    ``L.at(values)`` is then the lazy kronbox operator.
    """
    reader = _Reader(text, shapes or {})
    root = read(text)
    s, out = _matrix_shape(in_shape), None if out_shape is None else _matrix_shape(out_shape)
    result = reader.map(root, s, out)
    if result.in_shape != s:
        raise ParseError(f"the map takes {shape_text(result.in_shape)} matrices, but {shape_text(in_shape)} "
                         "was given", text, root.at)
    if out is not None and result.out_shape != out:
        raise ParseError(f"the map gives {shape_text(result.out_shape)} matrices, but {shape_text(out_shape)} "
                         "was expected", text, root.at)
    return result


def _matrix_shape(shape: tuple[int, ...]) -> Shape:
    """``shape`` as a matrix shape: a scalar is 1×1, a vector a column."""
    dims = tuple(int(s) for s in shape)
    if len(dims) > 2:
        raise ShapeError(f"a linear map acts on matrices, not on {shape_text(dims)} arrays")
    return (1, 1) if len(dims) == 0 else (dims[0], 1) if len(dims) == 1 else (dims[0], dims[1])


def _is_eye(node: Node) -> bool:
    return node.op == "name" and node.value in _EYE_NAMES


def _is_vec(node: Node) -> bool:
    return node.op == "call" and node.value == "vec" and len(node.args) == 1


def _unsigned(node: Node) -> Node:
    while node.op in ("neg", "pos"):
        node = node.args[0]
    return node


def _clash(shape: tuple[int | None, ...], wanted: tuple[int | None, ...]) -> bool:
    """Whether ``shape`` cannot be ``wanted`` (both with ``None`` for open sizes; a scalar is 1×1)."""
    dims = (1, 1) if shape == () else shape
    if len(dims) != len(wanted):
        return True
    return any(a is not None and b is not None and a != b for a, b in zip(dims, wanted, strict=True))


def _arrow(M: LinearMap) -> str:
    return f"{shape_text(M.in_shape)} to {shape_text(M.out_shape)}"


def _chain(node: Node, op: str) -> list[Node]:
    """The operands of a left-nested chain of ``op`` (``a*b*c`` → ``[a, b, c]``, ``(a*b)*c`` →
    ``[(a*b), c]``), without recursion."""
    items: list[Node] = []
    while node.op == op and (not node.grouped or not items):
        items.append(node.args[1])
        node = node.args[0]
    items.append(node)
    return items[::-1]


def _settle(count: int, build: Callable[[int], LinearMap]) -> list[LinearMap]:
    """``[build(0), …, build(count - 1)]`` for pieces that size each other: a piece whose sizes are
    still open fails and is tried again once another has been read (``build`` records what each
    read fixes); the failure that stays is raised."""
    built: dict[int, LinearMap] = {}
    errors: dict[int, ParseError] = {}
    while len(built) < count:
        progress = False
        for i in reversed(range(count)):
            if i in built:
                continue
            try:
                built[i] = build(i)
            except ParseError as error:
                errors[i] = error
                continue
            progress = True
        if not progress:
            raise errors[max(i for i in range(count) if i not in built)]
    return [built[i] for i in range(count)]


class _Reader:
    def __init__(self, text: str, shapes: Mapping[str, object]):
        self.text, self.shapes = text, shapes

    def error(self, node: Node, message: str) -> ParseError:
        return ParseError(message, self.text, node.at)

    def matrix(self, node: Node, shape: tuple[int | None, ...] | None = None) -> tuple[Expr, Shape]:
        """The factor ``node`` as an expression, which must have ``shape`` (``None`` entries open:
        the map knows a factor's column count, and its row count where the output is known), and its
        matrix shape. Its errors keep their columns in the whole text."""
        text = self.text[node.start:node.end]
        try:
            e = parse(text, self.shapes, result_shape=shape)
        except ParseError as error:
            try:  # say what the factor is alone, where that is what does not fit here
                alone = parse(text, self.shapes)
            except ParseError:
                raise self.moved(error, node) from None
            if shape is not None and alone.shape is not None and _clash(alone.shape, shape):
                raise self.error(node, f"{text!r} is {shape_text(alone.shape)}, but this place in the map takes "
                                       f"{shape_text(shape)}") from None
            raise self.moved(error, node) from None
        if e.shape is None or None in e.shape:
            raise self.error(node, f"the shape of {text!r} cannot be told; give the shapes of its symbols")
        return e, _matrix_shape(e.shape)

    def moved(self, error: ParseError, node: Node) -> ParseError:
        """An error of the factor at ``node``, placed in the whole text."""
        return ParseError(error.message, self.text, node.start + error.position)

    def is_map(self, node: Node) -> bool:
        op = node.op
        if op in ("⊗", "⊠") or _is_eye(node):
            return True
        if op in ("neg", "pos"):
            return self.is_map(node.args[0])
        if op in ("+", "-"):
            return any(self.is_map(a) for a in _chain(node, op))
        if op == "*":
            return any(self.is_map(a) or _is_vec(_unsigned(a)) for a in _chain(node, "*"))
        if op == "call" and node.value == "diag":
            return True
        if op == "call" and node.value in _FRECHET and len(node.args) <= _FRECHET[node.value] + 2:
            return True  # dexpm(X), dexpm(X, E): one direction short of the value dexpm(X, E[, F])
        if op == "call" and any(a.op == "slot" for a in node.args):
            return True  # kron(·, B): the map of the free argument
        return op == "call" and node.value == "inv" and len(node.args) == 1 and self.is_map(node.args[0])

    # -- maps ------------------------------------------------------------------------------------------
    # A map is read knowing its input shape ``s`` and its output shape ``out`` where they are known
    # (``None`` where not): a factor's columns come from ``s``, its rows from ``out``.
    def map(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """The map written at ``node``."""
        op = node.op
        if op in ("⊗", "⊠"):
            return self.kronecker(node, s, out)
        if op == "neg":
            return L.negate(self.map(node.args[0], s, out))
        if op == "pos":
            return self.map(node.args[0], s, out)
        if op in ("+", "-"):
            return self.total(node, s, out)
        if op == "*":
            return self.product(node, s, out)
        if _is_eye(node):
            if (s or out) is None:
                raise self.error(node, "the size of the identity map I cannot be told here")
            return L.identity(s or out)
        if op == "num" and node.value == 0:
            if s is None or out is None:
                raise self.error(node, "the size of the zero map 0 cannot be told here; give out_shape")
            return L.zero(out, s)
        if op == "call" and node.value == "diag" and len(node.args) == 1:
            vector = not _is_vec(node.args[0])  # diag(d) of a column d is diag(vec(d))
            shape = s or out
            D = self.matrix(node.args[0] if vector else node.args[0].args[0], shape)[0]
            if vector and not L.is_column(D):
                raise self.error(node, "diag(d) takes a column vector; a matrix D is written diag(vec(D))")
            return L.diag(D)
        if op == "call" and node.value == "inv" and len(node.args) == 1 and self.is_map(node.args[0]):
            return self.kronsum_inverse(node, s or out)
        if op == "call" and node.value in _FRECHET:
            return self.frechet(node, s or out)
        if op == "call" and any(a.op == "slot" for a in node.args):
            return self.slot(node, s, out)
        return self.column_map(node, s, out)

    def slot(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """``kron(·, B)``, ``kron(A, ·)``, ``kronfactor(·, M, k)``, ``kronfactor(G, ·, k)``: the bilinear node
        with the argument at ``·`` free (:mod:`kronbox.amd.expressions.kronecker`)."""
        name, args = node.value, node.args
        slots = [i for i, a in enumerate(args) if a.op == "slot"]
        if name not in SLOT_KINDS or len(slots) != 1 or len(args) != (2 if name == "kron" else 3) or slots[0] > 1:
            raise self.error(node, "· marks one matrix argument of kron(A, B) or kronfactor(G, M, k)")
        if s is None:
            raise self.error(node, f"the shape of the free argument of {name} cannot be told here")
        param = None
        if name == "kronfactor":
            if args[2].op != "num" or args[2].value not in (1, 2):
                raise self.error(node, "kronfactor(G, M, k) takes k = 1 or 2")
            param = int(args[2].number.real)
        others = tuple(self.matrix(a)[0] for i, a in enumerate(args[:2]) if i != slots[0])
        free = E.zeros(s)  # a placeholder of the free argument's shape
        shape = build_slot(name, param, (*others[:slots[0]], free, *others[slots[0]:])).shape
        return L.slot_map(name, param, slots[0], others, s, shape)

    def frechet(self, node: Node, s: Shape | None) -> LinearMap:
        """``dexpm(X, E₁, …)`` as the map ``U ↦ dexpm(X, E₁, …, U)`` (``dpowm(X, p, …)`` likewise)."""
        name = node.name
        first = _FRECHET[name]
        if name == "dpowm" and (len(node.args) < 2 or node.args[1].op != "num"):
            raise self.error(node, "dpowm(X, p, …) takes the exponent p as a number")
        p = node.args[1].number if name == "dpowm" else None
        if isinstance(p, complex):
            raise self.error(node, "dpowm(X, p, …) takes a real exponent p")
        param = ("pow", p) if p is not None else (name[1:],)
        X, *fixed = (self.matrix(a, s)[0] for a in (node.args[0], *node.args[first:]))
        return L.frechet_map(param, X, tuple(fixed))

    def column_map(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """A matrix ``C`` written as a map on column vectors, ``x ↦ C x``: ``C ⊗ 1``."""
        for shape in (s, out):
            if shape is not None and shape[1] != 1:
                raise self.error(node, f"a linear map is expected here ({_FORMS}; a matrix is a map on column "
                                       f"vectors only, and this one is given {shape_text(s or out)} matrices)")
        C, shape = self.matrix(node, (out[0] if out else None, s[0] if s else None))
        if C.shape == ():
            raise self.error(node, f"a linear map is expected here ({_FORMS}), not the number "
                                   f"{self.text[node.start:node.end]!r}")
        return L.kron(C, E.eye(1))

    def kronecker(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """``A ⊗ B`` maps ``(cols A, cols B)`` to ``(rows A, rows B)``; ``A ⊠ B`` maps ``(cols B, cols A)``."""
        is_kron = node.op == "⊗"
        given: Partial = s or (None, None)
        cols = given if is_kron else (given[1], given[0])
        rows: Partial = out or (None, None)
        A, B = (self.matrix(arg, (r, c))[0] for arg, r, c in zip(node.args, rows, cols, strict=True))
        return (L.kron if is_kron else L.box)(A, B)

    def kronsum_inverse(self, node: Node, s: Shape | None) -> LinearMap:
        inner = node.args[0]
        left, right = (inner.args if inner.op == "+" else (None, None))
        if not (left is not None and right is not None and left.op == right.op == "⊗" and _is_eye(left.args[1])
                and _is_eye(right.args[0])):
            raise self.error(node, "inv of a map is written inv(A ⊗ I + I ⊗ B), the inverse of a Kronecker sum")
        m, n = s or (None, None)
        A, B = self.matrix(left.args[0], (m, m))[0], self.matrix(right.args[1], (n, n))[0]
        return L.kronsum_inverse(A, B)

    def total(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """A sum: its terms share their shapes, so a term that fixes them sizes the others."""
        nodes, negated = [], []
        while node.op in ("+", "-"):
            nodes.append(node.args[1])
            negated.append(node.op == "-")
            node = node.args[0]
        nodes.append(node)
        negated.append(False)
        nodes, negated = nodes[::-1], negated[::-1]
        first: list[LinearMap | None] = []  # the terms read alone (None: not yet)
        errors = []
        for n in nodes:
            try:
                first.append(self.map(n, s, out))
            except ParseError as error:  # open sizes, which the other terms may fix
                first.append(None)
                errors.append(error)
        read = [t for t in first if t is not None]
        if not read:
            raise errors[0]
        s, out = s or read[0].in_shape, out or read[0].out_shape
        terms = [t if t is not None else self.map(n, s, out) for t, n in zip(first, nodes, strict=True)]
        for term, n in zip(terms, nodes, strict=True):
            if (term.in_shape, term.out_shape) != (terms[0].in_shape, terms[0].out_shape):
                raise self.error(n, f"the terms of the sum map {_arrow(terms[0])} and {_arrow(term)}")
        return L.total([L.negate(t) if neg else t for t, neg in zip(terms, negated, strict=True)],
                       terms[0].out_shape, terms[0].in_shape)

    def product(self, node: Node, s: Shape | None, out: Shape | None) -> LinearMap:
        """``c*L*vec(U)*vec(V)'*M``: scalar coefficients, maps and outer products, composed right to left."""
        items = _chain(node, "*")
        coefficient: Expr = E.literal(1.0)
        pieces: list[list[Node]] = []  # each a map node, or [vec(U), vec(V)'] for an outer product
        i = 0
        while i < len(items):
            item = items[i]
            while item.op in ("neg", "pos") and _is_vec(_unsigned(item)):  # -vec(U)*vec(V)'
                coefficient = E.mul(coefficient, E.literal(-1.0 if item.op == "neg" else 1.0))
                item = item.args[0]
            if _is_vec(item):
                after = items[i + 1] if i + 1 < len(items) else None
                if after is None or after.op != "'" or not _is_vec(after.args[0]):
                    raise self.error(item, "vec(U) starts an outer product, vec(U)*vec(V)'")
                pieces.append([item, after])
                i += 2
                continue
            c = None if self.is_map(item) else self.scalar(item)
            if c is None:  # a map, or a matrix acting on column vectors
                pieces.append([item])
            else:
                coefficient = E.mul(coefficient, c)
            i += 1
        if not pieces:
            raise self.error(node, f"a linear map is expected here ({_FORMS})")
        # a piece's output is the input of the piece on its left: the leftmost gives ``out``, the
        # rightmost takes ``s``, and a piece read fixes the shapes its neighbours meet
        k = len(pieces)
        ins, outs = [None] * (k - 1) + [s], [out] + [None] * (k - 1)

        def build(i: int) -> LinearMap:
            piece = pieces[i]
            m = self.outer(piece, ins[i], outs[i]) if len(piece) == 2 else self.map(piece[0], ins[i], outs[i])
            if i > 0:
                ins[i - 1] = ins[i - 1] or m.out_shape
            if i + 1 < k:
                outs[i + 1] = outs[i + 1] or m.in_shape
            return m

        maps = _settle(k, build)
        for left, right, piece in zip(maps, maps[1:], pieces[1:], strict=False):
            if left.in_shape != right.out_shape:
                raise self.error(piece[0], f"this map gives {shape_text(right.out_shape)} matrices to one that "
                                           f"takes {shape_text(left.in_shape)} ones")
        return L.scaled(coefficient, L.compose(*maps))

    def scalar(self, node: Node) -> Expr | None:
        """The formula at ``node`` if it is a number or a 1×1 matrix (a coefficient), else ``None``."""
        try:
            e = parse(self.text[node.start:node.end], self.shapes)
        except ParseError:
            return None  # sizes it cannot tell alone: a matrix that the map's shapes will size
        return e if e.shape in ((), (1, 1)) else None  # a 1×1 matrix (x'*y) scales too

    def outer(self, piece: list[Node], s: Shape | None, out: Shape | None) -> LinearMap:
        """``vec(U)*vec(V)'``: ``U`` has the output's shape, ``V`` the input's."""
        U, V = self.matrix(piece[0].args[0], out)[0], self.matrix(piece[1].args[0].args[0], s)[0]
        return L.outer(U, V)

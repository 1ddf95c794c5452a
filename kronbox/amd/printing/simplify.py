"""Symbolic simplification for display: the same value for every value of the symbols, written short.

An expression is read as a *linear combination* (:mod:`~kronbox.amd.printing.terms`) of terms ``c · s₁ ⋯ sⱼ ·
F₁ F₂ ⋯ Fₖ``: a number ``c``, scalar atoms ``sᵢ`` (they commute, and are kept sorted) and matrix
factors ``Fᵢ`` in product order, each an *atom* or the transpose of one. An atom is a node that is
neither a sum, a negation, a scaling, a matrix product nor a transpose (``inv(X)``, ``trace(·)``,
``exp(·)``, a symbol), or a sum kept whole as a factor. Reading an expression so, bottom-up over its
DAG (every node once, without recursion), applies:

- ``(Aᵀ)ᵀ = A``, ``(A B)ᵀ = Bᵀ Aᵀ``, ``(A + B)ᵀ = Aᵀ + Bᵀ``, ``(c A)ᵀ = c Aᵀ``: transposes on the atoms;
- ``I A = A``, ``ones(1, 1) A = A`` (the 1×1 identity), ``A + 0 = A``, ``−(−A) = A``,
  ``c (d A) = (c d) A``, numbers folded;
- like terms collected: ``Xᵀ + Xᵀ = 2 Xᵀ``, ``a T + b T = (a + b) T``; terms that cancel vanish;
- scalars out of linear functions: ``trace(c A) = c trace(A)``, ``sum(c A) = c sum(A)``,
  ``(c A) ∘ B = c (A ∘ B)``, ``(c A) / B = c (A / B)``, ``‖c A‖² = c² ‖A‖²`` and ``‖c A‖ = |c| ‖A‖``
  (real ``c``);
- arguments turned the way with fewer transposes: ``trace(Aᵀ) = trace(A)`` (and ``det``, ``logdet``,
  ``sum``, the norms), ``f(Aᵀ) = f(A)ᵀ`` for ``inv``, ``sqrtm``, matrix and elementwise powers, the
  elementwise functions, ``∘`` and ``/``, and ``sylvester(A, B, C)ᵀ = sylvester(Bᵀ, Aᵀ, Cᵀ)``.

A product of sums is never expanded: a sum inside a product stays one factor, its common scalar and
sign moved to the front (``A (−2B − 2C) = −2 A (B + C)``), so the work grows with the size of the
expression, never exponentially. Written back through the smart constructors of
:mod:`~kronbox.amd.expressions.expr`, every product term takes the shorter of its two spellings, ``Aᵀ Xᵀ Bᵀ`` or
``(B X A)ᵀ`` (a tie goes to fewer transposes), and a scalar common to all terms of a sum is written
once, ``a X + a Y = a (X + Y)``. The result is never longer (in :func:`to_text`) than the input.
"""

from __future__ import annotations

from collections.abc import Iterable

from kronbox.amd.expressions.budget import SymbolicBudgetError
from kronbox.amd.expressions.expr import (
    SYMBOL_KINDS,
    Expr,
    add,
    eye,
    is_literal,
    is_zero,
    literal,
    literal_value,
    matmul,
    mul,
    rebuild,
    scalar_factor,
    transpose,
    zeros,
    zeros_like,
)
from kronbox.amd.expressions.linear_map import LinearMap, column_matrix
from kronbox.amd.printing.fold import ATOM, PRODUCT, SUM, Fold, wrap
from kronbox.amd.printing.terms import (
    Lin,
    Term,
    chain,
    flip,
    gather,
    is_unit,
    merge_powers,
    number,
    shape_source,
    spell,
)
from kronbox.amd.printing.text import amd_text

# f(Aᵀ) = f(A) for these, f(Aᵀ) = f(A)ᵀ for those.
_INVARIANT = frozenset({"trace", "det", "logdet", "sum", "norm", "normsq"})
_EQUIVARIANT = frozenset({"inv", "sqrtm", "mpow", "ew", "power", "mul", "div", "sylvester"})
# How a scalar factor c of an argument comes out: linearly (c f(A)), squared, or as |c|.
_PULLED = {"trace": "linear", "sum": "linear", "mul": "linear", "div": "linear", "normsq": "square", "norm": "abs"}
_ATOMIC_LEAVES = SYMBOL_KINDS | {"eye", "ones"}


class Simplifier:
    """One simplification session: every node read once, spellings compared by their printed length."""

    def __init__(self):
        self.lin: Fold[Lin] = Fold(self._read)
        self.text: Fold[tuple[str, int]] = Fold(amd_text)
        self.like: Fold[Expr] = Fold(shape_source)
        self._exprs: dict[int, tuple[Expr, Expr]] = {}
        self._turned: dict[int, tuple[Expr, Expr]] = {}

    # -- the canonical expression of a node ----------------------------------------------------------
    def expr(self, e: Expr) -> Expr:
        """``e`` rewritten (memoized); the result is its own rewriting."""
        found = self._exprs.get(id(e))
        if found is not None:
            return found[1]
        lin = self.lin(e)
        out = self._emit(lin)
        self._exprs[id(e)] = (e, out)
        self._register(out, lin)
        return out

    def _register(self, e: Expr, lin: Lin) -> None:
        self._exprs.setdefault(id(e), (e, e))
        self.lin.remember(e, lin)

    def length(self, e: Expr) -> int:
        return len(self.text(e)[0])

    def shorter(self, e: Expr, at_least: int = SUM) -> Expr:
        """The rewritten ``e``, or ``e`` itself where that prints shorter (parenthesized below ``at_least``)."""
        out = self.expr(e)
        try:
            raw = len(wrap(self.text(e), at_least))
        except SymbolicBudgetError:  # the expression as built is too long to print: the rewriting is shorter
            return out
        return out if len(wrap(self.text(out), at_least)) <= raw else e

    def _key(self, e: Expr) -> str:
        return self.text(e)[0]

    # -- reading a node from its arguments' terms ----------------------------------------------------
    def _read(self, n: Expr, kids: list[Lin]) -> Lin:
        k = n.kind
        if k == "literal":
            c = literal_value(n)
            return Lin((Term(c, (), ()),), None) if c != 0 else Lin((), None)
        if k == "zeros":
            return Lin((), n)
        if k in _ATOMIC_LEAVES:
            return self._atom(n)
        if k == "add":
            a, b = kids
            return self._collect(a.terms + b.terms, a.zero if a.zero is not None else b.zero)
        if k == "neg":
            return Lin(tuple(t._replace(coef=-t.coef) for t in kids[0].terms), kids[0].zero)
        if k == "matmul":
            return self._matmul(n, *kids)
        if k == "transpose":
            return self._transpose(kids[0])
        if k == "mul" and () in (n.args[0].shape, n.args[1].shape):
            i = 0 if n.args[0].shape == () else 1
            return self._scaling(kids[i], kids[1 - i])
        return self._function(n, kids)

    def _atom(self, e: Expr) -> Lin:
        return Lin((Term(1.0, (e,), ()) if e.shape == () else Term(1.0, (), (e,)),), None)

    def _times(self, s: Term, t: Term) -> Term:
        factors = s.factors + t.factors
        kept = merge_powers(tuple(f for f in factors if not is_unit(f))) or factors[:1]
        return Term(number(s.coef * t.coef), tuple(sorted(s.scalars + t.scalars, key=self._key)), kept)

    def _collect(self, terms: Iterable[Term], zero: Expr | None) -> Lin:
        """Like terms added; a term whose coefficient cancels leaves its zero behind."""
        groups: dict[tuple, Term] = {}
        for t in terms:
            key = (tuple(map(id, t.scalars)), tuple(map(id, t.factors)))
            old = groups.get(key)
            groups[key] = t if old is None else old._replace(coef=number(old.coef + t.coef))
        kept = []
        for t in groups.values():
            if t.coef != 0:
                kept.append(t)
            elif t.factors and zero is None:
                zero = self._zero_of(t.factors)
        return Lin(tuple(kept), zero)

    def _zero_of(self, factors: tuple[Expr, ...]) -> Expr:
        product = chain(factors)
        return zeros(product.shape) if product.shape is not None else zeros_like(product)

    def _matrix_zero(self, L: Lin) -> Expr | None:
        """A zero of the shape of ``L`` (``None`` when ``L`` is a scalar)."""
        if L.zero is not None:
            return L.zero
        return next((self._zero_of(t.factors) for t in L.terms if t.factors), None)

    def _scaling(self, S: Lin, M: Lin) -> Lin:
        """``s · M`` for a scalar ``s``: distributed, unless both are sums (then ``s`` stays whole)."""
        if not S.terms:
            return Lin((), self._matrix_zero(M))
        if len(S.terms) > 1 and len(M.terms) > 1:
            S = Lin((self._as_term(S, scalar=True),), None)
        return self._collect((self._times(s, m) for s in S.terms for m in M.terms), M.zero)

    def _matmul(self, n: Expr, A: Lin, B: Lin) -> Lin:
        if not A.terms or not B.terms:
            return Lin((), zeros(n.shape) if n.shape is not None else matmul(self._emit(A), self._emit(B)))
        return Lin((self._times(self._as_term(A), self._as_term(B)),), None)

    def _transpose(self, L: Lin) -> Lin:
        terms = tuple(t._replace(factors=tuple(map(flip, reversed(t.factors)))) for t in L.terms)
        return Lin(terms, None if L.zero is None else transpose(L.zero))

    def _as_term(self, L: Lin, scalar: bool = False) -> Term:
        """``L`` as one term: itself, or its common scalar and sign times the rest kept whole as an atom."""
        if len(L.terms) == 1 and (L.zero is None or L.terms[0].factors):
            return L.terms[0]
        g, common, rest = gather(L, signed=True)
        atom = self._emit_sum(rest)
        self._register(atom, rest)
        if scalar:
            return Term(g, tuple(sorted((*common, atom), key=self._key)), ())
        return Term(g, common, (atom,))

    # -- functions of their arguments ----------------------------------------------------------------
    def _function(self, n: Expr, kids: list[Lin]) -> Lin:
        k = n.kind
        args = [self.expr(a) for a in n.args]
        pulled = Term(1.0, (), ())
        how = _PULLED.get(k)
        positions = () if how is None else (0, 1) if k == "mul" else (0,)
        for i in positions:
            if n.args[i].shape == () or not kids[i].terms:
                continue
            g, common, rest = gather(kids[i], signed=True, scalars=how == "linear")
            if how != "linear" and not isinstance(g, float):
                continue
            args[i] = self._emit(rest)
            g = g if how == "linear" else g * g if how == "square" else abs(g)
            pulled = self._times(pulled, Term(g, common, ()))
        if k in ("ones_like", "zeros_like"):
            args[0] = self.like(args[0])
        if k == "mul":
            for i in (0, 1):
                if args[i].kind in ("ones", "ones_like") and self._same_shape(args[i], args[1 - i]):
                    return self._collect((self._times(pulled, t) for t in self.lin(args[1 - i]).terms), None)
        transposed = False
        if k in _INVARIANT or k in _EQUIVARIANT:
            args, turned = self._ordered(k, args), self._ordered(k, self._turned_args(k, args))
            if self._score(turned) < self._score(args):
                args, transposed = turned, k in _EQUIVARIANT
        r = rebuild(n, tuple(args))
        if transposed:
            r = transpose(r)
        if is_zero(r):
            return Lin((), r if r.shape != () else None)
        inner = self._atom(r) if r.kind == k and r.args == tuple(args) else self.lin(r)
        return self._collect((self._times(pulled, t) for t in inner.terms), inner.zero)

    def _same_shape(self, a: Expr, b: Expr) -> bool:
        return (a.shape is not None and a.shape == b.shape) or self.like(a) is self.like(b)

    def _ordered(self, k: str, args: list[Expr]) -> list[Expr]:
        """The arguments in their canonical order: ``A ∘ B = B ∘ A`` sorted by their text."""
        return sorted(args, key=self._key) if k == "mul" else args

    def _turned_args(self, k: str, args: list[Expr]) -> list[Expr]:
        if k == "sylvester":  # sylvester(A, B, C)ᵀ = sylvester(Bᵀ, Aᵀ, Cᵀ)
            a, b, c = args
            return [self._turn(b), self._turn(a), self._turn(c)]
        return [a if a.shape == () else self._turn(a) for a in args]

    def _turn(self, e: Expr) -> Expr:
        """The rewritten transpose of the rewritten ``e`` (memoized both ways)."""
        found = self._turned.get(id(e))
        if found is not None:
            return found[1]
        lin = self._transpose(self.lin(e))
        out = self._emit(lin)
        self._register(out, lin)
        self._turned[id(e)] = (e, out)
        self._turned.setdefault(id(out), (out, e))
        return out

    def _score(self, args: list[Expr]) -> tuple:
        """Transposes on the top-level factors of the arguments, then their text: the smaller is kept."""
        transposes = sum(f.kind == "transpose" for a in args for t in self.lin(a).terms for f in t.factors)
        return transposes, tuple(map(self._key, args))

    # -- writing terms back as expressions -----------------------------------------------------------
    def _emit(self, L: Lin) -> Expr:
        """``L`` as an expression, a scalar common to every term written once in front."""
        if not L.terms:
            return L.zero if L.zero is not None else literal(0.0)
        if len(L.terms) > 1:
            g, common, rest = gather(L, signed=False)
            if g != 1 or common:
                return spell(g, common, self._emit_sum(rest))
        return self._emit_sum(L)

    def _emit_sum(self, L: Lin) -> Expr:
        """The terms of ``L`` in order, those with the same factors joined (``(a + b)*T``)."""
        groups: dict[tuple, list[Term]] = {}
        for i, t in enumerate(L.terms):  # scalar terms (no factors) are not joined: they are the coefficients
            groups.setdefault(tuple(map(id, t.factors)) if t.factors else (i,), []).append(t)
        parts = []
        for ts in groups.values():
            if len(ts) > 1:
                coefficient = self._as_term(Lin(tuple(t._replace(factors=()) for t in ts), None), scalar=True)
                ts = [coefficient._replace(factors=ts[0].factors)]
            parts.append(self._spell_term(ts[0]))
        if L.zero is not None and not any(t.factors for t in L.terms):
            parts.append(L.zero)
        result = parts[0]
        for p in parts[1:]:
            result = add(result, p)
        return result

    def _spell_term(self, t: Term) -> Expr:
        """A term the shorter way: its factors as they are, or ``(Fₖᵀ ⋯ F₁ᵀ)ᵀ`` (a tie: fewer transposes)."""
        if len(t.factors) < 2:
            return spell(t.coef, t.scalars, t.factors[0] if t.factors else None)
        straight = spell(t.coef, t.scalars, chain(t.factors))
        turned = spell(t.coef, t.scalars, transpose(chain(tuple(map(flip, reversed(t.factors))))))
        return min((straight, turned), key=lambda e: (self.length(e), self.text(e)[0].count("'")))


def simplify(e: Expr) -> Expr:
    """An expression equal to ``e`` for all values of its symbols, written as short as the rules of
    this module allow (see the module docstring); ``e`` itself if nothing shorter is found."""
    return Simplifier().shorter(e)


# How tightly a map binds each kind of factor when printed (a looser factor gets parentheses).
_MAP_CONTEXT = {"kron": PRODUCT, "box": PRODUCT, "kronsum_inv": PRODUCT, "scaled": ATOM}


def simplify_map(L: LinearMap) -> LinearMap:
    """The linear map ``L`` with every factor (and coefficient) simplified; its structure is kept,
    except that terms mapping column vectors to column vectors by a matrix are merged into one matrix
    (``(A ⊗ 1) + (A' ⊗ 1) = (A + A') ⊗ 1``, see :func:`~kronbox.amd.expressions.linear_map.column_matrix`)."""
    return _rewrite_map(Simplifier(), L)


def _rewrite_map(session: Simplifier, M: LinearMap) -> LinearMap:
    rewritten = _rewrite_parts(session, M)
    if rewritten.kind in ("kron", "identity"):
        return rewritten
    matrix = column_matrix(rewritten)
    if matrix is None:
        return rewritten
    return LinearMap("kron", (session.shorter(matrix, PRODUCT), eye(1)), M.in_shape, M.out_shape)


def _rewrite_parts(session: Simplifier, M: LinearMap) -> LinearMap:
    at_least = _MAP_CONTEXT.get(M.kind, SUM)
    args = tuple(_rewrite_map(session, a) if isinstance(a, LinearMap) else session.shorter(a, at_least) for a in M.args)
    if M.kind not in ("kron", "box", "outer"):
        return LinearMap(M.kind, args, M.in_shape, M.out_shape)
    exprs = [a for a in args if isinstance(a, Expr)]  # the factors of ⊗, ⊠ and outer: expressions
    pulled = [scalar_factor(a) for a in exprs]  # (c A) ⊗ B = c (A ⊗ B): scalars out of the factors
    # a 1×1 ones(1, 1) factor is the 1×1 identity: written I
    factors = tuple(eye(1) if is_unit(rest) and rest.shape == (1, 1) else rest for _, rest in pulled)
    if M.kind == "kron" and all(map(is_unit, factors)):  # I ⊗ I = I (a 1×1 one is an identity too)
        inner = LinearMap("identity", (), M.in_shape, M.out_shape)
    else:
        inner = LinearMap(M.kind, factors, M.in_shape, M.out_shape)
    coefficient = literal(1.0)
    for c, _ in pulled:
        coefficient = coefficient if c is None else mul(coefficient, c)
    if is_literal(coefficient, 1.0):
        return inner
    return LinearMap("scaled", (session.shorter(coefficient, ATOM), inner), M.in_shape, M.out_shape)

"""Symbolic simplification for display: the same value for every value of the symbols, written short.

An expression is read as a *linear combination* of terms ``c · s₁ ⋯ sⱼ · F₁ F₂ ⋯ Fₖ``: a number ``c``,
scalar atoms ``sᵢ`` (they commute, and are kept sorted) and matrix factors ``Fᵢ`` in product order,
each an *atom* or the transpose of one. An atom is a node that is neither a sum, a negation, a
scaling, a matrix product nor a transpose (``inv(X)``, ``trace(·)``, ``exp(·)``, a symbol), or a sum
kept whole as a factor. Reading an expression so, bottom-up over its DAG (every node once, without
recursion), applies:

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
:mod:`~kronbox.amd.expr`, every product term takes the shorter of its two spellings, ``Aᵀ Xᵀ Bᵀ`` or
``(B X A)ᵀ`` (a tie goes to fewer transposes), and a scalar common to all terms of a sum is written
once, ``a X + a Y = a (X + Y)``. The result is never longer (in :func:`to_text`) than the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .expr import (
    SYMBOL_KINDS,
    Expr,
    add,
    is_eye,
    is_zero,
    literal,
    matmul,
    mul,
    neg,
    rebuild,
    transpose,
    zeros,
    zeros_like,
)
from .linear import LinearMap
from .printing.fold import ATOM, PRODUCT, SUM, Fold, wrap
from .printing.text import amd_text

Number = float | complex


class Term(NamedTuple):
    """``coef · scalars[0] ⋯ · factors[0] factors[1] ⋯`` (no factors: a scalar term)."""

    coef: Number
    scalars: tuple[Expr, ...]
    factors: tuple[Expr, ...]


class Lin(NamedTuple):
    """A sum of terms; ``zero`` is a zero of the full shape, kept for when no remaining term has it
    (``X − X``, or ``s + X − X`` with a scalar ``s`` broadcast)."""

    terms: tuple[Term, ...]
    zero: Expr | None


# f(Aᵀ) = f(A) for these, f(Aᵀ) = f(A)ᵀ for those.
_INVARIANT = frozenset({"trace", "det", "logdet", "sum", "norm", "normsq"})
_EQUIVARIANT = frozenset({"inv", "sqrtm", "mpow", "ew", "power", "mul", "div", "sylvester"})
# How a scalar factor c of an argument comes out: linearly (c f(A)), squared, or as |c|.
_PULLED = {"trace": "linear", "sum": "linear", "mul": "linear", "div": "linear", "normsq": "square", "norm": "abs"}
_ATOMIC_LEAVES = SYMBOL_KINDS | {"eye", "ones"}


def _number(c: Number) -> Number:
    return float(c.real) if isinstance(c, complex) and c.imag == 0 else c


def _is_unit(f: Expr) -> bool:
    """An identity factor of a product: ``I`` or the 1×1 ``ones(1, 1)``."""
    return is_eye(f) or (f.kind == "ones" and f.param == (1, 1))


def _without(scalars: Iterable[Expr], removed: Iterable[Expr]) -> tuple[Expr, ...]:
    """The multiset difference (by identity; each removed atom taken once)."""
    rest = list(scalars)
    for s in removed:
        rest.remove(s)
    return tuple(rest)


def _common(a: tuple[Expr, ...], b: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """The multiset intersection (by identity), in the order of ``a``."""
    rest, kept = list(b), []
    for s in a:
        if s in rest:
            rest.remove(s)
            kept.append(s)
    return tuple(kept)


def _shape_source(n: Expr, sources: list[Expr]) -> Expr:
    """The node whose shape ``n`` has for certain, when the shapes are not known yet: ``exp(X)``, ``−X``,
    ``X + Y``, ``X ∘ X`` and ``ones(size(X))`` have the shape of ``X`` (``X ∘ Y`` only if ``Y`` has it too:
    a 1×1 factor would broadcast)."""
    k = n.kind
    if k in ("ew", "power", "neg", "ones_like", "zeros_like"):
        return sources[0]
    if k in ("add", "mul", "div"):
        sides = [source for a, source in zip(n.args, sources, strict=True) if a.shape != ()]
        if sides and (k == "add" or all(source is sides[0] for source in sides)):
            return sides[0]
    return n


class Simplifier:
    """One simplification session: every node read once, spellings compared by their printed length."""

    def __init__(self):
        self.lin: Fold[Lin] = Fold(self._read)
        self.text: Fold[tuple[str, int]] = Fold(amd_text)
        self.like: Fold[Expr] = Fold(_shape_source)
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
        return out if len(wrap(self.text(out), at_least)) <= len(wrap(self.text(e), at_least)) else e

    def _key(self, e: Expr) -> str:
        return self.text(e)[0]

    # -- reading a node from its arguments' terms ----------------------------------------------------
    def _read(self, n: Expr, kids: list[Lin]) -> Lin:
        k = n.kind
        if k == "literal":
            return Lin((Term(n.param, (), ()),), None) if n.param != 0 else Lin((), None)
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
        kept = tuple(f for f in factors if not _is_unit(f)) or factors[:1]
        return Term(_number(s.coef * t.coef), tuple(sorted(s.scalars + t.scalars, key=self._key)), kept)

    def _collect(self, terms: Iterable[Term], zero: Expr | None) -> Lin:
        """Like terms added; a term whose coefficient cancels leaves its zero behind."""
        groups: dict[tuple, Term] = {}
        for t in terms:
            key = (tuple(map(id, t.scalars)), tuple(map(id, t.factors)))
            old = groups.get(key)
            groups[key] = t if old is None else old._replace(coef=_number(old.coef + t.coef))
        kept = []
        for t in groups.values():
            if t.coef != 0:
                kept.append(t)
            elif t.factors and zero is None:
                zero = self._zero_of(t.factors)
        return Lin(tuple(kept), zero)

    def _zero_of(self, factors: tuple[Expr, ...]) -> Expr:
        product = self._chain(factors)
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
        terms = tuple(t._replace(factors=tuple(map(self._flip, reversed(t.factors)))) for t in L.terms)
        return Lin(terms, None if L.zero is None else transpose(L.zero))

    @staticmethod
    def _flip(f: Expr) -> Expr:
        """The transpose of a factor: an atom's transpose, or the atom of a transposed one."""
        return f.args[0] if f.kind == "transpose" else transpose(f)

    def _as_term(self, L: Lin, scalar: bool = False) -> Term:
        """``L`` as one term: itself, or its common scalar and sign times the rest kept whole as an atom."""
        if len(L.terms) == 1 and (L.zero is None or L.terms[0].factors):
            return L.terms[0]
        g, common, rest = self._gather(L, signed=True)
        atom = self._emit_sum(rest)
        self._register(atom, rest)
        if scalar:
            return Term(g, tuple(sorted((*common, atom), key=self._key)), ())
        return Term(g, common, (atom,))

    def _gather(self, L: Lin, signed: bool, scalars: bool = True) -> tuple[Number, tuple[Expr, ...], Lin]:
        """``L = g · common · rest``: the scalar atoms of every term and a number ``g`` (the coefficient
        of all terms, or their common magnitude), negative when ``signed`` and most terms are."""
        terms = L.terms
        common = terms[0].scalars if scalars else ()
        for t in terms[1:]:
            common = _common(common, t.scalars)
        coefs = [t.coef for t in terms]
        real = all(isinstance(c, float) for c in coefs)
        g: Number = coefs[0] if all(c == coefs[0] for c in coefs) else \
            abs(coefs[0]) if real and len({abs(c) for c in coefs}) == 1 else 1.0
        if real:
            negatives = sum(c < 0 for c in coefs)
            flip = signed and (2 * negatives > len(coefs) or (2 * negatives == len(coefs) and coefs[0] < 0))
            g = -abs(g) if flip else abs(g)
        rest = tuple(Term(_number(t.coef / g), _without(t.scalars, common), t.factors) for t in terms)
        return g, common, Lin(rest, L.zero)

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
            g, common, rest = self._gather(kids[i], signed=True, scalars=how == "linear")
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
        flip = False
        if k in _INVARIANT or k in _EQUIVARIANT:
            turned = self._turned_args(k, args)
            if self._score(turned) < self._score(args):
                args, flip = turned, k in _EQUIVARIANT
        if k == "mul":
            args.sort(key=self._key)  # A ∘ B = B ∘ A
        r = rebuild(n, tuple(args))
        if flip:
            r = transpose(r)
        if is_zero(r):
            return Lin((), r if r.shape != () else None)
        inner = self._atom(r) if r.kind == k and r.args == tuple(args) else self.lin(r)
        return self._collect((self._times(pulled, t) for t in inner.terms), inner.zero)

    def _same_shape(self, a: Expr, b: Expr) -> bool:
        return (a.shape is not None and a.shape == b.shape) or self.like(a) is self.like(b)

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
            g, common, rest = self._gather(L, signed=False)
            if g != 1 or common:
                return self._spell(g, common, self._emit_sum(rest))
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
            return self._spell(t.coef, t.scalars, t.factors[0] if t.factors else None)
        straight = self._spell(t.coef, t.scalars, self._chain(t.factors))
        turned = self._spell(t.coef, t.scalars, transpose(self._chain(tuple(map(self._flip, reversed(t.factors))))))
        return min((straight, turned), key=lambda e: (self.length(e), self.text(e)[0].count("'")))

    @staticmethod
    def _chain(factors: tuple[Expr, ...]) -> Expr:
        product = factors[0]
        for f in factors[1:]:
            product = matmul(product, f)
        return product

    @staticmethod
    def _spell(coef: Number, scalars: tuple[Expr, ...], body: Expr | None) -> Expr:
        """``coef · s₁ ⋯ sⱼ · body`` as a left-nested product with the sign in front (``-2*a*X``)."""
        negative = isinstance(coef, float) and coef < 0
        magnitude = -coef if negative else coef
        parts = ([literal(magnitude)] if magnitude != 1 else []) + list(scalars) + ([body] if body is not None else [])
        result = parts[0] if parts else literal(1.0)
        for p in parts[1:]:
            result = mul(result, p)
        return neg(result) if negative else result


def simplify(e: Expr) -> Expr:
    """An expression equal to ``e`` for all values of its symbols, written as short as the rules of
    this module allow (see the module docstring); ``e`` itself if nothing shorter is found."""
    return Simplifier().shorter(e)


# How tightly a map binds each kind of factor when printed (a looser factor gets parentheses).
_MAP_CONTEXT = {"kron": PRODUCT, "box": PRODUCT, "kronsum_inv": PRODUCT, "scaled": ATOM}


def simplify_map(L: LinearMap) -> LinearMap:
    """The linear map ``L`` with every factor (and coefficient) simplified; its structure is kept."""
    return _rewrite_map(Simplifier(), L)


def _rewrite_map(session: Simplifier, M: LinearMap) -> LinearMap:
    at_least = _MAP_CONTEXT.get(M.kind, SUM)
    args = tuple(_rewrite_map(session, a) if isinstance(a, LinearMap) else session.shorter(a, at_least) for a in M.args)
    return LinearMap(M.kind, args, M.in_shape, M.out_shape)

"""Symbolic simplification for display: the same value for every value of the symbols, written as short as by hand.

An expression is read as a *linear combination* (:mod:`~kronbox.amd.printing.terms`) of terms ``c · s₁ ⋯ sⱼ ·
F₁ F₂ ⋯ Fₖ``: a number ``c``, scalar atoms ``sᵢ`` (they commute, are kept sorted, and equal ones are joined
into integer powers, ``det(X)·det(X) = det(X)²``, ``a/a = 1``) and matrix factors ``Fᵢ`` in product order,
each an *atom* or the transpose of one. An atom is a node that is neither a sum, a negation, a scaling, a
matrix product nor a transpose (``inv(X)``, ``trace(·)``, ``exp(·)``, a symbol), or a sum kept whole as a
factor. Reading an expression so, bottom-up over its DAG (every node once, without recursion), applies:

- ``(Aᵀ)ᵀ = A``, ``(A B)ᵀ = Bᵀ Aᵀ``, ``(A + B)ᵀ = Aᵀ + Bᵀ``, ``(c A)ᵀ = c Aᵀ``: transposes on the atoms; a
  1×1 factor, a sum equal to its transpose (``XᵀX − I``) and an atom known symmetric are their own transpose;
- ``I A = A``, ``ones(1, 1) A = A`` (the 1×1 identity), ``A + 0 = A``, ``−(−A) = A``,
  ``c (d A) = (c d) A``, numbers folded;
- powers of one base joined in a product, inverses included: ``X X = X²``, ``X⁻² X = X⁻¹``, ``M⁻¹ M = I``
  and ``Mᵀ M⁻ᵀ = I`` (``M⁻¹`` exists only for a square ``M``), and ``(c F₁ ⋯ Fₖ)⁻¹ = c⁻¹ Fₖ⁻¹ ⋯ F₁⁻¹``
  *only when every* ``Fᵢ`` *is known to be square* (so ``B (A X B)⁻¹ A = X⁻¹`` for square ``A``, ``B``, and
  ``M (Mᵀ X M)⁻¹ Mᵀ`` stays as it is for a tall ``M``); a sum left alone in a product is a sum again;
- like terms collected: ``Xᵀ + Xᵀ = 2 Xᵀ``, ``a T + b T = (a + b) T``; terms that cancel vanish, so a
  derivative that is zero prints as a zero;
- scalars out of linear functions: ``trace(c A) = c trace(A)``, ``sum(c A) = c sum(A)``, ``X / s = s⁻¹ X``,
  ``‖c A‖² = c² ‖A‖²`` and ``‖c A‖ = |c| ‖A‖`` (real ``c``);
- elementwise products and quotients as one fraction (:mod:`~kronbox.amd.printing.quotients`): ``A ∘ A = A^∘2``,
  ``1./D ∘ N = N./D``, ``N ∘ exp(v) ./ (exp(v) + 1) = N ./ (1 + exp(−v))``; a 1×1 one is a product (``x/(xᵀx)``);
- arguments turned the way with fewer transposes: ``trace(Aᵀ) = trace(A)`` (and ``det``, ``logdet``,
  ``sum``, the norms), ``f(Aᵀ) = f(A)ᵀ`` for ``inv``, ``sqrtm``, matrix and elementwise powers, the
  elementwise functions, ``∘`` and ``/``, and ``sylvester(A, B, C)ᵀ = sylvester(Bᵀ, Aᵀ, Cᵀ)``;
- identities of single functions: ``sum(I ∘ A) = trace(A)``, ``sylvester(A, A, I) = ½ A⁻¹``,
  ``det(Aᵏ) = det(A)ᵏ``, ``logdet(A⁻¹) = −logdet(A)``, ``logdet(Aᵏ) = k logdet(A)`` for odd ``k``; a kind of
  node this module does not know is an opaque function of its simplified arguments.

A product of sums is never expanded: a sum inside a product stays one factor, oriented the way with fewer
transposes (``(xᵀAᵀ + bᵀ)`` is ``(A x + b)ᵀ``) and its common scalar and sign moved to the front
(``A (−2B − 2C) = −2 A (B + C)``), so the work grows with the size of the expression, never exponentially.
Written back through the smart constructors of :mod:`~kronbox.amd.expressions.expr`, a sum's terms come in
a fixed order (their text's), a positive one first; the factor that saves the most tokens is taken out of the
terms it is common to, again and again (``Aᵀx + A x = (A + Aᵀ) x``, ``P A Q + P B Q = P (A + B) Q``,
``diag(u) + diag(v) = diag(u + v)``); every product term takes the shorter of its two spellings, ``Aᵀ Xᵀ Bᵀ``
or ``(B X A)ᵀ``, a run of inverses is one inverse (``B⁻¹ A⁻¹ = (A B)⁻¹``), and a sum whose terms are
transposed is the transpose of a sum where that is shorter. Lengths are tokens
(:mod:`~kronbox.amd.printing.tokens`), then characters; the result is never longer than the input.

This is a rewrite system tuned by hand rather than equality saturation: on the hand corpus's gradients that
both model, egglog's e-graphs (the same algebra as rewrite rules, the cheapest term extracted) took 50×
the time for longer results within any interactive budget (``python -m bench simplify``).
"""

from __future__ import annotations

from collections.abc import Iterable

from kronbox.amd.expressions.budget import SymbolicBudgetError
from kronbox.amd.expressions.expr import (
    SYMBOL_KINDS,
    Expr,
    add,
    det,
    eye,
    inv,
    is_eye,
    is_literal,
    is_zero,
    known_symmetric,
    literal,
    literal_value,
    logdet,
    matmul,
    mul,
    ones,
    ones_like,
    power,
    rebuild,
    scalar_factor,
    trace,
    transpose,
    zeros,
    zeros_like,
)
from kronbox.amd.expressions.linear_map import LinearMap, column_matrix
from kronbox.amd.printing.fold import ATOM, PRODUCT, SUM, Fold, wrap
from kronbox.amd.printing.quotients import logistic, monomial, written
from kronbox.amd.printing.terms import (
    Lin,
    Term,
    as_power,
    chain,
    flip,
    gather,
    inverse_factors,
    is_unit,
    joined_inverses,
    merge_powers,
    merge_scalars,
    number,
    power_factor,
    shape_source,
    spell,
)
from kronbox.amd.printing.text import amd_text
from kronbox.amd.printing.tokens import cost

# f(Aᵀ) = f(A) for these, f(Aᵀ) = f(A)ᵀ for those.
_INVARIANT = frozenset({"trace", "det", "logdet", "sum", "norm", "normsq"})
_EQUIVARIANT = frozenset({"inv", "sqrtm", "mpow", "ew", "power", "mul", "div", "sylvester"})
# How a scalar factor c of an argument comes out: linearly (c f(A)), squared, or as |c|.
_PULLED = {"trace": "linear", "sum": "linear", "normsq": "square", "norm": "abs"}
_ATOMIC_LEAVES = SYMBOL_KINDS | {"eye", "ones"}
Cost = tuple[int, int]


class Simplifier:
    """One simplification session: every node read once, spellings compared by their printed length
    (:func:`~kronbox.amd.printing.tokens.cost`)."""

    def __init__(self) -> None:
        self.lin: Fold[Lin] = Fold(self._read)
        self.text: Fold[tuple[str, int]] = Fold(amd_text)
        self.like: Fold[Expr] = Fold(shape_source)
        self._exprs: dict[int, tuple[Expr, Expr]] = {}
        self._turned: dict[int, tuple[Expr, Expr]] = {}
        self._symmetric: dict[int, Expr] = {}  # atoms equal to their transpose
        self._sums: dict[int, Expr] = {}  # atoms that stand for a sum (a factor of a product)
        self._costs: dict[tuple[int, int], tuple[Expr, Cost]] = {}  # a node's cost, counted once

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

    def cost(self, e: Expr, at_least: int = SUM) -> Cost:
        """Tokens, then characters, of ``e`` printed (parenthesized below ``at_least``), counted once per node."""
        found = self._costs.get((id(e), at_least))
        if found is None:
            found = self._costs[id(e), at_least] = (e, cost(wrap(self.text(e), at_least)))
        return found[1]

    def shorter(self, e: Expr, at_least: int = SUM) -> Expr:
        """The rewritten ``e``, or ``e`` itself where that prints shorter (parenthesized below ``at_least``)."""
        out = self.expr(e)
        try:
            raw = self.cost(e, at_least)
        except SymbolicBudgetError:  # the expression as built is too long to print: the rewriting is shorter
            return out
        return out if self.cost(out, at_least) <= raw else e

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
        if k in ("mul", "div") and n.args[1].shape == ():  # X / s = s⁻¹ X
            scale = kids[1] if k == "mul" else self._reciprocal(kids[1])
            return self._scaling(scale, kids[0])
        if k == "mul" and n.args[0].shape == ():
            return self._scaling(kids[0], kids[1])
        if k in ("mul", "div"):
            return self._quotient(n, kids)
        return self._function(n, kids)

    def _atom(self, e: Expr) -> Lin:
        if e.shape is not None and e.shape != () and known_symmetric(e, depth=1):  # Sᵀ = S, diag(d)ᵀ = diag(d)
            self._symmetric[id(e)] = e
        return Lin((Term(1.0, (e,), ()) if e.shape == () else Term(1.0, (), (e,)),), None)

    def _times(self, s: Term, t: Term) -> Term:
        factors = s.factors + t.factors
        kept = merge_powers(tuple(f for f in factors if not is_unit(f))) or factors[:1]
        scalars = tuple(sorted(merge_scalars(s.scalars + t.scalars), key=self._key))
        return Term(number(s.coef * t.coef), scalars, kept)

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

    def _reciprocal(self, S: Lin) -> Lin:
        """``1 / s`` for a scalar ``s``: a term's reciprocal term by term, a sum's as its power −1."""
        if len(S.terms) == 1 and not S.terms[0].factors and S.zero is None:
            t = S.terms[0]
            return Lin((Term(number(1 / t.coef), tuple(power(s, -1) for s in t.scalars), ()),), None)
        return Lin((Term(1.0, (power(self._emit(S), -1),), ()),), None)

    def _matmul(self, n: Expr, A: Lin, B: Lin) -> Lin:
        if not A.terms or not B.terms:
            return Lin((), zeros(n.shape) if n.shape is not None else matmul(self._emit(A), self._emit(B)))
        for X, Y in ((A, B), (B, A)):  # a 1×1 one (or an identity) times a sum: the sum, scaled
            if len(X.terms) == 1 and X.zero is None and X.terms[0].factors and all(map(is_unit, X.terms[0].factors)):
                unit = X.terms[0]._replace(factors=())
                return self._collect((self._times(unit, t) for t in Y.terms), Y.zero)
        t = self._times(self._as_term(A), self._as_term(B))
        if len(t.factors) == 1 and self._is_sum(t.factors[0]):  # the rest cancelled: the sum is a sum again
            inner = self.lin(t.factors[0])
            return self._collect((self._times(t._replace(factors=()), u) for u in inner.terms), inner.zero)
        return Lin((t,), None)

    def _is_sum(self, f: Expr) -> bool:
        return id(f) in self._sums or (f.kind == "transpose" and id(f.args[0]) in self._sums)

    def _flip(self, f: Expr) -> Expr:
        """The transpose of a factor: itself if it is 1×1 or symmetric."""
        if f.shape == (1, 1):
            return f.args[0] if f.kind == "transpose" else f
        return f if id(f) in self._symmetric else flip(f)

    def _transpose(self, L: Lin) -> Lin:
        terms = tuple(t._replace(factors=tuple(map(self._flip, reversed(t.factors)))) for t in L.terms)
        return Lin(terms, None if L.zero is None else transpose(L.zero))

    def _as_term(self, L: Lin, scalar: bool = False) -> Term:
        """``L`` as one term: itself, or its common scalar and sign times the rest kept whole as an atom."""
        if len(L.terms) == 1 and (L.zero is None or L.terms[0].factors):
            return L.terms[0]
        g, common, rest = gather(L, signed=True)
        if scalar:
            atom = self._emit_sum(rest)
            self._register(atom, rest)
            return Term(g, tuple(sorted((*common, atom), key=self._key)), ())
        return Term(g, common, (self._sum_atom(rest),))

    def _sum_atom(self, L: Lin) -> Expr:
        """The factor standing for the sum ``L``: an atom of the orientation with fewer transposes
        (``(x'*A' + b')`` is ``(A*x + b)'``); a symmetric one marked so."""
        turned = self._transpose(L)
        if _same_terms(L, turned):
            atom = self._emit_sum(L)
            self._symmetric[id(atom)] = atom
        else:
            straight, other = self._emit_sum(L), self._emit_sum(turned)
            if self._orientation(other) < self._orientation(straight):
                self._sums[id(other)] = other
                self._register(other, turned)
                return self._flip(other)
            atom = straight
        self._sums[id(atom)] = atom
        self._register(atom, L)
        return atom

    def _orientation(self, e: Expr) -> tuple[int, str]:
        text = self._key(e)
        return text.count("'"), text

    def _sorted(self, terms: list[Term]) -> list[Term]:
        """Terms in the order of their text (so a sum is written one way, however it was reached)."""
        keyed = [(self._key(spell(1.0, t.scalars, chain(t.factors) if t.factors else None)), t) for t in terms]
        return [t for _, t in sorted(keyed, key=lambda kt: kt[0])]

    # -- functions of their arguments ----------------------------------------------------------------
    def _function(self, n: Expr, kids: list[Lin]) -> Lin:
        k = n.kind
        if k == "inv":
            inverse = self._inverse(kids[0])
            if inverse is not None:
                return inverse
        args = [self.expr(a) for a in n.args]
        pulled = Term(1.0, (), ())
        how = _PULLED.get(k)
        if how is not None and n.args[0].shape != () and kids[0].terms:
            g, common, rest = gather(kids[0], signed=True, scalars=how == "linear")
            if how == "linear" or isinstance(g, float):
                args[0] = self._emit(rest)
                g = g if how == "linear" else g * g if how == "square" else abs(g)
                pulled = Term(g, common, ())
        if k in ("ones_like", "zeros_like"):
            args[0] = self.like(args[0])
        transposed = symmetric = False
        if k in _INVARIANT or k in _EQUIVARIANT:
            turned = self._turned_args(k, args)
            symmetric = k in _EQUIVARIANT and all(a is b for a, b in zip(args, turned, strict=True))
            if self._score(turned) < self._score(args):
                args, transposed = turned, k in _EQUIVARIANT
        try:
            r = rebuild(n, tuple(args))
        except KeyError:  # a kind without a rebuilder here: kept as it is, an opaque function
            r = n
        if transposed:
            r = transpose(r)
        if is_zero(r):
            return Lin((), r if r.shape != () else None)
        identity = self._identity(r)
        if identity is not None:
            inner = self.lin(identity)
        elif r.kind == k and r.args == tuple(args):
            inner = self._atom(r)
            if symmetric and r.shape is not None and r.shape != ():
                self._symmetric[id(r)] = r
        else:
            inner = self.lin(r)
        return self._collect((self._times(pulled, t) for t in inner.terms), inner.zero)

    def _inverse(self, L: Lin) -> Lin | None:
        """``(c F₁ ⋯ Fₖ)⁻¹ = c⁻¹ Fₖ⁻¹ ⋯ F₁⁻¹`` when the factors are known to be square."""
        if len(L.terms) != 1 or L.zero is not None or not L.terms[0].factors or L.terms[0].scalars:
            return None
        t = L.terms[0]
        factors = inverse_factors(t.factors)
        if factors is None:
            return None
        return Lin((Term(number(1 / t.coef), (), merge_powers(factors)),), None)

    def _identity(self, r: Expr) -> Expr | None:
        """An equal expression where a rule of this kind holds, else ``None``: ``sum(I ∘ A) = trace(A)``,
        ``sylvester(A, A, I) = ½ A⁻¹``, ``det(Aᵏ) = det(A)ᵏ``, ``logdet(A⁻¹) = −logdet(A)`` and
        ``logdet(Aᵏ) = k logdet(A)`` for odd ``k`` (an even power's determinant is positive, ``A``'s may not be)."""
        k, a = r.kind, r.args
        if k == "sum" and a[0].kind == "mul" and any(map(is_eye, a[0].args)):
            return trace(a[0].args[1] if is_eye(a[0].args[0]) else a[0].args[0])
        if k == "sylvester" and a[0] is a[1] and is_eye(a[2]):
            return mul(literal(0.5), inv(a[0]))
        if k in ("det", "logdet") and a[0].shape is not None:
            base, p, _ = as_power(a[0])
            if p == 1 or (k == "logdet" and p % 2 == 0):
                return None
            return power(det(base), p) if k == "det" else mul(literal(float(p)), logdet(base))
        return None

    def _quotient(self, n: Expr, kids: list[Lin]) -> Lin:
        """An elementwise product or quotient of matrices: scalars pulled out, the rest one fraction
        (:mod:`~kronbox.amd.printing.quotients`); a 1×1 one a matrix product (``x'*y/(x'*x)``)."""
        pulled = Term(1.0, (), ())
        sides = []
        for i, L in enumerate(kids):
            below = n.kind == "div" and i == 1
            if not L.terms:
                if below:
                    return self._atom(rebuild(n, tuple(self.expr(a) for a in n.args)))
                zero = self._matrix_zero(L)
                return Lin((), zero if zero is not None else zeros_like(self.expr(n))) if n.shape != (1, 1) else L
            g, common, rest = gather(L, signed=True)
            if below:
                g, common = number(1 / g), tuple(power(s, -1) for s in common)
            pulled = self._times(pulled, Term(g, common, ()))
            side = self._emit(rest)
            if not (side.kind in ("ones", "ones_like") and self._same_shape(side, n)):  # 1 ∘ A = A
                sides.append((side, -1 if below else 1))
        m = monomial(sides)
        if not m:  # every factor was all-ones
            inner = self.lin(ones(n.shape) if n.shape is not None else ones_like(self.expr(n.args[0])))
            return self._collect((self._times(pulled, t) for t in inner.terms), inner.zero)
        if n.shape == (1, 1) and all(b.shape == (1, 1) for b, _ in m):  # 1×1: a product of matrices
            factors = tuple(power_factor(b, k, False) for b, k in m) or (eye(1),)
            return Lin((self._times(pulled, Term(1.0, (), factors)),), None)
        best = written(self._without_ones(m))
        other = logistic(m, self.expr)
        if other is not None:
            candidate = written(self._without_ones(other))
            best = candidate if self.cost(candidate) < self.cost(best) else best
        inner = self.lin(best) if best.kind not in ("mul", "div") else self._atom(best)
        return self._collect((self._times(pulled, t) for t in inner.terms), inner.zero)

    def _without_ones(self, m: list[tuple[Expr, int]]) -> list[tuple[Expr, int]]:
        """``m`` without its all-ones bases of the shape of another base (``1 ∘ A = A``)."""
        def neutral(b: Expr) -> bool:
            return b.kind in ("ones", "ones_like") and any(o is not b and self._same_shape(b, o) for o, _ in m)
        return [(b, k) for b, k in m if not neutral(b)] or m

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
    def _emit(self, L: Lin, turn: bool = True) -> Expr:
        """``L`` as an expression, a scalar common to every term written once in front."""
        if not L.terms:
            return L.zero if L.zero is not None else literal(0.0)
        if len(L.terms) > 1:
            g, common, rest = gather(L, signed=False)
            if g != 1 or common:
                return spell(g, common, self._emit_sum(rest, turn))
        return self._emit_sum(L, turn)

    def _emit_sum(self, L: Lin, turn: bool = True) -> Expr:
        """The terms of ``L`` with common factors taken out, a positive one first; a matrix sum whose
        terms are transposed written as the transpose of a sum where that is shorter."""
        L = self._diagonals_joined(L)
        straight = self._factored(list(L.terms), L.zero)
        if not turn or len(L.terms) < 2 or not any(f.kind == "transpose" for t in L.terms for f in t.factors):
            return straight
        flipped = self._transpose(L)
        turned = transpose(self._factored(list(flipped.terms), flipped.zero))
        return turned if self.cost(turned) < self.cost(straight) else straight

    def _diagonals_joined(self, L: Lin) -> Lin:
        """``c diag(u) + d diag(v) = diag(c u + d v)``: the diagonal matrices among the terms of a sum as one."""
        diagonal = [t for t in L.terms if len(t.factors) == 1 and t.factors[0].kind == "diagm"]
        if len(diagonal) < 2:
            return L
        inner = self._collect((self._times(t._replace(factors=()), u)
                               for t in diagonal for u in self.lin(t.factors[0].args[0]).terms), None)
        joined = self.lin(rebuild(diagonal[0].factors[0], (self._emit(inner),)))
        return Lin((*(t for t in L.terms if all(t is not d for d in diagonal)), *joined.terms), L.zero)

    def _factored(self, terms: list[Term], zero: Expr | None) -> Expr:
        """A sum of terms, the factor that saves the most tokens taken out of the terms it is common
        to (``A'*x + A*x = (A' + A)*x``, ``a*X + a*Y + Z = a*(X + Y) + Z``), then again."""
        parts: list[Expr] = []
        rest = self._sorted(terms)
        while rest:
            found = self._common_factor(rest)
            if found is None:
                parts.extend(self._spell_term(t) for t in rest)
                break
            side, factor, group = found
            inner = [_without_factor(t, side, factor, self._unit_for(factor, side)) for t in group]
            left, right = ((factor,), ()) if side == "left" else ((), (factor,)) if side == "right" else ((), ())
            if side != "all":
                inner, (left, right) = _peeled(inner, left, right)
            t = self._as_term(Lin(tuple(inner), None), scalar=side == "all")
            if side == "all":
                t = t._replace(factors=group[0].factors)
            elif side == "scalar":
                t = t._replace(scalars=tuple(sorted((*t.scalars, factor), key=self._key)), factors=(*left, *t.factors))
            else:
                t = t._replace(factors=(*left, *t.factors, *right))
            parts.append(self._spell_term(t))
            rest = [t for t in rest if all(t is not g for g in group)]
        if zero is not None and not any(t.factors for t in terms):
            parts.append(zero)
        first = next((i for i, p in enumerate(parts) if not self._key(p).startswith("-")), 0)
        parts.insert(0, parts.pop(first))
        result = parts[0]
        for p in parts[1:]:
            result = add(result, p)
        return result

    def _unit_for(self, factor: Expr, side: str) -> Expr | None:
        """The identity left behind where ``factor`` was a term's only factor (its size must be known)."""
        if side in ("scalar", "all") or factor.shape is None:
            return None
        return eye(factor.shape[1] if side == "left" else factor.shape[0])

    def _common_factor(self, terms: list[Term]) -> tuple[str, Expr, list[Term]] | None:
        """The side (``left``, ``right``, ``scalar``), factor and terms of the best factoring, if any saves tokens."""
        groups: dict[tuple[str, int], tuple[Expr, list[Term]]] = {}
        for t in terms:
            handles = [("scalar", s) for s in dict.fromkeys(t.scalars)]
            if t.factors:
                handles += [("left", t.factors[0]), ("right", t.factors[-1]), ("all", chain(t.factors))]
            for side, f in handles:
                alone = side in ("left", "right") and len(t.factors) == 1  # an identity would be left behind
                if alone and (is_unit(f) or self._unit_for(f, side) is None):
                    continue
                groups.setdefault((side, id(f)), (f, []))[1].append(t)
        best, saving = None, 0
        for (side, _), (f, group) in groups.items():
            gain = (len(group) - 1) * (self.cost(f, 0)[0] + 1)
            if len(group) > 1 and gain > saving:
                best, saving = (side, f, group), gain
        return best

    def _spell_term(self, t: Term) -> Expr:
        """A term the shorter way: its factors as they are, or ``(Fₖᵀ ⋯ F₁ᵀ)ᵀ`` (a tie: fewer transposes)."""
        if len(t.factors) < 2:
            return spell(t.coef, t.scalars, t.factors[0] if t.factors else None)
        straight = spell(t.coef, t.scalars, chain(joined_inverses(t.factors)))
        flipped = tuple(map(self._flip, reversed(t.factors)))
        turned = spell(t.coef, t.scalars, transpose(chain(joined_inverses(flipped))))
        return min((straight, turned), key=lambda e: (self.cost(e), self._key(e).count("'")))


def _same_terms(L: Lin, M: Lin) -> bool:
    """Whether two sums have the same terms (in any order)."""
    def keys(N: Lin) -> list:
        return sorted((repr(t.coef), tuple(map(id, t.scalars)), tuple(map(id, t.factors))) for t in N.terms)
    return (L.zero is None) == (M.zero is None) and keys(L) == keys(M)


def _peeled(terms: list[Term], left: tuple[Expr, ...], right: tuple[Expr, ...]) -> tuple[list[Term], tuple]:
    """The factors that begin (or end) every one of ``terms`` moved to ``left`` (or ``right``): ``P A Q + P B Q``
    is ``P (A + B) Q``; each term keeps a factor."""
    while all(len(t.factors) > 1 for t in terms):
        if len({id(t.factors[0]) for t in terms}) == 1:
            left, terms = (*left, terms[0].factors[0]), [t._replace(factors=t.factors[1:]) for t in terms]
        elif len({id(t.factors[-1]) for t in terms}) == 1:
            right, terms = (terms[0].factors[-1], *right), [t._replace(factors=t.factors[:-1]) for t in terms]
        else:
            break
    return terms, (left, right)


def _without_factor(t: Term, side: str, factor: Expr, unit: Expr | None) -> Term:
    """``t`` with ``factor`` taken out on ``side`` (a term left without factors keeps ``unit``)."""
    if side == "all":
        return t._replace(factors=())
    if side == "scalar":
        scalars = list(t.scalars)
        scalars.remove(factor)
        return t._replace(scalars=tuple(scalars))
    rest = t.factors[1:] if side == "left" else t.factors[:-1]
    return t._replace(factors=rest or ((unit,) if unit is not None else ()))


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
        return LinearMap(M.kind, args, M.in_shape, M.out_shape, M.param)
    exprs = [a for a in args if isinstance(a, Expr)]  # the factors of ⊗, ⊠ and outer: expressions
    pulled = [scalar_factor(a) for a in exprs]  # (c A) ⊗ B = c (A ⊗ B): scalars out of the factors
    # a 1×1 ones(1, 1) factor is the 1×1 identity: written I
    factors = tuple(eye(1) if is_unit(rest) and rest.shape == (1, 1) else rest for _, rest in pulled)
    if M.kind == "kron" and all(map(is_unit, factors)):  # I ⊗ I = I (a 1×1 one is an identity too)
        inner = LinearMap("identity", (), M.in_shape, M.out_shape)
    else:
        inner = LinearMap(M.kind, factors, M.in_shape, M.out_shape, M.param)
    coefficient = literal(1.0)
    for c, _ in pulled:
        coefficient = coefficient if c is None else mul(coefficient, c)
    if is_literal(coefficient, 1.0):
        return inner
    return LinearMap("scaled", (session.shorter(coefficient, ATOM), inner), M.in_shape, M.out_shape)

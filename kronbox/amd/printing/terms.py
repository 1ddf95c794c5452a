"""Linear combinations of products, the working form of :mod:`kronbox.amd.simplify`.

A :class:`Lin` is a sum of :class:`Term` s ``c · s₁ ⋯ sⱼ · F₁ ⋯ Fₖ``: a number ``c``, scalar atoms
``sᵢ`` (they commute) and matrix factors ``Fᵢ`` in product order. The functions here are the pure
algebra of that form (no memo, no printing): taking out what all terms share, transposing a factor,
and writing a term back as an expression through the smart constructors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from kronbox.amd.expressions.expr import Expr, is_eye, literal, matmul, mpow, mul, neg, transpose

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


def number(c: Number) -> Number:
    """``c`` as a float when it is real (a complex sum whose imaginary parts cancelled)."""
    return float(c.real) if isinstance(c, complex) and c.imag == 0 else c


def is_unit(f: Expr) -> bool:
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


def gather(L: Lin, signed: bool, scalars: bool = True) -> tuple[Number, tuple[Expr, ...], Lin]:
    """``L = g · common · rest``: the scalar atoms of every term (if ``scalars``) and a number ``g``
    (the coefficient of all terms, or their common magnitude), negative when ``signed`` and most
    terms are (``−2A − 2B = −2 (A + B)``)."""
    terms = L.terms
    common = terms[0].scalars if scalars else ()
    for t in terms[1:]:
        common = _common(common, t.scalars)
    coefs = [t.coef for t in terms]
    real = all(isinstance(c, float) for c in coefs)
    g: Number = coefs[0] if all(c == coefs[0] for c in coefs) else \
        abs(coefs[0]) if real and len({abs(c) for c in coefs}) == 1 else 1.0
    if not (g != 0 and abs(g) < float("inf")):  # inf and nan are not common factors: inf/inf is nan
        g = 1.0
    reals = [c for c in coefs if isinstance(c, float)]
    if real:
        negatives = sum(c < 0 for c in reals)
        flip = signed and (2 * negatives > len(reals) or (2 * negatives == len(reals) and reals[0] < 0))
        g = -abs(g) if flip else abs(g)
    rest = tuple(Term(number(t.coef / g), _without(t.scalars, common), t.factors) for t in terms)
    return g, common, Lin(rest, L.zero)


def flip(f: Expr) -> Expr:
    """The transpose of a factor: an atom's transpose, or the atom of a transposed one."""
    return f.args[0] if f.kind == "transpose" else transpose(f)


def _as_power(f: Expr) -> tuple[Expr, int, bool]:
    """A factor as ``(base, k, transposed)``: ``f = base^k``, or ``(base^k)ᵀ`` when transposed."""
    transposed = f.kind == "transpose"
    g = f.args[0] if transposed else f
    return (g.args[0], g.param, transposed) if g.kind == "mpow" else (g, 1, transposed)


def merge_powers(factors: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """Neighbouring factors of one base joined into a matrix power: ``X X = X²``, ``X² X = X³``,
    ``Xᵀ Xᵀ = (X²)ᵀ`` (powers of one matrix commute)."""
    out: list[Expr] = []
    for f in factors:
        if out:
            base, k, transposed = _as_power(out[-1])
            other, j, other_transposed = _as_power(f)
            if base is other and transposed == other_transposed:
                power = mpow(base, k + j)
                out[-1] = transpose(power) if transposed else power
                continue
        out.append(f)
    return tuple(out)


def chain(factors: tuple[Expr, ...]) -> Expr:
    """``F₁ F₂ ⋯ Fₖ`` (left to right)."""
    product = factors[0]
    for f in factors[1:]:
        product = matmul(product, f)
    return product


def spell(coef: Number, scalars: tuple[Expr, ...], body: Expr | None) -> Expr:
    """``coef · s₁ ⋯ sⱼ · body`` as a left-nested product with the sign in front (``-2*a*X``)."""
    negative = isinstance(coef, float) and coef < 0
    magnitude = -coef if negative else coef
    parts = ([literal(magnitude)] if magnitude != 1 else []) + list(scalars) + ([body] if body is not None else [])
    result = parts[0] if parts else literal(1.0)
    for p in parts[1:]:
        result = mul(result, p)
    return neg(result) if negative else result


def shape_source(n: Expr, sources: list[Expr]) -> Expr:
    """The node whose shape ``n`` has for certain, when the shapes are not known yet (a fold over the
    DAG, ``sources`` those of the arguments): ``exp(X)``, ``−X``, ``X + Y``, ``X ∘ X`` and
    ``ones(size(X))`` have the shape of ``X`` (``X ∘ Y`` only if ``Y`` has it too: a 1×1 factor would
    broadcast)."""
    k = n.kind
    if k in ("ew", "power", "neg", "ones_like", "zeros_like"):
        return sources[0]
    if k in ("add", "mul", "div"):
        sides = [source for a, source in zip(n.args, sources, strict=True) if a.shape != ()]
        if sides and (k == "add" or all(source is sides[0] for source in sides)):
            return sides[0]
    return n

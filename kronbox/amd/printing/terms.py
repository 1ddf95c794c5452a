"""Linear combinations of products, the working form of :mod:`kronbox.amd.simplify`.

A :class:`Lin` is a sum of :class:`Term` s ``c · s₁ ⋯ sⱼ · F₁ ⋯ Fₖ``: a number ``c``, scalar atoms
``sᵢ`` (they commute) and matrix factors ``Fᵢ`` in product order. The functions here are the pure
algebra of that form (no memo, no printing): taking out what all terms share, transposing a factor,
and writing a term back as an expression through the smart constructors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from kronbox.amd.expressions.expr import (
    Expr,
    div,
    eye_like,
    inv,
    is_eye,
    literal,
    matmul,
    matrix_exponent,
    mpow,
    mul,
    neg,
    power,
    power_exponent,
    transpose,
)

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


Power = tuple[Expr, int, bool]


def as_power(f: Expr) -> Power:
    """A factor as ``(base, k, transposed)``: ``f = base^k``, or ``(base^k)ᵀ`` when transposed, with
    ``k < 0`` for inverses (``inv(X)`` is ``(X, -1)``, ``inv(X)^2`` and ``inv(X^2)`` are ``(X, -2)``)."""
    transposed = f.kind == "transpose"
    g = f.args[0] if transposed else f
    k = 1
    if g.kind == "mpow":
        g, k = g.args[0], matrix_exponent(g)
    if g.kind == "inv":
        g, k = g.args[0], -k
        if g.kind == "mpow":
            g, k = g.args[0], k * matrix_exponent(g)
    return g, k, transposed


def power_factor(base: Expr, k: int, transposed: bool) -> Expr:
    """The factor ``base^k`` (``inv(base)^-k`` for ``k < 0``), transposed if asked."""
    f = base if k == 1 else mpow(base, k)
    return transpose(f) if transposed else f


def merge_powers(factors: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """Neighbouring factors of one base joined: ``X X = X²``, ``X² X⁻³ = X⁻¹``, ``Xᵀ X⁻ᵀ = I`` (powers of
    one square matrix commute, and ``X⁻¹`` exists only for a square ``X``); a cancelled run leaves
    nothing, and a product that cancels whole is the identity of its base's size."""
    out: list[Power] = []
    for f in factors:
        base, k, transposed = as_power(f)
        if out and out[-1][0] is base and out[-1][2] == transposed:
            k += out.pop()[1]
            if k == 0:
                continue
        out.append((base, k, transposed))
    if not out and factors:
        return (eye_like(as_power(factors[0])[0], 0),)
    return tuple(power_factor(*p) for p in out)


def inverse_factors(factors: tuple[Expr, ...]) -> tuple[Expr, ...] | None:
    """``(F₁ ⋯ Fₖ)⁻¹ = Fₖ⁻¹ ⋯ F₁⁻¹`` as factors, when every ``Fᵢ`` is known to be square (the inverse of
    a product of square matrices exists only if each does); ``None`` otherwise."""
    if not all(f.shape is not None and f.shape[0] == f.shape[1] for f in factors):
        return None
    return tuple(power_factor(b, -k, t) for b, k, t in map(as_power, reversed(factors)))


def joined_inverses(factors: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """Runs of inverses written as one: ``inv(B) inv(A) = inv(A B)`` (shorter by an ``inv`` per factor)."""
    out: list[Expr] = []
    run: list[Expr] = []  # the run's factors un-inverted, in the reversed order
    previous: Expr | None = None  # the run's last factor as it was
    for f in (*factors, None):
        power = as_power(f) if f is not None else None
        if power is not None and power[1] < 0:
            base, k, transposed = power
            run.insert(0, power_factor(base, -k, transposed))
            previous = f
            continue
        if len(run) == 1 and previous is not None:
            out.append(previous)
        elif run:
            out.append(inv(chain(tuple(run))))
        run = []
        if f is not None:
            out.append(f)
    return tuple(out)


def chain(factors: tuple[Expr, ...]) -> Expr:
    """``F₁ F₂ ⋯ Fₖ`` (left to right)."""
    product = factors[0]
    for f in factors[1:]:
        product = matmul(product, f)
    return product


def scalar_power(s: Expr) -> tuple[Expr, float]:
    """A scalar atom as ``(base, p)``: ``s = base^p`` (``1/a`` is ``(a, -1)``)."""
    return (s.args[0], power_exponent(s)) if s.kind == "power" else (s, 1.0)


def merge_scalars(scalars: Iterable[Expr]) -> list[Expr]:
    """Equal scalar atoms joined into integer powers: ``a a = a²``, ``a / a = 1`` (a scalar's integer
    powers commute); a base under a fractional power stays apart."""
    exponents: dict[int, tuple[Expr, float]] = {}
    rest: list[Expr] = []
    for s in scalars:
        base, p = scalar_power(s)
        if p != int(p):
            rest.append(s)
            continue
        old = exponents.get(id(base))
        exponents[id(base)] = (base, p + (old[1] if old else 0.0))
    return rest + [power(b, p) for b, p in exponents.values() if p != 0]


def _below(p: float) -> bool:
    """Whether a scalar atom of power ``p`` is written in the denominator (a negative integer power)."""
    return p < 0 and p == int(p)


def spell(coef: Number, scalars: tuple[Expr, ...], body: Expr | None) -> Expr:
    """``coef · s₁ ⋯ sⱼ · body / (d₁ ⋯ dᵢ)`` as a left-nested product with the sign in front (``-2*a*X/c``),
    the scalars of negative integer power in the denominator."""
    negative = isinstance(coef, float) and coef < 0
    magnitude = -coef if negative else coef
    over = [power(b, -p) for b, p in map(scalar_power, scalars) if _below(p)]
    scalars = tuple(s for s in scalars if not _below(scalar_power(s)[1]))
    parts = ([literal(magnitude)] if magnitude != 1 or (not scalars and body is None) else []) + list(scalars) + \
        ([body] if body is not None else [])
    result = parts[0]
    for p in parts[1:]:
        result = mul(result, p)
    if over:
        denominator = over[0]
        for d in over[1:]:
            denominator = mul(denominator, d)
        result = div(result, denominator)
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

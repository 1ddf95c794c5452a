"""Elementwise products and quotients as monomials, the way people write fractions.

An elementwise product of quotients is read as ``b₁^k₁ ∘ ⋯ ∘ bⱼ^kⱼ`` with integer exponents, every
entry of every base a factor of the same entry of the result: equal bases are joined
(``A ∘ A = A^∘2``, ``A^∘2 ./ A = A``), and the monomial is written as one fraction, the bases of
positive power over those of negative power: ``1./D .* N = N./D``.

One rule of the logistic function goes with it: ``N ∘ exp(v) ./ (exp(v) + c) = N ./ (1 + c exp(−v))``
(numerator and denominator divided by ``exp(v)``, which is never zero; so for powers), kept where it is shorter.
"""

from __future__ import annotations

from collections.abc import Callable

from kronbox.amd.expressions.expr import (
    Expr,
    add,
    div,
    elementwise,
    is_literal,
    literal,
    mul,
    neg,
    power,
    power_exponent,
)

Monomial = list[tuple[Expr, int]]


def _number(e: Expr) -> bool:
    """A number, or a matrix of all ones (``vector(1)``, ``ones(size(X))``)."""
    return is_literal(e) or e.kind in ("ones", "ones_like")


def _integer(p: object) -> bool:
    return isinstance(p, float) and p == int(p)


def monomial(factors: list[tuple[Expr, int]]) -> Monomial:
    """The bases and integer exponents of the elementwise product of ``bᵢ^kᵢ``, the elementwise products
    and quotients among them flattened (a scalar factor is a scaling, kept whole), equal bases joined,
    in the order of first appearance."""
    exponents: dict[int, tuple[Expr, int]] = {}
    stack = list(reversed(factors))
    while stack:
        e, k = stack.pop()
        a = e.args
        if e.kind == "div" or (e.kind == "mul" and () not in (a[0].shape, a[1].shape)):
            stack.extend([(a[1], -k if e.kind == "div" else k), (a[0], k)])
            continue
        if is_literal(e, 1.0):
            continue
        if e.kind == "power" and _integer(power_exponent(e)):
            stack.append((a[0], k * int(power_exponent(e))))
            continue
        old = exponents.get(id(e))
        exponents[id(e)] = (e, k + (old[1] if old else 0))
    return [(b, k) for b, k in exponents.values() if k != 0]


def written(m: Monomial) -> Expr:
    """``m`` as ``N₁ .* N₂ ./ (D₁ .* D₂)`` (``1./D`` when every power is negative)."""
    def product(parts: list[Expr]) -> Expr | None:
        out = None
        for p in parts:
            out = p if out is None else mul(out, p)
        return out

    over = product([power(b, -k) for b, k in m if k < 0])
    top = product([power(b, k) for b, k in m if k > 0])
    top = top if top is not None else literal(1.0)
    return top if over is None else div(top, over)


def logistic(m: Monomial, canonical: Callable[[Expr], Expr]) -> Monomial | None:
    """``m`` with ``exp(v)^a ./ (exp(v) + c)^b`` (``c`` a number or all ones, ``a ≥ b ≥ 1``) written
    ``exp(v)^(a−b) ./ (1 + c exp(−v))^b``, when ``m`` has them; ``canonical`` simplifies the new terms."""
    for i, (d, k) in enumerate(m):
        if k >= 0 or d.kind != "add":
            continue
        x, y = d.args
        e, c = (x, y) if _number(y) else (y, x)
        if e.kind != "ew" or e.param != "exp" or not _number(c):
            continue
        c = c if is_literal(c) else literal(1.0)  # all ones beside exp(v), which has their shape: 1
        at = next((j for j, (b, kb) in enumerate(m) if b is e and kb >= -k), None)
        if at is None:
            continue
        flipped = canonical(mul(c, elementwise("exp", neg(e.args[0]))))
        out = list(m)
        out[i] = (canonical(add(literal(1.0), flipped)), k)
        out[at] = (e, m[at][1] + k)
        return [(b, kb) for b, kb in out if kb != 0]
    return None

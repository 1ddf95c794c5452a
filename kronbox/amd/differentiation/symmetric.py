"""Hessians on the symmetric matrices with fewer products: ``Π H Π = Π H' Π``, ``H'`` a merged sum of Kron terms.

For a symmetric variable the Hessian acts as ``Π H Π`` (``Π vec(V) = vec(sym V)``): ``V`` is symmetrized before
``H`` and the result after. Two facts then let terms of ``H`` merge:

- on a symmetric ``V``, ``(A ⊠ B) vec V = vec(A Vᵀ Bᵀ) = vec(A V Bᵀ) = (A ⊗ B) vec V``;
- under the symmetrization of the result, ``A ⊗ B`` and ``B ⊗ A`` are alike:
  ``sym(B V Aᵀ) = sym((A V Bᵀ)ᵀ) = sym(A V Bᵀ)``.

So every Kron or Box term ``c (A ∘ B)`` is a pair ``{A, B}`` with a coefficient, and pairs that share a factor
add up, ``c A ⊗ B + d A ⊗ C = A ⊗ (c B + d C)``: each merge saves two matrix products per application for the
price of adding two matrices once per point. :func:`merged_map` merges the terms as expressions, once: two
factors are one where they are one expression once the variable is declared symmetric (``inv(X)ᵀ`` is
``inv(X)`` there). The covariance objective's Hessian, three terms (``P ⊠ (…) + 2 P² ⊗ P² + (…) ⊠ P``, six
products per application), becomes two (four products), and the merged factors are evaluated in the
compiled plan of ``f`` and ``∇f``.
"""

from __future__ import annotations

from functools import reduce

from kronbox.amd.evaluation.compiled_map import kron_box_terms
from kronbox.amd.expressions.expr import Expr, mul, substitute, var
from kronbox.amd.expressions.linear_map import LinearMap, kron, total


def merged_map(L: LinearMap, x: Expr, into: Expr | None = None) -> LinearMap | None:
    """A sum of Kron terms ``L'`` with ``Π L' Π = Π L Π`` wherever the variable ``x`` is symmetric, for ``L`` a sum
    of scaled Kron and box terms on ``x``'s space (a Hessian in ``x``), or ``None`` for a map of another form.
    Terms merge where their factors are one expression once ``x`` is declared symmetric (so that factors equal at
    every symmetric ``x`` merge, and only those); ``into``: a variable the merged factors are written in instead
    of ``x`` (the symmetric variable itself, whose values they are then evaluated at)."""
    terms = kron_box_terms(L)
    if terms is None or x.shape is None or not (L.in_shape == L.out_shape == x.shape):
        return None  # not a map of square n×n factors on the n×n variable
    symmetric = {x: var(x.name, x.shape, symmetric=True)}
    pairs: list[list[Expr]] = []  # [the shared factor as a function of a symmetric x, that factor, the other one]
    for coefficients, _, A, B in terms:
        scaled = reduce(mul, coefficients) if coefficients else None
        for mine, other in ((A, B), (B, A)):
            key = substitute(mine, symmetric)
            pair = next((pair for pair in pairs if pair[0] is key), None)
            if pair is not None:
                pair[2] = pair[2] + (other if scaled is None else scaled * other)
                break
        else:
            pairs.append([substitute(A, symmetric), A, B if scaled is None else scaled * B])
    rename = {x: into} if into is not None else {}
    return total([kron(substitute(A, rename), substitute(B, rename)) for _, A, B in pairs], L.out_shape, L.in_shape)

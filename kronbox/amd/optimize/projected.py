"""A Hessian on the symmetric matrices with fewer products: ``Π H Π`` from fewer Kronecker terms.

For a symmetric variable the optimizer applies ``Π H Π`` (:mod:`kronbox.amd.optimize.objective`): ``V`` is
symmetrized before ``H`` and the result after. Two facts then let terms of ``H`` merge:

- on a symmetric ``V``, ``(A ⊠ B) vec V = vec(A Vᵀ Bᵀ) = vec(A V Bᵀ) = (A ⊗ B) vec V``;
- under the symmetrization of the result, ``A ⊗ B`` and ``B ⊗ A`` are alike:
  ``sym(B V Aᵀ) = sym((A V Bᵀ)ᵀ) = sym(A V Bᵀ)``.

So every Kron or Box term ``c (A ∘ B)`` is a pair ``{A, B}`` with a coefficient, and pairs that share
a factor add up, ``c A ⊗ B + d A ⊗ C = A ⊗ (c B + d C)``: each merge saves two matrix products for
the price of adding two matrices. The Hessian of the covariance objective, three terms
(``P ⊠ (…) + 2 P² ⊗ P² + (…) ⊠ P``, six products per application), becomes two (four products).

Two ways to merge: :func:`fewer_terms` compares the factors' values in a kronbox operator (any factors);
:func:`merged_map` compares the factor expressions once, as functions of a symmetric ``X`` (``inv(X)ᵀ`` is
``inv(X)`` there), and returns a map of Kron terms whose merged factors a compiled plan evaluates with
``f`` and ``∇f``: a point then pays no comparisons and no Python additions (``amd.minimize``'s path).
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from kronbox import operators as ops
from kronbox.amd.evaluation.compiled_map import kron_box_terms
from kronbox.amd.expressions.expr import Expr, mul, substitute, var
from kronbox.amd.expressions.linear_map import LinearMap, kron, total


def fewer_terms(H: ops.Operator) -> ops.SymmetricPart:
    """``Π H Π`` as ``Π H' Π`` (:class:`kronbox.operators.SymmetricPart`), ``H'`` being ``H`` with the Kron and Box
    terms that share a factor merged (``H`` itself where nothing merges). ``H'`` alone is right only on
    symmetric inputs with the output symmetrized, so it never leaves the projection."""
    terms = H.ops if isinstance(H, ops.Sum) else (H,)
    products: list[tuple[Any, np.ndarray, np.ndarray]] = []
    rest = []
    for term in terms:
        c, inner = (term.c, term.op) if isinstance(term, ops.Scaled) else (1.0, term)
        if isinstance(inner, ops.Kron | ops.Box) and _dense(inner.A) and _dense(inner.B):
            products.append((c, inner.A, inner.B))
        else:
            rest.append(term)
    pairs = merged_pairs(products)
    if len(pairs) == len(products):
        return ops.SymmetricPart(H)
    merged = [ops.Kron(A, B) for A, B in pairs] + rest
    return ops.SymmetricPart(merged[0] if len(merged) == 1 else ops.Sum(*merged))


def merged_pairs(products: list[tuple[Any, np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The terms ``c (A ∘ B)`` (Kron or Box alike, see the module) as Kronecker terms ``A ⊗ B'``, those
    that share a factor merged: ``c A ⊗ B + d A ⊗ C = A ⊗ (c B + d C)``, a factor matched in either place."""
    pairs: list[list[np.ndarray]] = []  # [shared factor, other factor] with the coefficient folded into the other
    for c, A, B in products:
        for pair in pairs:
            for mine, other in ((A, B), (B, A)):
                if _same(pair[0], mine) and pair[1].shape == other.shape:
                    pair[1] = pair[1] + (other if c == 1.0 else c * other)
                    break
            else:
                continue
            break
        else:
            pairs.append([A, c * B if c != 1.0 else B])
    return [(A, B) for A, B in pairs]


def merged_map(L: LinearMap, x: Expr) -> LinearMap | None:
    """A sum of Kron terms ``L'`` with ``Π L' Π = Π L Π`` wherever the variable ``x`` is symmetric, for ``L`` a sum
    of scaled Kron and box terms (a Hessian in ``x``), or ``None`` for a map of another form. Terms merge as
    :func:`merged_pairs` merges them, where their factors are one expression once ``x`` is declared symmetric
    (so that equal values at every symmetric ``x`` merge, and only those)."""
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
    return total([kron(A, B) for _, A, B in pairs], L.out_shape, L.in_shape)


def _dense(F) -> bool:
    return isinstance(F, np.ndarray) and F.ndim == 2 and F.shape[0] == F.shape[1]


def _same(A: np.ndarray, B: np.ndarray) -> bool:
    """The same matrix (a transpose of a symmetric one included): ``O(n²)`` against the ``O(n³)`` saved, after
    a look at one entry (most factors that differ differ there)."""
    return A is B or (A.shape == B.shape and (A.size == 0 or A.flat[0] == B.flat[0]) and np.array_equal(A, B))

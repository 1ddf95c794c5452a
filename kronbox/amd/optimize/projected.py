"""A Hessian on the symmetric matrices with fewer products, merged by value: ``Π H Π`` from fewer Kronecker terms.

On symmetric directions, with the result symmetrized, every Kron or Box term ``c (A ∘ B)`` is a pair
``{A, B}``, and pairs that share a factor add up (:mod:`kronbox.amd.differentiation.symmetric` states the two
facts). :func:`kronbox.amd.differentiation.symmetric.merged_map` merges a Hessian's terms as expressions,
once, and is ``amd.minimize``'s path; :func:`fewer_terms` merges the terms of a kronbox operator by comparing
their factors' values, for a Hessian that is not a sum of Kron and box terms alone (its operator is built
per point anyway).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kronbox import operators as ops


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


def _dense(F) -> bool:
    return isinstance(F, np.ndarray) and F.ndim == 2 and F.shape[0] == F.shape[1]


def _same(A: np.ndarray, B: np.ndarray) -> bool:
    """The same matrix (a transpose of a symmetric one included): ``O(n²)`` against the ``O(n³)`` saved, after
    a look at one entry (most factors that differ differ there)."""
    return A is B or (A.shape == B.shape and (A.size == 0 or A.flat[0] == B.flat[0]) and np.array_equal(A, B))

"""The 24 direct matrix products of two matrices, as lazy ``Kron``, ``Box`` or ``Outer`` operators.

For a permutation ``σ`` of ``(0, 1, 2, 3)``, the direct product ``X = direct_product(A, B, σ)`` is

    ``X[(i0 i1), (i2 i3)] = A[i_σ0, i_σ1] · B[i_σ2, i_σ3]``

with row-major index pairs ``(i0 i1) = i0·d1 + i1`` and ``(i2 i3) = i2·d3 + i3``, where ``d_k`` is
the length of whichever axis of ``A`` or ``B`` the index ``i_k`` runs over. Which structure it is
depends only on where the indices of ``A`` sit:

- both of ``A``'s indices are row indices (or both column indices): an outer product
  ``vec(F) vec(G)ᵀ`` of ``A`` or ``Aᵀ`` with ``B`` or ``Bᵀ`` (8 permutations);
- otherwise let ``F`` be the factor (``A``, ``B`` or a transpose) indexed ``F[i0, ·]`` and ``G`` the
  one indexed ``G[i1, ·]``: ``F[i0, i2] G[i1, i3]`` is ``F ⊗ G`` and ``F[i0, i3] G[i1, i2]`` is
  ``F ⊠ G`` (8 permutations each).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from kronbox.operators import Box, Kron, Outer, factors
from kronbox.operators.base import Operator

_VALID = (0, 1, 2, 3)


def _check_perm(perm) -> tuple[int, int, int, int]:
    try:
        entries = list(perm)
    except TypeError:
        entries = None
    if (
        entries is None
        or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in entries)
        or sorted(entries) != list(_VALID)
    ):
        raise ValueError(f"direct_product: perm must be a permutation of {_VALID}, got {perm!r}")
    a, b, c, d = (int(p) for p in entries)
    return a, b, c, d


def _oriented(M, indices: tuple[int, int], row: int):
    """``M`` (indexed ``M[i_a, i_b]`` for ``indices = (a, b)``) arranged so that ``i_row`` indexes rows."""
    return M if indices[0] == row else factors.transpose(M)


def direct_product(A, B, perm: Sequence[int]) -> Operator:
    """``X[(i0 i1), (i2 i3)] = A[i_perm[0], i_perm[1]] · B[i_perm[2], i_perm[3]]`` (row-major pairs).

    ``A`` and ``B`` are matrices (dense, scipy sparse or operators; an outer product densifies
    them). Returns a lazy ``Outer``, ``Kron`` or ``Box`` of ``A``, ``B`` and their transposes.
    """
    p = _check_perm(perm)
    A = factors.as_factor(A, "direct_product: A")
    B = factors.as_factor(B, "direct_product: B")
    a, b = p[:2], p[2:]
    if set(a) in ({0, 1}, {2, 3}):
        (R, r), (C, c) = ((A, a), (B, b)) if set(a) == {0, 1} else ((B, b), (A, a))
        U = factors.to_array(_oriented(R, r, min(r)))
        V = factors.to_array(_oriented(C, c, min(c)))
        return Outer(U, V)
    (F, f), (G, g) = ((A, a), (B, b)) if 0 in a else ((B, b), (A, a))
    F, G = _oriented(F, f, 0), _oriented(G, g, 1)
    return Kron(F, G) if 2 in f else Box(F, G)

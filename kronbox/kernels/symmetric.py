"""Symmetric matrices in evaluation: test for exact symmetry, complete one from a triangle, and
project onto the symmetric matrices.

All walk the matrix in 64×64 tiles so that the transposed reads stay in cache (numba): at
n = 1024 a test is ≈0.6 ms against ≈5 ms for ``np.array_equal(A, A.T)``, and completing the triangle
in place ≈1 ms against ≈7 ms for ``np.tril(A) + np.tril(A, -1).T``. The projection ``(A + Aᵀ)/2``
is the loop's up to n = 64 (at n = 50, 1.8 µs with a copy against numpy's 3.1 µs) and numpy's above,
where strides of a power of two make the loop's transposed reads collide in cache (n = 256: 160 µs
against 90 µs).
"""

from __future__ import annotations

import numpy as np

from kronbox.kernels.cache import jit

_TILE = 64


@jit()
def _is_symmetric(A) -> bool:
    n = A.shape[0]
    for bi in range(0, n, _TILE):
        for bj in range(0, bi + 1, _TILE):
            for i in range(bi, min(bi + _TILE, n)):
                equal = True  # a row of a tile compared without a branch per entry, then left at the first difference
                for j in range(bj, min(bj + _TILE, i)):
                    equal &= A[i, j] == A[j, i]
                if not equal:
                    return False
    return True


@jit()
def _upper_to_lower(A) -> None:
    n = A.shape[0]
    for bi in range(0, n, _TILE):
        for bj in range(0, bi + 1, _TILE):
            for i in range(bi, min(bi + _TILE, n)):
                for j in range(bj, min(bj + _TILE, i)):
                    A[i, j] = A[j, i]


@jit()
def _symmetrize(A) -> None:
    n = A.shape[0]
    for bi in range(0, n, _TILE):
        for bj in range(0, bi + 1, _TILE):
            for i in range(bi, min(bi + _TILE, n)):
                for j in range(bj, min(bj + _TILE, i)):
                    mean = (A[i, j] + A[j, i]) * 0.5
                    A[i, j] = mean
                    A[j, i] = mean


_SMALL = 64  # up to this size the loop symmetrizes, above it numpy (see the module)


def symmetrize(A: np.ndarray, in_place: bool = False) -> np.ndarray:
    """``(A + Aᵀ)/2`` for a square matrix, exactly symmetric (each pair of entries is one mean, the
    numbers of ``(A + Aᵀ) * 0.5``); written into ``A`` itself with ``in_place`` (a C-contiguous ``A``)."""
    if A.shape[0] > _SMALL or A.dtype.kind != "f":
        S = A + A.T
        S *= 0.5
        if in_place:
            A[...] = S
            return A
        return S
    S = A if in_place else np.array(A, order="C", copy=True)
    _symmetrize(S)
    return S


def is_symmetric(A: np.ndarray) -> bool:
    """``A == Aᵀ`` exactly, for a square real matrix (early exit at the first difference)."""
    return A.shape[0] == A.shape[1] and bool(_is_symmetric(A))


def symmetrize_from_upper(A: np.ndarray) -> np.ndarray:
    """Overwrite the strict lower triangle of the C-contiguous ``A`` with the upper one; return ``A``."""
    _upper_to_lower(A)
    return A

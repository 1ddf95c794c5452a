"""Each way Kron and Box apply themselves to dense columns, against the dense twins.

The two-sided product ``A X Bᵀ`` picks the cheaper factor first and, by size, one GEMM plus a
batched matmul or an einsum over two large GEMMs; Box reads its input through a transposed view.
The shapes below put each branch in play: either factor first (rectangular factors), one column,
a few columns (batched path) and enough columns to cross ``_EINSUM_MIN_ENTRIES`` (einsum path).
"""

from __future__ import annotations

import numpy as np
import pytest
from zoo import assert_close, box_twin, random

import kronbox as kb
from kronbox.operators.products import _EINSUM_MIN_ENTRIES

# (A shape, B shape): A-first cheaper, B-first cheaper, and a tie (square factors).
SHAPES = [((3, 40), (50, 30)), ((40, 3), (30, 50)), ((24, 24), (24, 24))]


def _columns(n_in: int) -> list[int]:
    return [1, 3, -(-_EINSUM_MIN_ENTRIES // n_in)]


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=str)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_kron_and_box_on_every_path(shapes, dtype):
    rng = np.random.default_rng(7)
    A, B = random(rng, shapes[0], dtype), random(rng, shapes[1], dtype)
    for op, twin in [(kb.Kron(A, B), np.kron(A, B)), (kb.Box(A, B), box_twin(A, B))]:
        for k in _columns(op.shape[1]):
            X = random(rng, (op.shape[1], k), dtype)
            assert_close(op @ X, twin @ X, dtype, f"{op!r} @ X with {k} columns")
            assert_close(op @ X[:, 0], twin @ X[:, 0], dtype, f"{op!r} @ x")


def test_strided_and_fortran_columns():
    """Columns that are not C-contiguous (a slice, a Fortran array) give the same result."""
    rng = np.random.default_rng(8)
    A, B = rng.standard_normal((20, 30)), rng.standard_normal((25, 35))
    for op, twin in [(kb.Kron(A, B), np.kron(A, B)), (kb.Box(A, B), box_twin(A, B))]:
        for k in _columns(op.shape[1])[1:]:
            wide = rng.standard_normal((op.shape[1], 2 * k))
            for X in (wide[:, ::2], np.asfortranarray(wide[:, :k])):
                assert_close(op @ X, twin @ X, np.float64, f"{op!r} @ strided X")

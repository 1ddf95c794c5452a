"""Dense materialization on both sides of the numpy / numba switch, against independent twins.

``kronbox.kernels.dense`` forms small outputs by numpy broadcasting and larger ones with numba kernels;
both must give ``np.kron``, the box definition (an einsum) and ``np.outer``, alone and in sums with
scalings, for real, float32 and complex factors.
"""

from __future__ import annotations

import numpy as np
import pytest
from zoo import assert_close, box_twin, random

import kronbox as kb
from kronbox.kernels import dense as kernels

# (A shape, B shape): output below and above ``_NUMBA_MIN_ENTRIES``, rectangular.
SHAPES = [((2, 3), (4, 2)), ((9, 10), (11, 12))]
DTYPES = [np.float32, np.float64, np.complex128]


def test_the_shapes_straddle_the_switch():
    sizes = [a[0] * a[1] * b[0] * b[1] for a, b in SHAPES]
    assert min(sizes) < kernels._NUMBA_MIN_ENTRIES <= max(sizes)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_products_to_dense(shapes, dtype):
    rng = np.random.default_rng(3)
    A, B = random(rng, shapes[0], dtype), random(rng, shapes[1], dtype)
    u, v = random(rng, A.size, dtype), random(rng, B.size, dtype)
    for op, twin in [
        (kb.Kron(A, B), np.kron(A, B)),
        (kb.Box(A, B), box_twin(A, B)),
        (kb.Outer(u, v), np.outer(u, v)),
    ]:
        dense = op.to_dense()
        assert dense.dtype == twin.dtype, f"{op!r}: dtype {dense.dtype}, expected {twin.dtype}"
        assert_close(dense, twin, dtype, f"{op!r}.to_dense()")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_sums_to_dense(shapes, dtype):
    """Sums of scaled Kron, Box, Outer and Dense terms accumulate every term with its coefficient."""
    rng = np.random.default_rng(4)
    (m1, n1), (m2, n2) = shapes
    A, B, C = random(rng, (m1, n1), dtype), random(rng, (m2, n2), dtype), random(rng, (m2, n2), dtype)
    u, v = random(rng, m1 * m2, dtype), random(rng, n1 * n2, dtype)
    D = random(rng, (m1 * m2, n1 * n2), dtype)
    op = 2 * kb.Kron(A, B) - kb.Kron(A, C) + 0.5 * kb.Outer(u, v) + kb.Dense(D)
    twin = 2 * np.kron(A, B) - np.kron(A, C) + 0.5 * np.outer(u, v) + D
    assert_close(op.to_dense(), twin, dtype, "sum of Kron, Outer and Dense")
    box = kb.Box(A, B) - 3 * kb.Box(A, C)
    assert_close(box.to_dense(), box_twin(A, B) - 3 * box_twin(A, C), dtype, "sum of Box terms")

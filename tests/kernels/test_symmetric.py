"""The symmetric-matrix kernels against numpy: the exact test, the triangle completion and the projection
``(A + Aᵀ)/2``, on both sides of the size where the projection changes from the loop to numpy."""

import numpy as np
import pytest

from kronbox.kernels.symmetric import is_symmetric, symmetrize, symmetrize_from_upper


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 130])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_symmetrize_is_the_mean_of_a_matrix_and_its_transpose_to_the_bit(n, dtype):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n)).astype(dtype)
    if A.dtype.kind == "c":
        A = A + 1j * rng.standard_normal((n, n))
    expected = (A + A.T) * dtype(0.5)
    original = A.copy()
    S = symmetrize(A)
    np.testing.assert_array_equal(S, expected)
    np.testing.assert_array_equal(A, original)  # a new array: A is left alone
    assert S.dtype == A.dtype and S is not A
    same = symmetrize(A, in_place=True)
    assert same is A
    np.testing.assert_array_equal(A, expected)


def test_symmetrize_takes_a_transposed_view():
    A = np.random.default_rng(0).standard_normal((40, 40))
    np.testing.assert_array_equal(symmetrize(A.T), (A + A.T) * 0.5)


@pytest.mark.parametrize("n", [2, 64, 100])
def test_the_exact_test_and_the_triangle_completion(n):
    A = np.random.default_rng(n).standard_normal((n, n))
    assert not is_symmetric(A)
    full = symmetrize_from_upper(A.copy())
    np.testing.assert_array_equal(full, np.triu(A) + np.triu(A, 1).T)
    assert is_symmetric(full) and is_symmetric(symmetrize(A))
    full[n - 1, 0] = np.nextafter(full[n - 1, 0], np.inf)  # one bit off, in the last row
    assert not is_symmetric(full)

"""The shared factorization: the same log-determinant and inverse whichever is asked for first, against numpy."""

import numpy as np
import pytest
from amd_reference import spd

from kronbox.amd.evaluation.factorization import Factorization


@pytest.mark.parametrize("n", [1, 2, 7])
@pytest.mark.parametrize("known", [False, True])
def test_logdet_and_inverse_in_either_order(n, known):
    A = spd(np.random.default_rng(n), n)
    first, second = Factorization(A, "A", symmetric=known), Factorization(A, "A", symmetric=known)
    logdet_first = first.logdet()
    inverse_first = second.inverse
    assert first.inverse.tobytes() == inverse_first.tobytes()
    assert second.logdet() == logdet_first
    assert first.positive_definite == (known or n > 1)  # a 1×1 matrix is not tested for symmetry: LU unless known
    np.testing.assert_allclose(logdet_first, np.linalg.slogdet(A)[1], rtol=1e-13)
    np.testing.assert_allclose(inverse_first, np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(A, spd(np.random.default_rng(n), n))  # A itself untouched

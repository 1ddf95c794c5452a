"""``logsumexp`` and ``softmax`` shift the maximum out: at entries near 1000 (where ``exp`` overflows float64) the
value, the gradient and the Hessian are finite and equal to the same function of the entries minus 1000."""

import numpy as np
import pytest

from kronbox import amd

x = amd.var("x", (5, 1))


@pytest.mark.parametrize("shift", [0.0, 1000.0, -1000.0])
def test_no_overflow_far_from_zero(shift):
    x0 = np.random.default_rng(0).standard_normal((5, 1))
    f = amd.logsumexp(x)
    value = f.eval(x=x0 + shift)
    reference = np.log(np.sum(np.exp(x0))) + shift  # exact algebra: logsumexp(x + c) = logsumexp(x) + c
    assert value == pytest.approx(reference, rel=1e-12)
    p = np.exp(x0) / np.sum(np.exp(x0))
    np.testing.assert_allclose(amd.grad(f, x).eval(x=x0 + shift), p, rtol=1e-12)
    np.testing.assert_allclose(amd.softmax(x).eval(x=x0 + shift), p, rtol=1e-12)
    H = amd.hessian(f, x).at(x=x0 + shift).to_dense()
    np.testing.assert_allclose(H, np.diag(p.ravel()) - p @ p.T, rtol=1e-10, atol=1e-15)

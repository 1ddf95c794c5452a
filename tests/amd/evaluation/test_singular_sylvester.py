"""The derivative of ``sqrtm`` at a singular positive semidefinite matrix does not exist, and kronbox
says so instead of returning huge numbers (issue 14, item 12): every singular PSD matrix (any rank,
exact or with rounding), through the gradient, ``value_and_grad`` and the Jacobian and Hessian
operators; a Sylvester equation without a unique solution is an error. Near-singular matrices
still get their (large, correct) derivative, checked against the closed form ½ X^{-1/2} of the
gradient of trace(sqrtm(X)) for symmetric X."""

import numpy as np
import pytest

from kronbox import amd


def singular_psd(n: int, rank: int, seed: int) -> np.ndarray:
    V = np.random.default_rng(seed).standard_normal((n, rank))
    return V @ V.T


SINGULAR = [np.diag([1.0, 0.0]), np.zeros((3, 3)), singular_psd(3, 1, 0), singular_psd(4, 2, 1),
            singular_psd(5, 4, 2), np.diag([2.0, 0.0, 3.0])]


@pytest.mark.parametrize("X0", SINGULAR,
                         ids=lambda X0: f"{X0.shape[0]}x{X0.shape[0]}-rank{np.linalg.matrix_rank(X0)}")
def test_the_derivative_of_sqrtm_at_a_singular_psd_matrix_is_an_error(X0):
    n = X0.shape[0]
    X = amd.var("X", (n, n))
    f = amd.trace(amd.sqrtm(X))
    with pytest.raises(np.linalg.LinAlgError, match="does not exist"):
        amd.grad(f, X).eval(X=X0)
    with pytest.raises(np.linalg.LinAlgError, match="does not exist"):
        amd.value_and_grad(f, X, X=X0)
    with pytest.raises(np.linalg.LinAlgError, match="does not exist"):
        amd.grad(amd.normsq(amd.sqrtm(X) @ amd.const("A", np.ones((n, n)))), X).eval(X=X0)
    with pytest.raises(np.linalg.LinAlgError):
        amd.jacobian(amd.sqrtm(X), X).at(X=X0) @ np.ones(n * n)
    with pytest.raises(np.linalg.LinAlgError):
        amd.hessian(f, X).at(X=X0) @ np.ones(n * n)
    assert np.isfinite(f.eval(X=X0))  # the function itself is defined there


@pytest.mark.parametrize("smallest", [1e-4, 1e-8])
def test_near_singular_matrices_keep_their_derivative(smallest):
    Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))
    X0 = Q @ np.diag([2.0, 1.0, smallest]) @ Q.T
    X0 = (X0 + X0.T) / 2
    X = amd.var("X", (3, 3))
    G = amd.grad(amd.trace(amd.sqrtm(X)), X).eval(X=X0)
    w, V = np.linalg.eigh(X0)
    expected = 0.5 * (V / np.sqrt(w)) @ V.T  # ∇ trace(X^{1/2}) = ½ X^{-1/2} (symmetric X)
    np.testing.assert_allclose(G, expected, rtol=1e-6 if smallest > 1e-6 else 1e-3)


def test_a_sylvester_equation_without_a_unique_solution_is_an_error():
    A = np.diag([1.0, 2.0])
    e = amd.sylvester(amd.const("A", A), amd.const("B", -A), amd.const("C", np.eye(2)))
    with pytest.raises(np.linalg.LinAlgError, match="no unique solution"):
        e.eval()
    ok = amd.sylvester(amd.const("A", A), amd.const("B", A), amd.const("C", np.eye(2))).eval()
    np.testing.assert_allclose(A @ ok + ok @ A, np.eye(2))


def test_the_command_line_says_so_in_one_line():
    from command import kronbox

    result = kronbox("diff", "trace(sqrtm(X))", "--check")  # the random point is positive definite: fine
    assert result.returncode == 0, result.stderr

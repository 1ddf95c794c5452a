"""``amd.minimize`` and the covariance example: against the closed form, dense Newton steps, finite
differences on the symmetric subspace, and the errors and warnings a user should see."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from amd_reference import spd, symmetric_projector
from zoo import commutation_twin

from kronbox import amd
from kronbox.amd.optimize.newton import truncated_cg
from kronbox.amd.optimize.objective import VecObjective
from kronbox.examples import covariance


def _problem(d: int, seed: int = 0) -> np.ndarray:
    return covariance.sample_covariance(covariance.synthetic_data(d, seed=seed))


def _commutation(n: int) -> np.ndarray:
    """``T vec(X) = vec(Xᵀ)`` for row-major vec (the zoo's entry-by-entry commutation matrix)."""
    return commutation_twin(n, n, np.float64)


def _reference_gradient(Sigma: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``∇φ`` with every entry free: ``Pᵀ − (P S P)ᵀ − 2 (P Pᵀ P)ᵀ``, ``P = Σ⁻¹`` (Matrix Cookbook)."""
    P = np.linalg.inv(Sigma)
    return P.T - (P @ S @ P).T - 2 * (P @ P.T @ P).T


def _reference_hessian(Sigma: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``∂vec(∇φ)/∂vec(Σ)`` by the product rule on the gradient, written with ``np.kron`` (row-major:
    ``vec(A X B) = (A ⊗ Bᵀ) vec X``, ``dP = −P dΣ P``)."""
    n = Sigma.shape[0]
    P, I, T = np.linalg.inv(Sigma), np.eye(n), _commutation(n)
    dP = -np.kron(P, P.T)  # vec(dP)
    dPt = T @ dP  # vec(dPᵀ)
    return (dPt - np.kron(I, P @ S) @ dPt - np.kron(P.T @ S.T, I) @ dPt
            - 2 * (np.kron(I, P @ P.T) @ dPt + np.kron(P.T, P) @ dP + np.kron(P.T @ P, I) @ dPt))


# ------------------------------------------------------------------------------- the references


def test_the_references_agree_with_central_differences():
    rng = np.random.default_rng(1)
    n = 4
    S, Sigma = spd(rng, n), spd(rng, n) + 0.3 * rng.standard_normal((n, n))  # Σ not symmetric
    phi = covariance.objective(S)
    G = _reference_gradient(Sigma, S)
    h = 1e-6
    for k in range(n * n):
        E = np.zeros(n * n)
        E[k] = h
        E = E.reshape(n, n)
        fd = (phi.eval(Sigma=Sigma + E) - phi.eval(Sigma=Sigma - E)) / (2 * h)
        assert fd == pytest.approx(G.ravel()[k], rel=1e-6, abs=1e-8)
        column = (_reference_gradient(Sigma + E, S) - _reference_gradient(Sigma - E, S)).ravel() / (2 * h)
        np.testing.assert_allclose(_reference_hessian(Sigma, S)[:, k], column, rtol=1e-5, atol=1e-7)


def test_the_closed_form_solves_the_stationarity_condition_and_is_a_minimum():
    rng = np.random.default_rng(2)
    S = _problem(7)
    Sigma = covariance.closed_form(S)
    P = np.linalg.inv(Sigma)
    np.testing.assert_allclose(2 * P @ P + S @ P, np.eye(7), atol=1e-12)
    s = np.linalg.eigvalsh(S)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(P)), np.sort((-s + np.sqrt(s * s + 8)) / 4), rtol=1e-12)
    phi = covariance.objective(S)
    best = phi.eval(Sigma=Sigma)
    for _ in range(5):
        V = rng.standard_normal((7, 7))
        assert phi.eval(Sigma=Sigma + 1e-3 * (V + V.T)) > best


# ------------------------------------------------------------------------------- the optimum


@pytest.mark.parametrize("method", ["newton-pcg", "trust-ncg", "trust-krylov", "Newton-CG", "trust-exact", "L-BFGS-B"])
def test_every_method_reaches_the_closed_form_staying_positive_definite(method):
    S = _problem(8)
    lowest = []
    result = covariance.estimate(S, method=method, tol=1e-7,
                                 callback=lambda step, X: lowest.append(np.linalg.eigvalsh(X)[0]))
    assert result.success, result.message
    assert result.grad_norm <= 1e-7
    reference = covariance.closed_form(S)
    Pi = symmetric_projector(8)  # near the minimum, ‖X − X*‖_F ≤ ‖∇φ‖_F / λ_min of the Hessian on symmetric matrices
    curvature = np.linalg.eigvalsh(Pi @ _reference_hessian(reference, S) @ Pi + np.eye(64) - Pi)[0]
    assert np.linalg.norm(result.X - reference) <= 1.5 * result.grad_norm / curvature
    np.testing.assert_array_equal(result.X, result.X.T)
    assert min(lowest) > 0
    assert result.history[0].iteration == 0 and len(result.history) == result.nit + 1
    assert (result.nhessp > 0) == (method in ("newton-pcg", "trust-ncg", "trust-krylov", "Newton-CG"))


@pytest.mark.parametrize("start", [1.5, 5.0, 40.0])
def test_a_one_by_one_variable_on_the_cone(start):
    """``log x + 2/x`` over ``x > 0``: its minimum is at ``x = 2``; a 1×1 point is tested by its Cholesky
    factorization too, and a start off the cone is refused."""
    X = amd.var("X", (1, 1))
    f = amd.logdet(X) + 2.0 * amd.trace(amd.inv(X))
    result = amd.minimize(f, np.array([[start]]), symmetric=True, tol=1e-12)
    assert result.success, result.message
    np.testing.assert_allclose(result.X, [[2.0]], rtol=1e-10)
    with pytest.raises(ValueError, match="not positive definite"):
        amd.minimize(f, np.array([[-start]]), symmetric=True)


def test_trial_points_outside_the_cone_are_rejected(monkeypatch):
    """From Σ = 30 I with a trust radius of 100 the first steps reach past the cone; without the guard
    the iterates leave it (Σ indefinite, φ below its minimum), with it they stay in it and converge."""
    S = _problem(6)
    options = {"start": 30 * np.eye(6), "options": {"initial_trust_radius": 100.0}}
    lowest = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", amd.NotConvergedWarning)
        covariance.estimate(S, positive_definite=False,
                            callback=lambda step, X: lowest.append(np.linalg.eigvalsh(X)[0]), **options)
    assert min(lowest) < 0
    rejected, factorized = [], VecObjective.cone_factorization
    monkeypatch.setattr(VecObjective, "cone_factorization",
                        lambda self, X: factorized(self, X) or rejected.append(X))
    lowest.clear()
    result = covariance.estimate(S, callback=lambda step, X: lowest.append(np.linalg.eigvalsh(X)[0]), **options)
    assert result.success, result.message
    assert rejected and min(lowest) > 0
    np.testing.assert_allclose(result.X, covariance.closed_form(S), rtol=1e-7)


# ------------------------------------------------------------------------------- Hessians


def test_symmetric_hessian_products_are_the_projected_dense_hessian():
    rng = np.random.default_rng(3)
    n = 5
    S, Sigma = _problem(n), spd(rng, n)
    objective = VecObjective(covariance.objective(S), None, Sigma, symmetric=True)
    x = Sigma.ravel()
    lazy = np.column_stack([objective.hessp(x, e) for e in np.eye(n * n)])
    Pi = symmetric_projector(n)
    np.testing.assert_allclose(lazy, Pi @ _reference_hessian(Sigma, S) @ Pi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(objective.hess(x), lazy, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(objective.value_and_grad(x)[1], Pi @ _reference_gradient(Sigma, S).ravel(), rtol=1e-12)


def test_free_hessian_products_are_the_dense_hessian():
    rng = np.random.default_rng(4)
    n = 4
    S, Sigma = _problem(n), spd(rng, n) + 0.2 * rng.standard_normal((n, n))
    objective = VecObjective(covariance.objective(S), "Sigma", Sigma)
    x = Sigma.ravel()
    lazy = np.column_stack([objective.hessp(x, e) for e in np.eye(n * n)])
    np.testing.assert_allclose(lazy, _reference_hessian(Sigma, S), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(objective.hess(x), lazy, rtol=1e-10, atol=1e-12)


def test_newton_steps_with_the_lazy_hessian_are_those_with_the_dense_one():
    rng = np.random.default_rng(5)
    n = 12
    S = _problem(n)
    V = rng.standard_normal((n, n))
    Sigma0 = covariance.closed_form(S) + 0.01 * (V + V.T)
    objective = VecObjective(covariance.objective(S), None, Sigma0, symmetric=True)
    Pi = symmetric_projector(n)
    lazy = dense = Sigma0.ravel()
    norms = []
    for _ in range(3):
        H = spla.LinearOperator((n * n, n * n), matvec=lambda p, x=lazy: objective.hessp(x, p), dtype=float)
        g = objective.value_and_grad(lazy)[1]
        lazy = lazy + spla.cg(H, -g, rtol=1e-14, maxiter=2000)[0]
        D = dense.reshape(n, n)
        g_dense = Pi @ _reference_gradient(D, S).ravel()
        dense = dense + np.linalg.lstsq(Pi @ _reference_hessian(D, S) @ Pi, -g_dense, rcond=1e-12)[0]
        np.testing.assert_allclose(lazy, dense, rtol=1e-9, atol=1e-11)
        norms.append(np.linalg.norm(g_dense))
    assert norms[1] < 2 * norms[0] ** 2 and norms[2] < 2 * norms[1] ** 2  # quadratic convergence


# ------------------------------------------------------------------------------- symmetric variables


def _unsymmetric_objective(n: int, rng: np.random.Generator):
    X = amd.var("X", (n, n))
    A, B = amd.const("A", rng.standard_normal((n, n))), amd.const("B", rng.standard_normal((n, n)))
    return amd.trace(A @ X) + amd.normsq(B @ X) - amd.logdet(X), X


def test_symmetric_gradient_matches_differences_on_the_symmetric_subspace():
    rng = np.random.default_rng(6)
    n = 4
    f, _ = _unsymmetric_objective(n, rng)
    X0 = spd(rng, n)
    G = VecObjective(f, None, X0, symmetric=True).value_and_grad(X0.ravel())[1].reshape(n, n)
    h = 1e-6
    expected = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            E = np.zeros((n, n))
            E[i, j] = E[j, i] = h
            derivative = (f.eval(X=X0 + E) - f.eval(X=X0 - E)) / (2 * h)
            expected[i, j] = derivative if i == j else derivative / 2  # ⟨G, E_ij + E_ji⟩ = 2 G_ij
    np.testing.assert_allclose(G, expected, rtol=1e-6, atol=1e-8)
    free = amd.grad(f, "X").eval(X=X0)
    assert np.abs(free - free.T).max() > 0.1  # the free-entry gradient is not symmetric: sym() is doing work


def test_symmetric_hessian_matches_differences_of_the_symmetric_gradient():
    rng = np.random.default_rng(7)
    n = 4
    f, _ = _unsymmetric_objective(n, rng)
    X0 = spd(rng, n)
    objective = VecObjective(f, None, X0, symmetric=True)
    V = rng.standard_normal((n, n))
    V = V + V.T
    h = 1e-6
    gradient = objective.value_and_grad
    fd = (gradient((X0 + h * V).ravel())[1] - gradient((X0 - h * V).ravel())[1]) / (2 * h)
    np.testing.assert_allclose(objective.hessp(X0.ravel(), V.ravel()), fd, rtol=1e-6, atol=1e-8)
    # the closed form: sym(2 BᵀB V + X⁻¹ V X⁻¹) for symmetric X and V
    BtB, P = f.symbols["B"].value.T @ f.symbols["B"].value, np.linalg.inv(X0)
    closed = BtB @ V + V @ BtB + P @ V @ P
    np.testing.assert_allclose(objective.hessp(X0.ravel(), V.ravel()), closed.ravel(), rtol=1e-10, atol=1e-12)
    W = rng.standard_normal((n, n))  # an unsymmetric direction acts through its symmetric part
    np.testing.assert_allclose(objective.hessp(X0.ravel(), W.ravel()),
                               objective.hessp(X0.ravel(), ((W + W.T) / 2).ravel()), rtol=1e-12)


def test_a_symmetric_minimum_of_an_unsymmetric_objective():
    """min trace(A X) + ‖B X‖² − logdet X over symmetric X: stationary where sym(Aᵀ + 2BᵀB X) = X⁻¹."""
    rng = np.random.default_rng(8)
    n = 5
    f, _ = _unsymmetric_objective(n, rng)
    f = f + amd.normsq(amd.var("X", (n, n)))  # bounded below whatever A is
    result = amd.minimize(f, np.eye(n), symmetric=True, tol=1e-10)
    assert result.success, result.message
    X = result.X
    A, B = f.symbols["A"].value, f.symbols["B"].value
    G = A.T + 2 * B.T @ B @ X + 2 * X - np.linalg.inv(X)
    np.testing.assert_allclose((G + G.T) / 2, 0, atol=1e-9)


# ------------------------------------------------------------------------------- reporting


def test_progress_lines_and_callback():
    S = _problem(6)
    lines, steps = [], []
    result = covariance.estimate(S, progress=lines.append, callback=lambda step, X: steps.append(step))
    assert "objective" in lines[0] and "‖∇f‖_F" in lines[0]
    assert len(lines) == result.nit + 2  # the header, iteration 0, then one line per iteration
    assert [s.iteration for s in steps] == list(range(1, result.nit + 1))
    assert steps[-1].grad_norm == pytest.approx(result.grad_norm)
    assert f"{result.history[-1].grad_norm:.2e}" in lines[-1]


def test_progress_true_writes_to_stderr(capsys):
    covariance.estimate(_problem(4), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "objective" in captured.err.splitlines()[0]


def test_a_run_that_does_not_converge_warns_or_raises():
    S = _problem(10)
    with pytest.warns(amd.NotConvergedWarning, match=r"did not converge.*Maximum number of iterations"):
        result = covariance.estimate(S, maxiter=2)
    assert not result.success and result.nit == 2 and result.polish_steps == 0 and result.grad_norm > 1e-8
    with pytest.raises(amd.NotConvergedError, match="did not converge") as caught:
        covariance.estimate(S, maxiter=2, check=True)
    assert caught.value.result.nit == 2


def test_a_callback_may_stop_the_run():
    def stop(step, X):
        if step.iteration == 3:
            raise StopIteration

    with pytest.warns(amd.NotConvergedWarning, match="stopped by the callback after 3 iterations"):
        result = covariance.estimate(_problem(6), callback=stop)
    assert not result.success and result.nit == 3


def test_polishing_finishes_where_round_off_stops_the_trust_region():
    """An offset of 10⁹ puts the round-off of f (~10⁻⁷) above the decrease of the last Newton steps."""
    S = _problem(10)
    f = covariance.objective(S) + 1e9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", amd.NotConvergedWarning)
        unpolished = amd.minimize(f, np.eye(10), symmetric=True, polish=False, method="trust-ncg")
    polished = amd.minimize(f, np.eye(10), symmetric=True, method="trust-ncg")
    assert not unpolished.success and unpolished.grad_norm > 1e-8
    assert polished.success and polished.polish_steps >= 1 and "polishing" in polished.message
    reference = covariance.closed_form(S)
    assert np.linalg.norm(polished.X - reference) < np.linalg.norm(unpolished.X - reference) / 10


def test_the_truncated_newton_line_search_takes_steps_within_round_off():
    S = _problem(10)
    result = amd.minimize(covariance.objective(S) + 1e9, np.eye(10), symmetric=True, polish=False)
    assert result.success and result.polish_steps == 0 and "newton-pcg" in result.message
    assert np.linalg.norm(result.X - covariance.closed_form(S)) < 1e-6


# ------------------------------------------------------------------------------- truncated Newton


def test_the_cone_preconditioner_saves_hessian_products():
    S = _problem(30)
    reference = covariance.closed_form(S)
    conditioned = covariance.estimate(S, preconditioner="auto")
    plain = covariance.estimate(S, preconditioner=None)
    for result in (conditioned, plain):
        assert result.success and np.linalg.norm(result.X - reference) < 1e-8 * np.linalg.norm(reference)
    assert conditioned.nhessp * 3 < plain.nhessp


def test_truncated_cg_solves_or_stops_at_negative_curvature():
    rng = np.random.default_rng(4)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    g = rng.standard_normal(6)
    M = np.diag(rng.uniform(0.5, 2, 6))
    spd_H = Q @ np.diag(rng.uniform(1, 10, 6)) @ Q.T
    p, products = truncated_cg(lambda v: spd_H @ v, g, lambda r: M @ r, rtol=1e-13, maxiter=100)
    np.testing.assert_allclose(p, np.linalg.solve(spd_H, -g), rtol=1e-10, atol=1e-12)
    assert products <= 7  # CG is exact in n steps, up to round-off
    negative_H = -spd_H  # the first direction −M g has negative curvature: it is taken as it is
    p, products = truncated_cg(lambda v: negative_H @ v, g, lambda r: M @ r, rtol=1e-13, maxiter=100)
    np.testing.assert_allclose(p, -M @ g)
    assert products == 1


def test_truncated_newton_leaves_a_region_of_negative_curvature():
    """``Σ xᵢ⁴/4 − xᵢ²/2`` from a point where every curvature ``3xᵢ² − 1`` is negative: minimizers ``±1``."""
    x = amd.var("x", (3, 1))
    f = amd.sum(amd.power(x, 4)) / 4 - amd.sum(x * x) / 2
    x0 = np.array([[0.1], [-0.2], [0.3]])
    result = amd.minimize(f, x0, tol=1e-10)
    assert result.success
    np.testing.assert_allclose(result.X, np.sign(x0), rtol=1e-9)


def test_an_exact_preconditioner_makes_one_newton_step_of_one_product():
    """``‖A X − B‖²_F`` has the Hessian ``2 (AᵀA ⊗ I)``; ``V ↦ (AᵀA)⁻¹ V / 2`` is its inverse."""
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    X = amd.var("X", (4, 3))
    f = amd.normsq(amd.const("A", A) @ X - amd.const("B", B))
    inverse = np.linalg.inv(A.T @ A)
    result = amd.minimize(f, np.zeros((4, 3)), preconditioner=lambda X: (lambda V: inverse @ V / 2))
    assert result.success and result.nit == 1 and result.nhessp == 1
    np.testing.assert_allclose(result.X, np.linalg.lstsq(A, B, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_a_preconditioner_that_is_not_positive_definite_is_reported():
    with pytest.warns(amd.NotConvergedWarning, match="not a descent direction"):
        result = covariance.estimate(_problem(4), preconditioner=lambda X: (lambda V: 0 * V))
    assert not result.success and result.nit == 0


def test_a_stationary_start_returns_at_once():
    S = _problem(5)
    result = covariance.estimate(S, start=covariance.closed_form(S), tol=1e-6)
    assert result.success and result.nit == 0 and result.nfev == 1


# ------------------------------------------------------------------------------- bad input


def _phi_and_var(n: int = 3):
    return covariance.objective(_problem(n)), np.eye(n)


@pytest.mark.parametrize("call, error, words", [
    (lambda f, X0: amd.minimize(amd.inv(f.symbols["Sigma"]), X0), amd.ShapeError, ["scalar objective", "3×3"]),
    (lambda f, X0: amd.minimize(f, np.eye(4)), amd.ShapeError, ["X0 is 4×4", "Sigma is declared 3×3"]),
    (lambda f, X0: amd.minimize(f, -X0, symmetric=True), ValueError, ["not positive definite", "Cholesky"]),
    (lambda f, X0: amd.minimize(f, np.diag([1.0, -1, -1]), symmetric=True), ValueError, ["not positive definite"]),
    (lambda f, X0: amd.minimize(f, X0 + np.triu(np.ones((3, 3)), 1), symmetric=True), ValueError,
     ["not symmetric", "X0 − X0ᵀ"]),
    (lambda f, X0: amd.minimize(f, np.zeros((3, 3))), ValueError, ["not finite at the start", "singular"]),
    (lambda f, X0: amd.minimize(f, np.full((3, 3), np.nan)), ValueError, ["not finite"]),
    (lambda f, X0: amd.minimize(f, X0 * 1j), TypeError, ["real matrix", "complex"]),
    (lambda f, X0: amd.minimize(f, X0, method="nelder-mead"), ValueError, ["unknown method", "trust-ncg"]),
    (lambda f, X0: amd.minimize(f, X0, wrt="S"), ValueError, ["'S' is a constant"]),
    (lambda f, X0: amd.minimize(f, X0, wrt="Y"), ValueError, ["'Y' is not a variable"]),
    (lambda f, X0: amd.minimize(f, X0, values={"Sigma": X0}), ValueError, ["the variable minimized over"]),
    (lambda f, X0: amd.minimize(f, X0, tol=0), ValueError, ["tol must be a positive number"]),
    (lambda f, X0: amd.minimize(f, X0, tol="1e-8"), ValueError, ["tol must be a positive number", "'1e-8'"]),
    (lambda f, X0: amd.minimize(f, X0, progress=1), TypeError, ["progress must be", "1"]),
    (lambda f, X0: amd.minimize(f, X0, values=[1, 2]), TypeError, ["values must map", "list"]),
    (lambda f, X0: amd.minimize(f, X0, symmetric=True, preconditioner=lambda X: 3), TypeError,
     ["must return a function V ↦ M V", "int"]),
    (lambda f, X0: amd.minimize(f, X0, symmetric=True, preconditioner=lambda X: (lambda V: 2.0)), ValueError,
     ["must return a 3×3 matrix", "shape ()"]),
    (lambda f, X0: amd.minimize(f, X0, maxiter=0), ValueError, ["maxiter"]),
    (lambda f, X0: amd.minimize("logdet(X)", X0), TypeError, ["amd expression"]),
    (lambda f, X0: amd.minimize(f, X0, positive_definite=True), ValueError, ["needs symmetric=True"]),
    (lambda f, X0: amd.minimize(f, X0, method="trust-ncg", preconditioner=None), ValueError,
     ["method='newton-pcg' only", "trust-ncg"]),
    (lambda f, X0: amd.minimize(f, X0, preconditioner="cone"), ValueError, ["symmetric=True"]),
    (lambda f, X0: amd.minimize(f, X0, preconditioner="jacobi"), ValueError, ["'auto', 'cone', None", "'jacobi'"]),
], ids=["matrix-valued", "wrong shape", "negative definite", "indefinite with det > 0", "not symmetric",
        "singular", "nan", "complex", "method", "wrt constant", "wrt unknown", "values has the variable", "tol",
        "tol a string", "progress", "values a list", "preconditioner not a function", "preconditioner's shape",
        "maxiter", "not an expression", "cone without symmetry", "preconditioner for scipy",
        "cone preconditioner without symmetry", "unknown preconditioner"])
def test_bad_input_is_reported_clearly(call, error, words):
    f, X0 = _phi_and_var()
    with pytest.raises(error) as caught:
        call(f, X0)
    for word in words:
        assert word in str(caught.value)


def test_several_variables_need_wrt_and_the_others_need_values():
    X, Y = amd.var("X", (2, 2)), amd.var("Y", (2, 2))
    f = amd.normsq(X - Y)
    with pytest.raises(ValueError, match=r"wrt=.*X, Y"):
        amd.minimize(f, np.eye(2))
    with pytest.raises(ValueError, match="no value given for the variable 'Y'"):
        amd.minimize(f, np.eye(2), wrt="X")
    target = np.arange(4.0).reshape(2, 2)
    result = amd.minimize(f, np.eye(2), wrt=X, values={"Y": target})
    np.testing.assert_allclose(result.X, target, atol=1e-9)


def test_an_unshaped_variable_takes_the_shape_of_the_start():
    x = amd.var("x")
    f = amd.normsq(x - amd.const("c", np.ones((3, 1)))) + amd.sum(x)
    result = amd.minimize(f, np.zeros((3, 1)), method="L-BFGS-B")
    np.testing.assert_allclose(result.X, 0.5 * np.ones((3, 1)), atol=1e-8)


def test_a_hessian_operator_is_freed_without_waiting_for_the_garbage_collector():
    """Each Newton iteration builds one; a reference cycle would keep its factors until a collection."""
    import gc
    import tracemalloc

    n = 60
    S = _problem(n)
    hessian = amd.hessian(covariance.objective(S), "Sigma")
    hessian.at(Sigma=np.eye(n))
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            hessian.at(Sigma=np.eye(n))
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
    assert left < 8 * n * n  # less than one n×n matrix: five Hessians' factors were not kept


def test_scipy_runs_with_one_blas_thread_per_pool_unless_told_otherwise():
    from threadpoolctl import threadpool_info

    def threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before, seen = threads(), []
    covariance.estimate(_problem(5), callback=lambda step, X: seen.append(threads()))
    assert seen and all(s == {1} for s in seen) and threads() == before
    seen.clear()
    covariance.estimate(_problem(5), blas_threads=None, callback=lambda step, X: seen.append(threads()))
    assert seen and all(s == before for s in seen)


def test_a_declared_symmetric_variable_is_minimized_through_its_merged_hessian(monkeypatch):
    """A variable declared symmetric: the Hessian products are the merged Kron terms bound per point (no kronbox
    operator is built), the run converges to the closed form, and ``symmetric=False`` is refused."""
    S = _problem(6)
    Sigma = amd.var("Sigma", (6, 6), symmetric=True)
    P = amd.inv(Sigma)
    phi = amd.logdet(Sigma) + amd.trace(amd.const("S", S) @ P) + amd.normsq(P)
    monkeypatch.setattr(VecObjective, "operator", lambda self, x: pytest.fail("a kronbox operator was built"))
    result = amd.minimize(phi, np.eye(6), tol=1e-10)
    assert result.success and result.nhessp > 0, result.message
    np.testing.assert_allclose(result.X, covariance.closed_form(S), rtol=1e-8)
    with pytest.raises(ValueError, match="declared symmetric"):
        amd.minimize(phi, np.eye(6), symmetric=False)


class _FlatObjective:
    """What the trace reads of an objective: a constant value and gradient, and the value of the last trial."""

    def __init__(self, trial: float):
        self.trial = trial

    def value_and_grad(self, x):
        return 1.0, np.ones_like(x)

    def latest_value(self) -> float:
        return self.trial


@pytest.mark.parametrize("trial", [np.inf, np.nan, 5.0])
def test_a_scipy_run_that_stays_put_trying_steps_where_f_is_not_finite_is_ended(trial):
    """Iterations in a row at one point whose trial values are not finite end the run (it is polished then);
    trials of finite value beyond the round-off do not."""
    import sys

    import scipy.optimize

    minimize_module = sys.modules["kronbox.amd.optimize.minimize"]
    trace = minimize_module._Trace(_FlatObjective(trial), 1e-8, None, False)
    x = np.zeros(4)
    trace.record(x)
    calls = 0
    for _ in range(minimize_module.STALLED + 2):
        calls += 1
        try:
            trace.scipy_callback(scipy.optimize.OptimizeResult(x=x))
        except StopIteration:
            break
    stops = not np.isfinite(trial)
    assert trace.stalled == stops and not trace.at_round_off
    assert calls == (minimize_module.STALLED if stops else minimize_module.STALLED + 2)


def test_trust_krylov_reaches_tol_on_covariance_estimation():
    """scipy's trust-krylov stalls a hair above tol here, proposing NaN steps until maxiter: the run is ended and
    polished by Newton steps to ‖∇f‖ ≤ tol."""
    S = _problem(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = covariance.estimate(S, method="trust-krylov", tol=1e-8)
    assert result.success and result.nit < 50, result.message
    assert "not finite" in result.message and result.polish_steps >= 1  # the stall this is about
    np.testing.assert_allclose(result.X, covariance.closed_form(S), rtol=1e-7)

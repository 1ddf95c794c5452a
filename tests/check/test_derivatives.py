"""kronbox.check.gradient / jacobian / hessian: truthy reports for correct derivatives, both reference
methods in the detail (the complex step only where the evaluation is analytic), and failing reports
when a rule of the derivative table is deliberately broken (the checks use the function alone)."""

from __future__ import annotations

import numpy as np
import pytest

import kronbox as kb
from kronbox import amd
from kronbox.amd.differentiation import rules
from kronbox.amd.expressions.expr import transpose
from kronbox.amd.expressions.linear_map import kron, negate
from kronbox.check import derivatives

N = 4


def general(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, n)) + 3 * np.eye(n)


def analytic_cases():
    """``name → (function, variable, values or None)``: functions the complex step applies to."""
    X, x = amd.var("X", (N, N)), amd.var("x", (N, 1))
    S = amd.const("S", np.random.default_rng(1).standard_normal((N, N)))
    A = amd.const("A", np.random.default_rng(2).standard_normal((N, N)))
    return {
        "logdet": (amd.logdet(X), "X", None),
        "trace(S inv X)": (amd.trace(S @ amd.inv(X)), "X", None),
        "covariance": (-amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X)), "X", None),
        "trace(A X S X')": (amd.trace(A @ X @ S @ X.T), "X", {"X": general(N, 3)}),
        "x'Ax": (x.T @ A @ x, "x", None),
        "sum(exp(X) .* tanh(X))": (amd.sum(amd.exp(X) * amd.tanh(X)), "X", {"X": general(N, 4) / 3}),
        "det": (amd.det(X), "X", {"X": general(N, 5)}),
    }


def non_analytic_cases():
    X = amd.var("X", (N, N))
    B = amd.const("B", np.random.default_rng(6).standard_normal((N, N)))
    return {
        "sum(abs(X))": (amd.sum(amd.abs(X) * B), "X", None),
        "sum(relu(X))": (amd.sum(amd.relu(X) * (B + 1)), "X", None),
        "trace(sqrtm X)": (amd.trace(amd.sqrtm(X) @ B), "X", None),
        "normsq(sqrtm X)": (amd.normsq(amd.sqrtm(X) @ B), "X", None),
        "sylvester": (amd.sum(amd.sylvester(X, X, B)), "X", None),
    }


# -- correct derivatives pass, with both references where they apply ----------------------------------------
@pytest.mark.parametrize("name", list(analytic_cases()))
def test_analytic_functions_pass_both_references(name):
    f, wrt, values = analytic_cases()[name]
    for report, methods in (
        (kb.check.gradient(f, wrt, values), ("central differences", "complex step")),
        (kb.check.hessian(f, wrt, values), ("central differences of the gradient", "differences of the complex step")),
    ):
        assert report, str(report)
        assert report.passed and report.error <= report.tolerance
        for method in methods:
            assert method in report.detail, report.detail
        assert "ok" in str(report)


@pytest.mark.parametrize("name", list(non_analytic_cases()))
def test_non_analytic_functions_skip_the_complex_step(name):
    f, wrt, values = non_analytic_cases()[name]
    for report in (kb.check.gradient(f, wrt, values), kb.check.hessian(f, wrt, values)):
        assert report, str(report)
        assert "complex step" not in report.detail, report.detail
        assert "central differences" in report.detail


@pytest.mark.parametrize(("F", "analytic"), [
    (lambda X: amd.inv(X), True), (lambda X: X @ X.T @ X, True), (lambda X: amd.exp(X) * X, True),
    (lambda X: amd.sqrtm(X), False), (lambda X: amd.abs(X) @ X, False), (lambda X: amd.relu(X - 1), False),
], ids=["inv", "X X' X", "exp(X) .* X", "sqrtm", "abs(X) X", "relu"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_jacobian_reports(F, analytic, order):
    X = amd.var("X", (N, N))
    report = kb.check.jacobian(F(X), "X", order=order)
    assert report, str(report)
    assert "central differences" in report.detail
    assert ("complex step" in report.detail) is analytic


def test_reports_of_a_vector_function_of_a_vector():
    x = amd.var("x", (N, 1))
    A = amd.const("A", np.random.default_rng(8).standard_normal((N, N)))
    report = kb.check.jacobian(amd.tanh(A @ x) * x, "x")
    assert report and "complex step" in report.detail


def test_a_value_given_for_the_variable_is_used():
    X = amd.var("X", (N, N))
    f = amd.logdet(X)
    report = kb.check.gradient(f, "X", {"X": general(N, 9)})
    assert report
    with pytest.raises(ValueError, match="negative determinant"):
        kb.check.gradient(f, "X", {"X": -np.eye(N) + np.diag([0, 0, 0, 2.0])})


def test_the_checked_variable_must_be_real():
    X = amd.var("X", (N, N))
    with pytest.raises(ValueError, match=r"'X'.*real"):
        kb.check.gradient(amd.sum(X), "X", {"X": np.eye(N) * (1 + 1j)})


# -- broken derivative rules are noticed ------------------------------------------------------------------
def _inv_with_the_sign_flipped(F, i):
    return kron(F, transpose(F))  # the table says −F ⊗ Fᵀ


def _inv_with_the_transposes_swapped(F, i):
    return negate(kron(transpose(F), F))  # right only when X is symmetric


def _transpose_as_identity(F, i):
    return rules.identity(F.args[0].shape)  # the table says I ⊠ I


GENERAL = {"Xb": general(N, 10)}


def test_a_sign_flip_in_the_inverse_rule_fails_all_three_checks(monkeypatch):
    Xb = amd.var("Xb", (N, N))  # names of their own: nothing built here is shared with other tests
    S = amd.const("Sb", np.random.default_rng(11).standard_normal((N, N)))
    f, F = amd.trace(S @ amd.inv(Xb)), amd.inv(Xb)
    monkeypatch.setitem(rules.LOCAL, "inv", _inv_with_the_sign_flipped)
    reports = [kb.check.gradient(f, "Xb"), kb.check.jacobian(F, "Xb"), kb.check.hessian(amd.logdet(Xb), "Xb"),
               kb.check.gradient(amd.sum(amd.abs(amd.inv(Xb))), "Xb")]  # the last one without the complex step
    for report in reports:
        assert not report, str(report)
        assert report.error > report.tolerance
        assert report.error > 0.5  # a sign: the error is of the size of the derivative
        assert "FAILED" in str(report)
    monkeypatch.undo()
    assert kb.check.gradient(f, "Xb") and kb.check.jacobian(F, "Xb") and kb.check.hessian(amd.logdet(Xb), "Xb")


def test_a_transposition_error_fails_the_checks_at_a_non_symmetric_point(monkeypatch):
    """Random values are symmetric for square symbols, where ``X⁻¹ = X⁻ᵀ``: a point of one's own
    (here a non-symmetric one) is what exposes a transposition error."""
    Xb = amd.var("Xb", (N, N))
    S = amd.const("Sb", np.random.default_rng(12).standard_normal((N, N)))
    f, F = amd.trace(S @ amd.inv(Xb)), amd.inv(Xb)
    monkeypatch.setitem(rules.LOCAL, "inv", _inv_with_the_transposes_swapped)
    for report in (kb.check.gradient(f, "Xb", GENERAL), kb.check.jacobian(F, "Xb", GENERAL),
                   kb.check.hessian(amd.logdet(Xb), "Xb", GENERAL)):
        assert not report, str(report)
    monkeypatch.setitem(rules.LOCAL, "transpose", _transpose_as_identity)
    assert not kb.check.gradient(amd.trace(Xb @ S @ Xb.T), "Xb")


class _Skewed:
    """A Hessian with an antisymmetric error ``K``: its quadratic form ``vᵀ(H + K)v`` is right."""

    def __init__(self, derivative, K):
        self.derivative, self.K = derivative, K

    def at(self, *args, **kwargs):
        return self.derivative.at(*args, **kwargs) + kb.Dense(self.K)


@pytest.mark.parametrize("name", ["logdet", "covariance", "x'Ax"])
def test_a_hessian_with_an_antisymmetric_error_fails(monkeypatch, name):
    f, wrt, values = analytic_cases()[name]
    size = f.symbols[wrt].shape[0] * f.symbols[wrt].shape[1]
    B = np.random.default_rng(15).standard_normal((size, size))
    true_hessian = amd.hessian(f, wrt).at(values or kb.check.random_values(f)).to_dense()
    K = (B - B.T) * np.linalg.norm(true_hessian) / np.linalg.norm(B - B.T)
    original = derivatives.hessian_of
    monkeypatch.setattr(derivatives, "hessian_of", lambda e, x: _Skewed(original(e, x), K))
    report = kb.check.hessian(f, wrt, values)
    assert not report, str(report)
    assert report.error > 0.1


# -- random values ----------------------------------------------------------------------------------
def test_random_values_are_spd_for_square_symbols_and_normal_otherwise():
    X, R, x, a = amd.var("X", (5, 5)), amd.var("R", (3, 5)), amd.var("x", (5, 1)), amd.var("a", ())
    S = amd.const("S", np.eye(5))
    e = amd.trace(X @ S) + amd.sum(R @ x) * a
    values = kb.check.random_values(e, seed=3)
    assert set(values) == {"X", "R", "x", "a"}  # the constant keeps its own value
    assert values["X"].shape == (5, 5) and values["R"].shape == (3, 5) and values["x"].shape == (5, 1)
    assert isinstance(values["a"], float)
    np.testing.assert_array_equal(values["X"], values["X"].T)
    assert np.linalg.eigvalsh(values["X"]).min() > 0
    np.linalg.cholesky(values["X"])
    assert (values["R"] < 0).any() and (values["R"] > 0).any()  # standard normal, not positive
    again = kb.check.random_values(e, seed=3)
    for name in values:
        np.testing.assert_array_equal(values[name], again[name])
    assert not np.array_equal(kb.check.random_values(e, seed=4)["X"], values["X"])


def test_random_values_need_shapes():
    Z = amd.var("Z")
    with pytest.raises(ValueError, match="'Z'"):
        kb.check.random_values(amd.trace(Z))
    assert kb.check.gradient(amd.logdet(Z), "Z", {"Z": general(3, 14)})  # a value of one's own will do

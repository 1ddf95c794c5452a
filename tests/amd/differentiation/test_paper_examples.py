"""Worked examples of matrix calculus through :mod:`kronbox.amd`, each against numpy.

- The AMD paper's gradients (``logdet``, ``trace(S X⁻¹)``, ``trace(A X B X)``, ``trace((I+X)⁻¹XᵀX)``,
  the covariance objective and its Hessian) against their closed forms in numpy and central
  differences.
- Vector calculus from the lecture notes: ``xᵀAx``, ``‖Ax − b‖²``, ``⟨S, X⟩ − log det X``, the
  logistic loss.
- Taylor series (``amd.taylor``) of ``logdet`` and ``trace((I − X)⁻¹)``: the terms against the known
  series and the partial sums converging at the rate of the order.
- Random expression trees (hypothesis) against central differences of their numpy twins.
- The lazy Hessian in scipy's ``cg``, ``minres`` and ``eigsh`` against a dense finite-difference
  Hessian solved by numpy.

Row-major ``vec`` (``X.ravel()``); gradients with every entry of ``X`` independent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from amd_reference import assert_close, fd_gradient, fd_hessian, fd_jacobian, near_identity, spd
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import box_twin

import kronbox as kb
from kronbox import amd


def check_gradient(f: amd.Expr, wrt: str, values: dict, closed: np.ndarray | None,
                   twin: Callable[[np.ndarray], float], rtol: float = 1e-7) -> np.ndarray:
    """``amd.grad`` against the closed form (if any) and central differences of the numpy ``twin``."""
    G = np.asarray(amd.grad(f, wrt).eval(values))
    X = values[wrt]
    assert G.shape == np.shape(X)
    if closed is not None:
        assert_close(G, closed, 1e-11, f"{f}: closed form")
    assert_close(G, fd_gradient(twin, X), rtol, f"{f}: central differences")
    return G


# --------------------------------------------------------------------- the AMD paper's examples
def test_logdet():
    rng = np.random.default_rng(11)
    X0 = near_identity(rng, 4)
    X = amd.var("X", (4, 4))
    check_gradient(amd.logdet(X), "X", {"X": X0}, np.linalg.inv(X0).T, lambda X: np.linalg.slogdet(X)[1])


def test_trace_S_inverse():
    rng = np.random.default_rng(12)
    X0, S0 = near_identity(rng, 4), rng.standard_normal((4, 4))
    X, S = amd.var("X", (4, 4)), amd.const("S", S0)
    Xi = np.linalg.inv(X0)
    check_gradient(amd.trace(S @ amd.inv(X)), "X", {"X": X0}, -(Xi @ S0 @ Xi).T,
                   lambda X: np.trace(S0 @ np.linalg.inv(X)))


def test_trace_A_X_B_X():
    rng = np.random.default_rng(13)
    X0, A0, B0 = (rng.standard_normal((3, 3)) for _ in range(3))
    X, A, B = amd.var("X", (3, 3)), amd.const("A", A0), amd.const("B", B0)
    check_gradient(amd.trace(A @ X @ B @ X), "X", {"X": X0}, (B0 @ X0 @ A0).T + (A0 @ X0 @ B0).T,
                   lambda X: np.trace(A0 @ X @ B0 @ X))


def test_trace_inverse_I_plus_X_times_XtX():
    rng = np.random.default_rng(14)
    X0 = 0.5 * rng.standard_normal((4, 4))
    X = amd.var("X", (4, 4))
    M = np.linalg.inv(np.eye(4) + X0)
    closed = -(M @ X0.T @ X0 @ M).T + X0 @ M + X0 @ M.T  # d tr(M⁻¹ XᵀX), M = I + X
    check_gradient(amd.trace(amd.inv(amd.eye() + X) @ X.T @ X), "X", {"X": X0}, closed,
                   lambda X: np.trace(np.linalg.inv(np.eye(4) + X) @ X.T @ X))


def covariance_objective(Sigma: amd.Expr, S: amd.Expr) -> amd.Expr:
    """``−logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F``."""
    P = amd.inv(Sigma)
    return -amd.logdet(Sigma) - amd.trace(S @ P) - amd.normsq(P)


def covariance_numpy(Sigma: np.ndarray, S: np.ndarray) -> float:
    P = np.linalg.inv(Sigma)
    return -np.linalg.slogdet(Sigma)[1] - np.trace(S @ P) - np.sum(P * P)


def covariance_gradient_numpy(Sigma: np.ndarray, S: np.ndarray) -> np.ndarray:
    """The gradient for any ``Σ``, ``S``: ``−Pᵀ + (P S P)ᵀ + 2 (P Pᵀ P)ᵀ`` with ``P = Σ⁻¹``."""
    P = np.linalg.inv(Sigma)
    return -P.T + (P @ S @ P).T + 2 * (P @ P.T @ P).T


@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "general"])
def test_covariance_gradient(symmetric):
    rng = np.random.default_rng(15)
    n = 4
    if symmetric:
        Sigma0, S0 = spd(rng, n), spd(rng, n)
    else:
        Sigma0, S0 = near_identity(rng, n), rng.standard_normal((n, n))
    f = covariance_objective(amd.var("Sigma", (n, n)), amd.const("S", S0))
    G = check_gradient(f, "Sigma", {"Sigma": Sigma0}, covariance_gradient_numpy(Sigma0, S0),
                       lambda X: covariance_numpy(X, S0))
    if symmetric:
        P = np.linalg.inv(Sigma0)
        assert_close(G, -P + P @ S0 @ P + 2 * P @ P @ P, 1e-11, "−P + P S P + 2 P³")
    value, grad = amd.value_and_grad(f, "Sigma", {"Sigma": Sigma0})
    assert abs(value - covariance_numpy(Sigma0, S0)) < 1e-12 * max(1.0, abs(value))
    assert_close(grad, G, 1e-13, "value_and_grad")


def test_covariance_hessian():
    rng = np.random.default_rng(16)
    n = 3
    Sigma0, S0 = spd(rng, n), spd(rng, n)
    f = covariance_objective(amd.var("Sigma", (n, n)), amd.const("S", S0))
    H = amd.hessian(f, "Sigma").at({"Sigma": Sigma0})
    assert isinstance(H, kb.Operator) and H.shape == (n * n, n * n)
    D = H.to_dense()
    assert_close(D, D.T, 1e-12, "symmetry")
    assert_close(D, fd_hessian(lambda X: covariance_numpy(X, S0), Sigma0), 1e-5, "second differences of f")
    assert_close(D, fd_jacobian(lambda X: covariance_gradient_numpy(X, S0), Sigma0), 1e-8,
                 "differences of the numpy gradient")
    DF = amd.hessian(f, "Sigma").at({"Sigma": Sigma0}, order="F").to_dense()
    assert_close(DF, fd_jacobian(lambda X: covariance_gradient_numpy(X, S0), Sigma0, order="F"), 1e-8,
                 "column-major")


def test_hessian_of_logdet_is_a_box_product():
    rng = np.random.default_rng(17)
    X0 = near_identity(rng, 4)
    Xi = np.linalg.inv(X0)
    H = amd.hessian(amd.logdet(amd.var("X", (4, 4))), "X")
    assert "⊠" in str(H)
    op = H.at({"X": X0})
    assert_close(op.to_dense(), -box_twin(Xi.T, Xi), 1e-12, "−X⁻ᵀ ⊠ X⁻¹")
    assert_close(op.to_dense(), fd_hessian(lambda X: np.linalg.slogdet(X)[1], X0), 1e-6, "second differences")


# ---------------------------------------------------------------- vector calculus (lecture notes)
def test_quadratic_form():
    rng = np.random.default_rng(21)
    A0, x0 = rng.standard_normal((5, 5)), rng.standard_normal((5, 1))
    x = amd.var("x", (5, 1))
    f = x.T @ amd.const("A", A0) @ x
    check_gradient(f, "x", {"x": x0}, (A0 + A0.T) @ x0, lambda x: (x.T @ A0 @ x).item())
    assert_close(amd.hessian(f, "x").at({"x": x0}).to_dense(), A0 + A0.T, 1e-12, "Hessian A + Aᵀ")


def test_least_squares():
    rng = np.random.default_rng(22)
    A0, b0, x0 = rng.standard_normal((7, 4)), rng.standard_normal((7, 1)), rng.standard_normal((4, 1))
    x = amd.var("x", (4, 1))
    f = amd.normsq(amd.const("A", A0) @ x - amd.const("b", b0))
    check_gradient(f, "x", {"x": x0}, 2 * A0.T @ (A0 @ x0 - b0), lambda x: np.sum((A0 @ x - b0) ** 2))
    H = amd.hessian(f, "x").at({"x": x0})
    assert_close(H.to_dense(), 2 * A0.T @ A0, 1e-12, "Hessian 2AᵀA")
    # the Newton step from any point solves the normal equations
    step = spla.cg(H, -fd_gradient(lambda x: np.sum((A0 @ x - b0) ** 2), x0).ravel(), rtol=1e-12)[0]
    assert_close(x0.ravel() + step, np.linalg.lstsq(A0, b0, rcond=None)[0].ravel(), 1e-6, "Newton step")


def test_inner_minus_logdet():
    rng = np.random.default_rng(23)
    X0, S0 = spd(rng, 4), rng.standard_normal((4, 4))
    X = amd.var("X", (4, 4))
    f = amd.inner(amd.const("S", S0), X) - amd.logdet(X)
    check_gradient(f, "X", {"X": X0}, S0 - np.linalg.inv(X0).T, lambda X: np.sum(S0 * X) - np.linalg.slogdet(X)[1])


def test_logistic_loss():
    rng = np.random.default_rng(24)
    m, n = 9, 4
    Xd, y0, w0 = rng.standard_normal((m, n)), rng.choice([-1.0, 1.0], (m, 1)), 0.5 * rng.standard_normal((n, 1))
    w, X, y = amd.var("w", (n, 1)), amd.const("Xd", Xd), amd.const("y", y0)
    f = amd.sum(amd.log(1 + amd.exp(-y * (X @ w))))

    def loss(w):
        return np.sum(np.log1p(np.exp(-y0 * (Xd @ w))))

    sigma = 1 / (1 + np.exp(y0 * (Xd @ w0)))  # σ(−y ∘ Xw)
    check_gradient(f, "w", {"w": w0}, -Xd.T @ (y0 * sigma), loss)
    H = amd.hessian(f, "w").at({"w": w0}).to_dense()
    assert_close(H, Xd.T @ (sigma * (1 - sigma) * Xd), 1e-12, "Xᵀ diag(σ(1 − σ)) X")
    assert_close(H, fd_hessian(loss, w0), 1e-6, "second differences")


# ------------------------------------------------------------------------------ Taylor series
def partial_sums(terms: list[amd.Expr], values: dict) -> np.ndarray:
    return np.cumsum([float(t.eval(values)) for t in terms])


def test_taylor_logdet():
    """``logdet(X₀ + Δ) = logdet X₀ + Σ_k (−1)^{k+1}/k · tr((X₀⁻¹Δ)^k)``."""
    rng = np.random.default_rng(31)
    n, order = 4, 5
    X0 = spd(rng, n)
    D = rng.standard_normal((n, n))
    D *= 0.1 / np.linalg.norm(D)
    terms = amd.taylor(amd.logdet(amd.var("X", (n, n))), "X", around="X0", order=order)
    assert len(terms) == order + 1
    M = np.linalg.solve(X0, D)
    values = {"X": X0 + D, "X0": X0}
    for k, term in enumerate(terms):
        expected = np.linalg.slogdet(X0)[1] if k == 0 else (-1) ** (k + 1) / k * np.trace(np.linalg.matrix_power(M, k))
        assert abs(float(term.eval(values)) - expected) < 1e-12 * max(1e-3, abs(expected)), f"term {k}"
    assert_converges(terms, lambda t: {"X": X0 + t * D, "X0": X0}, lambda t: np.linalg.slogdet(X0 + t * D)[1])


def test_taylor_trace_neumann():
    """``trace((I − X)⁻¹) = Σ_k trace(X^k)`` about ``X₀ = 0``."""
    rng = np.random.default_rng(32)
    n, order = 4, 5
    D = rng.standard_normal((n, n))
    D *= 0.3 / np.linalg.norm(D)
    X = amd.var("X", (n, n))
    terms = amd.taylor(amd.trace(amd.inv(amd.eye(n) - X)), "X", around="X0", order=order)
    zero = np.zeros((n, n))
    for k, term in enumerate(terms):
        expected = np.trace(np.linalg.matrix_power(D, k))
        assert abs(float(term.eval({"X": D, "X0": zero})) - expected) < 1e-12 * max(1.0, abs(expected)), f"term {k}"
    assert_converges(terms, lambda t: {"X": t * D, "X0": zero}, lambda t: np.trace(np.linalg.inv(np.eye(n) - t * D)))


def assert_converges(terms: list[amd.Expr], values_at: Callable[[float], dict], exact: Callable[[float], float]):
    """The error of the partial sum of order ``k`` shrinks as the order grows, and like ``t^{k+1}``
    when the step ``t Δ`` is halved."""
    errors = {t: np.abs(partial_sums(terms, values_at(t)) - exact(t)) for t in (1.0, 0.5)}
    assert np.all(np.diff(errors[1.0]) < 0), f"errors do not shrink with the order: {errors[1.0]}"
    for k in range(1, len(terms) - 1):
        rate = np.log2(errors[1.0][k] / errors[0.5][k])
        assert abs(rate - (k + 1)) < 0.35, f"order {k}: error shrinks like t^{rate:.2f}, expected t^{k + 1}"


# ----------------------------------------------------------------------- random expression trees
N = 3
_rng = np.random.default_rng(41)
CONSTANTS = {"A": _rng.standard_normal((N, N)) / np.sqrt(N), "B": _rng.standard_normal((N, N)) / np.sqrt(N)}
XV = amd.var("X", (N, N))
I = np.eye(N)


@dataclass(frozen=True)
class Tree:
    """An expression and its numpy twin (a function of the value of ``X``)."""

    expr: amd.Expr
    f: Callable[[np.ndarray], np.ndarray]

    def __repr__(self) -> str:
        return str(self.expr)


LEAVES = st.sampled_from([Tree(XV, lambda X: X), Tree(XV, lambda X: X)] +
                         [Tree(amd.const(k, v), lambda X, v=v: v) for k, v in CONSTANTS.items()])


def _binary(a: Tree, b: Tree, op: str) -> Tree:
    e, f, g = {"@": (a.expr @ b.expr, np.matmul), "+": (a.expr + b.expr, np.add), "-": (a.expr - b.expr, np.subtract),
               "*": (a.expr * b.expr, np.multiply)}[op], a.f, b.f
    return Tree(e[0], lambda X: e[1](f(X), g(X)))


UNARY: dict[str, Callable[[Tree], Tree]] = {
    "T": lambda a: Tree(a.expr.T, lambda X: a.f(X).T),
    "scale": lambda a: Tree(-0.7 * a.expr, lambda X: -0.7 * a.f(X)),
    "inv(G Gᵀ + I)": lambda a: Tree(amd.inv(a.expr @ a.expr.T + amd.eye(N)),
                                     lambda X: np.linalg.inv(a.f(X) @ a.f(X).T + I)),
    "inv(tanh G + 4I)": lambda a: Tree(amd.inv(amd.tanh(a.expr) + 4 * amd.eye(N)),
                                        lambda X: np.linalg.inv(np.tanh(a.f(X)) + 4 * I)),
    "tanh": lambda a: Tree(amd.tanh(a.expr), lambda X: np.tanh(a.f(X))),
    "sin": lambda a: Tree(amd.sin(a.expr), lambda X: np.sin(a.f(X))),
    "cos": lambda a: Tree(amd.cos(a.expr), lambda X: np.cos(a.f(X))),
    "exp∘tanh": lambda a: Tree(amd.exp(amd.tanh(a.expr)), lambda X: np.exp(np.tanh(a.f(X)))),
    "log(1 + G²)": lambda a: Tree(amd.log(1 + a.expr * a.expr), lambda X: np.log(1 + a.f(X) ** 2)),
    "sqrt(1 + G²)": lambda a: Tree(amd.sqrt(1 + a.expr * a.expr), lambda X: np.sqrt(1 + a.f(X) ** 2)),
}

SCALARS: dict[str, Callable[[Tree], Tree]] = {
    "trace": lambda a: Tree(amd.trace(a.expr), lambda X: np.trace(a.f(X))),
    "sum": lambda a: Tree(amd.sum(a.expr), lambda X: np.sum(a.f(X))),
    "normsq": lambda a: Tree(amd.normsq(a.expr), lambda X: np.sum(a.f(X) ** 2)),
    "logdet(G Gᵀ + I)": lambda a: Tree(amd.logdet(a.expr @ a.expr.T + amd.eye(N)),
                                        lambda X: np.linalg.slogdet(a.f(X) @ a.f(X).T + I)[1]),
    "logdet(tanh G + 4I)": lambda a: Tree(amd.logdet(amd.tanh(a.expr) + 4 * amd.eye(N)),
                                           lambda X: np.linalg.slogdet(np.tanh(a.f(X)) + 4 * I)[1]),
}


def _scaled_by_scalar(s: Tree, a: Tree) -> Tree:
    """``sin(s) · G``: a scalar function of ``X`` (kept bounded) scaling a matrix."""
    return Tree(amd.sin(s.expr) * a.expr, lambda X: np.sin(s.f(X)) * a.f(X))


def _extend(children):
    scalar = st.tuples(st.sampled_from(list(SCALARS)), children).map(lambda p: SCALARS[p[0]](p[1]))
    return st.one_of(
        st.tuples(children, children, st.sampled_from(["@", "+", "-", "*"])).map(lambda p: _binary(*p)),
        st.tuples(st.sampled_from(list(UNARY)), children).map(lambda p: UNARY[p[0]](p[1])),
        st.tuples(scalar, children).map(lambda p: _scaled_by_scalar(*p)),
    )


MATRICES = st.recursive(LEAVES, _extend, max_leaves=5).filter(lambda t: t.expr.depends_on(XV))
FUNCTIONS = st.tuples(st.sampled_from(list(SCALARS)), MATRICES).map(lambda p: SCALARS[p[0]](p[1]))
POINTS = st.integers(0, 2**16).map(lambda seed: np.random.default_rng(seed).uniform(-1, 1, (N, N)))
TREES = settings(deadline=None, max_examples=30, derandomize=True)


@TREES
@given(FUNCTIONS, POINTS)
def test_random_gradients_and_hessians(tree, X0):
    f = tree.f(X0)
    assert abs(float(tree.expr.eval({"X": X0})) - f) <= 1e-12 * max(1.0, abs(f))
    check_gradient(tree.expr, "X", {"X": X0}, None, tree.f, rtol=1e-6)
    H = amd.hessian(tree.expr, "X").at({"X": X0})
    assert isinstance(H, kb.Operator) and H.shape == (N * N, N * N)
    D = H.to_dense()
    reference = fd_hessian(tree.f, X0)
    assert_close(D, reference, 1e-5 * max(1.0, abs(f)), "second differences of the numpy twin")
    assert_close(D, D.T, 1e-10 * max(1.0, float(np.abs(D).max())), "symmetry")
    assert kb.check.gradient(tree.expr, "X", {"X": X0})
    assert kb.check.hessian(tree.expr, "X", {"X": X0})


@TREES
@given(MATRICES, POINTS)
def test_random_jacobians(tree, X0):
    J = amd.jacobian(tree.expr, "X").at({"X": X0})
    assert isinstance(J, kb.Operator) and J.shape == (N * N, N * N)
    assert_close(J.to_dense(), fd_jacobian(tree.f, X0), 1e-6, "central differences of the numpy twin")
    assert_close(amd.jacobian(tree.expr, "X").at({"X": X0}, order="F").to_dense(),
                 fd_jacobian(tree.f, X0, order="F"), 1e-6, "column-major")
    assert kb.check.jacobian(tree.expr, "X", {"X": X0})


# ------------------------------------------------------------------ the Hessian inside scipy
@pytest.fixture(scope="module")
def covariance_problem():
    """The covariance objective at ``n = 12``, at a point where its Hessian is positive definite on
    symmetric matrices (and nonsingular, indefinite, on all of them); the dense reference Hessian
    is central differences of the numpy gradient."""
    rng = np.random.default_rng(51)
    n = 12
    Sigma0, S0 = 3 * spd(rng, n), 0.1 * spd(rng, n)
    f = covariance_objective(amd.var("Sigma", (n, n)), amd.const("S", S0))
    H = amd.hessian(f, "Sigma").at({"Sigma": Sigma0})
    reference = fd_jacobian(lambda X: covariance_gradient_numpy(X, S0), Sigma0)
    return n, H, (reference + reference.T) / 2, rng


def test_hessian_operator_against_dense(covariance_problem):
    n, H, reference, _ = covariance_problem
    assert isinstance(H, spla.LinearOperator) and H.shape == (n * n, n * n)
    assert_close(H.to_dense(), reference, 1e-7 * float(np.abs(reference).max()), "dense FD Hessian")


def test_cg_on_symmetric_directions(covariance_problem):
    n, H, reference, rng = covariance_problem
    B = rng.standard_normal((n, n))
    b = (B + B.T).ravel()
    x, info = spla.cg(H, b, rtol=1e-12, maxiter=10 * n * n)
    assert info == 0
    expected = np.linalg.solve(reference, b)
    assert np.linalg.norm(x - expected) < 1e-6 * np.linalg.norm(expected)
    assert_close(x.reshape(n, n), x.reshape(n, n).T, 1e-8 * float(np.abs(x).max()), "a symmetric solution")


def test_minres(covariance_problem):
    n, H, reference, rng = covariance_problem
    b = rng.standard_normal(n * n)
    x, info = spla.minres(H, b, rtol=1e-12, maxiter=10 * n * n)
    assert info == 0
    expected = np.linalg.solve(reference, b)
    assert np.linalg.norm(x - expected) < 1e-6 * np.linalg.norm(expected)


def test_eigsh(covariance_problem):
    _, H, reference, _ = covariance_problem
    expected = np.linalg.eigvalsh(reference)
    for which, picked in (("LA", expected[-4:]), ("SA", expected[:4])):
        values = np.sort(spla.eigsh(H, k=4, which=which, tol=1e-12, return_eigenvectors=False))
        assert_close(values, picked, 1e-7 * float(np.abs(expected).max()), which)

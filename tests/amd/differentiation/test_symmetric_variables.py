"""Symmetric variables (``amd.var(…, symmetric=True)``): the gradient ``sym(G)`` on the space of symmetric
matrices, the Matrix Cookbook's ``G + Gᵀ − I ∘ G`` on request, the Jacobian ``J Π`` and the Hessian ``Π H Π``,
against central differences along symmetric directions and along the entries of one triangle; ``minimize``
over a symmetric variable agrees with ``minimize(symmetric=True)``; the calculator's ``--symmetric``."""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient, spd, symmetric_projector
from command import kronbox

from kronbox import amd

N = 4


def _formulas(X: amd.Expr, A: amd.Expr) -> dict[str, amd.Expr]:
    return {
        "logdet": amd.logdet(X),
        "trace(A X)": amd.trace(A @ X),
        "trace(inv(X) A)": amd.trace(amd.inv(X) @ A),
        "‖X A X − I‖²": amd.normsq(X @ A @ X - amd.eye(N)),
        "sum(eigvalsh²)": amd.sum(amd.power(amd.eigvalsh(X), 2) * amd.diag(A)),
    }


NAMES = list(_formulas(amd.var("X", (N, N)), amd.const("A", shape=(N, N))))


def _setting(name: str):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    X0, A0 = spd(rng, N), rng.standard_normal((N, N))
    S, F = amd.var("X", (N, N), symmetric=True), amd.var("X", (N, N))
    A = amd.const("A", A0)
    return X0, _formulas(S, A)[name], _formulas(F, A)[name], S, F


@pytest.mark.parametrize("name", NAMES)
def test_the_gradient_is_the_symmetric_part_and_the_derivative_along_symmetric_directions(name):
    X0, f, f_free, S, F = _setting(name)
    G = np.asarray(amd.grad(f, S).eval(X=X0))
    assert_close(G, G.T, 1e-13, "symmetric")
    if name != "sum(eigvalsh²)":  # the eigenvalues take symmetric matrices only: no gradient of every entry
        G_free = np.asarray(amd.grad(f_free, F).eval(X=X0))
        assert_close(G, (G_free + G_free.T) / 2, 1e-12, "sym(G)")
    rng = np.random.default_rng(0)
    for _ in range(3):
        V = rng.standard_normal((N, N))
        V = V + V.T
        h = 1e-6
        derivative = (float(f.eval(X=X0 + h * V)) - float(f.eval(X=X0 - h * V))) / (2 * h)
        assert abs(np.sum(G * V) - derivative) < 1e-6 * max(1.0, abs(derivative)), name


@pytest.mark.parametrize("name", NAMES)
def test_the_triangle_convention_is_the_derivative_in_the_entries_of_one_triangle(name):
    X0, f, _, S, _ = _setting(name)
    T = np.asarray(amd.grad(f, S, convention="triangle").eval(X=X0))
    rows, cols = np.tril_indices(N)

    def of_triangle(theta: np.ndarray) -> float:  # X built from its lower triangle, mirrored
        L = np.zeros((N, N))
        L[rows, cols] = theta
        return float(f.eval(X=L + np.tril(L, -1).T))

    by_differences = fd_gradient(of_triangle, X0[rows, cols])
    assert_close(T[rows, cols], by_differences, 1e-7, name)
    assert_close(T, T.T, 1e-13, "symmetric")


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_and_hessian_live_on_symmetric_matrices(name):
    X0, f, _, S, _ = _setting(name)
    P = symmetric_projector(N)
    H = amd.hessian(f, S).at({"X": X0}).to_dense()
    assert_close(H, P @ H @ P, 1e-12, "Π H Π")
    assert_close(H, H.T, 1e-10, "symmetric")
    g = amd.grad(f, S)
    rng = np.random.default_rng(1)
    V = rng.standard_normal((N, N))
    V = V + V.T
    h = 1e-6
    by_differences = (np.asarray(g.eval(X=X0 + h * V)) - np.asarray(g.eval(X=X0 - h * V))).ravel() / (2 * h)
    assert_close(H @ V.ravel(), by_differences, 1e-6, name)
    J = amd.jacobian(amd.inv(S) @ amd.const("B", np.eye(N)), S).at({"X": X0}).to_dense()
    assert_close(J, J @ P, 1e-12, "J Π")


def test_a_symmetric_variable_is_its_own_transpose_and_prints_so():
    X = amd.var("X", (N, N), symmetric=True)
    assert X.T is X
    assert str(amd.grad(amd.logdet(X), X)) == "inv(X)"
    assert str(amd.grad(amd.logdet(X), X, convention="triangle")) == "2*inv(X) - I.*inv(X)"
    with pytest.raises(ValueError, match="convention"):
        amd.grad(amd.logdet(X), X, convention="cookbook")
    with pytest.raises(amd.ShapeError, match="square"):
        amd.var("Y", (2, 3), symmetric=True)
    with pytest.raises(ValueError, match=r"symmetric variable 'X'.*not symmetric"):
        amd.logdet(X).eval(X=np.arange(16.0).reshape(4, 4) + 10 * np.eye(4))


def test_minimize_over_a_symmetric_variable_is_minimize_symmetric():
    rng = np.random.default_rng(2)
    S0 = spd(rng, 6)
    declared, free = amd.var("X", (6, 6), symmetric=True), amd.var("X", (6, 6))
    C = amd.const("S", S0)
    runs = [amd.minimize(-amd.logdet(declared) + amd.trace(C @ declared), np.eye(6)),
            amd.minimize(-amd.logdet(free) + amd.trace(C @ free), np.eye(6), symmetric=True)]
    for r in runs:
        assert r.success
        assert_close(r.X, np.linalg.inv(S0), 1e-8, "the maximum likelihood covariance")
    assert runs[0].nit == runs[1].nit


def test_the_calculator_declares_symmetric_symbols():
    done = kronbox("diff", "logdet(X) - trace(S*X)", "--symmetric", "X", "--check")
    assert done.returncode == 0, done.stderr
    assert "Derivative: inv(X) - 0.5*S - 0.5*S'" in done.stdout and "ok" in done.stdout
    refused = kronbox("diff", "x'*x", "--symmetric", "x")
    assert refused.returncode == 2 and "'x' is declared symmetric but it is n×1, not square" in refused.stderr
    assert "Traceback" not in refused.stderr

"""``amd.kron(A, B)``, the Kronecker product inside formulas: values against ``np.kron``, gradients and Hessians
against central differences (the Hessian of ``‖X ⊗ X − C‖²`` needs ``kron`` and ``kronfactor`` at second order),
the Jacobian maps ``kron(·, B)`` printed and read back by ``parse_map``, and the calculator."""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient, fd_hessian
from command import kronbox

from kronbox import amd
from kronbox.amd.expressions.kronecker import kronfactor
from kronbox.amd.expressions.linear_map import compose, kron


def test_values_against_numpy():
    rng = np.random.default_rng(0)
    A, B, G = rng.standard_normal((2, 3)), rng.standard_normal((4, 2)), rng.standard_normal((8, 6))
    X, Y, H = amd.var("X", (2, 3)), amd.var("Y", (4, 2)), amd.var("H", (8, 6))
    assert_close(amd.kron(X, Y).eval(X=A, Y=B), np.kron(A, B), 1e-14, "kron")
    # kronfactor(G, B, 1)_ij = Σ_kl G[(i k), (j l)] B[k, l], by loops written here
    first = np.array([[sum(G[i * 4 + k, j * 2 + l] * B[k, l] for k in range(4) for l in range(2)) for j in range(3)]
                      for i in range(2)])
    second = np.array([[sum(G[i * 4 + k, j * 2 + l] * A[i, j] for i in range(2) for j in range(3)) for l in range(2)]
                       for k in range(4)])
    assert_close(kronfactor(H, Y, 1).eval(H=G, Y=B), first, 1e-13, "kronfactor 1")
    assert_close(kronfactor(H, X, 2).eval(H=G, X=A), second, 1e-13, "kronfactor 2")
    assert_close(kronfactor(amd.kron(X, Y), Y, 1).eval(X=A, Y=B), np.sum(B * B) * A, 1e-13, "kronfactor(A⊗B, B, 1)")


@pytest.mark.parametrize("which", ["left", "right", "both"])
def test_gradients_and_hessians(which):
    rng = np.random.default_rng(1)
    X0, M0 = rng.standard_normal((2, 2)), rng.standard_normal((3, 2))
    C0 = rng.standard_normal((6, 4) if which != "both" else (4, 4))
    X, M, C = amd.var("X", (2, 2)), amd.const("M", M0), amd.const("C", C0)
    K = {"left": amd.kron(X, M), "right": amd.kron(M, X), "both": amd.kron(X, X)}[which]
    if which == "right":
        C = amd.const("C", rng.standard_normal((6, 4)))
    f = amd.normsq(K - C)
    value = lambda Y: float(f.eval(X=Y))  # noqa: E731
    assert_close(amd.grad(f, X).eval(X=X0), fd_gradient(value, X0), 1e-7, f"gradient, {which}")
    assert_close(amd.hessian(f, X).at({"X": X0}).to_dense(), fd_hessian(value, X0), 1e-5, f"Hessian, {which}")


def test_jacobian_maps_print_and_read_back():
    rng = np.random.default_rng(2)
    X0, B0 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    X, B = amd.var("X", (2, 3)), amd.const("B", B0)
    for F in (amd.kron(X, B), amd.kron(B, X), kronfactor(amd.kron(X, B) * 2.0, B, 1)):
        D = amd.jacobian(F, X)
        text = str(D)
        assert "·" in text, text
        L = amd.parse_map(text, {"X": X0.shape, "B": B0.shape}, in_shape=X0.shape, out_shape=F.shape)
        V = rng.standard_normal(X0.size)
        J = D.at({"X": X0})
        assert_close(L.at({"X": X0, "B": B0}) @ V, J @ V, 1e-12, text)
        W = rng.standard_normal(J.shape[0])  # the dot test of the matrix-free operator
        assert abs(W @ (J @ V) - (J.T @ W) @ V) < 1e-10 * np.linalg.norm(W) * np.linalg.norm(V)
    with pytest.raises(amd.ParseError, match="free argument of a linear map"):
        amd.parse("kron(·, B)")


def test_the_calculator():
    done = kronbox("diff", "norm2(kron(X, X) - C)^2", "--check")
    assert done.returncode == 0, done.stderr
    assert "kronfactor(" in done.stdout and "ok" in done.stdout
    jacobian = kronbox("diff", "kron(X, B)", "--check")
    assert jacobian.returncode == 0, jacobian.stderr
    assert "kron(·, B)" in jacobian.stdout


def test_composed_kron_factors_are_multiplied_from_the_left_when_that_costs_no_more():
    A, B, C, D, E = (amd.var(name, (3, 3)) for name in "ABCDE")
    assert compose(kron(A, B), kron(C, D @ E)).args[1] is (B @ D) @ E  # the gradient's association
    W, T = amd.var("W", (3, 40)), amd.var("T", (40, 3))
    assert compose(kron(A, B), kron(C, W @ T)).args[1] is B @ (W @ T)  # (B W) T would cost more

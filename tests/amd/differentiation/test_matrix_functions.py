"""The matrix functions and decompositions of :mod:`kronbox.amd`: ``expm``, ``logm``, real powers, ``eigvalsh``,
``eigvecs``, ``cholesky``, ``diag``/``diagm``, and the Fréchet derivatives their derivatives are made of.

Values against scipy and numpy; gradients against central differences, Hessians against JAX's ``hessian`` (its
own ``expm``, ``eigh`` and ``cholesky`` rules); the lazy operators against the block formula of the Fréchet
derivative (Mathias) and by the dot test; memory of the lazy Jacobian at n = 1000; and every input without a
value or a derivative refused with the function's name and the reason.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from amd_reference import assert_close, fd_gradient, near_identity, spd, symmetric_projector
from process_memory import peak_during

from kronbox import amd
from kronbox.amd.expressions.spectral import frechet
from kronbox.backend import BackendError

N = 4
X = amd.var("X", (N, N))


def symmetric_gradient(f, X0: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient on symmetric matrices, ``sym(∇f)``, by central differences along ``(Eᵢⱼ + Eⱼᵢ)/2``."""
    n = X0.shape[0]
    G = np.zeros_like(X0)
    for i in range(n):
        for j in range(n):
            E = np.zeros_like(X0)
            E[i, j] += h / 2
            E[j, i] += h / 2
            G[i, j] = (f(X0 + E) - f(X0 - E)) / (2 * h)
    return G


def sym(G) -> np.ndarray:
    G = np.asarray(G)
    return (G + G.T) / 2


# ------------------------------------------------------------------------------------------------ values
def test_values_against_scipy_and_numpy():
    rng = np.random.default_rng(0)
    S, G = spd(rng, N), near_identity(rng, N)
    P = amd.var("P", (N, N))
    checks = [
        (amd.expm(X), G, scipy.linalg.expm(G)),
        (amd.expm(X), S, scipy.linalg.expm(S)),
        (amd.logm(X), S, scipy.linalg.logm(S)),
        (amd.logm(X), G, np.real(scipy.linalg.logm(G))),
        (X**0.3, S, np.real(scipy.linalg.fractional_matrix_power(S, 0.3))),
        (X**-1.5, G, np.real(scipy.linalg.fractional_matrix_power(G, -1.5))),
        (amd.eigvalsh(X), S, np.linalg.eigvalsh(S)[:, None]),
        (amd.cholesky(X), S, np.linalg.cholesky(S)),
        (amd.diag(X), G, np.diagonal(G)[:, None]),
        (amd.diagm(amd.diag(X)), G, np.diag(np.diagonal(G))),
    ]
    for e, value, expected in checks:
        assert_close(e.eval(X=value), expected, 1e-10, str(e))
    Q = np.asarray(amd.eigvecs(P).eval(P=S))
    w = np.linalg.eigvalsh(S)
    assert_close(S @ Q, Q * w, 1e-10, "X Q = Q diag(λ)")
    assert_close(Q.T @ Q, np.eye(N), 1e-12, "Qᵀ Q = I")
    lam, vectors = amd.eigh(P)
    assert lam is amd.eigvalsh(P) and vectors is amd.eigvecs(P)


# --------------------------------------------------------------------------------------------- gradients
def _matrices(rng):
    S, G = spd(rng, N), near_identity(rng, N)
    return {"symmetric": S, "general": G}


@pytest.mark.parametrize("at", ["symmetric", "general"])
@pytest.mark.parametrize("name", ["expm", "logm", "power 0.3", "power -1.5"])
def test_matrix_function_gradients(name, at):
    rng = np.random.default_rng(1)
    X0 = _matrices(rng)[at]
    C = amd.const("C", rng.standard_normal((N, N)))
    F = {"expm": amd.expm(X), "logm": amd.logm(X), "power 0.3": X**0.3, "power -1.5": X**-1.5}[name]
    f = amd.sum(C * F)
    G = amd.grad(f, X).eval(X=X0)
    assert_close(G, fd_gradient(lambda Y: float(f.eval(X=Y)), X0), 1e-7, f"{name} at a {at} X")


@pytest.mark.parametrize("name", ["eigvalsh", "eigvecs", "cholesky"])
def test_decomposition_gradients_on_symmetric_matrices(name):
    rng = np.random.default_rng(2)
    X0 = spd(rng, N)
    C = amd.const("C", rng.standard_normal((N, 1) if name == "eigvalsh" else (N, N)))
    F = {"eigvalsh": amd.eigvalsh, "eigvecs": lambda Y: amd.power(amd.eigvecs(Y), 2), "cholesky": amd.cholesky}[name](X)
    f = amd.sum(C * F)
    G = np.asarray(amd.grad(f, X).eval(X=X0))
    assert_close(G, G.T, 1e-12, f"{name}: the gradient on symmetric matrices is symmetric")
    assert_close(G, symmetric_gradient(lambda Y: float(f.eval(X=Y)), X0), 1e-7, name)


def test_spectral_functions_print_as_people_write_them():
    assert str(amd.grad(amd.trace(amd.expm(X)), X)) == "expm(X)'"
    assert str(amd.grad(amd.trace(amd.logm(X)), X)) == "inv(X)'"
    assert str(amd.grad(amd.sum(amd.eigvalsh(X)), X)) == "I"
    assert str(amd.grad(amd.trace(X**1.5), X)) == "1.5*sqrtm(X)'"
    assert str(amd.jacobian(amd.expm(X), X)) == "dexpm(X)"


@pytest.mark.parametrize("name", ["expm general", "expm symmetric", "logm", "power 0.3", "eigvalsh", "cholesky"])
def test_in_other_array_libraries(lib, name):
    """Values, gradients and Hessian-vector products with PyTorch / JAX values, against the numpy evaluation
    (at a symmetric X the second derivative is the second Daleckii–Krein sum in the library; elsewhere the
    logarithm and real powers need scipy: refused)."""
    asarray, to_numpy = lib
    rng = np.random.default_rng(8)
    X0 = near_identity(rng, N) / 2 if name == "expm general" else spd(rng, N)
    C0 = rng.standard_normal((N, 1) if name == "eigvalsh" else (N, N))
    C = amd.const("C", C0)
    F = {"expm general": amd.expm, "expm symmetric": amd.expm, "logm": amd.logm, "power 0.3": lambda Y: Y**0.3,
         "eigvalsh": amd.eigvalsh, "cholesky": amd.cholesky}[name](X)
    f = amd.sum(C * F)
    ours = {"X": X0, "C": C0}
    theirs = {"X": asarray(X0), "C": asarray(C0)}
    V = rng.standard_normal((N, N))
    V = V + V.T
    for e in (F, amd.grad(f, X)):
        assert_close(to_numpy(e.eval(theirs)), np.asarray(e.eval(ours)), 1e-10, f"{name}: {e}")
    H = amd.hessian(f, X)
    assert_close(to_numpy(H.at(theirs) @ asarray(V.ravel())), H.at(ours) @ V.ravel(), 1e-9, f"{name}: Hessian")
    if name == "logm":
        general = {"X": asarray(near_identity(rng, N)), "C": asarray(C0)}
        with pytest.raises(BackendError, match="numpy"):
            amd.logm(X).eval(general)


# ---------------------------------------------------------------------------------------------- Hessians


@pytest.mark.parametrize(("name", "symmetric"), [
    ("expm", False), ("eigvalsh", True), ("eigvecs", True), ("cholesky", True), ("expm at symmetric", True),
])
def test_hessians_against_jax(name, symmetric):
    jax = pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[test]')")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    X0 = spd(rng, N) if symmetric else near_identity(rng, N) / 2
    C0 = rng.standard_normal((N, 1) if name == "eigvalsh" else (N, N))
    C = amd.const("C", C0)
    ours = {
        "expm": lambda: amd.sum(C * amd.expm(X)), "expm at symmetric": lambda: amd.normsq(amd.expm(X) - C),
        "eigvalsh": lambda: amd.sum(C * amd.power(amd.eigvalsh(X), 2)),
        "eigvecs": lambda: amd.sum(C * amd.power(amd.eigvecs(X), 2)),
        "cholesky": lambda: amd.normsq(amd.cholesky(X) - C),
    }[name]()
    theirs = {
        "expm": lambda Y: jnp.sum(C0 * jax.scipy.linalg.expm(Y)),
        "expm at symmetric": lambda Y: jnp.sum((jax.scipy.linalg.expm(Y) - C0) ** 2),
        "eigvalsh": lambda Y: jnp.sum(C0[:, 0] * jnp.linalg.eigvalsh(Y) ** 2),
        "eigvecs": lambda Y: jnp.sum(C0 * jnp.linalg.eigh(Y)[1] ** 2),
        "cholesky": lambda Y: jnp.sum((jnp.linalg.cholesky((Y + Y.T) / 2) - C0) ** 2),
    }[name]
    H = amd.hessian(ours, X).at({"X": X0}).to_dense()
    reference = np.asarray(jax.hessian(theirs)(jnp.asarray(X0))).reshape(N * N, N * N)
    if symmetric:  # functions of symmetric matrices: compared on symmetric directions
        P = symmetric_projector(N)
        H, reference = P @ H @ P, P @ reference @ P
    assert_close(H, reference, 1e-8, name)


# --------------------------------------------------------------------------------------- lazy operators
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("name", ["expm", "logm"])
def test_frechet_operators_against_the_block_formula_and_the_dot_test(name, order):
    rng = np.random.default_rng(4)
    X0, E0 = near_identity(rng, 3), rng.standard_normal((3, 3))
    f = scipy.linalg.expm if name == "expm" else scipy.linalg.logm
    param = (name,)
    E = amd.const("E", E0)
    X3 = amd.var("X", (3, 3))
    F = amd.expm(X3) if name == "expm" else amd.logm(X3)
    if order == 2:  # the derivative of L_f(X)[E] in X: the second Fréchet derivative
        F = frechet(param, X3, E)
    J = amd.jacobian(F, X3).at({"X": X0})
    U, V = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    n = 3
    if order == 1:
        block = np.block([[X0, U], [np.zeros((n, n)), X0]])
        expected = f(block)[:n, n:]
    else:
        Z = np.zeros((n, n))
        B = np.block([[X0, E0, U, Z], [Z, X0, Z, U], [Z, Z, X0, E0], [Z, Z, Z, X0]])
        expected = f(B)[:n, 3 * n:]
    assert_close((J @ U.ravel()).reshape(n, n), np.real(expected), 1e-9, f"{name}, order {order}")
    assert abs(V.ravel() @ (J @ U.ravel()) - (J.T @ V.ravel()) @ U.ravel()) < 1e-9 * np.linalg.norm(U) * \
        np.linalg.norm(V) * max(1.0, np.abs(np.real(expected)).max())


def test_the_lazy_jacobian_at_n_1000_holds_no_n4_object():
    n = 1000
    rng = np.random.default_rng(5)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    X0 = (A + A.T) / 4
    Xn = amd.var("X", (n, n))
    J, peak = peak_during(lambda: amd.jacobian(amd.expm(Xn), Xn).at({"X": X0}))
    assert J.shape == (n * n, n * n)
    assert peak < 40 * n * n * 8, f"building the Jacobian took {peak / 1e6:.0f} MB"  # a few n × n arrays
    V, W = rng.standard_normal(n * n), rng.standard_normal(n * n)
    JV, JW = J @ V, J @ W  # at a symmetric X the Fréchet derivative of expm is self-adjoint
    assert abs(W @ JV - V @ JW) < 1e-10 * np.linalg.norm(JV) * np.linalg.norm(W)


# ------------------------------------------------------------------------------------------- bad input
def _refused(e: amd.Expr, value: np.ndarray, *fragments: str) -> None:
    with pytest.raises(ValueError) as caught:
        e.eval(X=value)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_input_without_a_value_or_a_derivative_is_refused():
    rng = np.random.default_rng(6)
    G = rng.standard_normal((N, N))
    indefinite = np.diag([2.0, 1.0, -1.0, 3.0])
    _refused(amd.eigvalsh(X), G, "eigvalsh", "not symmetric")
    _refused(amd.cholesky(X), G, "chol", "not symmetric")
    _refused(amd.cholesky(X), indefinite, "chol", "not positive definite")
    _refused(amd.logm(X), indefinite, "logm", "eigenvalue -1")
    _refused(X**0.5 @ X**0.3, indefinite, "X^0.3", "no real principal power")
    negative_real = np.array([[-1.0, 0.2], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"logm.*closed negative real axis"):
        amd.logm(amd.var("Y", (2, 2))).eval(Y=negative_real)
    # repeated eigenvalues: the derivative of the eigenvalues does not exist; spectral functions keep theirs
    g = amd.grad(amd.sum(amd.eigvalsh(X) * amd.const("w", np.arange(1.0, N + 1)[:, None])), X)
    _refused(g, np.eye(N), "does not exist", "repeated eigenvalue")
    assert_close(amd.grad(amd.trace(amd.expm(X)), X).eval(X=np.eye(N)), np.e * np.eye(N), 1e-12, "expm at I")

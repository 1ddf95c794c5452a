"""Automatic matrix differentiation on PyTorch and JAX arrays (CuPy, CUDA tensors where a GPU exists).

Every row of the derivative table (``test_amd_table``) is evaluated with all its values in the
library: the function ⟨C, F(X)⟩, its reverse-mode gradient, a Jacobian-vector and a
Hessian-vector product must stay in the library and equal the table's references (the numpy twin
of the function, its closed-form Jacobian) and, for the Hessian, the numpy evaluation of the same
expression (which the table tests hold against second differences). Rows that need scipy
(a general square root, a Sylvester solve with general coefficients) must say so. Then the AMD
paper's covariance objective ``−logdet Σ − tr(S Σ⁻¹) − ‖Σ⁻¹‖²`` in float64 and float32, and values
of two libraries.
"""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import assert_close, spd
from derivative_rows import NAMES, build, functional

import kronbox as kb
from kronbox import amd
from kronbox.backend import library, numpy_dtype

# Rows whose evaluation needs scipy: the Schur-based square root of a general matrix and the Sylvester
# solves with general coefficients (sqrtm(X) at a symmetric positive definite X runs in the library).
NUMPY_ONLY = {"X^1/2", "sylvester(A, B, X)", "sylvester(X, B, C)", "sylvester(A, X, C)"}


def in_library(expr: amd.Expr, values: dict, asarray) -> dict:
    """Every value ``expr`` needs (the given ones and its constants'), as arrays of the library."""
    out = {}
    for name, symbol in expr.symbols.items():
        value = values.get(name, symbol.value)
        out[name] = asarray(np.asarray(value)) if np.ndim(value) else value
    return out


def read(x, to_numpy) -> np.ndarray:
    return to_numpy(x) if library(x) is not None else np.asarray(x)


@pytest.mark.parametrize("name", NAMES)
def test_table_row_in_the_library(name, lib):
    asarray, to_numpy = lib
    r = build(name)
    f, twin, C = functional(r)
    g, J, H = amd.grad(f, "X"), amd.jacobian(r.F, "X"), amd.hessian(f, "X")
    values = {"X": r.X}
    foreign = in_library(f, values, asarray)
    v = np.random.default_rng(7).standard_normal(r.X.size)
    if name in NUMPY_ONLY:
        with pytest.raises(kb.BackendError, match="numpy"):
            g.eval(foreign)
        if name == "sylvester(A, B, X)":  # linear in X: a zero Hessian, which needs no Sylvester solve
            assert_close(read(H.at(foreign) @ asarray(v), to_numpy), np.zeros(v.size), 1e-12, name)
        else:
            with pytest.raises(kb.BackendError, match="numpy"):
                H.at(foreign) @ asarray(v)
        return
    # independent references where the table has them: the numpy twin and the closed-form Jacobian
    checks = [
        ("f", f.eval(foreign), twin(r.X)),
        ("gradient", g.eval(foreign), (r.closed.T @ np.ravel(C)).reshape(r.X.shape)),
        ("Jacobian-vector product", J.at(in_library(r.F, values, asarray)) @ asarray(v), r.closed @ v),
        ("Hessian-vector product", H.at(foreign) @ asarray(v), H.at(values) @ v),
    ]
    for what, got, want in checks:
        if np.ndim(want):
            assert library(got) == library(foreign["X"]), f"{name}: {what} is a {type(got).__name__}"
        assert_close(read(got, to_numpy), want, 1e-7, f"{name}: {what}")


def covariance(n: int):
    Sigma, S = amd.var("Sigma", (n, n)), amd.const("S", shape=(n, n))
    P = amd.inv(Sigma)
    return -amd.logdet(Sigma) - amd.trace(S @ P) - amd.normsq(P), Sigma


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_covariance_objective_gradient_and_hessian(lib, dtype):
    """The gradient ``Σ⁻¹ S Σ⁻¹ + 2 Σ⁻³ − Σ⁻¹`` (symmetric Σ, S) in the library, in its precision."""
    asarray, to_numpy = lib
    n = 40
    rng = np.random.default_rng(3)
    Sigma0, S0 = spd(rng, n).astype(dtype), spd(rng, n).astype(dtype)
    f, Sigma = covariance(n)
    values = {"Sigma": asarray(Sigma0), "S": asarray(S0)}
    value, G = amd.value_and_grad(f, Sigma, values)
    P = np.linalg.inv(Sigma0.astype(np.float64))
    want = P @ S0 @ P + 2 * P @ P @ P - P
    tol = 1e-10 if dtype == np.float64 else 1e-4
    assert numpy_dtype(G.dtype) == dtype and library(G) == library(values["Sigma"])
    assert_close(to_numpy(G), want, tol, "gradient")
    assert abs(float(value) - (-np.linalg.slogdet(Sigma0)[1] - np.trace(S0 @ P) - np.sum(P * P))) < tol * n * n
    V = rng.standard_normal((n, n)).astype(dtype)
    Hv = amd.hessian(f, Sigma).at(values) @ asarray(V.ravel())
    # the directional derivative of the free-entry gradient −Pᵀ + (P S P)ᵀ + 2 (P Pᵀ P)ᵀ, dP = −P V P
    S64, V64 = S0.astype(np.float64), V.astype(np.float64)
    dP = -P @ V64 @ P
    closed_Hv = -dP.T + (dP @ S64 @ P + P @ S64 @ dP).T + 2 * (dP @ P.T @ P + P @ dP.T @ P + P @ P.T @ dP).T
    assert_close(to_numpy(Hv), closed_Hv.ravel(), tol * 10, "Hessian-vector product")


def test_values_of_two_libraries_are_refused(lib):
    asarray, _ = lib
    f, Sigma = covariance(3)
    with pytest.raises(kb.BackendError, match=r"the values bound \('Sigma' \w+, 'S' numpy\) come from two"):
        f.eval(Sigma=asarray(2 * np.eye(3)), S=np.eye(3))
    # numbers mix with anything
    c = amd.const("c", shape=())
    assert float((c * amd.trace(Sigma)).eval(Sigma=asarray(np.eye(3)), c=2.0)) == 6.0


def test_what_needs_scipy_says_so(lib):
    asarray, _ = lib
    X = amd.var("X", (3, 3))
    general = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]])
    with pytest.raises(kb.BackendError, match=r"sqrtm .* scipy\.linalg\.sqrtm"):
        amd.sqrtm(X).eval(X=asarray(general))
    spd_root = amd.sqrtm(X).eval(X=asarray(general @ general.T))  # symmetric: by eigh, in the library
    assert library(spd_root) is not None
    with pytest.raises(kb.BackendError, match=r"Sylvester solve .*gmres"):
        amd.sylvester(X, X, X).eval(X=asarray(general))

"""Lazy derivatives never form their matrix: peak memory of one application stays ``O(n²)``.

The Jacobian of ``inv(X)`` at ``n = 2000`` is a ``4·10⁶ × 4·10⁶`` operator (``16·10¹²`` entries,
128 TB as float64), ``−X⁻¹ ⊗ X⁻ᵀ``; applied to ``vec(V)`` it is ``−vec(X⁻¹ V X⁻¹)``: two matrix
products. The Hessian of the covariance objective ``−logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F`` at
``n = 1000`` is a sum of Kronecker and box products with ``n × n`` factors. ``tracemalloc`` (which
sees numpy's allocations) measures the peak allocated *during* ``op @ v``, after the operator (its
factors evaluated) and the direction exist.
"""

from __future__ import annotations

import numpy as np
from process_memory import peak_during

from kronbox import amd

DOUBLES = 6  # the peak allowed, in n × n float64 matrices (the result itself is one)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_jacobian_of_the_inverse_at_n_2000_applies_in_n_squared_memory():
    """``X = D + u vᵀ`` (dense, non-symmetric) has the Sherman–Morrison inverse ``D⁻¹ − a bᵀ``
    (``a = D⁻¹u / (1 + vᵀD⁻¹u)``, ``b = D⁻¹v``), so ``−X⁻¹ V X⁻¹`` is known in ``O(n²)``."""
    n = 2000
    rng = np.random.default_rng(7)
    d, u, w = 1 + rng.random(n), rng.standard_normal(n), rng.standard_normal(n)
    X0 = np.diag(d) + np.outer(u, w)
    V = rng.standard_normal((n, n))
    X = amd.var("X", (n, n))
    J = amd.jacobian(amd.inv(X), "X").at({"X": X0})
    assert J.shape == (n * n, n * n)
    v = V.ravel()

    result, peak = peak_during(lambda: J @ v)

    assert peak < DOUBLES * n * n * 8, f"peak {peak / (n * n * 8):.2f} n² doubles"
    a, b, Dinv = (u / d) / (1 + w @ (u / d)), w / d, 1 / d
    # (D⁻¹ − a bᵀ) V (D⁻¹ − a bᵀ) expanded
    Va, bV = V @ a, b @ V
    expected = Dinv[:, None] * V * Dinv - np.outer(a, bV * Dinv) - np.outer(Dinv * Va, b) + (b @ Va) * np.outer(a, b)
    assert result.shape == (n * n,)
    assert relative_error(result, -expected.ravel()) < 1e-10


def covariance_hvp(P: np.ndarray, S: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``D∇f(Σ)[V]`` for ``∇f = −Pᵀ + Pᵀ Sᵀ Pᵀ + 2 Pᵀ P Pᵀ`` (``P = Σ⁻¹``), with ``dP = −P V P``."""
    dPt = -(P @ V @ P).T
    Pt, St = P.T, S.T
    return -dPt + dPt @ St @ Pt + Pt @ St @ dPt + 2 * (dPt @ P @ Pt + Pt @ dPt.T @ Pt + Pt @ P @ dPt)


def test_covariance_reference_hvp_is_the_derivative_of_the_gradient():
    """The hand-written Hessian-vector product above, against central differences of the gradient."""
    n, h = 5, 1e-6
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    Sigma0, S0, V = A @ A.T / n + np.eye(n), B @ B.T / n, rng.standard_normal((n, n))

    def gradient(Sigma):
        P = np.linalg.inv(Sigma)
        return (-P + P @ S0 @ P + 2 * P @ P.T @ P).T

    central = (gradient(Sigma0 + h * V) - gradient(Sigma0 - h * V)) / (2 * h)
    assert relative_error(covariance_hvp(np.linalg.inv(Sigma0), S0, V), central) < 1e-7


def test_hessian_vector_product_of_the_covariance_objective_at_n_1000_in_n_squared_memory():
    n = 1000
    rng = np.random.default_rng(11)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    Sigma0, S0 = A @ A.T / n + np.eye(n), B @ B.T / n
    V = rng.standard_normal((n, n))  # not symmetric: every transpose in the Hessian matters
    Sigma, S = amd.var("Sigma", (n, n)), amd.const("S", S0)
    f = -amd.logdet(Sigma) - amd.trace(S @ amd.inv(Sigma)) - amd.normsq(amd.inv(Sigma))
    H = amd.hessian(f, "Sigma").at({"Sigma": Sigma0})
    assert H.shape == (n * n, n * n)
    v = V.ravel()

    result, peak = peak_during(lambda: H @ v)

    assert peak < DOUBLES * n * n * 8, f"peak {peak / (n * n * 8):.2f} n² doubles"
    expected = covariance_hvp(np.linalg.inv(Sigma0), S0, V)
    assert relative_error(result, expected.ravel()) < 1e-10

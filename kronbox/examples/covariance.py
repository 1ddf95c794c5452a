"""Covariance estimation, the motivating example of the AMD paper, with its optimum in closed form.

Given an empirical covariance ``S`` (``d×d``, symmetric positive semidefinite), maximize the
Tikhonov-regularized log-likelihood ``f(Σ) = −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F`` over symmetric
positive definite ``Σ``, i.e. minimize ``φ = −f = logdet Σ + trace(S Σ⁻¹) + ‖Σ⁻¹‖²_F``.

With ``P = Σ⁻¹`` (symmetric), ``∇φ(Σ) = P − P S P − 2 P³``, so a stationary point has
``2P² + SP = I``. In ``P`` the objective ``−logdet P + trace(S P) + ‖P‖²_F`` is strictly convex, so that
point is the unique minimizer. It commutes with ``S``: for ``S = Q diag(s) Qᵀ``, ``P = Q diag(p) Qᵀ``
with ``2p² + sp − 1 = 0``, ``p = (−s + √(s² + 8))/4``, and ``Σ* = Q diag(σ) Qᵀ`` with
``σ = 1/p = (s + √(s² + 8))/2`` (the form without cancellation). In ``Σ`` the objective is not convex
(``logdet`` is concave), which is what a line search or a trust region is for.

The Hessian of ``φ`` is ``d² × d²`` (``6.25·10¹⁰`` entries at ``d = 500``); :func:`estimate` never forms
it: it is the lazy operator of :func:`kronbox.amd.hessian`, a sum of Kron and Box terms applied to
``vec(V)`` (row-major) by matrix products.
"""

from __future__ import annotations

import numpy as np

from kronbox import amd


def sample_covariance(data: np.ndarray) -> np.ndarray:
    """``S = (Z − z̄)ᵀ(Z − z̄)/N`` for ``N`` observations in the rows of ``data`` (``N×d``), exactly symmetric."""
    Z = np.asarray(data, dtype=float)
    if Z.ndim != 2 or Z.shape[0] < 2:
        raise ValueError(f"data must be N×d with at least two observations in its rows, got shape {Z.shape}")
    Z = Z - Z.mean(axis=0)
    S = Z.T @ Z / Z.shape[0]
    return (S + S.T) / 2


def synthetic_data(d: int, samples: int | None = None, seed: int = 0) -> np.ndarray:
    """``samples`` (default ``2d``) Gaussian observations in ``d`` dimensions whose covariance has a
    random orthogonal eigenbasis and eigenvalues spread from 0.1 to 10."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.sqrt(np.logspace(-1, 1, d))
    return rng.standard_normal((samples or 2 * d, d)) * scales @ Q.T


def objective(S: np.ndarray) -> amd.Expr:
    """``φ(Σ) = logdet Σ + trace(S Σ⁻¹) + ‖Σ⁻¹‖²_F`` (that is ``−f``) as an AMD expression in ``Sigma``."""
    d = S.shape[0]
    Sigma = amd.var("Sigma", (d, d))
    inverse = amd.inv(Sigma)
    return amd.logdet(Sigma) + amd.trace(amd.const("S", S) @ inverse) + amd.normsq(inverse)


def closed_form(S: np.ndarray) -> np.ndarray:
    """The minimizer ``Σ* = Q diag((s + √(s² + 8))/2) Qᵀ`` for ``S = Q diag(s) Qᵀ``."""
    s, Q = np.linalg.eigh(S)
    return (Q * ((s + np.sqrt(s * s + 8)) / 2)) @ Q.T


def estimate(S: np.ndarray, method: str = "newton-pcg", start: np.ndarray | None = None, **options
             ) -> amd.MinimizeResult:
    """Minimize ``φ`` over symmetric positive definite ``Σ`` from ``start`` (default the identity) with
    :func:`kronbox.amd.minimize` (``options`` are passed on: ``tol``, ``maxiter``, ``progress``, ...)."""
    X0 = np.eye(S.shape[0]) if start is None else start
    return amd.minimize(objective(S), X0, method=method, symmetric=True, **options)

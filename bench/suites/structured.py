"""Exact structured solves: Kronecker plus σ²I (2 and 3 factors, up to N = 10⁶) and a Kronecker GP at N = 10⁶.

``K = K₁ ⊗ ⋯ ⊗ K_d + σ² I`` with symmetric positive definite squared-exponential Gram matrices
(condition numbers 10³–10⁶ before the shift), σ² = 0.01, float64. Candidates: kronbox's solve and
log-determinant of the lazy sum (one ``eigh`` per factor, then two Kronecker applications), the same
with the eigendecompositions kept from an earlier solve, and scipy's ``cg`` and ``minres`` on the
lazy operator (capped at 200 iterations; their residuals are in the notes), and GPyTorch's
``linear_operator`` (``KroneckerProductAddedDiagLinearOperator``, torch float64) when installed. The baseline is the
physical floor measured in the same run: the factors' ``numpy.linalg.eigh`` plus the GEMMs of the
two Kronecker applications, written out by hand. The Gaussian process row times one evaluation of
the log marginal likelihood and its gradient (four parameters) on a 1 000 × 1 000 grid.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import reduce

import numpy as np
from scipy.sparse.linalg import cg, minres

import kronbox as kb
from bench.table import Summary, Table
from bench.timing import Settings, compare
from kronbox.examples.kronecker_gp import GridGP

PROBLEMS = ((256, 2), (1000, 2), (100, 3))
QUICK_PROBLEMS = ((64, 2), (256, 2), (30, 3))
NOISE = 0.01
ITERATIONS = 200

FLOOR = "floor: `eigh` per factor + two Kronecker applications (hand-written)"
SOLVE = "kronbox `(Kron(K…) + σ² I).solve(y)`"
KEPT = "kronbox solve, eigendecompositions kept"
LOGDET = "kronbox `.slogdet()`"
PEER = "GPyTorch `linear_operator` (`KroneckerProductAddedDiagLinearOperator.solve`, torch float64)"
PEER_LOGDET = "GPyTorch `linear_operator` `.logdet()`"
CG = f"scipy `cg` on the lazy operator (≤ {ITERATIONS} iterations)"
MINRES = f"scipy `minres` on the lazy operator (≤ {ITERATIONS} iterations)"


def _gram(n: int, lengthscale: float) -> np.ndarray:
    x = np.linspace(0, 1, n)
    return np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / lengthscale**2)


def _two_sided(mats: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """``(⊗ Mᵢ) y`` by one product per axis (mode products), written out."""
    T = y.reshape([M.shape[1] for M in mats])
    for axis, M in enumerate(mats):
        T = np.moveaxis(np.tensordot(M, T, axes=(1, axis)), 0, axis)
    return T.ravel()


def _floor(Ks: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    pairs = [np.linalg.eigh(K) for K in Ks]
    Qs = [Q for _, Q in pairs]
    spectrum = reduce(np.multiply.outer, [w for w, _ in pairs]).ravel() + NOISE
    return _two_sided(Qs, _two_sided([Q.T for Q in Qs], y) / spectrum)


def _peer(Ks: list[np.ndarray], y: np.ndarray) -> dict:
    """GPyTorch's linear_operator on the same problem, when it is installed (``pip install linear_operator``)."""
    try:
        import torch
        from linear_operator.operators import DenseLinearOperator, KroneckerProductLinearOperator
    except ImportError:
        return {}
    factors = [torch.tensor(K) for K in Ks]
    rhs = torch.tensor(y)[:, None]

    def build():
        kron = KroneckerProductLinearOperator(*(DenseLinearOperator(F) for F in factors))
        return kron.add_diagonal(torch.tensor(NOISE, dtype=torch.float64))

    return {
        PEER: lambda: build().solve(rhs)[:, 0].numpy(),
        PEER_LOGDET: lambda: float(build().logdet()),
    }


def _residual(op, solver, y) -> str:
    x = solver(op, y, rtol=1e-10, maxiter=ITERATIONS)[0]
    return f"{np.linalg.norm(op @ x - y) / np.linalg.norm(y):.1e}"


def _solve_table(problems, settings: Settings) -> Table:
    table = Table("Kron + σ²I solve and log-determinant, symmetric positive definite factors", baseline=FLOOR)
    residuals = []
    for n, d in problems:
        Ks = [_gram(n, 0.05 * (i + 1)) for i in range(d)]
        N = n**d
        y = np.random.default_rng(n).standard_normal(N)
        kept = kb.Kron(*Ks) + NOISE * kb.Identity(N)
        kept.solve(y)
        lazy = kb.Kron(*Ks) + NOISE * kb.Identity(N)
        reference = _floor(Ks, y)
        candidates = {
            FLOOR: lambda Ks=Ks, y=y: _floor(Ks, y),
            SOLVE: lambda Ks=Ks, y=y, N=N: (kb.Kron(*Ks) + NOISE * kb.Identity(N)).solve(y),
            KEPT: lambda kept=kept, y=y: kept.solve(y),
            LOGDET: lambda Ks=Ks, N=N: (kb.Kron(*Ks) + NOISE * kb.Identity(N)).slogdet(),
            CG: lambda lazy=lazy, y=y: cg(lazy, y, rtol=1e-10, maxiter=ITERATIONS)[0],
            MINRES: lambda lazy=lazy, y=y: minres(lazy, y, rtol=1e-10, maxiter=ITERATIONS)[0],
        }
        candidates.update(_peer(Ks, y))
        references = {LOGDET: None, PEER_LOGDET: None}
        column = f"{' ⊗ '.join([f'{n}×{n}'] * d)} (N = {N:,})"
        print(f"  {column} ...", file=sys.stderr, flush=True)
        table.add(column, compare(candidates, reference, settings, rtol=1e-6, references=references))
        residuals.append(f"{column}: cg {_residual(lazy, cg, y)}, minres {_residual(lazy, minres, y)}")
    table.summaries.append(Summary("kronbox solve ÷ the floor", SOLVE, [FLOOR]))
    table.summaries.append(Summary("kronbox solve ÷ GPyTorch's", SOLVE, [PEER]))
    table.notes.append(
        f"Krylov relative residuals ‖y − K x‖/‖y‖ after at most {ITERATIONS} iterations: " + "; ".join(residuals)
    )
    return table


def _gp_table(n: int, settings: Settings) -> Table:
    table = Table("Kronecker Gaussian process: log marginal likelihood and gradient", baseline=FLOOR)
    axes = (np.linspace(0, 1, n), np.linspace(0, 1, n))
    y = np.random.default_rng(5).standard_normal((n, n))
    theta = np.log([0.1, 0.2, 1.0, NOISE])
    grams = [_gram(n, 0.1), _gram(n, 0.2)]
    candidates = {
        FLOOR: lambda: [np.linalg.eigh(K) for K in grams],
        "kronbox `GridGP(...).value_and_grad()`": lambda: GridGP(axes, y, theta).value_and_grad(),
    }
    print(f"  GP on a {n} × {n} grid ...", file=sys.stderr, flush=True)
    table.add(f"{n} × {n} grid (N = {n * n:,})", compare(candidates, None, settings))
    table.notes.append("the floor here is the two eigendecompositions alone")
    return table


def run(settings: Settings) -> Iterator[Table]:
    yield _solve_table(QUICK_PROBLEMS if settings.quick else PROBLEMS, settings)
    yield _gp_table(300 if settings.quick else 1000, settings)

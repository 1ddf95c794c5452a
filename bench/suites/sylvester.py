"""Solves with Kronecker sums (Sylvester equations) and Kronecker products, up to a 10⁶ × 10⁶ system.

Kronecker sum ``(A ⊗ I + I ⊗ B) vec(X) = vec(C)`` (row-major ``vec``: ``A X + X Bᵀ = C``) with
``n×n`` float64 factors, ``N = n²`` unknowns. Candidates: kronbox's Bartels–Stewart path
(``KronSum(A, B).solve``: Schur forms, ``trsyl``; Hermitian factors take ``eigh``), the same with the
Schur forms kept from an earlier solve, the sum ``Kron(A, I) + Kron(I, B)`` recognized as a
Kronecker sum, ``scipy.linalg.solve_sylvester(A, Bᵀ, C)`` (the baseline; the target is kronbox
within 1.5× of it), the same under one BLAS thread per pool (kronbox's setting, to separate the
algorithm from the thread policy), scipy GMRES on the lazy operator capped at 200 iterations (its
residual is in the notes), and a dense LU of the ``N × N`` matrix while it fits (n ≤ 60).
Two problems: random factors shifted to be well conditioned (each factor's eigenvalues near the unit disk
around 2, so ``|λ + μ| ≳ 2``) and the
2-D Poisson operator (``A = B = tridiag(−1, 2, −1)·(n+1)²``, condition number ~ n²).

Kronecker product ``(A ⊗ B) x = c``: the per-factor choices behind ``linalg.solve`` and ``inv``:
``numpy.linalg.solve`` per factor (kronbox's ``solve``) against ``numpy.linalg.inv`` + GEMMs and
``scipy.linalg.lu_factor`` + ``lu_solve``; then applying a kept inverse, kronbox's ``inv()`` (dense
factor inverses, two GEMMs) against ``lu_solve`` with kept LU factors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import gmres
from threadpoolctl import ThreadpoolController

import kronbox as kb
from bench.table import Summary, Table
from bench.timing import Settings, compare

SIZES = (30, 60, 100, 300, 1000)
QUICK_SIZES = (20, 40, 80)
DENSE_MAX = 60  # the dense Kronecker sum at n = 60 is 3600 × 3600 (104 MB)
FACTOR_SIZES = (100, 300, 1000)
QUICK_FACTOR_SIZES = (100, 300)

SCIPY = "scipy `solve_sylvester(A, Bᵀ, C)`"
SCIPY_ONE_THREAD = "scipy `solve_sylvester`, one BLAS thread per pool"
KRONBOX = "kronbox `KronSum(A, B).solve(c)`"
KRONBOX_KEPT = "kronbox, Schur forms kept from an earlier solve"
KRONBOX_SUM = "kronbox `(Kron(A, I) + Kron(I, B)).solve(c)`"
GMRES = "scipy `gmres` on the lazy operator (≤ 200 iterations)"
DENSE = "dense `np.linalg.solve` (N × N LU)"
GMRES_RESTART, GMRES_CYCLES = 50, 4
_POOLS = ThreadpoolController()  # made once: making one scans the loaded libraries (about a millisecond)

Candidates = dict[str, Callable[[], object]]


def _gmres(op: kb.KronSum, c: np.ndarray) -> np.ndarray:
    return gmres(op, c, rtol=1e-10, restart=GMRES_RESTART, maxiter=GMRES_CYCLES)[0]


def _kronsum_candidates(A, B, C, dense) -> Candidates:
    n, c = A.shape[0], C.ravel()
    kept = kb.KronSum(A, B)
    kept.solve(c)
    summed = kb.Kron(A, kb.Identity(n)) + kb.Kron(kb.Identity(n), B)
    lazy = kb.KronSum(A, B)

    def scipy_one_thread():
        with _POOLS.limit(limits=1, user_api="blas"):
            return scipy.linalg.solve_sylvester(A, B.T, C).ravel()

    candidates: Candidates = {
        SCIPY: lambda: scipy.linalg.solve_sylvester(A, B.T, C).ravel(),
        SCIPY_ONE_THREAD: scipy_one_thread,
        KRONBOX: lambda: kb.KronSum(A, B).solve(c),
        KRONBOX_KEPT: lambda: kept.solve(c),
        KRONBOX_SUM: lambda: summed.solve(c),
        GMRES: lambda: _gmres(lazy, c),
    }
    if dense is not None:
        candidates[DENSE] = lambda: np.linalg.solve(dense, c)
    return candidates


def _gmres_residual(A, B, C) -> str:
    op, c = kb.KronSum(A, B), C.ravel()
    x = _gmres(op, c)
    return f"{np.linalg.norm(op @ x - c) / np.linalg.norm(c):.1e}"


def _general(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return tuple(rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n) for _ in range(2))


def _poisson(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    T = (n + 1) ** 2 * (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1))
    return T, T.copy()


def _kronsum_table(title: str, problem, sizes, settings: Settings) -> Table:
    table = Table(title, baseline=SCIPY)
    residuals = []
    rng = np.random.default_rng(1)
    for n in sizes:
        A, B = problem(rng, n)
        C = rng.standard_normal((n, n))
        dense = kb.KronSum(A, B).to_dense() if n <= DENSE_MAX else None
        reference = scipy.linalg.solve_sylvester(A, B.T, C).ravel()
        print(f"  {title}, n = {n} ...", file=sys.stderr, flush=True)
        table.add(f"n = {n} (N = {n * n:,})", compare(_kronsum_candidates(A, B, C, dense), reference, settings))
        residuals.append(f"n = {n}: {_gmres_residual(A, B, C)}")
    table.summaries.append(Summary("kronbox ÷ scipy solve_sylvester", KRONBOX, [SCIPY]))
    table.notes.append("GMRES relative residual ‖b − A x‖/‖b‖ after at most 200 iterations: " + ", ".join(residuals))
    return table


# --------------------------------------------------------------------- Kronecker products
LU = "scipy `lu_factor` + `lu_solve` per factor"
INV = "`numpy.linalg.inv` per factor + two GEMMs"
KRON_SOLVE = "kronbox `Kron(A, B).solve(c)` (`numpy.linalg.solve` per factor)"
KEPT_LU = "scipy `lu_solve` with kept LU factors"
KEPT_INV = "kronbox `Kron(A, B).inv() @ c` (kept dense factor inverses)"
RESOLVE = "`numpy.linalg.solve` per factor on every apply"


def _factor_candidates(A, B, C) -> tuple[Candidates, Candidates]:
    c = C.ravel()
    op, inverse = kb.Kron(A, B), kb.Kron(A, B).inv()
    lu_A, lu_B = scipy.linalg.lu_factor(A), scipy.linalg.lu_factor(B)

    def lu():
        Y = scipy.linalg.lu_solve(scipy.linalg.lu_factor(A), C)
        return scipy.linalg.lu_solve(scipy.linalg.lu_factor(B), Y.T).T.ravel()

    def kept_lu():
        return scipy.linalg.lu_solve(lu_B, scipy.linalg.lu_solve(lu_A, C).T).T.ravel()

    def resolve():
        return np.linalg.solve(B, np.linalg.solve(A, C).T).T.ravel()

    once: Candidates = {
        LU: lu,
        INV: lambda: (np.linalg.inv(A) @ C @ np.linalg.inv(B).T).ravel(),
        KRON_SOLVE: lambda: op.solve(c),
    }
    kept: Candidates = {KEPT_LU: kept_lu, KEPT_INV: lambda: inverse @ c, RESOLVE: resolve}
    return once, kept


def _factor_tables(sizes, settings: Settings) -> tuple[Table, Table]:
    once = Table("Kron solve, one right-hand side, factorizing", baseline=LU)
    kept = Table("Kron inverse applied, factorizations kept", baseline=KEPT_LU)
    rng = np.random.default_rng(2)
    for n in sizes:
        A, B = (rng.standard_normal((n, n)) + np.sqrt(n) * np.eye(n) for _ in range(2))
        C = rng.standard_normal((n, n))
        reference = scipy.linalg.solve(A, scipy.linalg.solve(B, C.T).T).ravel()  # X = A⁻¹ C B⁻ᵀ
        candidates_once, candidates_kept = _factor_candidates(A, B, C)
        print(f"  Kron solve and inverse, n = {n} ...", file=sys.stderr, flush=True)
        once.add(f"n = {n}", compare(candidates_once, reference, settings))
        kept.add(f"n = {n}", compare(candidates_kept, reference, settings))
    return once, kept


def run(settings: Settings) -> Iterator[Table]:
    sizes = QUICK_SIZES if settings.quick else SIZES
    yield _kronsum_table("Kronecker sum solve, random well-conditioned A, B", _general, sizes, settings)
    yield _kronsum_table("Kronecker sum solve, 2-D Poisson (A = B symmetric)", _poisson, sizes, settings)
    yield from _factor_tables(QUICK_FACTOR_SIZES if settings.quick else FACTOR_SIZES, settings)

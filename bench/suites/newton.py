"""Newton with the lazy Hessian against L-BFGS and a dense-Hessian Newton: covariance estimation to ‖∇f‖ ≤ 1e-8.

The AMD paper's covariance problem (:mod:`kronbox.examples.covariance`): from ``2d`` samples in ``d``
dimensions, minimize ``φ(Σ) = logdet Σ + trace(S Σ⁻¹) + ‖Σ⁻¹‖²_F`` over symmetric positive definite
``Σ`` from ``Σ = I`` with :func:`kronbox.amd.minimize` (``tol = 1e-8``, one BLAS thread per pool). The
Hessian is ``d² × d²``. Candidates: kronbox's newton-pcg (truncated Newton, CG preconditioned by
``V ↦ Σ V Σ`` and without), scipy's trust-ncg and Newton-CG with the lazy Hessian as ``hessp``,
L-BFGS-B on the same value and gradient (the baseline), and trust-exact on the dense Hessian
(``to_dense()`` of the lazy one, symmetrized) while it fits (``d ≤ 50``: 50 MB; at ``d = 200`` it would
be 12.8 GB). A cell is the time of a whole run, to ``‖∇f‖ ≤ 1e-8`` or to where the method stops (the
cell says so); each result is checked against the closed form ``Σ* = Q diag((s + √(s² + 8))/2) Qᵀ``.
The second table is one more run of each, under tracemalloc: peak memory, iterations, evaluations of
``φ`` and ``∇φ``, Hessian-vector products and the final ``‖∇f‖``.
"""

from __future__ import annotations

import sys
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from bench.table import Table
from bench.timing import Measurement, Settings, compare
from kronbox import amd
from kronbox.examples import covariance

SIZES = (50, 200, 500)
QUICK_SIZES = (20, 40)
DENSE_MAX = 50
TOL = 1e-8
RTOL = 1e-5  # against the closed form: ‖Σ − Σ*‖ ≲ ‖∇φ‖ / λ_min(H), and λ_min(H) is ~1e-3 here

LBFGS = "L-BFGS-B (gradient only)"
# name → (method, preconditioner: only newton-pcg takes one)
METHODS = {
    "newton-pcg, lazy Hessian, V ↦ ΣVΣ": ("newton-pcg", "auto"),
    "newton-pcg, lazy Hessian, unpreconditioned": ("newton-pcg", None),
    "trust-ncg, lazy Hessian": ("trust-ncg", "auto"),
    "Newton-CG, lazy Hessian": ("Newton-CG", "auto"),
    LBFGS: ("L-BFGS-B", "auto"),
    "trust-exact, dense Hessian": ("trust-exact", "auto"),
}


def _quiet_estimate(S: np.ndarray, method: tuple[str, str | None]) -> amd.MinimizeResult:
    name, preconditioner = method
    with warnings.catch_warnings():  # a run that stops short is reported in the table
        warnings.simplefilter("ignore", amd.NotConvergedWarning)
        return covariance.estimate(S, method=name, preconditioner=preconditioner, tol=TOL, maxiter=2000)


def _candidates(S: np.ndarray) -> dict[str, Callable[[], object]]:
    d = S.shape[0]
    return {name: (lambda method=method: _quiet_estimate(S, method).X) for name, method in METHODS.items()
            if method[0] != "trust-exact" or d <= DENSE_MAX}


def _profile(S: np.ndarray, method: tuple[str, str | None]) -> tuple[amd.MinimizeResult, int]:
    tracemalloc.start()
    try:
        result = _quiet_estimate(S, method)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.3g} MB"


def run(settings: Settings) -> Iterator[Table]:
    timed = Table(f"Covariance estimation to ‖∇f‖ ≤ {TOL:g}, time of a run", baseline=LBFGS)
    work = Table("Peak memory (tracemalloc) and work of one run", baseline=LBFGS)
    for d in QUICK_SIZES if settings.quick else SIZES:
        S = covariance.sample_covariance(covariance.synthetic_data(d, seed=0))
        reference = covariance.closed_form(S)
        column = f"d = {d} (H: {d * d:,}²)"
        print(f"  covariance, d = {d} ...", file=sys.stderr, flush=True)
        candidates = _candidates(S)
        measured = compare(candidates, reference, settings, rtol=RTOL)
        cells = {}
        for name in candidates:
            result, peak = _profile(S, METHODS[name])
            if not result.success:
                measured[name] = replace(measured[name], note="; ".join(
                    filter(None, [measured[name].note, f"stops at ‖∇f‖ = {result.grad_norm:.1e}"])))
            cells[name] = Measurement(note=f"{_megabytes(peak)}, {result.nit} it, {result.nfev} f+∇f, "
                                           f"{result.nhessp} Hv, ‖∇f‖ = {result.grad_norm:.0e}")
        timed.add(column, measured)
        work.add(column, cells)
    timed.notes.append(f"The dense Hessian is d⁴ · 8 bytes: 50 MB at d = 50, 12.8 GB at d = 200; trust-exact "
                       f"runs for d ≤ {DENSE_MAX}. Each result matches the closed form to {RTOL:g} (max-norm).")
    yield timed
    yield work

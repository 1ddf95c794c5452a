"""``kronbox demo``: covariance estimation by Newton's method with a Hessian that is never formed.

The AMD paper's example (:mod:`kronbox.examples.covariance`): from ``2d`` samples in ``d`` dimensions, maximize
``f(Σ) = −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F`` over symmetric positive definite ``Σ`` by minimizing
``φ = −f`` with :func:`kronbox.amd.minimize`: a truncated Newton method whose Hessian, a
``d² × d²`` operator (``6.25·10¹⁰`` entries at ``d = 500``), is applied to vectors by matrix products
inside conjugate gradients preconditioned by ``V ↦ Σ V Σ``.
The result is checked against the closed form ``Σ* = Q diag((s + √(s² + 8))/2) Qᵀ`` of
``S = Q diag(s) Qᵀ`` and for positive definiteness, and compared with L-BFGS on the same gradient.
Exit status 0 when the Newton run converged to the closed form, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kronbox import amd
from kronbox.commands.report import int_between, nonnegative_float, nonnegative_int
from kronbox.examples import covariance

HELP = "covariance estimation by Newton's method with a lazy d²×d² Hessian, checked against the closed form"
NEWTON_METHODS = ("newton-pcg", "trust-ncg", "trust-krylov", "newton-cg")
TOL = 1e-8
MAX_SIZE = 4000  # d: the 2d samples alone take 16 d² bytes (256 MB at 4000)
MAX_ERROR = 1e-6  # relative Frobenius distance to the closed form that the Newton run must reach


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kronbox demo``; the parsed arguments carry ``run``."""
    parser.add_argument("--size", type=int_between(2, MAX_SIZE), default=500,
                        help=f"dimension d of the covariance, 2 to {MAX_SIZE} (default 500)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the synthetic data (≥ 0, default 0)")
    parser.add_argument("--method", choices=NEWTON_METHODS, default="newton-pcg",
                        help="the Newton method (default newton-pcg, preconditioned by V ↦ Σ V Σ)")
    parser.add_argument("--lbfgs-budget", type=nonnegative_float, default=30.0, metavar="SECONDS",
                        help="time allowed for the L-BFGS comparison, 0 to skip it (default 30)")
    parser.set_defaults(run=_command)


def _command(args: argparse.Namespace) -> int:
    try:
        return 0 if run(args.size, args.seed, args.method, args.lbfgs_budget) else 1
    except MemoryError:
        print(f"kronbox demo: not enough memory for d = {args.size} (the samples alone take "
              f"{_bytes(16.0 * args.size**2)}); try a smaller --size", file=sys.stderr)
        return 2


def _bytes(count: float) -> str:
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    size, unit = float(count), 0
    while size >= 1000 and unit < len(units) - 1:
        size, unit = size / 1000, unit + 1
    return f"{size:.3g} {units[unit]}"


@dataclass(frozen=True)
class Run:
    """One optimizer run: its result, seconds, peak traced memory and distance to the closed form."""

    label: str
    result: amd.MinimizeResult
    seconds: float
    peak: int
    error: float


def _measured(label: str, S: np.ndarray, reference: np.ndarray, **options) -> Run:
    tracemalloc.start()
    start = time.perf_counter()
    with warnings.catch_warnings():  # a run that does not converge is reported in the table
        warnings.simplefilter("ignore", amd.NotConvergedWarning)
        result = covariance.estimate(S, **options)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    error = float(np.linalg.norm(result.X - reference) / np.linalg.norm(reference))
    return Run(label, result, seconds, peak, error)


def _warm_up(method: str) -> None:
    """Run both methods once on a 3×3 problem, so that imports and compiled kernels are not timed."""
    S = covariance.sample_covariance(covariance.synthetic_data(3))
    for name in (method, "L-BFGS-B"):
        covariance.estimate(S, method=name, tol=1e-6)


def _time_limit(seconds: float) -> Callable[[amd.Iteration, np.ndarray], None]:
    """A ``minimize`` callback that ends the run once ``seconds`` have passed."""

    def stop_when_late(step: amd.Iteration, X: np.ndarray) -> None:
        if step.elapsed > seconds:
            raise StopIteration

    return stop_when_late


def _indented(say: Callable[[str], None]) -> Callable[[str], None]:
    return lambda line: say("      " + line)


def run(d: int = 500, seed: int = 0, method: str = "newton-pcg", lbfgs_budget: float = 30.0,
        say: Callable[[str], None] = print) -> bool:
    """Run the demo, printing as it goes; return True when the Newton run passed its checks."""
    S = covariance.sample_covariance(covariance.synthetic_data(d, seed=seed))
    N = d * d
    say(f"Covariance estimation, d = {d}: S from {2 * d:,} samples; maximize f(Σ) = −logdet Σ − trace(S Σ⁻¹) − "
        "‖Σ⁻¹‖²_F over positive definite Σ (minimize φ = −f), from Σ = I")
    say(f"The Hessian is {N:,} × {N:,} ({float(N) * N:.3g} entries, {_bytes(8.0 * N * N)} if formed): "
        "never formed, applied as a sum of Kron and Box terms")
    reference = covariance.closed_form(S)
    _warm_up(method)

    say(f"[1/2] Newton ({method}, lazy Hessian-vector products); φ and ‖∇φ‖_F per step:")
    newton = _measured(f"Newton ({method})", S, reference, method=method, tol=TOL, progress=_indented(say))
    r = newton.result
    lowest = float(np.linalg.eigvalsh(r.X)[0])
    say(f"      {r.message}")
    say(f"      {newton.seconds:.2f} s, peak memory {_bytes(newton.peak)} (tracemalloc), {r.nhessp} Hessian-vector "
        f"products at {r.nhess} points, {r.nfev} evaluations of φ and ∇φ")
    say(f"      against the closed form: ‖Σ − Σ*‖_F / ‖Σ*‖_F = {newton.error:.1e}; smallest eigenvalue of Σ: "
        f"{lowest:.3g} ({'positive definite' if lowest > 0 else 'NOT positive definite'})")
    runs = [newton]

    if lbfgs_budget > 0:
        say(f"[2/2] L-BFGS-B on the same gradient (at most {lbfgs_budget:g} s):")
        lbfgs = _measured("L-BFGS-B", S, reference, method="L-BFGS-B", tol=TOL, maxiter=10_000,
                          callback=_time_limit(lbfgs_budget))
        say(f"      {lbfgs.result.message}")
        runs.append(lbfgs)
    else:
        say("[2/2] L-BFGS-B comparison skipped (--lbfgs-budget 0)")

    say("")
    say("| method | iterations | φ, ∇φ evaluations | Hessian-vector products | time | peak memory | ‖∇φ‖_F | "
        "error vs closed form |")
    say("|---|---|---|---|---|---|---|---|")
    for item in runs:
        q = item.result
        say(f"| {item.label} | {q.nit} | {q.nfev} | {q.nhessp} | {item.seconds:.2f} s | {_bytes(item.peak)} | "
            f"{q.grad_norm:.1e} | {item.error:.1e} |")
    if len(runs) == 2 and runs[1].seconds > 0:
        say(f"Newton took {runs[0].seconds / runs[1].seconds:.2f}× the time of L-BFGS-B and "
            f"{runs[0].peak / max(runs[1].peak, 1):.2f}× its peak memory.")
    ok = r.success and newton.error < MAX_ERROR and lowest > 0
    say("All checks passed." if ok else "Some checks FAILED.")
    return ok

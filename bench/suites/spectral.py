"""Matrix functions and decompositions: gradients of trace(expm X), Σ log λᵢ(X), ‖chol X‖² against jax and torch.

For ``n×n`` float64 ``X`` (symmetric positive definite ``G Gᵀ/n + I``, eigenvalues in about [1, 5], made exactly
symmetric; or general, ``G/√n``), each gradient table times, in the same interleaved rounds:

- ``f``: numpy/scipy (``trace(scipy.linalg.expm(X))``, ``Σ log(eigvalsh(X))``, ``‖cholesky(X)‖²``; the baseline),
  kronbox's ``f.eval``, jax (jit) and torch;
- ``f, ∇f``: kronbox's ``amd.value_and_grad(f, X, X=…)``, a hand-written numpy gradient (``trace(e^X)``: ``Q e^Λ Qᵀ``
  from one ``eigh``, or ``expm(X)ᵀ``; ``Σ log λ``: ``Q Λ⁻¹ Qᵀ``; Cholesky: the adjoint
  ``L⁻ᵀ Φ(Lᵀ L̄) L⁻¹`` with ``L̄ = 2L`` by two triangular solves, as JAX and PyTorch compute it), ``jax.value_and_grad``
  (jit) and torch's autograd (``backward``).

kronbox's variable is general (``amd.var("X", (n, n))``) and, where the table says so, declared symmetric
(``symmetric=True``: the gradient on symmetric matrices, which for these functions is the same matrix).
Every gradient is checked against an independent one (``scipy.linalg.expm``, ``scipy.linalg.inv`` and, for
``‖chol X‖² = trace X``, the identity) to a relative error of 1e-8.

A last table applies the Fréchet derivative of ``expm`` to a direction ``E``: kronbox's lazy Jacobian
``J = amd.jacobian(amd.expm(X), X).at(values)`` (built once; its build is a row of its own) as ``J @ vec(E)``
against ``scipy.linalg.expm_frechet(X, E)`` and jax's ``jvp`` of ``expm`` (jit), at symmetric and general ``X``.

Everything runs on one core with one thread: BLAS pools limited by threadpoolctl, ``torch.set_num_threads(1)``,
jax with ``--xla_cpu_multi_thread_eigen=false``, and the process pinned to one core while the suite runs (on
this 2-core machine, shared with other work, jax's thread pool was otherwise up to 40× slower in some runs:
``expm`` at n = 256 took 8 ms or 330 ms). jax is configured so only when this suite imports it first.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from bench import peers
from bench.table import Summary, Table
from bench.timing import Settings, compare
from kronbox import amd

SIZES, QUICK_SIZES = (64, 256, 1024), (64, 256)
XLA_SINGLE_THREAD = "--xla_cpu_multi_thread_eigen=false"

F_NUMPY = "f: numpy/scipy"
F_KRONBOX = "f: kronbox `f.eval`"
F_JAX = "f: jax (jit)"
F_TORCH = "f: torch"
VG_KRONBOX = "f, ∇f: kronbox `amd.value_and_grad`"
VG_SYMMETRIC = "f, ∇f: kronbox `amd.value_and_grad`, X declared symmetric"
VG_HAND = "f, ∇f: numpy by hand"
VG_JAX = "f, ∇f: `jax.value_and_grad` (jit)"
VG_TORCH = "f, ∇f: torch autograd"
FRECHET_SCIPY = "scipy `expm_frechet(X, E)`"
FRECHET_APPLY = "kronbox `J @ vec(E)`"
FRECHET_BUILD = "kronbox build, `jacobian.at(values)`"
FRECHET_JAX = "jax `jvp(expm)` (jit)"

Candidates = dict[str, Callable[[], object]]


# ------------------------------------------------------------------------------ the objectives
def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    G = rng.standard_normal((n, n))
    X = G @ G.T / n + np.eye(n)
    return (X + X.T) / 2


def _general(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal((n, n)) / np.sqrt(n)


def _trace_expm_symmetric_hand(X: np.ndarray) -> tuple[float, np.ndarray]:
    w, Q = np.linalg.eigh(X)
    e = np.exp(w)
    return float(e.sum()), (Q * e) @ Q.T


def _trace_expm_general_hand(X: np.ndarray) -> tuple[float, np.ndarray]:
    E = scipy.linalg.expm(X)
    return float(np.trace(E)), E.T


def _logeig_hand(X: np.ndarray) -> tuple[float, np.ndarray]:
    w, Q = np.linalg.eigh(X)
    return float(np.log(w).sum()), (Q / w) @ Q.T


def _cholesky_hand(X: np.ndarray) -> tuple[float, np.ndarray]:
    """``‖L‖²`` and its gradient by the adjoint of Cholesky: ``P = Φ(Lᵀ L̄)`` (lower triangle, half diagonal),
    ``X̄ = sym(L⁻ᵀ P L⁻¹)``."""
    L = np.linalg.cholesky(X)
    P = np.tril(L.T @ (2 * L))
    P.flat[:: X.shape[0] + 1] *= 0.5
    right = scipy.linalg.solve_triangular(L, P, lower=True, trans="T")  # L⁻ᵀ P
    G = scipy.linalg.solve_triangular(L, right.T, lower=True, trans="T").T  # (L⁻ᵀ P) L⁻¹
    return float(np.sum(L * L)), (G + G.T) / 2


@dataclass(frozen=True)
class Objective:
    """One scalar function of ``X``: in kronbox, numpy, jax and torch, with an independent reference gradient."""

    title: str
    matrix: Callable[[np.random.Generator, int], np.ndarray]
    kronbox: Callable[[amd.Expr], amd.Expr]
    numpy: Callable[[np.ndarray], float]
    hand: Callable[[np.ndarray], tuple[float, np.ndarray]]
    jax: Callable  # (jax, X) -> scalar
    torch: Callable  # (torch, X) -> scalar
    reference: Callable[[np.ndarray], np.ndarray]  # the gradient
    symmetric_row: bool = True


def _trace_expm(which: str, draw: Callable, hand: Callable) -> Objective:
    """``tr e^X`` (gradient ``e^{Xᵀ}``) at a symmetric or a general ``X``."""
    return Objective(
        f"trace(expm(X)), X {which}",
        draw,
        lambda X: amd.trace(amd.expm(X)),
        lambda X: float(np.trace(scipy.linalg.expm(X))),
        hand,
        lambda jax, X: jax.numpy.trace(jax.scipy.linalg.expm(X)),
        lambda torch, X: torch.trace(torch.linalg.matrix_exp(X)),
        lambda X: scipy.linalg.expm(X).T,
        symmetric_row=which == "symmetric",
    )


OBJECTIVES = (
    _trace_expm("symmetric", _spd, _trace_expm_symmetric_hand),
    _trace_expm("general", _general, _trace_expm_general_hand),
    Objective(
        "Σ log λᵢ(X) = sum(log(eigvalsh(X)))",
        _spd,
        lambda X: amd.sum(amd.log(amd.eigvalsh(X))),
        lambda X: float(np.log(np.linalg.eigvalsh(X)).sum()),
        _logeig_hand,
        lambda jax, X: jax.numpy.sum(jax.numpy.log(jax.numpy.linalg.eigvalsh(X))),
        lambda torch, X: torch.log(torch.linalg.eigvalsh(X)).sum(),
        scipy.linalg.inv,
    ),
    Objective(
        "‖chol(X)‖²_F",
        _spd,
        lambda X: amd.normsq(amd.cholesky(X)),
        lambda X: float(np.sum(np.linalg.cholesky(X) ** 2)),
        _cholesky_hand,
        lambda jax, X: jax.numpy.sum(jax.numpy.linalg.cholesky(X) ** 2),
        lambda torch, X: (torch.linalg.cholesky(X) ** 2).sum(),
        lambda X: np.eye(X.shape[0]),  # ‖L‖² = trace(L Lᵀ) = trace X
    ),
)


# --------------------------------------------------------------------------------- candidates
def _numpy_candidates(objective: Objective, X0: np.ndarray) -> Candidates:
    return {F_NUMPY: lambda: objective.numpy(X0), VG_HAND: lambda: objective.hand(X0)[1]}


def _kronbox_candidates(objective: Objective, X0: np.ndarray) -> Candidates:
    n = X0.shape[0]
    X = amd.var("X", (n, n))
    f = objective.kronbox(X)
    candidates: Candidates = {
        F_KRONBOX: lambda: f.eval(X=X0),
        VG_KRONBOX: lambda: amd.value_and_grad(f, X, X=X0)[1],
    }
    if objective.symmetric_row:
        Xs = amd.var("X", (n, n), symmetric=True)
        fs = objective.kronbox(Xs)
        candidates[VG_SYMMETRIC] = lambda: amd.value_and_grad(fs, Xs, X=X0)[1]
    return candidates


def _jax_candidates(objective: Objective, X0: np.ndarray) -> Candidates:
    jax = peers.jax()
    if jax is None:
        return {}

    def f(X):
        return objective.jax(jax, X)

    f_jit, vg_jit = jax.jit(f), jax.jit(jax.value_and_grad(f))
    X = jax.device_put(X0)
    return {
        F_JAX: lambda: f_jit(X).block_until_ready(),
        VG_JAX: lambda: vg_jit(X)[1].block_until_ready(),
    }


def _torch_candidates(torch, objective: Objective, X0: np.ndarray) -> Candidates:
    if torch is None:
        return {}
    Xt = torch.asarray(X0)

    def value():
        return objective.torch(torch, Xt)

    def value_and_grad():
        X = Xt.detach().clone().requires_grad_(True)
        objective.torch(torch, X).backward()
        return X.grad

    return {F_TORCH: value, VG_TORCH: value_and_grad}


def _gradient_table(objective: Objective, torch, rng: np.random.Generator, settings: Settings) -> Table:
    table = Table(f"f and ∇f: {objective.title}", baseline=F_NUMPY)
    for n in QUICK_SIZES if settings.quick else SIZES:
        print(f"  {objective.title}, n = {n} ...", file=sys.stderr, flush=True)
        X0 = objective.matrix(rng, n)
        candidates = _numpy_candidates(objective, X0)
        candidates.update(_kronbox_candidates(objective, X0))
        candidates.update(_jax_candidates(objective, X0))
        candidates.update(_torch_candidates(torch, objective, X0))
        value, gradient = objective.numpy(X0), objective.reference(X0)
        references = {name: (value if name.startswith("f:") else gradient) for name in candidates}
        table.add(f"n = {n}", compare(candidates, settings=settings, references=references))
    table.summaries = [
        Summary("kronbox (f, ∇f) ÷ kronbox f", [VG_KRONBOX, VG_SYMMETRIC], [F_KRONBOX]),
        Summary("kronbox (f, ∇f) ÷ numpy f", [VG_KRONBOX, VG_SYMMETRIC], [F_NUMPY]),
        Summary("kronbox (f, ∇f) ÷ numpy by hand", [VG_KRONBOX, VG_SYMMETRIC], [VG_HAND]),
        Summary("kronbox (f, ∇f) ÷ jax.value_and_grad", [VG_KRONBOX, VG_SYMMETRIC], [VG_JAX]),
        Summary("kronbox (f, ∇f) ÷ torch autograd", [VG_KRONBOX, VG_SYMMETRIC], [VG_TORCH]),
        Summary("jax (f, ∇f) ÷ jax f", VG_JAX, [F_JAX]),
        Summary("torch (f, ∇f) ÷ torch f", VG_TORCH, [F_TORCH]),
    ]
    table.summaries = [s for s in table.summaries if all(name in table.rows for name in [*s.against])]
    if objective.symmetric_row:
        table.notes.append("kronbox's summary rows take the faster of its two rows (general and symmetric variable).")
    return table


# ------------------------------------------------------------------------- the Fréchet derivative
def _frechet_candidates(X0: np.ndarray, E: np.ndarray) -> Candidates:
    n = X0.shape[0]
    X = amd.var("X", (n, n))
    jacobian = amd.jacobian(amd.expm(X), X)
    J, e = jacobian.at({"X": X0}), E.ravel()
    candidates: Candidates = {
        FRECHET_SCIPY: lambda: scipy.linalg.expm_frechet(X0, E, compute_expm=False),
        FRECHET_APPLY: lambda: J @ e,
        FRECHET_BUILD: lambda: jacobian.at({"X": X0}),
    }
    jax = peers.jax()
    if jax is not None:
        jvp = jax.jit(lambda X, E: jax.jvp(jax.scipy.linalg.expm, (X,), (E,))[1])
        Xj, Ej = jax.device_put(X0), jax.device_put(E)
        candidates[FRECHET_JAX] = lambda: jvp(Xj, Ej).block_until_ready()
    return candidates


def _frechet_table(rng: np.random.Generator, settings: Settings) -> Table:
    table = Table("The Fréchet derivative of expm applied to a direction", baseline=FRECHET_SCIPY)
    for kind, matrix in (("symmetric", _spd), ("general", _general)):
        for n in QUICK_SIZES if settings.quick else SIZES:
            print(f"  expm Fréchet derivative, {kind} X, n = {n} ...", file=sys.stderr, flush=True)
            X0, E = matrix(rng, n), rng.standard_normal((n, n))
            expected = scipy.linalg.expm_frechet(X0, E, compute_expm=False)
            references = {FRECHET_SCIPY: expected, FRECHET_APPLY: expected.ravel(), FRECHET_JAX: expected}
            table.add(f"{kind}, n = {n}", compare(_frechet_candidates(X0, E), settings=settings, references=references))
    table.summaries = [Summary("kronbox `J @ vec(E)` ÷ scipy", FRECHET_APPLY, [FRECHET_SCIPY])]
    if peers.jax() is not None:
        table.summaries.append(Summary("kronbox `J @ vec(E)` ÷ jax jvp", FRECHET_APPLY, [FRECHET_JAX]))
    table.notes.append("At a symmetric X, J is the Daleckii–Krein operator (Q ⊗ Q) diag(vec Φ) (Qᵀ ⊗ Qᵀ): its build "
                       "is one eigh, a product four GEMMs. At a general X a product calls expm_frechet.")
    return table


# --------------------------------------------------------------------------------------- one core
@contextlib.contextmanager
def _one_core(torch) -> Iterator[str]:
    """One core, one thread for every library while the suite runs; yields a note saying how jax runs."""
    if "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS"), XLA_SINGLE_THREAD]))
        note = f"jax: `XLA_FLAGS={XLA_SINGLE_THREAD}`, imported on one core."
    else:
        note = "jax was imported before this suite: its thread pool is the one it was created with."
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    threads = torch.get_num_threads() if torch is not None else None
    try:
        if affinity:
            os.sched_setaffinity(0, {max(affinity)})
        if torch is not None:
            torch.set_num_threads(1)
        with threadpool_limits(limits=1):
            peers.jax()
            yield note
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)
        if threads is not None:
            torch.set_num_threads(threads)


def run(settings: Settings) -> Iterator[Table]:
    torch = peers.torch()
    with _one_core(torch) as jax_note:
        for index, objective in enumerate(OBJECTIVES):
            table = _gradient_table(objective, torch, np.random.default_rng(index), settings)
            table.notes.append(f"One core, one thread: BLAS pools at 1 (threadpoolctl), torch.set_num_threads(1). "
                               f"{jax_note}")
            yield table
        table = _frechet_table(np.random.default_rng(len(OBJECTIVES)), settings)
        table.notes.append(jax_note)
        yield table

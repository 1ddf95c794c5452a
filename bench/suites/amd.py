"""The AMD paper's examples: f, its gradient and Hessian-vector products, against hand-written code and jax.

For ``n×n`` float64 problems (``Σ = X`` symmetric positive definite, ``AAᵀ/n + I`` made exactly
symmetric; ``S`` an empirical covariance of ``2n`` samples; ``A``, ``B`` general; ``V`` a general
direction) and the functions ``logdet X``, ``trace(S X⁻¹)``, ``trace(A X B X)`` and the covariance
objective ``f(Σ) = −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F``, each table times, interleaved in the same
rounds (so that their ratios are measured together):

- ``f``: kronbox's ``f.eval(values)`` against hand-written evaluations (Cholesky by scipy's
  ``potrf``/``potri`` with the sums read from the inverse's triangle, or numpy only) and jax (jit);
- ``∇f``: kronbox's ``g.eval(values)`` (``g = amd.grad(f, "X")`` built once) against hand-written
  gradients under four BLAS-pool policies (numpy only: ``inv`` and GEMMs; the Cholesky inverse by
  scipy's ``potrf``/``potri`` and GEMMs by numpy, as written naively, so the two OpenBLAS pools take
  turns; the same with scipy's pool held at one thread; scipy only: ``potrf``, ``potri`` and scipy's
  ``dgemm``) and ``jax.grad`` (jit);
- ``Hv``: kronbox's ``H.matvec(v)`` (``H = amd.hessian(f, "X").at(values)`` built once; the build is a
  row of its own) against a hand-written Hessian-vector product (the fewest GEMMs we found, its
  setup a row of its own) and jax's ``jvp`` of ``grad`` (jit).

Hessians are those of ``f`` on all ``n²`` entries of ``X`` (the Matrix Cookbook convention), applied to
a general, non-symmetric ``V``. Hand-written code may use what its author knows: ``X``, ``S`` and
``X⁻¹`` are symmetric. Every result is checked against a reference computed independently (scipy's LU
``inv`` and the unsimplified formulas, no symmetry used) to a relative error of 1e-8. The baseline row
is the first hand-written ``f``; the summary rows give the ratios the targets are stated in.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import scipy.linalg
from scipy.linalg import blas, lapack
from threadpoolctl import ThreadpoolController

from bench import peers
from bench.table import Summary, Table
from bench.timing import Settings, compare
from kronbox import amd

SIZES = (64, 256, 1024)
QUICK_SIZES = (64, 256)

F_KRONBOX = "f: kronbox `f.eval(values)`"
G_KRONBOX = "∇f: kronbox `g.eval(values)`"
H_KRONBOX = "Hv: kronbox `H.matvec(v)`"
B_KRONBOX = "H: kronbox build, `hessian.at(values)`"
F_JAX = "f: jax (jit)"
G_JAX = "∇f: `jax.grad` (jit)"
H_JAX = "Hv: jax `jvp` of `grad` (jit)"
JAX = (F_JAX, G_JAX, H_JAX)
JAX_NOTE = (
    "jax rows are timed after the others, each on its own (its thread pool slows the BLAS calls that run "
    "right after it); jax runs in float64. Ratios to jax therefore compare different moments of the run."
)
# An idle OpenBLAS pool spins for about 0.1 s and slows the other pool's calls meanwhile (bench/timing.py).
PRIME, PRIME_QUICK = 0.12, 0.01
PRIME_NOTE = (
    f"Every sample follows {PRIME} s of untimed calls of the same candidate ({PRIME_QUICK} s with --quick), so "
    "that it does not pay for the BLAS pool (numpy's or scipy's) the previous candidate left spinning; pool "
    "switches inside a candidate are timed."
)

Candidates = dict[str, Callable[[], object]]


# ------------------------------------------------------------------------------- the problem
@dataclass(frozen=True)
class Problem:
    """The values of one size: ``X`` (SPD, exactly symmetric), ``S`` (covariance), ``A``, ``B``, ``V``."""

    X: np.ndarray
    S: np.ndarray
    A: np.ndarray
    B: np.ndarray
    V: np.ndarray

    @property
    def values(self) -> dict[str, np.ndarray]:
        return {"X": self.X, "S": self.S, "A": self.A, "B": self.B}


def _problem(rng: np.random.Generator, n: int) -> Problem:
    M = rng.standard_normal((n, n))
    X = M @ M.T / n + np.eye(n)
    Z = rng.standard_normal((2 * n, n))
    S = Z.T @ Z / (2 * n)
    A, B = (rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(2))
    return Problem((X + X.T) / 2, (S + S.T) / 2, A, B, rng.standard_normal((n, n)))


# ------------------------------------------------------------------ hand-written building blocks
@cache
def _scipy_pool() -> ThreadpoolController | None:
    """scipy's own OpenBLAS (the ``scipy.libs`` of a wheel install), or None if it shares numpy's."""
    controller = ThreadpoolController()
    paths = [lib.filepath for lib in controller.lib_controllers if Path(lib.filepath).parent.name == "scipy.libs"]
    return controller.select(filepath=paths) if paths else None


def _upper_inverse(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky ``X = L Lᵀ`` and ``X⁻¹``'s upper triangle (C order, zeros below) by scipy's ``potrf`` and
    ``potri``. ``Xᵀ`` (= ``X``) is the Fortran-ordered matrix LAPACK wants: nothing is copied."""
    L, info = lapack.dpotrf(X.T, lower=1, clean=1)
    if info == 0:
        inverse, info = lapack.dpotri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inverse failed (info = {info})")
    return L, inverse.T


def _full(U: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle is ``U`` (zeros below the diagonal)."""
    P = U + U.T
    P.flat[:: U.shape[0] + 1] *= 0.5
    return P


def _inner_upper(M: np.ndarray, U: np.ndarray) -> float:
    """``Σ mᵢⱼ pᵢⱼ`` for symmetric ``M``, ``P``, reading ``M``'s upper triangle and ``U`` = ``P``'s (zeros
    below): ``_inner_upper(U, U)`` is ``‖P‖²_F``. einsum, so no BLAS pool is woken."""
    return 2.0 * np.einsum("ij,ij->", M, U) - np.einsum("i,i->", M.diagonal(), U.diagonal())


def _inverse_numpy(X: np.ndarray) -> np.ndarray:
    return np.linalg.inv(X)


def _inverse_scipy(X: np.ndarray) -> np.ndarray:
    return _full(_upper_inverse(X)[1])


def _inverse_scipy_one_thread(X: np.ndarray) -> np.ndarray:
    with _scipy_pool().limit(limits=1):
        return _inverse_scipy(X)


def _gemm_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a @ b


def _gemm_scipy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` by scipy's BLAS: ``(a b)ᵀ = bᵀ aᵀ`` on the Fortran views, no copies."""
    return blas.dgemm(1.0, b.T, a.T).T


# The ways to get X⁻¹ and multiply that the hand-written gradients are timed with.
GRADIENT_POLICIES = {
    "numpy only (`inv`, `@`)": (_inverse_numpy, _gemm_numpy),
    "Cholesky inverse in scipy, `@` in numpy (the pools switch)": (_inverse_scipy, _gemm_numpy),
    "Cholesky inverse in scipy's pool held at one thread, `@` in numpy": (_inverse_scipy_one_thread, _gemm_numpy),
    "scipy only (`potrf`, `potri`, `dgemm`)": (_inverse_scipy, _gemm_scipy),
}


def _gradient_candidates(formula, p: Problem) -> Candidates:
    """One hand-written gradient per policy: ``formula(P, matmul, problem)`` with ``P = X⁻¹``."""
    policies = dict(GRADIENT_POLICIES)
    if _scipy_pool() is None:
        policies = {k: v for k, v in policies.items() if v[0] is not _inverse_scipy_one_thread}
    return {f"∇f: hand, {name}": _bind(formula, inverse, matmul, p) for name, (inverse, matmul) in policies.items()}


def _bind(formula, inverse, matmul, p: Problem) -> Callable[[], np.ndarray]:
    return lambda: formula(inverse(p.X), matmul, p)


# -------------------------------------------------------------------------------- the examples
@dataclass(frozen=True)
class Example:
    """One function: its kronbox expression, hand-written candidates, jax twin and reference."""

    title: str
    expression: Callable[..., amd.Expr]  # (X, S, A, B) symbols -> f
    hand: Callable[[Problem], dict[str, Candidates]]  # role ("f", "grad", "hv", "setup") -> candidates
    jax: Callable  # (jnp, X, S, A, B) -> scalar
    reference: Callable[[Problem], tuple[float, np.ndarray, np.ndarray]]  # f, ∇f, Hv (matrices)


def _logdet_hand(p: Problem) -> dict[str, Candidates]:
    P = np.linalg.inv(p.X)
    return {
        "f": {
            "f: hand, scipy `potrf`, log of the diagonal": lambda: 2.0 * np.log(_cholesky_diagonal(p.X)).sum(),
            "f: hand, numpy `cholesky`, log of the diagonal": (
                lambda: 2.0 * np.log(np.linalg.cholesky(p.X).diagonal()).sum()
            ),
        },
        "grad": {
            "∇f: hand, X⁻¹ by scipy `potrf` + `potri`": lambda: _inverse_scipy(p.X),
            "∇f: hand, X⁻¹ by numpy `inv`": lambda: np.linalg.inv(p.X),
        },
        "hv": {"Hv: hand, −P Vᵀ P (2 GEMMs)": lambda: -(P @ p.V.T @ P)},
        "setup": {"H: hand setup, P = X⁻¹": lambda: _inverse_scipy(p.X)},
    }


def _cholesky_diagonal(X: np.ndarray) -> np.ndarray:
    """The diagonal of the Cholesky factor of ``X`` by scipy's ``potrf`` (no copy of ``X``)."""
    L, info = lapack.dpotrf(X.T, lower=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"potrf failed (info = {info})")
    return L.diagonal()


def _logdet_reference(p: Problem):
    Xi = scipy.linalg.inv(p.X)
    return np.linalg.slogdet(p.X)[1], Xi.T, -Xi.T @ p.V.T @ Xi.T


def _trace_s_inv_hand(p: Problem) -> dict[str, Candidates]:
    P = np.linalg.inv(p.X)
    Q = P @ p.S @ P

    def hv():
        return P @ (p.V.T @ Q) + Q @ (p.V.T @ P)

    def setup():  # in scipy's pool only (no switch)
        P = _inverse_scipy(p.X)
        return P, _gemm_scipy(_gemm_scipy(P, p.S), P)

    return {
        "f": {
            "f: hand, Cholesky inverse (scipy `potrf` + `potri`), Σ S∘P from its triangle": (
                lambda: _inner_upper(p.S, _upper_inverse(p.X)[1])
            ),
            "f: hand, numpy `inv`, Σ S∘P": lambda: np.einsum("ij,ij->", p.S, np.linalg.inv(p.X)),
        },
        "grad": _gradient_candidates(lambda P, mm, p: -mm(mm(P, p.S), P), p),
        "hv": {"Hv: hand, P Vᵀ Q + Q Vᵀ P, Q = P S P (4 GEMMs)": hv},
        "setup": {"H: hand setup, P = X⁻¹ and Q = P S P": setup},
    }


def _trace_s_inv_reference(p: Problem):
    Xi, S, V = scipy.linalg.inv(p.X), p.S, p.V
    dXi = -Xi @ V @ Xi
    return np.trace(S @ Xi), -(Xi @ S @ Xi).T, -(dXi @ S @ Xi + Xi @ S @ dXi).T


def _trace_axbx_hand(p: Problem) -> dict[str, Candidates]:
    A, B, X, V = p.A, p.B, p.X, p.V
    return {
        "f": {"f: hand, Σ (A X B)ᵢⱼ Xⱼᵢ (2 GEMMs)": lambda: np.einsum("ij,ji->", A @ X @ B, X)},
        "grad": {"∇f: hand, (A X B + B X A)ᵀ (4 GEMMs)": lambda: (A @ X @ B + B @ X @ A).T},
        "hv": {"Hv: hand, (A V B + B V A)ᵀ (4 GEMMs)": lambda: (A @ V @ B + B @ V @ A).T},
        "setup": {},
    }


def _trace_axbx_reference(p: Problem):
    A, B, X, V = p.A, p.B, p.X, p.V
    return np.trace(A @ X @ B @ X), (A @ X @ B).T + (B @ X @ A).T, (A @ V @ B).T + (B @ V @ A).T


def _covariance_hand(p: Problem) -> dict[str, Candidates]:
    S, V = p.S, p.V
    P = np.linalg.inv(p.X)
    Q = (S + 2.0 * P) @ P

    def f_scipy():
        L, U = _upper_inverse(p.X)
        return -2.0 * np.log(L.diagonal()).sum() - _inner_upper(S, U) - _inner_upper(U, U)

    def f_numpy():
        L, P = np.linalg.cholesky(p.X), np.linalg.inv(p.X)
        return -2.0 * np.log(L.diagonal()).sum() - np.einsum("ij,ij->", S, P) - np.einsum("ij,ij->", P, P)

    def hv():
        # W = P Vᵀ P; Hv = W − W Q − Qᵀ W − 2 (P W P)ᵀ with Q = (S + 2P) P
        W = P @ V.T @ P
        return W - W @ Q - Q.T @ W - 2.0 * (P @ W @ P).T

    def setup():  # in scipy's pool only (no switch)
        P = _inverse_scipy(p.X)
        return P, _gemm_scipy(S + 2.0 * P, P)

    return {
        "f": {
            "f: hand, Cholesky inverse (scipy `potrf` + `potri`), sums from its triangle": f_scipy,
            "f: hand, numpy only (`cholesky` for logdet, `inv`)": f_numpy,
        },
        "grad": _gradient_candidates(lambda P, mm, p: mm(mm(P, p.S + 2.0 * P), P) - P, p),
        "hv": {"Hv: hand, W − W Q − Qᵀ W − 2 (P W P)ᵀ, W = P Vᵀ P (6 GEMMs)": hv},
        "setup": {"H: hand setup, P = X⁻¹ and Q = (S + 2P) P": setup},
    }


def _covariance_reference(p: Problem):
    Xi, S, V = scipy.linalg.inv(p.X), p.S, p.V
    dXi = -Xi @ V @ Xi
    f = -np.linalg.slogdet(p.X)[1] - np.trace(S @ Xi) - np.sum(Xi * Xi)
    grad = -Xi.T + (Xi @ S @ Xi).T + 2.0 * (Xi @ Xi.T @ Xi).T
    hv = -dXi.T + (dXi @ S @ Xi + Xi @ S @ dXi).T + 2.0 * (dXi @ Xi.T @ Xi + Xi @ dXi.T @ Xi + Xi @ Xi.T @ dXi).T
    return f, grad, hv


def _jax_covariance(jnp, X, S, A, B):
    P = jnp.linalg.inv(X)
    return -jnp.linalg.slogdet(X)[1] - jnp.trace(S @ P) - jnp.sum(P * P)


EXAMPLES = (
    Example(
        "logdet X",
        lambda X, S, A, B: amd.logdet(X),
        _logdet_hand,
        lambda jnp, X, S, A, B: jnp.linalg.slogdet(X)[1],
        _logdet_reference,
    ),
    Example(
        "trace(S X⁻¹)",
        lambda X, S, A, B: amd.trace(S @ amd.inv(X)),
        _trace_s_inv_hand,
        lambda jnp, X, S, A, B: jnp.trace(S @ jnp.linalg.inv(X)),
        _trace_s_inv_reference,
    ),
    Example(
        "trace(A X B X)",
        lambda X, S, A, B: amd.trace(A @ X @ B @ X),
        _trace_axbx_hand,
        lambda jnp, X, S, A, B: jnp.trace(A @ X @ B @ X),
        _trace_axbx_reference,
    ),
    Example(
        "covariance −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F",
        lambda X, S, A, B: -amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X)),
        _covariance_hand,
        _jax_covariance,
        _covariance_reference,
    ),
)


# ------------------------------------------------------------------------- kronbox and jax
def _kronbox_candidates(example: Example, p: Problem) -> tuple[Candidates, float]:
    """f, ∇f, Hv and the Hessian build by kronbox, and the seconds of the first (symbolic) build."""
    n = p.X.shape[0]
    X = amd.var("X", (n, n))
    S, A, B = (amd.const(name, shape=(n, n)) for name in "SAB")
    f = example.expression(X, S, A, B)
    g = amd.grad(f, "X")
    hessian = amd.hessian(f, "X")
    values, v = p.values, p.V.ravel()
    start = time.perf_counter()
    H = hessian.at(values)
    first_build = time.perf_counter() - start
    candidates = {
        F_KRONBOX: lambda: f.eval(values),
        G_KRONBOX: lambda: g.eval(values),
        H_KRONBOX: lambda: H.matvec(v),
        B_KRONBOX: lambda: hessian.at(values),
    }
    return candidates, first_build


def _jax_candidates(example: Example, p: Problem) -> Candidates:
    jax = peers.jax()
    if jax is None:
        return {}
    jnp = jax.numpy

    def f(X, S, A, B):
        return example.jax(jnp, X, S, A, B)

    def hv(X, V, S, A, B):
        return jax.jvp(lambda Y: jax.grad(f)(Y, S, A, B), (X,), (V,))[1]

    f_jit, grad_jit, hv_jit = jax.jit(f), jax.jit(jax.grad(f)), jax.jit(hv)
    X, S, A, B, V = (jax.device_put(a) for a in (p.X, p.S, p.A, p.B, p.V))
    return {
        F_JAX: lambda: f_jit(X, S, A, B).block_until_ready(),
        G_JAX: lambda: grad_jit(X, S, A, B).block_until_ready(),
        H_JAX: lambda: hv_jit(X, V, S, A, B).block_until_ready(),
    }


# ----------------------------------------------------------------------------------- tables
def _summaries(hand: dict[str, Candidates]) -> list[Summary]:
    """The ratios of the targets, and the same ratios for the hand-written code and jax (if installed)."""
    f, grad, hv = list(hand["f"]), list(hand["grad"]), list(hand["hv"])
    summaries = [
        Summary("kronbox f ÷ best hand-written f (target ≤ 1.2)", F_KRONBOX, f),
        Summary("kronbox ∇f ÷ kronbox f (target ≤ 2)", G_KRONBOX, [F_KRONBOX]),
        Summary("kronbox ∇f ÷ best hand-written f", G_KRONBOX, f),
        Summary("kronbox ∇f ÷ best hand-written ∇f (target ≤ 1.2)", G_KRONBOX, grad),
        Summary("kronbox ∇f ÷ jax.grad (target < 1 at n ≥ 256)", G_KRONBOX, [G_JAX]),
        Summary("kronbox Hv ÷ kronbox f (target ≤ 3.5)", H_KRONBOX, [F_KRONBOX]),
        Summary("kronbox Hv ÷ best hand-written f", H_KRONBOX, f),
        Summary("kronbox Hv ÷ hand-written Hv", H_KRONBOX, hv),
        Summary("kronbox Hv ÷ jax jvp(grad)", H_KRONBOX, [H_JAX]),
        Summary("best hand-written ∇f ÷ best hand-written f", grad, f),
        Summary("hand-written Hv ÷ best hand-written f", hv, f),
        Summary("jax.grad ÷ jax f", G_JAX, [F_JAX]),
        Summary("jax jvp(grad) ÷ jax f", H_JAX, [F_JAX]),
    ]
    if peers.jax() is None:
        summaries = [s for s in summaries if s.candidate not in JAX and not set(s.against) & set(JAX)]
    return summaries


def _measure(example: Example, p: Problem, settings: Settings) -> tuple[dict, dict[str, Candidates], float]:
    hand = example.hand(p)
    kronbox, first_build = _kronbox_candidates(example, p)
    jax = _jax_candidates(example, p)
    f, grad, hv = example.reference(p)
    references = {F_KRONBOX: f, G_KRONBOX: grad, H_KRONBOX: hv.ravel(), F_JAX: f, G_JAX: grad, H_JAX: hv}
    references.update({name: f for name in hand["f"]})
    references.update({name: grad for name in hand["grad"]})
    references.update({name: hv for name in hand["hv"]})
    candidates = {name: fn for role in ("f", "grad", "hv", "setup") for name, fn in hand[role].items()}
    candidates.update(kronbox)
    candidates.update(jax)
    prime = PRIME_QUICK if settings.quick else PRIME
    measurements = compare(candidates, settings=settings, isolated=JAX, references=references, prime=prime)
    return measurements, hand, first_build


def run(settings: Settings) -> Iterator[Table]:
    sizes = QUICK_SIZES if settings.quick else SIZES
    for index, example in enumerate(EXAMPLES):
        rng = np.random.default_rng(index)
        table = Table(example.title, baseline="")
        builds = []
        for n in sizes:
            print(f"  {example.title}, n = {n} ...", file=sys.stderr, flush=True)
            measurements, hand, first_build = _measure(example, _problem(rng, n), settings)
            if not table.baseline:
                table.baseline = next(iter(hand["f"]))
                table.summaries = _summaries(hand)
            table.add(f"n = {n}", measurements)
            builds.append(f"n = {n}: {first_build * 1e3:.1f} ms")
        table.notes.append("First `hessian.at(values)` (symbolic Hessian included): " + ", ".join(builds) + ".")
        table.notes.append(PRIME_NOTE)
        if peers.jax() is not None:
            table.notes.append(JAX_NOTE)
        else:
            table.notes.append("jax is not installed: its rows are left out.")
        yield table

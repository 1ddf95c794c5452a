"""Small problems at hand-written speed: compiled plans, thin Hessian products and amd.minimize against hand code.

Everything runs with one BLAS thread per pool (``kronbox.linalg.blas.threads(1)``), as ``amd.minimize`` does, in
interleaved rounds (medians), so the ratios of each table are measured together. The problem is the
covariance objective ``f(Σ) = −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F`` of the ``amd`` suite (its problem
and hand-written candidates are that suite's, every result checked against its independent reference):

- at n = 64 (issue 18's targets): ``f``, ``f`` and ``∇f`` together, the Hessian-vector product and the
  Hessian's build (the kronbox operator of ``hessian.at``, and the Kron/box terms bound by
  ``amd.compile(hessian)``), kronbox against the best hand-written numpy/scipy code, with the
  interpreter (each node dispatched per call, the path before compiled plans) as a row of its own;
- the thin operator path: Kron and Box ``op @ x`` at n = 16 against numpy's two GEMMs from the same vector, and
  scipy's ``cg`` on a Kron system through the kronbox operator against a hand-written ``LinearOperator``;
- at n ≥ 256, before and after: the interpreter and the general operator path (before) against the
  compiled plan and the thin path (after);
- ``amd.minimize`` on covariance estimation at d = 50 (``kronbox.examples.covariance``, newton-pcg with
  the cone preconditioner) against a hand-written truncated Newton loop: the same algorithm (CG on
  ``H p = −g`` to ``min(0.5, √‖g‖)`` preconditioned by ``V ↦ Σ V Σ``, Armijo halving) on hand-written
  value, gradient and Hessian products, to the same ``‖∇f‖ ≤ 1e-8``; the work table shows both take
  the same iterations;
- the two ways to run a plan: one generated function with node values in locals (what kronbox
  compiles), or a closure per node reading and writing a slot table (the same steps, as closures);
- numba: a fused loop against numpy's calls for an elementwise chain of a gradient (logistic loss,
  ``y / (exp(y z) + 1)``) and for ``A X Bᵀ`` at n ≤ 32.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numba
import numpy as np
import scipy.sparse.linalg as spla

import kronbox as kb
from bench.suites.amd import _covariance_hand, _covariance_reference, _full, _inner_upper, _problem, _upper_inverse
from bench.table import Summary, Table
from bench.timing import Measurement, Settings, compare
from kronbox import amd
from kronbox.amd.evaluation.compiled import compile_program
from kronbox.amd.evaluation.evaluate import interpret
from kronbox.amd.evaluation.plan import program
from kronbox.examples import covariance
from kronbox.linalg import blas

PRIME = 0.02  # seconds of untimed calls before each sample (hand code and kronbox use both pools)
TOL = 1e-8

F_HAND = "f: hand, Cholesky inverse (scipy `potrf` + `potri`), sums from its triangle"
F_BEFORE = "f: kronbox interpreter (before)"
F_AFTER = "f: kronbox `f.eval` (compiled plan)"
VG_HAND = "f, ∇f: hand, Cholesky inverse in scipy, `P (S + 2P) P − P` in numpy"
VG_BEFORE = "f, ∇f: kronbox interpreter (before)"
VG_AFTER = "f, ∇f: kronbox `amd.compile(f, g)`"
HV_HAND = "Hv: hand, W − W Q − Qᵀ W − 2 (P W P)ᵀ, W = P Vᵀ P (6 GEMMs)"
HV_BEFORE = "Hv: kronbox general path (before)"
HV_AFTER = "Hv: kronbox `H @ v` (thin path)"
BUILD = "H: kronbox build, `hessian.at(values)` (kronbox operator)"
BIND = "H: kronbox `amd.compile(hessian)(values)` (bound Kron/box terms)"
HV_BOUND = "Hv: kronbox bound terms `H @ v` (scipy LinearOperator)"
BUILD_HAND = "H: hand setup, P = X⁻¹ and Q = (S + 2P) P"


def _value_and_grad_hand(X: np.ndarray, S: np.ndarray) -> tuple[float, np.ndarray]:
    """f and ∇f = P (S + 2P) P − P by hand, ``P = Σ⁻¹`` from scipy's ``potrf`` + ``potri``."""
    L, U = _upper_inverse(X)
    P = _full(U)
    value = -2.0 * np.log(L.diagonal()).sum() - _inner_upper(S, U) - _inner_upper(U, U)
    return value, P @ (S + 2.0 * P) @ P - P


def _kronbox(n: int):
    X = amd.var("X", (n, n))
    S = amd.const("S", shape=(n, n))
    f = -amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X))
    return f, amd.grad(f, X), amd.hessian(f, X)


def _candidates(n: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """Every candidate of one size and its reference."""
    p = _problem(rng, n)
    values, v = p.values, p.V.ravel()
    f, g, hessian = _kronbox(n)
    both = amd.compile(f, g)
    bound = amd.compile(hessian)
    H, (B,) = hessian.at(values), bound(values)
    hand = _covariance_hand(p)
    candidates: dict[str, Callable[[], object]] = {
        F_HAND: hand["f"][next(iter(hand["f"]))],
        F_BEFORE: lambda: interpret([f], values)[0],
        F_AFTER: lambda: f.eval(values),
        VG_HAND: lambda: _value_and_grad_hand(p.X, p.S),
        VG_BEFORE: lambda: interpret([f, g], values),
        VG_AFTER: lambda: both(values),
        HV_HAND: hand["hv"][next(iter(hand["hv"]))],
        HV_BEFORE: lambda: H._matmat(v[:, None])[:, 0],
        HV_AFTER: lambda: H @ v,
        HV_BOUND: lambda: B @ v,
        BUILD: lambda: hessian.at(values),
        BIND: lambda: bound(values),
        BUILD_HAND: hand["setup"][next(iter(hand["setup"]))],
    }
    value, gradient, hv = _covariance_reference(p)
    references = {F_HAND: value, F_BEFORE: value, F_AFTER: value, HV_HAND: hv, HV_BEFORE: hv.ravel(),
                  HV_AFTER: hv.ravel(), HV_BOUND: hv.ravel()}
    for name in (VG_HAND, VG_BEFORE, VG_AFTER):
        references[name] = np.concatenate([[value], gradient.ravel()])
        candidates[name] = _flat(candidates[name])
    return candidates, references


def _flat(pair: Callable[[], object]) -> Callable[[], np.ndarray]:
    """``(f, G)`` as one vector ``[f, vec G]``, for the reference check (flattened after the timing's first call)."""
    state = {"checked": False}

    def call():
        result = pair()
        if state["checked"]:
            return result
        state["checked"] = True
        value, G = result
        return np.concatenate([[value], np.asarray(G).ravel()])

    return call


# ------------------------------------------------------------------------------ the hand-written Newton loop
def hand_newton(S: np.ndarray, tol: float) -> tuple[np.ndarray, int, int]:
    """Minimize ``φ(Σ) = logdet Σ + trace(S Σ⁻¹) + ‖Σ⁻¹‖²_F`` from ``Σ = I`` by truncated Newton, written by
    hand: ``∇φ = P − P S P − 2P³`` and ``∇²φ[V] = −W + K + Kᵀ + 2 P W P`` (``P = Σ⁻¹``, ``W = P V P``,
    ``K = W (S + 2P) P``, 5 GEMMs), CG preconditioned by ``V ↦ Σ V Σ`` to ``min(0.5, √‖g‖)``, Armijo
    halving with the round-off relaxation kronbox's loop has. Returns ``(Σ, iterations, products)``."""

    def value_and_grad(X):
        try:
            L, U = _upper_inverse(X)
        except np.linalg.LinAlgError:
            return np.inf, None, None
        P = _full(U)
        value = 2.0 * np.log(L.diagonal()).sum() + _inner_upper(S, U) + _inner_upper(U, U)
        return value, P - P @ (S + 2.0 * P) @ P, P

    X = np.eye(S.shape[0])
    value, G, P = value_and_grad(X)
    norm, nit, products = float(np.linalg.norm(G)), 0, 0
    while norm > tol:
        Q = (S + 2.0 * P) @ P

        def hessp(V, P=P, Q=Q):
            W = P @ V @ P
            K = W @ Q
            return K + K.T + 2.0 * (P @ W @ P) - W

        step = np.zeros_like(G)
        r = -G
        z = X @ r @ X
        d, rz = z, float(np.vdot(r, z))
        target = min(0.5, np.sqrt(norm)) * norm
        for k in range(10 * G.size):
            Hd = hessp(d)
            products += 1
            curvature = float(np.vdot(d, Hd))
            if curvature <= 0:
                step = step if k else z
                break
            alpha = rz / curvature
            step = step + alpha * d
            r = r - alpha * Hd
            if np.linalg.norm(r) <= target:
                break
            z = X @ r @ X
            rz, previous = float(np.vdot(r, z)), rz
            d = z + (rz / previous) * d
        slope, alpha = float(np.vdot(G, step)), 1.0
        while True:
            trial = X + alpha * step
            new_value, new_G, new_P = value_and_grad(trial)
            if new_value <= value + 1e-4 * alpha * slope or (
                    new_value <= value + 10 * np.finfo(float).eps * (1 + abs(value))
                    and np.linalg.norm(new_G) <= norm / 2):
                break
            alpha /= 2
        X, value, G, P = trial, new_value, new_G, new_P
        norm, nit = float(np.linalg.norm(G)), nit + 1
    return X, nit, products


def _minimize_table(settings: Settings) -> Iterator[Table]:
    d = 50
    S = covariance.sample_covariance(covariance.synthetic_data(d, seed=0))
    reference = covariance.closed_form(S)
    kronbox_name, hand_name = "amd.minimize, newton-pcg (cone preconditioner)", "hand-written truncated Newton loop"
    candidates = {
        hand_name: lambda: hand_newton(S, TOL)[0],
        kronbox_name: lambda: covariance.estimate(S, tol=TOL).X,
    }
    print(f"  amd.minimize, d = {d} ...", file=sys.stderr, flush=True)
    timed = Table(f"Covariance estimation to ‖∇f‖ ≤ {TOL:g}, d = {d}: time of a run", baseline=hand_name)
    timed.add(f"d = {d}", compare(candidates, reference, settings, rtol=1e-5))
    timed.summaries = [Summary("amd.minimize ÷ hand-written loop (target ≤ 1.5)", kronbox_name, [hand_name])]
    result = covariance.estimate(S, tol=TOL)
    _, nit, products = hand_newton(S, TOL)
    work = Table("The work of each run", baseline=hand_name)
    work.add(f"d = {d}", {
        hand_name: Measurement(note=f"{nit} iterations, {products} Hessian products"),
        kronbox_name: Measurement(note=f"{result.nit} iterations, {result.nhessp} Hessian products, "
                                       f"{result.nfev} f+∇f, {result.nhess} Hessians built"),
    })
    yield timed
    yield work


# --------------------------------------------------------------------------- generated source or closures
def closure_list(exprs: list[amd.Expr]) -> Callable[[dict], list]:
    """The compiled plan's steps as a closure each, reading and writing a slot table: the closure-tree way
    to run a plan, for the comparison with the generated function (same steps, same kernels)."""
    run = compile_program(program(tuple(exprs)))
    namespace = run.__globals__
    lines = [line.strip() for line in run.source.splitlines()[1:]]  # type: ignore[attr-defined]
    local = re.compile(r"(?<![.\w])(s?t\d+|[sf]?a_\w+|ft\d+)\b")

    def slots(text: str) -> str:
        return local.sub(lambda m: f"_s[{m.group(1)!r}]", text)

    steps = []
    for line in lines[:-1]:
        target, expression = line.split(" = ", 1)
        steps.append((target, eval(f"lambda _s: {slots(expression)}", namespace)))
    result = eval(f"lambda _s: {slots(lines[-1].removeprefix('return '))}", namespace)
    symbols = [n.name for n in program(tuple(exprs)).symbols]

    def call(values: dict) -> list:
        table = {f"a_{name}": values[name] for name in symbols}
        for target, step in steps:
            table[target] = step(table)
        return result(table)

    return call


def _plan_candidates(n: int) -> tuple[dict[str, Callable[[], object]], np.ndarray]:
    """f and ∇f at n by the generated function, by a closure per step and by the interpreter."""
    p = _problem(np.random.default_rng(n), n)
    f, g, _ = _kronbox(n)
    generated = compile_program(program((f, g)))
    arrays = p.values
    symbols = [arrays[s.name] for s in program((f, g)).symbols]
    closures = closure_list([f, g])
    expected = interpret([f, g], arrays)
    candidates = {
        "f, ∇f: generated function (locals)": _flat(lambda: generated(arrays, *symbols)),
        "f, ∇f: a closure per step (slot table)": _flat(lambda: closures(arrays)),
        "f, ∇f: interpreter": _flat(lambda: interpret([f, g], arrays)),
    }
    return candidates, np.concatenate([[expected[0]], expected[1].ravel()])


def _plans_table(settings: Settings) -> Table:
    table = Table("A plan as one generated function or as a closure per step", baseline="")
    for n in (16, 64):
        candidates, reference = _plan_candidates(n)
        table.baseline = table.baseline or next(iter(candidates))
        table.add(f"n = {n}", compare(candidates, reference, settings, rtol=0))
    table.summaries = [Summary("closures ÷ generated function", "f, ∇f: a closure per step (slot table)",
                               ["f, ∇f: generated function (locals)"])]
    return table


# ------------------------------------------------------------------------------------------------- numba
@numba.njit(cache=False)
def _fused_chain(z, y):
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = y[i, j] / (np.exp(y[i, j] * z[i, j]) + 1.0)
    return out


@numba.njit(cache=False)
def _fused_two_sided(A, X, B):
    m1, n1 = A.shape
    m2, n2 = B.shape
    T = np.zeros((m1, n2))
    for i in range(m1):
        for k in range(n1):
            a = A[i, k]
            for j in range(n2):
                T[i, j] += a * X[k, j]
    Y = np.empty((m1, m2))
    for i in range(m1):
        for m in range(m2):
            s = 0.0
            for j in range(n2):
                s += T[i, j] * B[m, j]
            Y[i, m] = s
    return Y


def _numba_tables(settings: Settings) -> Iterator[Table]:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    _fused_chain(np.ones((2, 2)), np.ones((2, 2)))
    compile_time = time.perf_counter() - start
    chain = Table("Elementwise chain y / (exp(y z) + 1): numba's fused loop or numpy's calls", baseline="numpy")
    for shape in ((16, 1), (64, 1), (16, 16), (64, 64), (256, 256)):
        z, y = rng.standard_normal(shape), rng.standard_normal(shape)
        candidates = {"numpy": lambda z=z, y=y: y / (np.exp(y * z) + 1.0), "numba": lambda z=z, y=y: _fused_chain(z, y)}
        chain.add("×".join(map(str, shape)), compare(candidates, y / (np.exp(y * z) + 1.0), settings, rtol=1e-12))
    chain.notes.append(f"Compiling the fused loop took {compile_time:.2f} s (once per distinct chain and dtype).")
    yield chain
    product = Table("A X Bᵀ: numba's fused loops or numpy's two GEMMs", baseline="numpy")
    for n in (4, 8, 16, 32):
        A, X, B = (rng.standard_normal((n, n)) for _ in range(3))
        candidates = {"numpy": lambda A=A, X=X, B=B: (A @ X) @ B.T,
                      "numba": lambda A=A, X=X, B=B: _fused_two_sided(A, X, B)}
        product.add(f"n = {n}", compare(candidates, A @ X @ B.T, settings, rtol=1e-12))
    yield product


# ------------------------------------------------------------------------------------------- thin operators
def _thin_operator_tables(settings: Settings) -> Iterator[Table]:
    """``op @ x`` for Kron and Box at n = 16 against numpy's two GEMMs, and scipy's ``cg`` on a Kron system
    (symmetric positive definite factors) through the kronbox operator against a hand-written
    ``LinearOperator(matvec=lambda x: (A @ x.reshape(n, n) @ B.T).ravel())``, 30 iterations each."""
    rng = np.random.default_rng(16)
    products = Table("op @ x: kronbox's thin path or numpy's two GEMMs", baseline="numpy two GEMMs, Kron")
    for n in (16,):
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        x = rng.standard_normal(n * n)
        K, box, BT = kb.Kron(A, B), kb.Box(A, B), B.T
        candidates = {  # from the vector x, as an operator gets it
            "numpy two GEMMs, Kron": lambda x=x, A=A, BT=BT, n=n: (A @ x.reshape(n, n) @ BT).ravel(),
            "kronbox Kron @ x": lambda K=K, x=x: K @ x,
            "numpy two GEMMs, Box": lambda x=x, A=A, BT=BT, n=n: (A @ (x.reshape(n, n).T @ BT)).ravel(),
            "kronbox Box @ x": lambda box=box, x=x: box @ x,
        }
        references = {name: np.kron(A, B) @ x if "Kron" in name else _box_dense(A, B) @ x for name in candidates}
        products.add(f"n = {n}", compare(candidates, settings=settings, references=references))
    products.summaries = [Summary("Kron ÷ numpy (target ≤ 1.25)", "kronbox Kron @ x", ["numpy two GEMMs, Kron"]),
                          Summary("Box ÷ numpy (target ≤ 1.25)", "kronbox Box @ x", ["numpy two GEMMs, Box"])]
    yield products
    solves = Table("scipy cg, 30 iterations on (A ⊗ B) x = y", baseline="hand-written LinearOperator")
    for n in (16, 64):
        A, B = spd_pair(rng, n)
        y = rng.standard_normal(n * n)
        hand = spla.LinearOperator((n * n, n * n), matvec=lambda v, A=A, B=B, n=n: (A @ v.reshape(n, n) @ B.T).ravel(),
                                   dtype=float)
        K = kb.Kron(A, B)
        candidates = {
            "hand-written LinearOperator": lambda hand=hand, y=y: spla.cg(hand, y, rtol=1e-30, maxiter=30)[0],
            "kronbox Kron": lambda K=K, y=y: spla.cg(K, y, rtol=1e-30, maxiter=30)[0],
        }
        solves.add(f"n = {n}", compare(candidates, candidates["hand-written LinearOperator"](), settings, rtol=1e-10))
    solves.summaries = [Summary("kronbox ÷ hand-written (target ≤ 1.2)", "kronbox Kron",
                                ["hand-written LinearOperator"])]
    yield solves


def _box_dense(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A ⊠ B`` entry by entry: ``[(i j), (k l)] = A[i, l] B[j, k]``."""
    (m1, n1), (m2, n2) = A.shape, B.shape
    return np.einsum("il,jk->ijkl", A, B).reshape(m1 * m2, n2 * n1)


def spd_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two symmetric positive definite ``n×n`` matrices (condition numbers of a few tens)."""
    pair = []
    for _ in range(2):
        M = rng.standard_normal((n, n))
        pair.append(M @ M.T / n + np.eye(n))
    return pair[0], pair[1]


# ------------------------------------------------------------------------------------------------ tables
def _targets_table(settings: Settings) -> Table:
    table = Table("Covariance objective at n = 64", baseline=F_HAND)
    candidates, references = _candidates(64, np.random.default_rng(64))
    print("  covariance, n = 64 ...", file=sys.stderr, flush=True)
    table.add("n = 64", compare(candidates, settings=settings, references=references, prime=PRIME))
    table.summaries = [
        Summary("kronbox f ÷ hand-written f (target ≤ 1.15)", F_AFTER, [F_HAND]),
        Summary("kronbox f, ∇f ÷ hand-written f, ∇f (target ≤ 1.2)", VG_AFTER, [VG_HAND]),
        Summary("kronbox Hv ÷ hand-written Hv (target ≤ 1.2)", HV_AFTER, [HV_HAND]),
        Summary("kronbox bound-terms Hv ÷ hand-written Hv", HV_BOUND, [HV_HAND]),
        Summary("kronbox Hessian bound by `amd.compile` ÷ kronbox f (target ≤ 2)", BIND, [F_AFTER]),
        Summary("kronbox Hessian bound by `amd.compile` ÷ hand-written f", BIND, [F_HAND]),
        Summary("kronbox operator build `hessian.at` ÷ kronbox f", BUILD, [F_AFTER]),
        Summary("interpreter f ÷ hand-written f (before)", F_BEFORE, [F_HAND]),
        Summary("interpreter f, ∇f ÷ hand-written f, ∇f (before)", VG_BEFORE, [VG_HAND]),
        Summary("general path Hv ÷ hand-written Hv (before)", HV_BEFORE, [HV_HAND]),
    ]
    return table


def _large_table(settings: Settings) -> Table:
    table = Table("Before and after at n ≥ 256", baseline=F_BEFORE)
    for n in (256,) if settings.quick else (256, 1024):
        print(f"  covariance, n = {n} ...", file=sys.stderr, flush=True)
        candidates, references = _candidates(n, np.random.default_rng(n))
        kept = (F_BEFORE, F_AFTER, VG_BEFORE, VG_AFTER, HV_BEFORE, HV_AFTER)
        table.add(f"n = {n}", compare({k: candidates[k] for k in kept}, settings=settings,
                                      references={k: references[k] for k in kept if k in references}, prime=PRIME))
    table.summaries = [
        Summary("f: after ÷ before", F_AFTER, [F_BEFORE]),
        Summary("f, ∇f: after ÷ before", VG_AFTER, [VG_BEFORE]),
        Summary("Hv: after ÷ before", HV_AFTER, [HV_BEFORE]),
    ]
    return table


def run(settings: Settings) -> Iterator[Table]:
    # Three times the rounds, each a quarter as long: these calls last tens of µs, and on a shared machine
    # more and shorter rounds put the candidates of a round closer in time.
    settings = replace(settings, rounds=3 * settings.rounds, sample_time=settings.sample_time / 4)
    with blas.threads(1):
        yield _targets_table(settings)
        yield from _thin_operator_tables(settings)
        yield _plans_table(settings)
        yield from _numba_tables(settings)
        yield from _minimize_table(settings)
        yield _large_table(settings)

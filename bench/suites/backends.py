"""Other array libraries: PyTorch (CPU) against numpy (Kron matvec, the covariance gradient); dask on a cluster.

(numpy's own speed, before and after the backends arrived, is the ``operators`` suite.)

- Kron matvec, square ``n×n`` float64 factors, ``x = vec(X)``: numpy's two-GEMM
  ``(A @ X @ Bᵀ).ravel()`` (the baseline) and kronbox's ``op @ x`` on numpy arrays, against the same
  two-GEMM written in torch and kronbox's ``op @ x`` with torch factors and a torch vector.
- The gradient of the covariance objective ``f(Σ) = −logdet Σ − tr(S Σ⁻¹) − ‖Σ⁻¹‖²_F``:
  kronbox's ``amd.grad(f, Σ).eval(values)`` on numpy values (the baseline) and on torch tensors,
  against the hand-written torch gradient ``P S P + 2 P³ − P`` (``P = Σ⁻¹``, ``torch.linalg.inv``)
  and torch's autograd of ``f``.
- dask: ``Kron(A, B).apply(X) = A X Bᵀ`` and the gradient ``2 Aᵀ (A X Bᵀ − C) B`` of
  ``‖A X Bᵀ − C‖²_F`` with thin ``A``, ``B`` (200 × n) and ``X`` of ``n × n`` (n = 20 000: 3.2 GB,
  the largest size whose gradient and ``X`` both fit this machine's memory twice over, once for numpy
  and once for the cluster): numpy in memory against dask on a local cluster of two worker processes
  of one thread each, ``X`` held by the workers in 2 500 × 2 500 blocks (persisted once, outside the
  timing). The dask gradient is materialized on the workers (persisted) and only a 300 × 300 block
  comes back, as for numpy.

torch runs with its own thread pool (OpenMP), which spins after a call like jax's, so its rows are
timed after the numpy rows, each on its own; the cluster runs in other processes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np

import kronbox as kb
from bench import peers
from bench.table import Table
from bench.timing import Settings, compare
from kronbox import amd

SIZES, QUICK_SIZES = (16, 64, 256, 1024), (16, 64, 256)
GRADIENT_SIZES, QUICK_GRADIENT_SIZES = (64, 256, 1024), (64, 256)
DASK_SIZES, QUICK_DASK_SIZES = (5_000, 20_000), (5_000,)
THIN, BLOCK, CORNER = 200, 2_500, 300
# Idle thread pools spin after a call (OpenBLAS about 0.1 s; torch's OpenMP and MKL pools likewise): every
# sample follows this many seconds of untimed calls of its own candidate (bench/timing.py).
PRIME, PRIME_QUICK = 0.12, 0.02
TORCH_NOTE = (
    "torch rows are timed after the numpy rows, each on its own; every sample follows "
    f"{PRIME} s ({PRIME_QUICK} s with --quick) of untimed calls of the same candidate (the idle pools of "
    "numpy's OpenBLAS and torch's OpenMP spin after a call and slow each other)."
)

Candidates = dict[str, Callable[[], object]]


# ----------------------------------------------------------------------------- Kron matvec
def _matvec_candidates(torch, A, B, x) -> tuple[Candidates, list[str]]:
    n = A.shape[0]
    op = kb.Kron(A, B)
    candidates: Candidates = {
        "numpy two-GEMM": lambda: (A @ x.reshape(n, n) @ B.T).ravel(),
        "kronbox `op @ x`, numpy": lambda: op @ x,
    }
    if torch is None:
        return candidates, []
    At, Bt, xt = (torch.asarray(M) for M in (A, B, x))
    top = kb.Kron(At, Bt)
    torch_rows = {
        "torch two-GEMM": lambda: (At @ xt.reshape(n, n) @ Bt.T).reshape(-1),
        "kronbox `op @ x`, torch": lambda: top @ xt,
    }
    return {**candidates, **torch_rows}, list(torch_rows)


# -------------------------------------------------------------------- covariance gradient
def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    G = rng.standard_normal((n, n))
    M = G @ G.T / n + np.eye(n)
    return (M + M.T) / 2


def _gradient_candidates(torch, Sigma0, S0) -> tuple[Candidates, list[str]]:
    n = Sigma0.shape[0]
    Sigma, S = amd.var("Sigma", (n, n)), amd.const("S", shape=(n, n))
    P = amd.inv(Sigma)
    g = amd.grad(-amd.logdet(Sigma) - amd.trace(S @ P) - amd.normsq(P), Sigma)
    candidates: Candidates = {"kronbox `g.eval(values)`, numpy": lambda: g.eval(Sigma=Sigma0, S=S0)}
    if torch is None:
        return candidates, []
    St, St0 = torch.asarray(Sigma0), torch.asarray(S0)

    def hand():
        Pt = torch.linalg.inv(St)
        PP = Pt @ Pt
        return Pt @ St0 @ Pt + 2 * PP @ Pt - Pt

    def autograd():
        X = St.detach().clone().requires_grad_(True)
        Pt = torch.linalg.inv(X)
        (-torch.logdet(X) - torch.trace(St0 @ Pt) - (Pt * Pt).sum()).backward()
        return X.grad

    torch_rows = {
        "kronbox `g.eval(values)`, torch": lambda: g.eval(Sigma=St, S=St0),
        "torch by hand, `P S P + 2 P³ − P`": hand,
        "torch autograd of f": autograd,
    }
    return {**candidates, **torch_rows}, list(torch_rows)


# --------------------------------------------------------------------------- dask cluster
def _least_squares_gradient(n: int, m: int) -> amd.Expr:
    X = amd.var("X", (n, n))
    A, B, C = amd.const("A", shape=(m, n)), amd.const("B", shape=(m, n)), amd.const("C", shape=(m, m))
    return amd.grad(amd.normsq(A @ X @ B.T - C), X)


def _dask_candidates(client, da, wait, n: int) -> tuple[Candidates, dict[str, object], Callable[[], None]]:
    """Candidates and references for one size; the callable frees what the cluster holds."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((THIN, n)) / n**0.5, rng.standard_normal((THIN, n)) / n**0.5
    C = rng.standard_normal((THIN, THIN))
    Xd = client.persist(da.random.default_rng(0).standard_normal((n, n), chunks=BLOCK))
    wait(Xd)
    X = np.empty((n, n))
    for i, rows in enumerate(range(0, n, BLOCK)):  # the same X in this process, block row by block row
        X[rows:rows + BLOCK] = Xd.blocks[i].compute()
    Ad, Bd = da.from_array(A, chunks=(THIN, BLOCK)), da.from_array(B, chunks=(THIN, BLOCK))
    Ad, Bd = client.persist([Ad, Bd])
    g = _least_squares_gradient(n, THIN)
    op, opd = kb.Kron(A, B), kb.Kron(Ad, Bd)

    def dask_gradient():
        G = g.eval(X=Xd, A=Ad, B=Bd, C=C).persist()
        wait(G)
        corner = G[:CORNER, :CORNER].compute()
        del G
        return corner

    candidates: Candidates = {
        "numpy `A @ X @ B.T`": lambda: A @ X @ B.T,
        "kronbox `Kron(A, B).apply(X)`, numpy": lambda: op.apply(X),
        "kronbox `Kron(A, B).apply(X)`, dask cluster": lambda: opd.apply(Xd).compute(),
        "numpy gradient `2 Aᵀ (A X Bᵀ − C) B`": lambda: (2 * A.T @ ((A @ X @ B.T - C) @ B))[:CORNER, :CORNER],
        "kronbox `g.eval(values)`, numpy": lambda: g.eval(X=X, A=A, B=B, C=C)[:CORNER, :CORNER],
        "kronbox `g.eval(values)`, dask cluster": dask_gradient,
    }
    Y = A @ X @ B.T
    corner = 2 * A[:, :CORNER].T @ (Y - C) @ B[:, :CORNER]
    references = {name: (Y if "apply" in name or "`A @" in name else corner) for name in candidates}

    def release():
        nonlocal X
        del X
        client.cancel([Xd, Ad, Bd])

    return candidates, references, release


def _dask_tables(settings: Settings) -> Iterator[Table]:
    try:
        import dask.array as da
        from distributed import Client, LocalCluster, wait
    except ImportError:
        return
    apply_table = Table("dask: `A X Bᵀ` with 200 × n factors (one column per n × n X)",
                        baseline="numpy `A @ X @ B.T`")
    gradient_table = Table("dask: the gradient of ‖A X Bᵀ − C‖²_F (materialized, a 300 × 300 block returned)",
                           baseline="numpy gradient `2 Aᵀ (A X Bᵀ − C) B`")
    note = (f"dask: a local cluster of 2 worker processes × 1 thread, X persisted on them in {BLOCK} × {BLOCK} "
            "blocks; numpy: the same X in this process (2 cores shared by both).")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="8GiB",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        for n in QUICK_DASK_SIZES if settings.quick else DASK_SIZES:
            print(f"  dask, n = {n} ...", file=sys.stderr, flush=True)
            candidates, references, release = _dask_candidates(client, da, wait, n)
            measured = compare(candidates, settings=settings, references=references, rtol=1e-10)
            release()
            apply_table.add(f"n = {n}", {k: v for k, v in measured.items() if "gradient" not in k
                                         and "g.eval" not in k})
            gradient_table.add(f"n = {n}", {k: v for k, v in measured.items() if "gradient" in k or "g.eval" in k})
    apply_table.notes.append(note)
    gradient_table.notes.append(note)
    yield apply_table
    yield gradient_table


def run(settings: Settings) -> Iterator[Table]:
    torch = peers.torch()
    rng = np.random.default_rng(0)
    matvec = Table("Kron matvec: PyTorch (CPU) against numpy", baseline="numpy two-GEMM")
    for n in QUICK_SIZES if settings.quick else SIZES:
        A, B, x = rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal(n * n)
        print(f"  Kron matvec, n = {n} ...", file=sys.stderr, flush=True)
        candidates, isolated = _matvec_candidates(torch, A, B, x)
        matvec.add(f"n = {n}", compare(candidates, (A @ x.reshape(n, n) @ B.T).ravel(), settings, isolated=isolated,
                                       prime=PRIME_QUICK if settings.quick else PRIME))
    matvec.notes.append(TORCH_NOTE)
    yield matvec

    gradient = Table("The covariance gradient: PyTorch (CPU) against numpy", baseline="kronbox `g.eval(values)`, numpy")
    for n in QUICK_GRADIENT_SIZES if settings.quick else GRADIENT_SIZES:
        Sigma0, S0 = _spd(rng, n), _spd(rng, n)
        P = np.linalg.inv(Sigma0)
        print(f"  covariance gradient, n = {n} ...", file=sys.stderr, flush=True)
        candidates, isolated = _gradient_candidates(torch, Sigma0, S0)
        gradient.add(f"n = {n}", compare(candidates, P @ S0 @ P + 2 * P @ P @ P - P, settings, isolated=isolated,
                                         prime=PRIME_QUICK if settings.quick else PRIME))
    gradient.notes.append(TORCH_NOTE)
    yield gradient

    yield from _dask_tables(settings)

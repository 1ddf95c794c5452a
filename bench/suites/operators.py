"""Kron and Box matvec and matmat (16 columns) against numpy baselines and peer libraries.

For square ``n×n`` float64 factors ``A``, ``B`` and ``x = vec(X)`` (row-major), the candidates are
kronbox's ``op @ x``; the raw numpy two-GEMM ``(A @ X @ B.T).ravel()`` (the baseline: the practical
limit, two BLAS calls); for 16 columns the naive loop of that over the columns (the matmat baseline)
and batched numpy formulations (einsum with a precomputed contraction path, a GEMM plus a batched
matmul, tensordot, and a columns-outermost layout); ``np.kron(A, B) @ x`` while the dense matrix fits
(n ≤ 64); jax.numpy's jitted two-GEMM; ``pylops.Kronecker`` and pykronecker. Box ``A ⊠ B`` maps
``vec(X)`` to ``vec(A Xᵀ Bᵀ)``; the peers have no box product, so they get the Kronecker product
composed with a transpose of the input (``pylops.Transpose``, a transposed copy for pykronecker).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np

import kronbox as kb
from bench import peers
from bench.table import Summary, Table
from bench.timing import Settings, compare

COLUMNS = 16
SIZES = (16, 64, 256, 1024)
QUICK_SIZES = (16, 64, 256)
DENSE_MAX = 64  # np.kron(A, B) of 64×64 factors is 4096×4096 (134 MB)

BASELINE_MATVEC = "numpy two-GEMM"
BASELINE_MATMAT = "numpy two-GEMM, loop over columns"
KRONBOX = "kronbox `op @ x`"
KRONBOX_MATMAT = "kronbox `op @ X`"
BATCHED = ["numpy batched einsum (path)", "numpy GEMM + batched matmul", "numpy tensordot", "numpy columns outermost"]
PEERS = ["pylops.Kronecker", "pykronecker"]
BOX_PEERS = ["pylops.Kronecker · Transpose", "pykronecker on the transposed input"]
JAX = ["jax.numpy two-GEMM (jit)", "jax.numpy einsum (jit)"]
JAX_NOTE = (
    "jax rows are timed after the others, on their own (its thread pool slows the BLAS calls that run "
    "right after it); jax runs in float64."
)

Candidates = dict[str, Callable[[], object]]


def _kron_candidates(A, B, x, X, dense) -> tuple[Candidates, Candidates]:
    n, k = A.shape[0], X.shape[1]
    X3 = X.reshape(n, n, k)
    path = np.einsum_path("ik,jl,klc->ijc", A, B, X3, optimize="optimal")[0]
    op = kb.Kron(A, B)
    matvec: Candidates = {
        BASELINE_MATVEC: lambda: (A @ x.reshape(n, n) @ B.T).ravel(),
        KRONBOX: lambda: op @ x,
    }
    matmat: Candidates = {
        BASELINE_MATMAT: lambda: np.stack([(A @ X[:, c].reshape(n, n) @ B.T).ravel() for c in range(k)], axis=1),
        KRONBOX_MATMAT: lambda: op @ X,
        BATCHED[0]: lambda: np.einsum("ik,jl,klc->ijc", A, B, X3, optimize=path).reshape(n * n, k),
        BATCHED[1]: lambda: np.matmul(B, (A @ X3.reshape(n, n * k)).reshape(n, n, k)).reshape(n * n, k),
        BATCHED[2]: lambda: (
            np.tensordot(np.tensordot(A, X3, axes=(1, 0)), B, axes=(1, 1)).transpose(0, 2, 1).reshape(n * n, k)
        ),
        BATCHED[3]: lambda: np.matmul(A, (X.T.reshape(k * n, n) @ B.T).reshape(k, n, n)).reshape(k, n * n).T,
    }
    if dense is not None:
        matvec["`np.kron(A, B) @ x`"] = lambda: dense @ x
        matmat["`np.kron(A, B) @ X`"] = lambda: dense @ X
    _add_peers(matvec, matmat, A, B, x, X, transposed_input=False)
    return matvec, matmat


def _box_candidates(A, B, x, X, dense) -> tuple[Candidates, Candidates]:
    n, k = A.shape[0], X.shape[1]
    X3 = X.reshape(n, n, k)
    path = np.einsum_path("il,jk,klc->ijc", A, B, X3, optimize="optimal")[0]
    op = kb.Box(A, B)
    matvec: Candidates = {
        BASELINE_MATVEC: lambda: (A @ x.reshape(n, n).T @ B.T).ravel(),
        KRONBOX: lambda: op @ x,
    }
    matmat: Candidates = {
        BASELINE_MATMAT: lambda: np.stack([(A @ X[:, c].reshape(n, n).T @ B.T).ravel() for c in range(k)], axis=1),
        KRONBOX_MATMAT: lambda: op @ X,
        BATCHED[0]: lambda: np.einsum("il,jk,klc->ijc", A, B, X3, optimize=path).reshape(n * n, k),
        BATCHED[1]: lambda: (A @ np.matmul(B, X3.transpose(1, 0, 2)).reshape(n, n * k)).reshape(n * n, k),
        BATCHED[2]: lambda: (
            np.tensordot(np.tensordot(A, X3, axes=(1, 1)), B, axes=(1, 1)).transpose(0, 2, 1).reshape(n * n, k)
        ),
        BATCHED[3]: lambda: np.matmul(A, np.matmul(B, X.T.reshape(k, n, n)).transpose(0, 2, 1)).reshape(k, n * n).T,
    }
    if dense is not None:
        matvec["dense box matrix `@ x`"] = lambda: dense @ x
        matmat["dense box matrix `@ X`"] = lambda: dense @ X
    _add_peers(matvec, matmat, A, B, x, X, transposed_input=True)
    return matvec, matmat


def _add_peers(matvec: Candidates, matmat: Candidates, A, B, x, X, transposed_input: bool) -> None:
    """jax, pylops and pykronecker candidates (those that are installed)."""
    n, k = A.shape[0], X.shape[1]
    jax = peers.jax()
    if jax is not None:
        jnp = jax.numpy
        jA, jB, jx, jX = (jax.device_put(a) for a in (A, B, x, X.reshape(n, n, k)))
        if transposed_input:
            vec_fn = jax.jit(lambda A, B, x: (A @ x.reshape(n, n).T @ B.T).ravel())
            mat_fn = jax.jit(lambda A, B, X3: jnp.einsum("il,jk,klc->ijc", A, B, X3).reshape(n * n, k))
        else:
            vec_fn = jax.jit(lambda A, B, x: (A @ x.reshape(n, n) @ B.T).ravel())
            mat_fn = jax.jit(lambda A, B, X3: jnp.einsum("ik,jl,klc->ijc", A, B, X3).reshape(n * n, k))
        matvec[JAX[0]] = lambda: vec_fn(jA, jB, jx).block_until_ready()
        matmat[JAX[1]] = lambda: mat_fn(jA, jB, jX).block_until_ready()
    pylops = peers.pylops()
    if pylops is not None:
        P = pylops.Kronecker(pylops.MatrixMult(A), pylops.MatrixMult(B))
        if transposed_input:
            P = P @ pylops.Transpose((n, n), axes=(1, 0))
        name = (BOX_PEERS if transposed_input else PEERS)[0]
        matvec[name] = lambda: P @ x
        matmat[name] = lambda: P @ X
    pykronecker = peers.pykronecker()
    if pykronecker is not None:
        K = pykronecker.KroneckerProduct([A, B])
        if transposed_input:
            matvec[BOX_PEERS[1]] = lambda: K @ x.reshape(n, n).T.ravel()
            matmat[BOX_PEERS[1]] = lambda: K @ X.reshape(n, n, k).transpose(1, 0, 2).reshape(n * n, k)
        else:
            matvec[PEERS[1]] = lambda: K @ x
            matmat[PEERS[1]] = lambda: K @ X


def _tables(kind: str) -> tuple[Table, Table]:
    peer_rows = BOX_PEERS if kind == "Box" else PEERS
    matvec = Table(f"{kind} matvec", BASELINE_MATVEC)
    matvec.summaries.append(Summary("kronbox ÷ faster peer", KRONBOX, peer_rows))
    matmat = Table(f"{kind} matmat ({COLUMNS} columns)", BASELINE_MATMAT)
    matmat.summaries.append(Summary("kronbox ÷ best batched numpy", KRONBOX_MATMAT, BATCHED))
    matmat.summaries.append(Summary("kronbox ÷ faster peer", KRONBOX_MATMAT, peer_rows))
    if peers.jax() is not None:
        matvec.notes.append(JAX_NOTE)
        matmat.notes.append(JAX_NOTE)
    return matvec, matmat


def run(settings: Settings) -> Iterator[Table]:
    rng = np.random.default_rng(0)
    tables = {kind: _tables(kind) for kind in ("Kron", "Box")}
    for n in QUICK_SIZES if settings.quick else SIZES:
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        x, X = rng.standard_normal(n * n), rng.standard_normal((n * n, COLUMNS))
        fits = n <= DENSE_MAX
        # References: one n×n problem per column, A X_c Bᵀ (Kron) and A X_cᵀ Bᵀ (Box), by batched matmul.
        Xc = X.T.reshape(COLUMNS, n, n)
        kron_ref = (A @ Xc @ B.T).reshape(COLUMNS, n * n).T
        box_ref = (A @ Xc.transpose(0, 2, 1) @ B.T).reshape(COLUMNS, n * n).T
        cases = {
            "Kron": (
                _kron_candidates(A, B, x, X, np.kron(A, B) if fits else None),
                (A @ x.reshape(n, n) @ B.T).ravel(),
                kron_ref,
            ),
            "Box": (
                _box_candidates(A, B, x, X, np.einsum("il,jk->ijkl", A, B).reshape(n * n, n * n) if fits else None),
                (A @ x.reshape(n, n).T @ B.T).ravel(),
                box_ref,
            ),
        }
        for kind, ((matvec, matmat), y, Y) in cases.items():
            for table, candidates, reference in zip(tables[kind], (matvec, matmat), (y, Y), strict=True):
                print(f"  {table.title}, n = {n} ...", file=sys.stderr, flush=True)
                table.add(f"n = {n}", compare(candidates, reference, settings, isolated=JAX))
    for pair in tables.values():
        yield from pair

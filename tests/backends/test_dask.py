"""dask.array inputs: the lazy operators and AMD gradients build dask graphs, against numpy.

Small chunked inputs (factors of numpy or of dask) are checked against the numpy results; the
results must be dask arrays, computed only when asked. The slow test runs the issue's scale-out
case on a local cluster of worker processes whose memory limit is below the size of ``X``.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
import scipy.sparse as sp
from amd_reference import assert_close, spd
from process_memory import peak_memory
from zoo import box_twin

import kronbox as kb
from kronbox import amd

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install -e '.[backends]')")


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def chunked(M: np.ndarray, chunks=3):
    return da.from_array(M, chunks=chunks)


@pytest.mark.parametrize("dask_factors", [False, True], ids=["numpy factors", "dask factors"])
def test_operators_on_chunked_inputs(rng, dask_factors):
    A, B = rng.standard_normal((4, 7)), rng.standard_normal((5, 6))
    S, T = rng.standard_normal((7, 7)), rng.standard_normal((6, 6))
    X, Z = rng.standard_normal((7, 6)), rng.standard_normal((6, 7))
    lift = chunked if dask_factors else (lambda M: M)
    cases = [
        ("Kron", kb.Kron(lift(A), lift(B)), X, A @ X @ B.T),
        ("Box", kb.Box(lift(A), lift(B)), Z, A @ Z.T @ B.T),
        ("KronSum", kb.KronSum(lift(S), lift(T)), X, S @ X + X @ T.T),
        ("Kron + Box", kb.Kron(lift(A), lift(B)) + kb.Box(lift(A), lift(B)) @ kb.Commutation(6, 7), X,
         A @ X @ B.T + A @ X @ B.T),
    ]
    for name, op, M, want in cases:
        Y = op.apply(chunked(M))
        assert isinstance(Y, da.Array), f"{name}: {type(Y).__name__}"
        assert_close(Y.compute(), want, 1e-12, f"{name}.apply")
        y = op @ chunked(M.ravel(), chunks=10)
        assert isinstance(y, da.Array)
        assert_close(y.compute(), want.ravel(), 1e-12, f"{name} @ x")
        columns = np.stack([M.ravel(), 2 * M.ravel()], axis=1)
        assert_close((op @ chunked(columns, chunks=(10, 1))).compute(), np.stack([want.ravel(), 2 * want.ravel()], 1),
                     1e-12, f"{name} @ X")
    # a dask operator takes numpy inputs too (they join its graph)
    dense = kb.Box(chunked(A), chunked(B)).to_dense()
    assert isinstance(dense, da.Array)
    assert_close(dense.compute(), box_twin(A, B), 1e-12, "to_dense")
    assert_close(kb.Kron(chunked(A), chunked(B)).apply(X).compute(), A @ X @ B.T, 1e-12, "numpy input")


def test_gradients_of_chunked_values(rng):
    """``∇ ‖A X Bᵀ − C‖² = 2 Aᵀ (A X Bᵀ − C) B`` and the covariance gradient, as dask graphs."""
    A, X0, B, C0 = rng.standard_normal((3, 8)), rng.standard_normal((8, 9)), rng.standard_normal((4, 9)), \
        rng.standard_normal((3, 4))
    X = amd.var("X", (8, 9))
    Am, Bm, Cm = amd.const("A", shape=(3, 8)), amd.const("B", shape=(4, 9)), amd.const("C", shape=(3, 4))
    f = amd.normsq(Am @ X @ Bm.T - Cm)
    G = amd.grad(f, X).eval(X=chunked(X0), A=chunked(A), B=chunked(B), C=C0)
    assert isinstance(G, da.Array)
    assert_close(G.compute(), 2 * A.T @ (A @ X0 @ B.T - C0) @ B, 1e-12, "least squares")
    value = f.eval(X=chunked(X0), A=A, B=B, C=C0)
    assert isinstance(value, da.Array) and value.ndim == 0
    assert abs(value.compute() - np.sum((A @ X0 @ B.T - C0) ** 2)) < 1e-10

    Sigma0, S0 = spd(rng, 12), spd(rng, 12)
    Sigma, S = amd.var("Sigma", (12, 12)), amd.const("S", shape=(12, 12))
    P = amd.inv(Sigma)
    g = amd.grad(-amd.logdet(Sigma) - amd.trace(S @ P) - amd.normsq(P), Sigma)
    Pi = np.linalg.inv(Sigma0)
    got = g.eval(Sigma=chunked(Sigma0, 12), S=chunked(S0, 6))
    assert_close(got.compute(), Pi @ S0 @ Pi + 2 * Pi @ Pi @ Pi - Pi, 1e-10, "covariance")
    with pytest.raises(kb.BackendError, match=r"linalg\.slogdet .* not available for dask"):
        amd.logdet(Sigma).eval(Sigma=chunked(Sigma0, 12))


def test_what_dask_cannot_do_says_so(rng):
    S, T = rng.standard_normal((4, 4)) + 4 * np.eye(4), rng.standard_normal((3, 3)) + 4 * np.eye(3)
    with pytest.raises(kb.BackendError, match=r"solve of KronSum.*dask arrays.*scipy\.sparse\.linalg\.gmres"):
        kb.KronSum(S, T).solve(chunked(np.ones(12)))
    with pytest.raises(kb.BackendError, match="sparse factor"):
        kb.Kron(sp.csr_array(S), T) @ chunked(np.ones(12))
    with pytest.raises(kb.BackendError, match="two array libraries"):
        kb.Kron(chunked(S), T) @ pytest.importorskip("torch").ones(12, dtype=pytest.importorskip("torch").float64)


@pytest.mark.slow
def test_twenty_thousand_squared_on_a_local_cluster():
    """``A X Bᵀ`` and ``∇ ‖A X Bᵀ − C‖²`` for ``X`` of 20 000 × 20 000 (3.2 GB, generated on the
    workers in 2 500 × 2 500 blocks) and ``A``, ``B`` of 200 × 20 000, on two worker processes
    limited to 2.5 GiB each: nothing can hold ``X``, so both run block by block. Checked by probes
    and closed forms computed from small matrices (``‖G‖² = 4 tr(AAᵀ R BBᵀ Rᵀ)``)."""
    distributed = pytest.importorskip("distributed", reason="distributed is not installed")
    n, m, block, limit = 20_000, 200, 2_500, 2.5 * 2**30
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=limit,
                                  dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, \
            distributed.Client(cluster) as client:
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, n), chunks=block)
        A = rng.standard_normal((m, n), chunks=(m, block)) / n**0.5
        B = rng.standard_normal((m, n), chunks=(m, block)) / n**0.5
        C = np.random.default_rng(1).standard_normal((m, m))

        start = time.perf_counter()
        Y = kb.Kron(A, B).apply(X)
        assert isinstance(Y, da.Array) and Y.shape == (m, m)
        Y = Y.compute()
        apply_seconds = time.perf_counter() - start
        u, v = np.ones(m), np.linspace(-1, 1, m)
        probe = ((A.T @ u) @ (X @ (B.T @ v))).compute()  # uᵀ A X Bᵀ v, by matrix-vector products
        assert abs(u @ Y @ v - probe) < 1e-8 * max(1.0, abs(probe))

        Xs = amd.var("X", (n, n))
        As, Bs, Cs = amd.const("A", shape=(m, n)), amd.const("B", shape=(m, n)), amd.const("C", shape=(m, m))
        start = time.perf_counter()
        G = amd.grad(amd.normsq(As @ Xs @ Bs.T - Cs), Xs).eval(X=X, A=A, B=B, C=C)
        assert isinstance(G, da.Array) and G.shape == (n, n)
        squared, corner = da.compute((G * G).sum(), G[:300, :300])
        gradient_seconds = time.perf_counter() - start
        R = Y - C
        AA, BB, A0, B0 = da.compute(A @ A.T, B @ B.T, A[:, :300], B[:, :300])
        expected = 4 * np.trace(AA @ R @ BB @ R.T)
        assert abs(squared - expected) < 1e-9 * expected
        assert_close(corner, 2 * A0.T @ R @ B0, 1e-10, "G[:300, :300]")
        peaks = client.run(peak_memory)
    print(f"\nA X Bᵀ: {apply_seconds:.1f} s; gradient, ‖G‖² and a block: {gradient_seconds:.1f} s; "
          f"peak memory per worker: {', '.join(f'{p / 2**20:.0f} MiB' for p in peaks.values())}")
    assert all(p < limit for p in peaks.values())

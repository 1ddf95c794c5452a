"""Lazy application never forms the big matrix: a ``9·10⁶ × 9·10⁶`` Kronecker product on a vector.

``A ⊗ B`` with two ``3000 × 3000`` factors would take 648 TB as a dense float64 matrix; applied
lazily it needs two matrix products of ``3000 × 3000`` blocks. ``tracemalloc`` (which sees numpy's
allocations) measures the peak memory allocated *during* the application, after the factors and
the input exist.
"""

from __future__ import annotations

import numpy as np
import pytest
from process_memory import peak_during

import kronbox as kb

N = 3000
SLACK = 8 << 20  # bytes for Python objects, index arrays and the like


def factors(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B, X)``: three ``n × n`` float64 matrices (72 MB each at ``n = 3000``), entries in ``[-1, 1)``."""
    rng = np.random.default_rng(seed)
    return tuple(2 * rng.random((n, n)) - 1 for _ in range(3))


@pytest.fixture(scope="module")
def big():
    return factors(N, 7)


def spot_check(Y: np.ndarray, A: np.ndarray, B: np.ndarray, X: np.ndarray) -> None:
    """``Y[i, j] = A[i] · X · B[j]``, the definition of ``vec(A X Bᵀ)``, at a few entries."""
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, Y.shape, size=(4, 2)):
        np.testing.assert_allclose(Y[i, j], A[i] @ X @ B[j], rtol=1e-9, atol=1e-9 * X.shape[0])


def mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.0f} MiB"


def test_matvec_of_a_9e6_operator(big):
    A, B, X = big
    op = kb.Kron(A, B)
    assert op.shape == (N * N, N * N)
    x = X.ravel()
    y, peak = peak_during(lambda: op @ x)
    assert y.shape == (N * N,)
    spot_check(y.reshape(N, N), A, B, X)
    # One N × N intermediate and the result; the dense operator would take 6.5·10¹⁴ bytes.
    assert peak < 3 * x.nbytes + SLACK, f"peak {mib(peak)} for a {mib(x.nbytes)} vector"
    assert peak < A.nbytes + B.nbytes + SLACK, f"peak {mib(peak)}, factors {mib(A.nbytes + B.nbytes)}"


def test_matmat_of_a_9e6_operator(big):
    A, B, X = big
    op = kb.Kron(A, B)
    columns = np.stack([X.ravel(), -2 * X.ravel()], axis=1)  # two right-hand sides, 144 MB
    Y, peak = peak_during(lambda: op @ columns)
    assert Y.shape == (N * N, 2)
    spot_check(Y[:, 0].reshape(N, N), A, B, X)
    np.testing.assert_allclose(Y[:, 1], -2 * Y[:, 0], rtol=1e-12)
    assert peak < 3 * columns.nbytes + SLACK, f"peak {mib(peak)} for {mib(columns.nbytes)} of columns"


def test_box_and_adjoints_stay_lazy():
    """The other application paths (box, adjoint, transpose, many columns) on a 10⁶ × 10⁶ operator."""
    n = 1000
    A, B, X = factors(n, 8)
    x = X.ravel()
    for op, Y_of in [
        (kb.Box(A, B), lambda y: spot_check(y.reshape(n, n), A, B, X.T)),
        (kb.Kron(A, B).H, lambda y: spot_check(y.reshape(n, n), A.T, B.T, X)),
        (kb.Box(A, B).T, lambda y: spot_check(y.reshape(n, n), B.T, A.T, X.T)),
    ]:
        y, peak = peak_during(lambda op=op: op @ x)
        Y_of(y)
        assert peak < 3 * x.nbytes + SLACK, f"{op!r}: peak {mib(peak)} for a {mib(x.nbytes)} vector"
        columns = np.repeat(x[:, None], 4, axis=1)
        Y, peak = peak_during(lambda op=op, columns=columns: op @ columns)
        Y_of(Y[:, 3])
        assert peak < 3 * columns.nbytes + SLACK, f"{op!r}: peak {mib(peak)} for {mib(columns.nbytes)} of columns"

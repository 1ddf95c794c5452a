"""Kronecker plus diagonal, ``c ⊗Kᵢ + s ⊗Dᵢ``, solved exactly by the factors' eigendecompositions.

Every solve, log-determinant and trace of the inverse is checked against the dense matrix built with
``np.kron`` (2, 3 and 4 factors; float64, float32, complex128), for every way of writing ``σ² I``.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest

import kronbox as kb
from kronbox.linalg import shared_eigenbasis
from kronbox.linalg.shared_eigenbasis import recognize
from kronbox.linalg.sylvester import as_kronecker_sum

TOLERANCE = {np.float64: 1e-10, np.float32: 2e-4, np.complex128: 1e-10}


def hermitian_pd(rng, n, dtype):
    G = rng.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        G = G + 1j * rng.standard_normal((n, n))
    return (G @ G.conj().T / n + 0.1 * np.eye(n)).astype(dtype)


def dense_kron(factors):
    return reduce(np.kron, factors)


def relative(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / max(np.linalg.norm(np.asarray(b)), 1e-300)


SHIFTS = {
    "Identity": lambda N, sizes, s: s * kb.Identity(N),
    "Scaled": lambda N, sizes, s: kb.Scaled(s, kb.Identity(N)),
    "Kron of identities": lambda N, sizes, s: s * kb.Kron(*[kb.Identity(n) for n in sizes]),
    "Kron of eye arrays": lambda N, sizes, s: s * kb.Kron(*[np.eye(n) for n in sizes]),
    "Diag of a constant": lambda N, sizes, s: kb.Diag(np.full(N, s)),
    "two shifts": lambda N, sizes, s: 0.5 * s * kb.Identity(N) + kb.Diag(np.full(N, 0.5 * s)),
}


@pytest.mark.parametrize("sizes", [(5, 6), (3, 4, 5), (2, 3, 2, 3)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shift", sorted(SHIFTS))
def test_kron_plus_shift_against_dense(sizes, dtype, shift):
    rng = np.random.default_rng(sum(sizes))
    Ks = [hermitian_pd(rng, n, dtype) for n in sizes]
    N = int(np.prod(sizes))
    s = 0.3
    op = kb.Kron(*Ks) + SHIFTS[shift](N, sizes, s)
    assert recognize(op) is not None, f"{op!r} not recognized"
    dense = dense_kron(Ks) + s * np.eye(N)
    tol = TOLERANCE[dtype]
    b = rng.standard_normal(N).astype(dtype)
    B = rng.standard_normal((N, 3)).astype(dtype)
    assert relative(op.solve(b), np.linalg.solve(dense.astype(complex if dtype == np.complex128 else float), b)) < tol
    assert relative(dense @ op.solve(B), B) < tol
    assert relative(op.inv() @ b, np.linalg.solve(dense, b)) < tol
    sign, logabsdet = op.slogdet()
    dense_sign, dense_log = np.linalg.slogdet(dense.astype(np.complex128 if dtype == np.complex128 else np.float64))
    assert abs(logabsdet - dense_log) < tol * max(1.0, abs(dense_log)) * 10
    assert abs(sign - dense_sign) < 1e-6
    assert abs(op.inv().trace() - np.trace(np.linalg.inv(dense))) < tol * abs(np.trace(np.linalg.inv(dense))) * 10


@pytest.mark.parametrize("sizes", [(4, 5), (3, 2, 4)], ids=str)
def test_kron_plus_kron_of_diagonals(sizes):
    """``c ⊗Kᵢ + s ⊗Dᵢ`` with positive, non-constant ``Dᵢ`` (``Diag`` operators and diagonal arrays)."""
    rng = np.random.default_rng(7)
    Ks = [hermitian_pd(rng, n, np.float64) for n in sizes]
    ds = [rng.uniform(0.5, 2.0, n) for n in sizes]
    op = 1.5 * kb.Kron(*Ks) + 0.25 * kb.Kron(*[kb.Diag(d) if i % 2 else np.diag(d) for i, d in enumerate(ds)])
    assert recognize(op) is not None
    dense = 1.5 * dense_kron(Ks) + 0.25 * dense_kron([np.diag(d) for d in ds])
    b = rng.standard_normal(dense.shape[0])
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    assert abs(op.logdet() - np.linalg.slogdet(dense)[1]) < 1e-9
    assert abs(op.inv().trace() - np.trace(np.linalg.inv(dense))) < 1e-9 * abs(np.trace(np.linalg.inv(dense)))


def test_the_issue_case_is_exact_and_fast():
    """60 × 60 symmetric positive definite factors and ``σ² = 0.5`` (N = 3 600): MINRES used to stop
    short and ``slogdet`` refused; now both are exact."""
    rng = np.random.default_rng(0)
    K1, K2 = (hermitian_pd(rng, 60, np.float64) for _ in range(2))
    op = kb.Kron(K1, K2) + 0.5 * kb.Identity(3600)
    dense = np.kron(K1, K2) + 0.5 * np.eye(3600)
    y = rng.standard_normal(3600)
    assert relative(dense @ op.solve(y), y) < 1e-12
    assert abs(op.slogdet()[1] - np.linalg.slogdet(dense)[1]) < 1e-9 * abs(np.linalg.slogdet(dense)[1])


def test_eigendecompositions_are_kept(monkeypatch):
    """One ``eigh`` per factor, whatever follows: solves, batches, logdet, the trace of the inverse."""
    calls = []
    real = np.linalg.eigh

    def counted(M):
        calls.append(M.shape)
        return real(M)

    monkeypatch.setattr(shared_eigenbasis.np.linalg, "eigh", counted)
    rng = np.random.default_rng(3)
    op = kb.Kron(hermitian_pd(rng, 4, np.float64), hermitian_pd(rng, 5, np.float64)) + kb.Identity(20)
    for _ in range(3):
        op.solve(rng.standard_normal(20))
    op.solve(rng.standard_normal((20, 4)))
    op.slogdet()
    op.inv().trace()
    assert calls == [(4, 4), (5, 5)]


def test_non_hermitian_factors_take_the_schur_path():
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((4, 4)) + 3 * np.eye(4), rng.standard_normal((5, 5)) + 3 * np.eye(5)
    op = kb.Kron(A, B) + 0.5 * kb.Identity(20)
    assert recognize(op) is None
    assert as_kronecker_sum(op) is not None  # (A ⊗ I)(0.5 A⁻¹ ⊕ B): Bartels–Stewart on Schur forms
    dense = np.kron(A, B) + 0.5 * np.eye(20)
    b = rng.standard_normal(20)
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    assert abs(op.logdet() - np.linalg.slogdet(dense)[1]) < 1e-10 * abs(np.linalg.slogdet(dense)[1])


def test_a_non_constant_diagonal_is_not_taken_for_a_shift():
    rng = np.random.default_rng(5)
    K1, K2 = hermitian_pd(rng, 3, np.float64), hermitian_pd(rng, 4, np.float64)
    d = rng.uniform(0.5, 2.0, 12)
    op = kb.Kron(K1, K2) + kb.Diag(d)
    assert recognize(op) is None
    b = rng.standard_normal(12)
    assert relative(op.solve(b), np.linalg.solve(np.kron(K1, K2) + np.diag(d), b)) < 1e-10


def test_singular_without_a_shift_says_so():
    K1 = np.array([[1.0, 1.0], [1.0, 1.0]])  # singular
    K2 = np.eye(3)
    op = kb.Kron(K1, K2) + 0.0 * kb.Identity(6)
    assert recognize(op) is not None
    with pytest.raises(np.linalg.LinAlgError, match=r"singular factors: K1 \(2×2"):
        op.solve(np.ones(6))
    assert op.slogdet()[0] == 0


def test_the_kronecker_preconditioner_cuts_cg_iterations():
    """``K + diag(d)`` (a grid with missing data: a large noise variance where nothing was observed), by CG with
    ``(K + mean(d) I)⁻¹`` as the preconditioner: the same solution in far fewer iterations."""
    from scipy.sparse.linalg import cg

    rng = np.random.default_rng(6)
    x1, x2 = np.linspace(0, 1, 30), np.linspace(0, 1, 40)
    K1 = np.exp(-0.5 * (x1[:, None] - x1) ** 2 / 0.1**2)
    K2 = np.exp(-0.5 * (x2[:, None] - x2) ** 2 / 0.2**2)
    d = np.full(1200, 0.01)
    d[rng.random(1200) < 0.2] = 1.0
    op = kb.Kron(K1, K2) + kb.Diag(d)
    b = rng.standard_normal(1200)
    counts = {}
    for name, M in (("plain", None), ("preconditioned", kb.linalg.preconditioner(op))):
        iterations = []
        x, info = cg(op, b, rtol=1e-9, maxiter=5000, M=M, callback=iterations.append)
        assert info == 0, name
        assert relative(x, np.linalg.solve(np.kron(K1, K2) + np.diag(d), b)) < 1e-6, name
        counts[name] = len(iterations)
    assert counts["preconditioned"] * 3 < counts["plain"], counts


def test_a_preconditioner_needs_the_structure():
    with pytest.raises(ValueError, match="not a Kronecker product plus diagonal"):
        kb.linalg.preconditioner(kb.Kron(np.eye(2), np.eye(3)) @ kb.Kron(np.eye(2), np.eye(3)))


def laplacian_1d(n):
    return 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)


@pytest.mark.parametrize("sizes", [(6, 7), (5, 6, 7), (3, 4, 3, 2)], ids=str)
def test_kronecker_sums_of_many_factors(sizes):
    """``A₁ ⊕ ⋯ ⊕ A_d`` (the 2-D, 3-D, 4-D Laplacian) written as a sum of Krons with identities: exact."""
    d = len(sizes)
    As = [laplacian_1d(n) * (i + 1) for i, n in enumerate(sizes)]
    terms = [kb.Kron(*[As[i] if i == j else kb.Identity(n) for i, n in enumerate(sizes)]) for j in range(d)]
    op = kb.Sum(*terms)
    assert recognize(op) is not None
    dense = sum(dense_kron([As[i] if i == j else np.eye(n) for i, n in enumerate(sizes)]) for j in range(d))
    b = np.random.default_rng(8).standard_normal(dense.shape[0])
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    assert abs(op.logdet() - np.linalg.slogdet(dense)[1]) < 1e-9 * abs(np.linalg.slogdet(dense)[1])
    assert abs(op.inv().trace() - np.trace(np.linalg.inv(dense))) < 1e-9 * np.trace(np.linalg.inv(dense))


def test_terms_sharing_factors_mix_freely():
    """``K₁ ⊗ K₂ + 2 K₁ ⊗ I + 3 I ⊗ K₂ + σ² I``: one eigenbasis per position serves every term."""
    rng = np.random.default_rng(9)
    K1, K2 = hermitian_pd(rng, 5, np.float64), hermitian_pd(rng, 4, np.float64)
    op = kb.Kron(K1, K2) + 2 * kb.Kron(K1, kb.Identity(4)) + 3 * kb.Kron(np.eye(5), K2) + 0.1 * kb.Identity(20)
    assert recognize(op) is not None
    dense = np.kron(K1, K2) + 2 * np.kron(K1, np.eye(4)) + 3 * np.kron(np.eye(5), K2) + 0.1 * np.eye(20)
    b = rng.standard_normal(20)
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    assert abs(op.logdet() - np.linalg.slogdet(dense)[1]) < 1e-10 * abs(np.linalg.slogdet(dense)[1])


def test_two_different_matrices_in_one_position_are_not_shared():
    rng = np.random.default_rng(10)
    K1, K2, K3 = (hermitian_pd(rng, 4, np.float64) for _ in range(3))
    op = kb.Kron(K1, K2) + kb.Kron(K3, K2) + kb.Identity(16)
    assert recognize(op) is None
    dense = np.kron(K1, K2) + np.kron(K3, K2) + np.eye(16)
    b = rng.standard_normal(16)
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=lambda d: np.dtype(d).name)
def test_two_kron_terms_with_a_positive_definite_pair(dtype):
    """``α A ⊗ B + β C ⊗ D`` with Hermitian ``A``, ``B`` and positive definite ``C``, ``D``: the generalized
    eigenproblems ``eigh(A, C)``, ``eigh(B, D)``, not ``C⁻¹A``."""
    rng = np.random.default_rng(11)
    A, C = hermitian_pd(rng, 5, dtype) - 0.5 * np.eye(5), hermitian_pd(rng, 5, dtype)
    B, D = hermitian_pd(rng, 4, dtype), hermitian_pd(rng, 4, dtype)
    op = 2.0 * kb.Kron(A, B) + 0.7 * kb.Kron(C, D)
    structure = recognize(op)
    assert structure is not None and all(M is not None for M in structure.metrics)
    dense = 2.0 * np.kron(A, B) + 0.7 * np.kron(C, D)
    b = rng.standard_normal(20).astype(dtype)
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    sign, logabsdet = op.slogdet()
    dense_sign, dense_log = np.linalg.slogdet(dense)
    assert abs(logabsdet - dense_log) < 1e-10 * max(1, abs(dense_log)) and abs(sign - dense_sign) < 1e-8
    assert abs(op.inv().trace() - np.trace(np.linalg.inv(dense))) < 1e-9 * abs(np.trace(np.linalg.inv(dense)))


@pytest.mark.parametrize("shapes", [(3, 3), (4, 2), (2, 5)], ids=str)
def test_box_plus_box(shapes):
    """``α A ⊠ B + β C ⊠ D = (α A ⊗ B + β C ⊗ D) K``: solved through the Kronecker sum, against the dense box
    products (the einsum of the definition)."""
    from zoo import box_twin

    n1, n2 = shapes
    rng = np.random.default_rng(12)
    A, C = hermitian_pd(rng, n1, np.float64), hermitian_pd(rng, n1, np.float64)
    B, D = hermitian_pd(rng, n2, np.float64), hermitian_pd(rng, n2, np.float64)
    op = 1.5 * kb.Box(A, B) - 0.4 * kb.Box(C, D)
    assert recognize(op) is not None
    dense = 1.5 * box_twin(A, B) - 0.4 * box_twin(C, D)
    b = rng.standard_normal(n1 * n2)
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    sign, logabsdet = op.slogdet()
    dense_sign, dense_log = np.linalg.slogdet(dense)
    assert sign == dense_sign and abs(logabsdet - dense_log) < 1e-10 * max(1, abs(dense_log))
    assert abs(op.inv().trace() - np.trace(np.linalg.inv(dense))) < 1e-8 * max(1, abs(np.trace(np.linalg.inv(dense))))


@pytest.mark.parametrize("sizes", [(4, 3), (3, 4), (5, 5), (30, 40)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=lambda d: np.dtype(d).name)
def test_kron_plus_box(sizes, dtype):
    """``α A ⊗ B + β C ⊠ D`` (``C`` is ``n1×n2``, ``D`` is ``n2×n1``): the T-Sylvester equation
    ``α A X Bᵀ + β C Xᵀ Dᵀ = R`` reduced to a generalized Sylvester one and solved in ``O(n³)``, against the dense
    matrix (``np.kron`` and the einsum of the box definition)."""
    from zoo import box_twin

    from kronbox.linalg.sylvester import kron_plus_box_solve

    n1, n2 = sizes
    rng = np.random.default_rng(n1 * n2)

    def draw(*shape):
        M = rng.standard_normal(shape)
        return (M + 1j * rng.standard_normal(shape) if np.dtype(dtype).kind == "c" else M).astype(dtype)

    A, B = draw(n1, n1) + 3 * np.eye(n1), draw(n2, n2) + 3 * np.eye(n2)
    C, D = draw(n1, n2), draw(n2, n1)
    op = 2.0 * kb.Kron(A, B) + 0.7 * kb.Box(C, D)
    dense = 2.0 * np.kron(A, B) + 0.7 * box_twin(C, D)
    b = draw(n1 * n2, 3)
    assert kron_plus_box_solve(op, b) is not None  # the structured path, not the dense fallback
    assert relative(op.solve(b), np.linalg.solve(dense, b)) < 1e-10
    assert relative(op.inv() @ b[:, 0], np.linalg.solve(dense, b[:, 0])) < 1e-10

"""Every formula stated in the documentation pages, checked with numpy alone.

``docs/conventions.md``, ``docs/identities.md`` and ``docs/derivatives.md`` state identities of the
Kronecker and box products, the vec conventions and the derivative table. This file checks each of
them on random (mostly rectangular) matrices against independent dense definitions: ``np.kron``
for ``⊗`` and an einsum of the entrywise definition for ``⊠``

    (A ⊠ B)[(ij), (kl)] = A[i, l] B[j, k]        (row-major pairs: (ij) = i·m2 + j, (kl) = k·n1 + l)

and central finite differences for the derivatives. kronbox itself is not imported: if a page and
this file disagree, one of them is wrong, whatever the library does. The sections follow the pages.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
import scipy.linalg as sla

# ------------------------------------------------------------------------------------------ helpers


def kron(A, B):
    return np.kron(A, B)


def box(A, B):
    """``(A ⊠ B)[(ij), (kl)] = A[i, l] B[j, k]``, shape ``(m1 m2) × (n2 n1)``."""
    (m1, n1), (m2, n2) = A.shape, B.shape
    return np.einsum("il,jk->ijkl", A, B).reshape(m1 * m2, n2 * n1)


def outer(U, V):
    """``vec(U) vec(V)ᵀ``: entries ``U[i, j] V[k, l]``."""
    return np.einsum("ij,kl->ijkl", U, V).reshape(U.size, V.size)


def I(n):  # noqa: E743
    return np.eye(n)


def vec(X):
    """Row-major vec, the default of the pages: ``X.ravel()``."""
    return X.ravel()


def vecF(X):
    """Column-major vec (Magnus–Neudecker, the Matrix Cookbook)."""
    return X.ravel(order="F")


def commutation(m, n):
    """``I_m ⊠ I_n``: maps ``vec(X)`` to ``vec(Xᵀ)`` for ``X`` of shape ``n × m``."""
    return box(I(m), I(n))


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def close_fd(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def rand(rng, m, n):
    return rng.standard_normal((m, n))


def spd(rng, n):
    G = rng.standard_normal((n, n))
    return G @ G.T / n + np.eye(n)


def well_conditioned(rng, n):
    return rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)


SHAPES = [(2, 3, 4, 5), (3, 2, 2, 4), (1, 3, 2, 1), (3, 3, 2, 2)]  # m1, n1, m2, n2


# ------------------------------------------------------------------------ conventions.md: vec, apply


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_definitions_entrywise(rng, m1, n1, m2, n2):
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    K, X = kron(A, B), box(A, B)
    assert K.shape == (m1 * m2, n1 * n2) and X.shape == (m1 * m2, n2 * n1)
    for i, j, k, l in itertools.product(range(m1), range(m2), range(n1), range(n2)):
        assert K[i * m2 + j, k * n2 + l] == A[i, k] * B[j, l]
    for i, j, k, l in itertools.product(range(m1), range(m2), range(n2), range(n1)):
        assert X[i * m2 + j, k * n1 + l] == A[i, l] * B[j, k]


def test_vec_row_major_pairs(rng):
    X = rand(rng, 3, 4)
    x = vec(X)
    for i, j in itertools.product(range(3), range(4)):
        assert x[i * 4 + j] == X[i, j]
    close(vecF(X), vec(X.T))


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_apply_row_major(rng, m1, n1, m2, n2):
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    X = rand(rng, n1, n2)
    close(kron(A, B) @ vec(X), vec(A @ X @ B.T))
    Xb = rand(rng, n2, n1)
    close(box(A, B) @ vec(Xb), vec(A @ Xb.T @ B.T))


def test_apply_outer(rng):
    U, V, X = rand(rng, 2, 3), rand(rng, 4, 5), rand(rng, 4, 5)
    close(outer(U, V) @ vec(X), vec(U) * np.sum(V * X))
    close(outer(U, V), np.outer(vec(U), vec(V)))


@pytest.mark.parametrize("m,n", [(2, 3), (3, 3), (1, 4), (4, 2)])
def test_commutation(rng, m, n):
    X = rand(rng, n, m)
    close(commutation(m, n) @ vec(X), vec(X.T))
    close(commutation(m, n).T @ commutation(m, n), I(m * n))
    close(commutation(m, n).T, commutation(n, m))
    close(commutation(n, m) @ vecF(X), vec(X))  # vecF(X) = vec(Xᵀ), and back


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_unwinding_row_major(rng, m1, n1, m2, n2):
    A, B, C = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, m1, m2)
    close(vec(C) @ kron(A, B), vec(A.T @ C @ B))
    close(vec(C) @ box(A, B), vec(B.T @ C.T @ A))


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_column_major(rng, m1, n1, m2, n2):
    A, B = rand(rng, m1, n1), rand(rng, n2, m2)  # A X B with X n1×n2
    X = rand(rng, n1, n2)
    close(kron(B.T, A) @ vecF(X), vecF(A @ X @ B))
    Xb = rand(rng, n2, n1)
    close(box(B.T, A) @ vecF(Xb), vecF(A @ Xb.T @ B))
    # unwinding, column-major
    P, Q = rand(rng, m1, n1), rand(rng, m2, n2)
    C = rand(rng, m2, m1)
    close(vecF(C) @ kron(P, Q), vecF(Q.T @ C @ P))
    close(vecF(C) @ box(P, Q), vecF(P.T @ C.T @ Q))
    # an operator acting on vecF: (A ⊗ B) vecF(X) = vecF(B X Aᵀ)
    Y = rand(rng, n2, n1)
    close(kron(P, Q) @ vecF(Y), vecF(Q @ Y @ P.T))


def test_jacobian_column_major_from_row_major(rng):
    p, m, n, q = 2, 3, 4, 5
    A, B = rand(rng, p, m), rand(rng, n, q)  # F(X) = A X B, X m×n, F p×q
    J_row = kron(A, B.T)
    J_col = commutation(q, p) @ J_row @ commutation(m, n)
    close(J_col, kron(B.T, A))


def test_diag_and_kronecker_sum_act(rng):
    D, X = rand(rng, 3, 4), rand(rng, 3, 4)
    close(np.diag(vec(D)) @ vec(X), vec(D * X))
    A, B = rand(rng, 3, 3), rand(rng, 4, 4)
    close((kron(A, I(4)) + kron(I(3), B)) @ vec(X), vec(A @ X + X @ B.T))


def test_symmetric_projection(rng):
    n = 4
    Pi = (I(n * n) + commutation(n, n)) / 2
    V = rand(rng, n, n)
    close(Pi @ vec(V), vec((V + V.T) / 2))
    close(Pi @ Pi, Pi)


# ------------------------------------------------------------ conventions.md: gradients, symmetric X


def test_gradient_independent_entries(rng):
    n = 4
    A, X, V = rand(rng, n, n), spd(rng, n), rand(rng, n, n)

    def f(X):
        return np.trace(A @ X) + np.linalg.slogdet(X)[1]

    G = A.T + np.linalg.inv(X).T
    t = 1e-6
    close_fd((f(X + t * V) - f(X - t * V)) / (2 * t), np.sum(G * V))


def test_symmetric_gradient_convention(rng):
    n = 4
    A, X = rand(rng, n, n), spd(rng, n)

    def f(X):
        return np.trace(A @ X) + np.linalg.slogdet(X)[1] + np.sum(X @ X)

    G = A.T + np.linalg.inv(X).T + 2 * X.T @ np.ones((n, n))
    # the gradient on symmetric matrices: sym(G), symmetric and exact on symmetric directions
    S = (G + G.T) / 2
    W = rand(rng, n, n)
    V = W + W.T
    t = 1e-6
    d = (f(X + t * V) - f(X - t * V)) / (2 * t)
    close_fd(d, np.sum(S * V))
    assert not np.isclose(d, np.sum((G + G.T - G * np.eye(n)) * V))
    # the Cookbook's G + Gᵀ − G∘I: derivatives by the n(n+1)/2 free entries x_ij (i ≤ j)
    cookbook = G + G.T - G * np.eye(n)
    for i, j in itertools.combinations_with_replacement(range(n), 2):
        E = np.zeros((n, n))
        E[i, j] = E[j, i] = 1.0
        close_fd((f(X + t * E) - f(X - t * E)) / (2 * t), cookbook[i, j])
    # and the projected Hessian Π H Π: sym of the Hessian applied to sym(V)
    close(S, S.T)


# ------------------------------------------------------------------------------ identities.md


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_connector(rng, m1, n1, m2, n2):
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    close(kron(A, B) @ box(I(n1), I(n2)), box(A, B))
    close(box(A, B) @ box(I(n2), I(n1)), kron(A, B))
    close(box(I(m2), I(m1)) @ kron(A, B), box(B, A))
    close(box(I(m2), I(m1)) @ kron(A, B) @ box(I(n1), I(n2)), kron(B, A))


@pytest.mark.parametrize("seed", range(3))
def test_mixed_products(seed):
    rng = np.random.default_rng(seed)
    m1, n1, m2, n2, p1, p2 = rng.integers(1, 5, size=6)
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    # (A⊗B)(C⊗D) = (AC)⊗(BD): C is n1×p1, D is n2×p2
    C, D = rand(rng, n1, p1), rand(rng, n2, p2)
    close(kron(A, B) @ kron(C, D), kron(A @ C, B @ D))
    close(kron(A, B) @ box(C, D), box(A @ C, B @ D))
    # (A⊠B)(C⊠D) = (AD)⊗(BC): C is n2×p1, D is n1×p2
    C, D = rand(rng, n2, p1), rand(rng, n1, p2)
    close(box(A, B) @ box(C, D), kron(A @ D, B @ C))
    close(box(A, B) @ kron(C, D), box(A @ D, B @ C))


@pytest.mark.parametrize("m1,n1,m2,n2", SHAPES)
def test_transpose_and_conjugate_transpose(rng, m1, n1, m2, n2):
    A, B = rand(rng, m1, n1), rand(rng, m2, n2)
    close(kron(A, B).T, kron(A.T, B.T))
    close(box(A, B).T, box(B.T, A.T))
    Ac, Bc = A + 1j * rand(rng, m1, n1), B + 1j * rand(rng, m2, n2)
    close(box(Ac, Bc).conj().T, box(Bc.conj().T, Ac.conj().T))


@pytest.mark.parametrize("m1,m2", [(2, 3), (3, 3), (1, 4), (4, 2)])
def test_inverse(rng, m1, m2):
    A, B = well_conditioned(rng, m1), well_conditioned(rng, m2)
    Ai, Bi = np.linalg.inv(A), np.linalg.inv(B)
    close(np.linalg.inv(kron(A, B)), kron(Ai, Bi))
    close(np.linalg.inv(box(A, B)), box(Bi, Ai))


def test_trace(rng):
    A, B = rand(rng, 3, 3), rand(rng, 4, 4)
    close(np.trace(kron(A, B)), np.trace(A) * np.trace(B))
    P, Q = rand(rng, 3, 5), rand(rng, 5, 3)  # A m×n, B n×m
    close(np.trace(box(P, Q)), np.trace(P @ Q))
    U, V = rand(rng, 3, 4), rand(rng, 3, 4)
    close(np.trace(outer(U, V)), np.sum(U * V))


@pytest.mark.parametrize("m1,m2", [(1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (2, 4), (4, 4), (4, 5), (5, 3)])
def test_determinant(rng, m1, m2):
    A, B = well_conditioned(rng, m1), well_conditioned(rng, m2)
    dA, dB = np.linalg.det(A), np.linalg.det(B)
    expected = dA**m2 * dB**m1
    close(np.linalg.det(kron(A, B)) / expected, 1.0)
    sign = (-1) ** (comb(m1, 2) * comb(m2, 2))
    close(np.linalg.det(box(A, B)) / expected, sign)
    close(np.linalg.det(commutation(m1, m2)), sign)


@pytest.mark.parametrize("seed", range(3))
def test_associativity(seed):
    rng = np.random.default_rng(seed)
    A, B, C = (rand(rng, *rng.integers(2, 4, size=2)) for _ in range(3))
    close(kron(kron(A, B), C), kron(A, kron(B, C)))
    close(box(box(A, B), C), box(A, box(B, C)))
    # mixed ones do not associate
    assert not np.allclose(kron(box(A, B), C), box(A, kron(B, C)))
    assert not np.allclose(box(kron(A, B), C), kron(A, box(B, C)))


def test_scalars_and_sums(rng):
    A, A2, B, B2 = rand(rng, 2, 3), rand(rng, 2, 3), rand(rng, 4, 5), rand(rng, 4, 5)
    close(kron(2.0 * A, B), 2.0 * kron(A, B))
    close(box(A, 3.0 * B), 3.0 * box(A, B))
    close(kron(A + A2, B), kron(A, B) + kron(A2, B))
    close(box(A, B + B2), box(A, B) + box(A, B2))


def test_outer_products(rng):
    U, V = rand(rng, 2, 3), rand(rng, 4, 5)
    A, B = rand(rng, 3, 2), rand(rng, 6, 3)
    W = rand(rng, 2, 3)
    close(kron(A, B) @ outer(W, V), outer(A @ W @ B.T, V))
    close(box(A, B) @ outer(W.T, V), outer(A @ W @ B.T, V))
    V2 = rand(rng, 3, 6)
    close(outer(U, V2) @ kron(A, B), outer(U, A.T @ V2 @ B))
    close(outer(U, V).T, outer(V, U))


# the 24 direct products: X[(i0 i1), (i2 i3)] = A[i_σ0, i_σ1] B[i_σ2, i_σ3] and what each one is
DIRECT = {
    (0, 1, 2, 3): "vec(A) vec(B)ᵀ", (0, 1, 3, 2): "vec(A) vec(Bᵀ)ᵀ",
    (0, 2, 1, 3): "A ⊗ B", (0, 2, 3, 1): "A ⊗ Bᵀ", (0, 3, 1, 2): "A ⊠ B", (0, 3, 2, 1): "A ⊠ Bᵀ",
    (1, 0, 2, 3): "vec(Aᵀ) vec(B)ᵀ", (1, 0, 3, 2): "vec(Aᵀ) vec(Bᵀ)ᵀ",
    (1, 2, 0, 3): "B ⊠ A", (1, 2, 3, 0): "Bᵀ ⊠ A", (1, 3, 0, 2): "B ⊗ A", (1, 3, 2, 0): "Bᵀ ⊗ A",
    (2, 0, 1, 3): "Aᵀ ⊗ B", (2, 0, 3, 1): "Aᵀ ⊗ Bᵀ", (2, 1, 0, 3): "B ⊠ Aᵀ", (2, 1, 3, 0): "Bᵀ ⊠ Aᵀ",
    (2, 3, 0, 1): "vec(B) vec(A)ᵀ", (2, 3, 1, 0): "vec(Bᵀ) vec(A)ᵀ",
    (3, 0, 1, 2): "Aᵀ ⊠ B", (3, 0, 2, 1): "Aᵀ ⊠ Bᵀ", (3, 1, 0, 2): "B ⊗ Aᵀ", (3, 1, 2, 0): "Bᵀ ⊗ Aᵀ",
    (3, 2, 0, 1): "vec(B) vec(Aᵀ)ᵀ", (3, 2, 1, 0): "vec(Bᵀ) vec(Aᵀ)ᵀ",
}


def direct_by_definition(A, B, perm):
    letters = "abcd"
    spec = f"{letters[perm[0]]}{letters[perm[1]]},{letters[perm[2]]}{letters[perm[3]]}->abcd"
    T = np.einsum(spec, A, B)
    return T.reshape(T.shape[0] * T.shape[1], T.shape[2] * T.shape[3])


def closed_form(text, A, B):
    names = {"A": A, "Aᵀ": A.T, "B": B, "Bᵀ": B.T}
    if text.startswith("vec("):
        left, right = text.split(" ")
        return outer(names[left[4:-1]], names[right[4:-2]])
    left, product, right = text.split(" ")
    return (kron if product == "⊗" else box)(names[left], names[right])


def test_the_24_direct_products(rng):
    assert sorted(DIRECT) == sorted(itertools.permutations(range(4)))
    counts = {kind: sum(kind in text for text in DIRECT.values()) for kind in ("vec", "⊗", "⊠")}
    assert counts == {"vec": 8, "⊗": 8, "⊠": 8}
    A, B = rand(rng, 2, 3), rand(rng, 4, 5)  # four distinct sizes: a wrong form cannot fit by accident
    for perm, text in DIRECT.items():
        close(closed_form(text, A, B), direct_by_definition(A, B, perm))


def test_direct_products_rule_of_thumb(rng):
    """The classification rule of the page: where A's two indices sit decides the structure."""
    for perm, text in DIRECT.items():
        a = set(perm[:2])
        if a in ({0, 1}, {2, 3}):
            assert text.startswith("vec(")
        elif {0, 2} == a or {1, 3} == a:
            assert "⊗" in text
        else:
            assert "⊠" in text


@pytest.mark.parametrize("m,n", [(3, 4), (4, 4), (1, 3)])
def test_kronecker_sum_and_sylvester(rng, m, n):
    A, B = well_conditioned(rng, m), well_conditioned(rng, n)
    L = kron(A, I(n)) + kron(I(m), B)
    X = rand(rng, m, n)
    close(L @ vec(X), vec(A @ X + X @ B.T))
    C = rand(rng, m, n)
    Xs = sla.solve_sylvester(A, B.T, C)  # Bartels–Stewart
    close(vec(Xs), np.linalg.solve(L, vec(C)))
    # eigenvalues: all sums λ_i(A) + μ_j(B)
    sums = np.add.outer(np.linalg.eigvals(A), np.linalg.eigvals(B)).ravel()
    eig = np.linalg.eigvals(L)
    close(np.sort_complex(np.round(eig, 8)), np.sort_complex(np.round(sums, 8)))
    # the exponential of a Kronecker sum
    close(sla.expm(L), kron(sla.expm(A), sla.expm(B)))
    # column-major: (I ⊗ A + Bᵀ ⊗ I) vecF(X) = vecF(A X + X B)
    close((kron(I(n), A) + kron(B.T, I(m))) @ vecF(X), vecF(A @ X + X @ B))


def test_bartels_stewart_steps(rng):
    """The Schur-form reduction of the page: A = QRQᴴ, B = USUᴴ, C̃ = Qᴴ C Ū, R X̃ + X̃ Sᵀ = C̃, X = Q X̃ Uᵀ."""
    m, n = 4, 3
    A, B, C = well_conditioned(rng, m), well_conditioned(rng, n), rand(rng, m, n)
    R, Q = sla.schur(A, output="complex")
    S, U = sla.schur(B, output="complex")
    assert np.allclose(np.tril(R, -1), 0) and np.allclose(np.tril(S, -1), 0)
    Ct = Q.conj().T @ C @ U.conj()
    Xt = np.linalg.solve(kron(R, I(n)) + kron(I(m), S), vec(Ct)).reshape(m, n)  # R X̃ + X̃ Sᵀ = C̃
    X = Q @ Xt @ U.T
    close(A @ X + X @ B.T, C)
    close(X, sla.solve_sylvester(A, B.T, C))


def test_lyapunov(rng):
    n = 4
    A, Q = well_conditioned(rng, n), spd(rng, n)
    X = sla.solve_continuous_lyapunov(A, Q)  # A X + X Aᴴ = Q
    close((kron(A, I(n)) + kron(I(n), A)) @ vec(X), vec(Q))


# ------------------------------------------------------------------------------ derivatives.md


def jacobian_fd(F, X, h=1e-6):
    """The row-major Jacobian ``J[(ij), (kl)] = ∂F_ij/∂X_kl`` by central differences."""
    X = np.asarray(X, dtype=float)
    cols = []
    for k in range(X.size):
        E = np.zeros(X.size)
        E[k] = h
        E = E.reshape(X.shape)
        cols.append((np.atleast_1d(F(X + E)).ravel() - np.atleast_1d(F(X - E)).ravel()) / (2 * h))
    return np.stack(cols, axis=1)


def test_derivative_table_linear(rng):
    m, n, p, q = 3, 4, 2, 5
    X = rand(rng, m, n)
    close_fd(jacobian_fd(lambda X: X, X), kron(I(m), I(n)))
    close_fd(jacobian_fd(lambda X: X.T, X), box(I(n), I(m)))
    A, B = rand(rng, p, m), rand(rng, n, q)
    close_fd(jacobian_fd(lambda X: A @ X @ B, X), kron(A, B.T))
    A2, B2 = rand(rng, p, n), rand(rng, m, q)
    close_fd(jacobian_fd(lambda X: A2 @ X.T @ B2, X), box(A2, B2.T))
    A3, B3 = rand(rng, n, m), rand(rng, p, q)
    close_fd(jacobian_fd(lambda X: np.trace(A3 @ X) * B3, X), outer(B3, A3.T))


def test_derivative_table_nonlinear(rng):
    n = 4
    X = spd(rng, n)
    Xi = np.linalg.inv(X)
    close_fd(jacobian_fd(lambda X: X @ X, X), kron(I(n), X.T) + kron(X, I(n)))
    for k in (3, 4):
        expected = sum(kron(np.linalg.matrix_power(X, i), np.linalg.matrix_power(X, k - 1 - i).T) for i in range(k))
        close_fd(jacobian_fd(lambda X, k=k: np.linalg.matrix_power(X, k), X), expected)
    close_fd(jacobian_fd(np.linalg.inv, X), -kron(Xi, Xi.T))
    close_fd(jacobian_fd(lambda X: np.linalg.inv(X).T, X), -box(Xi.T, Xi))
    R = sla.sqrtm(X).real
    close_fd(jacobian_fd(lambda X: sla.sqrtm(X).real, X), np.linalg.inv(kron(I(n), R.T) + kron(R, I(n))))
    # negative integer powers through the inverse: X^-2 = (X⁻¹)²
    close_fd(jacobian_fd(lambda X: np.linalg.matrix_power(np.linalg.inv(X), 2), X),
             -(kron(I(n), Xi.T) + kron(Xi, I(n))) @ kron(Xi, Xi.T))


def test_derivative_rules_product_hadamard_chain(rng):
    n = 3
    X = spd(rng, n)
    A = rand(rng, n, n)
    G, dG = (lambda X: A @ X), kron(A, I(n))
    H, dH = (lambda X: X @ X), kron(I(n), X.T) + kron(X, I(n))
    close_fd(jacobian_fd(lambda X: G(X) @ H(X), X), kron(I(n), H(X).T) @ dG + kron(G(X), I(n)) @ dH)
    close_fd(jacobian_fd(lambda X: G(X) * H(X), X), np.diag(vec(H(X))) @ dG + np.diag(vec(G(X))) @ dH)
    close_fd(jacobian_fd(lambda X: np.linalg.inv(H(X)), X),
             -kron(np.linalg.inv(H(X)), np.linalg.inv(H(X)).T) @ dH)
    # quotients: ∂(A/B)/∂A = diag(vec 1/B), ∂(A/B)/∂B = −diag(vec F/B)
    B = X + 2.0
    close_fd(jacobian_fd(lambda Y: Y / B, A), np.diag(vec(1 / B)))
    close_fd(jacobian_fd(lambda Y: A / Y, B), -np.diag(vec(A / B / B)))


def test_scalar_broadcasts(rng):
    A = rand(rng, 3, 4)
    c = 1.7
    close_fd(jacobian_fd(lambda s: A + s[0], np.array([c])), vec(np.ones_like(A))[:, None])
    close_fd(jacobian_fd(lambda s: s[0] * A, np.array([c])), vec(A)[:, None])
    close_fd(jacobian_fd(lambda Y: c * Y, A), c * I(A.size))


def test_scalar_functions(rng):
    n = 4
    X, A = spd(rng, n), rand(rng, n, n)
    Xi = np.linalg.inv(X)

    def grad(f, X):
        return jacobian_fd(f, X).reshape(X.shape)

    close_fd(grad(np.trace, X), I(n))
    close_fd(grad(lambda X: np.trace(A @ X), X), A.T)
    close_fd(grad(lambda X: np.trace(A @ X.T), X), A)
    close_fd(grad(lambda X: np.linalg.slogdet(X)[1], X), Xi.T)
    close_fd(grad(np.linalg.det, X), np.linalg.det(X) * Xi.T)
    close_fd(grad(np.sum, A), np.ones_like(A))
    close_fd(grad(lambda Y: np.sum(Y * Y), A), 2 * A)
    close_fd(grad(lambda Y: np.linalg.norm(Y), A), A / np.linalg.norm(A))
    B = rand(rng, n, n)
    close_fd(grad(lambda Y: np.sum(Y * B), A), B)
    # the AMD paper's examples
    S = spd(rng, n)
    close_fd(grad(lambda X: np.trace(S @ np.linalg.inv(X)), X), -(Xi @ S @ Xi).T)
    P, Q = rand(rng, n, n), rand(rng, n, n)
    close_fd(grad(lambda X: np.trace(P @ X @ Q @ X), X), (P @ X @ Q).T + (Q @ X @ P).T)
    close_fd(grad(lambda X: np.trace(X @ X), X), 2 * X.T)
    # the chain rule through trace: vec(∇ trace F(X)) = F'(X)ᵀ vec(I)
    J = jacobian_fd(lambda X: X @ A @ X, X)
    close_fd(grad(lambda X: np.trace(X @ A @ X), X), (J.T @ vec(I(n))).reshape(n, n))
    # covariance: ∇(−logdet X − tr(S X⁻¹) − ‖X⁻¹‖²) = X⁻ᵀ(2X⁻¹ + Sᵀ)X⁻ᵀ − X⁻ᵀ
    def covariance(X):
        return -np.linalg.slogdet(X)[1] - np.trace(S @ np.linalg.inv(X)) - np.sum(np.linalg.inv(X) ** 2)

    close_fd(grad(covariance, X), Xi.T @ (2 * Xi + S.T) @ Xi.T - Xi.T)


def test_unwinding_gives_gradients(rng):
    """Reverse mode: ``vec(Ḡ)ᵀ J`` is the unwinding rule applied to the adjoint ``Ḡ``."""
    n = 4
    X, C = spd(rng, n), rand(rng, n, n)
    Xi = np.linalg.inv(X)
    J = -kron(Xi, Xi.T)  # the Jacobian of inv
    close(vec(C) @ J, vec(-(Xi.T @ C @ Xi.T)))


def test_unwinding_outer_and_diag(rng):
    C, U, V, D = rand(rng, 3, 4), rand(rng, 3, 4), rand(rng, 2, 5), rand(rng, 3, 4)
    close(vec(C) @ outer(U, V), np.sum(C * U) * vec(V))
    close(vec(C) @ np.diag(vec(D)), vec(C * D))


def test_hessians(rng):
    """Hessians as Jacobians of the gradients of the table (finite differences of the gradient)."""
    n = 3
    X, S, A, B = spd(rng, n), spd(rng, n), rand(rng, n, n), rand(rng, n, n)
    Xi = np.linalg.inv(X)
    close_fd(jacobian_fd(lambda X: np.linalg.inv(X).T, X), -box(Xi.T, Xi))
    close_fd(jacobian_fd(lambda X: (A @ X @ B).T + (B @ X @ A).T, X), box(B.T, A) + box(A.T, B))
    close_fd(jacobian_fd(lambda X: -(np.linalg.inv(X) @ S @ np.linalg.inv(X)).T, X),
             box(Xi.T, Xi @ S @ Xi) + box(Xi.T @ S.T @ Xi.T, Xi))
    close_fd(jacobian_fd(lambda X: 2 * X, X), 2 * I(n * n))
    x = rand(rng, n, 1)
    close_fd(jacobian_fd(lambda x: (A + A.T) @ x, x), A + A.T)  # x'Ax: gradient (A + Aᵀ) x


def test_taylor_terms(rng):
    """f(X) ≈ Σ f_k / k! with f_{k+1} = ⟨Δ, ∇f_k(X₀)⟩: logdet to second order."""
    n = 3
    X0 = spd(rng, n)
    D = 1e-3 * rand(rng, n, n)
    X0i = np.linalg.inv(X0)
    f0 = np.linalg.slogdet(X0)[1]
    f1 = np.sum(D * X0i.T)  # ⟨Δ, X₀⁻ᵀ⟩
    f2 = -vec(D) @ box(X0i.T, X0i) @ vec(D)  # ⟨Δ, ∇f₁(X₀)⟩ = Δ' H Δ
    np.testing.assert_allclose(np.linalg.slogdet(X0 + D)[1], f0 + f1 + f2 / 2, rtol=0, atol=1e-8)


def _step(x):
    return (x > 0).astype(float)


ELEMENTWISE = {
    "exp": (np.exp, np.exp),
    "log": (np.log, lambda x: 1 / x),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda x: -np.sin(x)),
    "tan": (np.tan, lambda x: 1 + np.tan(x) ** 2),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "abs": (np.abs, np.sign),
    "sign": (np.sign, np.zeros_like),
    "relu": (lambda x: np.maximum(x, 0), _step),
    "power 2.5": (lambda x: x**2.5, lambda x: 2.5 * x**1.5),
    "power -1": (lambda x: x**-1.0, lambda x: -(x**-2.0)),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_functions(rng, name):
    f, df = ELEMENTWISE[name]
    X = rng.uniform(0.2, 1.2, size=(3, 2))
    if name in ("abs", "sign", "relu"):
        X = X * np.where(rng.random((3, 2)) < 0.5, -1, 1)  # away from the kink at 0
    close_fd(jacobian_fd(f, X), np.diag(vec(df(X))))


def test_sylvester_solution_derivative(rng):
    n, m = 3, 4
    A, B = well_conditioned(rng, n), well_conditioned(rng, m)
    C = rand(rng, n, m)
    Z = sla.solve_sylvester(A, B, C)  # A Z + Z B = C
    L = kron(A, I(m)) + kron(I(n), B.T)
    Li = np.linalg.inv(L)
    close_fd(jacobian_fd(lambda C: sla.solve_sylvester(A, B, C), C), Li)
    close_fd(jacobian_fd(lambda A: sla.solve_sylvester(A, B, C), A), -Li @ kron(I(n), Z.T))
    close_fd(jacobian_fd(lambda B: sla.solve_sylvester(A, B, C), B), -Li @ kron(Z, I(m)))


# --------------------------------------------------------------- derivatives.md: matrix functions, decompositions
def _central(f, X, V, h=1e-6):
    return (f(X + h * V) - f(X - h * V)) / (2 * h)


def _spd(rng, n):
    A = rand(rng, n, n)
    return A @ A.T / n + np.eye(n)


def _divided_differences(f, df, w):
    a, b = w[:, None], w[None, :]
    same = np.isclose(a, b, rtol=0, atol=1e-300)
    return np.where(same, df(a + 0 * b), (f(a) - f(b)) / np.where(same, 1.0, a - b))


MATRIX_FUNCTIONS = {
    "expm": (sla.expm, np.exp, np.exp),
    "logm": (lambda X: np.real(sla.logm(X)), np.log, lambda x: 1 / x),
    "X^0.3": (lambda X: np.real(sla.fractional_matrix_power(X, 0.3)), lambda x: x**0.3, lambda x: 0.3 * x**-0.7),
}


@pytest.mark.parametrize("name", list(MATRIX_FUNCTIONS))
def test_daleckii_krein(rng, name):
    """``L_f(X)[E] = Q (Φ ∘ Qᵀ E Q) Qᵀ`` at a symmetric ``X``, for any ``E``; ``(Q ⊗ Q) diag(vec Φ) (Qᵀ ⊗ Qᵀ)``."""
    F, f, df = MATRIX_FUNCTIONS[name]
    X, E = _spd(rng, 4), rand(rng, 4, 4)
    w, Q = np.linalg.eigh(X)
    Phi = _divided_differences(f, df, w)
    close_fd(Q @ (Phi * (Q.T @ E @ Q)) @ Q.T, _central(F, X, E))
    close(kron(Q, Q) @ np.diag(vec(Phi)) @ kron(Q.T, Q.T) @ vec(E), vec(Q @ (Phi * (Q.T @ E @ Q)) @ Q.T))


def _block(F, X, *E):
    """``L_f^{(k)}(X)[E₁, …, E_k]``: the top right block of ``f([[X_{j−1}, I ⊗ E_j], [0, X_{j−1}]])``."""
    n, B = len(X), X
    for Ej in E:
        m = len(B)
        B = np.block([[B, kron(I(m // n), Ej)], [np.zeros_like(B), B]])
    return F(B)[:n, -n:]


@pytest.mark.parametrize("name", list(MATRIX_FUNCTIONS))
def test_frechet_derivatives_by_blocks_and_their_transposes(rng, name):
    F = MATRIX_FUNCTIONS[name][0]
    X = 2 * I(3) + 0.3 * rand(rng, 3, 3)  # not symmetric, eigenvalues near 2
    E, U, G = rand(rng, 3, 3), rand(rng, 3, 3), rand(rng, 3, 3)
    close_fd(_block(F, X, E), _central(F, X, E))
    close_fd(_block(F, X, E, U), _central(lambda Y: _block(F, Y, E), X, U))  # the second derivative
    close(_block(F, X, E, U), _block(F, X, U, E))  # symmetric in the directions
    # transposes: ⟨G, L(X)[E, U]⟩ = ⟨L(Xᵀ)[Eᵀ, G], U⟩
    close(np.sum(G * _block(F, X, U)), np.sum(_block(F, X.T, G) * U))
    close(np.sum(G * _block(F, X, E, U)), np.sum(_block(F, X.T, E.T, G) * U))
    derivative_at_identity = {"expm": sla.expm(X), "logm": np.linalg.inv(X),  # L_f(X)[I] = f'(X)
                              "X^0.3": 0.3 * np.real(sla.fractional_matrix_power(X, -0.7))}[name]
    close(_block(F, X, I(3)), derivative_at_identity)


def test_symmetric_decompositions(rng):
    """``dλᵢ = qᵢᵀ dX qᵢ``, ``dQ = Q (Ω ∘ Qᵀ dX Q)``, ``dL = L (M ∘ L⁻¹ dX L⁻ᵀ)`` along symmetric ``dX``."""
    n = 4
    X = _spd(rng, n)
    V = rand(rng, n, n)
    V = V + V.T
    w, Q = np.linalg.eigh(X)
    close_fd(np.diag(Q.T @ V @ Q), _central(np.linalg.eigvalsh, X, V))
    Omega = np.where(np.eye(n) == 1, 0.0, 1 / np.where(np.eye(n) == 1, 1.0, w[None, :] - w[:, None]))

    def vectors(Y):
        P = np.linalg.eigh(Y)[1]
        return P * np.sign(np.sum(P * Q, axis=0))

    close_fd(Q @ (Omega * (Q.T @ V @ Q)), _central(vectors, X, V))
    L = np.linalg.cholesky(X)
    M = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    Li = np.linalg.inv(L)
    close_fd(L @ (M * (Li @ V @ Li.T)), _central(np.linalg.cholesky, X, V))
    close(kron(L, I(n)) @ np.diag(vec(M)) @ kron(Li, Li) @ vec(V), vec(L @ (M * (Li @ V @ Li.T))))
    # diag and diagm: (I ⊗ 1ᵀ) diag(vec I) selects the diagonal, diag(vec I) (I ⊗ 1) spreads it
    S = kron(I(n), np.ones((1, n))) @ np.diag(vec(I(n)))
    close(S @ vec(X), np.diagonal(X))
    close(np.diag(vec(I(n))) @ kron(I(n), np.ones((n, 1))) @ w, vec(np.diag(w)))


def test_kronfactor_is_the_transpose_of_kron(rng):
    """``⟨G, U ⊗ B⟩ = ⟨kronfactor(G, B, 1), U⟩``, ``⟨G, A ⊗ U⟩ = ⟨kronfactor(G, A, 2), U⟩``, and kronfactor's own
    transposes, with kronfactor written as the sums of derivatives.md."""
    (m1, n1), (m2, n2) = (2, 3), (4, 2)
    A, B, U1, U2 = rand(rng, m1, n1), rand(rng, m2, n2), rand(rng, m1, n1), rand(rng, m2, n2)
    G, W1, W2 = rand(rng, m1 * m2, n1 * n2), rand(rng, m1, n1), rand(rng, m2, n2)
    G4 = G.reshape(m1, m2, n1, n2)  # G[(i k), (j l)] = G4[i, k, j, l]

    def factor1(G4, B):
        return np.einsum("ikjl,kl->ij", G4, B)

    def factor2(G4, A):
        return np.einsum("ikjl,ij->kl", G4, A)

    close(np.sum(G * kron(U1, B)), np.sum(factor1(G4, B) * U1))
    close(np.sum(G * kron(A, U2)), np.sum(factor2(G4, A) * U2))
    close(np.sum(W1 * factor1(G4, B)), np.sum(kron(W1, B) * G))  # ⟨W, kronfactor(U, M, 1)⟩ = ⟨W ⊗ M, U⟩
    close(np.sum(W2 * factor2(G4, A)), np.sum(kron(A, W2) * G))
    # ⟨W, kronfactor(G, V, 1)⟩ = ⟨kronfactor(G, W, 2), V⟩
    close(np.sum(W1 * factor1(G4, U2)), np.sum(factor2(G4, W1) * U2))


@pytest.mark.parametrize("name", list(MATRIX_FUNCTIONS))
def test_second_daleckii_krein(rng, name):
    """``Qᵀ L⁽²⁾(X)[E, F] Q = [Σₖ f[λᵢ, λₖ, λⱼ] (ẼᵢₖF̃ₖⱼ + F̃ᵢₖẼₖⱼ)]`` at a symmetric ``X`` (distinct eigenvalues)."""
    F, f, df = MATRIX_FUNCTIONS[name]
    X, E, Fd = _spd(rng, 4), rand(rng, 4, 4), rand(rng, 4, 4)
    w, Q = np.linalg.eigh(X)
    Phi = _divided_differences(f, df, w)
    second = (Phi[:, :, None] - Phi[None, :, :]) / (w[:, None, None] - w[None, None, :] + np.eye(4)[:, None, :])
    Et, Ft = Q.T @ E @ Q, Q.T @ Fd @ Q
    off = np.einsum("ikj,ik,kj->ij", second, Et, Ft) + np.einsum("ikj,ik,kj->ij", second, Ft, Et)
    diagonal_free = ~np.eye(4, dtype=bool)  # f[λᵢ, λₖ, λᵢ] needs the limit: compared off the diagonal only
    close_fd((Q.T @ _block(F, X, E, Fd) @ Q)[diagonal_free], off[diagonal_free])

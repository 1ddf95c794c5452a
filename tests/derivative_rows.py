"""The rows of the derivative table (docs/derivatives.md), one per primitive of :mod:`kronbox.amd`.

Each row is an expression ``F(X)`` next to the same function written in plain numpy. The lazy
Jacobian ``amd.jacobian(F, "X").at(values)`` must equal

- central differences of the numpy function (row-major ``vec = X.ravel()``), and the same with
  column stacking for ``order="F"``;
- the closed form of the table where it gives one, built with ``np.kron``, the einsum of the box
  definition (``zoo.box_twin``), ``np.outer`` and ``np.diag``;

and it must be lazy: a kronbox operator made of Kron / Box / Outer / Diag / Sum / ... pieces with
no dense matrix inside, whose printed form names ``⊗`` or ``⊠`` where the table does.
Shapes are rectangular wherever the primitive allows.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from amd_reference import near_identity, spd
from zoo import box_twin

import kronbox as kb
from kronbox import amd


@dataclass
class Row:
    """``F`` (an expression in ``X``), ``f`` (the numpy twin of ``X ↦ F``), the value of ``X``,
    the closed-form Jacobian (row-major) if the table gives one, the operator classes the lazy
    Jacobian must contain, and the text its printed form must show (spaces ignored)."""

    F: amd.Expr
    f: Callable[[np.ndarray], np.ndarray]
    X: np.ndarray
    closed: np.ndarray | None = None
    pieces: tuple[type, ...] = ()
    text: tuple[str, ...] = ()


ROWS: dict[str, Callable[[np.random.Generator], Row]] = {}


def row(name: str):
    def register(build):
        ROWS[name] = build
        return build

    return register


def build(name: str) -> Row:
    return ROWS[name](np.random.default_rng(zlib.crc32(name.encode())))


def var(X: np.ndarray) -> amd.Expr:
    return amd.var("X", X.shape)


def vecrow(G: np.ndarray) -> np.ndarray:
    """``vec(G)ᵀ`` as a one-row matrix: the Jacobian of a scalar with gradient ``G``."""
    return G.ravel()[None, :]


def diagvec(D: np.ndarray) -> np.ndarray:
    return np.diag(D.ravel())


def sqrtm_numpy(X: np.ndarray) -> np.ndarray:
    """The principal square root of a diagonalizable ``X`` with eigenvalues off the negative axis."""
    w, V = np.linalg.eig(X)
    return ((V * np.sqrt(w.astype(complex))) @ np.linalg.inv(V)).real


def sylvester_numpy(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``Z`` with ``A Z + Z B = C``, by a dense solve of ``(A ⊗ I + I ⊗ Bᵀ) vec Z = vec C``."""
    m, n = C.shape
    L = np.kron(A, np.eye(n)) + np.kron(np.eye(m), B.T)
    return np.linalg.solve(L, C.ravel()).reshape(m, n)


# ---------------------------------------------------------------- the table of docs/derivatives.md
@row("X")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(var(X), lambda X: X, X, np.eye(6), (kb.Identity,), ("I",))


@row("X^T")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(var(X).T, lambda X: X.T, X, box_twin(np.eye(2), np.eye(3)), (kb.Commutation,), ("(I⊠I)",))


@row("A X B")
def _(rng):
    A, X, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((2, 5))
    F = amd.const("A", A) @ var(X) @ amd.const("B", B)
    return Row(F, lambda X: A @ X @ B, X, np.kron(A, B.T), (kb.Kron,), ("(A⊗B')",))


@row("A X^T B")
def _(rng):
    A, X, B = rng.standard_normal((4, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 5))
    F = amd.const("A", A) @ var(X).T @ amd.const("B", B)
    return Row(F, lambda X: A @ X.T @ B, X, box_twin(A, B.T), (kb.Box,), ("(A⊠B')",))


@row("trace(A X) B")
def _(rng):
    A, X, B = rng.standard_normal((2, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 5))
    F = amd.trace(amd.const("A", A) @ var(X)) * amd.const("B", B)
    return Row(F, lambda X: np.trace(A @ X) * B, X, np.outer(B.ravel(), A.T.ravel()), (kb.Outer,),
               ("vec(B)*vec(A')'",))


@row("X^2")
def _(rng):
    X = rng.standard_normal((3, 3))
    I = np.eye(3)
    return Row(var(X) ** 2, lambda X: X @ X, X, np.kron(I, X.T) + np.kron(X, I), (kb.Sum, kb.Kron), ("⊗",))


def power_table(X: np.ndarray, k: int) -> np.ndarray:
    """``Σ_{i<k} Xⁱ ⊗ (X^{k−1−i})ᵀ``."""
    P = np.linalg.matrix_power
    return sum(np.kron(P(X, i), P(X, k - 1 - i).T) for i in range(k))


for _k in (3, 4):

    @row(f"X^{_k}")
    def _(rng, k=_k):
        X = rng.standard_normal((3, 3)) / 2
        return Row(var(X) ** k, lambda X: np.linalg.matrix_power(X, k), X, power_table(X, k), (kb.Kron,), ("⊗",))


@row("X^-1")
def _(rng):
    X = near_identity(rng, 3)
    Xi = np.linalg.inv(X)
    return Row(var(X) ** -1, np.linalg.inv, X, -np.kron(Xi, Xi.T), (kb.Kron,), ("-(inv(X)⊗inv(X)')",))


@row("X^-2")
def _(rng):
    X = near_identity(rng, 3)
    Y = np.linalg.inv(X)
    closed = power_table(Y, 2) @ -np.kron(Y, Y.T)  # chain rule: (Y²)' at Y = X⁻¹, times (X⁻¹)'
    return Row(var(X) ** -2, lambda X: np.linalg.matrix_power(X, -2), X, closed, (kb.Kron,), ("⊗",))


@row("inv(X)")
def _(rng):
    X = near_identity(rng, 4)
    Xi = np.linalg.inv(X)
    return Row(amd.inv(var(X)), np.linalg.inv, X, -np.kron(Xi, Xi.T), (kb.Kron,), ("⊗",))


@row("solve(X, B)")
def _(rng):
    """``Z = X⁻¹ B``: ``∂Z/∂X = −(X⁻¹ ⊗ Zᵀ)`` (B is 4×3: rectangular)."""
    X, B = near_identity(rng, 4), rng.standard_normal((4, 3))
    Xi = np.linalg.inv(X)
    closed = -np.kron(Xi, (Xi @ B).T)
    return Row(amd.solve(var(X), amd.const("B", B)), lambda X: np.linalg.solve(X, B), X, closed, (kb.Kron,), ("⊗",))


@row("solve(A, X)")
def _(rng):
    """``Z = A⁻¹ X``: ``∂Z/∂X = A⁻¹ ⊗ I`` (X is 4×3)."""
    A, X = near_identity(rng, 4), rng.standard_normal((4, 3))
    closed = np.kron(np.linalg.inv(A), np.eye(3))
    return Row(amd.solve(amd.const("A", A), var(X)), lambda X: np.linalg.solve(A, X), X, closed, (kb.Kron,), ("⊗",))


@row("softmax(X)")
def _(rng):
    """``∂ softmax = diag(vec p) − vec(p) vec(p)ᵀ`` over every entry."""
    X = 2 * rng.standard_normal((3, 2))

    def f(X):
        E = np.exp(X - X.max())
        return E / E.sum()

    p = f(X).ravel()
    return Row(amd.softmax(var(X)), f, X, np.diag(p) - np.outer(p, p), (kb.Diag, kb.Outer), ("diag",))


@row("logsumexp(X)")
def _(rng):
    """``∇ logsumexp = softmax``: the Jacobian is ``vec(softmax X)ᵀ`` (a 1 × 6 row)."""
    X = 2 * rng.standard_normal((3, 2))
    p = np.exp(X - X.max()) / np.exp(X - X.max()).sum()
    return Row(amd.logsumexp(var(X)), lambda X: X.max() + np.log(np.exp(X - X.max()).sum()), X, p.reshape(1, -1),
               (kb.Outer,), ())


@row("X^-T")
def _(rng):
    X = near_identity(rng, 3)
    Xi = np.linalg.inv(X)
    return Row(amd.inv(var(X)).T, lambda X: np.linalg.inv(X).T, X, -box_twin(Xi.T, Xi), (kb.Box,),
               ("-(inv(X)'⊠inv(X))",))


@row("X^1/2")
def _(rng):
    X = near_identity(rng, 3)  # not symmetric: R ⊗ I and I ⊗ Rᵀ differ
    R, I = sqrtm_numpy(X), np.eye(3)
    closed = np.linalg.inv(np.kron(R, I) + np.kron(I, R.T))
    return Row(var(X) ** 0.5, sqrtm_numpy, X, closed, (kb.Inverse, kb.KronSum), ("inv(sqrtm(X)⊗I+I⊗sqrtm(X)')",))


@row("G(X) H(X)")
def _(rng):
    A, X, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((3, 5))
    x = var(X)
    G, H = A @ X, X.T @ B
    dG, dH = np.kron(A, np.eye(2)), box_twin(np.eye(2), B.T)
    closed = np.kron(np.eye(4), H.T) @ dG + np.kron(G, np.eye(5)) @ dH
    F = (amd.const("A", A) @ x) @ (x.T @ amd.const("B", B))
    return Row(F, lambda X: (A @ X) @ (X.T @ B), X, closed, (kb.Kron, kb.Box), ("⊗", "⊠"))


@row("G(X) ∘ H(X)")
def _(rng):
    A, X, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    x = var(X)
    G, H = A @ X, X @ B
    closed = diagvec(H) @ np.kron(A, np.eye(2)) + diagvec(G) @ np.kron(np.eye(3), B.T)
    F = (amd.const("A", A) @ x) * (x @ amd.const("B", B))
    return Row(F, lambda X: (A @ X) * (X @ B), X, closed, (kb.Diag, kb.Kron), ("diag",))


@row("G(H(X))")
def _(rng):
    A, X, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((2, 3))
    H = A @ X @ B + 4 * np.eye(3)
    Hi = np.linalg.inv(H)
    closed = -np.kron(Hi, Hi.T) @ np.kron(A, B.T)
    F = amd.inv(amd.const("A", A) @ var(X) @ amd.const("B", B) + 4 * amd.eye(3))
    return Row(F, lambda X: np.linalg.inv(A @ X @ B + 4 * np.eye(3)), X, closed, (kb.Kron,), ("⊗",))


# ------------------------------------------------------------------- the remaining primitives
@row("X + A")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    return Row(var(X) + amd.const("A", A), lambda X: X + A, X, np.eye(6), (kb.Identity,))


@row("A - X")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    return Row(amd.const("A", A) - var(X), lambda X: A - X, X, -np.eye(6))


@row("-X")
def _(rng):
    X = rng.standard_normal((2, 3))
    return Row(-var(X), lambda X: -X, X, -np.eye(6))


@row("trace(X) + A")  # a scalar broadcast over a matrix
def _(rng):
    X, A = rng.standard_normal((3, 3)), rng.standard_normal((2, 4))
    F = amd.trace(var(X)) + amd.const("A", A)
    return Row(F, lambda X: np.trace(X) + A, X, np.outer(np.ones(8), np.eye(3).ravel()), (kb.Outer,))


@row("X @ A")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    return Row(var(X) @ amd.const("A", A), lambda X: X @ A, X, np.kron(np.eye(3), A.T), (kb.Kron,), ("⊗",))


@row("A @ X")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    return Row(amd.const("A", A) @ var(X), lambda X: A @ X, X, np.kron(A, np.eye(2)), (kb.Kron,), ("⊗",))


@row("X @ X^T")
def _(rng):
    X = rng.standard_normal((3, 2))
    closed = np.kron(np.eye(3), X) + box_twin(X, np.eye(3))  # (I ⊗ X) + (X ⊠ I): d(X Xᵀ) = dX Xᵀ + X dXᵀ
    return Row(var(X) @ var(X).T, lambda X: X @ X.T, X, closed, (kb.Kron, kb.Box), ("⊗", "⊠"))


@row("X * A")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    return Row(var(X) * amd.const("A", A), lambda X: X * A, X, diagvec(A), (kb.Diag,), ("diag",))


@row("X * X")
def _(rng):
    X = rng.standard_normal((2, 3))
    return Row(var(X) * var(X), lambda X: X * X, X, diagvec(2 * X), (kb.Diag,))


@row("X / A")
def _(rng):
    X, A = rng.standard_normal((3, 2)), rng.uniform(1, 2, (3, 2))
    return Row(var(X) / amd.const("A", A), lambda X: X / A, X, diagvec(1 / A), (kb.Diag,))


@row("A / X")
def _(rng):
    X, A = rng.uniform(1, 2, (3, 2)), rng.standard_normal((3, 2))
    return Row(amd.const("A", A) / var(X), lambda X: A / X, X, diagvec(-A / X**2), (kb.Diag,))


@row("c X")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(2.5 * var(X), lambda X: 2.5 * X, X, 2.5 * np.eye(6))


@row("X / c")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(var(X) / 4.0, lambda X: X / 4.0, X, np.eye(6) / 4)


@row("s X")  # a named scalar constant
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(amd.const("s", -1.5) * var(X), lambda X: -1.5 * X, X, -1.5 * np.eye(6))


@row("trace(X) X")  # a scalar function of X scaling X
def _(rng):
    X = rng.standard_normal((3, 3))
    closed = np.trace(X) * np.eye(9) + np.outer(X.ravel(), np.eye(3).ravel())
    return Row(amd.trace(var(X)) * var(X), lambda X: np.trace(X) * X, X, closed, (kb.Outer,))


@row("X / sum(X)")  # a scalar denominator depending on X
def _(rng):
    X = rng.uniform(0.5, 1.5, (3, 2))
    s = X.sum()
    closed = np.eye(6) / s - np.outer(X.ravel(), np.ones(6)) / s**2
    return Row(var(X) / amd.sum(var(X)), lambda X: X / X.sum(), X, closed, (kb.Outer,))


@row("trace(X)")
def _(rng):
    X = rng.standard_normal((3, 3))
    return Row(amd.trace(var(X)), np.trace, X, vecrow(np.eye(3)), (kb.Outer,))


@row("trace(A X)")
def _(rng):
    X, A = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    return Row(amd.trace(amd.const("A", A) @ var(X)), lambda X: np.trace(A @ X), X, vecrow(A.T))


@row("det(X)")
def _(rng):
    X = near_identity(rng, 3)
    return Row(amd.det(var(X)), np.linalg.det, X, vecrow(np.linalg.det(X) * np.linalg.inv(X).T))


@row("logdet(X)")
def _(rng):
    X = near_identity(rng, 4)
    return Row(amd.logdet(var(X)), lambda X: np.linalg.slogdet(X)[1], X, vecrow(np.linalg.inv(X).T), (kb.Outer,))


@row("norm(X)")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(amd.norm(var(X)), np.linalg.norm, X, vecrow(X / np.linalg.norm(X)))


@row("normsq(X)")
def _(rng):
    X = rng.standard_normal((3, 2))
    return Row(amd.normsq(var(X)), lambda X: np.sum(X * X), X, vecrow(2 * X))


@row("sum(X)")
def _(rng):
    X = rng.standard_normal((2, 3))
    return Row(amd.sum(var(X)), np.sum, X, vecrow(np.ones((2, 3))))


for _p in (2.5, -1.5):

    @row(f"power(X, {_p})")
    def _(rng, p=_p):
        X = rng.uniform(0.5, 2.0, (3, 2))
        return Row(amd.power(var(X), p), lambda X: X**p, X, diagvec(p * X ** (p - 1)), (kb.Diag,))


@row("sqrtm(X)")
def _(rng):
    X = spd(rng, 3)
    R, I = sqrtm_numpy(X), np.eye(3)
    closed = np.linalg.inv(np.kron(R, I) + np.kron(I, R.T))
    return Row(amd.sqrtm(var(X)), sqrtm_numpy, X, closed, (kb.Inverse, kb.KronSum), ("inv(",))


# Elementwise functions: (numpy function, its derivative, the sampler of X keeping away from
# poles and kinks).
def _anywhere(rng):
    return rng.uniform(-1.2, 1.2, (3, 2))


def _positive(rng):
    return rng.uniform(0.5, 2.0, (3, 2))


def _inside_unit(rng):
    return rng.uniform(-0.8, 0.8, (3, 2))


def _away_from_zero(rng):
    return rng.uniform(0.2, 1.2, (3, 2)) * rng.choice([-1.0, 1.0], (3, 2))


ELEMENTWISE = {
    "exp": (np.exp, np.exp, _anywhere),
    "log": (np.log, lambda x: 1 / x, _positive),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), _positive),
    "sin": (np.sin, np.cos, _anywhere),
    "cos": (np.cos, lambda x: -np.sin(x), _anywhere),
    "tan": (np.tan, lambda x: 1 / np.cos(x) ** 2, _anywhere),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, _anywhere),
    "arcsin": (np.arcsin, lambda x: 1 / np.sqrt(1 - x**2), _inside_unit),
    "arccos": (np.arccos, lambda x: -1 / np.sqrt(1 - x**2), _inside_unit),
    "arctan": (np.arctan, lambda x: 1 / (1 + x**2), _anywhere),
    "abs": (np.abs, np.sign, _away_from_zero),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float), _away_from_zero),
    "sign": (np.sign, np.zeros_like, _away_from_zero),
}

for _name, (_f, _df, _sample) in ELEMENTWISE.items():

    @row(f"{_name}(X)")
    def _(rng, name=_name, f=_f, df=_df, sample=_sample):
        X = sample(rng)
        if name == "sign":  # its derivative is zero wherever it exists: the zero map
            return Row(amd.sign(var(X)), f, X, diagvec(df(X)), (kb.Zero,), ("0",))
        return Row(getattr(amd, name)(var(X)), f, X, diagvec(df(X)), (kb.Diag,), ("diag",))


@row("sylvester(A, B, X)")
def _(rng):
    A, B, X = near_identity(rng, 3), near_identity(rng, 2), rng.standard_normal((3, 2))
    L = np.kron(A, np.eye(2)) + np.kron(np.eye(3), B.T)
    F = amd.sylvester(amd.const("A", A), amd.const("B", B), var(X))
    return Row(F, lambda X: sylvester_numpy(A, B, X), X, np.linalg.inv(L), (kb.Inverse, kb.KronSum))


@row("sylvester(X, B, C)")
def _(rng):
    X, B, C = near_identity(rng, 3), near_identity(rng, 2), rng.standard_normal((3, 2))
    Z = sylvester_numpy(X, B, C)
    L = np.kron(X, np.eye(2)) + np.kron(np.eye(3), B.T)
    closed = -np.linalg.solve(L, np.kron(np.eye(3), Z.T))  # A dZ + dZ B = −dA Z
    F = amd.sylvester(var(X), amd.const("B", B), amd.const("C", C))
    return Row(F, lambda X: sylvester_numpy(X, B, C), X, closed, (kb.Inverse, kb.KronSum))


@row("sylvester(A, X, C)")
def _(rng):
    A, X, C = near_identity(rng, 3), near_identity(rng, 2), rng.standard_normal((3, 2))
    Z = sylvester_numpy(A, X, C)
    L = np.kron(A, np.eye(2)) + np.kron(np.eye(3), X.T)
    closed = -np.linalg.solve(L, np.kron(Z, np.eye(2)))  # A dZ + dZ B = −Z dB
    F = amd.sylvester(amd.const("A", A), var(X), amd.const("C", C))
    return Row(F, lambda X: sylvester_numpy(A, X, C), X, closed, (kb.Inverse, kb.KronSum))


# ---------------------------------------------------------------- matrix functions and decompositions
def frechet_by_blocks(f, X: np.ndarray) -> np.ndarray:
    """The Jacobian of ``f`` at ``X`` column by column: ``L_f(X)[E]`` is the top right block of
    ``f([[X, E], [0, X]])`` (Mathias), for every basis matrix ``E``."""
    n = X.shape[0]
    columns = []
    for k in range(n * n):
        E = np.zeros(n * n)
        E[k] = 1.0
        columns.append(f(np.block([[X, E.reshape(n, n)], [np.zeros((n, n)), X]]))[:n, n:].ravel())
    return np.stack(columns, axis=1)


def commutation(n: int) -> np.ndarray:
    """``K vec(X) = vec(Xᵀ)`` for an ``n × n`` X (row-major)."""
    return box_twin(np.eye(n), np.eye(n))


@row("expm(X)")
def _(rng):
    X = spd(rng, 3) / 2  # symmetric: the Daleckii–Krein operator (directions of any symmetry)
    return Row(amd.expm(var(X)), scipy.linalg.expm, X, frechet_by_blocks(scipy.linalg.expm, X), (kb.Kron, kb.Diag),
               ("dexpm(X)",))


@row("eigvalsh(X + X^T)")
def _(rng):
    X = rng.standard_normal((3, 3))
    Q = np.linalg.eigh(X + X.T)[1]
    closed = 2 * np.einsum("ki,li->ikl", Q, Q).reshape(3, 9)  # dλᵢ = qᵢᵀ (dX + dXᵀ) qᵢ
    return Row(amd.eigvalsh(var(X) + var(X).T), lambda X: np.linalg.eigvalsh(X + X.T)[:, None], X, closed,
               (kb.Kron, kb.Diag))


@row("eigvecs(X + X^T)")
def _(rng):
    X = rng.standard_normal((3, 3))
    w, Q = np.linalg.eigh(X + X.T)

    def eigenvectors(Y):  # the signs of the columns held to those at X, so that differences see a function
        V = np.linalg.eigh(Y + Y.T)[1]
        return V * np.sign(np.sum(V * Q, axis=0))

    gaps = w[None, :] - w[:, None]
    omega = np.where(np.eye(3) == 1, 0.0, 1 / np.where(np.eye(3) == 1, 1.0, gaps))  # 1/(λⱼ − λᵢ)
    closed = np.kron(Q, np.eye(3)) @ np.diag(omega.ravel()) @ np.kron(Q.T, Q.T) @ (np.eye(9) + commutation(3))
    return Row(amd.eigvecs(var(X) + var(X).T), eigenvectors, X, closed, (kb.Kron, kb.Diag))


@row("chol(X + X^T)")
def _(rng):
    X = spd(rng, 3) / 2
    L = np.linalg.cholesky(X + X.T)
    M = np.tril(np.ones((3, 3)), -1) + 0.5 * np.eye(3)
    Linv = np.linalg.inv(L)
    closed = np.kron(L, np.eye(3)) @ np.diag(M.ravel()) @ np.kron(Linv, Linv) @ (np.eye(9) + commutation(3))
    return Row(amd.cholesky(var(X) + var(X).T), lambda X: np.linalg.cholesky(X + X.T), X, closed,
               (kb.Kron, kb.Diag))


@row("diag(X)")
def _(rng):
    X = rng.standard_normal((3, 3))
    closed = np.zeros((3, 9))
    closed[np.arange(3), np.arange(3) * 4] = 1.0
    return Row(amd.diag(var(X)), lambda X: np.diagonal(X)[:, None], X, closed, (kb.Kron, kb.Diag))


@row("diagm(x)")
def _(rng):
    x = rng.standard_normal((3, 1))
    closed = np.zeros((9, 3))
    closed[np.arange(3) * 4, np.arange(3)] = 1.0
    return Row(amd.diagm(var(x)), lambda x: np.diagflat(x), x, closed, (kb.Kron, kb.Diag))


def by_basis(F, shape: tuple[int, int]) -> np.ndarray:
    """The Jacobian of a linear ``F`` column by column: ``vec F(E)`` for every basis matrix ``E``."""
    columns = []
    for k in range(shape[0] * shape[1]):
        E = np.zeros(shape[0] * shape[1])
        E[k] = 1.0
        columns.append(np.ravel(F(E.reshape(shape))))
    return np.stack(columns, axis=1)


@row("kron(X, B)")
def _(rng):
    X, B = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    F = amd.kron(var(X), amd.const("B", B))
    return Row(F, lambda X: np.kron(X, B), X, by_basis(lambda E: np.kron(E, B), X.shape), (), ("kron(·,B)",))


@row("kron(A, X)")
def _(rng):
    A, X = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    F = amd.kron(amd.const("A", A), var(X))
    return Row(F, lambda X: np.kron(A, X), X, by_basis(lambda E: np.kron(A, E), X.shape), (), ("kron(A,·)",))


NAMES = list(ROWS)


def functional(r: Row) -> tuple[amd.Expr, Callable[[np.ndarray], float], np.ndarray]:
    """``⟨C, F(X)⟩`` for a fixed random ``C`` (the expression, its numpy twin, ``C``): every row's
    Jacobian seen through a generic linear functional."""
    C = np.random.default_rng(99).standard_normal(np.shape(r.f(r.X)))
    W = amd.const("W", C)  # a name no row uses
    f = W * r.F if C.ndim == 0 else amd.sum(W * r.F)
    return f, lambda X: float(np.sum(C * r.f(X))), C

"""The formula corpus shared by the printing and parsing tests: symbols of every kind, random values,
scalar functions of a matrix, and random expression trees (hypothesis strategies)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from amd_reference import spd
from hypothesis import strategies as st

from kronbox import amd
from kronbox.amd.expressions.expr import ones

N = 3
SQUARE = ("X", "S", "A", "B")
VECTORS = ("x", "b", "w", "y")
SCALARS = ("a", "c")


def symbols(shaped: bool = True) -> dict[str, amd.Expr]:
    """The corpus' symbols: square ``X S A B``, column vectors ``x b w y``, scalars ``a c``."""
    out = {k: amd.var(k, (N, N) if shaped else None) for k in SQUARE}
    out.update({k: amd.var(k, (N, 1) if shaped else None) for k in VECTORS})
    out.update({k: amd.var(k, ()) for k in SCALARS})
    return out


def values(seed: int) -> dict[str, np.ndarray]:
    """Random values: ``X`` and ``S`` symmetric positive definite (for inv, logdet, sqrtm), the others general."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in ("X", "S"):
        out[k] = spd(rng, N)
    out.update({k: rng.standard_normal((N, N)) for k in ("A", "B")})
    out.update({k: rng.standard_normal((N, 1)) for k in VECTORS})
    out.update({k: float(rng.uniform(0.5, 2.0)) for k in SCALARS})
    return out


# Scalar functions (they have gradients and Hessians): name → builder from the symbols.
FUNCTIONS: dict[str, Callable[[dict], amd.Expr]] = {
    "logdet X": lambda s: amd.logdet(s["X"]),
    "trace(S inv X)": lambda s: amd.trace(s["S"] @ amd.inv(s["X"])),
    "trace(A X B X)": lambda s: amd.trace(s["A"] @ s["X"] @ s["B"] @ s["X"]),
    "trace(X X)": lambda s: amd.trace(s["X"] @ s["X"]),
    "covariance": lambda s: -amd.logdet(s["X"]) - amd.trace(s["S"] @ amd.inv(s["X"])) - amd.normsq(amd.inv(s["X"])),
    "<S, X> - logdet X": lambda s: amd.sum(s["S"] * s["X"]) - amd.logdet(s["X"]),
    "trace X": lambda s: amd.trace(s["X"]),
    "trace(A X)": lambda s: amd.trace(s["A"] @ s["X"]),
    "trace(A X')": lambda s: amd.trace(s["A"] @ s["X"].T),
    "trace(X' X)": lambda s: amd.trace(s["X"].T @ s["X"]),
    "trace(X X' A)": lambda s: amd.trace(s["X"] @ s["X"].T @ s["A"]),
    "trace(A inv(X) B)": lambda s: amd.trace(s["A"] @ amd.inv(s["X"]) @ s["B"]),
    "trace(inv(X') A)": lambda s: amd.trace(amd.inv(s["X"].T) @ s["A"]),
    "trace(A X^-2)": lambda s: amd.trace(s["A"] @ s["X"] ** -2),
    "trace(X^3)": lambda s: amd.trace(s["X"] ** 3),
    "trace(sqrtm X)": lambda s: amd.trace(amd.sqrtm(s["X"])),
    "normsq(sqrtm X)": lambda s: amd.normsq(amd.sqrtm(s["X"])),
    "det X": lambda s: amd.det(s["X"]),
    "logdet(X' X)": lambda s: amd.logdet(s["X"].T @ s["X"]),
    "logdet(inv X) + trace(S X)": lambda s: amd.logdet(amd.inv(s["X"])) + amd.trace(s["S"] @ s["X"]),
    "normsq X": lambda s: amd.normsq(s["X"]),
    "norm(A X - B)": lambda s: amd.norm(s["A"] @ s["X"] - s["B"]),
    "normsq(-2 X')": lambda s: amd.normsq(-2 * s["X"].T),
    "sum exp X": lambda s: amd.sum(amd.exp(s["X"])),
    "sum(sin X .* cos X)": lambda s: amd.sum(amd.sin(s["X"]) * amd.cos(s["X"])),
    "sum tanh(A X)": lambda s: amd.sum(amd.tanh(s["A"] @ s["X"])),
    "sum X.^3": lambda s: amd.sum(amd.power(s["X"], 3)),
    "sum sqrt(X.*X + 1)": lambda s: amd.sum(amd.sqrt(s["X"] * s["X"] + 1)),
    "sum log(X.*X + 1)": lambda s: amd.sum(amd.log(s["X"] * s["X"] + 1)),
    "sum abs(X - A)": lambda s: amd.sum(amd.abs(s["X"] - s["A"])),
    "sum relu(X - A)": lambda s: amd.sum(amd.relu(s["X"] - s["A"])),
    "sum(X / a)": lambda s: amd.sum(s["X"] / s["a"]),
    "sum(X ./ (X.*X + 1))": lambda s: amd.sum(s["X"] / (s["X"] * s["X"] + 1)),
    "logdet X trace X": lambda s: amd.logdet(s["X"]) * amd.trace(s["X"]),
    "trace(X)^2": lambda s: amd.trace(s["X"]) ** 2,
    "exp trace(A X)": lambda s: amd.exp(amd.trace(s["A"] @ s["X"])),
    "a trace X + c trace X": lambda s: s["a"] * amd.trace(s["X"]) + s["c"] * amd.trace(s["X"]),
    "-2 logdet X + 3 trace(S X)": lambda s: -2 * amd.logdet(s["X"]) + 3 * amd.trace(s["S"] @ s["X"]),
    "trace sylvester(X, X, S)": lambda s: amd.trace(amd.sylvester(s["X"], s["X"], s["S"])),
    "trace((X + X')/2 A)": lambda s: amd.trace((s["X"] + s["X"].T) / 2 @ s["A"]),
    "trace(exp(X) A)": lambda s: amd.trace(amd.exp(s["X"]) @ s["A"]),
}


TREE_SYMBOLS = symbols()
LEAVES = st.sampled_from([TREE_SYMBOLS[k] for k in ("X", "A", "B")] + [amd.eye(N), ones((N, N))])
UNARY: list[Callable[[amd.Expr], amd.Expr]] = [
    lambda e: e.T, lambda e: -e, lambda e: 2 * e, lambda e: -0.5 * e, lambda e: amd.trace(e) * e,
    lambda e: amd.tanh(e), lambda e: amd.inv(e @ e.T + amd.eye(N)), lambda e: e * e,
    lambda e: e + TREE_SYMBOLS["a"], lambda e: TREE_SYMBOLS["a"] * e, lambda e: e / TREE_SYMBOLS["c"],
    lambda e: amd.sum(e) * amd.eye(N), lambda e: 0 * e + e,
]
BINARY: list[Callable[[amd.Expr, amd.Expr], amd.Expr]] = [
    lambda e, f: e + f, lambda e, f: e - f, lambda e, f: e @ f, lambda e, f: e * f,
]


def trees(children):
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: t[0](t[1])),
        st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: t[0](t[1], t[2])),
    )


TREES = st.recursive(LEAVES, trees, max_leaves=12)

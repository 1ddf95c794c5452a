"""The formula corpus shared by the printing and parsing tests: symbols of every kind, random values,
scalar functions of a matrix, and random expression trees (hypothesis strategies)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from amd_reference import near_identity, spd
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


# -- gradients as a person writes them -------------------------------------------------------------------
# (formula, variable, the shortest hand-written gradient) in the AMD dialect; square X S A B C, a tall M,
# columns x y b w u v, scalars a c. Matrix Cookbook chapters 2–3, matrixcalculus.org's examples, lecture notes.
HAND_N, HAND_M = 4, 3
HAND_FORMS: list[tuple[str, str, str]] = [
    # traces of products (Cookbook 2.5)
    ("trace(X)", "X", "I"),
    ("trace(A*X)", "X", "A'"),
    ("trace(X*A)", "X", "A'"),
    ("trace(A'*X)", "X", "A"),
    ("trace(X'*A)", "X", "A"),
    ("trace(A*X')", "X", "A"),
    ("trace(A*X*B)", "X", "(B*A)'"),
    ("trace(A*X'*B)", "X", "B*A"),
    ("trace(X*X)", "X", "2*X'"),
    ("trace(X'*X)", "X", "2*X"),
    ("trace(X*X')", "X", "2*X"),
    ("trace(X'*A*X)", "X", "(A + A')*X"),
    ("trace(X*A*X')", "X", "X*(A + A')"),
    ("trace(A*X'*X)", "X", "X*(A + A')"),
    ("trace(A*X*B*X)", "X", "(A*X*B + B*X*A)'"),
    ("trace(X'*A*X*B)", "X", "A*X*B + A'*X*B'"),
    ("trace(A*X*X'*B)", "X", "(B*A + A'*B')*X"),
    ("trace(X^3)", "X", "3*(X^2)'"),
    ("trace(A*X^2)", "X", "(A*X + X*A)'"),
    ("trace(X'*X*X'*X)", "X", "4*X*X'*X"),
    ("trace(X)^2", "X", "2*trace(X)*I"),
    ("trace(X)*trace(X)", "X", "2*trace(X)*I"),
    ("trace(X*trace(X) + X)", "X", "(2*trace(X) + 1)*I"),
    ("a*trace(X) + c*trace(X)", "X", "(a + c)*I"),
    ("a*trace(X)", "X", "a*I"),
    ("trace(A*X) - trace(X*A)", "X", "matrix(0)"),
    ("trace(A*X')*trace(B*X)", "X", "trace(B*X)*A + trace(A*X')*B'"),
    ("exp(trace(A*X))", "X", "exp(trace(A*X))*A'"),
    ("trace((X + X')/2*A)", "X", "(A + A')/2"),
    ("trace(exp(X))", "X", "exp(X).*I"),
    # inverses (Cookbook 2.2, 2.5)
    ("trace(inv(X))", "X", "-(inv(X)^2)'"),
    ("trace(inv(X)*A)", "X", "-(inv(X)*A*inv(X))'"),
    ("trace(S*inv(X))", "X", "-(inv(X)*S*inv(X))'"),
    ("trace(A*inv(X)*B)", "X", "-(inv(X)*B*A*inv(X))'"),
    ("trace(A*inv(X'))", "X", "-inv(X)'*A*inv(X)'"),
    ("trace(inv(X)*X*A)", "X", "matrix(0)"),
    ("trace(X*inv(X))", "X", "matrix(0)"),
    ("u'*inv(X)*v", "X", "-(inv(X)*v*u'*inv(X))'"),
    ("x'*inv(X)*x", "X", "-(inv(X)*x*x'*inv(X))'"),
    # determinants (Cookbook 2.1)
    ("logdet(X)", "X", "inv(X)'"),
    ("det(X)", "X", "det(X)*inv(X)'"),
    ("logdet(inv(X))", "X", "-inv(X)'"),
    ("logdet(X'*X)", "X", "2*inv(X)'"),
    ("logdet(X*X)", "X", "2*inv(X)'"),
    ("logdet(X^3)", "X", "3*inv(X)'"),
    ("logdet(A*X*B)", "X", "inv(X)'"),
    ("logdet(M'*X*M)", "X", "(M*inv(M'*X*M)*M')'"),
    ("det(A*X*B)", "X", "det(A*X*B)*inv(X)'"),
    ("det(X)^2", "X", "2*det(X).^2*inv(X)'"),
    ("det(inv(X))", "X", "-inv(X)'/det(X)"),
    ("logdet(X)^2", "X", "2*logdet(X)*inv(X)'"),
    ("trace(X)*logdet(X)", "X", "logdet(X)*I + trace(X)*inv(X)'"),
    ("logdet(X + A)", "X", "inv(X + A)'"),
    ("logdet(X) + trace(S*inv(X))", "X", "inv(X)' - (inv(X)*S*inv(X))'"),
    ("trace(S*X) - logdet(X)", "X", "(S - inv(X))'"),
    # norms (Cookbook 2.6)
    ("norm2(X)^2", "X", "2*X"),
    ("norm2(X)", "X", "X/norm2(X)"),
    ("norm2(X - A)^2", "X", "2*(X - A)"),
    ("norm2(A*X - B)^2", "X", "2*A'*(A*X - B)"),
    ("norm2(X*A - B)^2", "X", "2*(X*A - B)*A'"),
    ("norm2(X'*X - I)^2", "X", "4*X*(X'*X - I)"),
    ("norm2(X'*X)^2", "X", "4*X*X'*X"),
    # elementwise functions
    ("sum(X.*X)", "X", "2*X"),
    ("sum(A.*X)", "X", "A"),
    ("sum(exp(X))", "X", "exp(X)"),
    ("sum(sin(X))", "X", "cos(X)"),
    ("sum(tanh(X))", "X", "1 - tanh(X).^2"),
    ("sum(X.^3)", "X", "3*X.^2"),
    ("sum(log(X.*X + 1))", "X", "2*X./(X.*X + 1)"),
    ("sum(sqrt(X.*X + 1))", "X", "X./sqrt(X.*X + 1)"),
    ("sum(abs(X))", "X", "sign(X)"),
    ("norm1(X - A)", "X", "sign(X - A)"),
    ("sum(relu(X - A))", "X", "step(X - A)"),
    ("sum(sin(X).*cos(X))", "X", "cos(X).^2 - sin(X).^2"),
    ("sum(X/a)", "X", "matrix(1)/a"),
    # vector calculus (matrixcalculus.org's examples)
    ("x'*x", "x", "2*x"),
    ("b'*x", "x", "b"),
    ("x'*b", "x", "b"),
    ("x'*A*x", "x", "(A + A')*x"),
    ("b'*A*x", "x", "A'*b"),
    ("x'*A*b", "x", "A*b"),
    ("x'*A'*A*x", "x", "2*A'*A*x"),
    ("x'*A*x + b'*x", "x", "(A + A')*x + b"),
    ("(A*x + b)'*(A*x + b)", "x", "2*A'*(A*x + b)"),
    ("(A*x + b)'*C*(A*x + b)", "x", "A'*(C + C')*(A*x + b)"),
    ("norm2(A*x - b)^2", "x", "2*A'*(A*x - b)"),
    ("norm2(x)", "x", "x/norm2(x)"),
    ("norm2(A*x - b)", "x", "A'*(A*x - b)/norm2(A*x - b)"),
    ("sum(exp(A*x))", "x", "A'*exp(A*x)"),
    ("sum(tanh(A*x))", "x", "A'*(1 - tanh(A*x).^2)"),
    ("sum(exp(-x.*x))", "x", "-2*x.*exp(-x.*x)"),
    ("sum(log(exp(-y.*(A*w)) + 1))", "w", "-A'*(y./(exp(y.*(A*w)) + 1))"),
    ("sum(log(1 + exp(A*x)))", "x", "A'*(1./(1 + exp(-A*x)))"),
    ("log(x'*A*x)", "x", "(A + A')*x/(x'*A*x)"),
    ("x'*y/(x'*x)", "y", "x/(x'*x)"),
    ("logsumexp(x)", "x", "softmax(x)"),
    # a matrix variable in vector forms
    ("u'*X*v", "X", "u*v'"),
    ("u'*X'*v", "X", "v*u'"),
    ("x'*X*x", "X", "x*x'"),
    ("u'*X*X*v", "X", "u*v'*X' + X'*u*v'"),
]
HAND_SQUARE, HAND_COLUMNS, HAND_SCALARS = ("X", "S", "A", "B", "C"), ("x", "y", "b", "w", "u", "v"), ("a", "c")


def hand_shapes() -> dict[str, tuple[int, ...]]:
    """The shapes of the hand corpus' symbols: ``M`` is tall (``n×m``), so a rule for square factors must not fire."""
    shapes: dict[str, tuple[int, ...]] = {k: (HAND_N, HAND_N) for k in HAND_SQUARE}
    shapes.update({k: (HAND_N, 1) for k in HAND_COLUMNS})
    shapes.update({k: () for k in HAND_SCALARS})
    shapes["M"] = (HAND_N, HAND_M)
    return shapes


def hand_values(seed: int) -> dict[str, np.ndarray | float]:
    """Values where every corpus formula is defined: square matrices near ``2I`` and not symmetric (so a
    transpose too many shows), ``S`` symmetric positive definite, ``M`` of full column rank."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray | float] = {k: near_identity(rng, HAND_N) for k in HAND_SQUARE}
    out["S"] = spd(rng, HAND_N)
    out.update({k: rng.standard_normal((HAND_N, 1)) for k in HAND_COLUMNS})
    out.update({k: float(rng.uniform(0.5, 2.0)) for k in HAND_SCALARS})
    out["M"] = rng.standard_normal((HAND_N, HAND_M))
    return out

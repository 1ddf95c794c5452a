"""The printed gradient of every formula of the hand corpus (``formula_corpus.HAND_FORMS``) against the
shortest gradient written by hand: the hand form is the gradient (central differences of the formula),
kronbox's print is too, parses back, and is no longer than the hand form in tokens; no wart of the
kinds people notice survives; the total and the time of the slowest simplification are bounded."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient
from formula_corpus import HAND_FORMS, hand_shapes, hand_values
from matplotlib.mathtext import MathTextParser

from kronbox import amd
from kronbox.amd.printing.tokens import token_count

SHAPES = hand_shapes()
VALUES = hand_values(0)
# Spellings that a person would not leave in a result (issue 15): an inverse next to its matrix, a transposed
# 1×1 or a sum of transposes transposed, sum(I.*X) for a trace, a Sylvester solve of A Z + Z A = I, 1./D .* N,
# a product with inv(q) of a 1×1 q, a sum led by a negated term, a repeated scalar factor.
WARTS = {
    "an inverse beside its matrix": re.compile(
        r"inv\((\w)\)\*\1\b|inv\((\w)\)'\*\2'|\b(\w)\*inv\(\3\)|\b(\w)'\*inv\(\4\)'"),
    "a sum of transposes transposed": re.compile(r"\((?:[^()]*' [+-] )+[^()]*'\)'"),
    "sum(I.*X)": re.compile(r"sum\(I\.\*|\.\*I\)"),
    "a Sylvester solve with I": re.compile(r"sylvester\((.+), \1, I\)"),
    "1./D .* N": re.compile(r"1\./\(.*\)\.\*"),
    "a product with inv of a 1×1": re.compile(r"\*inv\([a-z]'\*"),  # the corpus' columns are lower case
    "a sum led by a minus": re.compile(r"^\((-)|\(-\w[^()]* \+ "),
    "det(X)*det(X)": re.compile(r"(det\(\w\))\*\1"),
}


def _gradient(formula: str, wrt: str) -> tuple[amd.Expr, amd.Expr]:
    f = amd.parse(formula, shapes=SHAPES)
    return f, amd.grad(f, wrt)


def _value(e: amd.Expr, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(e.eval({k: VALUES[k] for k in e.symbols})), shape)


def test_the_corpus_is_large_and_distinct():
    assert len(HAND_FORMS) >= 80
    assert len({f for f, _, _ in HAND_FORMS}) == len(HAND_FORMS)


@pytest.mark.parametrize(("formula", "wrt", "hand"), HAND_FORMS, ids=[f for f, _, _ in HAND_FORMS])
def test_the_print_is_right_and_no_longer_than_by_hand(formula, wrt, hand):
    f, g = _gradient(formula, wrt)
    shape = SHAPES[wrt]
    expected = fd_gradient(lambda W: float(np.asarray(f.eval({**VALUES, wrt: W})).item()), VALUES[wrt])
    written = amd.parse(hand, shapes=SHAPES, result_shape=shape)
    assert_close(_value(written, shape), expected, 1e-6, f"the hand form {hand}")
    printed = str(g)
    again = amd.parse(printed, shapes=SHAPES, result_shape=shape)
    assert_close(_value(again, shape), expected, 1e-6, f"the print {printed}")
    assert token_count(printed) <= token_count(hand), f"{printed}  is longer than  {hand}"
    warts = [name for name, pattern in WARTS.items() if pattern.search(printed)]
    assert not warts, f"{printed}: {warts}"


def test_the_wart_patterns_catch_warts():
    for wart in ("inv(X)*X*A", "A*X'*inv(X)'", "(x'*A' + b')'", "(1 + sum(I.*X))*I", "sylvester(X, X, I)'",
                 "1./(X + 1).*Y", "x*inv(x'*x)", "(-X + A)*B", "2*det(X)*det(X)"):
        assert any(p.search(wart) for p in WARTS.values()), wart


def test_totals_and_time():
    printed, hand, slowest = 0, 0, 0.0
    for formula, wrt, by_hand in HAND_FORMS:
        _, g = _gradient(formula, wrt)
        start = time.perf_counter()
        text = str(g)
        slowest = max(slowest, time.perf_counter() - start)
        printed += token_count(text)
        hand += token_count(by_hand)
    assert printed <= hand
    assert slowest < 0.2


def test_the_logistic_hessian_is_one_term():
    shapes = {"X": (5, 3), "w": (3, 1), "y": (5, 1)}
    H = amd.hessian(amd.parse("sum(log(exp(-y.*(X*w)) + 1))", shapes=shapes), "w")
    printed = str(H)
    assert printed.count("diag(") == 1 and printed.startswith("X'*diag(") and printed.endswith(")*X"), printed
    rng = np.random.default_rng(1)
    v = {k: rng.standard_normal(s) for k, s in shapes.items()}
    again = amd.parse(printed, shapes=shapes, result_shape=(3, 3)).eval(v)
    assert_close(again, H.at(v).to_dense(), 1e-12, printed)


def test_notebooks_typeset_gradients_and_hessians():
    """``_repr_latex_`` of every corpus gradient, of a Hessian and of a Jacobian is math that mathtext typesets."""
    parser = MathTextParser("path")
    shown = [_gradient(formula, wrt)[1]._repr_latex_() for formula, wrt, _ in HAND_FORMS]
    X = amd.var("X", (3, 3))
    H = amd.hessian(amd.trace(amd.parse("S*inv(X)", shapes={"S": (3, 3), "X": (3, 3)})), "X")
    shown += [H._repr_latex_(), amd.jacobian(amd.inv(X), "X")._repr_latex_()]
    for latex in shown:
        assert latex.startswith("$") and latex.endswith("$")
        parser.parse(latex)  # a ValueError on anything mathtext cannot typeset
    assert r"\boxtimes" in shown[-2] and r"\otimes" in shown[-1] and r"\operatorname{tr}" in \
        amd.trace(X)._repr_latex_()

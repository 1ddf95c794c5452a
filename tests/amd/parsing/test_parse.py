"""amd.parse: the dialects, precedence, shape inference and default typing, and every bad input.

Parsed formulas are compared with the same formula built through the Python API (hash-consing
makes equal expressions the same node) and with numpy evaluations of the definition.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoo import random

from kronbox import amd
from kronbox.amd import ParseError

rng = np.random.default_rng(7)
n = 4
X0 = random(rng, (n, n))
X0 = X0 @ X0.T + n * np.eye(n)
A0, B0, S0 = (random(rng, (n, n)) for _ in range(3))
x0, b0 = random(rng, (n, 1)), random(rng, (n, 1))
VALUES = {"X": X0, "A": A0, "B": B0, "S": S0, "x": x0, "y": b0, "a": 0.7, "b": 0.5}


@pytest.mark.parametrize(("text", "reference"), [
    ("X*A + B", X0 @ A0 + B0),
    ("X*A.*B", (X0 @ A0) * B0),                   # * and .* bind alike, left to right
    ("-X'", -X0.T),
    ("-X^2", -(X0 @ X0)),                          # ^ binds tighter than unary minus
    ("X^-1", np.linalg.inv(X0)),
    ("X^(1/2)*X^(1/2)", X0),
    ("X.^2", X0**2),
    ("2.*X", 2 * X0),                              # the number 2 and .*, not 2. and *
    ("2.5e-1*X", 0.25 * X0),
    ("A/X", A0 @ np.linalg.inv(X0)),               # MATLAB's right division
    ("1./X", 1 / X0),
    ("A./B", A0 / B0),
    ("X/2", X0 / 2),
    ("a^2", 0.49),
    ("A''", A0),
    ("A.'", A0.T),
    ("transpose(A)*B", A0.T @ B0),
    ("x'*A*x", x0.T @ A0 @ x0),
    ("norm2(A*x - y)^2", np.sum((A0 @ x0 - b0) ** 2)),
    ("norm2(A*x - b)^2", np.sum((A0 @ x0 - 0.5) ** 2)),  # b is a scalar by default
    ("norm1(A)", np.abs(A0).sum()),
    ("norm2(A)", np.linalg.norm(A0)),
    ("tr(A) + trace(B)", np.trace(A0) + np.trace(B0)),
    ("log(det(X))", np.linalg.slogdet(X0)[1]),
    ("logdet(X)", np.linalg.slogdet(X0)[1]),
    ("det(X)", np.linalg.det(X0)),
    ("sum(exp(A))", np.exp(A0).sum()),
    ("relu(A) - abs(A) + sign(A)", np.maximum(A0, 0) - np.abs(A0) + np.sign(A0)),
    ("sqrtm(X)*sqrtm(X)", X0),
    ("inv(I + X)", np.linalg.inv(np.eye(n) + X0)),
    ("eye*A + I", A0 + np.eye(n)),
    ("x'*vector(1)", x0.sum()),
    ("vector(2)'*A*vector(1)", 2 * A0.sum()),
    ("matrix(1) + A", A0 + 1),
    ("ones(size(A)) .* A", A0),
    ("zeros(4, 4) + A", A0),
    ("a*x'*x", 0.7 * (x0.T @ x0)),
    ("X - 2*I", X0 - 2 * np.eye(n)),
    ("sylvester(X, X, A)", None),
    ("(1+2i)*X - 3j*A", (1 + 2j) * X0 - 3j * A0),
    ("(a + b)*I + A", 1.2 * np.eye(n) + A0),
    ("vector(1)'*x", x0.sum()),
    ("(x'*y)*x", (x0.T @ b0).item() * x0),          # a 1×1 factor that does not fit as a matrix scales
    ("x'*y*A", (x0.T @ b0).item() * A0),
    ("A*(x'*y)", (x0.T @ b0).item() * A0),
])
def test_formulas_evaluate_to_their_definition(text, reference):
    e = amd.parse(text, {"A": (n, n)} if "vector(2)" in text else None)
    value = np.asarray(e.eval(VALUES))
    if reference is None:  # sylvester: check the equation it solves
        assert np.allclose(X0 @ value + value @ X0, A0)
    else:
        assert np.allclose(value, reference, rtol=1e-10, atol=1e-12)


def test_parsed_formulas_are_the_expressions_built_in_python():
    X, S = amd.var("X", (3, 3)), amd.var("S", (3, 3))
    shapes = {"X": (3, 3), "S": (3, 3)}
    assert amd.parse("-logdet(X) - trace(S*inv(X)) - norm2(inv(X))^2", shapes) is \
        -amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X))
    assert amd.parse("trace(S*X')", shapes) is amd.trace(S @ X.T)


def test_default_typing_by_first_letter_and_inferred_shapes():
    e = amd.parse("a*x'*A*y + trace(B)", default_size=5)
    shapes = {name: s.shape for name, s in e.symbols.items()}
    assert shapes["a"] == ()
    assert shapes["x"][1] == shapes["y"][1] == 1
    assert shapes["A"] == (shapes["x"][0], shapes["y"][0])
    assert shapes["B"][0] == shapes["B"][1]
    assert shapes["x"][0] != shapes["y"][0]       # open sizes stay distinct


def test_shapes_propagate_from_those_given():
    e = amd.parse("trace(S*inv(X)) + x'*X*x", {"X": np.eye(6)})
    assert e.symbols["S"].shape == (6, 6) and e.symbols["x"].shape == (6, 1)


def test_open_sizes_come_from_the_values():
    e = amd.parse("x'*A*x")
    for size in (2, 5):
        A, x = np.arange(size * size).reshape(size, size), np.ones((size, 1))
        assert np.isclose(np.asarray(e.eval(A=A, x=x)).item(), A.sum())


def test_a_gradient_before_any_value_is_bound():
    g = amd.grad(amd.parse("x'*A*x"), "x")
    assert np.allclose(g.eval(A=A0, x=x0), (A0 + A0.T) @ x0)
    G = amd.grad(amd.parse("trace(S*inv(X))"), "X")
    P = np.linalg.inv(X0)
    assert np.allclose(G.eval(S=S0, X=X0), -(P @ S0 @ P).T)


def test_the_printed_forms_of_the_engine_parse_back():
    X, S = amd.var("X", (3, 3)), amd.var("S", (3, 3))
    for e in (amd.grad(amd.trace(S @ amd.inv(X)), X), amd.grad(-amd.logdet(X) - amd.normsq(amd.inv(X)), X),
              amd.sylvester(X, X.T, S), amd.grad(amd.sum(amd.relu(X)), X), amd.grad(amd.trace(X @ X @ X), X)):
        assert amd.parse(amd.to_text(e), {"X": (3, 3), "S": (3, 3)}) is e


# -- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "column", "words"), [
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("trace(X))", 9, "closes nothing"),
    ("inv((X)", 4, "never closed"),
    ("X +", 4, "ends too early"),
    ("X * * Y", 5, "unexpected '*'"),
    ("foo(X)", 1, "unknown function 'foo'"),
    ("X $ Y", 3, "unexpected character '$'"),
    ("trace(X, Y)", 1, "takes 1 argument"),
    ("x*x", 2, "inner dimensions"),
    ("inv(x)", 1, "square"),
    ("A*B + x", 5, "shapes differ"),
    ("X^Y", 2, "exponent"),
    ("x^0.3", 2, "square"),
    ("dpowm(X, Y, X)", 1, "exponent p as a number"),
    ("diagm(X)", 1, "column vector"),
    ("sum(vector(1))", 5, "cannot be told"),
    ("size(X)", 1, "size(A) appears only"),
    ("eye(0)", 1, "positive whole number"),
    ("1 2", 3, "unexpected '2'"),
    ("sylvester(X, x, A)", 1, "B needs a square matrix, but x is n×1"),
    ("A/x", 2, "A/B = A*inv(B) needs a square matrix, but x is n×1"),
])
def test_bad_formulas_say_what_and_where(text, column, words):
    with pytest.raises(ParseError) as caught:
        amd.parse(text)
    error = caught.value
    assert words in error.message
    assert error.position + 1 == column
    assert f"column {column}" in str(error)
    line, caret = error.caret().splitlines()
    assert line == "  " + text and caret == "  " + " " * error.position + "^"


def test_shape_clash_with_given_shapes_names_both():
    with pytest.raises(ParseError, match="inner dimensions of the product differ: X is 3×3 and A is 4×4"):
        amd.parse("X*A", {"X": (3, 3), "A": (4, 4)})


def test_parse_needs_a_string():
    with pytest.raises(TypeError, match="string"):
        amd.parse(3)


def test_deep_nesting_is_read_without_recursion():
    depth = 3000
    e = amd.parse("(" * depth + "X" + ")" * depth + "+" + "-" * 2 + "X")
    assert np.allclose(e.eval(X=X0), 2 * X0)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="XAxab12.+-*/^'()., ijtrace", max_size=24))
def test_fuzz_only_the_parse_error_escapes(text):
    try:
        amd.parse(text)
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=16))
def test_fuzz_any_unicode(text):
    try:
        amd.parse(text)
    except ParseError:
        pass

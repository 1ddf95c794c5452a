"""Simplification and the printers: ``amd.simplify`` keeps the value of every expression of a corpus
(the AMD paper's examples, vector calculus, elementwise functions, powers, roots, determinants, norms),
of its gradient and of its Hessian, and never lengthens it; the required spellings; ``to_numpy``
source run against ``Expr.eval``; every ``to_latex`` output parsed by matplotlib's mathtext; random
expression trees (hypothesis)."""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient
from formula_corpus import FUNCTIONS, TREES, N, symbols, values
from hypothesis import given, settings
from matplotlib.mathtext import MathTextParser
from zoo import box_twin

from kronbox import amd
from kronbox.amd.evaluation.lazy_operator import to_operator
from kronbox.amd.expressions.expr import ones
from kronbox.amd.printing.tokens import token_count

# Functions of the vector x (gradients with respect to x), 1×1 where written with x'.
VECTOR_FUNCTIONS: dict[str, Callable[[dict], amd.Expr]] = {
    "x'Ax": lambda s: s["x"].T @ s["A"] @ s["x"],
    "x'x": lambda s: s["x"].T @ s["x"],
    "b'Ax": lambda s: s["b"].T @ s["A"] @ s["x"],
    "||Ax - b||²": lambda s: amd.normsq(s["A"] @ s["x"] - s["b"]),
    "logistic loss": lambda s: amd.sum(amd.log(1 + amd.exp(-s["y"] * (s["A"] @ s["x"])))),
    "x'Ax + b'x": lambda s: s["x"].T @ s["A"] @ s["x"] + s["b"].T @ s["x"],
    "sum exp(A x)": lambda s: amd.sum(amd.exp(s["A"] @ s["x"])),
}
# Matrix-valued expressions, to simplify as they are.
MATRICES: dict[str, Callable[[dict], amd.Expr]] = {
    "(A X B)' + B' X' A'": lambda s: (s["A"] @ s["X"] @ s["B"]).T + s["B"].T @ s["X"].T @ s["A"].T,
    "A' X' B'": lambda s: s["A"].T @ s["X"].T @ s["B"].T,
    "X' + X' - 2 X'": lambda s: s["X"].T + s["X"].T - 2 * s["X"].T + s["A"],
    "inv(X')' + inv(X)": lambda s: amd.inv(s["X"].T).T + amd.inv(s["X"]),
    "I X + 0": lambda s: amd.eye(N) @ s["X"] + amd.zeros((N, N)),
    "-(-A)": lambda s: operator.neg(-s["A"]),
    "2 (3 (A + B))' - 6 B'": lambda s: 2 * (3 * (s["A"] + s["B"])).T - 6 * s["B"].T,
    "a X + c X - a X": lambda s: s["a"] * s["X"] + s["c"] * s["X"] - s["a"] * s["X"],
    "exp(X') + exp(X)'": lambda s: amd.exp(s["X"].T) + amd.exp(s["X"]).T,
    "(X A) .* (2 B)'": lambda s: (s["X"] @ s["A"]) * (2 * s["B"]).T,
    "sqrtm(X') - sqrtm(X)'": lambda s: amd.sqrtm(s["X"].T) - amd.sqrtm(s["X"]).T + s["B"],
    "sylvester(A', B', C')'": lambda s: amd.sylvester(s["X"].T, s["S"].T, s["A"].T).T,
    "(A + B)(A - B) + B A": lambda s: (s["A"] + s["B"]) @ (s["A"] - s["B"]) + s["B"] @ s["A"],
    "trace(A) A' + trace(A') A'": lambda s: amd.trace(s["A"]) * s["A"].T + amd.trace(s["A"].T) * s["A"].T,
    "A x x' (1 + 2)": lambda s: s["A"] @ s["x"] @ s["x"].T * (amd.trace(s["A"]) * 0 + 3),
    "A ones(n, 1) ones(1, 1)": lambda s: s["A"] @ ones((N, 1)) @ ones((1, 1)) + s["x"],
    "complex coefficients": lambda s: (0.5 + 1j) * s["X"] + s["A"].T + (0.5 - 1j) * s["X"] + 1j * s["A"].T,
}


def corpus(shaped: bool = True) -> dict[str, amd.Expr]:
    """Every corpus expression with its gradient (and the Hessian's action on a direction)."""
    s = symbols(shaped)
    out = {}
    for name, build in FUNCTIONS.items():
        f = build(s)
        out[name] = f
        out[f"grad {name}"] = amd.grad(f, "X")
    for name, build in VECTOR_FUNCTIONS.items():
        f = build(s)
        out[name] = f
        if shaped:  # a 1×1 function needs known shapes for its gradient
            out[f"grad {name}"] = amd.grad(f, "x")
    out.update({name: build(s) for name, build in MATRICES.items()})
    return out


SHAPED = corpus()
UNSHAPED = corpus(shaped=False)
KEYS = [(name, True) for name in sorted(SHAPED)] + [(name, False) for name in sorted(UNSHAPED)]


def cases(keys) -> list:
    return [pytest.param(name, shaped, id=f"{name} ({'shaped' if shaped else 'shapes from the values'})")
            for name, shaped in keys]


def assert_same_value(e: amd.Expr, other: amd.Expr, seed: int = 0) -> None:
    v = values(seed)
    np.testing.assert_allclose(other.eval(v), e.eval(v), rtol=1e-10, atol=1e-12, err_msg=f"{e}  →  {other}")


def test_the_corpus_is_large():
    assert len(FUNCTIONS) + len(VECTOR_FUNCTIONS) + len(MATRICES) >= 40
    # and its members are what their names say: finite values of the declared shapes, and gradients
    # that are the derivatives (central differences of the function's value)
    v = values(0)
    for name, e in SHAPED.items():
        value = np.asarray(e.eval(v))
        assert value.shape == e.shape and np.all(np.isfinite(value)), name
    for name in (*FUNCTIONS, *VECTOR_FUNCTIONS):
        wrt = "X" if name in FUNCTIONS else "x"
        f = SHAPED[name]
        expected = fd_gradient(lambda W, f=f, wrt=wrt: float(np.asarray(f.eval({**v, wrt: W})).item()), v[wrt])
        assert_close(SHAPED[f"grad {name}"].eval(v), expected, 1e-6, f"grad {name}")


@pytest.mark.parametrize("name", sorted(SHAPED))
def test_simplify_keeps_the_value_and_never_lengthens(name):
    e = SHAPED[name]
    s = amd.simplify(e)
    for seed in (0, 1):
        assert_same_value(e, s, seed)
    assert token_count(amd.to_text(s)) <= token_count(amd.to_text(e))
    assert amd.simplify(s) is s  # the result is its own simplification


@pytest.mark.parametrize("name", sorted(UNSHAPED))
def test_simplify_with_shapes_from_the_values(name):
    e = UNSHAPED[name]
    s = amd.simplify(e)
    assert_same_value(e, s)
    assert token_count(amd.to_text(s)) <= token_count(amd.to_text(e))


REQUIRED = {
    "grad logdet X": "inv(X)'",
    "grad trace(S inv X)": "-(inv(X)*S*inv(X))'",
    "grad trace(A X B X)": "(A*X*B + B*X*A)'",
    "grad trace(X X)": "2*X'",
    "grad x'Ax": "(A + A')*x",
}


@pytest.mark.parametrize(("name", "shaped"), cases((name, shaped) for name, shaped in KEYS if name in REQUIRED))
def test_required_spellings(name, shaped):
    assert amd.to_text(amd.simplify((SHAPED if shaped else UNSHAPED)[name])) == REQUIRED[name]


def test_simplify_rules_one_at_a_time():
    s = symbols()
    X, A, B, a, c = s["X"], s["A"], s["B"], s["a"], s["c"]
    cases = {
        "X'' ": (X.T.T, "X"),
        "I X + 0": (amd.eye(N) @ X + amd.zeros((N, N)), "X"),
        "-(-A)": (operator.neg(-A), "A"),
        "X' + X'": (X.T + X.T, "2*X'"),
        "a T + c T": (a * (A @ X) + c * (A @ X), "(a + c)*A*X"),
        "cancelling": (A + X.T - X.T, "A"),
        "(A X)' - X' A'": (B + (A @ X).T - X.T @ A.T, "B"),
        "numbers folded": (2 * (3 * X) + 4 * X, "10*X"),
        "scalar to the front": ((A @ (2 * X)) @ (a * B), "2*a*A*X*B"),
        "trace of a transpose": (amd.trace(A.T @ X.T), "trace(X*A)"),
        "inv of a transpose": (amd.inv(X.T), "inv(X)'"),
        "common scalar": (amd.trace(X) * A + amd.trace(X) * B + amd.trace(X) * X, "trace(X)*(A + B + X)"),
        "sign of a factor sum": (A @ (-X - B) @ A, "-A*(B + X)*A"),
    }
    for what, (e, printed) in cases.items():
        out = amd.simplify(e)
        assert amd.to_text(out) == printed, what
        assert_same_value(e, out)


def test_simplify_of_a_hessian_keeps_the_operator():
    s = symbols()
    for name, build in FUNCTIONS.items():
        H = amd.hessian(build(s), "X")
        simplified = amd.simplify_map(H.map)
        v = values(3)
        np.testing.assert_allclose(to_operator(simplified, v).to_dense(), H.at(v).to_dense(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
        assert token_count(amd.map_text(simplified)) <= token_count(amd.map_text(H.map)), name


def test_simplified_hessian_of_trace_s_inv_x():
    s = symbols()
    H = amd.hessian(amd.trace(s["S"] @ amd.inv(s["X"])), "X")
    simplified = amd.simplify_map(H.map)
    assert str(simplified) == "(inv(X)' ⊠ inv(X)*S*inv(X)) + ((inv(X)*S*inv(X))' ⊠ inv(X))"
    # the printed map is the Hessian: column k is vec((P E_k P S P + P S P E_k P)ᵀ), P = X⁻¹, by numpy
    v = values(4)
    P, S = np.linalg.inv(v["X"]), v["S"]
    PSP = P @ S @ P
    dense = np.column_stack([(P @ E @ PSP + PSP @ E @ P).T.ravel()
                             for E in np.eye(N * N).reshape(N * N, N, N)])
    assert_close(box_twin(P.T, PSP) + box_twin(PSP.T, P), dense, 1e-12, "the printed formula")
    assert_close(to_operator(simplified, v).to_dense(), dense, 1e-12, "the simplified Hessian")


def test_simplify_is_iterative_on_deep_expressions():
    X, A = amd.var("X", (N, N)), amd.var("A", (N, N))
    e = X
    for i in range(3000):
        e = (e.T + A) if i % 3 == 0 else (-(A @ e) if i % 3 == 1 else 0.5 * e)
    s = amd.simplify(e)
    assert_same_value(e, s)
    sums = X
    for _ in range(2000):
        sums = sums + X.T
    assert amd.to_text(amd.simplify(sums)) == "X + 2000*X'"


def _parseable(e: amd.Expr) -> bool:
    """Whether the text of ``e`` says all the parser needs: "I" alone does not say its size, and the
    parser reads no complex numbers."""
    return all(n.kind != "eye" and not isinstance(n.param, complex) for n in e.nodes())


@pytest.mark.parametrize("name", sorted(name for name, e in SHAPED.items() if _parseable(amd.simplify(e))))
def test_simplified_text_parses_back(name):
    e = SHAPED[name]
    text = amd.to_text(amd.simplify(e))
    v = values(7)
    parsed = amd.parse(text, shapes={k: v[k] for k in e.symbols}, result_shape=e.shape)
    np.testing.assert_allclose(parsed.eval(v), e.eval(v), rtol=1e-10, atol=1e-12, err_msg=text)


# -- random expression trees ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(TREES)
def test_simplify_keeps_the_value_of_random_trees(e):
    s = amd.simplify(e)
    assert_same_value(e, s)
    assert token_count(amd.to_text(s)) <= token_count(amd.to_text(e))


# -- numpy source ------------------------------------------------------------------------------------
def _run(source: str, name: str = "f"):
    scope: dict = {}
    exec(compile(source, "<to_numpy>", "exec"), scope)  # the source under test
    return scope[name]


@pytest.mark.parametrize(("name", "shaped"), cases(KEYS))
def test_numpy_source_computes_the_expression(name, shaped):
    e = (SHAPED if shaped else UNSHAPED)[name]
    v = values(5)
    for printed in (e, amd.simplify(e)):
        f = _run(amd.to_numpy(printed))
        arguments = sorted(printed.symbols)
        result = f(*(v[k] for k in arguments))
        if e.shape == ():
            assert type(result) is float
        np.testing.assert_allclose(result, e.eval(v), rtol=1e-10, atol=1e-12, err_msg=amd.to_numpy(printed))


def test_numpy_source_assigns_shared_work_once():
    X = amd.var("X", (N, N))
    e = amd.trace(amd.inv(X) @ amd.inv(X)) + amd.logdet(X)
    source = amd.to_numpy(e, name="objective")
    assert source.count("np.linalg.inv(") == 1
    assert "def objective(X):" in source
    v = values(6)
    assert _run(source, "objective")(v["X"]) == pytest.approx(e.eval(v), rel=1e-12)


def test_numpy_source_of_a_deep_expression_compiles():
    X, A = amd.var("X", (N, N)), amd.var("A", (N, N))
    e = X
    for i in range(600):
        e = amd.tanh(e) @ A if i % 2 else -(e.T + X)
    v = values(8)
    np.testing.assert_allclose(_run(amd.to_numpy(e))(v["A"], v["X"]), e.eval(v), rtol=1e-10, atol=1e-12)


def test_numpy_source_refuses_names_python_cannot_take():
    with pytest.raises(ValueError, match="'lambda'"):
        amd.to_numpy(amd.trace(amd.var("lambda", (2, 2))))
    with pytest.raises(ValueError, match="size of an identity"):
        amd.to_numpy(amd.var("X") + amd.eye())


# -- LaTeX ---------------------------------------------------------------------------------------------
MATHTEXT = MathTextParser("path")


def assert_renders(latex: str) -> None:
    MATHTEXT.parse(f"${latex}$")  # raises ValueError on anything mathtext cannot typeset


def test_mathtext_refuses_bad_latex():  # the check below can fail
    for bad in (r"X^{2}^{\top}", r"\notamacro", r"\frac{A}"):
        with pytest.raises(ValueError):
            assert_renders(bad)


@pytest.mark.parametrize(("name", "shaped"), cases(KEYS))
def test_latex_renders(name, shaped):
    e = (SHAPED if shaped else UNSHAPED)[name]
    for printed in (amd.to_latex(e), amd.to_format(e, "latex")):
        assert_renders(printed)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_latex_of_hessians_renders(name):
    H = amd.hessian(FUNCTIONS[name](symbols()), "X").map
    for printed in (amd.map_latex(H), amd.to_format(H, "latex")):
        assert_renders(printed)


def test_latex_notation():
    s = symbols()
    X, S = s["X"], s["S"]
    assert amd.to_latex(amd.inv(X).T) == r"X^{-\top}"
    assert amd.to_latex(amd.trace(S @ amd.inv(X))) == r"\operatorname{tr}(S X^{-1})"
    assert amd.to_latex(amd.normsq(X)) == r"\|X\|_F^2"
    assert amd.to_latex((X @ X).T) == r"(X X)^{\top}"
    assert amd.to_latex((X ** 2).T) == r"(X^{2})^{\top}"
    assert amd.to_latex(X * S) == r"X \circ S"
    names = {"Sigma": r"\Sigma", "x_1": "x_{1}", "C12": "C_{12}", "theta0": r"\theta_{0}", "data": r"\mathrm{data}"}
    for name, latex in names.items():
        assert amd.to_latex(amd.var(name, (2, 2))) == latex
        assert_renders(latex)


# -- dispatch ------------------------------------------------------------------------------------------
def test_to_format_dispatches_and_simplifies():
    X = amd.var("X", (N, N))
    g = amd.grad(amd.trace(X @ X), "X")
    assert amd.to_format(g) == "2*X'"
    assert amd.to_format(g, "amd", simplify=False) == amd.to_text(g) == g.to_format(simplify=False) == "X' + X'"
    assert str(g) == g.to_format() == "2*X'"  # str() is the readable, simplified form (issue 14, item 11)
    assert amd.to_format(g, "latex") == r"2 X^{\top}"
    assert "return 2.0 * X.T" in amd.to_format(g, "numpy")
    assert amd.to_format(amd.jacobian(amd.inv(X), "X").map, "amd") == "-(inv(X) ⊗ inv(X)')"
    with pytest.raises(ValueError, match="'amd', 'latex', 'numpy'"):
        amd.to_format(g, "mathml")
    with pytest.raises(ValueError, match="linear map"):
        amd.to_format(amd.jacobian(amd.inv(X), "X").map, "numpy")


# -- str() is the readable form (issue 14, item 11) ---------------------------------------------------
@pytest.mark.parametrize("formula", ["x'*A*x", "norm1(X)", "trace(X*X)", "sum(abs(x))", "norm1(A*x - y)",
                                     "trace(S*inv(X))", "x'*x", "sum(relu(X))", "a*trace(X) + trace(X)"])
def test_str_is_the_simplified_form_and_the_raw_form_is_on_request(formula):
    wrt = "X" if "X" in formula else "x"
    g = amd.grad(amd.parse(formula), wrt)
    assert str(g) == amd.to_format(g) == g.to_format()
    assert amd.to_text(g) == g.to_format(simplify=False) == amd.to_format(g, simplify=False)
    assert "ones(" not in str(g) and token_count(str(g)) <= token_count(amd.to_text(g))
    rng = np.random.default_rng(0)
    values = {"x": rng.standard_normal((4, 1)), "A": rng.standard_normal((4, 4)), "X": rng.standard_normal((4, 4)),
              "S": rng.standard_normal((4, 4)), "y": rng.standard_normal((4, 1)), "a": 0.7}
    values["X"] = values["X"] @ values["X"].T + 4 * np.eye(4)
    used = {k: v for k, v in values.items() if k in g.symbols}
    shapes = {k: np.shape(v) for k, v in used.items()}
    again = amd.parse(str(g), shapes, result_shape=np.shape(values[wrt])).eval(used)
    assert np.allclose(again, g.eval(used))


def test_the_gradient_of_norm1_prints_as_sign():
    assert str(amd.grad(amd.parse("norm1(X)"), "X")) == "sign(X)"
    assert str(amd.grad(amd.parse("norm1(x)"), "x")) == "sign(x)"


def test_str_of_the_readme_example_is_readable():
    assert str(amd.grad(amd.parse("x'*A*x"), "x")) == "(A + A')*x"


@pytest.mark.parametrize(("formula", "wrt"), [("x'*A*x", "x"), ("trace(S*inv(X))", "X"), ("sum(log(x))", "x"),
                                              ("logdet(X)", "X")])
def test_str_of_a_linear_map_is_the_simplified_form(formula, wrt):
    H = amd.hessian(amd.parse(formula), wrt)
    assert str(H.map) == str(H) == amd.to_format(H.map)
    assert "ones(size(" not in str(H.map) and token_count(str(H.map)) <= token_count(amd.map_text(H.map))

"""The calculator end to end: a corpus of formulas (the AMD calculator's examples, matrixcalculus.org's,
the lecture notes'), each parsed, differentiated, checked against finite differences and the complex
step, printed in every format, and the printed result run again: the AMD text parsed back (the
Kron/Box notation of Jacobians and Hessians too), the NumPy source executed, the LaTeX typeset by
matplotlib's mathtext.
"""

import inspect

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient, fd_hessian, fd_jacobian
from matplotlib.mathtext import MathTextParser

from kronbox import amd, check
from kronbox.commands.diff import derive, run_checks

# (formula, variable or None for the default)
GRADIENTS = [
    # the AMD calculator
    ("logdet(X)", None), ("trace(S*inv(X))", None), ("trace(A*X*B*X)", None), ("trace(X*X)", None),
    ("trace(inv(I + X)*X'*X)", None), ("-logdet(X) - trace(S*inv(X)) - norm2(inv(X))^2", None),
    ("det(X)", None), ("trace(X)", None), ("trace(A*X)", None), ("trace(A*X')", None), ("trace(X'*A*X)", None),
    ("trace(X^3)", None), ("trace(X^-1)", None), ("logdet(X'*X + I)", None), ("trace(A*inv(X)*B)", None),
    ("det(A*X*B)", None), ("trace(sqrtm(X))", None), ("norm2(X)^2", None), ("norm2(X)", None), ("sum(X)", None),
    ("sum(X.*X)", None), ("sum(exp(X))", None), ("sum(log(X.*X + 1))", None), ("trace(X*A*X')", None),
    ("logdet(A*A' + X)", None), ("log(det(X))", None), ("trace(X'*X)", None), ("norm2(X - A*B)^2", None),
    ("trace(X*A)*trace(X*B)", None), ("trace(X)^2", None), ("det(X)^2", None), ("logdet(X)^2", None),
    ("x'*inv(X)*x", "X"), ("trace(inv(X)*A*inv(X))", None), ("trace(X.*A)", None), ("sum(X*A)", None),
    ("trace(A*X^2)", None), ("trace(X*inv(A*A' + I)*X')", None), ("tr(X*X')", None), ("trace(inv(X))", None),
    ("sum(sin(X).*cos(X))", None), ("sum(tanh(A*X))", None), ("norm1(X)", None), ("sum(abs(X - A))", None),
    ("trace(X^-2)", None), ("logdet(X) - trace(S*X)", None), ("sum(sqrt(X.*X + 1))", None),
    ("sum(X.^3)", None), ("trace(X./(A.*A + 1))", None),
    # matrixcalculus.org
    ("x'*A*x", "x"), ("norm2(A*x - y)^2", "x"), ("x'*x", "x"), ("a*x'*x", "x"), ("exp(x)'*vector(1)", "x"),
    ("norm1(x)", "x"), ("sin(x)'*cos(x)", "x"), ("tanh(A*x)'*y", "x"), ("norm2(x)^2 + a*norm2(x)", "x"),
    ("x'*A'*A*x", "x"), ("(x - y)'*A*(x - y)", "x"), ("relu(x)'*y", "x"), ("abs(x)'*vector(1)", "x"),
    ("sum(x.^3)", "x"), ("x'*A*y", "x"), ("y'*log(vector(1) + exp(A*w))", "w"), ("(x'*A*x)*(y'*x)", "x"),
    # the lecture notes
    ("sum(S.*X) - logdet(X)", None), ("sum(log(vector(1) + exp(-y.*(A*w))))", "w"),
    ("norm2(A*X*B' - C)^2", None), ("trace(S*inv(X)) + logdet(X)", None), ("a*x'*x + b*norm2(A*x - y)^2", "x"),
]

JACOBIANS = [
    ("inv(X)", None), ("X*X", None), ("A*X*B", None), ("X'", None), ("sqrtm(X)", None), ("X^3", None),
    ("exp(X)", None), ("X.*X", None), ("A*x", "x"), ("inv(X)'", None), ("X*A*X'", None), ("X.^2 + sin(X)", None),
    ("(x'*y).*x", "x"), ("(x'*y).*A", "A"), ("A*tanh(x)", "x"),
]

HESSIANS = [
    ("logdet(X)", None), ("trace(S*inv(X))", None), ("-logdet(X) - trace(S*inv(X)) - norm2(inv(X))^2", None),
    ("trace(A*X*B*X)", None), ("x'*A*x", "x"), ("sum(log(vector(1) + exp(-y.*(A*w))))", "w"),
    ("norm2(A*X*B' - C)^2", None), ("trace(X^3)", None),
]

_MATHTEXT = MathTextParser("path")


def _values(d):
    return check.random_values(d.function, seed=3)


def _run_numpy(source: str, name: str, values: dict):
    """Execute the printed source and call the function ``name`` with the values its parameters name."""
    namespace: dict = {}
    exec(source, namespace)
    function = namespace[name]
    return function(*(values[p] for p in inspect.signature(function).parameters))


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-11 * max(1.0, np.abs(b).max(initial=0)))


def test_the_corpus_is_large():
    assert len(GRADIENTS) + len(JACOBIANS) + len(HESSIANS) >= 60
    # counted as parsed (equal expressions are one node), not as spelled: log(det(X)) is logdet(X)
    corpus = [(t, w, "gradient") for t, w in GRADIENTS] + [(t, w, "jacobian") for t, w in JACOBIANS] + \
        [(t, w, "hessian") for t, w in HESSIANS]
    distinct = set()
    for text, wrt, kind in corpus:
        d = derive(text, wrt, kind)
        distinct.add((d.function, d.wrt, d.kind))
    assert len(distinct) >= 60


@pytest.mark.parametrize(("text", "wrt"), GRADIENTS)
def test_gradients(text, wrt):
    d = derive(text, wrt)
    assert d.kind == "gradient"
    assert run_checks(d, seed=3), d.checks
    values = _values(d)
    reference = np.asarray(d.derivative.eval(values), dtype=float)
    # central differences written here, not kronbox.check's
    name = d.wrt.name
    expected = fd_gradient(lambda W: float(np.asarray(d.function.eval({**values, name: W})).item()), values[name])
    assert_close(reference, expected, 1e-6, text)
    printed = amd.to_format(d.derivative, "amd")
    shapes = {name: np.shape(v) for name, v in values.items()}
    assert _close(amd.parse(printed, shapes, result_shape=d.wrt.shape).eval(values), reference), printed
    assert _close(_run_numpy(d.text("numpy")[1], "gradient", values), reference)
    for fmt in ("amd", "latex", "numpy"):
        function, derivative = d.text(fmt)
        assert function and derivative
    _MATHTEXT.parse("$" + d.text("latex")[1] + "$")


@pytest.mark.parametrize(("text", "wrt", "kind"), [(t, w, "jacobian") for t, w in JACOBIANS] +
                         [(t, w, "hessian") for t, w in HESSIANS])
def test_operators(text, wrt, kind):
    d = derive(text, wrt, kind)
    assert d.kind == kind
    assert run_checks(d, seed=3), d.checks
    values = _values(d)
    derivative = (amd.hessian if kind == "hessian" else amd.jacobian)(d.function, d.wrt).at(values)
    rng = np.random.default_rng(5)
    V = rng.standard_normal(d.wrt.shape)
    applied = _run_numpy(d.text("numpy")[1], f"{kind}_apply", {**values, f"d{d.wrt.name}": V})
    assert _close(np.ravel(applied), derivative @ V.ravel())
    # the dense derivative by central differences written here, not kronbox.check's
    name = d.wrt.name
    value = (lambda W: float(np.asarray(d.function.eval({**values, name: W})).item())) if kind == "hessian" \
        else (lambda W: np.asarray(d.function.eval({**values, name: W}), dtype=float))
    dense = (fd_hessian if kind == "hessian" else fd_jacobian)(value, values[name])
    assert_close(derivative @ V.ravel(), dense @ V.ravel(), 1e-5, text)
    text_form, latex_form = d.text("amd")[1], d.text("latex")[1]
    out_shape = d.wrt.shape if kind == "hessian" else d.function.shape
    shapes = {k: np.shape(v) for k, v in values.items()}
    on_columns = d.wrt.shape[1] == 1 and out_shape[1:] in ((), (1,))
    if on_columns and not any(symbol in text_form for symbol in ("⊗", "⊠", "vec(", "diag(")):
        # on column vectors the derivative prints as the matrix it multiplies them by: that formula is
        # the dense Jacobian itself
        matrix = np.asarray(amd.parse(text_form, shapes).eval(values), dtype=float)
        assert_close(matrix.reshape(dense.shape), dense, 1e-5, text_form)
    parsed = amd.parse_map(text_form, shapes, in_shape=d.wrt.shape, out_shape=out_shape)
    assert _close(parsed.at(values) @ V.ravel(), derivative @ V.ravel()), text_form
    _MATHTEXT.parse("$" + latex_form + "$")


@pytest.mark.parametrize(("text", "expected"), [
    ("logdet(X)", "inv(X)'"),
    ("trace(X*X)", "2*X'"),
])
def test_the_amd_calculator_prints_as_short_as_amd(text, expected):
    assert d_text(text) == expected


@pytest.mark.parametrize(("text", "amd_output"), [
    ("trace(S*inv(X))", "(-(inv(X)*(S*inv(X))))'"),
    ("trace(A*X*B*X)", "(B*X*A)' + (A*X*B)'"),
])
def test_no_longer_than_amd(text, amd_output):
    assert len(d_text(text).replace(" ", "")) <= len(amd_output.replace(" ", ""))


def d_text(text: str) -> str:
    return derive(text).text("amd")[1]

"""Gradients of formulas typed without shapes whose value is 1×1 for every size (issue 14, item 15):
a quotient, inverse, power or root of 1×1 products such as ``(x'*A*x)/(x'*x)`` is a scalar function,
and ``amd.grad`` must conclude so without being told the sizes. Checked against central differences
of the same formula written in numpy."""

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient

from kronbox import amd

rng = np.random.default_rng(14)
A, B, C = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((4, 4))
y = rng.standard_normal((4, 1))


def scalar(M) -> float:
    return float(np.asarray(M).item())


CASES = [  # (formula, the same function of x in numpy, other values)
    ("((A*x)'*(A*x))/((B*x)'*(B*x))", lambda x: scalar((A @ x).T @ (A @ x) / ((B @ x).T @ (B @ x))), {"A": A, "B": B}),
    ("(x'*C*x)/(x'*x)", lambda x: scalar(x.T @ C @ x / (x.T @ x)), {"C": C}),
    ("inv(x'*x)*(x'*C*x)", lambda x: scalar(x.T @ C @ x / (x.T @ x)), {"C": C}),
    ("(x'*x)^3", lambda x: scalar(x.T @ x) ** 3, {}),
    ("(x'*x)^-1", lambda x: 1 / scalar(x.T @ x), {}),
    ("sqrtm(x'*x)*(y'*x)", lambda x: np.sqrt(scalar(x.T @ x)) * scalar(y.T @ x), {"y": y}),
    ("logdet(x'*x) + det(y'*x)", lambda x: np.log(scalar(x.T @ x)) + scalar(y.T @ x), {"y": y}),
    ("trace(inv(x'*D*x))", lambda x: 1 / scalar(x.T @ (C + 5 * np.eye(4)) @ x), {"D": C + 5 * np.eye(4)}),
]


@pytest.mark.parametrize(("formula", "reference", "others"), CASES)
def test_gradient_of_a_formula_that_is_1x1_for_every_size(formula, reference, others):
    f = amd.parse(formula)  # no shapes given: x, A, B, C, y have open sizes
    g = amd.grad(f, "x")
    x = rng.uniform(0.5, 1.5, (4, 1))
    values = {**others, "x": x}
    assert_close(np.asarray(g.eval(values)), fd_gradient(reference, x), 1e-6, formula)
    again = amd.parse(str(g), {k: np.shape(v) for k, v in values.items() if k in g.symbols}, result_shape=(4, 1))
    assert_close(np.asarray(again.eval(values)), fd_gradient(reference, x), 1e-6, f"{formula}, printed")


def test_a_formula_whose_shape_the_text_leaves_open_is_still_refused():
    with pytest.raises(amd.ShapeError, match="not known"):
        amd.grad(amd.parse("sum(A*x)*inv(B)"), "x")

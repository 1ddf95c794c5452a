"""``kronbox diff --check`` draws its random point in the domain of every function of the formula
(issue 14, item 4): positive entries for log, sqrt and fractional powers, symmetric positive
definite matrices for logdet and sqrtm, small entries for tan, entries away from the kinks of abs,
relu and sign. A point where the formula is not finite is reported as skipped, never as a failure;
nothing is written to stderr (no RuntimeWarning, no source path)."""

import json

import numpy as np
import pytest
from command import kronbox

from kronbox import amd, check

RESTRICTED = [
    ("sum(log(x))", ()), ("sum(sqrt(x))", ()), ("sum(log(X))", ()), ("sum(x.^1.5)", ()), ("sum(x.^-0.5)", ()),
    ("sum(sqrt(A*x))", ("--wrt", "x")), ("logdet(X) + sum(log(X))", ()), ("trace(sqrtm(X))", ()),
    ("sum(tan(x))", ()), ("sum(abs(x))", ()), ("sum(relu(A*x))", ("--wrt", "x")), ("norm1(X)", ()),
    ("norm2(x)", ()), ("sum(x./y)", ("--wrt", "y")), ("log(x)", ()), ("sqrt(X)", ()),
    ("sum(log(x))", ("--hessian",)), ("trace(sqrtm(X))", ("--hessian",)), ("sum(arcsin(x))", ()),
    ("sum(arccos(A*x))", ("--wrt", "x")), ("arcsin(X)", ()), ("sum(arcsin(x))", ("--hessian",)),
]


@pytest.mark.parametrize(("formula", "options"), RESTRICTED)
def test_check_of_a_correct_derivative_on_a_restricted_domain_passes(formula, options):
    result = kronbox("diff", formula, "--check", "--json", *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["passed"] and all(c["passed"] for c in report["checks"]), report


@pytest.mark.parametrize("formula", ["1e400*trace(X)", "sum(log(x))/0", "NaN*sum(x)", "sum(log(-exp(x)))"])
def test_a_formula_that_is_not_finite_at_any_point_is_skipped_not_failed(formula):
    result = kronbox("diff", formula, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout and "skipped" in result.stdout
    assert result.stderr == ""
    report = json.loads(kronbox("diff", formula, "--check", "--json").stdout)
    assert report["checks"][0]["passed"] is None and report["checks"][0]["skipped"]


def test_random_values_lie_in_the_domain():
    e = amd.parse("sum(log(x)) + sum(sqrt(A*y)) + sum(tan(z)) + sum(abs(w)) + logdet(X) + sum(v.^0.5) "
                  "+ sum(arcsin(u)) + sum(arccos(B*t))", default_size=5)
    for seed in range(20):
        values = check.random_values(e, seed)
        assert check.domain_problem(e, values) is None
        assert (values["x"] > 0).all() and (values["v"] > 0).all()
        assert (values["A"] @ values["y"] > 0).all()
        assert (np.abs(values["z"]) < np.pi / 2).all() and (np.abs(values["w"]) > 1e-3).all()
        assert np.linalg.eigvalsh(values["X"]).min() > 0
        assert (np.abs(values["u"]) < 1).all() and (np.abs(values["B"] @ values["t"]) < 1).all()
        assert np.isfinite(e.eval(values))


def test_domain_problem_names_what_is_wrong():
    e = amd.parse("sum(log(x))", {"x": (3, 1)})
    assert "positive" in check.domain_problem(e, {"x": np.array([[1.0], [-1.0], [2.0]])})
    e = amd.parse("logdet(X)", {"X": (2, 2)})
    assert "determinant" in check.domain_problem(e, {"X": np.diag([-1.0, 1.0])})
    e = amd.parse("sum(abs(x))", {"x": (2, 1)})
    assert "kink" in check.domain_problem(e, {"x": np.array([[0.0], [1.0]])})
    assert check.domain_problem(e, {"x": np.array([[0.5], [1.0]])}) is None
    e = amd.parse("sum(arcsin(x))", {"x": (2, 1)})
    assert "(-1, 1)" in check.domain_problem(e, {"x": np.array([[0.5], [1.0]])})

"""Constant folding follows IEEE arithmetic (issue 14, items 2 and 3): folding never changes a value.

Every fold of numbers in the smart constructors is compared with numpy's float64 arithmetic on the
same numbers, over a grid of special values (zeros, huge, tiny, inf, nan); the printed form must
print without an error and read back to the same number. ``0 * X`` for an expression ``X`` is a
*symbolic* simplification (documented in the calculator's docs), never applied to literals that
are inf or nan.
"""

import itertools
import json

import numpy as np
import pytest
from command import kronbox

from kronbox import amd

SPECIAL = ["0", "1", "2.5", "1e308", "1e-320", "1e400", "Inf", "NaN"]
SPECIAL_VALUES = {"0": 0.0, "1": 1.0, "2.5": 2.5, "1e308": 1e308, "1e-320": 1e-320, "1e400": np.inf,
                  "Inf": np.inf, "NaN": np.nan}
OPERATIONS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}


def same(a, b) -> bool:
    a, b = complex(a), complex(b)
    return all((x == y) or (np.isnan(x) and np.isnan(y)) for x, y in ((a.real, b.real), (a.imag, b.imag)))


def reference(op, *xs):
    with np.errstate(all="ignore"):
        return op(*map(np.float64, xs))


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("left, right", list(itertools.product(SPECIAL, repeat=2)))
def test_folding_of_two_numbers_is_ieee(op, left, right):
    for sign in ("", "-"):
        text = f"{sign}{left} {op} {right}" if op != "^" else f"({sign}{left}) ^ {right}"
        e = amd.parse(text)
        x = -SPECIAL_VALUES[left] if sign else SPECIAL_VALUES[left]
        expected = reference(OPERATIONS[op], x, SPECIAL_VALUES[right])
        assert same(e.eval(), expected), (text, e.eval(), expected)
        printed = str(e)  # prints (no OverflowError, no ValueError) ...
        assert same(amd.parse(printed).eval(), expected), (text, printed)  # ... and reads back


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sign", "relu"])
@pytest.mark.parametrize("x", ["0", "-1", "1e308", "-Inf", "Inf", "NaN"])
def test_folding_of_functions_is_ieee(name, x):
    e = amd.parse(f"{name}({x})")
    value = -np.inf if x == "-Inf" else float(x) if x[-1].isdigit() else SPECIAL_VALUES[x]
    numpy_f = {"relu": lambda v: np.maximum(v, 0)}.get(name, getattr(np, name, None))
    assert same(e.eval(), reference(numpy_f, value))
    assert same(amd.parse(str(e)).eval(), e.eval())


def test_zero_over_zero_is_nan_and_not_zero():
    assert np.isnan(amd.parse("0/0").eval())
    assert np.isnan(amd.parse("0*1e400").eval())
    e = amd.parse("trace(X)*0/0")
    assert str(e) != "0"
    with np.errstate(all="ignore"):
        assert np.isnan(e.eval(X=np.eye(3)))


def test_zero_times_an_expression_is_symbolic_but_never_swallows_inf_or_nan():
    X = np.eye(2)
    assert amd.parse("0*trace(X)").eval(X=X) == 0  # symbolic: 0 · X = 0 for finite X (documented)
    for text in ("0*(Inf*X)", "0*(NaN*X)", "(Inf*X)*0", "0*(X + Inf)", "X/Inf*0 + 0*(NaN*X)"):
        with np.errstate(all="ignore"):
            value = np.asarray(amd.parse(text).eval(X=X))
        assert np.isnan(value).all(), (text, value)


def test_matrix_power_with_an_infinite_exponent_is_a_clear_error():
    with pytest.raises(amd.ParseError, match="exponent of a matrix power is a finite number"):
        amd.parse("X^Inf")


@pytest.mark.parametrize("formula", ["1e400*trace(X)", "1e308*10*trace(X)", "trace(X)*(-1e400)", "0*1e400*trace(X)",
                                     "trace(X)*0/0 + trace(X)", "trace(X)/0"])
@pytest.mark.parametrize("options", [(), ("--json",), ("--format", "latex"), ("--format", "numpy"), ("--hessian",)])
def test_cli_with_huge_and_undefined_constants(formula, options):
    result = kronbox("diff", formula, *options)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr.split(":")[0]
    if "--json" in options:
        json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    if result.returncode == 0:
        assert "Derivative:" in result.stdout or "--json" in options

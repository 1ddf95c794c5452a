"""Formulas nested thousands of levels deep (issue 14, item 9): parse, differentiate (both modes) and
evaluate without recursion; printing either works or stops at the symbolic budget with a clear
error (never RecursionError, never MemoryError). The reference is the chain rule run in numpy."""

import numpy as np
import pytest
from command import kronbox

from kronbox import amd
from kronbox.amd.expressions.budget import SymbolicBudgetError

x0 = np.array([[0.3], [0.7], [-1.1]])


def nested(depth: int, f: str = "sin") -> str:
    return f"{f}(" * depth + "x" + ")" * depth


def chain_rule(depth: int) -> tuple[np.ndarray, np.ndarray]:
    """sin∘…∘sin (depth times) at x0 and its derivative, entry by entry."""
    value, slope = x0.copy(), np.ones_like(x0)
    for _ in range(depth):
        value, slope = np.sin(value), slope * np.cos(value)
    return value, slope


@pytest.mark.parametrize("depth", [1000, 5000])
def test_gradient_and_jacobian_of_a_deep_formula(depth):
    f = amd.parse(f"sum({nested(depth)})")
    value, slope = chain_rule(depth)
    np.testing.assert_allclose(f.eval(x=x0), value.sum(), rtol=1e-12)
    g = amd.grad(f, "x")
    np.testing.assert_allclose(g.eval(x=x0), slope, rtol=1e-10)
    J = amd.jacobian(amd.parse(nested(depth)), "x").at(x=x0)
    np.testing.assert_allclose(J @ np.ones(3), slope.ravel(), rtol=1e-10)
    with amd_budget_or_text() as printed:
        printed(g)


class amd_budget_or_text:
    """Printing a deep gradient gives text that parses back, or a SymbolicBudgetError; nothing else."""

    def __enter__(self):
        return self.check

    def __exit__(self, *exc):
        return False

    @staticmethod
    def check(g):
        try:
            text = str(g)
        except SymbolicBudgetError as error:
            assert "MAX_TEXT" in str(error)
            return
        np.testing.assert_allclose(amd.parse(text, {"x": (3, 1)}).eval(x=x0), g.eval(x=x0), rtol=1e-10)


def test_a_moderately_deep_gradient_prints_and_parses_back():
    g = amd.grad(amd.parse(f"sum({nested(100, 'tanh')})"), "x")
    again = amd.parse(str(g), {"x": (3, 1)})
    np.testing.assert_allclose(again.eval(x=x0), g.eval(x=x0), rtol=1e-10)
    assert amd.parse(amd.to_text(g), {"x": (3, 1)}).eval(x=x0) == pytest.approx(g.eval(x=x0))


def test_the_command_line_on_a_deep_formula(tmp_path):
    path = tmp_path / "deep.txt"
    path.write_text(f"sum({nested(2000)})")
    for options in ((), ("--json",), ("--hessian",), ("--check",)):
        result = kronbox("diff", "--file", str(path), *options)
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1 and "budget" in result.stderr

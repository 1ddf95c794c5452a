"""The command line's edges (issue 14, item 10), through the real entry point: bad option values are
one line naming the option and exit 2 (a JSON error object on stdout with ``--json``); ``--json``
output is always valid JSON (``null`` and a ``*_not_finite`` field where a number is inf or nan);
``kronbox identity`` reads the Kron/Box notation that Jacobians print in; formulas come from the
command line, from standard input (``-``) or from a file (``--file``)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from command import kronbox

from kronbox.commands.report import json_safe


def strict_json(text: str):
    """``text`` parsed as JSON proper: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c} in {text}"))


BAD_OPTIONS = [
    ("demo", "--seed", "-1"), ("demo", "--seed", "-7"), ("demo", "--seed", "x"), ("demo", "--size", "60000"),
    ("demo", "--size", "1"), ("demo", "--size", "0"), ("demo", "--lbfgs-budget", "-1"),
    ("demo", "--lbfgs-budget", "nan"),
    ("diff", "--seed", "-1"), ("diff", "--size", "1"), ("diff", "--size", "100000"), ("diff", "--size", "-3"),
    ("identity", "--seed", "-1"), ("identity", "--size", "0"), ("identity", "--size", "100000"),
]
FORMULAS = {"demo": (), "diff": ("logdet(X)", "--check"), "identity": ("kron(A,B)", "kron(A,B)")}


@pytest.mark.parametrize(("command", "option", "value"), BAD_OPTIONS)
def test_a_bad_option_value_is_one_line_naming_the_option(command, option, value):
    result = kronbox(command, *FORMULAS[command], option, value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert f"argument {option}" in result.stderr, result.stderr


@pytest.mark.parametrize("argv", [
    ("diff", "logdet(X)", "--seed", "-1", "--json"), ("diff", "logdet(X)", "--bogus", "--json"),
    ("diff", "--json"), ("identity", "A", "--json"), ("diff", "x*x", "--json"), ("diff", "trace(X", "--json"),
    ("identity", "kron(A,B", "A", "--json"), ("--json",), ("diff", "logdet(X)", "--format", "mathml", "--json"),
])
def test_usage_and_formula_errors_with_json_print_a_json_error_object(argv):
    result = kronbox(*argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    report = strict_json(result.stdout)
    assert report["status"] == 2 and report["error"]


@pytest.mark.parametrize("argv", [
    ("identity", "Inf*A", "A", "--json"), ("identity", "NaN*A", "A", "--json"),
    ("diff", "1e400*trace(X)", "--check", "--json"), ("diff", "NaN*trace(X)", "--check", "--json"),
    ("diff", "sum(log(x))/0", "--check", "--json"),
])
def test_json_output_is_json_even_with_infinities_and_nans(argv):
    result = kronbox(*argv)
    assert result.returncode in (0, 1), result.stderr
    assert result.stderr == ""
    strict_json(result.stdout)


def test_json_safe_replaces_nonfinite_numbers_by_null_and_says_why():
    safe = json_safe({"a": float("nan"), "b": [float("inf"), 1.0], "c": {"d": -float("inf")}, "e": 2.0})
    assert safe == {"a": None, "a_not_finite": "NaN", "b": [None, 1.0], "c": {"d": None, "d_not_finite": "-Infinity"},
                    "e": 2.0}
    json.dumps(safe, allow_nan=False)


README_NOTATION = [  # the Kron/Box notation kronbox diff prints, which the README says identity takes
    ("vec(A)*vec(B)'", "outer(A, B)", 0), ("diag(vec(A))*diag(vec(B))", "diag(vec(B))*diag(vec(A))", 0),
    ("inv(A ⊗ I + I ⊗ B)", "inv(kronsum(A, B))", 0), ("vec(A)*vec(B)'*(C ⊗ D)", "vec(A)*vec(C'*B*D)'", 0),
    ("2*vec(A)*vec(B)'", "vec(A)*vec(2*B)'", 0), ("-(inv(X)' ⊠ inv(X))", "-box(inv(X)', inv(X))", 0),
    ("diag(vec(A))", "diag(vec(B))", 1), ("vec(A)*vec(B)'", "vec(B)*vec(A)'", 1),
]


@pytest.mark.parametrize(("lhs", "rhs", "status"), README_NOTATION)
def test_identity_reads_the_notation_jacobians_are_printed_in(lhs, rhs, status):
    result = kronbox("identity", lhs, rhs)
    assert result.returncode == status, result.stdout + result.stderr
    assert ("holds" if status == 0 else "does not hold") in result.stdout


def test_identity_of_diag_and_vec_against_numpy():
    # diag(vec(A)) vec(B) = vec(A ∘ B) = diag(vec(B)) vec(A): the entrywise product commutes ...
    holds = kronbox("identity", "diag(vec(A))*vec(B)*vec(C)'", "diag(vec(B))*vec(A)*vec(C)'")
    assert holds.returncode == 0, holds.stdout + holds.stderr
    assert kronbox("identity", "diag(vec(A))*vec(B)*vec(C)'", "vec(B)*vec(C)'").returncode == 1
    # ... as numpy says, in the row-major vec the notation uses
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    assert np.allclose(np.diag(A.ravel()) @ B.ravel(), (A * B).ravel())


@pytest.mark.parametrize("bad", ["vec(A)", "diag(A)", "vec(A)*vec(B)", "vec(A)+A"])
def test_identity_refuses_vec_outside_the_notation_in_one_line(bad):
    result = kronbox("identity", bad, "A")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "vec" in result.stderr


def test_formulas_that_start_with_a_minus_are_formulas():
    result = kronbox("diff", "-logdet(X)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "Derivative: -inv(X)'"


def run_with_stdin(argv, text):
    return subprocess.run([sys.executable, "-m", "kronbox", *argv], input=text, capture_output=True, text=True)


def test_formula_from_standard_input_and_from_a_file(tmp_path):
    long = "+".join(["trace(A*X*B*X*C)"] * 8000)  # 136 kB: more than one argument may hold (128 kB on Linux)
    path = tmp_path / "formula.txt"
    path.write_text(long + "\n")
    from_file = kronbox("diff", "--file", str(path), "--json")
    assert from_file.returncode == 0, from_file.stderr
    assert strict_json(from_file.stdout)["derivative"] == "8000*(B*X*C*A + C*A*X*B)'"
    from_stdin = run_with_stdin(["diff", "-", "--json"], "trace(X*X)\n")
    assert from_stdin.returncode == 0 and strict_json(from_stdin.stdout)["derivative"] == "2*X'"
    sides = tmp_path / "sides.txt"
    sides.write_text("kron(A,B)*box(C,D)\nbox(A*C,B*D)\n")
    assert kronbox("identity", "--file", str(sides)).returncode == 0
    assert run_with_stdin(["identity", "-", "box(A*C,B*D)"], "kron(A,B)*box(C,D)").returncode == 0


@pytest.mark.parametrize("argv", [("diff", "--file", "/nonexistent/formula"), ("diff",), ("diff", "X", "--file", "f"),
                                  ("identity", "-", "-"), ("identity", "A")])
def test_missing_or_doubled_formula_sources_are_usage_errors(argv):
    result = kronbox(*argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

"""``kronbox diff`` and ``kronbox identity`` through the real entry point: output, formats, exit codes."""

import json

import numpy as np
import pytest
from command import kronbox

from kronbox.amd.differentiation import rules
from kronbox.amd.expressions.expr import transpose
from kronbox.amd.expressions.linear_map import kron
from kronbox.cli import main


def test_diff_prints_function_and_derivative():
    result = kronbox("diff", "logdet(X)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Function:   logdet(X)", "Derivative: inv(X)'"]


def test_diff_check_and_json():
    result = kronbox("diff", "x'*A*x", "--wrt", "x", "--check", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["wrt"] == "x" and report["kind"] == "gradient" and report["passed"]
    assert len(report["checks"]) == 2 and all(c["error"] < 1e-8 for c in report["checks"])


def test_diff_numpy_format_runs():
    result = kronbox("diff", "trace(S*inv(X))", "--format", "numpy")
    assert result.returncode == 0, result.stderr
    source = result.stdout.split("Derivative:\n", 1)[1]
    namespace: dict = {}
    exec(source, namespace)
    rng = np.random.default_rng(0)
    S, X = rng.standard_normal((5, 5)), rng.standard_normal((5, 5)) + 5 * np.eye(5)
    P = np.linalg.inv(X)
    assert np.allclose(namespace["gradient"](S, X), -(P @ S @ P).T)


def test_diff_operators_in_kron_box_notation(capsys):
    assert main(["diff", "inv(X)"]) == 0
    assert "⊗" in capsys.readouterr().out.splitlines()[1]
    assert main(["diff", "logdet(X)", "--hessian", "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "⊠" in lines[1] and lines[2].startswith("Check:")
    assert main(["diff", "trace(X)", "--jacobian", "--format", "latex"]) == 0
    assert "vec" in capsys.readouterr().out


def test_a_wrong_derivative_fails_the_check_with_exit_1(monkeypatch, capsys):
    monkeypatch.setitem(rules.LOCAL, "inv", lambda F, i: kron(F, transpose(F)))  # the minus sign forgotten
    assert main(["diff", "trace(S*inv(X))", "--check"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "words", "caret"), [
    (["diff", "trace(X))"], "closes nothing", True),
    (["diff", "foo(X)"], "unknown function 'foo'", True),
    (["diff", "X +"], "ends too early", True),
    (["diff", ""], "empty formula", True),
    (["diff", "A*B + x"], "shapes differ", True),
    (["diff", "trace(X)", "--wrt", "Y"], "'Y' is not a variable", False),
    (["diff", "trace(A*B)"], "several candidates (A, B)", False),
    (["diff", "X", "--format", "pdf"], "invalid choice", False),
    (["identity", "kron(A,B", "box(A,B)"], "never closed", True),
    (["identity", "kron(A)", "A"], "kron takes 2 arguments", True),
])
def test_bad_input_exits_2_with_one_line(argv, words, caret):
    result = kronbox(*argv)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert words in lines[0] and lines[0].startswith("kronbox")
    assert len(lines) == (3 if caret else 1)
    if caret:
        assert lines[2].strip() == "^"


def test_identity_holds_and_fails():
    holds = kronbox("identity", "kron(A,B)*box(C,D)", "box(A*C,B*D)")
    assert holds.returncode == 0 and "holds" in holds.stdout
    fails = kronbox("identity", "box(A,B)*box(C,D)", "box(A*C,B*D)")  # as the slides print it
    assert fails.returncode == 1 and "does not hold" in fails.stdout


@pytest.mark.parametrize(("lhs", "rhs"), [
    ("box(A,B)*box(C,D)", "kron(A*D,B*C)"),
    ("kron(A,B)*commutation(3,3)", "box(A,B)"),
    ("inv(box(A,B))", "box(inv(B),inv(A))"),
    ("box(A,B)'", "box(B',A')"),
    ("trace(box(A,B))", "trace(A*B)"),
    ("det(kron(A,B))", "det(A)^3*det(B)^3"),
    ("kron(A,I) + kron(I,B)", "kronsum(A,B)"),
    ("outer(A,B)*kron(C,D)", "outer(A, C'*B*D)"),
    ("(A ⊗ B)*(C ⊠ D)", "A*C ⊠ B*D"),  # the notation kronbox diff --jacobian prints
    ("A ⊗ I + I ⊗ B", "kronsum(A,B)"),
])
def test_identities_of_the_design_notes_hold(lhs, rhs, capsys):
    assert main(["identity", lhs, rhs, "--json"]) == 0, capsys.readouterr()
    assert json.loads(capsys.readouterr().out)["holds"]

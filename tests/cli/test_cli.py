"""The ``kronbox`` command: the demo runs end to end and checks itself; usage errors exit 2."""

import numpy as np
import pytest
from command import kronbox

from kronbox.cli import main


def test_demo_runs_newton_against_the_closed_form_and_lbfgs():
    result = kronbox("demo", "--size", "20")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "400 × 400" in result.stdout and "1.6e+05 entries" in result.stdout
    header = next(i for i, line in enumerate(lines) if "objective" in line and "iter" in line)
    steps = [line.split() for line in lines[header + 1:] if line.strip()[:1].isdigit() and line.endswith("s")]
    assert len(steps) >= 3 and [int(s[0]) for s in steps] == list(range(len(steps)))
    assert float(steps[-1][2]) <= 1e-8 < float(steps[0][2])
    error = next(line for line in lines if "against the closed form" in line)
    assert float(error.split("= ")[1].split(";")[0]) < 1e-6 and "positive definite" in error
    assert any(line.startswith("| L-BFGS-B |") for line in lines)
    assert lines[-1] == "All checks passed."


def test_demo_fails_when_the_closed_form_disagrees(monkeypatch, capsys):
    from kronbox.commands import demo
    from kronbox.examples import covariance

    monkeypatch.setattr(covariance, "closed_form", lambda S: 2 * np.eye(len(S)))
    assert main(["demo", "--size", "6", "--lbfgs-budget", "0"]) == 1
    out = capsys.readouterr().out
    assert "L-BFGS-B comparison skipped" in out and out.rstrip().endswith("Some checks FAILED.")
    assert demo.HELP


@pytest.mark.parametrize("argv", [["demo", "--size", "1"], ["demo", "--size", "abc"], ["nonsense"], []])
def test_usage_errors_exit_2_without_traceback(argv):
    result = kronbox(*argv)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()

"""The ``kronbox`` command: the demo runs end to end and checks itself; usage errors exit 2."""

import subprocess
import sys

import pytest

from kronbox.cli import main


def test_demo_runs_and_its_checks_pass(capsys):
    assert main(["demo", "--size", "24", "--lyapunov-size", "12"]) == 0
    out = capsys.readouterr().out
    assert "576 × 576" in out
    assert "as the slides print it: fails" in out
    assert out.rstrip().endswith("All checks passed.")


@pytest.mark.parametrize("argv", [["demo", "--size", "1"], ["demo", "--size", "abc"], ["nonsense"], []])
def test_usage_errors_exit_2_without_traceback(argv):
    result = subprocess.run([sys.executable, "-m", "kronbox", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()

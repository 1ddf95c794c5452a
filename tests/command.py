"""The ``kronbox`` command through its real entry point, ``python -m kronbox``, in a subprocess."""

import subprocess
import sys


def kronbox(*argv: str) -> subprocess.CompletedProcess:
    """``kronbox ARGV…``: its exit code, stdout and stderr (as text)."""
    return subprocess.run([sys.executable, "-m", "kronbox", *argv], capture_output=True, text=True)

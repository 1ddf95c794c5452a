"""The type check of the test command (``mypy``, configured in ``[tool.mypy]`` of pyproject.toml) passes on the
package and catches what it is there to catch: a public function whose body contradicts its annotated return type,
and a caller who uses a public function's result as the wrong type.

mypy runs as the test command runs it (same configuration, same cache: after the command's ``mypy`` these take
a second or two; cold, the first one takes about 20 s).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """mypy with the project's configuration, from the checkout (so that ``import kronbox`` is the checkout's)."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary",
         "--show-error-codes", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )


def _errors(output: str, path: Path | str) -> list[tuple[int, str]]:
    """``(line, error code)`` of every error mypy reported in ``path``."""
    name = re.escape(str(path))
    return [(int(m[1]), m[2]) for m in re.finditer(rf"^{name}:(\d+): error: .*\[([a-z-]+)\]$", output, flags=re.M)]


def _right_passes_wrong_fails(right: Path, wrong: Path, wrong_lines: list[int]) -> None:
    """mypy on the two files: no error in ``right``, an assignment error on each of ``wrong_lines`` of ``wrong``."""
    # mypy's cache knows the modules right and wrong by content: a run token makes it check these files afresh
    # (with unchanged content it would replay the errors of an earlier run, under that run's paths)
    for path in (right, wrong):
        path.write_text(path.read_text(encoding="utf-8") + f"# run {uuid.uuid4().hex}\n", encoding="utf-8")
    result = _mypy(str(right), str(wrong))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert _errors(result.stdout, right) == [], output
    assert _errors(result.stdout, wrong) == [(line, "assignment") for line in wrong_lines], output


def test_the_package_passes():
    result = _mypy()
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_return_type_of_a_public_function_is_caught(tmp_path):
    """``kronbox.vec`` (annotated ``-> np.ndarray``) returning a str fails the check of the package."""
    source = (ROOT / "kronbox" / "vec.py").read_text(encoding="utf-8")
    correct = "    return X.ravel(order=check_order(order))\n"
    assert source.count(correct) == 1, "kronbox/vec.py changed: update the line this test breaks"
    broken = tmp_path / "vec.py"
    broken.write_text(source.replace(correct, '    return "vec of " + str(X.shape)\n'), encoding="utf-8")
    line = source[: source.index(correct)].count("\n") + 1
    result = _mypy("--shadow-file", "kronbox/vec.py", str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    assert _errors(result.stdout, "kronbox/vec.py") == [(line, "return-value")], result.stdout + result.stderr


def test_a_wrong_use_of_the_public_api_is_caught(tmp_path):
    """Results of the public API used as the wrong type are errors; the same calls used rightly are not (so the
    errors come from the annotations, not from a kronbox that mypy cannot find)."""
    header = textwrap.dedent("""\
        import numpy as np

        import kronbox as kb

        A = np.eye(3)
        B = np.ones((2, 2))
    """)
    right = tmp_path / "right.py"
    right.write_text(header + textwrap.dedent("""\
        x: np.ndarray = kb.vec(A)
        X: np.ndarray = kb.unvec(x, (3, 3))
        t: float | complex = kb.Kron(A, B).trace()
        op: kb.Operator = kb.Kron(A, B).simplify()
        M: kb.Operator = -kb.Kron(A, B) + kb.Identity(6) / 3
    """), encoding="utf-8")
    wrong = tmp_path / "wrong.py"
    wrong.write_text(header + textwrap.dedent("""\
        n: int = kb.vec(A)
        name: str = kb.Kron(A, B).trace()
        op: kb.Operator = kb.Kron(A, B).det()
        s: str = kb.linalg.logdet(kb.Kron(A, B))
    """), encoding="utf-8")
    _right_passes_wrong_fails(right, wrong, [7, 8, 9, 10])


def test_a_wrong_use_of_the_amd_api_is_caught(tmp_path):
    """The same for :mod:`kronbox.amd`: expressions, derivatives, linear maps, the parsers, printers and
    ``minimize`` have return types a caller's type checker can use."""
    header = textwrap.dedent("""\
        import numpy as np

        import kronbox as kb
        from kronbox import amd

        X = amd.var("X", (3, 3))
        S = amd.const("S", np.eye(3))
    """)
    right = tmp_path / "right_amd.py"
    right.write_text(header + textwrap.dedent("""\
        f: amd.Expr = amd.logdet(X) + amd.trace(S @ amd.inv(X)) * 2.0 - 1
        g: amd.Expr = 2.0 * amd.grad(f, X).T + np.eye(3) - amd.exp(X) ** 2
        J: amd.Derivative = amd.jacobian(X @ X, "X")
        H: kb.Operator = amd.hessian(f, X).at({"X": np.eye(3)})
        L: amd.LinearMap = J.map
        text: str = amd.to_format(f, "latex") + amd.to_format(L) + amd.map_text(L) + str(f)
        p: amd.Expr = amd.parse("logdet(X) - trace(S*inv(X))", {"X": (3, 3), "S": (3, 3)})
        M: amd.LinearMap = amd.parse_map("-(inv(X) ⊗ inv(X)')", {"X": (3, 3)}, in_shape=(3, 3))
        Xs: np.ndarray = amd.minimize(f, np.eye(3)).X
        terms: list[amd.Expr] = amd.taylor(f, X, "X0", 2)
    """), encoding="utf-8")
    wrong = tmp_path / "wrong_amd.py"
    wrong.write_text(header + textwrap.dedent("""\
        f: float = amd.logdet(X)
        g: np.ndarray = amd.grad(amd.logdet(X), X)
        H: kb.Operator = amd.hessian(amd.logdet(X), X)
        s: amd.Expr = amd.to_format(X)
        p: str = amd.parse("logdet(X)")
        r: amd.Expr = amd.minimize(amd.logdet(X), np.eye(3))
        L: amd.Expr = amd.jacobian(X, X).map
    """), encoding="utf-8")
    _right_passes_wrong_fails(right, wrong, list(range(8, 15)))

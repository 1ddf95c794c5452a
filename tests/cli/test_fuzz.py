"""A fuzz of the command line through its real entry point (issue 14, Done means): random formulas
(well formed, ill typed, with huge and undefined constants, deep, or plain junk) and random options
(valid and not). Whatever comes in: exit code 0, 1 or 2, no traceback, nothing escaping ``main``,
``--json`` output always one valid JSON object, and a usage or formula error one line on stderr.

Hypothesis draws the inputs; they run in batches through ``python -m kronbox``'s ``__main__`` in one
subprocess (tests/cli/fuzz_driver.py), so a few hundred runs fit in ~30 s; a sample also runs as
separate processes."""

import json
import pathlib
import subprocess
import sys

from command import kronbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DRIVER = pathlib.Path(__file__).with_name("fuzz_driver.py")

ATOMS = ["x", "y", "X", "A", "B", "S", "a", "b", "I", "0", "1", "2.5", "-1", "1e400", "1e308", "Inf", "NaN", "1e-320",
         "eye(3)", "vector(1)", "matrix(2)", "ones(2, 2)", "zeros(3, 1)"]
UNARY = ["inv", "trace", "tr", "det", "logdet", "sqrtm", "norm1", "norm2", "sum", "exp", "log", "sqrt", "sin", "cos",
         "tan", "tanh", "abs", "sign", "relu", "arcsin", "arccos", "arctan", "transpose", "log(det", "foo", "expm",
         "logm", "eigvalsh", "eigvecs", "chol", "diag", "diagm"]
BINARY = ["+", "-", "*", ".*", "./", "/", "^", ".^", "⊗", "⊠"]
JUNK = ["(", ")", "'", ",", "$", "**", "..", "x x", "@", "é", "\n", ";", "import os", "__class__", "{}", ""]


@st.composite
def formulas(draw, depth: int = 4):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        f = draw(st.sampled_from(UNARY))
        inner = draw(formulas(depth=depth - 1))
        return f"{f}({inner})" + (")" if f == "log(det" else "")
    if kind <= 6:
        op = draw(st.sampled_from(BINARY))
        return f"({draw(formulas(depth=depth - 1))}){op}{draw(formulas(depth=depth - 1))}"
    if kind == 7:
        return f"({draw(formulas(depth=depth - 1))})'"
    if kind == 8:
        return draw(st.sampled_from(["sin(", "exp(", "-("])) * 50 + "x" + ")" * draw(st.sampled_from([50, 49, 51]))
    return draw(formulas(depth=depth - 1)) + draw(st.sampled_from(JUNK))


OPTIONS = st.lists(st.sampled_from([
    ("--check",), ("--json",), ("--hessian",), ("--jacobian",), ("--format", "latex"), ("--format", "numpy"),
    ("--format", "mathml"), ("--wrt", "x"), ("--wrt", "X"), ("--wrt", "zz"), ("--size", "3"), ("--size", "1"),
    ("--size", "-2"), ("--size", "abc"), ("--seed", "5"), ("--seed", "-1"), ("--bogus",), ("--file", "/nonexistent"),
]), max_size=4)


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(["diff", "diff", "diff", "identity", "demo", "nothing"]))
    options = [token for option in draw(OPTIONS) for token in option]
    if command == "diff":
        return ["diff", draw(formulas()), *options]
    if command == "identity":
        sides = [draw(formulas(depth=2)) for _ in range(2)]
        return ["identity", *sides, *[t for t in options if t in ("--json", "--seed", "-1", "5", "--bogus")]]
    if command == "demo":
        return ["demo", *draw(st.sampled_from([["--size", "1"], ["--seed", "-1"], ["--size", "70000"],
                                               ["--lbfgs-budget", "nan"], ["--method", "bfgs"], ["--json"]]))]
    return draw(st.sampled_from([[], ["--json"], ["frobnicate"], ["--version"], ["diff", "--json"]]))


def run_batch(argvs: list[list[str]]) -> list[dict]:
    lines = "".join(json.dumps(argv) + "\n" for argv in argvs)
    done = subprocess.run([sys.executable, str(DRIVER)], input=lines, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def assert_well_behaved(run: dict) -> None:
    argv, code, stdout, stderr = run["argv"], run["code"], run["stdout"], run["stderr"]
    assert run["escaped"] is None, f"{argv}: escaped\n{run['escaped']}"
    assert code in (0, 1, 2), f"{argv}: exit {code}\n{stderr}"
    assert "Traceback" not in stderr and "Warning" not in stderr, f"{argv}: {stderr}"
    if "--json" in argv and "--version" not in argv and argv[:1] != ["demo"]:
        lines = stdout.strip().splitlines()
        assert len(lines) == 1, f"{argv}: {stdout!r}"
        json.loads(lines[0], parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(f"{argv}: {c}")))
    if code == 2:
        assert len(stderr.strip().splitlines()) in (1, 3), f"{argv}: {stderr}"  # one line, or a line and its caret


BATCH: list[list[str]] = []


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(command_lines())
def collect(argv):
    BATCH.append(argv)


def test_the_command_line_never_crashes_on_random_input():
    BATCH.clear()
    collect()
    for run in run_batch(BATCH):
        assert_well_behaved(run)


def test_a_sample_through_separate_processes():
    for argv in (["diff", "(1e400)*trace(X)", "--json", "--check"], ["diff", "sum(log(x))/0", "--check"],
                 ["identity", "vec(A)*vec(B)'", "outer(A,B)", "--json"], ["diff", "x*x", "--json"],
                 ["demo", "--seed", "-1"], ["diff", "-(" * 300 + "x" + ")" * 300, "--json"]):
        result = kronbox(*argv)
        assert_well_behaved({"argv": argv, "code": result.returncode, "stdout": result.stdout,
                             "stderr": result.stderr, "escaped": None})

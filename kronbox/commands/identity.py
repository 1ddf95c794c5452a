"""``kronbox identity LHS RHS``: check an operator identity numerically, e.g.
``kronbox identity 'kron(A,B)*box(C,D)' 'box(A*C,B*D)'``.

Both sides are formulas over matrices and the lazy operators ``kron(A, B)`` (also ``A ⊗ B``),
``box(A, B)`` (also ``A ⊠ B``), ``outer(A, B)`` (vec(A) vec(B)ᵀ), ``commutation(m, n)``,
``kronsum(A, B)`` (A ⊗ I + I ⊗ B);
``*`` composes (or multiplies, or scales), ``+ -`` add, ``'`` transposes, ``inv`` inverts, ``^`` is a
power of a number or a matrix, ``trace`` and ``det`` use the closed forms of the operators, ``I`` is
the identity of the size its neighbours need. Every name is a random ``n×n`` matrix (``--size``),
the same one on both sides. The sides are compared by random probing (:func:`kronbox.check.identity`),
never formed; exit 0 when they agree, 1 when they do not.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from kronbox import check, operators
from kronbox.amd.parsing.grammar import Node, ParseError, read
from kronbox.commands.report import formula_error, int_between, nonnegative_int, print_json, read_formula

MAX_SIZE = 300
HELP = "check an operator identity numerically, e.g. kronbox identity 'kron(A,B)*box(C,D)' 'box(A*C,B*D)'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lhs", metavar="LHS", nargs="?", help="the left side (- reads it from standard input)")
    parser.add_argument("rhs", metavar="RHS", nargs="?", help="the right side (- reads it from standard input)")
    parser.add_argument("--file", metavar="PATH", help="read both sides from a file: LHS on one line, RHS on the next")
    parser.add_argument("--size", type=int_between(1, MAX_SIZE), default=3,
                        help=f"size n of the random n×n matrices, 1 to {MAX_SIZE} (default 3)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the random matrices (≥ 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=_command)


class _Eye:
    """``I`` before its size is known: it takes the size of what it meets."""


_EYE = _Eye()


class _Vec:
    """``vec(A)`` (``transposed``: ``vec(A)'``), waiting to meet its partner in ``vec(U)*vec(V)'`` or
    ``diag(vec(D))``, the notation Jacobians are printed in."""

    def __init__(self, matrix: np.ndarray, transposed: bool = False):
        self.matrix, self.transposed = matrix, transposed


class _Evaluator:
    """Evaluates a formula to numbers, matrices and lazy kronbox operators."""

    def __init__(self, text: str, n: int, matrices: dict[str, np.ndarray], rng: np.random.Generator):
        self.text, self.n, self.matrices, self.rng = text, n, matrices, rng

    def fail(self, node: Node, message: str) -> ParseError:
        return ParseError(message, self.text, node.at)

    def value(self, root: Node):
        done: dict[int, object] = {}
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if not expanded:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args)
                continue
            try:
                done[id(node)] = self._value(node, [done[id(a)] for a in node.args])
            except ParseError:
                raise
            except (ValueError, TypeError, AttributeError, IndexError, ArithmeticError, np.linalg.LinAlgError) as error:
                # whatever an operation refuses is the formula's problem, reported at its place
                raise self.fail(node, str(error) or type(error).__name__) from None
        return done[id(root)]

    def matrix(self, node: Node, x) -> np.ndarray:
        if x is _EYE:
            return np.eye(self.n)
        if not isinstance(x, np.ndarray):
            raise self.fail(node, "kron, box and outer take matrices")
        return x

    def sized(self, x, like):
        """``x`` with an unsized ``I`` given the size of ``like``."""
        if x is not _EYE:
            return x
        if like is _EYE or np.ndim(like) == 0:
            return np.eye(self.n)
        size = like.shape[0]
        return operators.Identity(size) if isinstance(like, operators.Operator) else np.eye(size)

    def _value(self, node: Node, args: list):
        op = node.op
        if op == "num":
            return node.value
        if op == "name":
            name = node.name
            if name in ("I", "eye"):
                return _EYE
            if name not in self.matrices:
                self.matrices[name] = self.rng.standard_normal((self.n, self.n)) + self.n * np.eye(self.n)
            return self.matrices[name]
        if op == "neg":
            return -args[0]
        if op == "pos":
            return args[0]
        if op == "'":
            if isinstance(args[0], _Vec):
                return _Vec(args[0].matrix, not args[0].transposed)
            return args[0].T if args[0] is not _EYE else _EYE
        if op == "call":
            return self.call(node, args)
        if any(isinstance(x, _Vec) for x in args):
            return self._vec_product(node, op, *args)
        a, b = self.sized(args[0], args[1]), self.sized(args[1], args[0])
        if op in ("⊗", "⊠"):
            return (operators.Kron if op == "⊗" else operators.Box)(self.matrix(node, a), self.matrix(node, b))
        if op in ("+", "-"):
            return a + b if op == "+" else a - b
        if op == "*":
            return a * b if np.ndim(a) == 0 or np.ndim(b) == 0 else a @ b
        if op == "/" and np.ndim(b) == 0:
            return a * (1.0 / b)
        if op == "^" and np.ndim(b) == 0 and not isinstance(a, operators.Operator):
            return a**b if np.ndim(a) == 0 else np.linalg.matrix_power(a, int(b))
        raise self.fail(node, f"{op!r} is not an operation on operators (use *, +, -, ', inv)")

    def _vec_product(self, node: Node, op: str, a, b):
        """``vec(U)*vec(V)'`` (an outer product), and a number scaling a ``vec``."""
        if op == "*" and isinstance(a, _Vec) and isinstance(b, _Vec) and not a.transposed and b.transposed:
            return operators.Outer(a.matrix, b.matrix)
        if op == "*" and isinstance(a, operators.Operator) and isinstance(b, _Vec) and not b.transposed \
                and a.shape[1] == b.matrix.size:  # L*vec(U) = vec(V)
            return _Vec(np.asarray(a @ b.matrix.ravel()).reshape(b.matrix.shape))
        if op == "*" and isinstance(b, operators.Operator) and isinstance(a, _Vec) and a.transposed \
                and b.shape[0] == a.matrix.size:  # vec(U)'*L = vec(V)'
            return _Vec(np.asarray(b.T @ a.matrix.ravel()).reshape(a.matrix.shape), True)
        if op == "*" and np.ndim(a) == 0 and not isinstance(a, _Vec | _Eye):
            return _Vec(a * b.matrix, b.transposed)
        if op == "*" and np.ndim(b) == 0 and not isinstance(b, _Vec | _Eye):
            return _Vec(b * a.matrix, a.transposed)
        raise self.fail(node, "vec(A) appears in vec(U)*vec(V)' and diag(vec(D)) only")

    def call(self, node: Node, args: list):
        name, count = node.value, len(args)
        if name == "vec" and count == 1:
            return _Vec(self.matrix(node, args[0]))
        if name == "diag" and count == 1:
            if not isinstance(args[0], _Vec) or args[0].transposed:
                raise self.fail(node, "diag takes vec(D): diag(vec(D)) multiplies entry by entry by D")
            return operators.Diag(args[0].matrix)
        binary = {"kron": operators.Kron, "box": operators.Box, "outer": operators.Outer,
                  "kronsum": operators.KronSum}
        if name in binary:
            if count != 2:
                raise self.fail(node, f"{name} takes 2 arguments, got {count}")
            return binary[name](*(self.matrix(node, x) for x in args))
        if name == "commutation":
            if count != 2 or not all(isinstance(x, float) and x == int(x) and x >= 1 for x in args):
                raise self.fail(node, "commutation(m, n) takes two positive whole numbers")
            return operators.Commutation(int(args[0]), int(args[1]))
        if name in ("inv", "transpose", "trace", "det") and count == 1:
            x = self.sized(args[0], args[0])
            if name == "transpose":
                return x.T
            if isinstance(x, operators.Operator):
                return x.inv() if name == "inv" else x.trace() if name == "trace" else x.det()
            return np.linalg.inv(x) if name == "inv" else np.trace(x) if name == "trace" else np.linalg.det(x)
        known = "kron, box, outer, kronsum, commutation, inv, transpose, trace, det, vec(U)*vec(V)', diag(vec(D))"
        raise self.fail(node, f"unknown function {name!r} or wrong number of arguments (known: {known})")


def compare(lhs: str, rhs: str, size: int = 3, seed: int = 0) -> check.Report:
    """Evaluate both sides with shared random matrices and compare them by random probing."""
    if size < 1:
        raise ValueError("--size must be at least 1")
    rng = np.random.default_rng(seed)
    matrices: dict[str, np.ndarray] = {}
    left, right = (_Evaluator(t, size, matrices, rng).value(read(t)) for t in (lhs, rhs))
    left, right = (np.eye(size) if x is _EYE else x for x in (left, right))
    if isinstance(left, _Vec) or isinstance(right, _Vec):
        raise ValueError("a side is vec(A) alone; write vec(U)*vec(V)' or diag(vec(D))")
    if np.ndim(left) == 0 or np.ndim(right) == 0:
        if np.ndim(left) != np.ndim(right):
            raise ValueError("one side is a number and the other an operator")
        error = abs(left - right) / max(abs(left), abs(right), 1e-300)
        return check.Report("identity", float(error), check.default_tolerance(np.float64), "two numbers")
    return check.identity(left, right, seed=seed)


def _sides(args: argparse.Namespace) -> tuple[str, str]:
    if args.file is not None:
        if args.lhs is not None or args.rhs is not None:
            raise ValueError("give LHS and RHS or --file, not both")
        lines = [line for line in read_formula(None, args.file).splitlines() if line.strip()]
        if len(lines) != 2:
            raise ValueError(f"--file {args.file}: expected two lines (LHS, then RHS), found {len(lines)}")
        return lines[0], lines[1]
    if args.lhs is None or args.rhs is None:
        raise ValueError("give LHS and RHS (one of them may be - for standard input), or --file PATH")
    if args.lhs == args.rhs == "-":
        raise ValueError("only one side can be read from standard input (-)")
    return read_formula(args.lhs, None, "LHS"), read_formula(args.rhs, None, "RHS")


def _command(args: argparse.Namespace) -> int:
    try:
        lhs, rhs = _sides(args)
        with np.errstate(all="ignore"), warnings.catch_warnings():  # inf or nan show in the report
            warnings.simplefilter("ignore", RuntimeWarning)
            report = compare(lhs, rhs, args.size, args.seed)
    except (ParseError, ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError) as error:
        return formula_error("identity", error, args.json)
    if args.json:
        print_json({"lhs": lhs, "rhs": rhs, "holds": report.passed, "error": report.error,
                    "tolerance": report.tolerance, "detail": report.detail})
    else:
        verdict = "holds" if report.passed else "does not hold"
        print(f"{lhs} = {rhs}: {verdict} (relative error {report.error:.1e}, {report.detail})")
    return 0 if report.passed else 1

"""``kronbox diff EXPR``: the matrix-calculus calculator.

A scalar formula gets its gradient (a matrix expression, reverse mode), a matrix-valued one its
Jacobian in Kron / Box / Outer notation (forward mode, row-major ``vec``), ``--hessian`` the
Hessian operator. ``--check`` draws random values (symmetric positive definite for square
matrices, so that ``inv``, ``logdet`` and ``sqrtm`` are defined), compares the derivative with
central differences and the complex step, and parses the printed result back to confirm that it
evaluates to the same numbers. Sizes the formula leaves open are fixed to distinct small sizes
(``--size`` and up); the printed formulas do not depend on them.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kronbox import amd, check
from kronbox.amd.differentiation.derivative import find_symbol
from kronbox.amd.expressions.expr import Expr, ShapeError, is_scalar_shape, shape_text, var
from kronbox.amd.expressions.linear_map import LinearMap, apply
from kronbox.amd.parsing.grammar import ParseError
from kronbox.commands.report import formula_error, int_between, nonnegative_int, print_json, read_formula

HELP = "differentiate a formula, e.g. kronbox diff 'trace(S*inv(X))'"
FORMATS = ("amd", "latex", "numpy")
MAX_SIZE = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", nargs="?",
                        help="the formula, e.g. 'logdet(X)' or \"x'*A*x\" (- reads it from standard input)")
    parser.add_argument("--file", metavar="PATH", help="read the formula from a file (for long formulas)")
    parser.add_argument("--wrt", help="the variable (default X when present, else the only matrix symbol)")
    parser.add_argument("--symmetric", metavar="NAME", action="append", default=[],
                        help="a symbol that is a symmetric matrix (repeat for several): its gradient is symmetric")
    parser.add_argument("--format", choices=FORMATS, default="amd", help="how to print (default amd)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--jacobian", action="store_true", help="print the Jacobian operator (Kron/Box/Outer form)")
    kind.add_argument("--hessian", action="store_true", help="print the Hessian operator of a scalar formula")
    parser.add_argument("--check", action="store_true", help="check the derivative numerically at random values")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--size", type=int_between(2, MAX_SIZE), default=4,
                        help=f"smallest size given to open dimensions, 2 to {MAX_SIZE} (default 4)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the random values of --check (≥ 0)")
    parser.set_defaults(run=_command)


@dataclass
class Derivation:
    """A formula, the variable, and its derivative (``kind``: gradient, jacobian or hessian)."""

    function: Expr
    wrt: Expr
    kind: str
    derivative: Expr | LinearMap
    checks: list[dict[str, Any]] = field(default_factory=list)

    def text(self, fmt: str) -> tuple[str, str]:
        """The function and the derivative printed in ``fmt``."""
        if isinstance(self.derivative, Expr):
            shown = amd.to_numpy(amd.simplify(self.derivative), name="gradient") if fmt == "numpy" else \
                amd.to_format(self.derivative, fmt)
        elif fmt == "numpy":  # an operator: the function applying it to a direction
            direction = _direction(self)
            shown = amd.to_numpy(amd.simplify(apply(self.derivative, direction)), name=f"{self.kind}_apply")
        else:
            shown = amd.map_latex(self.derivative) if fmt == "latex" else str(amd.simplify_map(self.derivative))
        function = amd.to_format(self.function, "latex" if fmt == "latex" else "amd", simplify=False)
        return function, shown


def _direction(d: Derivation) -> Expr:
    """The symbol the operator is applied to in the numpy printout: ``dX`` (renamed if taken)."""
    name = f"d{d.wrt.name}"
    while name in d.function.symbols:
        name += "_"
    return var(name, d.wrt.shape)


def default_wrt(e: Expr) -> str:
    """``X`` when present, else the only matrix symbol, else the only symbol; an error otherwise."""
    symbols = e.symbols
    if "X" in symbols:
        return "X"
    matrices = sorted(n for n, s in symbols.items() if s.shape is not None and min(s.shape, default=1) > 1)
    for group in (matrices, sorted(symbols)):
        if len(group) == 1:
            return group[0]
        if len(group) > 1:
            raise ValueError(f"several candidates ({', '.join(group)}): choose the variable with --wrt")
    raise ValueError("the formula has no symbol to differentiate with respect to")


def derive(text: str, wrt: str | None = None, kind: str = "auto", size: int = 4,
           symmetric: Iterable[str] = ()) -> Derivation:
    """Parse ``text`` (open sizes from ``size`` on; the ``symmetric`` symbols symmetric) and differentiate it."""
    if size < 2:
        raise ValueError("--size must be at least 2")
    f = amd.parse(text, default_size=size, symmetric=symmetric)
    x = find_symbol(f, wrt if wrt is not None else default_wrt(f))
    scalar = is_scalar_shape(f.shape)
    if kind == "hessian":
        if not scalar:
            raise ShapeError(f"--hessian needs a scalar formula, but {text} is {shape_text(f.shape)}")
        return Derivation(f, x, "hessian", amd.hessian(f, x).map)
    if kind == "jacobian" or not scalar:
        return Derivation(f, x, "jacobian", amd.jacobian(f, x).map)
    return Derivation(f, x, "gradient", amd.grad(f, x))


def run_checks(d: Derivation, seed: int = 0) -> bool:
    """Fill ``d.checks`` with the numeric checks; True when none of them failed. The random point lies
    in the domain of every function of the formula (:func:`kronbox.check.random_values`); where no
    such point is found, or the derivative is not finite there, the checks are reported as skipped
    (``"passed": None`` and the reason), never as failed."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _run_checks(d, seed)


def _skipped(d: Derivation, why: str) -> bool:
    d.checks.append({"check": f"{d.kind} against finite differences", "passed": None, "skipped": why,
                     "error": None, "tolerance": None})
    return True


def _run_checks(d: Derivation, seed: int) -> bool:
    values = check.random_values(d.function, seed)
    problem = check.domain_problem(d.function, values)
    if problem is not None:
        return _skipped(d, f"no random point in the domain of the formula was found ({problem})")
    printed = amd.to_format(d.derivative, "amd")
    wrt_shape = d.wrt.shape
    assert wrt_shape is not None, "derive() gives every open size a value (default_size)"
    shapes = {name: np.shape(v) for name, v in values.items()}
    if isinstance(d.derivative, Expr):
        mine = np.asarray(d.derivative.eval(values), dtype=float)
        again = np.asarray(amd.parse(printed, shapes, result_shape=wrt_shape).eval(values), dtype=float)
    else:  # the Kron/Box notation read back, both operators applied to one random direction
        direction = np.random.default_rng(seed).standard_normal(wrt_shape).ravel()
        out_shape = wrt_shape if d.kind == "hessian" else d.function.shape
        parsed = amd.parse_map(printed, shapes, in_shape=wrt_shape, out_shape=out_shape)
        mine, again = (np.asarray(L.at(values) @ direction) for L in (d.derivative, parsed))
    if not np.all(np.isfinite(mine)):
        return _skipped(d, "the derivative is not finite at the random point")
    checkers: dict[str, Callable[[Expr, Expr, dict[str, np.ndarray]], check.Report]] = {
        "gradient": check.gradient, "jacobian": check.jacobian, "hessian": check.hessian}
    checker = checkers[d.kind]
    report = checker(d.function, d.wrt, values)
    d.checks.append({"check": f"{d.kind} against finite differences", "passed": report.passed,
                     "error": report.error, "tolerance": report.tolerance})
    error = float(np.linalg.norm(again - mine) / max(np.linalg.norm(mine), 1e-300))
    d.checks.append({"check": "the printed derivative parsed back", "passed": error <= 1e-10,
                     "error": error, "tolerance": 1e-10})
    return all(c["passed"] for c in d.checks)


def _command(args: argparse.Namespace) -> int:
    kind = "hessian" if args.hessian else "jacobian" if args.jacobian else "auto"
    try:
        text = read_formula(args.expr, args.file)
        d = derive(text, args.wrt, kind, args.size, args.symmetric)
        function, derivative = d.text(args.format)
        passed = run_checks(d, args.seed) if args.check else True
    except (ParseError, ShapeError, ValueError, TypeError, np.linalg.LinAlgError) as error:
        return formula_error("diff", error, args.json)
    if args.json:
        print_json({"function": function, "wrt": d.wrt.name, "kind": d.kind, "format": args.format,
                    "derivative": derivative, "checks": d.checks, "passed": passed})
    else:
        print(f"Function:   {function}")
        print(f"Derivative: {derivative}" if "\n" not in derivative else f"Derivative:\n{derivative}")
        for c in d.checks:
            if c["passed"] is None:
                print(f"Check:      {c['check']}: skipped, {c['skipped']}")
                continue
            verdict = "ok" if c["passed"] else "FAILED"
            print(f"Check:      {c['check']}: {verdict}, relative error {c['error']:.1e}")
    return 0 if passed else 1

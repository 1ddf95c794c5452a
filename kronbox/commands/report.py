"""How the subcommands read their options and report: one line saying what and where (a caret under
the place) for a bad formula, JSON that is always valid JSON for ``--json``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable

from kronbox.amd.parsing.grammar import ParseError


def formula_error(command: str, error: Exception, as_json: bool = False) -> int:
    """Print ``error`` for ``kronbox COMMAND`` on stderr (a caret under a syntax error), and as a JSON
    object on stdout when ``as_json``; return exit code 2."""
    message = error.message if isinstance(error, ParseError) else str(error).splitlines()[0] if str(error) else \
        type(error).__name__
    column = error.position + 1 if isinstance(error, ParseError) else None
    if isinstance(error, ParseError):
        print(f"kronbox {command}: {message} (column {column})", file=sys.stderr)
        print(error.caret(), file=sys.stderr)
    else:
        print(f"kronbox {command}: {message}", file=sys.stderr)
    if as_json:
        print_json({"error": message, "column": column, "status": 2})
    return 2


def usage_error_json(prog: str, message: str) -> None:
    """A usage error (a bad option) as the JSON object ``--json`` promises."""
    print_json({"error": f"{prog}: {message}", "column": None, "status": 2})


def json_safe(value: object) -> object:
    """``value`` with every float that JSON cannot carry (nan, ±inf) replaced by ``None``, and beside
    it, in a dict, a field ``<key>_not_finite`` saying which it was (``"NaN"``, ``"Infinity"``, ``"-Infinity"``)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out[key] = json_safe(item)
            if isinstance(item, float) and not math.isfinite(item):
                out[f"{key}_not_finite"] = "NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity"
        return out
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: object) -> None:
    print(json.dumps(json_safe(value), allow_nan=False))


def nonnegative_int(text: str) -> int:
    """An argparse type: a whole number ≥ 0 (argparse names the option in its message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {value}")
    return value


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {value}")
        return value

    return parse


def nonnegative_float(text: str) -> float:
    """An argparse type: a finite number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number ≥ 0, got {text}")
    return value


def read_formula(text: str | None, path: str | None, what: str = "EXPR") -> str:
    """The formula: ``text`` itself, standard input for ``-``, or the contents of the file ``path``."""
    if path is not None:
        if text is not None:
            raise ValueError(f"give {what} or --file, not both")
        try:
            with open(path, encoding="utf-8") as file:
                return file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read --file {path}: {getattr(error, 'strerror', None) or error}") \
                from None
    if text is None:
        raise ValueError(f"give {what} (- for standard input) or --file PATH")
    if text == "-":
        return sys.stdin.read().strip()
    return text

"""How the subcommands report a bad formula: one line saying what and where, a caret under the place."""

from __future__ import annotations

import sys

from kronbox.amd.parsing.grammar import ParseError


def formula_error(command: str, error: Exception) -> int:
    """Print ``error`` for ``kronbox COMMAND`` on stderr (a caret under a syntax error); return exit code 2."""
    if isinstance(error, ParseError):
        print(f"kronbox {command}: {error.message} (column {error.position + 1})", file=sys.stderr)
        print(error.caret(), file=sys.stderr)
    else:
        print(f"kronbox {command}: {error}", file=sys.stderr)
    return 2

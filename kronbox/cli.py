"""The ``kronbox`` command line.

``kronbox demo`` runs the showcase, ``kronbox diff EXPR`` differentiates a formula and
``kronbox identity LHS RHS`` checks an operator identity numerically. Exit status: 0 on
success, 1 when a numeric check fails, 2 on a usage or parse error (one line on stderr, no
traceback).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from kronbox import __version__

_OPTION = re.compile(r"^--?[A-Za-z][A-Za-z0-9-]*(=.*)?$")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (``kronbox: …``) and exits 2 (with a JSON
    error object on stdout when ``--json`` was asked for), and reads an argument that starts with
    ``-`` but is no option, such as ``-logdet(X)``, as a formula."""

    wants_json = False

    def error(self, message: str) -> NoReturn:
        if _Parser.wants_json:
            from kronbox.commands.report import usage_error_json

            usage_error_json(self.prog, message)
        self.exit(2, f"{self.prog}: {message}\n")

    def _parse_optional(self, arg_string):
        if arg_string.startswith("-") and arg_string not in ("-", "--") and not _OPTION.match(arg_string):
            return None  # a formula such as -logdet(X) or -x'*A*x: a positional argument
        return super()._parse_optional(arg_string)


def _parser() -> argparse.ArgumentParser:
    from kronbox.commands import demo, diff, identity

    parser = _Parser(prog="kronbox", description="Lazy Kronecker and box products and matrix calculus.")
    parser.add_argument("--version", action="version", version=f"kronbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, module in (("diff", diff), ("identity", identity), ("demo", demo)):
        summary = (module.__doc__ or "").split("\n\n")[0].replace("``", "")
        module.add_arguments(commands.add_parser(name, help=module.HELP, description=summary))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _Parser.wants_json = "--json" in argv
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (MemoryError, RecursionError) as error:
        from kronbox.commands.report import formula_error

        why = "not enough memory" if isinstance(error, MemoryError) else "the formula is nested too deeply"
        return formula_error(args.command, RuntimeError(f"{why} ({type(error).__name__})"), _Parser.wants_json)


if __name__ == "__main__":
    sys.exit(main())

"""The ``kronbox`` command line.

``kronbox demo`` runs the showcase, ``kronbox diff EXPR`` differentiates a formula and
``kronbox identity LHS RHS`` checks an operator identity numerically. Exit status: 0 on
success, 1 when a numeric check fails, 2 on a usage or parse error (one line on stderr, no
traceback).
"""

from __future__ import annotations

import argparse
import sys

from kronbox import __version__


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (``kronbox: …``) and exits 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from kronbox.commands import demo, diff, identity

    parser = _Parser(prog="kronbox", description="Lazy Kronecker and box products and matrix calculus.")
    parser.add_argument("--version", action="version", version=f"kronbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, module in (("diff", diff), ("identity", identity), ("demo", demo)):
        summary = module.__doc__.split("\n\n")[0].replace("``", "")
        module.add_arguments(commands.add_parser(name, help=module.HELP, description=summary))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

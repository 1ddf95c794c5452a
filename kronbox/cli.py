"""The ``kronbox`` command line.

``kronbox demo`` runs the showcase. Exit status: 0 on success, 1 when a numeric check fails,
2 on a usage error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kronbox", description="Lazy Kronecker and box products and matrix calculus."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="solve a million-unknown Kronecker system and a Lyapunov equation")
    demo.add_argument("--size", type=int, default=1000, help="factor size n of the n²×n² system (default 1000)")
    demo.add_argument("--lyapunov-size", type=int, default=200, help="size of the Lyapunov equation (default 200)")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        if args.size < 2 or args.lyapunov_size < 2:
            print("kronbox demo: sizes must be at least 2", file=sys.stderr)
            return 2
        from .demo import run

        return 0 if run(args.size, args.lyapunov_size, args.seed) else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

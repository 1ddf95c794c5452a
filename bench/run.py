"""The benchmark entry point: ``python -m bench [suite ...] [--quick] [--plot]`` (or ``python bench/run.py``).

Every module of ``bench/suites`` is a suite, named after its module. Each suite's tables are printed
as markdown as they finish and written to ``bench/results/<suite>.md``; ``--plot`` also saves
``bench/results/<suite>.png``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def available_suites() -> dict[str, str]:
    """Suite name → one-line description, for every module of ``bench.suites``."""
    from bench import suites

    found = {}
    for module in pkgutil.iter_modules(suites.__path__):
        doc = importlib.import_module(f"bench.suites.{module.name}").__doc__ or ""
        found[module.name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def machine() -> str:
    """A one-line description of where the numbers were measured."""
    import os

    import numpy as np

    blas = "unknown BLAS"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info['name']} {info.get('version', '')}".strip()
    except Exception:  # show_config's layout differs between numpy versions
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, numpy {np.__version__} ({blas})"


def main(argv: list[str] | None = None) -> int:
    from bench.table import plot
    from bench.timing import FULL, QUICK

    known = available_suites()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", metavar="suite", help=f"suites to run (default: all): {', '.join(known)}")
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds (under a minute a suite)")
    parser.add_argument("--plot", action="store_true", help="save a PNG of the ratios to bench/results/")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, description in known.items():
            print(f"{name:12} {description}")
        return 0
    unknown = [name for name in args.suites if name not in known]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; available: {', '.join(known)}")

    settings = QUICK if args.quick else FULL
    RESULTS.mkdir(exist_ok=True)
    print(f"Machine: {machine()}. Times are medians of interleaved runs.\n")
    for name in args.suites or list(known):
        start = time.perf_counter()
        print(f"## {name}: {known[name]}\n", flush=True)
        tables = []
        for table in importlib.import_module(f"bench.suites.{name}").run(settings):
            tables.append(table)
            print(table.markdown() + "\n", flush=True)
        (RESULTS / f"{name}.md").write_text("\n\n".join(t.markdown() for t in tables) + "\n")
        if args.plot:
            plot(tables, RESULTS / f"{name}.png")
        print(f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())

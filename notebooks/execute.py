"""Execute the notebooks in place, so that they are stored with their outputs.

    python notebooks/execute.py                        # every notebooks/*.ipynb
    python notebooks/execute.py notebooks/02_*.ipynb   # some of them

Each notebook runs top to bottom in a fresh ``python3`` kernel, in the notebooks folder, against this
checkout's kronbox (its root goes first on PYTHONPATH), with matplotlib's inline backend so that plots
are stored as PNG. The notebooks seed their random generators, so re-running changes only what is
measured (timings) or machine-specific; the script strips what would change on every run anyway
(execution timestamps, the Python patch version, how printed text was chunked) so that the diff stays
small. A cell that raises stops the script with a non-zero status and leaves that notebook unchanged.

Needs the ``notebooks`` extra (``pip install -e ".[notebooks]"``) and nbformat; the test suite
(``tests/test_notebooks.py``) executes them again, without writing, on every run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# cell metadata that records when and how long a cell ran (nbclient's and Jupyter extensions')
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def _environment() -> None:
    os.environ.pop("MPLBACKEND", None)  # let ipykernel choose the inline backend: plots become PNG outputs
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.setdefault("PYTHONHASHSEED", "0")


def _coalesce_streams(outputs: list) -> list:
    """Consecutive stdout (or stderr) chunks as one output: how a print is chunked depends on timing."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def _strip(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    notebook.metadata.pop("widgets", None)
    language = notebook.metadata.get("language_info", {})
    language.pop("version", None)  # the interpreter's patch version says nothing about the notebook


def execute(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    _strip(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to execute (default: all)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    _environment()
    for path in paths:
        print(f"{path.name}: running", flush=True)
        seconds = execute(path, args.timeout)
        print(f"{path.name}: done in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

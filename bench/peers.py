"""Optional peer libraries, imported once and configured for a fair float64 comparison.

Each accessor returns the module, or None when the library is not installed (its rows are then left
out of the tables).

- jax runs with ``jax_enable_x64`` (float64 like everything else here).
- pykronecker picks its backend at import time: jax when jax is importable, else numpy. Its jax
  backend computes in float32 unless x64 is enabled and returns jax arrays, so it is imported with
  jax hidden, which gives its numpy backend (the one a plain ``pip install pykronecker`` user gets).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from functools import cache


@cache
def jax():
    try:
        module = importlib.import_module("jax")
    except ImportError:
        return None
    module.config.update("jax_enable_x64", True)
    return module


@cache
def torch():
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


@cache
def pylops():
    try:
        return importlib.import_module("pylops")
    except ImportError:
        return None


@cache
def pykronecker():
    hidden = {name: sys.modules.pop(name) for name in list(sys.modules) if name == "jax" or name.startswith("jax.")}
    sys.modules["jax"] = None  # makes ``import jax`` raise ImportError inside pykronecker
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its backend on import
            return importlib.import_module("pykronecker")
    except ImportError:
        return None
    finally:
        del sys.modules["jax"]
        sys.modules.update(hidden)

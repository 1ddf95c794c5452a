"""Where numba keeps the compiled kernels: a user cache directory, never the installed package.

``numba.njit(cache=True)`` writes its ``.nbi``/``.nbc`` files next to the source, in the package's
``__pycache__``. For an installed kronbox that is ``site-packages/kronbox/kernels/__pycache__``:
``pip`` does not remove those files on uninstall, and the leftover ``kronbox/`` folder then shadows
the next (editable) install as a namespace package. :func:`jit` compiles kronbox's kernels with a
cache that lives in

1. ``$NUMBA_CACHE_DIR`` when the user set it (numba's own setting, honored as numba does), else
2. the user's cache directory for kronbox, ``<user cache>/kronbox/numba``: ``$XDG_CACHE_HOME/kronbox/numba``
   or ``~/.cache/kronbox/numba`` on Linux, ``~/Library/Caches/kronbox/numba`` on macOS,
   ``%LOCALAPPDATA%\\kronbox\\Cache\\numba`` on Windows,

in a subfolder per source directory (numba's scheme: one kronbox install never reads another's
kernels). Where neither can be created and written (a read-only home, a sandbox), or where it would
lie inside the kronbox package itself, the kernels are compiled without a cache: correct, only
slower to start. numba's own locators (the in-tree ``__pycache__`` among them) are never consulted for
kronbox's kernels, whatever ``NUMBA_CACHE_LOCATOR_CLASSES`` says, and other numba code in the
process keeps numba's behavior unchanged.

The cache plugs into numba through its caching classes (``numba.core.caching``), which are not a
public API: if they are not what this module expects, the kernels are compiled without a cache.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numba

_PACKAGE = Path(__file__).resolve().parent.parent  # the kronbox package directory


def cache_root() -> Path | None:
    """The directory under which numba keeps kronbox's kernels (see the module docstring), or ``None``
    when no usable place is known. Nothing is created here."""
    configured = getattr(numba.config, "CACHE_DIR", "") or ""
    if configured:
        return Path(configured).expanduser()
    try:
        from numba.misc.appdirs import AppDirs

        return Path(AppDirs(appname="kronbox", appauthor=False).user_cache_dir) / "numba"
    except Exception:  # numba's bundled appdirs moved: the XDG rule
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):
            base = os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "kronbox" / "numba" if os.path.isabs(base) else None


def _inside_package(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(_PACKAGE)
    except (OSError, RuntimeError):
        return True  # cannot tell: do not risk it


def _function_cache(py_func: Callable):
    """A numba ``FunctionCache`` for ``py_func`` kept under :func:`cache_root`, or ``None`` (no cache)."""
    root = cache_root()
    if root is None or _inside_package(root):
        return None
    directory = str(root)
    try:
        from numba.core import caching

        class Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
            def __init__(self, py_func, py_file):
                self._py_file = py_file
                self._lineno = py_func.__code__.co_firstlineno
                self._cache_path = os.path.join(directory, self.get_suitable_cache_subpath(py_file))

            def get_cache_path(self):
                return self._cache_path

        class Impl(caching.CompileResultCacheImpl):
            def __init__(self, py_func):  # numba's own __init__, with this one locator
                self._lineno = py_func.__code__.co_firstlineno
                source = inspect.getfile(py_func)
                self._locator = Locator.from_function(py_func, source)
                if self._locator is None:  # the directory cannot be created or written
                    raise OSError(f"numba cache directory {root} is not writable")
                modname = os.path.splitext(os.path.basename(source))[0]
                fullname = f"{modname}.{py_func.__qualname__}"
                self._filename_base = self.get_filename_base(fullname, getattr(sys, "abiflags", ""))

        class Cache(caching.FunctionCache):
            _impl_class = Impl

        cache = Cache(py_func)
    except Exception:  # not writable, or numba's caching classes are not what this module expects
        return None
    if _inside_package(Path(cache.cache_path)):
        return None
    return cache


def jit(**options) -> Callable:
    """``numba.njit(**options)`` whose compiled code is cached outside the package (see the module docstring)."""

    def decorate(py_func):
        dispatcher = numba.njit(**options)(py_func)
        if not hasattr(dispatcher, "enable_caching"):  # NUMBA_DISABLE_JIT: the plain Python function
            return dispatcher
        cache = _function_cache(py_func)
        if cache is not None:
            dispatcher._cache = cache  # what ``cache=True`` sets (Dispatcher.enable_caching), with this locator
        return dispatcher

    return decorate

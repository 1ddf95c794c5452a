"""The BLAS thread pools of the process (numpy's and scipy's OpenBLAS builds each have one).

:func:`pools` is made once (making a controller scans the loaded libraries); :func:`threads` runs
a block with a given number of threads in every pool.

The pools belong to the whole process, so a limit is process-wide state shared by every thread that
runs kronbox code, and OpenBLAS (0.3.30 and later, measured) honors ``openblas_set_num_threads`` only
from the thread that set it first, while that thread lives: a restore made by another thread is
silently ignored. :func:`threads` is therefore correct under concurrency this way: under one lock, the
first block to enter while no limit is active records the pools' sizes and applies its limit; blocks
of other threads entering meanwhile run under that limit and change nothing; the same thread restores
the recorded sizes when its outermost block leaves (nested blocks in that thread hold the smallest
limit asked for). Every change is made, and undone, by one thread, so however calls of ``amd.minimize``
and Sylvester solves overlap across threads, the pools end with the sizes they had before the first
one began. (A block of another thread still running then continues without the limit: the limit is a
matter of speed, never of results.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def pools() -> ThreadpoolController:
    """The thread pools of the BLAS libraries loaded in this process."""
    return ThreadpoolController()


_lock = threading.Lock()
_holder: int | None = None  # the thread whose block applied the active limit (None: no limit active)
_limits: list[int] = []  # the limits of the holder's nested blocks, outermost first
_original = None  # the limiter that recorded the pools' sizes when the holder's outermost block entered


def _enter(count: int) -> bool:
    """Enter a block; True when this thread holds the limit (it applied it or nests inside its own)."""
    global _holder, _original
    me = threading.get_ident()
    with _lock:
        if _holder is None:
            _original = pools().limit(limits=count, user_api="blas")
            _holder, _limits[:] = me, [count]
            return True
        if _holder != me:
            return False  # another thread's limit is active: run under it
        if count < min(_limits):
            pools().limit(limits=count, user_api="blas")
        _limits.append(count)
        return True


def _leave() -> None:
    global _holder, _original
    with _lock:
        left = _limits.pop()
        if not _limits:
            original, _original, _holder = _original, None, None
            assert original is not None, "the outermost block recorded the pools' sizes"
            original.restore_original_limits()
        elif left < min(_limits):
            pools().limit(limits=min(_limits), user_api="blas")


@contextmanager
def _limited(count: int) -> Iterator[None]:
    holds = _enter(count)
    try:
        yield
    finally:
        if holds:
            _leave()


def single_threaded() -> bool:
    """Whether a :func:`threads` block of one thread is active (every pool runs one thread: switching
    between numpy's and scipy's pools then costs nothing)."""
    return _holder is not None and min(_limits, default=0) == 1


def threads(count: int | None) -> AbstractContextManager:
    """A context running every BLAS pool with at most ``count`` threads (``None``: the pools left alone).

    Safe under concurrency and nesting (see the module docstring): the thread that applies a limit also
    restores the pools' sizes when its outermost block leaves; blocks of other threads entering meanwhile
    run under that limit and leave the pools alone.
    """
    if count is None:
        return nullcontext()
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"BLAS threads: expected a positive integer or None, got {count!r}")
    return _limited(count)

"""The BLAS thread pools of the process (numpy's and scipy's OpenBLAS builds each have one).

:func:`pools` is made once (making a controller scans the loaded libraries); :func:`threads` runs
a block with a given number of threads in every pool.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def pools() -> ThreadpoolController:
    """The thread pools of the BLAS libraries loaded in this process."""
    return ThreadpoolController()


def threads(count: int | None) -> AbstractContextManager:
    """A context running every BLAS pool with ``count`` threads (``None``: the pools left alone)."""
    return pools().limit(limits=count, user_api="blas") if count is not None else nullcontext()

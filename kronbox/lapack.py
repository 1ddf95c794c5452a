"""Cholesky factorization and inverse in numpy's own OpenBLAS thread pool.

numpy and scipy ship separate OpenBLAS builds with separate thread pools, and on a small machine
switching between them is expensive: each pool's idle threads spin for a while after a call and
starve the other's (DESIGN.md §6). numpy exposes no Cholesky inverse (``potri``), and scipy's
runs in scipy's pool, so a gradient that inverts with scipy and multiplies with numpy paid for
the switch: at n = 1024, ``potrf`` + ``potri`` took 16.5 ms here against 114 ms through
``scipy.linalg.lapack`` followed by numpy products, and 128 ms for ``numpy.linalg.inv`` (LU),
measured side by side. So the two routines are called directly from the OpenBLAS library numpy
loaded (found by threadpoolctl; its LAPACK symbols are ``scipy_dpotrf_64_`` and friends in
numpy's wheels). Where that library or its symbols are not there (numpy built against MKL or
Accelerate), scipy's LAPACK is used instead.

Both functions work in place on a C-ordered symmetric matrix ``W``, whose memory read in Fortran
order is ``Wᵀ = W``: the lower triangle in Fortran order is the upper triangle in C order.
"""

from __future__ import annotations

import ctypes
from functools import cache

import numpy as np
from scipy.linalg import lapack as scipy_lapack
from threadpoolctl import ThreadpoolController


class _Routines:
    """``potrf`` and ``potri`` (float64, float32) from one library, with its integer width."""

    def __init__(self, library: ctypes.CDLL, names: dict[str, str], integer):
        self.integer = integer
        self.functions = {}
        for key, name in names.items():
            f = getattr(library, name)
            f.argtypes = [ctypes.c_char_p, ctypes.POINTER(integer), ctypes.c_void_p, ctypes.POINTER(integer),
                          ctypes.POINTER(integer), ctypes.c_size_t]
            f.restype = None
            self.functions[key] = f

    def __call__(self, routine: str, W: np.ndarray) -> int:
        n, info = self.integer(W.shape[0]), self.integer(0)
        self.functions[routine, W.dtype.char](b"L", ctypes.byref(n), W.ctypes.data, ctypes.byref(n),
                                              ctypes.byref(info), 1)
        return int(info.value)


# Symbol spellings of the Fortran LAPACK entry points, with the integer width each implies.
_SPELLINGS = (("scipy_{}_64_", ctypes.c_int64), ("{}_64_", ctypes.c_int64), ("{}_", ctypes.c_int32))


@cache
def _numpy_routines() -> _Routines | None:
    for controller in ThreadpoolController().lib_controllers:
        if controller.internal_api != "openblas" or "numpy" not in controller.filepath:
            continue
        library = ctypes.CDLL(controller.filepath)
        for spelling, integer in _SPELLINGS:
            names = {(r, c): spelling.format(p + r) for r in ("potrf", "potri") for p, c in (("d", "d"), ("s", "f"))}
            if all(hasattr(library, name) for name in names.values()):
                return _Routines(library, names, integer)
    return None


def _scipy_call(routine: str, W: np.ndarray) -> int:
    f = scipy_lapack.get_lapack_funcs((routine,), (W,))[0]
    result, info = f(W.T, lower=1, overwrite_c=1) if routine == "potri" else f(W.T, lower=1, overwrite_a=1, clean=0)
    if result.ctypes.data != W.ctypes.data:  # scipy copied: bring the result back
        W.T[...] = result
    return int(info)


def _call(routine: str, W: np.ndarray) -> int:
    if W.dtype not in (np.float64, np.float32) or not W.flags.c_contiguous or W.shape[0] != W.shape[1]:
        raise ValueError(f"{routine}: needs a square C-ordered float32/float64 matrix, got {W.dtype} {W.shape}")
    routines = _numpy_routines()
    return routines(routine, W) if routines is not None else _scipy_call(routine, W)


def cholesky_in_place(W: np.ndarray) -> bool:
    """Overwrite the upper triangle (C order) of the symmetric ``W`` with ``U``, ``W = Uᵀ U``.

    Returns False (``W`` partly overwritten) when ``W`` is not positive definite.
    """
    return _call("potrf", W) == 0


def inverse_from_cholesky_in_place(U: np.ndarray) -> bool:
    """Overwrite the upper triangle of ``U`` (from :func:`cholesky_in_place`) with that of ``W⁻¹``."""
    return _call("potri", U) == 0

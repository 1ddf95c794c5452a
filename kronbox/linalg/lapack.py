"""Cholesky and LU factorizations and inverses in numpy's own OpenBLAS thread pool.

numpy and scipy ship separate OpenBLAS builds with separate thread pools, and on a small machine
switching between them is expensive: each pool's idle threads spin for a while after a call and
starve the other's. numpy exposes no Cholesky inverse (``potri``), and scipy's
runs in scipy's pool, so a gradient that inverts with scipy and multiplies with numpy paid for
the switch: at n = 1024, ``potrf`` + ``potri`` took 16.5 ms here against 114 ms through
``scipy.linalg.lapack`` followed by numpy products, and 128 ms for ``numpy.linalg.inv`` (LU),
measured side by side. So the two routines are called directly from the OpenBLAS library numpy
loaded (found by threadpoolctl; its LAPACK symbols are ``scipy_dpotrf_64_`` and friends in
numpy's wheels). Where that library or its symbols are not there (numpy built against MKL or
Accelerate), scipy's LAPACK is used instead.

Inside a :func:`kronbox.linalg.blas.threads` block of one thread (``amd.minimize``'s default) there is
no pool to switch, and scipy's compiled wrappers are used: they save the ctypes call (about 2 µs)
and scipy's OpenBLAS factorizes small matrices faster (``potrf`` + ``potri`` at n = 50: 22 µs
against 36 µs through ctypes in numpy's, at n = 16 3 µs against 8 µs, measured side by side).

Every function works in place on a C-ordered matrix ``W``, whose memory read in Fortran order is
``Wᵀ``. For a symmetric ``W`` that is ``W`` again, and the lower triangle in Fortran order is the
upper triangle in C order. For a general ``W`` the LU factors are those of ``Wᵀ`` (the same
determinant), and inverting ``Wᵀ`` in Fortran order leaves ``W⁻¹`` in C order.
"""

from __future__ import annotations

import ctypes
from functools import cache

import numpy as np
from scipy.linalg import lapack as scipy_lapack

from kronbox.linalg import blas

_PREFIX_DTYPE = {"d": "d", "s": "f", "z": "D", "c": "F"}  # LAPACK prefix → numpy dtype character


class _Routines:
    """``potrf``, ``potri``, ``getrf`` and ``getri`` from one library, with its integer width."""

    def __init__(self, library: ctypes.CDLL, spelling: str, integer):
        self.integer = integer
        self.functions = {}
        pointer = ctypes.POINTER(integer)
        signatures = {
            "potrf": [ctypes.c_char_p, pointer, ctypes.c_void_p, pointer, pointer, ctypes.c_size_t],
            "potri": [ctypes.c_char_p, pointer, ctypes.c_void_p, pointer, pointer, ctypes.c_size_t],
            "getrf": [pointer, pointer, ctypes.c_void_p, pointer, ctypes.c_void_p, pointer],
            "getri": [pointer, ctypes.c_void_p, pointer, ctypes.c_void_p, ctypes.c_void_p, pointer, pointer],
        }
        for routine, argtypes in signatures.items():
            for prefix, char in _PREFIX_DTYPE.items():
                if routine.startswith("po") and prefix in "zc":
                    continue
                f = getattr(library, spelling.format(prefix + routine))
                f.argtypes, f.restype = argtypes, None
                self.functions[routine, char] = f

    def triangle(self, routine: str, W: np.ndarray) -> int:
        n, info = self.integer(W.shape[0]), self.integer(0)
        self.functions[routine, W.dtype.char](b"L", ctypes.byref(n), W.ctypes.data, ctypes.byref(n),
                                              ctypes.byref(info), 1)
        return int(info.value)

    def lu(self, W: np.ndarray) -> tuple[np.ndarray, int]:
        n, info = self.integer(W.shape[0]), self.integer(0)
        pivots = np.empty(W.shape[0], dtype=np.dtype(self.integer))
        self.functions["getrf", W.dtype.char](ctypes.byref(n), ctypes.byref(n), W.ctypes.data, ctypes.byref(n),
                                              pivots.ctypes.data, ctypes.byref(info))
        return pivots, int(info.value)

    def lu_inverse(self, W: np.ndarray, pivots: np.ndarray) -> int:
        n, info = self.integer(W.shape[0]), self.integer(0)
        size = self.integer(max(1, 64 * W.shape[0]))
        work = np.empty(size.value, dtype=W.dtype)
        self.functions["getri", W.dtype.char](ctypes.byref(n), W.ctypes.data, ctypes.byref(n), pivots.ctypes.data,
                                              work.ctypes.data, ctypes.byref(size), ctypes.byref(info))
        return int(info.value)


# Symbol spellings of the Fortran LAPACK entry points, with the integer width each implies.
_SPELLINGS = (("scipy_{}_64_", ctypes.c_int64), ("{}_64_", ctypes.c_int64), ("{}_", ctypes.c_int32))


@cache
def _numpy_routines() -> _Routines | None:
    for controller in blas.pools().lib_controllers:
        if controller.internal_api != "openblas" or "numpy" not in controller.filepath:
            continue
        library = ctypes.CDLL(controller.filepath)
        for spelling, integer in _SPELLINGS:
            try:
                return _Routines(library, spelling, integer)
            except AttributeError:  # not this spelling
                continue
    return None


@cache
def _scipy_routine(routine: str, char: str):
    return scipy_lapack.get_lapack_funcs((routine,), dtype=np.dtype(char))[0]


def _scipy_call(routine: str, W: np.ndarray) -> int:
    f = _scipy_routine(routine, W.dtype.char)
    Wt = W.T
    result, info = f(Wt, lower=1, overwrite_c=1) if routine == "potri" else f(Wt, lower=1, overwrite_a=1, clean=0)
    if result is not Wt:  # scipy copied: bring the result back
        Wt[...] = result
    return int(info)


def _check(routine: str, W: np.ndarray, dtypes: tuple) -> None:
    if W.dtype not in dtypes or not W.flags.c_contiguous or W.ndim != 2 or W.shape[0] != W.shape[1]:
        kinds = "/".join(np.dtype(d).name for d in dtypes)
        raise ValueError(f"{routine}: needs a square C-ordered {kinds} matrix, got {W.dtype} {W.shape}")


def _routines() -> _Routines | None:
    """numpy's OpenBLAS routines, or ``None`` for scipy's LAPACK (one thread per pool, or no such library)."""
    return None if blas.single_threaded() else _numpy_routines()


def _call(routine: str, W: np.ndarray) -> int:
    _check(routine, W, (np.float64, np.float32))
    routines = _routines()
    return routines.triangle(routine, W) if routines is not None else _scipy_call(routine, W)


def cholesky_in_place(W: np.ndarray) -> bool:
    """Overwrite the upper triangle (C order) of the symmetric ``W`` with ``U``, ``W = Uᵀ U``.

    Returns False (``W`` partly overwritten) when ``W`` is not positive definite.
    """
    return _call("potrf", W) == 0


def inverse_from_cholesky_in_place(U: np.ndarray) -> bool:
    """Overwrite the upper triangle of ``U`` (from :func:`cholesky_in_place`) with that of ``W⁻¹``."""
    return _call("potri", U) == 0


LU_TYPES = (np.float64, np.float32, np.complex128, np.complex64)


def lu_in_place(W: np.ndarray) -> tuple[np.ndarray, int]:
    """LU-factorize ``Wᵀ`` (Fortran view of the C-ordered ``W``) in place: ``(pivots, info)``,
    ``info > 0`` when ``W`` is exactly singular. ``det W = (−1)^(swaps) Π diag``; pivots are 1-based."""
    _check("getrf", W, LU_TYPES)
    routines = _routines()
    if routines is not None:
        return routines.lu(W)
    getrf = _scipy_routine("getrf", W.dtype.char)
    Wt = W.T
    lu, pivots, info = getrf(Wt, overwrite_a=1)
    if lu is not Wt:
        Wt[...] = lu
    return pivots + 1, int(info)


def inverse_from_lu_in_place(W: np.ndarray, pivots: np.ndarray) -> bool:
    """Overwrite ``W`` (from :func:`lu_in_place`) with ``W⁻¹``; False if it is singular."""
    routines = _routines()
    if routines is not None:
        return routines.lu_inverse(W, pivots) == 0
    getri = _scipy_routine("getri", W.dtype.char)
    Wt = W.T
    inverse, info = getri(Wt, pivots - 1, overwrite_lu=1)
    if inverse is not Wt:
        Wt[...] = inverse
    return info == 0

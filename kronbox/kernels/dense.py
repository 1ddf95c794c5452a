"""Dense materialization of Kronecker, box and outer products, diagonals and sums of them (numba, parallel).

Each kernel *accumulates* ``c · term`` into a preallocated output, so a sum of structured terms is
formed in one buffer without temporaries. Row-major index pairs: row ``(ij) = i·m2 + j``.

- Kron: ``out[(ij),(kl)] += c · A[i,k] B[j,l]``, column ``(kl) = k·n2 + l``
- Box:  ``out[(ij),(kl)] += c · A[i,l] B[j,k]``, column ``(kl) = k·n1 + l``
- Outer: ``out[i, j] += c · u[i] v[j]``; Diag: ``out[i, i] += c · d[i]``

Measured by ``python -m bench dense`` (2 cores): a single term below about 4·10³ output entries is
2–3× faster as numpy's broadcast product ``A[:, None, :, None] * B[None, :, None, :]`` than through a
kernel (about 5 µs of call and thread-switch overhead), from 2·10⁴ entries on the kernels are 1.2–3×
faster than the best numpy form (the broadcast product; ``np.kron``, an einsum of the definition and
``np.multiply.outer`` plus a transpose are no faster), and a sum is accumulated by the kernels at
every size (a numpy sum of broadcast products wins only below about 10³ entries, by at most 3 µs), so
single terms below 2¹³ entries are formed by numpy and everything else by the kernels.

This module imports numba; kronbox imports it only when something is materialized.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext

import numba
import numpy as np

from kronbox.kernels.cache import jit

# A parallel region entered right after a multi-threaded numpy product waits 3–8 ms for OpenBLAS's
# spinning threads (2 cores, measured): a 4⁴-entry Kron took 0.01 ms on one thread and 3.5 ms on
# two, a 32⁴ = 2²⁰-entry one 0.47 ms against 3.5–7.4 ms. At 64⁴ = 2²⁴ entries two threads took
# 6.5–15 ms against 9–10 ms, at 80⁴ 25–37 ms against 29–37 ms. Smaller outputs use one thread.
_PARALLEL_MIN_ENTRIES = 1 << 22

# Below this many output entries numpy's broadcast product beats a kernel call (see the docstring).
_NUMBA_MIN_ENTRIES = 1 << 13


# numba's workqueue threading layer aborts the process (exit 134) when two Python threads run
# parallel kernels at once; tbb and omp are thread-safe. Kernel calls are serialized by this lock
# while the layer is workqueue or not yet chosen (numba picks it at the first parallel launch). It is
# re-entrant: a sum's terms are formed while the sum's buffer is being filled (an operator factor's
# dense form, made by the kernels too), one kernel after the other in the same thread.
_WORKQUEUE_LOCK = threading.RLock()
_THREADSAFE_LAYERS = frozenset({"tbb", "omp"})


def _layer_is_threadsafe() -> bool:
    """Whether numba's threading layer is known to take parallel launches from several threads at once."""
    try:
        return numba.threading_layer() in _THREADSAFE_LAYERS
    except ValueError:  # no parallel region launched yet: the layer is not chosen
        return False


@contextmanager
def _threads_for(out: np.ndarray) -> Iterator[None]:
    """Run the kernels inside on one thread unless ``out`` is large enough to gain from more.

    Also the one way into a kernel: under numba's workqueue layer (which is not thread-safe) one thread
    at a time, so concurrent ``to_dense`` calls from several Python threads are safe on every layer.
    """
    lock = nullcontext() if _layer_is_threadsafe() else _WORKQUEUE_LOCK
    with lock:
        if out.size >= _PARALLEL_MIN_ENTRIES:
            yield
            return
        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            yield
        finally:
            numba.set_num_threads(previous)


@jit(parallel=True)
def _kron_into(out, A, B, c):
    m1, n1 = A.shape
    m2, n2 = B.shape
    for i in numba.prange(m1):
        for k in range(n1):
            a = c * A[i, k]
            for j in range(m2):
                row = i * m2 + j
                for l in range(n2):
                    out[row, k * n2 + l] += a * B[j, l]


@jit(parallel=True)
def _box_into(out, A, B, c):
    m1, n1 = A.shape
    m2, n2 = B.shape
    for i in numba.prange(m1):
        for j in range(m2):
            row = i * m2 + j
            for k in range(n2):
                b = c * B[j, k]
                for l in range(n1):
                    out[row, k * n1 + l] += A[i, l] * b


@jit(parallel=True)
def _outer_into(out, u, v, c):
    for i in numba.prange(u.shape[0]):
        a = c * u[i]
        for j in range(v.shape[0]):
            out[i, j] += a * v[j]


def _kron_factors(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Views of ``A``, ``B`` whose broadcast product is ``A ⊗ B`` laid out as ``(m1, m2, n1, n2)``."""
    return A[:, None, :, None], B[None, :, None, :]


def _box_factors(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Views of ``A``, ``B`` whose broadcast product is ``A ⊠ B`` laid out as ``(m1, m2, n2, n1)``."""
    return A[:, None, None, :], B[None, :, :, None]


def _outer_factors(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return u[:, None], v[None, :]


def _dense(kernel, broadcast, x: np.ndarray, y: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """One structured term as a new matrix: numpy broadcasting below ``_NUMBA_MIN_ENTRIES``, else the kernel."""
    if shape[0] * shape[1] < _NUMBA_MIN_ENTRIES:
        a, b = broadcast(x, y)
        return (a * b).reshape(shape)
    out = np.zeros(shape, dtype=np.result_type(x, y))
    with _threads_for(out):
        kernel(out, x, y, out.dtype.type(1))
    return out


def kron_dense(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``np.kron(A, B)``."""
    return _dense(_kron_into, _kron_factors, A, B, (A.shape[0] * B.shape[0], A.shape[1] * B.shape[1]))


def box_dense(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The box product ``A ⊠ B`` as a dense matrix."""
    return _dense(_box_into, _box_factors, A, B, (A.shape[0] * B.shape[0], A.shape[1] * B.shape[1]))


def outer_dense(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``u vᵀ``."""
    return _dense(_outer_into, _outer_factors, u, v, (u.shape[0], v.shape[0]))


def diag_dense(d: np.ndarray) -> np.ndarray:
    """``diag(d)``."""
    return np.diag(d)


def sum_dense(terms: Iterable[tuple], shape: tuple[int, int], dtype) -> np.ndarray:
    """``Σ cᵢ · termᵢ`` as one dense matrix of ``dtype``, structured terms accumulated in place.

    Each term is ``(kind, c, x, y)``: ``("kron", c, A, B)``, ``("box", c, A, B)``, ``("outer", c, u, v)``,
    ``("diag", c, d, None)`` or ``("dense", c, M, None)`` (an operator hands its own, see
    ``Operator.dense_terms``); ``dtype`` holds every term's entries.
    """
    out = np.zeros(shape, dtype=dtype)
    kernels = {"kron": _kron_into, "box": _box_into, "outer": _outer_into}
    with _threads_for(out):
        for kind, c, x, y in terms:
            if kind in kernels:
                kernels[kind](out, x, y, out.dtype.type(c))
            elif kind == "diag":
                rows = np.arange(out.shape[0])
                out[rows, rows] += out.dtype.type(c) * x
            else:
                out += x if c == 1 else c * x
    return out

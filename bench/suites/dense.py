"""Dense materialization (``to_dense``): the numba kernels against numpy, small to large.

For ``n×n`` float64 factors, the ``n² × n²`` matrices of ``A ⊗ B``, ``A ⊠ B``, ``u vᵀ`` (``u``, ``v``
of length ``n²``) and the sum ``A ⊗ B + A ⊠ B + u vᵀ``, formed by kronbox's ``to_dense()`` (whatever
it dispatches to), by the numba kernels of ``kronbox.kernels.dense`` (zeroed buffer, accumulate), and by
numpy: ``np.kron``, an einsum of the definition, ``np.multiply.outer`` plus a transposing copy, and a
broadcast product written straight in the output layout. The baseline is the numba kernel.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np

import kronbox as kb
from bench.table import Table
from bench.timing import Settings, compare
from kronbox.kernels import dense as kernels

SIZES = (2, 4, 6, 8, 12, 16, 32, 64)  # 64: a 4096 × 4096 output (134 MB)
QUICK_SIZES = (4, 16, 32)
NUMBA = "numba kernel"
SUM = "Sum Kron + Box + Outer"


def _numba(shape, *terms):
    """The numba path: a zeroed buffer, then one accumulating kernel call per ``(kernel, x, y)``."""

    def run():
        out = np.zeros(shape)
        with kernels._threads_for(out):
            for kernel, x, y in terms:
                kernel(out, x, y, 1.0)
        return out

    return run


def _cases(A, B, u, v) -> dict[str, dict[str, Callable[[], object]]]:
    """The candidates for each kind of matrix, built from ``n×n`` factors and length-``n²`` vectors."""
    N = A.shape[0] * B.shape[0]
    kron, box, outer = kb.Kron(A, B), kb.Box(A, B), kb.Outer(u, v)
    total = kron + box + outer
    return {
        "Kron": {
            NUMBA: _numba((N, N), (kernels._kron_into, A, B)),
            "kronbox `to_dense()`": kron.to_dense,
            "`np.kron`": lambda: np.kron(A, B),
            "einsum of the definition": lambda: np.einsum("ik,jl->ijkl", A, B).reshape(N, N),
            "`np.multiply.outer` + transpose": lambda: np.multiply.outer(A, B).transpose(0, 2, 1, 3).reshape(N, N),
            "broadcast product": lambda: (A[:, None, :, None] * B[None, :, None, :]).reshape(N, N),
        },
        "Box": {
            NUMBA: _numba((N, N), (kernels._box_into, A, B)),
            "kronbox `to_dense()`": box.to_dense,
            "einsum of the definition": lambda: np.einsum("il,jk->ijkl", A, B).reshape(N, N),
            "`np.multiply.outer` + transpose": lambda: np.multiply.outer(A, B).transpose(0, 2, 3, 1).reshape(N, N),
            "broadcast product": lambda: (A[:, None, None, :] * B[None, :, :, None]).reshape(N, N),
        },
        "Outer": {
            NUMBA: _numba((N, N), (kernels._outer_into, u, v)),
            "kronbox `to_dense()`": outer.to_dense,
            "`np.multiply.outer`": lambda: np.multiply.outer(u, v),
        },
        SUM: {
            NUMBA: _numba((N, N), (kernels._kron_into, A, B), (kernels._box_into, A, B), (kernels._outer_into, u, v)),
            "kronbox `to_dense()`": total.to_dense,
            "numpy: sum of broadcast products": lambda: (
                (A[:, None, :, None] * B[None, :, None, :] + A[:, None, None, :] * B[None, :, :, None]).reshape(N, N)
                + np.multiply.outer(u, v)
            ),
        },
    }


def run(settings: Settings) -> Iterator[Table]:
    rng = np.random.default_rng(0)
    tables = {kind: Table(f"{kind} to_dense", NUMBA) for kind in ("Kron", "Box", "Outer", SUM)}
    for n in QUICK_SIZES if settings.quick else SIZES:
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        u, v = rng.standard_normal(n * n), rng.standard_normal(n * n)
        kron, box = np.kron(A, B), np.einsum("il,jk->ijkl", A, B).reshape(n * n, n * n)
        reference = {"Kron": kron, "Box": box, "Outer": np.outer(u, v), SUM: kron + box + np.outer(u, v)}
        for kind, candidates in _cases(A, B, u, v).items():
            print(f"  {kind} to_dense, n = {n} ...", file=sys.stderr, flush=True)
            tables[kind].add(f"n = {n}", compare(candidates, reference[kind], settings, rtol=1e-12))
    yield from tables.values()

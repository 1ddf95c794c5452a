"""Iterative solves for operators without a closed-form inverse (scipy's Krylov methods).

``A X = B`` is solved column by column with MINRES when ``A`` is Hermitian (checked by one random
probe, ``A x = Aᴴ x``) and restarted GMRES otherwise, to a relative residual
``‖b − A x‖ ≤ rtol ‖b‖``. A solve that stops short raises :class:`ConvergenceError` with the
residual it reached; nothing is returned silently unconverged.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.linalg import gmres, minres

from kronbox.operators.base import Operator

# GMRES restart length (Krylov vectors kept between restarts).
_RESTART = 50


class ConvergenceError(np.linalg.LinAlgError):
    """A Krylov solve stopped before reaching its tolerance."""


def default_rtol(dtype) -> float:
    """The default relative residual: ``1e-10`` in double precision, ``1e-5`` in single."""
    return 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def _looks_hermitian(op: Operator) -> bool:
    x = np.random.default_rng(0).standard_normal(op.shape[1]).astype(op.dtype)
    y, z = op.matvec(x), op.rmatvec(x)
    return bool(np.linalg.norm(y - z) <= 100 * np.finfo(op.dtype).eps * np.linalg.norm(y))


def krylov_solve(op: Operator, B: np.ndarray, rtol: float | None = None, maxiter: int = 1000) -> np.ndarray:
    """Solve ``A X = B`` for the ``N × k`` block ``B`` with at most ``maxiter`` iterations per column.

    MINRES for Hermitian ``A``, else GMRES restarted every 50 iterations. ``rtol`` defaults to
    :func:`default_rtol` of the operator's dtype. Raises :class:`ConvergenceError` naming the
    operator, the method and the residual reached when a column does not converge.
    """
    rtol = default_rtol(op.dtype) if rtol is None else rtol
    hermitian = _looks_hermitian(op)
    method = "MINRES" if hermitian else "GMRES"
    X = np.empty(B.shape, dtype=np.result_type(op.dtype, B.dtype))
    for c in range(B.shape[1]):
        b = B[:, c]
        if hermitian:
            x, info = minres(op, b, rtol=rtol, maxiter=maxiter)
        else:
            restart = min(_RESTART, op.shape[0])
            x, info = gmres(op, b, rtol=rtol, restart=restart, maxiter=math.ceil(maxiter / restart))
        scale = np.linalg.norm(b)
        residual = np.linalg.norm(b - op.matvec(x)) / scale if scale > 0 else 0.0
        if info != 0 or residual > 10 * rtol:
            raise ConvergenceError(
                f"solve: {method} on {op!r} reached a relative residual of {residual:.3g} after at most "
                f"{maxiter} iterations, short of rtol = {rtol:.1g} (is the operator singular or badly "
                f"conditioned? A preconditioner or a closed form is needed)"
            )
        X[:, c] = x
    return X

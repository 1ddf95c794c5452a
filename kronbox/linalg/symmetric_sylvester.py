"""``A Z + Z B = C`` for real symmetric ``A`` and ``B``, by eigendecompositions, in any Array API library.

With ``A = P diag(a) Pᵀ`` and ``B = Q diag(b) Qᵀ`` (``xp.linalg.eigh``),

    Z = P ((Pᵀ C Q) ⊘ (aᵢ + bⱼ)) Qᵀ,

four matrix products once the two eigendecompositions are made, all in the library and on the
device of the arrays. This is the inverse of the Kronecker sum ``A ⊗ I + I ⊗ B`` (row-major
``vec``), and so, at a symmetric positive definite ``X``, the Jacobian of ``sqrtm`` (``R ⊕ R`` with
``R = X^{1/2}``): it lets that Jacobian and the gradients through ``sqrtm`` run on PyTorch, JAX or
CuPy arrays. General coefficients need the Schur form (Bartels–Stewart, :mod:`kronbox.linalg.sylvester`),
which only numpy and scipy have. dask arrays are left out: testing their symmetry would compute them.

Symmetry is tested to round-off, ``max|A − Aᵀ| ≤ 64 ε max|A|`` (a square root ``Q diag(√w) Qᵀ``
computed in floating point is symmetric only so far), and the symmetric part ``(A + Aᵀ)/2`` is
decomposed.
"""

from __future__ import annotations

import numpy as np

from kronbox.backend import library, numpy_dtype

_ROUND_OFF = 64


def for_kronsum(op) -> SymmetricSylvester | None:
    """The solver of ``(A ⊕ B) vec X = vec C``, i.e. ``A X + X Bᵀ = C`` with ``Bᵀ = B``, for a Kronecker
    sum ``op`` of symmetric factors of another library; ``None`` for any other. Decided (the symmetry
    test reads both factors) and decomposed once per operator: every later solve is four products."""
    if op.backend is None:
        return None
    xp = op.backend.xp
    return op.kept("symmetric sylvester", lambda: SymmetricSylvester(xp, op.A, op.B) if solvable(xp, op.A, op.B)
                   else None)


def solvable(xp, A, B) -> bool:
    """Whether ``A Z + Z B = C`` can be solved here: real symmetric dense ``A`` and ``B``, not dask."""
    return all(_symmetric(xp, M) for M in (A, B))


def _symmetric(xp, A) -> bool:
    if library(A) in (None, "dask") or getattr(A, "ndim", 0) != 2 or A.shape[0] != A.shape[1]:
        return False
    if not xp.isdtype(A.dtype, "real floating"):
        return False
    if A.shape[0] == 0:
        return True
    eps = float(np.finfo(numpy_dtype(A.dtype)).eps)
    return float(xp.max(xp.abs(A - A.T))) <= _ROUND_OFF * eps * float(xp.max(xp.abs(A)))


class SymmetricSylvester:
    """The eigendecompositions of ``A`` and ``B``, kept for every right-hand side; ``LinAlgError``
    when ``A`` and ``−B`` share an eigenvalue (the equation is singular)."""

    def __init__(self, xp, A, B):
        self.xp = xp
        a, self.P = xp.linalg.eigh((A + A.T) / 2)
        b, self.Q = xp.linalg.eigh((B + B.T) / 2)
        self.denominator = a[:, None] + b[None, :]
        scale = max(float(xp.max(xp.abs(a))), float(xp.max(xp.abs(b))), 1e-300)
        eps = float(np.finfo(numpy_dtype(self.denominator.dtype)).eps)
        if float(xp.min(xp.abs(self.denominator))) <= _ROUND_OFF * eps * scale:
            raise np.linalg.LinAlgError("A Z + Z B = C is singular: A and −B share an eigenvalue")

    def solve(self, C):
        """``Z`` for ``C`` of shape ``(m, n)`` or a stack ``(k, m, n)``."""
        P, Q = self.P, self.Q
        return P @ ((P.T @ C @ Q) / self.denominator) @ Q.T

"""One factorization per square matrix per evaluation, shared by ``inv``, ``det`` and ``logdet``.

A real matrix that is exactly symmetric is tried with Cholesky first (half the work of LU, and the
usual case for covariance and Hessian-like arguments); if it is not positive definite, or the
matrix is not symmetric, or complex (as under the complex step), LU is used.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.linalg import lapack


class Factorization:
    """``A = L Lᵀ`` (Cholesky) when that works, LU otherwise; ``what`` names ``A`` in errors."""

    def __init__(self, A: np.ndarray, what: str):
        self.A, self.what = A, what

    @cached_property
    def cholesky(self) -> np.ndarray | None:
        A = self.A
        if A.dtype.kind != "f" or A.shape[0] < 2 or not np.array_equal(A, A.T):
            return None
        try:
            return np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return None

    @cached_property
    def slogdet(self) -> tuple[float | complex, float]:
        L = self.cholesky
        if L is not None:
            return 1.0, 2.0 * float(np.log(L.diagonal()).sum())
        sign, logabs = np.linalg.slogdet(self.A)
        return sign, float(logabs)

    def det(self):
        sign, logabs = self.slogdet
        return sign * np.exp(logabs)

    def logdet(self):
        """``log det A``: an error where ``det A ≤ 0`` (its real logarithm does not exist)."""
        sign, logabs = self.slogdet
        if sign == 0:
            raise np.linalg.LinAlgError(f"logdet: {self.what} is singular (its determinant is 0)")
        if np.iscomplexobj(sign):
            return np.log(sign) + logabs
        if sign < 0:
            raise ValueError(f"logdet: {self.what} has a negative determinant, so its log-determinant is not real")
        return logabs

    @cached_property
    def inverse(self) -> np.ndarray:
        L = self.cholesky
        if L is not None:
            return _inverse_from_cholesky(L)
        try:
            return np.linalg.inv(self.A)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(f"inv: {self.what} is singular") from None


def _inverse_from_cholesky(L: np.ndarray) -> np.ndarray:
    """``A⁻¹`` from ``A = L Lᵀ`` by LAPACK ``potri`` (about half the work of an LU inverse)."""
    potri = lapack.dpotri if L.dtype == np.float64 else lapack.spotri
    lower_inverse, info = potri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed with info = {info}")
    inverse = np.tril(lower_inverse)
    inverse += np.tril(lower_inverse, -1).T
    return inverse

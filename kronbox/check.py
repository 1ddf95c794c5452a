"""Numeric checkers that return reports instead of raising: dot test (more checkers build on it).

A report is truthy when the check passed, prints as one line, and carries the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator


@dataclass(frozen=True)
class Report:
    """The outcome of a numeric check: the largest relative error found against a tolerance."""

    name: str
    error: float
    tolerance: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.name}: {verdict}, relative error {self.error:.3g} (tolerance {self.tolerance:.1g}){extra}"


def default_tolerance(dtype) -> float:
    """A relative tolerance that a correct computation in ``dtype`` meets comfortably."""
    return 1e-3 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def random_like(shape, dtype, rng: np.random.Generator) -> np.ndarray:
    """Standard normal entries of ``dtype`` (complex: independent real and imaginary parts)."""
    dtype = np.dtype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype if dtype.kind in "fc" else np.float64)


def dot_test(op: LinearOperator, tol: float | None = None, seed: int = 0) -> Report:
    """The dot test ``⟨A x, y⟩ = ⟨x, Aᴴ y⟩`` on random ``x``, ``y`` (complex ones for complex ``A``)."""
    rng = np.random.default_rng(seed)
    m, n = op.shape
    x = random_like(n, op.dtype, rng)
    y = random_like(m, op.dtype, rng)
    lhs = np.vdot(y, op.matvec(x))
    rhs = np.vdot(op.rmatvec(y), x)
    scale = max(abs(lhs), abs(rhs), np.finfo(np.float64).tiny)
    tol = default_tolerance(op.dtype) if tol is None else tol
    return Report("dot test", float(abs(lhs - rhs) / scale), tol, f"⟨Ax, y⟩ = {lhs:.6g}, ⟨x, Aᴴy⟩ = {rhs:.6g}")

"""Numeric checks of operators that return reports instead of raising: dot test, identity check.

A report is truthy when the check passed, prints as one line, and carries the numbers.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, aslinearoperator


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
    op = _as_linear_operator(op, "op", "check.dot_test")
    rng = np.random.default_rng(seed)
    m, n = op.shape
    x = random_like(n, op.dtype, rng)
    y = random_like(m, op.dtype, rng)
    # An operator holding an inf or a NaN gives non-finite products (a NaN error: a failed report, which
    # says so); numpy's FP warnings on the way (inf·0 inside BLAS, inf − inf) are expected, not news.
    with np.errstate(invalid="ignore", over="ignore"):
        lhs = np.vdot(y, op.matvec(x))
        rhs = np.vdot(op.rmatvec(y), x)
        scale = max(abs(lhs), abs(rhs), np.finfo(np.float64).tiny)
        error = float(abs(lhs - rhs) / scale)
    tol = default_tolerance(op.dtype) if tol is None else tol
    return Report("dot test", error, tol, f"⟨Ax, y⟩ = {lhs:.6g}, ⟨x, Aᴴy⟩ = {rhs:.6g}")


def _relative_errors(L: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``‖Lᵢ − Rᵢ‖ / max(‖Lᵢ‖, ‖Rᵢ‖)`` per column (0 where both columns vanish, NaN, a failure,
    where either holds a NaN or an infinity). Each column pair is first divided by its largest
    entry, so that the squares in the norms neither underflow nor overflow."""
    with np.errstate(invalid="ignore", divide="ignore"):
        big = np.maximum(np.abs(L).max(axis=0, initial=0.0), np.abs(R).max(axis=0, initial=0.0))
        unit = np.where(big > 0, big, 1.0)
        L, R = L / unit, R / unit
        scale = np.maximum(np.linalg.norm(L, axis=0), np.linalg.norm(R, axis=0))
        return np.where(big == 0, 0.0, np.linalg.norm(L - R, axis=0) / scale)


def _as_linear_operator(side, role: str, what: str = "check.identity") -> LinearOperator:
    try:
        return aslinearoperator(side)
    except TypeError:
        raise ValueError(f"{what}: {role} ({type(side).__name__}) is not an operator or a matrix") from None


def identity(lhs, rhs, tol: float | None = None, seed: int = 0, columns: int = 4) -> Report:
    """Check the claimed identity ``lhs = rhs`` between two operator expressions, never forming them.

    Both sides (LinearOperators, arrays or sparse matrices) are applied to one random vector and
    to a block of ``columns`` random columns (complex ones if either side is complex); the report
    carries the largest relative error ``‖L x − R x‖ / max(‖L x‖, ‖R x‖)`` against a tolerance set
    by the less precise side. Sides of different shapes fail with an infinite error and say so.
    """
    lhs, rhs = _as_linear_operator(lhs, "lhs"), _as_linear_operator(rhs, "rhs")
    if not isinstance(columns, numbers.Integral) or columns < 0:
        raise ValueError(f"check.identity: columns must be a non-negative integer, got {columns!r}")
    dtype = np.result_type(lhs.dtype, rhs.dtype)
    tol = max(default_tolerance(lhs.dtype), default_tolerance(rhs.dtype)) if tol is None else tol
    if lhs.shape != rhs.shape:
        shapes = f"lhs is {lhs.shape[0]}×{lhs.shape[1]}, rhs is {rhs.shape[0]}×{rhs.shape[1]}"
        return Report("identity", float("inf"), tol, f"shapes differ: {shapes}")
    rng = np.random.default_rng(seed)
    n = lhs.shape[1]
    x = random_like(n, dtype, rng)
    X = random_like((n, columns), dtype, rng)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite products fail the check (see dot_test)
        errors = np.concatenate(
            [
                _relative_errors(lhs.matvec(x)[:, None], rhs.matvec(x)[:, None]),
                _relative_errors(lhs.matmat(X), rhs.matmat(X)),
            ]
        )
    return Report("identity", float(errors.max()), tol, f"{1 + columns} random probes, shape {lhs.shape[0]}×{n}")

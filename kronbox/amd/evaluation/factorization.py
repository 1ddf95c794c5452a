"""One factorization per square matrix per evaluation, shared by ``inv``, ``det`` and ``logdet``.

A real matrix that is exactly symmetric is tried with Cholesky first (``potrf``, and ``potri``
for the inverse: about a third of the work of an LU inverse). If it is not positive definite, not
symmetric, or complex (as under the complex step), one LU factorization (``getrf``) gives the
determinant and, through ``getri``, the inverse. All of it runs in numpy's own thread pool
(:mod:`kronbox.linalg.lapack`).

A caller that has factorized a value already (``amd.minimize`` tests each point of the positive
definite cone by its Cholesky factorization) hands it to the evaluation with :class:`given`:
:func:`factorize` of that very array then returns it instead of factorizing again.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cached_property

import numpy as np

from kronbox.kernels.symmetric import is_symmetric, symmetrize_from_upper
from kronbox.linalg import lapack


class Factorization:
    """``A = Uᵀ U`` (Cholesky) when that works, LU otherwise; ``what`` names ``A`` in errors (printed only then).
    ``symmetric``: ``A`` is known to be exactly symmetric (made so by its caller), so it is not tested."""

    def __init__(self, A: np.ndarray, what: object, symmetric: bool = False):
        self.A, self.what = A, what
        # U in the upper triangle of a copy of A (A = Uᵀ U), or None: A is not real, symmetric and positive definite
        self._cholesky = _cholesky(A) if A.dtype.kind == "f" and A.ndim == 2 and (
            symmetric or (A.shape[0] > 1 and is_symmetric(A))) else None
        self._diagonal: np.ndarray | None = None  # U's diagonal, kept when the inverse overwrites U first
        self._logdet: float | None = None  # log det A from U, once asked for
        self._inverse: np.ndarray | None = None

    @property
    def _cholesky_logdet(self) -> float:
        """``log det A = 2 Σ log uᵢᵢ`` (worked out only when asked for)."""
        if self._logdet is None:
            U = self._cholesky
            assert U is not None  # asked for after Cholesky only
            self._logdet = 2.0 * float(np.log(U.diagonal() if self._diagonal is None else self._diagonal).sum())
        return self._logdet

    @property
    def positive_definite(self) -> bool:
        """True when ``A`` is symmetric positive definite (it went through Cholesky)."""
        return self._cholesky is not None

    @cached_property
    def _lu(self) -> tuple[np.ndarray, np.ndarray, float | complex, float]:
        """``(LU factors, pivots, sign, log|det A|)``; the sign is 0 when ``A`` is exactly singular."""
        A = self.A
        W = np.array(A, order="C", copy=True, dtype=A.dtype if A.dtype in lapack.LU_TYPES else np.float64)
        pivots, info = lapack.lu_in_place(W)
        if info > 0:
            return W, pivots, 0.0, -np.inf
        diagonal = W.diagonal()
        swaps = int(np.count_nonzero(pivots != np.arange(1, len(pivots) + 1)))
        magnitude = np.abs(diagonal)
        phase = np.prod(diagonal / magnitude)
        return W, pivots, (-1) ** swaps * (phase if np.iscomplexobj(phase) else float(phase)), float(
            np.log(magnitude).sum())

    @cached_property
    def slogdet(self) -> tuple[float | complex, float]:
        if self._cholesky is not None:
            return 1.0, self._cholesky_logdet
        return self._lu[2], self._lu[3]

    def _typed(self, x):
        """A real result in the precision of ``A`` (float32 stays float32)."""
        return self.A.dtype.type(x) if self.A.dtype.kind == "f" else x

    def det(self):
        sign, logabs = self.slogdet
        return self._typed(sign * np.exp(logabs))

    def logdet(self):
        """``log det A``: an error where ``det A ≤ 0`` (its real logarithm does not exist)."""
        if self._cholesky is not None:
            return self._typed(self._cholesky_logdet)
        sign, logabs = self.slogdet
        if sign == 0:
            raise self._not_finite("logdet", "log-determinant") or np.linalg.LinAlgError(
                f"logdet: {self.what} is singular (its determinant is 0)")
        if isinstance(sign, complex | np.complexfloating):
            return np.log(sign) + logabs
        if sign.real < 0:  # a real sign here
            raise ValueError(f"logdet: {self.what} has a negative determinant, so its log-determinant is not real")
        return self._typed(logabs)

    def _not_finite(self, name: str, result: str) -> np.linalg.LinAlgError | None:
        """The error for a factorization that failed because ``A`` has an inf or nan entry (LU reads
        one as a zero pivot: not a singular matrix), or ``None`` when every entry is finite."""
        if np.isfinite(self.A).all():
            return None
        return np.linalg.LinAlgError(
            f"{name}: {self.what} is not finite (it has an inf or nan entry), so its {result} is not defined")

    @property
    def inverse(self) -> np.ndarray:
        """``A⁻¹`` (C-ordered; exactly symmetric when ``A`` went through Cholesky), worked out once."""
        if self._inverse is None:
            self._inverse = self._inverted()
        return self._inverse

    def _inverted(self) -> np.ndarray:
        U = self._cholesky
        if U is not None:  # consumed: its diagonal is kept for the log-determinant, if not yet taken
            if self._logdet is None:
                self._diagonal = U.diagonal().copy()
            if lapack.inverse_from_cholesky_in_place(U):
                return symmetrize_from_upper(U)
        W, pivots, sign, _ = self._lu  # consumed: the determinant is already kept
        if sign == 0 or not lapack.inverse_from_lu_in_place(W, pivots):
            raise self._not_finite("inv", "inverse") or np.linalg.LinAlgError(f"inv: {self.what} is singular")
        return W


def _cholesky(A: np.ndarray) -> np.ndarray | None:
    """``U`` with ``A = Uᵀ U`` in the upper triangle of a C-ordered copy of the symmetric ``A``, or ``None``
    where ``A`` is not positive definite."""
    U = np.array(A, order="C", copy=True)
    return U if lapack.cholesky_in_place(U) else None


_GIVEN: ContextVar[Factorization | None] = ContextVar("kronbox_given_factorization", default=None)


def factorize(A: np.ndarray, what: object) -> Factorization:
    """The factorization of ``A``: the one :class:`given` to this evaluation when it is of this very array
    (the same object, not merely equal values), else a new one."""
    known = _GIVEN.get()
    return known if known is not None and known.A is A else Factorization(A, what)


class given:
    """``with given(F): …``: evaluations in the block use the factorization ``F`` for the array ``F.A``."""

    __slots__ = ("factorization", "token")

    def __init__(self, factorization: Factorization):
        self.factorization = factorization

    def __enter__(self) -> Factorization:
        self.token = _GIVEN.set(self.factorization)
        return self.factorization

    def __exit__(self, *exc: object) -> None:
        _GIVEN.reset(self.token)

"""Sylvester equations ``A X + X Bᵀ = C``: Bartels–Stewart, and spotting them inside sums of Krons.

Row-major ``vec``: ``(A ⊗ I + I ⊗ B) vec(X) = vec(A X + X Bᵀ)``, so solving with the Kronecker sum
``A ⊕ B`` is ``scipy.linalg.solve_sylvester(A, Bᵀ, C)`` (which solves ``a X + X b = q``). The
solver here does the same work but keeps the Schur forms, so every further right-hand side costs
four matrix products and one triangular Sylvester solve, ``O(m1 m2 (m1 + m2))``, instead of the
``O(m1³ + m2³)`` Schur decompositions.

A sum ``α (A ⊗ B) + β (C ⊗ D)`` of two Krons with square factors of matching sizes is a Kronecker
sum in disguise whenever ``C`` and ``B`` (or ``A`` and ``D``) are invertible:
``α (A ⊗ B) + β (C ⊗ D) = (C ⊗ B) (α C⁻¹A ⊕ β B⁻¹D) = (A ⊗ D) (β A⁻¹C ⊕ α D⁻¹B)``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from kronbox.linalg import blas
from kronbox.operators import Box, Identity, Kron, Scaled, Sum, factors
from kronbox.operators.base import Operator
from kronbox.operators.kronsum import KronSum


def _one_blas_thread():
    """A context running numpy's and scipy's OpenBLAS pools with one thread each.

    The Schur decompositions (Hessenberg QR sweeps), ``trsyl`` and ``eigh``'s tridiagonalization
    synchronize their threads once per column, and the solve alternates between numpy's pool
    (GEMMs) and scipy's (LAPACK), whose idle threads spin. On the 2 shared cores one thread per
    pool made ``scipy.linalg.solve_sylvester`` itself 2–4× faster at n = 100–300 and 9 % slower at
    n = 1000 (a quiet spell); under load it turned 1.14 s into 0.18 s at n = 300
    (``bench/suites/sylvester.py``).
    """
    return blas.threads(1)


def _schur_form(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T, U)`` with ``F = U T Uᴴ``, ``U`` unitary and ``T`` (quasi-)upper triangular.

    A Hermitian ``F`` gets its eigendecomposition (numpy's ``eigh``, several times faster than a
    Schur decomposition, and free of scipy's separate BLAS pool); ``T`` is then returned as the
    1-D vector of its (real) eigenvalues.
    """
    if np.array_equal(F, F.conj().T):
        return np.linalg.eigh(F)
    return scipy.linalg.schur(F, output="complex" if F.dtype.kind == "c" else "real")


# Blocks up to this size go to LAPACK's unblocked trsyl; larger ones are split (see _blocked_trsyl).
_TRSYL_BLOCK = 64


def _split(T: np.ndarray) -> int:
    """A split point near the middle of quasi-triangular ``T`` that keeps its 2×2 blocks whole."""
    k = T.shape[0] // 2
    return k + 1 if T[k, k - 1] != 0 else k


def _blocked_trsyl(R, S, F, trsyl, singular) -> np.ndarray:
    """``Y`` with ``R Y + Y Sᴴ = F`` for upper (quasi-)triangular ``R``, ``S``, by recursive halving.

    Rows: ``R = [[R₁₁, R₁₂], [0, R₂₂]]`` gives ``R₂₂ Y₂ + Y₂ Sᴴ = F₂``, then
    ``R₁₁ Y₁ + Y₁ Sᴴ = F₁ − R₁₂ Y₂``. Columns: ``S = [[S₁₁, S₁₂], [0, S₂₂]]`` gives
    ``R Y_b + Y_b S₂₂ᴴ = F_b``, then ``R Y_a + Y_a S₁₁ᴴ = F_a − Y_b S₁₂ᴴ``. The updates are GEMMs, so
    the ``O(m1 m2 (m1 + m2))`` work runs at matrix-product speed, while LAPACK's ``trsyl`` works
    column by column (Jonsson and Kågström's recursive blocking: 2.3 s → 0.27 s at n = 1000, one
    thread, same accuracy). Blocks of at most 64 go to ``trsyl``, which solves
    ``R Y + Y Sᴴ = scale·F`` with ``scale < 1`` only when ``Y`` would overflow: that ``Y`` comes out
    infinite, as from ``numpy.linalg.solve``.
    """
    m, n = F.shape
    if max(m, n) <= _TRSYL_BLOCK:
        y, scale, info = trsyl(R, S, F, tranb="C")
        if info != 0:
            raise singular()
        return y / scale
    if m >= n:
        k = _split(R)
        Y2 = _blocked_trsyl(R[k:, k:], S, F[k:], trsyl, singular)
        Y1 = _blocked_trsyl(R[:k, :k], S, F[:k] - R[:k, k:] @ Y2, trsyl, singular)
        return np.vstack([Y1, Y2])
    k = _split(S)
    Yb = _blocked_trsyl(R, S[k:, k:], F[:, k:], trsyl, singular)
    Ya = _blocked_trsyl(R, S[:k, :k], F[:, :k] - Yb @ S[:k, k:].conj().T, trsyl, singular)
    return np.hstack([Ya, Yb])


class SylvesterSolver:
    """Solves ``A X + X Bᵀ = C`` (``A`` ``m1×m1``, ``B`` ``m2×m2``) for any number of right-hand sides.

    Bartels–Stewart: with Schur forms ``A = U R Uᴴ`` and ``conj(B) = V S Vᴴ`` (so ``Bᵀ = V Sᴴ Vᴴ``)
    the equation becomes ``R Y + Y Sᴴ = Uᴴ C V`` with ``X = U Y Vᴴ``, solved by substitution in
    blocks (:func:`_blocked_trsyl`, LAPACK's ``trsyl`` on the small ones). When both factors are
    Hermitian, ``R = diag(λ)`` and ``S = diag(μ)`` and ``Y = (Uᴴ C V) / (λᵢ + μⱼ)`` entrywise.
    Computation happens in ``dtype`` (float32 stays float32).
    A pair with ``|λᵢ + μⱼ| ≤ ε·max(|λ|, |μ|)`` (``trsyl``'s own test) raises ``LinAlgError``.
    """

    def __init__(self, A: np.ndarray, B: np.ndarray, dtype=None, name: str = "KronSum"):
        self.dtype = np.dtype(dtype if dtype is not None else np.result_type(A, B))
        self.name = name
        with _one_blas_thread():
            R, U = _schur_form(np.asarray(A, dtype=self.dtype))
            S, V = _schur_form(np.asarray(B, dtype=self.dtype).conj())
        self.shape = (U.shape[0], V.shape[0])
        self._to_schur = Kron(U.conj().T, V.T)  # vec(C) ↦ vec(Uᴴ C V)
        self._from_schur = Kron(U, V.conj())  # vec(Y) ↦ vec(U Y Vᴴ)
        if R.ndim == 1 and S.ndim == 1:
            self._denominators = R[:, None] + S[None, :]
            scale = max(np.abs(R).max(initial=0), np.abs(S).max(initial=0))
            if np.abs(self._denominators).min(initial=np.inf) <= np.finfo(self.dtype).eps * scale:
                raise self._singular()
            self._triangular = None
        else:
            self._triangular = tuple(np.diag(T).astype(self.dtype) if T.ndim == 1 else T for T in (R, S))
            self._trsyl = scipy.linalg.get_lapack_funcs("trsyl", self._triangular)

    def __getstate__(self):
        """Pickled without LAPACK's ``trsyl`` (a Fortran object, which does not pickle): looked up again."""
        state = self.__dict__.copy()
        state.pop("_trsyl", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._triangular is not None:
            self._trsyl = scipy.linalg.get_lapack_funcs("trsyl", self._triangular)

    def _singular(self) -> np.linalg.LinAlgError:
        m1, m2 = self.shape
        return np.linalg.LinAlgError(
            f"{self.name}: A and −B have a common (or nearly common) eigenvalue, so A ⊗ I + I ⊗ B "
            f"({m1 * m2}×{m1 * m2}) is singular to working precision"
        )

    def solve(self, C: np.ndarray) -> np.ndarray:
        """``vec(X)`` for each column ``vec(C)`` of the ``(m1·m2) × k`` block ``C`` (row-major ``vec``)."""
        k = C.shape[1]
        out_dtype = np.result_type(self.dtype, C.dtype)
        if C.dtype.kind == "c" and self.dtype.kind != "c":  # real factorization: real and imaginary parts
            X = self.solve(np.concatenate([C.real, C.imag], axis=1))
            return X[:, :k] + 1j * X[:, k:]
        with _one_blas_thread():
            return self._solve(np.asarray(C, dtype=self.dtype)).astype(out_dtype, copy=False)

    def _solve(self, C: np.ndarray) -> np.ndarray:
        m1, m2 = self.shape
        k = C.shape[1]
        F = self._to_schur._matmat(C).reshape(m1, m2, k)
        if self._triangular is None:
            Y = F / self._denominators[:, :, None]
        else:
            R, S = self._triangular
            Y = np.empty_like(F)
            for c in range(k):
                Y[:, :, c] = _blocked_trsyl(R, S, F[:, :, c], self._trsyl, self._singular)
        return self._from_schur._matmat(Y.reshape(m1 * m2, k))


def _is_identity(F) -> bool:
    if isinstance(F, Identity):
        return True
    if isinstance(F, np.ndarray) and F.shape[0] == F.shape[1]:
        return np.array_equal(F, np.eye(F.shape[0]))
    return False


def _scaled_kron(term: Operator) -> tuple[complex, Kron] | None:
    if isinstance(term, Kron):
        return 1, term
    if isinstance(term, Scaled) and isinstance(term.op, Kron):
        return term.c, term.op
    return None


def _scaled_identity(term: Operator, like: Kron) -> tuple[complex, Kron] | None:
    """``β I_N`` as ``β (I ⊗ I)`` with the factor sizes of ``like`` (square factors), else ``None``."""
    c: complex = 1
    while isinstance(term, Scaled):
        c, term = c * term.c, term.op
    (m1, n1), (m2, n2) = like.A.shape, like.B.shape
    if not isinstance(term, Identity) or m1 != n1 or m2 != n2 or term.shape[0] != m1 * m2:
        return None
    return c, Kron(Identity(m1), Identity(m2))


def _left_divide(P, X) -> np.ndarray:
    """``P⁻¹ X`` for small factors (an identity ``P`` costs nothing)."""
    X = factors.to_array(X)
    if _is_identity(P):
        return X
    return np.linalg.solve(factors.to_array(P), X)


def as_kronecker_sum(op: Operator) -> tuple[Kron | None, KronSum] | None:
    """Write ``op = α (A ⊗ B) + β (C ⊗ D)`` as ``(P ⊗ Q) (A' ⊕ B')``, or return ``None``.

    The split is kept on ``op``, so repeated solves with the same sum reuse one ``KronSum`` and
    its Schur forms.
    """
    if not isinstance(op, Sum) or len(op.ops) != 2:
        return None
    return op.kept("kronecker sum", lambda: _split_kronecker_sum(op))


def _split_kronecker_sum(op: Sum) -> tuple[Kron | None, KronSum] | None:
    """The work of :func:`as_kronecker_sum`.

    ``(P, Q)`` is ``(C, B)`` or ``(A, D)`` (see the module docstring), whichever pair holds more
    identity factors (those cost nothing to invert); the other pair is used if the first is
    singular. The outer Kron is ``None`` when both of its factors are identities, as in
    ``A ⊗ I + I ⊗ B``. A nearly singular pair is used as it is: its conditioning then limits the
    accuracy of solves through it.
    """
    terms = [_scaled_kron(term) for term in op.ops]
    if terms.count(None) == 1:  # α (A ⊗ B) + β I: the identity as I ⊗ I, split like the Kron
        kron = next(t for t in terms if t is not None)[1]
        terms = [t if t is not None else _scaled_identity(term, kron) for t, term in zip(terms, op.ops, strict=True)]
    found = [t for t in terms if t is not None]
    if len(found) != 2:
        return None
    (alpha, first), (beta, second) = found
    A, B, C, D = first.A, first.B, second.A, second.B
    if not (A.shape == C.shape and B.shape == D.shape and A.shape[0] == A.shape[1] and B.shape[0] == B.shape[1]):
        return None
    pairs = [(C, B, A, D, alpha, beta), (A, D, C, B, beta, alpha)]
    pairs.sort(key=lambda pair: -(_is_identity(pair[0]) + _is_identity(pair[1])))
    for P, Q, X, Y, a, b in pairs:
        try:
            kronsum = KronSum(a * _left_divide(P, X), b * _left_divide(Q, Y))
        except np.linalg.LinAlgError:
            continue
        if _is_identity(P) and _is_identity(Q):
            return None, kronsum
        P, Q = (Identity(F.shape[0]) if _is_identity(F) else F for F in (P, Q))
        return Kron(P, Q), kronsum
    return None


def as_kron_plus_box(
    op: Operator,
) -> tuple[complex, np.ndarray, np.ndarray, complex, np.ndarray, np.ndarray] | None:
    """``op = α (A ⊗ B) + β (C ⊠ D)`` as ``(α, A, B, β, C, D)`` (square ``A``, ``B``; ``C`` is ``n1×n2`` and ``D``
    ``n2×n1`` so that both act on ``n1×n2`` matrices), or ``None``.

    On row-major ``vec`` it is the T-Sylvester equation ``α A X Bᵀ + β C Xᵀ Dᵀ = R``. Its transpose gives
    ``Xᵀ = B⁻¹ (Rᵀ − β/α … )``; substituting leaves a two-Kron (generalized Sylvester) equation,
    ``α A X Bᵀ − P X Qᵀ = R − β C B⁻¹ Rᵀ (αA)⁻ᵀ Dᵀ`` with ``P = β C B⁻¹ D`` and ``Q = D (αA)⁻¹ β C``, which
    Bartels–Stewart solves in ``O(n³)`` (:func:`kron_plus_box_solve`).
    """
    if not isinstance(op, Sum) or len(op.ops) != 2:
        return None
    parts: list[tuple[complex, Operator]] = []
    for term in op.ops:
        c: complex = 1
        while isinstance(term, Scaled):
            c, term = c * term.c, term.op
        parts.append((c, term))
    parts.sort(key=lambda part: not isinstance(part[1], Kron))
    (alpha, kron), (beta, box) = parts
    if not isinstance(kron, Kron) or not isinstance(box, Box):
        return None
    A, B, C, D = (factors.to_array(F) for F in (kron.A, kron.B, box.A, box.B))
    (n1, m1), (n2, m2) = A.shape, B.shape
    if n1 != m1 or n2 != m2 or C.shape != (n1, n2) or D.shape != (n2, n1):
        return None
    return alpha, A, B, beta, C, D


def kron_plus_box_solve(op: Operator, R: np.ndarray) -> np.ndarray | None:
    """``x`` with ``(α A ⊗ B + β C ⊠ D) x = r`` for each column of ``R`` by the reduction of :func:`as_kron_plus_box`;
    ``None`` where the reduction does not apply (a singular ``A``, ``B`` or reduced equation, or a result whose
    residual shows that the reduction lost the solution)."""
    pieces = as_kron_plus_box(op)
    if pieces is None:
        return None
    alpha, A, B, beta, C, D = pieces
    n1, n2, k = A.shape[0], B.shape[0], R.shape[1]
    with np.errstate(all="ignore"):
        try:
            outer, kronsum, aA_inv, B_inv = op.kept("kron plus box", lambda: _reduced(alpha, A, B, beta, C, D))
            R3 = R.reshape(n1, n2, k)
            # R − β C B⁻¹ Rᵀ (αA)⁻ᵀ Dᵀ, column by column
            right = np.einsum("ij,jlc,lm->imc", beta * C @ B_inv, R3.transpose(1, 0, 2), aA_inv.T @ D.T)
            X = kronsum.solve(outer.solve((R3 - right).reshape(n1 * n2, k)))
        except np.linalg.LinAlgError:
            return None
        residual = np.linalg.norm(op._matmat(X) - R)
    if not residual <= 1e-8 * np.sqrt(n1 * n2) * np.linalg.norm(R):
        return None
    return X


def _reduced(alpha, A, B, beta, C, D) -> tuple[Kron, KronSum, np.ndarray, np.ndarray]:
    """``α A ⊗ B − P ⊗ Q`` (``P = β C B⁻¹ D``, ``Q = β D (αA)⁻¹ C``) as ``outer · (X ⊕ Y)``: ``(αA ⊗ Q)(−(αA)⁻¹P ⊕
    Q⁻¹B)`` when ``n1 ≥ n2`` (``P``, of rank ≤ ``n2``, may be singular), else ``(P ⊗ B)(α P⁻¹A ⊕ −B⁻¹Q)``."""
    aA_inv, B_inv = np.linalg.inv(alpha * A), np.linalg.inv(B)
    P, Q = beta * C @ B_inv @ D, beta * D @ aA_inv @ C
    if A.shape[0] >= B.shape[0]:
        outer, kronsum = Kron(alpha * A, Q), KronSum(-aA_inv @ P, np.linalg.solve(Q, B))
    else:
        outer, kronsum = Kron(P, B), KronSum(alpha * np.linalg.solve(P, A), -B_inv @ Q)
    return outer, kronsum, aA_inv, B_inv

"""Sums of Kronecker products that share one eigenbasis per factor, solved exactly.

The systems of Gaussian processes on grids and separable covariances (``c ⊗Kᵢ + σ² I``), damped
Kronecker-factored curvature, and 2-D/3-D diffusion operators (the Kronecker sums ``A ⊕ B ⊕ C``) are

    A = Σ_t c_t (F_{t,1} ⊗ ⋯ ⊗ F_{t,d}),    each F_{t,i} either Kᵢ or Dᵢ,

with one Hermitian ``Kᵢ`` and one positive diagonal ``Dᵢ`` (the identity, usually) per factor
position ``i``. With ``S = ⊗ Dᵢ^{1/2}`` and ``K̃ᵢ = Dᵢ^{-1/2} Kᵢ Dᵢ^{-1/2} = Qᵢ Λᵢ Qᵢᴴ`` (one ``eigh``
per position, kept for every later use):

    A = S Q diag(e) Qᴴ S,    Q = ⊗Qᵢ,   e = Σ_t c_t ⊗ᵢ (Λᵢ if F_{t,i} = Kᵢ else 1),

so, on row-major ``vec``, each Kronecker factor applied by the unwinding rule:

- ``x = S⁻¹ Q diag(e)⁻¹ Qᴴ S⁻¹ b`` (four Kronecker applications and a division);
- ``log det A = Σ_p log e_p + Σᵢ (N / nᵢ) Σ_j log dᵢⱼ``;
- ``tr(A⁻¹) = Σ_p w_p / e_p`` with ``w = ⊗ᵢ (|Qᵢ|²)ᵀ dᵢ⁻¹``.

The cost is ``Σ nᵢ³`` once, then ``O(N Σ nᵢ)`` per right-hand side, against ``O(N³)`` dense or an
iterative solve whose iterations grow with the condition number (MINRES stopped short after 1 000
iterations on ``K₁ ⊗ K₂ + 0.5 I`` with 60 × 60 factors). :func:`recognize` finds the structure however
the sum is written: ``σ² I`` as ``Identity``, ``Scaled``, a Kron of identities or of ``eye`` arrays,
``Diag`` of a constant; ``A ⊕ B ⊕ C`` as ``Kron(A, I, I) + Kron(I, B, I) + Kron(I, I, C)``.
"""

from __future__ import annotations

from functools import cached_property, reduce

import numpy as np

from kronbox.operators import Diag, Identity, Inverse, Kron, Operator, Scaled, Sum

# Relative asymmetry ‖K − Kᴴ‖_max ≤ _HERMITIAN_RTOL · ‖K‖_max counts as Hermitian (kernel matrices
# computed entry by entry are symmetric to the last bit; products such as A Aᵀ to round-off).
_HERMITIAN_RTOL = 1e-12


def _flatten(op) -> tuple[complex, list] | None:
    """``op = c · (F₁ ⊗ ⋯ ⊗ F_d)`` as ``(c, [F₁, …, F_d])``, each ``Fᵢ`` a square numpy array, an
    :class:`Identity` or a :class:`Diag` of numpy numbers; ``None`` for anything else."""
    c = 1
    while isinstance(op, Scaled):
        c, op = c * op.c, op.op
    if isinstance(op, Kron):
        left, right = _flatten(op.A), _flatten(op.B)
        if left is None or right is None:
            return None
        return c * left[0] * right[0], left[1] + right[1]
    if isinstance(op, Identity | Diag) and op.backend is None:
        return c, [op]
    if isinstance(op, np.ndarray) and op.ndim == 2 and op.shape[0] == op.shape[1]:
        return c, [op]
    return None


def _diagonal(F) -> np.ndarray | None:
    """The diagonal of a factor that is diagonal (``Identity``, ``Diag``, a diagonal array), else ``None``."""
    if isinstance(F, Identity):
        return np.ones(F.shape[0])
    if isinstance(F, Diag):
        return F.diagonal
    if F.ndim == 1:  # a diagonal already (from a constant block split across positions)
        return F
    d = np.diagonal(F)
    return d if np.array_equal(F, np.diag(d)) else None


def _regroup(factors: list, sizes: list[int]) -> list | None:
    """``factors`` regrouped to the positions ``sizes``: a constant diagonal block spanning several positions
    splits into constant diagonals; ``None`` if the partitions do not line up."""
    out: list = []
    queue = list(factors)
    for n in sizes:
        if not queue:
            return None
        F = queue.pop(0)
        if F.shape[0] == n:
            out.append(F)
            continue
        d = _diagonal(F)
        if d is None or F.shape[0] % n or F.shape[0] < n or not np.all(d == d[0]):
            return None
        out.append(np.full(n, d[0]))
        queue.insert(0, np.ones(F.shape[0] // n))
    return out if not queue else None


def _hermitian(K: np.ndarray) -> bool:
    scale = np.max(np.abs(K), initial=0.0)
    return bool(np.max(np.abs(K - K.conj().T), initial=0.0) <= _HERMITIAN_RTOL * scale)


def _same(F, G) -> bool:
    return F is G or (F.shape == G.shape and np.array_equal(F, G))


class SharedEigenbasis:
    """``Σ_t c_t ⊗ᵢ F_{t,i}``, each ``F_{t,i}`` the position's Hermitian ``Kᵢ`` or its positive diagonal ``Dᵢ``
    (module docstring). The eigendecompositions are computed on first use and kept: every solve,
    right-hand-side batch, log-determinant and trace of the inverse reuses them.

    ``terms`` holds ``(c_t, uses_K)`` with ``uses_K[i]`` true where the term has ``Kᵢ``; ``factors[i]`` is
    ``Kᵢ`` (``None`` where no term uses one) and ``diagonals[i]`` is ``Dᵢ`` as a vector.
    """

    def __init__(self, terms, factors: list, diagonals: list[np.ndarray], dtype):
        self.terms = terms
        self.factors = factors
        self.diagonals = diagonals
        self.sizes = [d.size for d in diagonals]
        self.dtype = np.dtype(dtype)

    @cached_property
    def _root_inverses(self) -> list[np.ndarray]:
        """``Dᵢ^{-1/2}`` as vectors."""
        return [1 / np.sqrt(d) for d in self.diagonals]

    @cached_property
    def _eigen(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """``(Λᵢ, Qᵢ)`` of ``K̃ᵢ = Dᵢ^{-1/2} Kᵢ Dᵢ^{-1/2}`` in the operator's precision (``Qᵢ = None`` where
        no ``Kᵢ``: the identity)."""
        values, vectors = [], []
        for K, r in zip(self.factors, self._root_inverses, strict=True):
            if K is None:
                values.append(np.ones(r.size))
                vectors.append(None)
                continue
            w, Q = np.linalg.eigh((r[:, None] * K * r[None, :]).astype(self.dtype, copy=False))
            values.append(w)
            vectors.append(Q)
        return values, vectors

    @property
    def eigen(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """``([Λ₁, …], [Q₁, …])``: ``Dᵢ^{-1/2} Kᵢ Dᵢ^{-1/2} = Qᵢ diag(Λᵢ) Qᵢᴴ``, computed once."""
        return self._eigen

    @cached_property
    def spectrum(self) -> np.ndarray:
        """``e = Σ_t c_t ⊗ᵢ (Λᵢ or 1)``: the eigenvalues of ``S⁻¹ A S⁻¹`` (length ``N``, row-major order)."""
        values, _ = self._eigen
        total = 0
        for c, uses_K in self.terms:
            parts = [lam if k else np.ones(lam.size) for lam, k in zip(values, uses_K, strict=True)]
            total = total + c * reduce(np.multiply.outer, parts).ravel()
        return np.broadcast_to(np.asarray(total), (int(np.prod(self.sizes)),)).copy()

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """``S⁻¹ X`` for ``X`` of shape ``(N, k)``."""
        if all(np.all(r == 1) for r in self._root_inverses):
            return X
        return reduce(np.multiply.outer, self._root_inverses).reshape(-1, 1) * X

    def _rotate(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        """``Q X`` (or ``Qᴴ X``) for ``X`` of shape ``(N, k)``, by the unwinding rule."""
        _, vectors = self._eigen
        Qs = [np.eye(n, dtype=self.dtype) if Q is None else (Q.conj().T if adjoint else Q)
              for Q, n in zip(vectors, self.sizes, strict=True)]
        return Kron(*Qs)._matmat(X) if len(Qs) > 1 else Qs[0] @ X

    def solve(self, B: np.ndarray) -> np.ndarray:
        """``x`` with ``A x = b`` for every column of ``B`` (``N × k``)."""
        spectrum = self.spectrum
        if np.any(spectrum == 0):
            p = int(np.flatnonzero(spectrum == 0)[0])
            raise np.linalg.LinAlgError(f"{self.describe()} is singular: its eigenvalue of index {p} is 0")
        Y = self._rotate(self._scale(B), adjoint=True)
        Y /= spectrum.reshape(-1, 1)
        return self._scale(self._rotate(Y, adjoint=False))

    def slogdet(self) -> tuple[complex | float, float]:
        """``(sign, log|det A|)``: the eigenvalues ``e`` and ``det(⊗Dᵢ) = Πᵢ det(Dᵢ)^{N/nᵢ}``."""
        spectrum = self.spectrum
        N = spectrum.size
        size = np.abs(spectrum)
        if np.any(size == 0):
            return 0.0, -np.inf
        log_d = sum(N // d.size * float(np.sum(np.log(d))) for d in self.diagonals)
        sign = np.prod(spectrum / size) if np.iscomplexobj(spectrum) else np.prod(np.sign(spectrum))
        return sign.item(), float(np.sum(np.log(size))) + log_d

    def trace_of_inverse(self) -> float | complex:
        """``tr(A⁻¹) = Σ_p w_p / e_p``, ``w = ⊗ᵢ (|Qᵢ|²)ᵀ dᵢ⁻¹``."""
        _, vectors = self._eigen
        per_factor = [1 / d if Q is None else (np.abs(Q) ** 2).T @ (1 / d)
                      for Q, d in zip(vectors, self.diagonals, strict=True)]
        weights = reduce(np.multiply.outer, per_factor)
        return np.sum(weights.ravel() / self.spectrum).item()

    def describe(self) -> str:
        """The structure in words: ``c·(K1 ⊗ K2) + c·(D1 ⊗ D2) (60×60 ⊗ 60×60)``."""
        terms = " + ".join(
            "c·(" + " ⊗ ".join(f"K{i + 1}" if k else f"D{i + 1}" for i, k in enumerate(uses_K)) + ")"
            for _, uses_K in self.terms
        )
        return f"{terms} ({' ⊗ '.join(f'{n}×{n}' for n in self.sizes)})"


def recognize(op: Operator) -> SharedEigenbasis | None:
    """The structure of ``op`` if it is a sum of Kronecker products sharing one eigenbasis per factor position
    (module docstring), else ``None``. Kept on ``op``: found once."""
    if not isinstance(op, Sum) or op.backend is not None:
        return None
    return op.kept("shared eigenbasis", lambda: _recognize(op))


def _recognize(op: Sum) -> SharedEigenbasis | None:
    flat = [_flatten(term) for term in op.ops]
    if any(f is None for f in flat):
        return None
    sizes = [F.shape[0] for F in max((factors for _, factors in flat), key=len)]
    terms = []
    for c, factors in flat:
        regrouped = _regroup(factors, sizes)
        if regrouped is None:
            return None
        terms.append((c, regrouped))
    factors: list = [None] * len(sizes)
    diagonals: list = [None] * len(sizes)
    uses = []
    for c, fs in terms:
        uses_K = []
        for i, F in enumerate(fs):
            d = _diagonal(F)
            if d is not None:  # a diagonal: a positive multiple of the position's Dᵢ
                scale = d[0] if d.size else 1
                if scale == 0 or np.iscomplexobj(d) or np.any(d / scale <= 0):
                    return None
                if diagonals[i] is None:
                    diagonals[i] = d / scale
                elif not np.allclose(d / scale, diagonals[i], rtol=1e-14, atol=0):
                    return None
                c = c * scale
                uses_K.append(False)
            elif isinstance(F, np.ndarray) and ((factors[i] is None and _hermitian(F)) or
                                                (factors[i] is not None and _same(F, factors[i]))):
                factors[i] = F
                uses_K.append(True)
            else:
                return None
        uses.append((c, tuple(uses_K)))
    if not any(any(k) for _, k in uses):
        return None  # a sum of diagonals: Diag's own closed forms apply
    diagonals = [np.ones(n) if d is None else np.asarray(d, dtype=float) for d, n in zip(diagonals, sizes, strict=True)]
    return SharedEigenbasis(uses, factors, diagonals, op.dtype)


def _kron_and_diagonal_terms(op: Operator) -> tuple[Operator, list[tuple[complex, np.ndarray]]] | None:
    """``op = K + Σ cⱼ diag(dⱼ)``: the one Kronecker term ``K`` and the diagonal terms as full-length vectors."""
    if not isinstance(op, Sum):
        return None
    kron, diagonal = None, []
    for term in op.ops:
        flat = _flatten(term)
        if flat is None:
            return None
        c, factors = flat
        ds = [_diagonal(F) for F in factors]
        if all(d is not None for d in ds):
            diagonal.append((c, reduce(np.multiply.outer, ds).ravel()))
        elif kron is None:
            kron = term
        else:
            return None
    return (kron, diagonal) if kron is not None and diagonal else None


def preconditioner(op: Operator) -> Operator:
    """The exact inverse of the Kronecker-plus-diagonal operator nearest to ``op = K + D``, for ``M=`` of scipy's
    ``cg``/``minres``: ``(K + mean(D) I)⁻¹``, applied by the kept eigendecompositions of ``K``'s factors.

    ``K`` is a Kronecker product of Hermitian factors and ``D`` a sum of diagonal terms (``Diag``,
    ``Identity``, Krons of them), e.g. a Gaussian process on a grid with missing data (a larger noise
    variance where nothing was observed). ``ValueError`` for an operator without that structure.
    """
    split = _kron_and_diagonal_terms(op)
    if split is None:
        raise ValueError(
            f"preconditioner: {op!r} is not a Kronecker product plus diagonal terms (K₁ ⊗ ⋯ ⊗ K_d + Diag(d))"
        )
    kron, diagonal = split
    level = sum(c * np.mean(d) for c, d in diagonal)
    nearest = Sum(kron, Scaled(level, Identity(op.shape[0])))
    if recognize(nearest) is None:
        raise ValueError(f"preconditioner: the Kronecker factors of {kron!r} are not Hermitian numpy matrices")
    return Inverse(nearest)

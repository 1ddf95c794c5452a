"""Sums of Kronecker products that share one eigenbasis per factor, solved exactly.

The systems of Gaussian processes on grids and separable covariances (``c ⊗Kᵢ + σ² I``), damped
Kronecker-factored curvature, 2-D/3-D diffusion operators (the Kronecker sums ``A ⊕ B ⊕ C``) and
two-term sums ``α A ⊗ B + β C ⊗ D`` with ``C``, ``D`` positive definite are

    A = Σ_t c_t (F_{t,1} ⊗ ⋯ ⊗ F_{t,d}),    each F_{t,i} either Kᵢ or Mᵢ,

with one Hermitian ``Kᵢ`` and one Hermitian positive definite ``Mᵢ`` (the identity, usually; a
positive diagonal or any positive definite matrix) per factor position ``i``. The generalized
eigenproblems ``Kᵢ Vᵢ = Mᵢ Vᵢ Λᵢ``, ``Vᵢᴴ Mᵢ Vᵢ = I`` (one ``eigh`` per position, kept for every later
use; cheaper and more accurate than forming ``Mᵢ⁻¹ Kᵢ``) give

    A = (⊗MᵢVᵢ) diag(e) (⊗VᵢᴴMᵢ),    e = Σ_t c_t ⊗ᵢ (Λᵢ if F_{t,i} = Kᵢ else 1),

so, on row-major ``vec``, each Kronecker factor applied by the unwinding rule:

- ``x = (⊗Vᵢ) diag(e)⁻¹ (⊗Vᵢᴴ) b`` (two Kronecker applications and a division);
- ``log det A = Σ_p log e_p + Σᵢ (N / nᵢ) log det Mᵢ``;
- ``tr(A⁻¹) = Σ_p w_p / e_p`` with ``w = ⊗ᵢ (column norms² of Vᵢ)``.

A sum of box products is one of Kronecker products times the commutation matrix (the connector
identity ``A ⊠ B = (A ⊗ B)(I ⊠ I)``) and is solved the same way. The cost is ``Σ nᵢ³`` once, then
``O(N Σ nᵢ)`` per right-hand side, against ``O(N³)`` dense or an iterative solve whose iterations
grow with the condition number (MINRES stopped short after 1 000 iterations on ``K₁ ⊗ K₂ + 0.5 I``
with 60 × 60 factors). :func:`recognize` finds the structure however the sum is written: ``σ² I`` as
``Identity``, ``Scaled``, a Kron of identities or of ``eye`` arrays, ``Diag`` of a constant; ``A ⊕ B ⊕ C``
as ``Kron(A, I, I) + Kron(I, B, I) + Kron(I, I, C)``.
"""

from __future__ import annotations

import math
from functools import cached_property, reduce
from typing import Any

import numpy as np
import scipy.linalg

from kronbox.backend import is_foreign, of_foreign
from kronbox.operators import Box, Commutation, Diag, Identity, Inverse, Kron, Operator, Scaled, Sum

# Relative asymmetry ‖K − Kᴴ‖_max ≤ _HERMITIAN_RTOL · ‖K‖_max counts as Hermitian (kernel matrices
# computed entry by entry are symmetric to the last bit; products such as A Aᵀ to round-off).
_HERMITIAN_RTOL = 1e-12


def _flatten(op) -> tuple[complex, list] | None:
    """``op = c · (F₁ ⊗ ⋯ ⊗ F_d)`` as ``(c, [F₁, …, F_d])``, each ``Fᵢ`` a square numpy array, an
    :class:`Identity` or a :class:`Diag` of numpy numbers; ``None`` for anything else."""
    c: complex = 1
    while isinstance(op, Scaled):
        c, op = c * op.c, op.op
    if isinstance(op, Kron):
        left, right = _flatten(op.A), _flatten(op.B)
        if left is None or right is None:
            return None
        return c * left[0] * right[0], left[1] + right[1]
    if isinstance(op, Identity) or (isinstance(op, Diag) and op.backend is None):
        return c, [op]
    if (isinstance(op, np.ndarray) or is_foreign(op)) and op.ndim == 2 and op.shape[0] == op.shape[1]:
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
    if is_foreign(F):  # a factor of another library serves as a Hermitian Kᵢ, never as a diagonal Mᵢ
        return None
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


def _hermitian(K) -> bool:
    if is_foreign(K):
        xp = of_foreign(K).xp
        if K.shape[0] == 0:
            return True
        return bool(xp.max(xp.abs(K - xp.conj(K).T)) <= _HERMITIAN_RTOL * xp.max(xp.abs(K)))
    scale = np.max(np.abs(K), initial=0.0)
    return bool(np.max(np.abs(K - K.conj().T), initial=0.0) <= _HERMITIAN_RTOL * scale)


def _same(F, G) -> bool:
    if F is G:
        return True
    if F.shape != G.shape or is_foreign(F) != is_foreign(G):
        return False
    return bool(of_foreign(F).xp.all(F == G)) if is_foreign(F) else np.array_equal(F, G)


class SharedEigenbasis:
    """``Σ_t c_t ⊗ᵢ F_{t,i}`` (then ``· K_{n1,n2}`` for a sum of box products), each ``F_{t,i}`` the position's
    Hermitian ``Kᵢ`` or its Hermitian positive definite ``Mᵢ`` (module docstring). The (generalized)
    eigendecompositions are computed on first use and kept: every solve, right-hand-side batch,
    log-determinant and trace of the inverse reuses them.

    ``terms`` holds ``(c_t, uses_K)``, ``uses_K[i]`` true where the term has ``Kᵢ``; ``factors[i]`` is ``Kᵢ``
    (``None`` where no term uses one); ``metrics[i]`` is ``Mᵢ``: ``None`` (the identity), a positive
    vector (a diagonal) or a matrix. ``shuffle = (n1, n2)`` for a sum of box products ``A ⊠ B =
    (A ⊗ B) K_{n1,n2}``, with ``K_{n1,n2} = I_{n1} ⊠ I_{n2}`` the commutation matrix.
    """

    def __init__(self, terms, factors: list, metrics: list, sizes: list[int], dtype, shuffle=None):
        self.terms = terms
        self.factors = factors
        self.metrics = metrics
        self.sizes = sizes
        self.dtype = np.dtype(dtype)
        self.shuffle = shuffle
        # the Array API namespace of factors of another library (None: numpy), where eigh and the products run
        self.xp = next((of_foreign(K).xp for K in factors if K is not None and is_foreign(K)), None)

    @cached_property
    def _eigen(self) -> tuple[list[np.ndarray], list[np.ndarray | None], float]:
        """``(Λᵢ, Vᵢ)`` per position with ``Kᵢ Vᵢ = Mᵢ Vᵢ diag(Λᵢ)`` and ``Vᵢᴴ Mᵢ Vᵢ = I`` (``Vᵢ = None``: the
        identity), and ``Σᵢ (N/nᵢ) log det Mᵢ``."""
        values, vectors, log_det = [], [], 0.0
        N = int(np.prod(self.sizes))
        for K, M, n in zip(self.factors, self.metrics, self.sizes, strict=True):
            if self.xp is None:
                lam, V, log_m = _generalized_eigen(K, M, n, self.dtype)
            else:
                lam, V, log_m = _foreign_eigen(self.xp, K, n)
            values.append(lam)
            vectors.append(V)
            log_det += N // n * log_m if n else 0.0
        return values, vectors, log_det

    @property
    def eigen(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """``([Λ₁, …], [V₁, …])``: ``Kᵢ Vᵢ = Mᵢ Vᵢ diag(Λᵢ)``, ``Vᵢᴴ Mᵢ Vᵢ = I`` (unitary eigenvectors where
        ``Mᵢ = I``), computed once."""
        return self._eigen[:2]

    @cached_property
    def spectrum(self) -> Any:
        """``e = Σ_t c_t ⊗ᵢ (Λᵢ or 1)`` (length ``N``, row-major order): ``A = (⊗MᵢVᵢ) diag(e) (⊗VᵢᴴMᵢ)``; a numpy
        array, or an array of the factors' library."""
        values = self._eigen[0]
        total: Any = 0
        for c, uses_K in self.terms:
            if self.xp is not None:
                parts = [lam if k else self.xp.ones_like(lam) for lam, k in zip(values, uses_K, strict=True)]
                total = total + c * _outer_vector(self.xp, parts)
            else:
                parts = [lam if k else np.ones(lam.size) for lam, k in zip(values, uses_K, strict=True)]
                total = total + c * reduce(np.multiply.outer, parts).ravel()
        if self.xp is not None:
            return total
        return np.broadcast_to(np.asarray(total), (int(np.prod(self.sizes)),)).copy()

    def _apply_vectors(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        """``(⊗Vᵢ) X`` (or ``(⊗Vᵢᴴ) X``) for ``X`` of shape ``(N, k)``, by the unwinding rule."""
        Vs = [Identity(n) if V is None else (V.conj().T if adjoint else V)
              for V, n in zip(self._eigen[1], self.sizes, strict=True)]
        if all(isinstance(V, Identity) for V in Vs):
            return X
        return Kron(*Vs)._matmat(X) if len(Vs) > 1 else Vs[0] @ X

    def solve(self, B: np.ndarray) -> np.ndarray:
        """``x`` with ``A x = b`` for every column of ``B`` (``N × k``): ``(⊗Vᵢ) diag(e)⁻¹ (⊗Vᵢᴴ) b``."""
        spectrum = self.spectrum
        self._check_nonsingular(spectrum)
        Y = self._apply_vectors(B, adjoint=True) / spectrum.reshape(-1, 1)  # a new array: B itself is never written
        X = self._apply_vectors(Y, adjoint=False)
        if self.shuffle is not None:  # A = S K, so x = K⁻¹ S⁻¹ b = Kᵀ S⁻¹ b
            n1, n2 = self.shuffle
            X = Commutation(n2, n1)._matmat(X)
        return X

    def solve_stack(self, X3):
        """``A⁻¹`` on a stack ``X3`` (``k × …``) of the factors' array library: the same two rotations, by mode
        products in that library, and the division by the eigenvalues."""
        xp, N = self.xp, int(np.prod(self.sizes))
        if xp is None:
            raise TypeError(f"{self.describe()}: solve_stack is for factors of another array library; use solve")
        spectrum = self.spectrum
        size = xp.abs(spectrum)
        if N and float(xp.min(size)) <= N * np.finfo(self.dtype).eps * float(xp.max(size)):
            raise np.linalg.LinAlgError(f"{self.describe()} is singular: an eigenvalue is zero to working precision")
        vectors = self._eigen[1]
        X = xp.reshape(X3, (X3.shape[0], N)).T
        Y = _mode_products(xp, [None if V is None else xp.conj(V).T for V in vectors], X, self.sizes)
        Y = Y / xp.reshape(spectrum, (-1, 1))
        return xp.reshape(_mode_products(xp, vectors, Y, self.sizes).T, X3.shape)

    def _check_nonsingular(self, spectrum: np.ndarray) -> None:
        """``LinAlgError`` naming the factors behind an eigenvalue that is zero to working precision
        (``|e_p| ≤ N ε max|e|``, numpy's rank tolerance)."""
        size = np.abs(spectrum)
        tolerance = size.size * np.finfo(self.dtype).eps * np.max(size, initial=0.0)
        if not np.any(size <= tolerance):
            return
        p = int(np.argmin(size))
        index = np.unravel_index(p, self.sizes)
        values = self._eigen[0]
        zeros = [f"K{i + 1} ({n}×{n}: eigenvalue {values[i][j]:.2g})" for i, (j, n, K) in
                 enumerate(zip(index, self.sizes, self.factors, strict=True))
                 if K is not None and abs(values[i][j]) <= np.finfo(self.dtype).eps * np.max(np.abs(values[i]))]
        culprit = f"; singular factors: {', '.join(zeros)}" if zeros else ""
        raise np.linalg.LinAlgError(
            f"{self.describe()} is singular: its eigenvalue {spectrum[p]:.2g} (index {p}) is zero to working "
            f"precision{culprit}"
        )

    def slogdet(self) -> tuple[complex | float, float]:
        """``(sign, log|det A|)``: ``Π e_p · Πᵢ det(Mᵢ)^{N/nᵢ}`` (times the shuffle's sign for box products)."""
        spectrum = self.spectrum
        if self.xp is not None:
            xp = self.xp
            size = xp.abs(spectrum)
            if float(xp.min(size)) == 0:
                return 0.0, -np.inf
            unit = spectrum / size
            sign = complex(xp.prod(unit)) if self.dtype.kind == "c" else float(xp.prod(unit))
            return sign, float(xp.sum(xp.log(size)))
        size = np.abs(spectrum)
        if np.any(size == 0):
            return 0.0, -np.inf
        sign = np.prod(spectrum / size) if np.iscomplexobj(spectrum) else np.prod(np.sign(spectrum))
        if self.shuffle is not None:
            n1, n2 = self.shuffle
            sign = sign * (-1 if math.comb(n1, 2) * math.comb(n2, 2) % 2 else 1)
        return sign.item(), float(np.sum(np.log(size))) + self._eigen[2]

    def trace_of_inverse(self) -> float | complex | None:
        """``tr(A⁻¹) = Σ_p w_p / e_p`` with ``w = ⊗ᵢ (column norms² of Vᵢ)``; ``None`` for box products."""
        if self.shuffle is not None or self.xp is not None:
            return None
        per_factor = [np.ones(n) if V is None else np.sum(np.abs(V) ** 2, axis=0)
                      for V, n in zip(self._eigen[1], self.sizes, strict=True)]
        weights = reduce(np.multiply.outer, per_factor)
        return np.sum(weights.ravel() / self.spectrum).item()

    def describe(self) -> str:
        """The structure in words: ``c·(K1 ⊗ K2) + c·(M1 ⊗ M2) (60×60 ⊗ 60×60)``."""
        terms = " + ".join(
            "c·(" + " ⊗ ".join(f"K{i + 1}" if k else f"M{i + 1}" for i, k in enumerate(uses_K)) + ")"
            for _, uses_K in self.terms
        )
        return f"{terms} ({' ⊗ '.join(f'{n}×{n}' for n in self.sizes)})"


def _generalized_eigen(K, M, n: int, dtype) -> tuple[np.ndarray, np.ndarray | None, float]:
    """``(Λ, V, log det M)`` with ``K V = M V diag(Λ)``, ``Vᴴ M V = I`` for ``M`` the identity (``None``), a
    positive diagonal (a vector) or a positive definite matrix; ``K = None`` means ``Λ = 1``."""
    if M is None:
        if K is None:
            return np.ones(n), None, 0.0
        lam, V = np.linalg.eigh(K.astype(dtype, copy=False))
        return lam, V, 0.0
    if M.ndim == 1:
        r = (1 / np.sqrt(M)).astype(dtype)
        log_m = float(np.sum(np.log(M)))
        if K is None:
            return np.ones(n), np.diag(r), log_m
        lam, Q = np.linalg.eigh((r[:, None] * K * r[None, :]).astype(dtype, copy=False))
        return lam, r[:, None] * Q, log_m
    L = np.linalg.cholesky(M)
    log_m = 2 * float(np.sum(np.log(np.abs(np.diagonal(L)))))
    if K is None:
        return np.ones(n), np.linalg.inv(L).conj().T.astype(dtype, copy=False), log_m
    lam, V = scipy.linalg.eigh(K, M)
    return lam, V.astype(dtype, copy=False), log_m


def _foreign_eigen(xp, K, n: int):
    """``(Λ, Q, 0)`` of a Hermitian ``K`` of another library by its ``eigh`` (``K = None``: ``Λ = 1``, ``Q = I``)."""
    if K is None:
        return xp.ones(n), None, 0.0
    lam, Q = xp.linalg.eigh(K)
    return lam, Q, 0.0


def _outer_vector(xp, parts: list):
    """``⊗ᵢ partsᵢ`` of 1-D arrays, row-major, in the namespace ``xp``."""
    out = parts[0]
    for part in parts[1:]:
        out = xp.reshape(xp.reshape(out, (-1, 1)) * xp.reshape(part, (1, -1)), (-1,))
    return out


def _mode_products(xp, mats: list, X, sizes: list[int]):
    """``(⊗ᵢ matsᵢ) X`` for ``X`` of shape ``(N, k)``: one product per axis of ``X`` read as ``n₁×⋯×n_d×k``
    (``None``: the identity)."""
    k = X.shape[1]
    T = xp.reshape(X, (*sizes, k))
    for axis, M in enumerate(mats):
        if M is not None:
            T = xp.moveaxis(xp.tensordot(M, T, axes=([1], [axis])), 0, axis)
    return xp.reshape(T, (-1, k))


def recognize(op: Operator) -> SharedEigenbasis | None:
    """The structure of ``op`` if it is a sum of Kronecker (or of box) products sharing one eigenbasis per factor
    position (module docstring), else ``None``. Kept on ``op``: found once."""
    if not isinstance(op, Sum):
        return None
    return op.kept("shared eigenbasis", lambda: _recognize(op))


def foreign_eigenbasis(op) -> SharedEigenbasis | None:
    """The shared eigenbasis of ``op`` if its factors are of another array library (solved in that library)."""
    if getattr(op, "backend", None) is None:
        return None
    return recognize(op)


def _recognize(op: Sum) -> SharedEigenbasis | None:
    boxes = [_unscaled(term) for term in op.ops]
    shuffle = None
    if all(isinstance(box, Box) for box in boxes):  # Σ cₜ Aₜ ⊠ Bₜ = (Σ cₜ Aₜ ⊗ Bₜ) K_{n1,n2}
        shapes = {(box.A.shape, box.B.shape) for box in boxes}
        if len(shapes) != 1:
            return None
        ((shape_a, shape_b),) = shapes
        if shape_a[0] != shape_a[1] or shape_b[0] != shape_b[1]:
            return None
        shuffle = (shape_a[1], shape_b[1])
        flat = [_flatten_box(term) for term in op.ops]
    else:
        flat = [_flatten(term) for term in op.ops]
    found = [f for f in flat if f is not None]
    if len(found) != len(flat):
        return None
    sizes = [F.shape[0] for F in max((fs for _, fs in found), key=len)]
    coefficients: list[complex] = []  # of the terms, times the scales their factors give up below
    groups: list[list] = []  # the factors of the terms, regrouped to the common sizes
    for c, fs in found:
        regrouped = _regroup(fs, sizes)
        if regrouped is None:
            return None
        coefficients.append(c)
        groups.append(regrouped)
    factors: list[np.ndarray | None] = []
    metrics: list[np.ndarray | None] = []
    uses: list[list[bool]] = [[] for _ in groups]
    for i in range(len(sizes)):
        position = _position([fs[i] for fs in groups])
        if position is None:
            return None
        K, M, roles = position
        factors.append(K)
        metrics.append(M)
        for t, (is_K, scale) in enumerate(roles):
            coefficients[t] = coefficients[t] * scale
            uses[t].append(is_K)
    if not any(any(k) for k in uses):
        return None  # nothing to diagonalize: a sum of diagonals and metrics
    structure = [(c, tuple(k)) for c, k in zip(coefficients, uses, strict=True)]
    if op.backend is not None and (shuffle is not None or any(M is not None for M in metrics)):
        return None  # in another library: Kronecker factors over identities only
    return SharedEigenbasis(structure, factors, metrics, sizes, op.dtype, shuffle)


def _unscaled(op):
    while isinstance(op, Scaled):
        op = op.op
    return op


def _flatten_box(op) -> tuple[complex, list] | None:
    """``c · (A ⊠ B)`` as ``(c, [A, B])`` for square numpy (or ``Identity``/``Diag``) factors."""
    c: complex = 1
    while isinstance(op, Scaled):
        c, op = c * op.c, op.op
    left, right = _flatten(op.A), _flatten(op.B)
    if left is None or right is None or len(left[1]) != 1 or len(right[1]) != 1:
        return None
    return c * left[0] * right[0], left[1] + right[1]


def _position(column: list) -> tuple[np.ndarray | None, np.ndarray | None, list[tuple[bool, complex]]] | None:
    """The factors of every term at one position as ``(K, M, [(is_K, scale), …])``: at most one Hermitian ``K``
    and one positive definite ``M`` (a positive diagonal counts, up to a positive scale per term)."""
    diagonal: np.ndarray | None = None
    matrices: list[np.ndarray] = []
    roles: list = []
    for F in column:
        d = _diagonal(F)
        if d is not None:
            scale = d[0] if d.size else 1
            if scale == 0 or np.iscomplexobj(d) or np.any(d / scale <= 0):
                return None
            if diagonal is None:
                diagonal = d / scale
            elif not np.allclose(d / scale, diagonal, rtol=1e-14, atol=0):
                return None
            roles.append(("M", scale))
            continue
        if not (isinstance(F, np.ndarray) or is_foreign(F)):
            return None
        for j, G in enumerate(matrices):
            if _same(F, G):
                roles.append((j, 1))
                break
        else:
            matrices.append(F)
            roles.append((len(matrices) - 1, 1))
    if len(matrices) + (diagonal is not None) > 2 or not all(_hermitian(G) for G in matrices):
        return None
    if diagonal is not None:
        M = None if np.all(diagonal == 1) else np.asarray(diagonal, dtype=float)
        K = matrices[0] if matrices else None
        return K, M, [(role != "M", scale) for role, scale in roles]
    if len(matrices) == 1:
        return matrices[0], None, [(True, scale) for _, scale in roles]
    metric = next((j for j in (1, 0) if _positive_definite(matrices[j])), None)
    if metric is None:
        return None
    return matrices[1 - metric], matrices[metric], [(role != metric, scale) for role, scale in roles]


def _positive_definite(M: np.ndarray) -> bool:
    if is_foreign(M):  # a pair of matrices of another library: no generalized eigh there
        return False
    try:
        np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return False
    return True


def _kron_and_diagonal_terms(op: Operator) -> tuple[Operator, list[tuple[complex, np.ndarray]]] | None:
    """``op = K + Σ cⱼ diag(dⱼ)``: the one Kronecker term ``K`` and the diagonal terms as full-length vectors."""
    if not isinstance(op, Sum):
        return None
    kron: Operator | None = None
    diagonal: list[tuple[complex, np.ndarray]] = []
    for term in op.ops:
        flat = _flatten(term)
        if flat is None:
            return None
        c, factors = flat
        ds = [d for d in (_diagonal(F) for F in factors) if d is not None]
        if len(ds) == len(factors):
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

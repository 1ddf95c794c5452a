"""Closed forms on operators that never form the matrix: trace, det / slogdet / logdet, inv, solve.

Each function dispatches on the operator type, so the table of closed forms reads top to bottom.
Row-major index pairs ``(ij) = i·m2 + j`` as in :mod:`kronbox.operators.products`.

- Determinants are computed as ``slogdet`` (sign, log|det|): ``det(A ⊗ B)`` with 100×100 factors
  overflows float64 as a number while its logarithm is harmless.
- ``inv`` returns lazy operators built from the inverses of the small factors (never the inverse
  of the big matrix); they reuse those inverses on every apply. A small dense factor is inverted
  by ``numpy.linalg.inv``: applying it is then one GEMM in numpy's BLAS pool, measured at
  0.49–0.86× the time of ``scipy.linalg.lu_solve`` with kept LU factors (n = 100–1000,
  ``bench/suites/sylvester.py``).
- ``solve`` factorizes each factor once per call, for all right-hand sides together, with
  ``numpy.linalg.solve`` (LU and triangular solves in numpy's pool: 1.05–1.10× scipy's
  ``lu_factor`` + ``lu_solve`` on one thread, 0.54–0.67× on two at n ≥ 300, where inverting was
  1.06–1.65× slower). Kronecker sums go by Bartels–Stewart (:mod:`kronbox.sylvester`). Operators
  without a closed form are factorized densely up to ``N = 2048`` and solved by Krylov methods
  beyond (:mod:`kronbox.krylov`).
- Closed forms run on numpy arrays (LAPACK, Bartels–Stewart): an operator with factors of another
  array library, or a right-hand side of one, gets a :class:`kronbox.backend.BackendError` that
  names the alternatives (numpy factors, or a Krylov method on the lazy operator). The exception is
  a Kronecker sum of symmetric factors, whose inverse and solve run in the library
  (:mod:`kronbox.symmetric_sylvester`).
- Structurally singular operators (a zero, a rank-one outer product, a Kron or Box of non-square
  factors, a composition through a narrower space) have ``det = 0`` and no inverse.
"""

from __future__ import annotations

import math
from functools import singledispatch
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, splu

from .backend import BackendError, library, unsupported
from .krylov import krylov_solve
from .operators import (
    Box,
    Commutation,
    Compose,
    Dense,
    Diag,
    Identity,
    Inverse,
    Kron,
    KronSum,
    Outer,
    Scaled,
    Sum,
    Transpose,
    Zero,
    factors,
)
from .operators.base import Operator, numeric_array, shape_text
from .sylvester import as_kronecker_sum

# Columns probed at once when a trace has no closed form.
_PROBE_BLOCK = 64


def numpy_only(op: Operator, what: str, name: str) -> BackendError:
    """The error for a closed form or direct solve (``what``) of ``op`` asked on ``name`` arrays."""
    return unsupported(
        f"{what} of {op!r}", name,
        "direct solves and closed forms (LU, Cholesky, Bartels–Stewart) run on numpy arrays in memory; pass numpy "
        "arrays (numpy.asarray(b), if it fits) or solve iteratively with the lazy operator, e.g. "
        "scipy.sparse.linalg.gmres(op, b)",
    )


def _symmetric_foreign_kronsum(op) -> bool:
    """A Kronecker sum with symmetric factors of another library: solved there by eigendecompositions."""
    from .symmetric_sylvester import for_kronsum

    return isinstance(op, KronSum) and for_kronsum(op) is not None


def _require_square(op: Operator, what: str) -> None:
    if op.shape[0] != op.shape[1]:
        raise ValueError(f"{what} needs a square operator, {op!r} is {shape_text(op.shape)}")


def _factor_entries(F, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``F[rows, cols]`` for a dense, sparse or operator factor (operators are densified: they are small)."""
    if sp.issparse(F):
        return np.asarray(F.tocsr()[rows, cols]).ravel()
    return factors.to_array(F)[rows, cols]


@singledispatch
def trace(op: LinearOperator):
    """``tr(A) = Σ_p A[p, p]``, exact. Without a closed form: probe ``A`` with blocks of unit vectors."""
    op = op if isinstance(op, Operator) else Dense(op)
    _require_square(op, "trace")
    N = op.shape[0]
    total = np.zeros((), dtype=op.dtype)
    for start in range(0, N, _PROBE_BLOCK):
        stop = min(start + _PROBE_BLOCK, N)
        E = np.zeros((N, stop - start), dtype=op.dtype)
        E[np.arange(start, stop), np.arange(stop - start)] = 1
        total = total + np.trace(op._matmat(E)[start:stop])
    return total.item()


@trace.register
def _(op: Kron):
    """``tr(A ⊗ B) = tr A · tr B`` for square factors; else ``Σ_p A[i,k] B[j,l]`` on the diagonal."""
    _require_square(op, "trace")
    A, B = op.A, op.B
    if A.shape[0] == A.shape[1] and B.shape[0] == B.shape[1]:
        return (_factor_trace(A) * _factor_trace(B)).item()
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, B.shape[1])
    return np.sum(_factor_entries(A, i, k) * _factor_entries(B, j, l)).item()


@trace.register
def _(op: Box):
    """``tr(A ⊠ B) = tr(A B)`` for ``A`` ``m×n`` and ``B`` ``n×m``; else ``Σ_p A[i,l] B[j,k]``."""
    _require_square(op, "trace")
    A, B = op.A, op.B
    if A.shape == B.shape[::-1]:
        return _product_trace(A, B).item()
    p = np.arange(op.shape[0])
    i, j = np.divmod(p, B.shape[0])
    k, l = np.divmod(p, A.shape[1])
    return np.sum(_factor_entries(A, i, l) * _factor_entries(B, j, k)).item()


def _factor_trace(F):
    if isinstance(F, LinearOperator):
        return np.asarray(trace(F))
    return np.asarray(F.diagonal().sum())


def _product_trace(A, B):
    """``tr(A B) = Σ A ∘ Bᵀ`` for factors ``A`` (``m×n``) and ``B`` (``n×m``) of any kind."""
    if isinstance(A, LinearOperator) or isinstance(B, LinearOperator):
        return np.asarray(trace(Compose(A, B)))
    if sp.issparse(A):
        return np.asarray(A.multiply(B.T).sum())
    if sp.issparse(B):
        return np.asarray(B.multiply(A.T).sum())
    return np.asarray(np.einsum("ij,ji->", A, B))


@trace.register
def _(op: Outer):
    """``tr(u vᵀ) = vᵀ u``."""
    _require_square(op, "trace")
    return (op.v @ op.u).item()


@trace.register
def _(op: Diag):
    return op.diagonal.sum().item()


@trace.register
def _(op: Identity):
    return op.dtype.type(op.shape[0]).item()


@trace.register
def _(op: Zero):
    _require_square(op, "trace")
    return op.dtype.type(0).item()


@trace.register
def _(op: Commutation):
    """``tr(I_m ⊠ I_n)`` counts the fixed points of the perfect shuffle: ``1 + gcd(m-1, n-1)``."""
    if op.m == 0 or op.n == 0:
        return op.dtype.type(0).item()
    return op.dtype.type(1 + np.gcd(op.m - 1, op.n - 1)).item()


@trace.register
def _(op: Scaled):
    return op.c * trace(op.op)


@trace.register
def _(op: Sum):
    """Linearity: ``tr(Σ Aᵢ) = Σ tr(Aᵢ)``."""
    _require_square(op, "trace")
    return sum(trace(term) for term in op.ops)


@trace.register
def _(op: Transpose):
    return trace(op.op)


@trace.register
def _(op: Dense):
    _require_square(op, "trace")
    if isinstance(op.M, LinearOperator):
        return trace(op.M)
    return op.M.diagonal().sum().item()


@trace.register
def _(op: KronSum):
    """``tr(A ⊗ I_{m2} + I_{m1} ⊗ B) = m2 tr A + m1 tr B``."""
    m1, m2 = op.in_shape
    return (m2 * _factor_trace(op.A) + m1 * _factor_trace(op.B)).item()


@trace.register
def _(op: Compose):
    """The product simplified (mixed products, connectors); if it stays a product, cyclically:
    an outer factor gives ``tr(A u vᵀ B) = vᵀ B A u``, else probe ``tr(A B) = tr(B A)`` in the
    rotation with the fewest rows."""
    _require_square(op, "trace")
    simplified = op.simplify()
    if not isinstance(simplified, Compose):
        return trace(simplified)
    ops = simplified.ops
    i = next((i for i, factor in enumerate(ops) if isinstance(factor, Outer)), None)
    if i is not None:
        w = ops[i].u[:, None]
        for factor in reversed(ops[i + 1 :] + ops[:i]):
            w = factor._matmat(w)
        return (ops[i].v @ w)[0].item()
    i = min(range(len(ops)), key=lambda i: ops[i].shape[0])
    return trace.dispatch(LinearOperator)(Compose(*ops[i:], *ops[:i]))


# ===================================================================== det, slogdet, logdet, inv, solve
# Operators without a closed form are factorized densely up to this size (an LU of a 2048×2048
# matrix takes about 0.1 s and 32 MB); beyond it ``det`` gives up and ``solve`` iterates.
_DENSE_MAX = 2048


class Slogdet(NamedTuple):
    """``det = sign · exp(logabsdet)``; ``sign`` is ±1 (a unit complex number for complex operators), 0 if singular."""

    sign: float | complex
    logabsdet: float


def _square_operator(op, what: str) -> Operator:
    op = op if isinstance(op, Operator) else Dense(op)
    if not op.square:
        raise ValueError(
            f"{what}: {op!r} is {shape_text(op.shape)}, not square; {what} is defined for square operators only"
        )
    if op.backend is not None:
        raise numpy_only(op, what, op.backend.library)
    return op


def _typed(op: Operator, sign, logabsdet) -> Slogdet:
    """A :class:`Slogdet` whose sign is real for a real operator and complex for a complex one."""
    if op.dtype.kind == "c":
        sign = complex(sign)
        return Slogdet(sign / abs(sign) if sign else 0j, float(logabsdet))
    return Slogdet(float(np.sign(np.real(sign))), float(logabsdet))


def _singular_slogdet(op: Operator) -> Slogdet:
    return _typed(op, 0, -np.inf)


def _product(op: Operator, *parts: tuple[Slogdet, int]) -> Slogdet:
    """``Π detᵢ^{pᵢ}`` in slogdet form (no overflow: the logarithms add)."""
    sign, logabsdet = 1, 0.0
    for (s, log), power in parts:
        if s == 0:
            return _singular_slogdet(op)
        sign, logabsdet = sign * s**power, logabsdet + power * log
    return _typed(op, sign, logabsdet)


def _from_values(op: Operator, values: np.ndarray) -> Slogdet:
    """``det = Π zᵢ`` over eigenvalues (or diagonal entries) ``z``; a NaN stays NaN, ``±inf`` keeps its sign."""
    size = np.abs(values)
    if np.any(size == 0) and np.all(np.isfinite(size)):
        return _singular_slogdet(op)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(np.isinf(size), np.sign(values), values / size)
        return _typed(op, np.prod(unit), np.sum(np.log(size)))


# ------------------------------------------------------------- structural singularity
@singledispatch
def _singular_reason(op: LinearOperator) -> str | None:
    """Why a square operator is singular from its structure alone, or ``None`` if it need not be."""
    return None


@_singular_reason.register(Kron)
@_singular_reason.register(Box)
def _(op):
    """``rank(A ⊗ B) = rank(A ⊠ B) = rank A · rank B ≤ min(m1,n1) · min(m2,n2)``.

    A square product (``m1 m2 = n1 n2``) of non-square factors has, say, ``m1 < n1`` and so
    ``n2 < m2``: its rank is at most ``m1 n2 < m1 m2``. Such a product is always singular.
    """
    (m1, n1), (m2, n2) = op.A.shape, op.B.shape
    if m1 == n1 and m2 == n2:
        return None
    rank = min(m1, n1) * min(m2, n2)
    return (
        f"{op!r} has non-square factors ({m1}×{n1} and {m2}×{n2}), so its rank is at most "
        f"{min(m1, n1)}·{min(m2, n2)} = {rank} < {op.shape[0]}: it is singular"
    )


@_singular_reason.register
def _(op: Zero):
    return f"{op!r} is zero" if op.shape[0] else None


@_singular_reason.register
def _(op: Outer):
    """``u vᵀ`` has rank one."""
    return f"{op!r} has rank one < {op.shape[0]}" if op.shape[0] > 1 else None


@_singular_reason.register
def _(op: Compose):
    """``rank(A₁ ⋯ A_k)`` is at most the narrowest dimension along the chain."""
    narrowest = min(min(factor.shape) for factor in op.ops)
    if narrowest < op.shape[0]:
        return f"{op!r} passes through a space of dimension {narrowest} < {op.shape[0]}: it is singular"
    return None


# --------------------------------------------------------------------- determinants
def slogdet(op) -> Slogdet:
    """``(sign, log|det A|)`` by a closed form where one exists; ``det A = sign · exp(logabsdet)``."""
    op = _square_operator(op, "slogdet")
    if _singular_reason(op) is not None:
        return _singular_slogdet(op)
    return _slogdet(op)


def det(op) -> float | complex:
    """``det A`` (may overflow to ``inf`` or underflow to 0 where :func:`slogdet` does not)."""
    sign, logabsdet = slogdet(_square_operator(op, "det"))
    with np.errstate(over="ignore"):
        return np.multiply(sign, np.exp(logabsdet)).item() if sign else sign


def logdet(op) -> float | complex:
    """The natural logarithm of ``det A``: ``-inf`` if singular, principal branch for complex ``A``.

    A real operator with a negative determinant has no real logarithm: that raises ``ValueError``
    (use :func:`slogdet`) rather than returning ``nan`` or ``log|det|``.
    """
    op = _square_operator(op, "logdet")
    sign, logabsdet = slogdet(op)
    if op.dtype.kind == "c":
        return complex(logabsdet, np.angle(sign)) if sign else complex(-np.inf)
    if sign < 0:
        raise ValueError(
            f"logdet: det({op!r}) is negative (log|det| = {logabsdet:.6g}), so it has no real logarithm; "
            f"use slogdet() for (sign, log|det|)"
        )
    return logabsdet


def _sparse_lu(F, role: str, dtype=None):
    """SuperLU of ``F`` (in ``dtype``, if given); ``LinAlgError`` naming ``role`` if it is singular."""
    try:
        return splu(sp.csc_matrix(F, dtype=dtype))
    except RuntimeError:  # SuperLU: "Factor is exactly singular"
        raise np.linalg.LinAlgError(f"{role} (sparse {shape_text(F.shape)}) is singular") from None


def _kept_sparse_lu(op: Dense, dtype):
    """The SuperLU of the sparse matrix of ``op`` in ``dtype``, kept on ``op``: an ``Inverse`` of a sparse
    matrix factorizes it once (when ``inv()`` checks that it is nonsingular) and reuses it on every apply."""
    return op.kept(("sparse LU", np.dtype(dtype)), lambda: _sparse_lu(op.M, repr(op), dtype))


def _permutation_sign(p: np.ndarray) -> int:
    """``(−1)^(n − number of cycles)``."""
    seen = np.zeros(p.size, dtype=bool)
    cycles = 0
    for start in range(p.size):
        cycles += not seen[start]
        j = start
        while not seen[j]:
            seen[j] = True
            j = p[j]
    return -1 if (p.size - cycles) % 2 else 1


def _sparse_slogdet(F) -> Slogdet:
    """``Pr F Pc = L U`` (SuperLU, unit ``L``): ``det F = sign(Pr) sign(Pc) Π diag U``."""
    try:
        lu = _sparse_lu(F, "sparse matrix")
    except np.linalg.LinAlgError:
        return Slogdet(0.0, -np.inf)
    u = lu.U.diagonal()
    size = np.abs(u)
    sign = np.prod(u / size) * _permutation_sign(lu.perm_r) * _permutation_sign(lu.perm_c)
    return Slogdet(sign.item(), np.sum(np.log(size)).item())


def _factor_slogdet(F) -> Slogdet:
    if isinstance(F, np.ndarray):
        sign, logabsdet = np.linalg.slogdet(F)
        return Slogdet(sign.item(), logabsdet.item())
    if sp.issparse(F):
        return _sparse_slogdet(F)
    return slogdet(F)


@singledispatch
def _slogdet(op: LinearOperator) -> Slogdet:
    """No closed form: an LU of the dense matrix if ``N ≤ 2048``, else ``ValueError``."""
    op = op if isinstance(op, Operator) else Dense(op)
    if op.shape[0] > _DENSE_MAX:
        raise ValueError(
            f"slogdet: {op!r} ({shape_text(op.shape)}) has no closed-form determinant and is too large "
            f"(> {_DENSE_MAX}) to factorize densely; np.linalg.slogdet(op.to_dense()) does it if memory allows"
        )
    return _typed(op, *np.linalg.slogdet(op.to_dense()))


@_slogdet.register
def _(op: Kron):
    """``det(A ⊗ B) = det(A)^{m2} det(B)^{m1}`` (A ``m1×m1``, B ``m2×m2``)."""
    m1, m2 = op.A.shape[0], op.B.shape[0]
    return _product(op, (_factor_slogdet(op.A), m2), (_factor_slogdet(op.B), m1))


def _box_sign(m1: int, m2: int) -> int:
    return -1 if math.comb(m1, 2) * math.comb(m2, 2) % 2 else 1


@_slogdet.register
def _(op: Box):
    """``det(A ⊠ B) = (−1)^{C(m1,2)·C(m2,2)} det(A)^{m2} det(B)^{m1}``: ``A ⊠ B = (A ⊗ B)(I ⊠ I)``."""
    m1, m2 = op.A.shape[0], op.B.shape[0]
    shuffle = Slogdet(_box_sign(m1, m2), 0.0)
    return _product(op, (shuffle, 1), (_factor_slogdet(op.A), m2), (_factor_slogdet(op.B), m1))


@_slogdet.register
def _(op: Commutation):
    """``det(I_m ⊠ I_n) = (−1)^{C(m,2)·C(n,2)}``, the sign of the perfect shuffle."""
    return _typed(op, _box_sign(op.m, op.n), 0.0)


@_slogdet.register
def _(op: Diag):
    """``det diag(d) = Π dᵢ``."""
    return _from_values(op, op.diagonal)


@_slogdet.register
def _(op: Identity):
    return _typed(op, 1, 0.0)


@_slogdet.register
def _(op: Scaled):
    """``det(c A) = c^N det A``."""
    if op.c == 0:
        return _singular_slogdet(op)
    c = Slogdet(op.c / abs(op.c), math.log(abs(op.c)))
    return _product(op, (c, op.shape[0]), (slogdet(op.op), 1))


@_slogdet.register
def _(op: Transpose):
    """``det Aᵀ = det A``."""
    return _typed(op, *slogdet(op.op))


@_slogdet.register
def _(op: Compose):
    """``det(A₁ ⋯ A_k) = Π det Aᵢ`` for square factors; otherwise no closed form."""
    if not all(factor.square for factor in op.ops):
        return _slogdet.dispatch(LinearOperator)(op)
    return _product(op, *((slogdet(factor), 1) for factor in op.ops))


@_slogdet.register
def _(op: Dense):
    if isinstance(op.M, np.ndarray):
        return _typed(op, *_factor_slogdet(op.M))
    if sp.issparse(op.M):
        return _typed(op, *_sparse_slogdet(op.M))
    if isinstance(op.M, Operator):
        return slogdet(op.M)
    return _slogdet.dispatch(LinearOperator)(op)


@_slogdet.register
def _(op: KronSum):
    """``det(A ⊗ I + I ⊗ B) = Πᵢⱼ (λᵢ + μⱼ)`` over the eigenvalues ``λ`` of ``A`` and ``μ`` of ``B``."""
    lam, mu = (np.linalg.eigvals(factors.to_array(F)) for F in (op.A, op.B))
    return _from_values(op, (lam[:, None] + mu[None, :]).ravel())


@_slogdet.register
def _(op: Sum):
    """``α (A ⊗ B) + β (C ⊗ D) = (P ⊗ Q)(A' ⊕ B')`` (see :mod:`kronbox.sylvester`): a product of closed forms."""
    split = as_kronecker_sum(op)
    if split is None:
        return _slogdet.dispatch(LinearOperator)(op)
    outer, kronsum = split
    parts = [(slogdet(kronsum), 1)] + ([(slogdet(outer), 1)] if outer is not None else [])
    return _product(op, *parts)


@_slogdet.register
def _(op: Inverse):
    """``det A⁻¹ = 1 / det A``."""
    sign, logabsdet = slogdet(op.op)
    if sign == 0:
        raise np.linalg.LinAlgError(f"{op!r}: the operator is singular, it has no inverse")
    return _typed(op, np.conj(sign), -logabsdet)


# -------------------------------------------------------------------------- inverse
def inv(op) -> Operator:
    """``A⁻¹`` as a lazy operator (closed forms, see the table); ``LinAlgError`` if ``A`` is singular."""
    if _symmetric_foreign_kronsum(op):
        return Inverse(op)  # solved in the library (kronbox.symmetric_sylvester)
    op = _square_operator(op, "inv")
    reason = _singular_reason(op)
    if reason is not None:
        raise np.linalg.LinAlgError(f"inv: {reason}; it has no inverse")
    return _inv(op)


def _singular_factor(role: str, F, err: Exception) -> np.linalg.LinAlgError:
    detail = f" ({err})" if isinstance(F, LinearOperator) else ""
    return np.linalg.LinAlgError(f"{role} ({factors.shape_text(F)}) is singular{detail}")


def _factor_inv(F, role: str):
    """``F⁻¹`` of a Kron or Box factor: dense factors by ``numpy.linalg.inv`` (see the module docstring)."""
    try:
        if isinstance(F, np.ndarray):
            return np.linalg.inv(F)
        if sp.issparse(F):
            inverse = Inverse(Dense(F))
            _kept_sparse_lu(inverse.op, F.dtype)  # fail now, with the factor's name, if it is singular
            return inverse
        return inv(F)
    except np.linalg.LinAlgError as err:
        raise _singular_factor(role, F, err) from None


@singledispatch
def _inv(op: LinearOperator) -> Operator:
    """No closed form: the dense inverse if ``N ≤ 2048``, else the lazy :class:`Inverse` (Krylov solves)."""
    op = op if isinstance(op, Operator) else Dense(op)
    if op.shape[0] > _DENSE_MAX:
        return Inverse(op)
    try:
        return Dense(np.linalg.inv(op.to_dense()), op.out_shape, op.in_shape)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"inv: {op!r} ({shape_text(op.shape)}) is singular") from None


@_inv.register
def _(op: Kron):
    """``(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹``."""
    return Kron(_factor_inv(op.A, "Kron: the left factor"), _factor_inv(op.B, "Kron: the right factor"))


@_inv.register
def _(op: Box):
    """``(A ⊠ B)⁻¹ = B⁻¹ ⊠ A⁻¹``."""
    return Box(_factor_inv(op.B, "Box: the right factor"), _factor_inv(op.A, "Box: the left factor"))


@_inv.register
def _(op: Commutation):
    """``(I_m ⊠ I_n)⁻¹ = (I_m ⊠ I_n)ᵀ = I_n ⊠ I_m`` (a permutation)."""
    return Commutation(op.n, op.m, dtype=op.dtype)


@_inv.register
def _(op: Diag):
    """``diag(d)⁻¹ = diag(1/d)``."""
    zeros = np.flatnonzero(op.diagonal == 0)
    if zeros.size:
        raise np.linalg.LinAlgError(f"{op!r} is singular: diagonal entry {zeros[0]} is zero")
    return Diag(1 / op.d)


@_inv.register
def _(op: Identity):
    return op


@_inv.register
def _(op: Scaled):
    """``(c A)⁻¹ = c⁻¹ A⁻¹``."""
    if op.c == 0:
        raise np.linalg.LinAlgError(f"{op!r} is singular: the coefficient is zero")
    return Scaled(1 / op.c, inv(op.op))


@_inv.register
def _(op: Transpose):
    """``(Aᵀ)⁻¹ = (A⁻¹)ᵀ``."""
    return inv(op.op).T


@_inv.register
def _(op: Compose):
    """``(A₁ ⋯ A_k)⁻¹ = A_k⁻¹ ⋯ A₁⁻¹`` for square factors; otherwise no closed form."""
    if not all(factor.square for factor in op.ops):
        return _inv.dispatch(LinearOperator)(op)
    return Compose(*(inv(factor) for factor in reversed(op.ops)))


@_inv.register
def _(op: Dense):
    """A dense matrix: ``numpy.linalg.inv``; sparse: the lazy :class:`Inverse` (sparse LU solves)."""
    if isinstance(op.M, np.ndarray):
        return Dense(_factor_inv(op.M, "Dense"), op.out_shape, op.in_shape)
    if sp.issparse(op.M):
        _kept_sparse_lu(op, op.M.dtype)
        return Inverse(op)
    if isinstance(op.M, Operator):
        return inv(op.M)
    return _inv.dispatch(LinearOperator)(op)


@_inv.register
def _(op: KronSum):
    """``(A ⊕ B)⁻¹``: lazy, each apply one Bartels–Stewart solve with the Schur forms kept on ``op``."""
    return Inverse(op)


@_inv.register
def _(op: Sum):
    """``((P ⊗ Q)(A' ⊕ B'))⁻¹ = (A' ⊕ B')⁻¹ (P⁻¹ ⊗ Q⁻¹)`` when the sum is a disguised Kronecker sum."""
    split = as_kronecker_sum(op)
    if split is None:
        return _inv.dispatch(LinearOperator)(op)
    outer, kronsum = split
    return Inverse(kronsum) if outer is None else Compose(Inverse(kronsum), inv(outer))


@_inv.register
def _(op: Inverse):
    return op.op


# ---------------------------------------------------------------------------- solve
def solve(op, b) -> np.ndarray:
    """``x`` with ``A x = b``, for a vector ``b`` of length ``N`` or an ``N × k`` block of columns.

    Closed forms per operator type (see the table); each factor is factorized once for all
    columns. Row-major ``vec``: to solve ``A vec(X) = vec(C)`` pass ``C.ravel()`` and read
    ``x.reshape(A.in_shape)``. Singular operators raise ``numpy.linalg.LinAlgError``.
    """
    if _symmetric_foreign_kronsum(op) and library(b) == op.backend.library:
        return Inverse(op) @ b
    op = _square_operator(op, "solve")
    if library(b) is not None:
        raise numpy_only(op, "solve", library(b))
    b = op._check_vector(b, op.shape[0], "solve")
    B = numeric_array(b, "solve: the right-hand side")
    X = _solve_checked(op, B.reshape(op.shape[0], 1 if B.ndim == 1 else B.shape[1]))
    return X.reshape(B.shape)


def _solve_checked(op: Operator, B: np.ndarray) -> np.ndarray:
    reason = _singular_reason(op)
    if reason is not None:
        raise np.linalg.LinAlgError(f"solve: {reason}")
    return _solve(op, B)


def _factor_solve(F, M: np.ndarray, role: str) -> np.ndarray:
    """``F⁻¹ M`` for a Kron or Box factor, one factorization for all columns of ``M``."""
    try:
        if isinstance(F, np.ndarray):
            return np.linalg.solve(F, M)
        if sp.issparse(F):
            return _sparse_lu(F, role, np.result_type(F.dtype, M.dtype)).solve(M)
        return _solve_checked(F, M)
    except np.linalg.LinAlgError as err:
        raise _singular_factor(role, F, err) from None


def _two_sided_solve(A, B, C: np.ndarray, what: str) -> np.ndarray:
    """``(A⁻¹ C_c B⁻ᵀ)ᵀ`` for every column ``c`` of ``C`` (``(m1·m2) × k``), as an ``(m2, m1, k)`` array."""
    m1, m2, k = A.shape[0], B.shape[0], C.shape[1]
    T = _factor_solve(A, C.reshape(m1, m2 * k), f"{what}: the left factor")
    T = np.ascontiguousarray(T.reshape(m1, m2, k).transpose(1, 0, 2)).reshape(m2, m1 * k)
    return _factor_solve(B, T, f"{what}: the right factor").reshape(m2, m1, k)


@singledispatch
def _solve(op: LinearOperator, B: np.ndarray) -> np.ndarray:
    """No closed form: a dense LU if ``N ≤ 2048``, else :func:`kronbox.krylov.krylov_solve`."""
    op = op if isinstance(op, Operator) else Dense(op)
    if op.shape[0] > _DENSE_MAX:
        return krylov_solve(op, B)
    try:
        return np.linalg.solve(op.to_dense(), B)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"solve: {op!r} ({shape_text(op.shape)}) is singular") from None


@_solve.register
def _(op: Kron, B):
    """``(A ⊗ B) vec(X) = vec(C)``  ⇔  ``X = A⁻¹ C B⁻ᵀ``."""
    Xt = _two_sided_solve(op.A, op.B, B, "Kron")
    return Xt.transpose(1, 0, 2).reshape(op.shape[0], B.shape[1])


@_solve.register
def _(op: Box, B):
    """``(A ⊠ B) vec(X) = vec(A Xᵀ Bᵀ) = vec(C)``  ⇔  ``X = (A⁻¹ C B⁻ᵀ)ᵀ``."""
    return _two_sided_solve(op.A, op.B, B, "Box").reshape(op.shape[0], B.shape[1])


@_solve.register
def _(op: Commutation, B):
    """``K⁻¹ = Kᵀ``."""
    return inv(op)._matmat(B)


@_solve.register
def _(op: Diag, B):
    """``diag(d)⁻¹ b = b / d``."""
    return inv(op)._matmat(B)


@_solve.register
def _(op: Identity, B):
    return B.copy()


@_solve.register
def _(op: Scaled, B):
    """``(c A)⁻¹ b = A⁻¹ b / c``."""
    if op.c == 0:
        raise np.linalg.LinAlgError(f"{op!r} is singular: the coefficient is zero")
    return _solve_checked(op.op, B) / op.c


@_solve.register
def _(op: Transpose, B):
    """``Aᵀ x = b`` is a solve with the transposed structure (``Kron(A, B)ᵀ = Kron(Aᵀ, Bᵀ)`` …)."""
    transposed = op.op.T
    if isinstance(transposed, Transpose):  # no structure to transpose into
        return _solve.dispatch(LinearOperator)(op, B)
    return _solve_checked(transposed, B)


@_solve.register
def _(op: Compose, B):
    """``A₁ ⋯ A_k x = b``: solve with ``A₁`` first, then ``A₂`` … (square factors)."""
    if not all(factor.square for factor in op.ops):
        return _solve.dispatch(LinearOperator)(op, B)
    for factor in op.ops:
        B = _solve_checked(factor, B)
    return B


@_solve.register
def _(op: Dense, B):
    """``numpy.linalg.solve`` (LU); a sparse matrix by its sparse LU, kept for the next solve."""
    if sp.issparse(op.M):
        return _kept_sparse_lu(op, np.result_type(op.M.dtype, B.dtype)).solve(B)
    if isinstance(op.M, np.ndarray):
        return _factor_solve(op.M, B, "Dense")
    if isinstance(op.M, Operator):
        return _solve_checked(op.M, B)
    return _solve.dispatch(LinearOperator)(op, B)


@_solve.register
def _(op: KronSum, B):
    """``A X + X Bᵀ = C`` by Bartels–Stewart (:class:`kronbox.sylvester.SylvesterSolver`), ``O(m1³ + m2³)``."""
    return op.sylvester.solve(B)


@_solve.register
def _(op: Sum, B):
    """``(P ⊗ Q)(A' ⊕ B') x = b``: a Kron solve, then a Sylvester solve, when the sum is one in disguise."""
    split = as_kronecker_sum(op)
    if split is None:
        return _solve.dispatch(LinearOperator)(op, B)
    outer, kronsum = split
    return _solve(kronsum, B if outer is None else _solve(outer, B))


@_solve.register
def _(op: Inverse, B):
    """``(A⁻¹)⁻¹ b = A b``."""
    return op.op._matmat(B)

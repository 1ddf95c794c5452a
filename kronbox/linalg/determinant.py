"""Determinants of operators as ``slogdet`` (sign, log|det|), by a closed form per operator type.

``det(A ⊗ B) = det(A)^{m2} det(B)^{m1}``, ``det(A ⊠ B) = (−1)^{C(m1,2)·C(m2,2)} det(A)^{m2} det(B)^{m1}``,
``det(A ⊕ B) = Πᵢⱼ (λᵢ + μⱼ)``. Working with logarithms keeps ``det(A ⊗ B)`` of 100×100 factors
from overflowing float64. Structurally singular operators have ``det = 0``.
"""

from __future__ import annotations

import math
from functools import singledispatch
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox import operators as ops
from kronbox.linalg.checks import DENSE_MAX, singular_reason, sparse_lu, square_operator
from kronbox.linalg.shared_eigenbasis import foreign_eigenbasis, recognize
from kronbox.linalg.sylvester import as_kronecker_sum
from kronbox.operators.base import Operator, shape_text


class Slogdet(NamedTuple):
    """``det = sign · exp(logabsdet)``; ``sign`` is ±1 (a unit complex number for complex operators), 0 if singular."""

    sign: float | complex
    logabsdet: float


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
    sign: float | complex = 1
    logabsdet = 0.0
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


# --------------------------------------------------------------------- determinants
def slogdet(op) -> Slogdet:
    """``(sign, log|det A|)`` by a closed form where one exists; ``det A = sign · exp(logabsdet)``."""
    foreign = foreign_eigenbasis(op)
    if foreign is not None:  # factors of another library with a shared eigenbasis: eigh in that library
        return _typed(op, *foreign.slogdet())
    op = square_operator(op, "slogdet")
    if singular_reason(op) is not None:
        return _singular_slogdet(op)
    return _slogdet(op)


def det(op) -> float | complex:
    """``det A`` (may overflow to ``inf`` or underflow to 0 where :func:`slogdet` does not)."""
    sign, logabsdet = slogdet(square_operator(op, "det"))
    with np.errstate(over="ignore"):
        return np.multiply(sign, np.exp(logabsdet)).item() if sign else sign


def logdet(op) -> float | complex:
    """The natural logarithm of ``det A``: ``-inf`` if singular, principal branch for complex ``A``.

    A real operator with a negative determinant has no real logarithm: that raises ``ValueError``
    (use :func:`slogdet`) rather than returning ``nan`` or ``log|det|``.
    """
    op = square_operator(op, "logdet")
    sign, logabsdet = slogdet(op)
    if op.dtype.kind == "c":
        return complex(logabsdet, np.angle(sign)) if sign else complex(-np.inf)
    if sign.real < 0:  # a real operator's sign is real
        raise ValueError(
            f"logdet: det({op!r}) is negative (log|det| = {logabsdet:.6g}), so it has no real logarithm; "
            f"use slogdet() for (sign, log|det|)"
        )
    return logabsdet


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
        lu = sparse_lu(F, "sparse matrix")
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
    op = op if isinstance(op, Operator) else ops.Dense(op)
    if op.shape[0] > DENSE_MAX:
        raise ValueError(
            f"slogdet: {op!r} ({shape_text(op.shape)}) has no closed-form determinant and is too large "
            f"(> {DENSE_MAX}) to factorize densely; np.linalg.slogdet(op.to_dense()) does it if memory allows"
        )
    return _typed(op, *np.linalg.slogdet(op.to_dense()))


@_slogdet.register
def _(op: ops.Kron):
    """``det(A ⊗ B) = det(A)^{m2} det(B)^{m1}`` (A ``m1×m1``, B ``m2×m2``)."""
    m1, m2 = op.A.shape[0], op.B.shape[0]
    return _product(op, (_factor_slogdet(op.A), m2), (_factor_slogdet(op.B), m1))


def _box_sign(m1: int, m2: int) -> int:
    return -1 if math.comb(m1, 2) * math.comb(m2, 2) % 2 else 1


@_slogdet.register
def _(op: ops.Box):
    """``det(A ⊠ B) = (−1)^{C(m1,2)·C(m2,2)} det(A)^{m2} det(B)^{m1}``: ``A ⊠ B = (A ⊗ B)(I ⊠ I)``."""
    m1, m2 = op.A.shape[0], op.B.shape[0]
    shuffle = Slogdet(_box_sign(m1, m2), 0.0)
    return _product(op, (shuffle, 1), (_factor_slogdet(op.A), m2), (_factor_slogdet(op.B), m1))


@_slogdet.register
def _(op: ops.Commutation):
    """``det(I_m ⊠ I_n) = (−1)^{C(m,2)·C(n,2)}``, the sign of the perfect shuffle."""
    return _typed(op, _box_sign(op.m, op.n), 0.0)


@_slogdet.register
def _(op: ops.Diag):
    """``det diag(d) = Π dᵢ``."""
    return _from_values(op, op.diagonal)


@_slogdet.register
def _(op: ops.Identity):
    return _typed(op, 1, 0.0)


@_slogdet.register
def _(op: ops.Scaled):
    """``det(c A) = c^N det A``."""
    if op.c == 0:
        return _singular_slogdet(op)
    c = Slogdet(op.c / abs(op.c), math.log(abs(op.c)))
    return _product(op, (c, op.shape[0]), (slogdet(op.op), 1))


@_slogdet.register
def _(op: ops.Transpose):
    """``det Aᵀ = det A``."""
    return _typed(op, *slogdet(op.op))


@_slogdet.register
def _(op: ops.Compose):
    """``det(A₁ ⋯ A_k) = Π det Aᵢ`` for square factors; otherwise no closed form."""
    if not all(factor.square for factor in op.ops):
        return _slogdet.dispatch(LinearOperator)(op)
    return _product(op, *((slogdet(factor), 1) for factor in op.ops))


@_slogdet.register
def _(op: ops.Dense):
    if isinstance(op.M, np.ndarray):
        return _typed(op, *_factor_slogdet(op.M))
    if sp.issparse(op.M):
        return _typed(op, *_sparse_slogdet(op.M))
    if isinstance(op.M, Operator):
        return slogdet(op.M)
    return _slogdet.dispatch(LinearOperator)(op)


@_slogdet.register
def _(op: ops.KronSum):
    """``det(A ⊗ I + I ⊗ B) = Πᵢⱼ (λᵢ + μⱼ)`` over the eigenvalues ``λ`` of ``A`` and ``μ`` of ``B``."""
    lam, mu = (np.linalg.eigvals(ops.factors.to_array(F)) for F in (op.A, op.B))
    return _from_values(op, (lam[:, None] + mu[None, :]).ravel())


@_slogdet.register
def _(op: ops.Sum):
    """Kronecker plus diagonal: ``Σ log(c λ + s)`` over the factors' eigenvalues
    (:mod:`kronbox.linalg.shared_eigenbasis`);
    ``α (A ⊗ B) + β (C ⊗ D) = (P ⊗ Q)(A' ⊕ B')`` (see :mod:`kronbox.linalg.sylvester`): a product of closed forms."""
    structure = recognize(op)
    if structure is not None:
        return _typed(op, *structure.slogdet())
    split = as_kronecker_sum(op)
    if split is None:
        return _slogdet.dispatch(LinearOperator)(op)
    outer, kronsum = split
    parts = [(slogdet(kronsum), 1)] + ([(slogdet(outer), 1)] if outer is not None else [])
    return _product(op, *parts)


@_slogdet.register
def _(op: ops.Inverse):
    """``det A⁻¹ = 1 / det A``."""
    sign, logabsdet = slogdet(op.op)
    if sign == 0:
        raise np.linalg.LinAlgError(f"{op!r}: the operator is singular, it has no inverse")
    return _typed(op, np.conj(sign), -logabsdet)



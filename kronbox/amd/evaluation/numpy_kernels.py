"""The numpy kernel of every expression kind: ``NUMPY_KERNELS[kind](node, context)`` is the node's value.

Kernels write into an operand's temporary when its single user may (``Context.scratch``), track
which values are known to be symmetric (a symmetric matrix is factorized by Cholesky, and its
transpose is itself), and share one factorization for ``inv``, ``det`` and ``logdet``
(:mod:`kronbox.amd.evaluation.factorization`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg

from kronbox.amd.evaluation.context import Context, known_shape, known_size
from kronbox.amd.evaluation.factorization import Factorization
from kronbox.amd.evaluation.spectral import SPECTRAL_KERNELS
from kronbox.amd.expressions.elementwise import FUNCTIONS
from kronbox.amd.expressions.expr import (
    SYMBOL_KINDS,
    Expr,
    function_name,
    like_axis,
    matrix_exponent,
    power_exponent,
)
from kronbox.amd.expressions.kronecker import factor_index, kron_value, kronfactor_value
from kronbox.kernels.symmetric import is_symmetric


def _arg(n: Expr, ctx: Context, i: int = 0):
    return ctx.values[id(n.args[i])]


def _trace(n: Expr, ctx: Context):
    child = n.args[0]
    if id(child) in ctx.values:
        return np.trace(ctx.values[id(child)])
    A, B = (ctx.values[id(a)] for a in child.args)
    if id(child.args[1]) in ctx.symmetric:  # Σ aᵢⱼ bⱼᵢ = Σ aᵢⱼ bᵢⱼ: B read in order (n = 256: 18 µs against 53 µs)
        return np.einsum("ij,ij->", A, B)
    return np.einsum("ij,ji->", A, B)


def _sum(n: Expr, ctx: Context):
    child = n.args[0]
    if id(child) in ctx.values:
        return np.sum(ctx.values[id(child)])
    A, B = (ctx.values[id(a)] for a in child.args)
    if np.ndim(A) == 0 or np.ndim(B) == 0:
        return A * np.sum(B) if np.ndim(A) == 0 else np.sum(A) * B
    return _bilinear(A, B)


def _bilinear(A: np.ndarray, B: np.ndarray):
    """``Σ aᵢⱼ bᵢⱼ`` without conjugation (the analytic continuation the complex step needs).

    einsum rather than ``vdot``: a BLAS dot wakes numpy's OpenBLAS threads, which right after a
    LAPACK call in scipy's pool cost 2–3 ms at n = 256 (measured), far more than the sum itself."""
    return np.einsum("ij,ij->", A, B)


def _symbol(n: Expr, ctx: Context):
    return ctx.arrays[n.name]


def _sqrtm(n: Expr, ctx: Context):
    A = _arg(n, ctx)
    if A.dtype.kind == "f" and np.array_equal(A, A.T):
        w, Q = np.linalg.eigh(A)
        # positive semidefinite up to rounding: eigenvalues within rounding of 0 are 0 (singular stays singular)
        rounding = len(w) * np.finfo(w.dtype).eps * float(np.abs(w).max(initial=0.0))
        w = np.where(np.abs(w) <= rounding, 0.0, w)
        if w.min() >= 0:
            return (Q * np.sqrt(w)) @ Q.T
    root = scipy.linalg.sqrtm(A)
    if np.iscomplexobj(root) and A.dtype.kind == "f" and not np.any(root.imag):
        root = root.real
    return root


def _sylvester(n: Expr, ctx: Context):
    A, B, C = (np.atleast_2d(ctx.values[id(a)]) for a in n.args)
    _check_unique(A, B)
    return scipy.linalg.solve_sylvester(A, B, C)


def _eigenvalues(M: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(M) if np.isrealobj(M) and np.array_equal(M, M.T) else np.linalg.eigvals(M)


def _check_unique(A: np.ndarray, B: np.ndarray) -> None:
    """``A Z + Z B = C`` has one solution when no eigenvalue of ``A`` is minus one of ``B``; where
    one is (to rounding), the solution does not exist or is not unique: an error, never the huge
    numbers a solver returns there. The derivative of ``sqrtm(X)`` at a singular ``X`` is such a
    solve (``R dR + dR R = dX`` with ``R = sqrtm(X)`` singular): it does not exist there."""
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        return
    a, b = _eigenvalues(A), _eigenvalues(B)
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    gap = float(np.abs(a[:, None] + b[None, :]).min(initial=np.inf))
    if gap <= 100 * max(len(a), len(b)) * np.finfo(np.result_type(A, B, np.float64)).eps * scale:
        raise np.linalg.LinAlgError(
            "sylvester(A, B, C): A Z + Z B = C has no unique solution, since an eigenvalue of A is minus one of "
            f"B (the smallest |λ(A) + λ(B)| is {gap:.1e}); so is the derivative of sqrtm(X) at a singular X: "
            "it does not exist there")


def _logdet(n: Expr, ctx: Context):
    return ctx.factor(n.args[0]).logdet()


def _elementwise(ufunc):
    """A binary elementwise kernel that writes into an argument's temporary when it may."""

    def kernel(n: Expr, ctx: Context):
        a, b = _arg(n, ctx, 0), _arg(n, ctx, 1)
        out = ctx.scratch(n, *n.args)
        result = ufunc(a, b, out=out) if out is not None else ufunc(a, b)
        if all(id(x) in ctx.symmetric or x.shape == () for x in n.args):
            ctx.symmetric.add(id(n))
        return result

    return kernel


def _add(n: Expr, ctx: Context):
    a, second = n.args
    if id(second) in ctx.values:
        return _plus(n, ctx)
    b = second.args[0]  # a − b, the negation folded in
    out = ctx.scratch(n, a, b)
    A, B = ctx.values[id(a)], ctx.values[id(b)]
    if id(a) in ctx.symmetric and id(b) in ctx.symmetric:
        ctx.symmetric.add(id(n))
    return np.subtract(A, B, out=out) if out is not None else A - B


def _neg(n: Expr, ctx: Context):
    out = ctx.scratch(n, n.args[0])
    if id(n.args[0]) in ctx.symmetric:
        ctx.symmetric.add(id(n))
    return np.negative(_arg(n, ctx), out=out) if out is not None else -_arg(n, ctx)


def _transpose(n: Expr, ctx: Context):
    """``Aᵀ``: a view, or ``A`` itself when ``A`` is known to be symmetric (a symbol's value is
    tested, in a tiled pass far cheaper than the strided elementwise work a transposed view costs)."""
    child, A = n.args[0], _arg(n, ctx)
    if id(child) not in ctx.symmetric and child.kind in SYMBOL_KINDS and _symmetric_value(A):
        ctx.symmetric.add(id(child))
    if id(child) in ctx.symmetric:
        ctx.symmetric.add(id(n))
        return A
    return A.T


def _symmetric_value(A) -> bool:
    return isinstance(A, np.ndarray) and A.ndim == 2 and A.dtype.kind == "f" and A.shape[0] == A.shape[1] > 1 \
        and is_symmetric(A)


def _inv(n: Expr, ctx: Context):
    if n.args[0].kind == "cholesky":  # a triangular factor: LAPACK's trtri, a third of the work of an LU inverse
        L = _arg(n, ctx)
        trtri, = scipy.linalg.lapack.get_lapack_funcs(("trtri",), (L,))
        inverse, info = trtri(L, lower=1)
        if info == 0:
            return inverse
    factorization = ctx.factor(n.args[0])
    inverse = factorization.inverse
    if isinstance(factorization, Factorization) and factorization.positive_definite:
        ctx.symmetric.add(id(n))
    return inverse


_plus = _elementwise(np.add)

def shifted_logsumexp(xp, A):
    """``m + log Σ exp(A − m)``, ``m = max A``: no entry of ``exp`` exceeds 1."""
    m = xp.max(A)
    return m + xp.log(xp.sum(xp.exp(A - m)))


def shifted_softmax(xp, A):
    """``exp(A − m) / Σ exp(A − m)`` over every entry, ``m = max A``."""
    E = xp.exp(A - xp.max(A))
    return E / xp.sum(E)


NUMPY_KERNELS: dict[str, Callable[[Expr, Context], object]] = {
    "var": _symbol,
    "const": _symbol,
    "literal": lambda n, ctx: n.param,
    "eye": lambda n, ctx: np.eye(known_size(n), dtype=ctx.dtype),
    "zeros": lambda n, ctx: np.zeros(known_shape(n), dtype=ctx.dtype),
    "ones": lambda n, ctx: np.ones(known_shape(n), dtype=ctx.dtype),
    "eye_like": lambda n, ctx: np.eye((np.shape(_arg(n, ctx)) or (1, 1))[like_axis(n)], dtype=ctx.dtype),
    "ones_like": lambda n, ctx: np.ones(np.shape(_arg(n, ctx)), dtype=ctx.dtype),
    "zeros_like": lambda n, ctx: np.zeros(np.shape(_arg(n, ctx)), dtype=ctx.dtype),
    "add": _add,
    "neg": _neg,
    "mul": _elementwise(np.multiply),
    "div": _elementwise(np.divide),
    "matmul": lambda n, ctx: _arg(n, ctx, 0) @ _arg(n, ctx, 1),
    "transpose": _transpose,
    "inv": _inv,
    "trace": _trace,
    "det": lambda n, ctx: ctx.factor(n.args[0]).det(),
    "logdet": _logdet,
    "sum": _sum,
    "normsq": lambda n, ctx: _bilinear(_arg(n, ctx), _arg(n, ctx)),
    "norm": lambda n, ctx: np.sqrt(_bilinear(_arg(n, ctx), _arg(n, ctx))),
    "mpow": lambda n, ctx: np.linalg.matrix_power(_arg(n, ctx), matrix_exponent(n)),
    "sqrtm": _sqrtm,
    "sylvester": _sylvester,
    "logsumexp": lambda n, ctx: shifted_logsumexp(np, _arg(n, ctx)),
    "softmax": lambda n, ctx: shifted_softmax(np, _arg(n, ctx)),
    "solve": lambda n, ctx: np.linalg.solve(_arg(n, ctx, 0), _arg(n, ctx, 1)),
    "ew": lambda n, ctx: FUNCTIONS[function_name(n)].numpy(_arg(n, ctx)),
    "power": lambda n, ctx: np.power(_arg(n, ctx), power_exponent(n)),
    **SPECTRAL_KERNELS,
    "kron": lambda n, ctx: kron_value(np, _arg(n, ctx, 0), _arg(n, ctx, 1)),
    "kronfactor": lambda n, ctx: kronfactor_value(np, _arg(n, ctx, 0), _arg(n, ctx, 1), factor_index(n)),
}

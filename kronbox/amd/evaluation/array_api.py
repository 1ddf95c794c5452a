"""Evaluation in another array library: :mod:`kronbox.amd.evaluate`'s kernels in the Array API.

When a value bound to an expression is a PyTorch, JAX, CuPy or dask array, every node is computed
with that library's namespace ``xp`` (through ``array-api-compat``) and on its device; the result
is an array of that library (a 0-d array for a scalar), so the same gradient expression runs on a
GPU or builds a dask graph. The evaluation plan is the one numpy uses (shared nodes once, one
factorization per matrix for ``inv``, ``det`` and ``logdet``, ``trace(A B) = Σ aᵢⱼ bⱼᵢ`` and
``sum(A ∘ B)`` without the product), with generic routines in place of numpy's fast paths:

- ``inv(A) = xp.linalg.inv(A)`` and ``(sign, log|det A|) = xp.linalg.slogdet(A)`` (LU), computed
  on first use; ``sqrtm`` of a symmetric positive semidefinite ``A`` is ``Q diag(√w) Qᵀ`` from
  ``xp.linalg.eigh``;
- a Sylvester solve ``A Z + Z B = C`` with symmetric ``A`` and ``B`` (the gradients through
  ``sqrtm`` of a symmetric matrix) goes by ``xp.linalg.eigh`` too (:mod:`kronbox.linalg.symmetric_sylvester`);
- what only numpy/scipy can do (``sqrtm`` of a general matrix, a Sylvester solve with general
  coefficients, and whatever a library lacks, such as ``slogdet`` in dask) raises
  :class:`kronbox.backend.BackendError` saying so.

Mixing libraries is refused (numpy arrays may join a dask evaluation, see :mod:`kronbox.backend`);
numbers, and numpy 0-d arrays, are scalars and mix with anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from functools import cached_property

import numpy as np

from kronbox.amd.evaluation.context import Context, known_shape, known_size
from kronbox.amd.evaluation.numpy_kernels import shifted_logsumexp, shifted_softmax
from kronbox.amd.evaluation.spectral import SPECTRAL_KERNELS
from kronbox.amd.expressions.elementwise import FUNCTIONS
from kronbox.amd.expressions.expr import Expr, function_name, like_axis, matrix_exponent, power_exponent
from kronbox.amd.expressions.kronecker import factor_index, kron_value, kronfactor_value
from kronbox.backend import Backend, is_foreign, join_all, library, unsupported
from kronbox.linalg.symmetric_sylvester import SymmetricSylvester, solvable


class ArrayApiContext(Context):
    """An evaluation in the library of ``backend``: identities, zeros and ones take the precision
    of the values and their device."""

    def __init__(self, arrays: dict, uses: Counter, roots: set[int], backend: Backend):
        self.backend, self.xp = backend, backend.xp
        super().__init__(arrays, uses, roots)

    def precision(self, arrays: dict):
        foreign = [a for a in arrays.values() if is_foreign(a)]
        return self.xp.result_type(*foreign, self.xp.float32) if foreign else self.backend.dtype(np.float64)

    def factorize(self, A, what: object) -> ArrayApiFactorization:
        return ArrayApiFactorization(A, what, self.backend)

    def unavailable(self, what: str, alternative: str):
        return unsupported(what, self.backend.library, alternative)


def context(arrays: dict, given: Mapping[str, object], uses: Counter, roots: set[int]) -> ArrayApiContext:
    """The context of an evaluation of the symbols' ``arrays``, with values ``given`` of which some
    are foreign arrays (they decide the library, read or not); two libraries are refused.

    numpy 0-d values (numbers) become Python numbers, so that they scale without promoting."""
    scalars = {k: v.item() for k, v in arrays.items() if isinstance(v, np.ndarray) and v.ndim == 0}
    arrays = {**arrays, **scalars}
    matrices = {k: v for k, v in {**given, **arrays}.items()
                if is_foreign(v) or (isinstance(v, np.ndarray) and v.ndim > 0)}
    described = ", ".join(f"{k!r} {library(v) or 'numpy'}" for k, v in matrices.items())
    backend, _ = join_all(matrices.values(), f"the values bound ({described})")
    if backend is None:
        raise ValueError("an Array API evaluation needs a value of a library other than numpy")
    return ArrayApiContext(arrays, uses, roots, backend)


class ArrayApiFactorization:
    """``inv``, ``det`` and ``logdet`` of one matrix ``A`` by the namespace's LU routines, each once."""

    def __init__(self, A, what: object, backend: Backend):
        self.A, self.what, self.backend = A, what, backend

    def _routine(self, name: str):
        f = getattr(self.backend.xp.linalg, name, None)
        if f is None:
            raise unsupported(f"linalg.{name} ({self.what})", self.backend.library,
                              "evaluate this expression with numpy values")
        return f

    @cached_property
    def slogdet(self):
        return self._routine("slogdet")(self.A)

    def det(self):
        sign, logabs = self.slogdet
        return sign * self.backend.xp.exp(logabs)

    def logdet(self):
        """``log det A``: an error where ``det A ≤ 0`` for a real ``A`` (no real logarithm)."""
        xp = self.backend.xp
        sign, logabs = self.slogdet
        if xp.isdtype(sign.dtype, "complex floating"):
            return xp.log(sign) + logabs
        if bool(sign == 0) or not bool(xp.isfinite(logabs)):
            if not bool(xp.all(xp.isfinite(self.A))):
                raise np.linalg.LinAlgError(
                    f"logdet: {self.what} is not finite (it has an inf or nan entry), so its log-determinant is not "
                    "defined")
            raise np.linalg.LinAlgError(f"logdet: {self.what} is singular (its determinant is 0)")
        if bool(sign < 0):
            raise ValueError(f"logdet: {self.what} has a negative determinant, so its log-determinant is not real")
        return logabs

    @cached_property
    def inverse(self):
        return self._routine("inv")(self.A)


# ---------------------------------------------------------------------------------- kernels
def _arg(n: Expr, ctx: ArrayApiContext, i: int = 0):
    return ctx.values[id(n.args[i])]


def _is_array(x) -> bool:
    return hasattr(x, "shape")


def _total(ctx: ArrayApiContext, x):
    """``Σ x`` (a number stays a number)."""
    return ctx.xp.sum(x) if _is_array(x) and x.ndim > 0 else x


def _shape(x) -> tuple[int, ...]:
    return tuple(x.shape) if _is_array(x) else ()


def _trace(n: Expr, ctx: ArrayApiContext):
    child = n.args[0]
    if id(child) in ctx.values:
        A = ctx.values[id(child)]
        return ctx.xp.sum(ctx.xp.linalg.diagonal(A)) if _is_array(A) and A.ndim == 2 else A
    A, B = (ctx.values[id(a)] for a in child.args)
    return ctx.xp.sum(A * B.T)  # Σ aᵢⱼ bⱼᵢ


def _sum(n: Expr, ctx: ArrayApiContext):
    child = n.args[0]
    if id(child) in ctx.values:
        return _total(ctx, ctx.values[id(child)])
    A, B = (ctx.values[id(a)] for a in child.args)
    if not (_is_array(A) and A.ndim) or not (_is_array(B) and B.ndim):
        return _total(ctx, A) * _total(ctx, B)
    return ctx.xp.sum(A * B)


def _add(n: Expr, ctx: ArrayApiContext):
    a, second = n.args
    if id(second) in ctx.values:
        return ctx.values[id(a)] + ctx.values[id(second)]
    return ctx.values[id(a)] - ctx.values[id(second.args[0])]  # a − b, the negation folded in


def _transpose(n: Expr, ctx: ArrayApiContext):
    A = _arg(n, ctx)
    return A.T if _is_array(A) and A.ndim == 2 else A


def _sqrtm(n: Expr, ctx: ArrayApiContext):
    """``Q diag(√w) Qᵀ`` for a symmetric positive semidefinite real ``A = Q diag(w) Qᵀ``."""
    xp, A = ctx.xp, _arg(n, ctx)
    if xp.isdtype(A.dtype, "real floating") and bool(xp.all(A == A.T)):
        w, Q = xp.linalg.eigh(A)
        if bool(xp.min(w) >= 0):
            return (Q * xp.sqrt(w)) @ Q.T
    raise ctx.unavailable("sqrtm of a matrix that is not symmetric positive semidefinite",
                          "it needs scipy.linalg.sqrtm: evaluate with numpy values")


def _sylvester(n: Expr, ctx: ArrayApiContext):
    """``A Z + Z B = C``: by eigendecompositions where ``A`` and ``B`` are symmetric (the gradients
    through ``sqrtm`` of a symmetric matrix), else refused (Bartels–Stewart needs scipy)."""
    A, B, C = (_arg(n, ctx, i) for i in range(3))
    if solvable(ctx.xp, A, B):
        return SymmetricSylvester(ctx.xp, A, B).solve(C)
    raise ctx.unavailable("the Sylvester solve with coefficients that are not symmetric (Bartels–Stewart, "
                          "scipy.linalg.solve_sylvester)",
                          "evaluate with numpy values, or solve A X + X B = C iteratively with the lazy "
                          "kronbox.KronSum(A, B.T) (e.g. scipy.sparse.linalg.gmres)")


def _matrix_power(n: Expr, ctx: ArrayApiContext):
    power = getattr(ctx.xp.linalg, "matrix_power", None)
    if power is None:
        raise ctx.unavailable("linalg.matrix_power", "evaluate with numpy values, or write the power as products")
    return power(_arg(n, ctx), matrix_exponent(n))


def _filled(fill: Callable, shape, ctx: ArrayApiContext):
    return fill(shape, dtype=ctx.dtype, device=ctx.backend.device)


def _eye(n: int, ctx: ArrayApiContext):
    return ctx.xp.eye(n, dtype=ctx.dtype, device=ctx.backend.device)


ARRAY_API_KERNELS: dict[str, Callable[[Expr, ArrayApiContext], object]] = {
    "var": lambda n, ctx: ctx.arrays[n.name],
    "const": lambda n, ctx: ctx.arrays[n.name],
    "literal": lambda n, ctx: n.param,
    "eye": lambda n, ctx: _eye(known_size(n), ctx),
    "zeros": lambda n, ctx: _filled(ctx.xp.zeros, known_shape(n), ctx),
    "ones": lambda n, ctx: _filled(ctx.xp.ones, known_shape(n), ctx),
    "eye_like": lambda n, ctx: _eye((_shape(_arg(n, ctx)) or (1, 1))[like_axis(n)], ctx),
    "ones_like": lambda n, ctx: _filled(ctx.xp.ones, _shape(_arg(n, ctx)), ctx),
    "zeros_like": lambda n, ctx: _filled(ctx.xp.zeros, _shape(_arg(n, ctx)), ctx),
    "add": _add,
    "neg": lambda n, ctx: -_arg(n, ctx),
    "mul": lambda n, ctx: _arg(n, ctx, 0) * _arg(n, ctx, 1),
    "div": lambda n, ctx: _arg(n, ctx, 0) / _arg(n, ctx, 1),
    "matmul": lambda n, ctx: _arg(n, ctx, 0) @ _arg(n, ctx, 1),
    "transpose": _transpose,
    "inv": lambda n, ctx: ctx.factor(n.args[0]).inverse,
    "trace": _trace,
    "det": lambda n, ctx: ctx.factor(n.args[0]).det(),
    "logdet": lambda n, ctx: ctx.factor(n.args[0]).logdet(),
    "sum": _sum,
    "normsq": lambda n, ctx: _total(ctx, _arg(n, ctx) * _arg(n, ctx)),
    "norm": lambda n, ctx: _total(ctx, _arg(n, ctx) * _arg(n, ctx)) ** 0.5,
    "mpow": _matrix_power,
    "sqrtm": _sqrtm,
    "sylvester": _sylvester,
    "logsumexp": lambda n, ctx: shifted_logsumexp(ctx.xp, _arg(n, ctx)),
    "softmax": lambda n, ctx: shifted_softmax(ctx.xp, _arg(n, ctx)),
    "solve": lambda n, ctx: ctx.xp.linalg.solve(_arg(n, ctx, 0), _arg(n, ctx, 1)),
    "ew": lambda n, ctx: FUNCTIONS[function_name(n)].in_namespace(ctx.xp, _arg(n, ctx)),
    "power": lambda n, ctx: _arg(n, ctx) ** power_exponent(n),
    **SPECTRAL_KERNELS,
    "kron": lambda n, ctx: kron_value(ctx.xp, _arg(n, ctx, 0), _arg(n, ctx, 1)),
    "kronfactor": lambda n, ctx: kronfactor_value(ctx.xp, _arg(n, ctx, 0), _arg(n, ctx, 1), factor_index(n)),
}

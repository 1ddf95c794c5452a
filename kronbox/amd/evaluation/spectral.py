"""Kernels of the matrix functions and decompositions (:mod:`kronbox.amd.expressions.spectral`), for numpy and
for the Array API namespaces of other libraries alike (``xp`` is numpy's or the library's).

- A real symmetric matrix goes through its eigendecomposition ``X = Q diag(λ) Qᵀ`` (``xp.linalg.eigh``):
  ``f(X) = Q diag(f(λ)) Qᵀ`` and the Daleckii–Krein derivative ``L_f(X)[E] = Q (Φ ∘ Qᵀ E Q) Qᵀ``, with the
  divided differences ``Φ`` in forms that do not cancel (``e^b expm1(a − b)/(a − b)``,
  ``log1p((a − b)/b)/(a − b)``, ``b^{p−1} expm1(p log1p(r))/r`` with ``r = (a − b)/b``).
- Any other matrix: scipy's ``expm``, ``logm`` and ``fractional_matrix_power`` (the library's ``expm`` for
  torch, JAX and CuPy), ``expm_frechet`` for ``expm``'s first derivative, and for every other derivative
  ``L^{(k)}(X)[E₁, …, E_k]`` the top right ``n × n`` block of ``f(X_k)``, ``X_j = [[X_{j−1}, I ⊗ E_j], [0, X_{j−1}]]``,
  ``X_0 = X`` (size ``2ᵏ n``; Higham & Relton, *Higher order Fréchet derivatives of matrix functions*, 2014).

What has no real value, or no derivative, is an error naming the function and the reason: a matrix that is
not symmetric where one must be, an eigenvalue on the closed negative real axis for ``logm`` and real powers,
a Cholesky factor of a matrix that is not positive definite, and the derivative of ``eigvalsh``/``eigvecs``
at repeated eigenvalues.
"""

from __future__ import annotations

import importlib
import operator
import warnings

import numpy as np
import scipy.linalg

from kronbox.amd.evaluation.context import _ValueOf
from kronbox.amd.expressions.expr import Expr, matrix_function_of
from kronbox.backend import BackendError, is_foreign, numpy_dtype, of_foreign, unsupported

# The matrix exponential of other libraries: (module, attribute path).
_EXPM = {"torch": ("torch", "linalg.matrix_exp"), "jax": ("jax.scipy.linalg", "expm"),
         "cupy": ("cupyx.scipy.linalg", "expm")}


def _xp(ctx):
    return getattr(ctx, "xp", np)


def _value(n: Expr, ctx, i: int = 0):
    return ctx.values[id(n.args[i])]


def _tolerance(xp, A) -> float:
    """Rounding at the scale of ``A``: ``100 n ε max|aᵢⱼ|``, ``ε`` of ``A``'s precision."""
    return 100 * A.shape[0] * float(np.finfo(numpy_dtype(A.dtype)).eps) * float(xp.max(xp.abs(A)))


def _is_real(xp, A) -> bool:
    return not (np.iscomplexobj(A) if xp is np else xp.isdtype(A.dtype, "complex floating"))


def symmetric_to_rounding(xp, A) -> bool:
    return _is_real(xp, A) and float(xp.max(xp.abs(A - A.T))) <= _tolerance(xp, A)


def _require_real_symmetric(xp, A, who: str, what: object) -> None:
    if not _is_real(xp, A):
        raise ValueError(f"{who}: needs a real symmetric matrix, {what} is complex")
    require_symmetric(A, who, what)


def symmetric_part(xp, A, who: str, what: object):
    """``(A + Aᵀ)/2`` of a real matrix symmetric to rounding; anything else is an error."""
    _require_real_symmetric(xp, A, who, what)
    return (A + A.T) / 2


def require_symmetric(A, who: str, what: object) -> None:
    """An error unless the matrix ``A`` (of any library) is symmetric to rounding, ``A = Aᵀ`` (a complex one
    too, not conjugated: the complex step of a real symmetric matrix)."""
    if A.ndim == 2 and A.shape[0] > 0:
        xp = np if not is_foreign(A) else of_foreign(A).xp
        asymmetry = float(xp.max(xp.abs(A - A.T)))
        if asymmetry > _tolerance(xp, A):
            raise ValueError(f"{who}: needs a symmetric matrix, but {what} is not symmetric "
                             f"(its largest |a_ij - a_ji| is {asymmetry:.2e})")


def _eigh(xp, ctx, A):
    """``(λ, Q)`` of the symmetric part of ``A``, computed once per matrix in an evaluation: ``eigvalsh``,
    ``eigvecs``, a matrix function and its derivative at the same ``X`` (or at ``Xᵀ``, the same array once
    ``X`` is known symmetric) share it."""
    kept = getattr(ctx, "decompositions", None)
    if kept is not None and id(A) in kept and kept[id(A)][0] is A:
        return kept[id(A)][1]
    result = xp.linalg.eigh((A + A.T) / 2)
    if kept is not None:
        kept[id(A)] = (A, result)  # A held, so that its id is not reused while the evaluation lasts
    return result


def symmetric_eigh(xp, ctx, A):
    """``(λ, Q)`` of ``A`` if it is real and symmetric to rounding (shared as :func:`_eigh`: a matrix decomposed
    already is not tested again), else ``None``."""
    kept = getattr(ctx, "decompositions", None)
    if (kept is not None and id(A) in kept and kept[id(A)][0] is A) or symmetric_to_rounding(xp, A):
        return _eigh(xp, ctx, A)
    return None


# ---------------------------------------------------------------------------------- scalar functions
def _scalar(xp, param: tuple, w):
    """``f(λ)`` on the eigenvalues."""
    if param[0] == "expm":
        return xp.exp(w)
    if param[0] == "logm":
        return xp.log(w)
    return w ** param[1]


def divided_differences(xp, param: tuple, w):
    """``Φᵢⱼ = (f(λᵢ) − f(λⱼ)) / (λᵢ − λⱼ)``, ``f'(λᵢ)`` where ``λᵢ = λⱼ``, without cancellation."""
    a, b = w[:, None], w[None, :]
    d = a - b
    same = d == 0
    safe = xp.where(same, xp.ones_like(d), d)
    if param[0] == "expm":
        return xp.exp(b) * xp.where(same, xp.ones_like(d), xp.expm1(d) / safe)
    r = d / b
    if param[0] == "logm":
        return xp.where(same, 1 / b, xp.log1p(r) / safe)
    p = param[1]
    safe_r = xp.where(same, xp.ones_like(r), r)
    return b ** (p - 1) * xp.where(same, p * xp.ones_like(r), xp.expm1(p * xp.log1p(r)) / safe_r)


def _derivatives(xp, param: tuple, w):
    """``(f'(λ), f''(λ))`` on the eigenvalues."""
    if param[0] == "expm":
        e = xp.exp(w)
        return e, e
    if param[0] == "logm":
        return 1 / w, -1 / (w * w)
    p = param[1]
    return p * w ** (p - 1), p * (p - 1) * w ** (p - 2)


def second_divided_differences_applied(xp, param: tuple, w, Et, Ft):
    """``Mᵢⱼ = Σₖ f[λᵢ, λₖ, λⱼ] (Ẽᵢₖ F̃ₖⱼ + F̃ᵢₖ Ẽₖⱼ)``, the second Daleckii–Krein sum, one ``k`` at a time
    (``O(n²)`` memory). ``f[a, b, c] = (f[a, b] − f[b, c])/(a − c)``; where ``λᵢ`` and ``λⱼ`` agree to rounding,
    ``∂f[λᵢ, λₖ]/∂λᵢ = (f'(λᵢ) − f[λᵢ, λₖ])/(λᵢ − λₖ)``, and ``f''(λᵢ)/2`` where all three agree."""
    Phi = divided_differences(xp, param, w)
    first, second = _derivatives(xp, param, w)
    tol = 1e3 * float(np.finfo(np.float64).eps) * float(xp.max(xp.abs(w)))
    gaps = w[:, None] - w[None, :]
    close = xp.abs(gaps) <= tol
    safe = xp.where(close, xp.ones_like(gaps), gaps)
    out = xp.zeros_like(Et)
    for k in range(w.shape[0]):
        across = (Phi[:, k][:, None] - Phi[k, :][None, :]) / safe  # λᵢ ≠ λⱼ
        along = xp.where(close[:, k], second / 2, (first - Phi[:, k]) / safe[:, k])  # λᵢ = λⱼ
        D = xp.where(close, along[:, None], across)
        out = out + D * (Et[:, k][:, None] * Ft[k, :][None, :] + Ft[:, k][:, None] * Et[k, :][None, :])
    return out


def check_spectrum(param: tuple, w, what: object, xp) -> None:
    """The real principal logarithm and powers need positive eigenvalues of a symmetric matrix."""
    if param[0] != "expm" and float(xp.min(w)) <= 0:
        name = "logm" if param[0] == "logm" else f"X^{param[1]}"
        raise ValueError(f"{name}: {what} has the eigenvalue {float(xp.min(w)):.3g} <= 0, so it has no real "
                         "principal " + ("logarithm" if param[0] == "logm" else "power"))


def _check_general_spectrum(param: tuple, A, what: object) -> None:
    """A real matrix with an eigenvalue on the closed negative real axis has no real principal log or power."""
    if param[0] == "expm" or np.iscomplexobj(A):
        return
    ev = np.linalg.eigvals(A)
    scale = max(float(np.abs(ev).max(initial=0.0)), 1e-300)
    on_axis = (np.abs(ev.imag) <= 1e3 * np.finfo(float).eps * scale) & (ev.real <= 1e3 * np.finfo(float).eps * scale)
    if on_axis.any():
        name = "logm" if param[0] == "logm" else f"X^{param[1]}"
        raise ValueError(f"{name}: {what} has the eigenvalue {ev[on_axis][0].real:.3g} on the closed negative real "
                         "axis, so it has no real principal " + ("logarithm" if param[0] == "logm" else "power"))


def _general_function(xp, ctx, param: tuple, A, what: object):
    """``f(A)`` for any square ``A`` (no symmetry used)."""
    if xp is np:
        _check_general_spectrum(param, A, what)
        if param[0] == "expm":
            return scipy.linalg.expm(A)
        with warnings.catch_warnings():  # scipy warns of an inaccurate result: the value is returned as it is
            warnings.simplefilter("ignore", RuntimeWarning)
            F = scipy.linalg.logm(A) if param[0] == "logm" else scipy.linalg.fractional_matrix_power(A, param[1])
        return F.real if np.isrealobj(A) else F
    library = ctx.backend.library
    if param[0] == "expm" and library in _EXPM:
        module, path = _EXPM[library]
        expm = operator.attrgetter(path)(importlib.import_module(module))
        return expm(A)
    name = param[0] if param[0] != "pow" else "a real matrix power"
    raise unsupported(f"{name} of a matrix that is not symmetric", library,
                      "evaluate with numpy values (scipy.linalg)")


def matrix_function(xp, ctx, param: tuple, A, what: object):
    """``f(A)``: by ``eigh`` when ``A`` is real symmetric, else by the general routines."""
    decomposition = symmetric_eigh(xp, ctx, A)
    if decomposition is not None:
        w, Q = decomposition
        check_spectrum(param, w, what, xp)
        return (Q * _scalar(xp, param, w)) @ Q.T
    return _general_function(xp, ctx, param, A, what)


def frechet_derivative(xp, ctx, param: tuple, X, directions: list, what: object):
    """``L_f^{(k)}(X)[E₁, …, E_k]``: Daleckii–Krein for ``k ≤ 2`` and a symmetric ``X``, ``expm_frechet`` for
    ``expm``, the block triangular matrix otherwise."""
    decomposition = symmetric_eigh(xp, ctx, X) if len(directions) <= 2 else None
    if decomposition is not None:
        w, Q = decomposition
        check_spectrum(param, w, what, xp)
        turned = [Q.T @ E @ Q for E in directions]
        if len(directions) == 1:
            return Q @ (divided_differences(xp, param, w) * turned[0]) @ Q.T
        return Q @ second_divided_differences_applied(xp, param, w, *turned) @ Q.T
    if len(directions) == 1 and xp is np and param[0] == "expm":
        return scipy.linalg.expm_frechet(X, directions[0], compute_expm=False, check_finite=False)
    n = X.shape[0]
    concat = np.concatenate if xp is np else xp.concat  # numpy < 2 has no concat
    block = X
    for E in directions:
        spread = xp.zeros(block.shape, dtype=xp.result_type(block, E))
        for i in range(0, block.shape[0], n):  # I ⊗ E
            spread = _placed(xp, spread, E, i, i)
        top, bottom = concat([block, spread], axis=1), concat([xp.zeros_like(block), block], axis=1)
        block = concat([top, bottom], axis=0)
    return _general_function(xp, ctx, param, block, what)[:n, -n:]


def _placed(xp, M, E, i: int, j: int):
    """``M`` with ``E`` written at the block ``(i, j)`` (a copy for libraries whose arrays are immutable)."""
    n = E.shape[0]
    if xp is np:
        M[i:i + n, j:j + n] = E
        return M
    try:
        M[i:i + n, j:j + n] = E
        return M
    except (TypeError, BackendError):  # JAX arrays are immutable
        return M.at[i:i + n, j:j + n].set(E)


# ---------------------------------------------------------------------------------- kernels
def _matfun(n: Expr, ctx):
    return matrix_function(_xp(ctx), ctx, matrix_function_of(n), _value(n, ctx), _ValueOf(n.args[0]))


def _frechet(n: Expr, ctx):
    X = _value(n, ctx)
    directions = [ctx.values[id(E)] for E in n.args[1:]]
    return frechet_derivative(_xp(ctx), ctx, matrix_function_of(n), X, directions, _ValueOf(n.args[0]))


def _eigen(n: Expr, ctx, who: str):
    xp = _xp(ctx)
    A = _value(n, ctx)
    kept = getattr(ctx, "decompositions", None)
    if kept is None or id(A) not in kept:  # a matrix decomposed already was checked then
        _require_real_symmetric(xp, A, who, _ValueOf(n.args[0]))
    return _eigh(xp, ctx, A)


def _eigvalsh(n: Expr, ctx):
    """The eigenvalues as a column: from the eigendecomposition where the evaluation has it or will use the matrix
    again (its eigenvectors, for a gradient), else by ``eigvalsh`` alone (about half the work)."""
    xp, A = _xp(ctx), _value(n, ctx)
    kept = getattr(ctx, "decompositions", None)
    if kept is not None and (id(A) in kept or getattr(ctx, "uses", {}).get(id(n.args[0]), 0) > 1):
        w, _ = _eigen(n, ctx, "eigvalsh")
    else:
        w = xp.linalg.eigvalsh(symmetric_part(xp, A, "eigvalsh", _ValueOf(n.args[0])))
    return xp.reshape(w, (w.shape[0], 1))


def _eigvecs(n: Expr, ctx):
    xp = _xp(ctx)
    w, Q = _eigen(n, ctx, "eigvecs")
    if n.param == "distinct" and w.shape[0] > 1:
        gap = float(xp.min(w[1:] - w[:-1]))
        if gap <= _tolerance(xp, xp.reshape(w, (1, -1))):
            raise ValueError(f"the derivative of eigvalsh and eigvecs does not exist at {n.args[0]}: it has a "
                             f"repeated eigenvalue (the smallest gap is {gap:.1e}); spectral functions such as "
                             "trace(expm(X)) stay differentiable there")
    return Q


def _cholesky(n: Expr, ctx):
    xp = _xp(ctx)
    what = _ValueOf(n.args[0])
    A = symmetric_part(xp, _value(n, ctx), "chol", what)
    try:
        L = np.linalg.cholesky(A) if xp is np else xp.linalg.cholesky(A)
    except (np.linalg.LinAlgError, RuntimeError):
        L = None
    if L is None or not bool(xp.all(xp.isfinite(L))):
        raise ValueError(f"chol: {what} is not positive definite, so it has no Cholesky factor")
    return L


def _trilhalf(n: Expr, ctx):
    xp = _xp(ctx)
    size = _value(n, ctx).shape[0]
    i = xp.arange(size)
    below, on = i[:, None] > i[None, :], i[:, None] == i[None, :]
    dtype = ctx.dtype
    return xp.astype(below, dtype) + 0.5 * xp.astype(on, dtype) if xp is not np else (
        below.astype(dtype) + 0.5 * on.astype(dtype))


def _diag(n: Expr, ctx):
    xp, A = _xp(ctx), _value(n, ctx)
    d = np.diagonal(A).copy() if xp is np else xp.linalg.diagonal(A)
    return xp.reshape(d, (d.shape[0], 1))


def _diagm(n: Expr, ctx):
    xp, x = _xp(ctx), _value(n, ctx)
    size = x.shape[0]
    eye = np.eye(size, dtype=x.dtype) if xp is np else xp.eye(size, dtype=x.dtype, device=ctx.backend.device)
    return x * eye  # row i of I scaled by xᵢ


SPECTRAL_KERNELS = {
    "matfun": _matfun,
    "frechet": _frechet,
    "eigvalsh": _eigvalsh,
    "eigvecs": _eigvecs,
    "cholesky": _cholesky,
    "trilhalf_like": _trilhalf,
    "diag": _diag,
    "diagm": _diagm,
}

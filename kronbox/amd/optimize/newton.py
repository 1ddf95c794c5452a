"""Truncated Newton: a preconditioned conjugate-gradient step on the lazy Hessian, then a line search.

At ``x``, with gradient ``g`` and the Hessian ``H`` applied to vectors (``hessian(x)`` is ``v ↦ H v``), the step ``p``
solves ``H p = −g`` approximately by preconditioned conjugate gradients, to the relative residual
``η = min(0.5, √‖g‖)`` (a forcing sequence that makes the outer iteration superlinear, Nocedal &
Wright, *Numerical Optimization*, §7.1). Where the Hessian is not positive definite CG meets a
direction of non-positive curvature; it stops there with the step built so far, or, on its first
direction, takes the preconditioned steepest descent ``−M g`` (Steihaug's truncation).

The line search halves ``α`` from 1 until ``f(x + α p) ≤ f(x) + 10⁻⁴ α gᵀp`` (Armijo). Near the
minimizer the decrease a Newton step makes falls below the round-off of ``f``, so a step is also
taken when ``f`` rises by no more than its round-off while ``‖∇f‖`` halves (as in
:mod:`kronbox.amd.optimize`'s polishing). A point outside the domain has ``f = +∞`` and is refused.

The preconditioner ``M ≈ H⁻¹`` is a function of the point: ``precondition(x)`` returns the map
``r ↦ M r``. For a symmetric positive definite variable :func:`cone_preconditioner` is
``V ↦ X V X``, the inverse Hessian of the barrier ``−logdet X`` (the affine-invariant metric of the
cone); it takes the scale of ``X`` out of the Hessian.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.linalg.blas
import scipy.optimize

Vector = np.ndarray
ARMIJO = 1e-4
HALVINGS = 50


def norm2(v: Vector) -> float:
    """``‖v‖₂ = √(vᵀv)`` of a real vector (numpy's ``norm`` computes the same, with more calls around it)."""
    return math.sqrt(float(v @ v))


def cone_preconditioner(n: int) -> Callable[[Vector], Callable[[Vector], Vector]]:
    """``x ↦ (v ↦ vec(X V X))`` for ``X = unvec(x)``, ``V = unvec(v)`` (``n×n``, row-major)."""

    def at(x: Vector) -> Callable[[Vector], Vector]:
        X = x.reshape(n, n)
        return lambda v: (X @ v.reshape(n, n) @ X).ravel()

    return at


def identity_preconditioner(x: Vector) -> Callable[[Vector], Vector]:
    return lambda v: v


def truncated_cg(hessp: Callable[[Vector], Vector], g: Vector, precondition: Callable[[Vector], Vector],
                 rtol: float, maxiter: int) -> tuple[Vector, int]:
    """``p ≈ −H⁻¹ g`` by preconditioned CG stopped at ``‖H p + g‖ ≤ rtol ‖g‖`` or at non-positive
    curvature (see the module docstring); also returns the number of Hessian products."""
    p = np.zeros_like(g)
    r = -g
    axpy = scipy.linalg.blas.get_blas_funcs("axpy", (p,))  # p and r are updated in place: they are this loop's own
    z = _apart(precondition(r), r)
    d, rz = z, float(r @ z)
    target = rtol * rtol * float(g @ g)  # ‖r‖ ≤ rtol ‖g‖, squared
    for k in range(maxiter):
        Hd = hessp(d)
        curvature = float(d @ Hd)
        if curvature <= 0:
            return (p if k else z), k + 1
        alpha = rz / curvature
        axpy(d, p, a=alpha)  # p += α d
        axpy(Hd, r, a=-alpha)  # r −= α H d
        if float(r @ r) <= target:
            return p, k + 1
        z = _apart(precondition(r), r)
        rz, previous = float(r @ z), rz
        d = z + (rz / previous) * d
    return p, maxiter


def _apart(z: Vector, r: Vector) -> Vector:
    """``z``, or a copy of it where it shares memory with ``r`` (the identity preconditioner returns ``r``)."""
    return z.copy() if np.may_share_memory(z, r) else z


def truncated_newton(value_and_grad: Callable[[Vector], tuple[float, Vector]],
                     hessian: Callable[[Vector], Callable[[Vector], Vector]],
                     precondition: Callable[[Vector], Callable[[Vector], Vector]], x0: Vector, tol: float,
                     maxiter: int, record: Callable[[Vector], object], round_off: Callable[[float], float]
                     ) -> scipy.optimize.OptimizeResult:
    """Newton steps from ``x0`` until ``‖∇f‖ ≤ tol`` or ``maxiter`` steps; ``record(x)`` is called
    after each (it may raise ``StopIteration`` to end the run). The result is scipy's kind, with
    ``nit`` and ``ncg`` (Hessian products) counted."""
    x = x0
    value, g = value_and_grad(x)
    norm, nit, ncg = norm2(g), 0, 0

    def result(success: bool, message: str) -> scipy.optimize.OptimizeResult:
        return scipy.optimize.OptimizeResult(x=x, fun=value, success=success, message=message, nit=nit, ncg=ncg)

    while norm > tol:
        if nit == maxiter:
            return result(False, "Maximum number of iterations has been exceeded.")
        p, products = truncated_cg(hessian(x), g, precondition(x), min(0.5, np.sqrt(norm)),
                                   maxiter=10 * x.size)
        ncg += products
        if not float(g @ p) < 0:
            return result(False, f"the step is not a descent direction at f = {value:.6g} (is the objective bounded "
                                 "below, and the preconditioner positive definite?).")
        step = _line_search(value_and_grad, x, value, g, norm, p, round_off)
        if step is None:
            return result(False, "the line search found no step that decreases f.")
        x, value, g = step
        norm, nit = norm2(g), nit + 1
        try:
            record(x)
        except StopIteration:
            return result(False, "stopped by the callback.")
    return result(True, "‖∇f‖ ≤ tol.")


def _line_search(value_and_grad: Callable[[Vector], tuple[float, Vector]], x: Vector, value: float, g: Vector,
                 norm: float, p: Vector, round_off: Callable[[float], float]) -> tuple[Vector, float, Vector] | None:
    slope = float(g @ p)
    alpha = 1.0
    for _ in range(HALVINGS):
        trial = x + alpha * p
        new_value, new_g = value_and_grad(trial)
        if new_value <= value + ARMIJO * alpha * slope or (
                new_value <= value + round_off(value) and np.linalg.norm(new_g) <= norm / 2):
            return trial, new_value, new_g
        alpha /= 2
    return None

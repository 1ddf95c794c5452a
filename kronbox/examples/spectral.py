"""Eigenvalues and the matrix exponential at work: eigenvalue sensitivity, Newton's method on ``det M(λ) = 0``,
and fitting a linear dynamical system ``ẋ = X x`` to samples of its trajectory.

**Eigenvalue sensitivity.** For a symmetric ``X`` with a simple eigenvalue ``λ_k`` and unit eigenvector ``q_k``,
``dλ_k = q_kᵀ dX q_k = ⟨q_k q_kᵀ, dX⟩``: the gradient on symmetric matrices is ``q_k q_kᵀ``.
:func:`eigenvalue` writes ``λ_k = e_kᵀ eigvalsh(X)`` (``e_k`` a constant selector), so that
``amd.grad(eigenvalue(X, k), X)`` is that gradient (printed ``eigvecs(X)*diag(e6_6)*eigvecs(X)'`` for the largest
eigenvalue of a 6 × 6 ``X``).

**Newton's method on a determinant.** ``λ`` is an eigenvalue of ``A`` when ``det(A − λI) = 0``, and a
*nonlinear eigenvalue* of a matrix function ``M(λ)`` (``A₀ + λA₁ + λ²A₂``, ``A − λI + e^{−λ}B``, …) when
``det M(λ) = 0``. Jacobi's formula ``d det M = det M · trace(M⁻¹ dM)`` turns Newton's step
``λ ← λ − det M(λ) / (det M)'(λ)`` into ``λ ← λ − 1 / trace(M(λ)⁻¹ M'(λ))``, where
``trace(M⁻¹ M') = d log|det M| / dλ`` is ``amd.grad(amd.logdet(M), λ)``: the derivative of the log-determinant
has no logarithm in it, so it holds where ``det M < 0`` as well, and it neither overflows nor underflows
with ``n`` as ``det M`` does. Near a simple root the convergence is quadratic. ``λ`` is real: complex
eigenvalues are not reached.

**Fitting a matrix exponential.** Given the states ``B_k ≈ e^{t_k X} V`` of ``ẋ = X x`` at times ``t_k`` from
the initial states ``V`` (``n × m``, ``m ≥ 1``), :func:`fit_expm` minimizes
``φ(X) = Σ_k ‖e^{t_k X} V − B_k‖²_F`` with :func:`kronbox.amd.minimize`. With ``R_k = e^{t_k X} V − B_k``,
``∇φ(X) = Σ_k 2 t_k L_exp(t_k Xᵀ)[R_k Vᵀ]`` (``L_exp`` the Fréchet derivative of the exponential, evaluated
by Daleckii–Krein at symmetric ``X`` and by ``expm_frechet`` otherwise), and the Hessian is the lazy map of
second Fréchet derivatives. One trajectory (``m = 1``) determines ``X`` when the samples ``v, e^{hX}v, …``
at equally spaced times span ``ℝⁿ``: ``n`` of them fix ``e^{hX}``, hence ``X`` (the principal logarithm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kronbox import amd


def eigenvalue(X: amd.Expr, k: int) -> amd.Expr:
    """``λ_k(X) = e_kᵀ eigvalsh(X)``, the ``k``-th smallest eigenvalue of the symmetric ``n × n`` ``X``
    (``k = −1``: the largest), whose gradient on symmetric matrices is ``q_k q_kᵀ``."""
    if X.shape is None:
        raise amd.ShapeError(f"eigenvalue({X}): the size of {X} must be known")
    n = X.shape[0]
    selector = np.zeros((n, 1))
    selector[k] = 1.0
    return amd.inner(amd.const(f"e{k % n + 1}_{n}", selector), amd.eigvalsh(X))  # e_k of ℝⁿ, named by both


@dataclass(frozen=True)
class Root:
    """A root ``λ`` of ``det M(λ)`` found by Newton's method: ``value``, the number of ``iterations``, and
    ``steps``, the size ``|Δλ|`` of each step (quadratic convergence: each about the square of the last, in
    units of the root's scale)."""

    value: float
    iterations: int
    steps: tuple[float, ...]


def nonlinear_eigenvalue(M: amd.Expr, lam: str | amd.Expr, lam0: float, values: Mapping[str, Any] | None = None,
                         tol: float = 1e-12, maxiter: int = 50) -> Root:
    """A real root of ``det M(λ) = 0`` by Newton's method from ``lam0``: ``λ ← λ − 1 / trace(M(λ)⁻¹ M'(λ))``.

    ``M`` is a square expression in the scalar variable ``lam`` (declared with shape ``()``); ``values`` binds
    its other symbols. Stops when ``|Δλ| ≤ tol · max(1, |λ|)``, or at a ``λ`` where ``M(λ)`` is exactly
    singular. Raises ``ArithmeticError`` where ``det M`` is stationary (``trace(M⁻¹ M') = 0``) and
    ``RuntimeError`` after ``maxiter`` steps without convergence.
    """
    name = lam if isinstance(lam, str) else lam.name
    slope = amd.grad(amd.logdet(M), name)  # trace(M⁻¹ M'), defined for det M < 0 too
    bound = dict(values or {})
    x = float(lam0)
    steps: list[float] = []
    for iteration in range(1, maxiter + 1):
        try:
            d = float(slope.eval(bound, **{name: x}))
        except np.linalg.LinAlgError:
            if float(amd.det(M).eval(bound, **{name: x})) == 0.0:
                return Root(x, iteration - 1, tuple(steps))
            raise
        if d == 0.0:
            raise ArithmeticError(f"Newton's method on det M(λ): det M is stationary at λ = {x!r} "
                                  "(trace(M⁻¹ M') = 0); start elsewhere")
        step = 1.0 / d
        x -= step
        steps.append(abs(step))
        if abs(step) <= tol * max(1.0, abs(x)):
            return Root(x, iteration, tuple(steps))
    raise RuntimeError(f"Newton's method on det M(λ) did not converge in {maxiter} steps from λ = {lam0!r} "
                       f"(last step {steps[-1]:.1e}, λ = {x!r})")


def newton_eigenvalue(A: ArrayLike, lam0: float, tol: float = 1e-12, maxiter: int = 50) -> Root:
    """A real eigenvalue of the square matrix ``A``: Newton's method on ``det(A − λI) = 0`` from ``lam0``
    (:func:`nonlinear_eigenvalue` with ``M(λ) = A − λI``, so the step is ``λ ← λ + 1 / trace((A − λI)⁻¹))``."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise amd.ShapeError(f"newton_eigenvalue: A must be a square matrix, got shape {A.shape}")
    lam = amd.var("lam", ())
    M = amd.const("A", A) - lam * amd.eye(A.shape[0])
    return nonlinear_eigenvalue(M, lam, lam0, tol=tol, maxiter=maxiter)


def _states(a: ArrayLike) -> np.ndarray:
    """A vector as an ``n × 1`` column, a matrix as it is."""
    a = np.asarray(a, dtype=float)
    return a[:, None] if a.ndim == 1 else a


def expm_fit_objective(times: Sequence[float], V: ArrayLike, observations: Sequence[ArrayLike]) -> amd.Expr:
    """``φ(X) = Σ_k ‖e^{t_k X} V − B_k‖²_F`` as an expression in the ``n × n`` variable ``X``; ``V`` and each
    ``B_k`` are ``n``-vectors or ``n × m`` matrices."""
    V0 = _states(V)
    B = [_states(b) for b in observations]
    if len(B) != len(times) or not B:
        raise ValueError(f"fit_expm: one observation per time, got {len(times)} times and {len(B)} observations")
    if any(b.shape != V0.shape for b in B):
        raise amd.ShapeError(f"fit_expm: every observation must have the shape of V, {V0.shape}")
    n = V0.shape[0]
    X, v = amd.var("X", (n, n)), amd.const("V", V0)
    residuals = [amd.normsq(amd.expm(float(t) * X) @ v - amd.const(f"B{k + 1}", b))
                 for k, (t, b) in enumerate(zip(times, B, strict=True))]
    return sum(residuals[1:], start=residuals[0])


def fit_expm(times: Sequence[float], V: ArrayLike, observations: Sequence[ArrayLike], X0: ArrayLike | None = None,
             method: str = "newton-pcg", **options: Any) -> amd.MinimizeResult:
    """The ``X`` minimizing ``Σ_k ‖e^{t_k X} V − B_k‖²_F`` (:func:`expm_fit_objective`) from ``X0`` (default
    zero) by :func:`kronbox.amd.minimize` (``options`` are passed on: ``tol``, ``maxiter``, ``progress``, …).

    A trial step of the optimizer may be long enough for ``e^{t_k X}`` to overflow: its objective is then not
    finite and the step is shortened, without a warning."""
    objective = expm_fit_objective(times, V, observations)
    n = _states(V).shape[0]
    start = np.zeros((n, n)) if X0 is None else np.asarray(X0, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return amd.minimize(objective, start, method=method, **options)

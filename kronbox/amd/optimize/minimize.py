"""``amd.minimize``: Newton's method and scipy's optimizers driven by AMD values, gradients and lazy Hessians.

``minimize(f, X0)`` minimizes the scalar matrix expression ``f`` over one matrix variable ``X``
on ``x = vec(X)`` (row-major, ``X.ravel()``), with kronbox's truncated Newton method
(:mod:`kronbox.amd.optimize.newton`) or :func:`scipy.optimize.minimize`: the value and the reverse-mode
gradient come from one evaluation of ``[f, ∇f]`` (shared work done once), and the Newton methods
get the Hessian as ``hessp``, the lazy operator ``amd.hessian(f, X).at(X)`` applied to vectors: for
``n×n`` ``X`` it is ``n² × n²`` and never formed (``trust-exact`` forms it, for small problems).
See :mod:`kronbox.amd.optimize.objective` for symmetric variables (gradient ``sym(∇f)``, Hessian ``Π H Π``)
and the positive definite cone.

Convergence means ``‖∇f(X)‖_F ≤ tol`` at the returned ``X``, whatever the method, and nothing else:
a run that stops short of it (iteration limit, a failed line search, a trust region that can no
longer predict a decrease) returns ``success=False`` with the optimizer's message and warns
(:class:`NotConvergedWarning`), or raises :class:`NotConvergedError` with ``check=True``.

Near a minimizer the decrease a Newton step promises, ``½ gᵀH⁻¹g``, falls below the round-off of
``f`` itself (about ``10⁻¹³`` for ``f ≈ 700``), and scipy's trust region and line search, which
compare values of ``f``, then reject the steps that would finish the job. So a scipy Newton method
that stops above ``tol`` is *polished* (``newton-pcg``'s line search makes the same test itself):
full Newton steps ``p = −H⁻¹g`` (conjugate gradients on the lazy Hessian) are taken while each one
halves ``‖∇f‖`` and raises ``f`` by no more than its round-off, ``10 ε (1 + |f|)`` (the relaxed
decrease test of Ipopt, Wächter & Biegler 2006, §3.9).
"""

from __future__ import annotations

import numbers
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike

from kronbox.amd.expressions.expr import Expr, is_symmetric_variable, shape_text
from kronbox.amd.optimize.newton import cone_preconditioner, identity_preconditioner, norm2, truncated_newton
from kronbox.amd.optimize.objective import NOT_POSITIVE_DEFINITE, VecObjective, sym
from kronbox.linalg import blas

# method (lower case) → scipy's name and the second-order information it takes
METHODS: dict[str, tuple[str, str]] = {
    "newton-pcg": ("newton-pcg", "hessp"),  # kronbox's own (kronbox.amd.optimize.newton), the others scipy's
    "trust-ncg": ("trust-ncg", "hessp"),
    "trust-krylov": ("trust-krylov", "hessp"),
    "newton-cg": ("Newton-CG", "hessp"),
    "trust-exact": ("trust-exact", "hess"),
    "l-bfgs-b": ("L-BFGS-B", "none"),
}
POLISH_STEPS = 5
STALLED = 3  # iterations in one place, trying steps where f is not finite, that end a scipy run (then polished)


def _blas_threads(threads: int | None):
    """A context running every BLAS pool (numpy's and scipy's OpenBLAS) with ``threads`` threads.

    The optimizers' own vector work (L-BFGS-B's Fortran, the trust regions' norms) runs in scipy's
    pool, the objective's products and factorizations in numpy's, and idle OpenBLAS threads spin:
    on the 2 shared cores, covariance estimation at d = 400 took 25 s (L-BFGS-B) and 13 s (trust-ncg)
    with two threads per pool, 3.3 s and 3.3 s with one (medians of runs interleaved with each other;
    one thread in numpy's pool alone: 8.5 s and 3.7 s, in scipy's alone: 19 s and 9.7 s)."""
    return blas.threads(threads)


class NotConvergedWarning(RuntimeWarning):
    """``minimize`` stopped before ``‖∇f‖_F ≤ tol``; the result says why."""


class NotConvergedError(RuntimeError):
    """``minimize(..., check=True)`` stopped before ``‖∇f‖_F ≤ tol``; ``.result`` holds the result."""

    def __init__(self, result: MinimizeResult):
        super().__init__(result.message)
        self.result = result


@dataclass(frozen=True)
class Iteration:
    """One line of the progress: the objective and ``‖∇f‖_F`` after ``iteration`` steps, ``elapsed`` s."""

    iteration: int
    objective: float
    grad_norm: float
    elapsed: float


@dataclass(frozen=True)
class MinimizeResult:
    """What :func:`minimize` found and what it cost.

    ``X`` the last iterate, ``fun`` and ``grad_norm`` there; ``nit`` iterations (scipy's, plus
    polishing steps), ``nfev`` value-and-gradient evaluations, ``nhess`` Hessian operators built
    (one per point), ``nhessp`` Hessian-vector products; ``success`` is ``grad_norm ≤ tol``;
    ``history`` holds one :class:`Iteration` per iteration from the start (iteration 0); ``elapsed``
    counts seconds since the iterations began (building the symbolic gradient and Hessian and checking
    the start come before);
    ``scipy`` is the optimizer's own result (a :class:`scipy.optimize.OptimizeResult`, also for
    ``newton-pcg``).
    """

    X: np.ndarray
    fun: float
    grad_norm: float
    success: bool
    message: str
    method: str
    nit: int
    nfev: int
    nhess: int
    nhessp: int
    polish_steps: int
    elapsed: float
    history: tuple[Iteration, ...]
    scipy: scipy.optimize.OptimizeResult


class _Trace:
    """Progress lines, the history, the user's callback and the stop at ``‖∇f‖ ≤ tol``."""

    HEADER = f"{'iter':>5}  {'objective':>22}  {'‖∇f‖_F':>9}  {'elapsed':>8}"

    def __init__(self, objective: VecObjective, tol: float, callback, progress):
        self.objective, self.tol, self.callback = objective, tol, callback
        self.say = (lambda line: print(line, file=sys.stderr, flush=True)) if progress is True else progress or None
        self.start = time.perf_counter()
        self.history: list[Iteration] = []
        self.stopped_by_callback = self.reached_tol = self.at_round_off = self.stalled = False
        self.unmoved = 0  # iterations in a row that stayed at one point
        if self.say:
            self.say(self.HEADER)

    def record(self, x: np.ndarray) -> Iteration:
        value, gradient = self.objective.value_and_grad(x)
        step = Iteration(len(self.history), value, norm2(gradient), time.perf_counter() - self.start)
        self.history.append(step)
        if self.say:
            self.say(f"{step.iteration:>5}  {step.objective:>22.15g}  {step.grad_norm:>9.2e}  {step.elapsed:>7.2f}s")
        if self.callback is not None and step.iteration > 0:
            try:
                self.callback(step, self.objective.matrix(x))
            except StopIteration:
                self.stopped_by_callback = True
                raise
        return step

    def scipy_callback(self, intermediate_result: scipy.optimize.OptimizeResult) -> None:
        """Stop at ``‖∇f‖ ≤ tol``, at a step rejected for a change of ``f`` within its round-off, or where the
        optimizer stays at one point trying steps at which ``f`` is not finite (scipy's trust-krylov near a
        minimizer proposes NaN steps until ``maxiter``): the run is then polished (see the module docstring)."""
        previous, trial = self.history[-1], self.objective.latest_value()
        step = self.record(intermediate_result.x)
        if step.grad_norm <= self.tol:
            self.reached_tol = True
            raise StopIteration
        self.unmoved = self.unmoved + 1 if step.objective == previous.objective else 0
        if self.unmoved and abs(trial - step.objective) <= round_off(step.objective):
            self.at_round_off = True  # a trust region's ratio test is noise from here on
            raise StopIteration
        if self.unmoved >= STALLED and not np.isfinite(trial):
            self.stalled = True
            raise StopIteration


def round_off(value: float) -> float:
    """``10 ε (1 + |f|)``: how far an evaluation of ``f`` may be off (Ipopt's relaxation of the decrease test)."""
    return 10 * np.finfo(float).eps * (1 + abs(value))


def _start(objective: VecObjective, X0: np.ndarray) -> np.ndarray:
    """``vec(X0)``, after checking that ``f`` is finite there and, on the cone, that ``X0`` is in it."""
    name = objective.name
    x0 = X0.ravel()
    value, gradient = objective.value_and_grad(x0)
    if objective.positive_definite and objective.failure == NOT_POSITIVE_DEFINITE:
        raise ValueError(f"the start X0 is not positive definite (its Cholesky factorization failed), but {name} "
                         f"must be: {objective.f} takes logdet, inv or sqrtm of the symmetric {name}")
    if not np.isfinite(value):
        reason = f": {objective.failure}" if objective.failure else ""
        raise ValueError(f"the objective {objective.f} is not finite at the start X0 (value {value}){reason}")
    if not np.all(np.isfinite(gradient)):
        raise ValueError(f"the gradient of {objective.f} is not finite at the start X0")
    return x0


def _declared_symmetric(f: Expr, wrt: str | Expr | None) -> bool:
    """Whether the variable to optimize over (``wrt``, or the only variable of ``f``) is declared symmetric."""
    name = wrt if isinstance(wrt, str) or wrt is None else wrt.name
    chosen = [s for s in f.symbols.values() if s.kind == "var" and (name is None or s.name == name)]
    return len(chosen) == 1 and is_symmetric_variable(chosen[0])


def _checked_start(X0, symmetric: bool) -> np.ndarray:
    X = np.asarray(X0)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X0 must be a real matrix, got an array of dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("the start X0 has entries that are not finite")
    if symmetric and X.ndim == 2 and X.shape[0] == X.shape[1]:
        asymmetry = float(np.max(np.abs(X - X.T), initial=0.0))
        if asymmetry > 1e-12 * float(np.max(np.abs(X), initial=0.0)):
            raise ValueError(f"symmetric=True but the start X0 is not symmetric (max |X0 − X0ᵀ| = {asymmetry:.2e})")
        X = sym(X)
    return X


def _polish(objective: VecObjective, x: np.ndarray, tol: float, trace: _Trace, budget: int) -> tuple[np.ndarray, int]:
    """Full Newton steps from ``x`` while each halves ``‖∇f‖`` within the round-off of ``f`` (at most ``budget``)."""
    value, gradient = objective.value_and_grad(x)
    norm, steps = float(np.linalg.norm(gradient)), 0
    while norm > tol and steps < budget:
        product = objective.hessian_product(x)
        H = spla.LinearOperator((x.size, x.size), matvec=product, dtype=float)
        p, info = spla.cg(H, -gradient, rtol=min(0.5, 0.1 * tol / norm), maxiter=10 * x.size)
        if info != 0 or not p @ product(p) > 0:  # no convergence, or not a descent direction
            break
        new_value, new_gradient = objective.value_and_grad(x + p)
        new_norm = float(np.linalg.norm(new_gradient))
        if not (new_norm <= norm / 2 and new_value <= value + round_off(value)):
            break
        x, value, gradient, norm, steps = x + p, new_value, new_gradient, new_norm, steps + 1
        trace.record(x)
    return x, steps


def _run(objective: VecObjective, x0: np.ndarray, trace: _Trace, name: str, second_order: str, options: dict,
         precondition) -> scipy.optimize.OptimizeResult:
    """The optimizer ``name`` from ``x0`` (nothing to do if ``x0`` is already stationary)."""
    if trace.record(x0).grad_norm <= trace.tol:
        return scipy.optimize.OptimizeResult(x=x0, success=True, message="the start is already stationary", nit=0)
    if name == "newton-pcg":
        return truncated_newton(objective.value_and_grad, objective.hessian_product, precondition, x0, trace.tol,
                                options.get("maxiter", 500), trace.record, round_off)
    extra = {"hessp": objective.hessp} if second_order == "hessp" else \
        {"hess": objective.hess} if second_order == "hess" else {}
    return scipy.optimize.minimize(objective.value_and_grad, x0, jac=True, method=name,
                                   callback=trace.scipy_callback, options=options, **extra)


def _preconditioner(objective: VecObjective, preconditioner, name: str):
    """``x ↦ (r ↦ M r)`` for newton-pcg: ``"auto"`` is the cone's ``V ↦ X V X`` on the positive
    definite cone and none elsewhere; a callable takes ``X`` and returns ``V ↦ M V`` on matrices."""
    if name != "newton-pcg":
        if isinstance(preconditioner, str) and preconditioner == "auto":
            return None
        raise ValueError(f"a preconditioner is taken by method='newton-pcg' only, not by {name}")
    if isinstance(preconditioner, str) and preconditioner in ("auto", "cone"):
        if preconditioner == "cone" and not objective.positive_definite:
            raise ValueError("preconditioner='cone' (V ↦ X V X) needs the positive definite cone: symmetric=True with "
                             "positive_definite=True (the default where f takes logdet, inv or sqrtm of X)")
        use_cone = objective.positive_definite or preconditioner == "cone"
        return cone_preconditioner(objective.shape[0]) if use_cone else identity_preconditioner
    if preconditioner is None:
        return identity_preconditioner
    if callable(preconditioner):
        def at(x: np.ndarray):
            M = preconditioner(objective.matrix(x))
            if not callable(M):
                raise TypeError(f"the preconditioner, called with X, must return a function V ↦ M V; it returned "
                                f"{type(M).__name__}")

            def apply(v: np.ndarray) -> np.ndarray:
                MV = np.asarray(M(v.reshape(objective.shape)), dtype=float)
                if MV.shape != objective.shape:
                    raise ValueError(f"the preconditioner's V ↦ M V must return a {shape_text(objective.shape)} "
                                     f"matrix for a {shape_text(objective.shape)} V, got shape {MV.shape}")
                return MV.ravel()

            return apply
        return at
    raise ValueError(f"preconditioner must be 'auto', 'cone', None or a function of X, got {preconditioner!r}")


def _method(method: str) -> tuple[str, str]:
    try:
        return METHODS[method.lower()]
    except (KeyError, AttributeError):
        known = ", ".join(name for name, _ in METHODS.values())
        raise ValueError(f"unknown method {method!r}; minimize knows {known}") from None


def _options(scipy_name: str, tol: float, maxiter: int, size: int) -> dict:
    """scipy's own stopping rules, set so that none fires before ``‖∇f‖ ≤ tol`` would."""
    if scipy_name == "Newton-CG":
        return {"maxiter": maxiter, "xtol": 0.0}
    if scipy_name == "L-BFGS-B":  # its gtol bounds max|gᵢ|, and ‖g‖₂ ≤ √N max|gᵢ|
        return {"maxiter": maxiter, "gtol": tol / np.sqrt(size), "ftol": 0.0}
    return {"maxiter": maxiter, "gtol": tol}


def minimize(
    f: Expr,
    X0: ArrayLike,
    wrt: str | Expr | None = None,
    method: str = "newton-pcg",
    symmetric: bool | None = None,
    values: dict[str, Any] | None = None,
    tol: float = 1e-8,
    maxiter: int = 500,
    callback: Callable[[Iteration, np.ndarray], None] | None = None,
    progress: bool | Callable[[str], None] = False,
    check: bool = False,
    positive_definite: bool | None = None,
    polish: bool = True,
    options: dict[str, Any] | None = None,
    blas_threads: int | None = 1,
    preconditioner: str | Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]] | None = "auto",
) -> MinimizeResult:
    """Minimize the scalar expression ``f`` over the matrix variable ``wrt``, starting from ``X0``.

    ``wrt``: the variable (or its name); by default the only variable of ``f``. ``values`` binds
    the other symbols. ``method``: ``newton-pcg`` (default: kronbox's truncated Newton with
    preconditioned CG, :mod:`kronbox.amd.optimize.newton`), ``trust-ncg``, ``trust-krylov`` or ``Newton-CG``
    (scipy's, with lazy Hessian-vector products), ``trust-exact`` (the dense ``N × N`` Hessian,
    ``N = X.size``: small problems only) or ``L-BFGS-B`` (gradient only). ``preconditioner``, for
    ``newton-pcg``: ``"auto"`` (``V ↦ X V X`` on the positive definite cone, none elsewhere),
    ``"cone"``, ``None``, or a function of ``X`` returning ``V ↦ M V`` with ``M`` symmetric positive
    definite, ``M ≈ H⁻¹``. ``symmetric``: optimize over symmetric
    matrices (gradient ``(G + Gᵀ)/2``, Hessian ``Π H Π``); the start must be symmetric. By default on for a
    variable declared symmetric (``amd.var(…, symmetric=True)``), whose gradient is that one.
    ``positive_definite``: keep iterates in the positive definite cone (each point is tested by a
    Cholesky factorization; outside, ``f = +∞``); by default on when ``symmetric`` and ``f`` takes
    ``logdet``, ``inv`` or ``sqrtm`` of the variable.

    Stops when ``‖∇f‖_F ≤ tol``, after ``maxiter`` iterations, or when the optimizer stops.
    ``callback(step, X)`` is called after every iteration (raising ``StopIteration`` in it ends the
    run); ``progress=True`` prints one line per iteration (iteration, objective, ``‖∇f‖_F``, elapsed
    seconds) to stderr, a callable receives the lines instead. ``polish`` finishes a scipy Newton
    method that stopped above ``tol`` with round-off-tolerant Newton steps (see the module
    docstring). ``options`` go to scipy as they are (newton-pcg reads ``maxiter`` only).
    ``blas_threads``: threads per BLAS pool while the optimizer runs (default 1, much the faster on
    small shared machines, see ``_blas_threads``; ``None`` leaves the pools alone).

    A run that does not reach ``tol`` returns ``success=False`` and a message with the optimizer's, and warns
    (:class:`NotConvergedWarning`); with ``check=True`` it raises :class:`NotConvergedError` instead.
    Bad input (a non-scalar ``f``, a start of the wrong shape, not finite, not symmetric or not
    positive definite where it must be, an objective that is not finite at the start) raises a
    ``ValueError`` (``ShapeError`` for shapes, ``TypeError`` for non-real input) saying what is wrong.
    """
    if not isinstance(f, Expr):
        raise TypeError(f"minimize needs an amd expression to minimize, got {type(f).__name__}")
    name, second_order = _method(method)
    if not (isinstance(tol, numbers.Real) and not isinstance(tol, bool) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if not (isinstance(maxiter, int | np.integer) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress must be True, False or a function taking each line, got {progress!r}")
    if values is not None and not isinstance(values, Mapping):
        raise TypeError(f"values must map symbol names to their values (a dict), got {type(values).__name__}")
    declared = _declared_symmetric(f, wrt)
    if symmetric is None:
        symmetric = declared
    elif declared and not symmetric:
        raise ValueError("symmetric=False, but the variable is declared symmetric (amd.var(…, symmetric=True)): its "
                         "values, the points of the run, are symmetric; leave symmetric out")
    X0 = _checked_start(X0, symmetric)
    objective = VecObjective(f, wrt, X0, values, symmetric, positive_definite, hessian_products=second_order == "hessp")
    precondition = _preconditioner(objective, preconditioner, name)
    with _blas_threads(blas_threads):  # the start's evaluation too: on a busy machine two threads a pool cost ms a call
        x0 = _start(objective, X0)
        trace = _Trace(objective, tol, callback, progress)
        raw = _run(objective, x0, trace, name, second_order, _options(name, tol, maxiter, x0.size) | (options or {}),
                   precondition)
        x, steps = raw.x, 0
        budget = min(POLISH_STEPS, maxiter - (len(trace.history) - 1))  # polishing stays within maxiter
        if polish and second_order != "none" and name != "newton-pcg" and budget > 0 \
                and objective.grad_norm(x) > tol and not trace.stopped_by_callback:
            x, steps = _polish(objective, x, tol, trace, budget)
    result = _result(objective, raw, x, steps, trace, tol, method)
    if not result.success:
        if check:
            raise NotConvergedError(result)
        warnings.warn(result.message, NotConvergedWarning, stacklevel=2)
    return result


def _result(objective: VecObjective, raw, x: np.ndarray, steps: int, trace: _Trace, tol: float,
            method: str) -> MinimizeResult:
    value, gradient = objective.value_and_grad(x)
    norm = float(np.linalg.norm(gradient))
    nit = len(trace.history) - 1
    name = _method(method)[0]
    scipy_says = (f"kronbox {name}" if name == "newton-pcg" else f"scipy {name}") + (
        "" if trace.reached_tol else ": stopped where its decrease test met the round-off of f" if trace.at_round_off
        else f": stopped after {STALLED} steps in a row at which f is not finite" if trace.stalled
        else f": {str(raw.message).rstrip('.')}")
    polished = f"; then {steps} polishing Newton step{'s' * (steps != 1)}" if steps else ""
    success = norm <= tol and not trace.stopped_by_callback
    if trace.stopped_by_callback:
        message = f"stopped by the callback after {nit} iterations, ‖∇f‖_F = {norm:.2e}"
    elif success:
        message = f"converged: ‖∇f‖_F = {norm:.2e} ≤ tol = {tol:g} after {nit} iterations ({scipy_says}{polished})"
    else:
        message = (f"did not converge: ‖∇f‖_F = {norm:.2e} > tol = {tol:g} after {nit} iterations "
                   f"({scipy_says}{polished})")
    return MinimizeResult(
        X=objective.matrix(x), fun=value, grad_norm=norm, success=success, message=message, method=method,
        nit=nit, nfev=objective.nfev, nhess=objective.nhess, nhessp=objective.nhessp, polish_steps=steps,
        elapsed=time.perf_counter() - trace.start, history=tuple(trace.history), scipy=raw)

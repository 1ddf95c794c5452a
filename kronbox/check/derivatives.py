"""Checks of derivatives against numbers computed from the function alone.

Along a few random directions ``V`` (unit Frobenius norm) the derivative is compared with

- central differences, ``(f(X + hV) − f(X − hV)) / 2h`` (error ``O(h²)`` plus rounding ``O(ε/h)``);
- the complex step, ``Im f(X + ihV) / h`` with ``h = 10⁻³⁰`` (no cancellation, so exact to rounding),
  when every step of the evaluation is analytic in the entries: ``abs``, ``sign`` and ``relu`` are
  not, and neither are ``sqrtm`` and Sylvester solves, computed through Schur forms (which conjugate).

The Hessian is compared with differences of the complex-step directional derivative
``t ↦ Im f(X + tW + ihV)/h``, whose derivative at 0 is ``vec(W)ᵀ H vec(V)`` and which uses no
derivative code at all; it is taken for ``W = V`` and for a second random ``W``, since a quadratic
form ``vᵀHv`` alone cannot see an error in ``H`` that is antisymmetric. When ``f`` is not analytic the
verdict rests on central differences of the gradient (itself checked by :func:`gradient`):
second differences of ``f`` carry a rounding error ``ε|f|/t²`` too large to judge by.

A report's verdict rests on the most accurate reference available (the complex step when it
applies, whose error is rounding alone); it carries that method's largest relative error over the
directions against its tolerance, and lists every method's error in its detail.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable

import numpy as np

from kronbox.amd.differentiation.derivative import find_symbol, grad
from kronbox.amd.differentiation.derivative import hessian as hessian_of
from kronbox.amd.differentiation.derivative import jacobian as jacobian_of
from kronbox.amd.evaluation import bound_values, evaluate
from kronbox.amd.expressions.elementwise import FUNCTIONS
from kronbox.amd.expressions.expr import Expr, is_symmetric_variable
from kronbox.check.operator_checks import Report
from kronbox.vec import check_order

_COMPLEX_STEP = 1e-30


# Where the check draws values: the functions defined on positive entries only, and those whose
# argument must keep away from a point (a kink, a pole) for differences to mean anything.
_POSITIVE_FUNCTIONS = frozenset({"log", "sqrt"})
_KINKED_FUNCTIONS = frozenset({"abs", "sign", "relu", "step"})
_UNIT_INTERVAL_FUNCTIONS = frozenset({"arcsin", "arccos"})  # defined (and differentiable) on (−1, 1)
_SMALL_FUNCTIONS = _UNIT_INTERVAL_FUNCTIONS | {"tan"}  # the symbols below them get small values
_MARGIN = 1e-3  # how far an argument keeps from a kink or from the edge of a domain


def _exponent(n: Expr) -> float:
    """The exponent of a ``power`` or ``mpow`` node (``Expr.param`` is typed ``object``: it depends on the kind)."""
    p = n.param
    if not isinstance(p, numbers.Real):
        raise TypeError(f"{n.kind} node with exponent {p!r}: expected a real number")
    return float(p)


def _function(n: Expr) -> str:
    """The name of the function of an ``ew`` node."""
    name = n.param
    if not isinstance(name, str):
        raise TypeError(f"ew node with function {name!r}: expected its name")
    return name


def _needs_positive(n: Expr) -> bool:
    return (n.kind == "ew" and n.param in _POSITIVE_FUNCTIONS) or (
        n.kind == "power" and _exponent(n) != int(_exponent(n))
    )


def _below(e: Expr, kinds) -> set[str]:
    """The names of the symbols inside the arguments of the nodes of ``e`` that ``kinds`` picks."""
    names: set[str] = set()
    for n in e.nodes():
        if kinds(n):
            names.update(m.name for m in n.nodes() if m.kind in ("var", "const"))
    return names


def _draw(shape, rng, positive: bool, small: bool):
    """A value of ``shape``: symmetric positive definite for a square matrix (with positive entries
    where ``positive``), else entries of either sign (positive where ``positive``) kept away from 0."""
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1:
        n = shape[0]
        A = rng.uniform(0.1, 1.0, (n, n)) if positive else rng.standard_normal((n, n))
        S = A @ A.T / n + np.eye(n)
        return S / (4 * np.abs(S).max()) if small else S
    magnitude = rng.uniform(0.1, 0.5, shape) if small else rng.uniform(0.2, 1.5, shape)
    sign = 1.0 if positive else rng.choice([-1.0, 1.0], shape)
    value = sign * magnitude
    return value if shape else float(value)


def domain_problem(e: Expr, values: dict) -> str | None:
    """Why ``values`` is not a good point to check the derivatives of ``e`` at (``None`` if it is):
    an argument outside the domain of its function (``log``, ``sqrt``, fractional powers of
    positive entries, ``logdet`` of a positive determinant, ``sqrtm`` of a matrix with eigenvalues in
    the right half-plane), within 10⁻³ of a kink (``abs``, ``sign``, ``relu``, ``step``, ``norm2`` at 0)
    or of a pole (``tan``, a quotient, an inverse close to singular), or ``e`` not finite there."""
    nodes = e.nodes()
    watched = [n for n in nodes if n.kind in ("ew", "power", "div", "logdet", "sqrtm", "inv", "mpow", "norm")]
    arguments = [n.args[-1] if n.kind == "div" else n.args[0] for n in watched]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            computed = evaluate([e, *arguments], values)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            return f"the formula cannot be evaluated there ({error})"
        for n, A in zip(watched, computed[1:], strict=True):
            A = np.asarray(A)
            why = _outside(n, A)
            if why is not None:
                return why
        if not np.all(np.isfinite(computed[0])):
            return "the formula is not finite there"
    return None


def _outside(n: Expr, A: np.ndarray) -> str | None:
    if not np.all(np.isfinite(A)):
        return f"an argument of {n.kind if n.kind != 'ew' else n.param} is not finite"
    real = np.real(A)
    if _needs_positive(n) and not (real > _MARGIN).all():
        return f"{n.param if n.kind == 'ew' else 'a fractional power'} needs positive entries"
    if n.kind == "ew" and n.param in _KINKED_FUNCTIONS and not (np.abs(real) > _MARGIN).all():
        return f"an argument of {n.param} is at its kink"
    if n.kind == "ew" and n.param in _UNIT_INTERVAL_FUNCTIONS and not (np.abs(A) < 1 - _MARGIN).all():
        return f"{n.param} needs entries in (-1, 1)"
    if n.kind == "ew" and n.param == "tan" and not (np.abs(np.cos(A)) > 0.1).all():
        return "an argument of tan is near a pole"
    if n.kind == "norm" and np.linalg.norm(A) <= _MARGIN:
        return "norm2 is at its kink (0)"
    if n.kind == "div" and not (np.abs(A) > _MARGIN).all():
        return "a denominator is near 0"
    if n.kind == "power" and _exponent(n) < 0 and not (np.abs(A) > _MARGIN).all():
        return "a negative power of an entry near 0"
    if A.ndim == 2 and A.shape[0] == A.shape[1] and n.kind in ("logdet", "sqrtm", "inv", "mpow"):
        if n.kind == "logdet" and np.linalg.slogdet(A)[0].real <= 0:
            return "logdet needs a positive determinant"
        if n.kind == "sqrtm" and not (np.linalg.eigvals(A).real > _MARGIN).all():
            return "sqrtm needs eigenvalues with a positive real part"
        if (n.kind == "inv" or (n.kind == "mpow" and _exponent(n) < 0)) and np.linalg.cond(A) > 1e8:
            return "an inverse of a nearly singular matrix"
    return None


def random_values(e: Expr, seed: int = 0, attempts: int = 30) -> dict[str, np.ndarray]:
    """Values for the symbols of ``e`` that have none, in the domain of every function of ``e``:
    symmetric positive definite for square matrices (so that ``inv``, ``logdet`` and ``sqrtm`` are
    defined), positive entries for what ``log``, ``sqrt`` and fractional powers take, small ones
    for what ``tan`` takes, and entries away from 0 (the kinks of ``abs``, ``relu``, ``sign``)
    otherwise. Up to ``attempts`` points are drawn until one passes :func:`domain_problem`; the
    last one is returned if none does (check it with :func:`domain_problem`)."""
    rng = np.random.default_rng(seed)
    open_symbols = [(name, s) for name, s in sorted(e.symbols.items()) if s.value is None]
    for name, s in open_symbols:
        if s.shape is None:
            raise ValueError(f"the shape of {name!r} is not known: pass its value")
    positive = _below(e, _needs_positive)
    small = _below(e, lambda n: n.kind == "ew" and n.param in _SMALL_FUNCTIONS)
    values: dict = {}
    for _ in range(max(1, attempts)):
        values = {name: _draw(s.shape, rng, name in positive, name in small) for name, s in open_symbols}
        if domain_problem(e, values) is None:
            break
    return values


# Kinds evaluated through a Schur form or a symmetric eigendecomposition: not analytic in the entries as computed.
_SCHUR_BASED = frozenset({"sqrtm", "sylvester", "matfun", "frechet", "eigvalsh", "eigvecs", "cholesky"})
# Kinds defined on symmetric matrices only: where one takes the variable, directions are symmetric.
_ON_SYMMETRIC = frozenset({"eigvalsh", "eigvecs", "cholesky"})


def analytic(e: Expr) -> bool:
    """True when ``e`` is evaluated by steps analytic in the entries, so that the complex step applies."""
    return all(n.kind not in _SCHUR_BASED and (n.kind != "ew" or FUNCTIONS[_function(n)].analytic) for n in e.nodes())


class _Probe:
    """``e`` as a function of the symbol ``wrt`` alone, the other symbols held at their values."""

    def __init__(self, e: Expr, wrt, values: dict | None, seed: int):
        self.e = e
        self.x = find_symbol(e, wrt)
        values = dict(values) if values is not None else random_values(e, seed)
        arrays = bound_values([e], values)
        self.values = {**values, **arrays}
        if np.iscomplexobj(arrays[self.x.name]):
            raise ValueError(f"check: the value of {self.x.name!r} must be real")
        self.X = np.asarray(arrays[self.x.name], dtype=np.float64)
        self.rng = np.random.default_rng(seed + 1)
        self.h = 1e-5 * max(1.0, float(np.abs(self.X).max(initial=0.0)))
        self.analytic = analytic(e)
        # directions of the space the derivative lives on: symmetric for a symmetric variable, and for one that a
        # function of symmetric matrices takes (the derivative is then the one on symmetric directions)
        self.symmetric = is_symmetric_variable(self.x) or (
            self.X.ndim == 2 and self.X.shape[0] == self.X.shape[1] and
            any(n.kind in _ON_SYMMETRIC and n.depends_on(self.x) for n in e.nodes()))

    def at(self, expr: Expr, X) -> np.ndarray:
        return np.asarray(expr.eval({**self.values, self.x.name: X}))

    def direction(self) -> np.ndarray:
        V = self.rng.standard_normal(self.X.shape)
        if self.symmetric:
            V = (V + V.T) / 2
        return V / np.linalg.norm(V)

    def central(self, expr: Expr, V, h=None) -> np.ndarray:
        h = self.h if h is None else h
        return (self.at(expr, self.X + h * V) - self.at(expr, self.X - h * V)) / (2 * h)

    def complex_step(self, expr: Expr, V, X=None) -> np.ndarray:
        X = self.X if X is None else X
        return self.at(expr, X + 1j * _COMPLEX_STEP * V).imag / _COMPLEX_STEP


def _relative(a, b, floor: float = 0.0) -> float:
    """``‖a − b‖ / max(‖a‖, ‖b‖, floor)``: ``floor`` keeps rounding noise around a zero from counting."""
    a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
    scale = max(np.linalg.norm(a), np.linalg.norm(b), floor)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


# What each reference achieves on well-scaled problems (relative): the tolerance a correct derivative meets.
TOLERANCES = {
    "complex step": 1e-8,
    "central differences": 1e-5,
    "differences of the complex step": 1e-6,
    "central differences of the gradient": 1e-5,
}


def _report(name: str, errors: dict[str, list[float]], decisive: str, tol: float | None, directions: int) -> Report:
    worst = {method: max(errs) for method, errs in errors.items()}
    detail = ", ".join(f"{method} {err:.2g}" for method, err in worst.items())
    tol = TOLERANCES[decisive] if tol is None else tol
    return Report(name, worst[decisive], tol, f"{directions} random directions, judged by {decisive}: {detail}")


def _check(name: str, probe: _Probe, computed: Callable, references: dict[str, Callable], directions: int,
           tol: float | None) -> Report:
    errors: dict[str, list[float]] = {method: [] for method in references}
    for _ in range(directions):
        V = probe.direction()
        mine = computed(V)
        for method, reference in references.items():
            errors[method].append(_relative(mine, reference(V)))
    return _report(name, errors, list(references)[-1], tol, directions)


def gradient(f: Expr, wrt, values: dict | None = None, *, directions: int = 3, tol: float | None = None,
             seed: int = 0) -> Report:
    """``⟨∇f, V⟩`` from :func:`kronbox.amd.grad` against central differences and the complex step."""
    probe = _Probe(f, wrt, values, seed)
    G = np.asarray(grad(f, probe.x).eval(probe.values))
    references = {"central differences": lambda V: probe.central(f, V)}
    if probe.analytic:
        references["complex step"] = lambda V: probe.complex_step(f, V)
    return _check(f"gradient of {f} with respect to {probe.x}", probe, lambda V: np.sum(G * V), references,
                  directions, tol)


def jacobian(F: Expr, wrt, values: dict | None = None, *, directions: int = 3, tol: float | None = None,
             seed: int = 0, order: str = "C") -> Report:
    """``J vec(V)`` from :func:`kronbox.amd.jacobian` (the lazy operator) against central differences
    and the complex step of ``vec(F)``."""
    probe = _Probe(F, wrt, values, seed)
    J = jacobian_of(F, probe.x).at(probe.values, order=order)

    stacking = check_order(order)

    def vec(A):
        return np.ravel(A, order=stacking)

    references = {"central differences": lambda V: vec(probe.central(F, V))}
    if probe.analytic:
        references["complex step"] = lambda V: vec(probe.complex_step(F, V))
    return _check(f"Jacobian of {F} with respect to {probe.x}", probe, lambda V: J @ vec(V), references,
                  directions, tol)


def hessian(f: Expr, wrt, values: dict | None = None, *, directions: int = 3, tol: float | None = None,
            seed: int = 0) -> Report:
    """``H vec(V)`` from :func:`kronbox.amd.hessian` against central differences of the gradient,
    and ``vec(V)ᵀ H vec(V)``, ``vec(W)ᵀ H vec(V)`` (``W`` a second direction) against differences of
    complex-step directional derivatives when ``f`` is analytic (which then decides)."""
    probe = _Probe(f, wrt, values, seed)
    H = hessian_of(f, probe.x).at(probe.values)
    g = grad(f, probe.x)
    t = 1e-3 * max(1.0, float(np.abs(probe.X).max(initial=0.0)))

    def bilinear(W, V):
        """``vec(W)ᵀ H vec(V)``: ``d/dt`` of the complex-step derivative along ``V`` at ``X + tW``,
        by the five-point stencil (error ``O(t⁴)``)."""
        d = {s: probe.complex_step(f, V, probe.X + s * t * W) for s in (-2, -1, 1, 2)}
        return (8 * (d[1] - d[-1]) - (d[2] - d[-2])) / (12 * t)

    by_gradient, by_complex_step = "central differences of the gradient", "differences of the complex step"
    errors: dict[str, list[float]] = {by_gradient: []}
    if probe.analytic:
        errors[by_complex_step] = []
    for _ in range(directions):
        V = probe.direction()
        HV = H @ V.ravel()
        errors[by_gradient].append(_relative(HV, probe.central(g, V).ravel()))
        if probe.analytic:
            W = probe.direction()
            mine = [V.ravel() @ HV, W.ravel() @ HV]
            reference = [np.sum(bilinear(V, V)), np.sum(bilinear(W, V))]  # f may be a 1×1 matrix
            errors[by_complex_step].append(_relative(mine, reference))
    decisive = by_complex_step if probe.analytic else by_gradient
    return _report(f"Hessian of {f} with respect to {probe.x}", errors, decisive, tol, directions)

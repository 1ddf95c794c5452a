"""A scalar matrix function seen by a vector optimizer: ``x = vec(X)`` (row-major), value, gradient, Hessian.

scipy's optimizers work on vectors. :class:`VecObjective` presents ``f(X)`` as ``φ(x) = f(unvec(x))``
with ``x = vec(X) = X.ravel()``, so ``∇φ(x) = vec(∇f(X))`` and ``∇²φ(x) = H`` with
``H vec(V) = vec(D²f(X)[V])``, the lazy Hessian operator of :func:`kronbox.amd.hessian`. Value and
gradient are evaluated together (:func:`kronbox.amd.evaluate` of ``[f, ∇f]``: ``inv(X)`` and the
factorization shared); the Hessian operator is built once per point and applied to every vector
asked for there.

**Symmetric variables.** With ``symmetric=True`` the function lives on the space of symmetric
matrices with the Frobenius inner product. Its gradient there is the orthogonal projection
``sym(G) = (G + Gᵀ)/2`` of the free-entry gradient ``G`` (``⟨sym(G), V⟩ = ⟨G, V⟩`` for every
symmetric ``V``), and its Hessian is ``Π H Π`` with ``Π vec(V) = vec(sym(V))``: applied to ``V``,
``sym(H vec(sym V))``. Points are symmetrized before evaluation, so round-off never lets an iterate
drift off the subspace (exactly symmetric matrices take the Cholesky path of the evaluator).

**Positive definite domain.** ``logdet``, ``inv`` and ``sqrtm`` of a symmetric matrix variable are
meant on the cone of positive definite matrices; outside it ``logdet`` may still return a real
number (``log|det|`` with an even number of negative eigenvalues), which an optimizer would follow
off a cliff. On such a domain every point is first tested by a Cholesky factorization; a point
outside has the value ``+∞`` (a trust region shrinks, a line search backtracks).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from kronbox.amd.differentiation.derivative import Derivative, find_symbol, grad, hessian
from kronbox.amd.differentiation.symmetric import merged_map
from kronbox.amd.evaluation import bound_values, evaluate, specialize
from kronbox.amd.evaluation.compiled import CompiledPlan
from kronbox.amd.evaluation.compiled_map import CompiledMap, thin_path
from kronbox.amd.evaluation.evaluate import evaluate_with
from kronbox.amd.evaluation.factorization import Factorization, given
from kronbox.amd.evaluation.plan import program
from kronbox.amd.expressions.expr import Expr, ShapeError, is_scalar_shape, shape_text
from kronbox.amd.optimize.projected import fewer_terms
from kronbox.kernels.symmetric import symmetrize
from kronbox.operators.symmetric_part import _SymmetricPath

# Functions of a symmetric matrix variable that are taken on the positive definite cone.
_CONE_FUNCTIONS = frozenset({"logdet", "inv", "sqrtm"})
NOT_POSITIVE_DEFINITE = "it is not positive definite (a Cholesky factorization failed)"
# A point: (x, φ, ∇φ, the values of the Hessian's factors when evaluated with them).
_Point = tuple[np.ndarray, float, np.ndarray, list[Any] | None]


def sym(M: np.ndarray) -> np.ndarray:
    """``(M + Mᵀ)/2``: the orthogonal projection onto the symmetric matrices (exactly symmetric; a new array)."""
    return symmetrize(M)


def same_point(kept: np.ndarray, x: np.ndarray) -> bool:
    """Whether the vector ``x`` holds the same numbers, bit for bit, as ``kept`` (a point seen before): the
    first entries compared first, as most other points differ there."""
    return kept.shape == x.shape and (x.size == 0 or kept[0] == x[0]) and kept.tobytes() == x.tobytes()


def needs_positive_definite(f: Expr, x: Expr) -> bool:
    """Whether ``f`` applies ``logdet``, ``inv`` or ``sqrtm`` to the variable ``x`` itself."""
    return any(n.kind in _CONE_FUNCTIONS and n.args[0] is x for n in f.nodes())


def only_variable(f: Expr) -> Expr:
    """The single variable of ``f``; an error lists them when there are none or several."""
    variables = sorted(name for name, n in f.symbols.items() if n.kind == "var")
    if len(variables) != 1:
        listed = ", ".join(variables) or "none"
        raise ValueError(f"say which variable to minimize over with wrt= ({f} has the variables: {listed})")
    return f.symbols[variables[0]]


@lru_cache(maxsize=16)
def _derivatives(f: Expr, x: Expr) -> tuple[Expr, Derivative]:
    """``∇f`` and the Hessian of ``f`` in ``x``, worked out once: expressions are shared nodes, so minimizing
    the same objective again (from another start, with other options) finds them here."""
    return grad(f, x), hessian(f, x)


@lru_cache(maxsize=16)
def _compiled_hessian(f: Expr, x: Expr, symmetric: bool) -> CompiledMap:
    """The Hessian's map read once for binding by one compiled plan (made when first asked for); for a
    symmetric variable (declared, or ``symmetric=True``) the map ``H'`` of merged Kron terms with
    ``Π H' Π = Π H Π`` (:func:`merged_map`), right inside the projection only."""
    hessian = _derivatives(f, x)[1]
    core = hessian.symmetric_core or (merged_map(hessian.map, x) if symmetric else None)
    return CompiledMap(core or hessian.map)


@lru_cache(maxsize=16)
def _value_plan(f: Expr, x: Expr, symmetric: bool) -> tuple[CompiledPlan, list[Expr]]:
    """The plan of ``[f, ∇f, *the Hessian's factors]``: the factors evaluated with ``f`` and ``∇f``, sharing the
    factorization and the products (they may share memory with each other: only the bound terms read them)."""
    exprs = [f, _derivatives(f, x)[0], *_compiled_hessian(f, x, symmetric).factors]
    return CompiledPlan(program(tuple(exprs)), hot=1, private=len(exprs) - 2), exprs


class VecObjective:
    """``f`` as a function of ``x = vec(X)`` for scipy, with counters of the work done.

    ``values`` gives the other symbols of ``f``; ``X0`` fixes the variable's shape when it was not
    declared. ``nfev`` counts value-and-gradient evaluations, ``nhess`` Hessian operators built,
    ``nhessp`` Hessian-vector products. ``hessian_products``: the Hessian will be applied at most points, so
    its factors are evaluated with ``f`` and ``∇f`` from the first point on.
    """

    def __init__(self, f: Expr, wrt: str | Expr | None, X0: np.ndarray, values: dict | None = None,
                 symmetric: bool = False, positive_definite: bool | None = None, hessian_products: bool = False):
        x = only_variable(f) if wrt is None else find_symbol(f, wrt)
        if x.kind != "var":
            raise ValueError(f"{x.name!r} is a constant of {f}; minimize over a variable (amd.var)")
        self.name = x.name
        self.values = dict(values or {})
        if self.name in self.values:
            raise ValueError(f"values gives {self.name!r}, the variable minimized over: pass its start as X0")
        if x.shape is not None and X0.shape != x.shape:
            raise ShapeError(f"X0 is {shape_text(X0.shape)} but {self.name} is declared {shape_text(x.shape)}")
        self.f, self.x = specialize([f, x], bound_values([f], {**self.values, self.name: X0}))
        if not is_scalar_shape(self.f.shape):
            raise ShapeError(f"minimize needs a scalar objective, but {f} is {shape_text(self.f.shape)}")
        self.shape = X0.shape
        self.symmetric = symmetric
        if symmetric and (X0.ndim != 2 or X0.shape[0] != X0.shape[1]):
            raise ShapeError(f"symmetric=True needs a square variable, but {self.name} is {shape_text(X0.shape)}")
        if positive_definite and not symmetric:
            raise ValueError("positive_definite=True needs symmetric=True: the cone is one of symmetric matrices")
        cone = symmetric and needs_positive_definite(self.f, self.x)
        self.positive_definite = cone if positive_definite is None else positive_definite
        self.g, self._hessian = _derivatives(self.f, self.x)
        self._recent: list[_Point] = []  # the last three points
        # the Hessian's factors evaluated with f and ∇f: from the start where Hessian products will be asked
        # for, else once they are (and never where the Hessian is not a sum of Kron and box terms)
        self._with_factors = hessian_products and _compiled_hessian(self.f, self.x, symmetric).terms is not None
        self._product: tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]] | None = None
        self.nfev = self.nhess = self.nhessp = 0
        self.failure = ""

    # -- points ------------------------------------------------------------------------------------
    def matrix(self, x: np.ndarray) -> np.ndarray:
        """``unvec(x)`` (row-major), symmetrized for a symmetric variable."""
        X = np.asarray(x, dtype=float).reshape(self.shape)
        return sym(X) if self.symmetric else X

    def cone_factorization(self, X: np.ndarray) -> Factorization | None:
        """On the positive definite cone, the Cholesky factorization of ``X`` (which the evaluation at ``X``
        then reuses), or ``None`` when ``X`` is outside the cone; ``None`` too off the cone (nothing to test)."""
        if not self.positive_definite:
            return None
        factorization = Factorization(X, self.name, symmetric=True)  # a point of the cone is symmetrized
        if bool(np.isfinite(X).all()) and factorization.positive_definite:
            return factorization
        self.failure = NOT_POSITIVE_DEFINITE
        return None

    def _bind(self, X: np.ndarray) -> dict:
        return {**self.values, self.name: X}

    def _kept(self, x: np.ndarray) -> _Point | None:
        """The kept point ``x`` (the same numbers), or ``None``."""
        for point in self._recent:
            if same_point(point[0], x):
                return point
        return None

    # -- value and gradient ------------------------------------------------------------------------
    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """``(φ(x), ∇φ(x))``; ``(+∞, 0)`` outside the domain (not positive definite on the cone, or
        where ``f`` cannot be evaluated: a singular ``inv``, a negative ``det`` under ``logdet``), with
        the reason in ``failure``. The last three points are kept."""
        point = self._kept(x)
        if point is None:
            point = self._point(x)
            self._recent = [point, *self._recent[:2]]
        return point[1], point[2]

    def _point(self, x: np.ndarray) -> _Point:
        """``(x, φ, ∇φ, the Hessian's factors)`` at a point not kept (the factors ``None`` where not evaluated)."""
        X = self.matrix(x)
        self.nfev += 1
        kept = np.array(x, copy=True)
        factorization = self.cone_factorization(X)
        if factorization is None and self.positive_definite:
            return kept, np.inf, np.zeros(X.size), None
        try:
            if factorization is None:
                value, G, *factors = self._evaluate(X)
            else:
                with given(factorization):
                    value, G, *factors = self._evaluate(X)
        except ShapeError:
            raise
        except (ValueError, np.linalg.LinAlgError) as error:  # outside the domain: singular, det < 0
            self.failure = str(error)
            return kept, np.inf, np.zeros(X.size), None
        if np.iscomplexobj(value) or np.iscomplexobj(G):
            raise TypeError(f"minimize needs a real objective, but {self.f} is complex at this point")
        G = np.asarray(G, dtype=float).reshape(self.shape)
        return kept, float(value), (sym(G) if self.symmetric else G).ravel(), factors or None

    def _evaluate(self, X: np.ndarray) -> list:
        """``[φ, ∇φ, *the Hessian's factors]`` at ``X`` in one plan where the factors are wanted (see
        ``hessian_products``, or once the Hessian has been bound as Kron and box terms); ``[φ, ∇φ]`` otherwise,
        or where a factor cannot be evaluated."""
        values = self._bind(X)
        if self._with_factors:
            plan, exprs = _value_plan(self.f, self.x, self.symmetric)
            try:
                return evaluate_with(plan, exprs, values)
            except (ValueError, np.linalg.LinAlgError):
                pass
        return evaluate([self.f, self.g], values)

    def latest_value(self) -> float:
        """The value at the point evaluated last (a trial point the optimizer may have rejected)."""
        return self._recent[0][1]

    def grad_norm(self, x: np.ndarray) -> float:
        """``‖∇f(X)‖_F`` (of ``sym(∇f)`` for a symmetric variable)."""
        return float(np.linalg.norm(self.value_and_grad(x)[1]))

    # -- Hessian -----------------------------------------------------------------------------------
    def operator(self, x: np.ndarray):
        """The lazy Hessian at ``x`` (the free-entry one: ``H``, not ``Π H Π``) as a kronbox operator."""
        return self._hessian.at(self._bind(self.matrix(x)))

    def hessian_product(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``p ↦ ∇²φ(x) p``, bound once per point (each product counted in ``nhessp``): the Hessian's Kron and
        box terms evaluated by one compiled plan and applied by their GEMMs
        (:mod:`kronbox.amd.evaluation.compiled_map`) where the Hessian has that form, else its kronbox
        operator; for a symmetric variable ``Π H' Π`` with ``H'`` of fewer terms, merged once
        (:mod:`kronbox.amd.optimize.projected`)."""
        if self._product is None or not same_point(self._product[0], x):
            self.nhess += 1
            self._product = (np.array(x, copy=True), self._bound_product(x))
        apply = self._product[1]

        def product(p: np.ndarray) -> np.ndarray:
            self.nhessp += 1
            return apply(p)

        return product

    def _bound_product(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        hessian = _compiled_hessian(self.f, self.x, self.symmetric)
        point = self._kept(x)
        terms = hessian.bind(point[3]) if point is not None and point[3] is not None else None
        if terms is None:
            terms = hessian.terms_at(self._bind(self.matrix(x)))
            # from now on the factors are evaluated with f and ∇f, in their plan (when the map has the form)
            self._with_factors = terms is not None
        if terms is None:
            H = self.operator(x)
            return (fewer_terms(H) if self.symmetric else H).__matmul__
        if self.symmetric:  # the merged map's terms, right inside the projection only
            return _SymmetricPath(self.shape[0], thin_path(terms, self.shape), fresh=True)
        return thin_path(terms, self.shape)

    def hessp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``∇²φ(x) p``: ``H p``, or ``vec(sym(H vec(sym P)))`` for a symmetric variable."""
        return self.hessian_product(x)(p)

    def hess(self, x: np.ndarray) -> np.ndarray:
        """The dense Hessian ``∇²φ(x)`` (``N × N``, ``N = X.size``): for small problems only.

        For a symmetric variable it is ``Π H Π``: entry ``[(ij), (kl)]`` is the mean of ``H`` over
        the four index orders ``(ij)/(ji)`` × ``(kl)/(lk)``."""
        self.nhess += 1
        D = self.operator(x).to_dense()
        if not self.symmetric:
            return D
        n, N = self.shape[0], D.shape[0]
        D4 = D.reshape(n, n, n, n)
        rows = np.add(D4, D4.transpose(1, 0, 2, 3))  # two N×N arrays alive at a time, never more
        del D, D4
        rows *= 0.5
        both = np.add(rows, rows.transpose(0, 1, 3, 2))
        both *= 0.5
        return both.reshape(N, N)

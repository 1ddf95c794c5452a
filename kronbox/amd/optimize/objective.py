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

import numpy as np

from kronbox.amd.differentiation.derivative import find_symbol, grad, hessian
from kronbox.amd.evaluation import bound_values, evaluate, specialize
from kronbox.amd.expressions.expr import Expr, ShapeError, is_scalar_shape, shape_text
from kronbox.amd.optimize.projected import fewer_terms

# Functions of a symmetric matrix variable that are taken on the positive definite cone.
_CONE_FUNCTIONS = frozenset({"logdet", "inv", "sqrtm"})


def sym(M: np.ndarray) -> np.ndarray:
    """``(M + Mᵀ)/2``: the orthogonal projection onto the symmetric matrices (exactly symmetric)."""
    return (M + M.T) / 2


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


class VecObjective:
    """``f`` as a function of ``x = vec(X)`` for scipy, with counters of the work done.

    ``values`` gives the other symbols of ``f``; ``X0`` fixes the variable's shape when it was not
    declared. ``nfev`` counts value-and-gradient evaluations, ``nhess`` Hessian operators built,
    ``nhessp`` Hessian-vector products.
    """

    def __init__(self, f: Expr, wrt: str | Expr | None, X0: np.ndarray, values: dict | None = None,
                 symmetric: bool = False, positive_definite: bool | None = None):
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
        self.g = grad(self.f, self.x)
        self._hessian = hessian(self.f, self.x)
        self._recent: list[tuple[np.ndarray, float, np.ndarray]] = []
        self._operator: tuple[np.ndarray, object, object] | None = None
        self.nfev = self.nhess = self.nhessp = 0
        self.failure = ""

    # -- points ------------------------------------------------------------------------------------
    def matrix(self, x: np.ndarray) -> np.ndarray:
        """``unvec(x)`` (row-major), symmetrized for a symmetric variable."""
        X = np.asarray(x, dtype=float).reshape(self.shape)
        return sym(X) if self.symmetric else X

    def inside(self, X: np.ndarray) -> bool:
        """Whether ``X`` is in the domain (positive definite, when the domain is the cone)."""
        if not self.positive_definite:
            return True
        try:
            np.linalg.cholesky(X)
        except np.linalg.LinAlgError:
            return False
        return True

    def _bind(self, X: np.ndarray) -> dict:
        return {**self.values, self.name: X}

    # -- value and gradient ------------------------------------------------------------------------
    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """``(φ(x), ∇φ(x))``; ``(+∞, 0)`` outside the domain (not positive definite on the cone, or
        where ``f`` cannot be evaluated: a singular ``inv``, a negative ``det`` under ``logdet``), with
        the reason in ``failure``. The last three points are kept."""
        for kept, value, gradient in self._recent:
            if np.array_equal(kept, x):
                return value, gradient
        X = self.matrix(x)
        self.nfev += 1
        value, gradient = np.inf, np.zeros(X.size)
        if not self.inside(X):
            self.failure = "it is not positive definite (a Cholesky factorization failed)"
        else:
            try:
                value, G = evaluate([self.f, self.g], self._bind(X))
            except ShapeError:
                raise
            except (ValueError, np.linalg.LinAlgError) as error:  # outside the domain: singular, det < 0
                self.failure = str(error)
            else:
                if np.iscomplexobj(value) or np.iscomplexobj(G):
                    raise TypeError(f"minimize needs a real objective, but {self.f} is complex at this point")
                value, G = float(value), np.asarray(G, dtype=float).reshape(self.shape)
                gradient = (sym(G) if self.symmetric else G).ravel()
        self._recent = [(np.array(x, copy=True), value, gradient), *self._recent[:2]]
        return value, gradient

    def latest_value(self) -> float:
        """The value at the point evaluated last (a trial point the optimizer may have rejected)."""
        return self._recent[0][1]

    def grad_norm(self, x: np.ndarray) -> float:
        """``‖∇f(X)‖_F`` (of ``sym(∇f)`` for a symmetric variable)."""
        return float(np.linalg.norm(self.value_and_grad(x)[1]))

    # -- Hessian -----------------------------------------------------------------------------------
    def operator(self, x: np.ndarray):
        """The lazy Hessian at ``x`` (the free-entry one: ``H``, not ``Π H Π``), built once per point."""
        return self._operators(x)[0]

    def _operators(self, x: np.ndarray):
        """``(H, H')`` at ``x``: ``H'`` is ``H``, or for a symmetric variable ``Π H Π`` with fewer terms
        (:func:`kronbox.amd.optimize.projected.fewer_terms`); built once per point."""
        if self._operator is None or not np.array_equal(self._operator[0], x):
            self.nhess += 1
            H = self._hessian.at(self._bind(self.matrix(x)))
            self._operator = (np.array(x, copy=True), H, fewer_terms(H) if self.symmetric else H)
        return self._operator[1:]

    def hessp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``∇²φ(x) p``: ``H p``, or ``vec(sym(H vec(sym P)))`` for a symmetric variable."""
        self.nhessp += 1
        return self._operators(x)[1] @ p

    def hess(self, x: np.ndarray) -> np.ndarray:
        """The dense Hessian ``∇²φ(x)`` (``N × N``, ``N = X.size``): for small problems only.

        For a symmetric variable it is ``Π H Π``: entry ``[(ij), (kl)]`` is the mean of ``H`` over
        the four index orders ``(ij)/(ji)`` × ``(kl)/(lk)``."""
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

"""Forward and reverse mode over the derivative table, and the lazy derivative objects they return.

Forward mode (:func:`jacobian`) composes the local Jacobians of :mod:`kronbox.amd.differentiation.rules` along
the expression, children first: ``J(F) = Σᵢ ∂F/∂Aᵢ · J(Aᵢ)``, ``J(X) = I``. The result is a
:class:`~kronbox.amd.expressions.linear_map.LinearMap` of Kron / Box / Outer pieces, never a matrix.

Reverse mode (:func:`grad`) visits the nodes parents first and unwinds each local Jacobian onto
the adjoint, ``Āᵢ += unwind(∂F/∂Aᵢ, F̄)`` (``vecᵀ(G)(A ⊗ B) = vecᵀ(Aᵀ G B)``), starting from
``f̄ = 1``. The gradient is a matrix expression that reuses the nodes of ``f`` (``inv(X)`` in
``f`` is the same node in ``grad f``), so evaluating it does the shared work once, and costs a
small multiple of ``f`` itself (the AMD theorem: at most 4×).

The Hessian of a scalar ``f`` is the Jacobian of its gradient (forward over reverse), a lazy
symmetric operator on ``vec(X)``. Gradients follow the Matrix Cookbook convention (every entry
of ``X`` independent); row-major ``vec`` unless ``order="F"`` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kronbox import operators
from kronbox.amd.differentiation.rules import local_jacobian
from kronbox.amd.differentiation.symmetric import merged_map
from kronbox.amd.evaluation import bound_values, evaluate, specialize, to_operator
from kronbox.amd.expressions.expr import (
    SHAPE_ONLY,
    SYMBOL_KINDS,
    Expr,
    ShapeError,
    add,
    declared_shape,
    eye_like,
    is_eye,
    is_scalar_shape,
    is_symmetric_variable,
    known_symmetric,
    literal,
    matmul,
    matrix_exponent,
    mpow,
    mul,
    neg,
    ones,
    scalar_factor,
    shape_text,
    substitute,
    topological,
    transpose,
    var,
    zeros_like,
)
from kronbox.amd.expressions.linear_map import (
    LinearMap,
    compose,
    identity,
    symmetric_part,
    total,
    unwind,
    zero,
)


def find_symbol(e: Expr, wrt: str | Expr) -> Expr:
    """The symbol of ``e`` named ``wrt`` (or the symbol ``wrt`` itself); an error says which exist."""
    name = wrt if isinstance(wrt, str) else getattr(wrt, "name", None) if isinstance(wrt, Expr) and \
        wrt.kind in SYMBOL_KINDS else None
    if name is None:
        raise TypeError(f"differentiate with respect to a symbol or its name, not {wrt!r}")
    symbols = e.symbols
    if name not in symbols:
        known = ", ".join(sorted(symbols)) or "none"
        raise ValueError(f"{name!r} is not a variable of {e} (its symbols: {known})")
    return symbols[name]


def _dependents(order: list[Expr], x: Expr) -> set[int]:
    dep = {id(x)}
    for n in order:
        if any(id(a) in dep for a in n.args):
            dep.add(id(n))
    return dep


def linearize(F: Expr, x: Expr) -> LinearMap:
    """``∂vec(F)/∂vec(x)ᵀ`` as a linear map (forward mode); ``J Π`` for a symmetric variable ``x``, the
    derivative on symmetric directions (``Π vec(V) = vec(sym V)``)."""
    J = _linearize(F, x)
    return compose(J, symmetric_part(x)) if is_symmetric_variable(x) and J.kind != "zero" else J


def _linearize(F: Expr, x: Expr) -> LinearMap:
    order = topological([F])
    dep = _dependents(order, x)
    J: dict[int, LinearMap] = {id(x): identity(x.shape)}
    for n in order:
        if id(n) in dep and n is not x:
            terms = [compose(local_jacobian(n, i), J[id(a)]) for i, a in enumerate(n.args)
                     if id(a) in dep and n.kind not in SHAPE_ONLY]
            J[id(n)] = total(terms, n.shape, x.shape)
    return J[id(F)] if id(F) in J else zero(F.shape, x.shape)


def unit_axes(e: Expr) -> tuple[bool, bool]:
    """Whether ``e`` is known to have one row, one column, when its full shape is not known:
    ``x'*A*x`` has both if ``x`` is declared a column vector (``var("x", (None, 1))``)."""
    known: dict[int, tuple[bool, bool]] = {}
    for n in topological([e]):
        if n.shape is not None:
            known[id(n)] = (True, True) if n.shape == () else (n.shape[0] == 1, n.shape[1] == 1)
        elif n.kind in SYMBOL_KINDS:
            declared = declared_shape(n)
            known[id(n)] = (False, False) if declared is None else (declared[0] == 1, declared[1] == 1)
        elif n.kind == "matmul":
            known[id(n)] = (known[id(n.args[0])][0], known[id(n.args[1])][1])
        elif n.kind == "transpose":
            known[id(n)] = known[id(n.args[0])][::-1]
        elif n.kind in ("add", "mul", "div"):  # a broadcast scalar operand has shape (): use the other
            sides = [known[id(a)] for a in n.args if a.shape != ()]
            known[id(n)] = (any(r for r, _ in sides), any(c for _, c in sides))
        elif n.kind in ("neg", "ew", "power", "inv", "sqrtm", "mpow"):  # square ones keep a 1×1 shape
            known[id(n)] = known[id(n.args[0])]
        else:
            known[id(n)] = (False, False)
    return known[id(e)]


SMALL_POWER = 64  # up to this k the reverse rule of A^k is the table's sum of k terms


def _scaled_identity(G: Expr) -> Expr | None:
    """``c`` when ``G = c I`` (an identity, a 1×1 matrix or a scalar times one), else ``None``."""
    c, rest = scalar_factor(G)
    if is_eye(rest) or (rest.kind == "ones" and rest.shape == (1, 1)):
        return c if c is not None else literal(1.0)
    return None


def unwind_power(A: Expr, k: int, G: Expr) -> Expr:
    """``Ā`` for ``F = A^k`` and ``F̄ = G``, in ``O(log k)`` nodes: ``A^k`` read as the product of the
    squares ``S₀ = A``, ``Sᵢ = Sᵢ₋₁ Sᵢ₋₁`` for the binary digits of ``k`` (powers of ``A`` commute), and
    reverse mode run over that product and those squares. The table's rule
    ``Σⱼ (Aʲ)ᵀ G (A^{k−1−j})ᵀ`` has ``k`` terms; this has ``O(log k)`` and evaluates in ``O(log k)``
    matrix products (the squares, built as products, are shared), and it simplifies to the same
    (``trace(X^k)`` → ``k (X^{k−1})ᵀ``)."""
    c = _scaled_identity(G)
    if c is not None:  # G commutes with A: Σⱼ (Aʲ)ᵀ G (A^{k−1−j})ᵀ = k c (A^{k−1})ᵀ
        return mul(mul(literal(float(k)), c), transpose(mpow(A, k - 1)))
    if k <= SMALL_POWER:  # the table's k terms (they keep the Hessian's forward mode small too)
        return unwind(local_jacobian(mpow(A, k), 0), G)
    squares = [A]
    while (1 << len(squares)) <= k:
        squares.append(matmul(squares[-1], squares[-1]))
    digits = [i for i in range(len(squares)) if k >> i & 1]
    factors = [squares[i] for i in digits]
    adjoint: list[Expr | None] = [None] * len(squares)
    for j, i in enumerate(digits):  # F = P_j S_i Q_j: the adjoint of S_i is P_jᵀ G Q_jᵀ
        left, right = factors[:j], factors[j + 1:]
        H = G
        if left:
            H = matmul(transpose(_product(left)), H)
        if right:
            H = matmul(H, transpose(_product(right)))
        adjoint[i] = H
    for i in range(len(squares) - 1, 0, -1):  # S_i = S_{i−1} S_{i−1}
        above, lower = adjoint[i], adjoint[i - 1]
        if above is None:
            continue
        S = transpose(squares[i - 1])
        below = add(matmul(above, S), matmul(S, above))
        adjoint[i - 1] = below if lower is None else add(lower, below)
    result = adjoint[0]
    assert result is not None, "the highest digit of k is 1: its square's adjoint reaches S₀"
    return result


def _product(factors: list[Expr]) -> Expr:
    out = factors[0]
    for f in factors[1:]:
        out = matmul(out, f)
    return out


def gradient(f: Expr, x: Expr) -> Expr:
    """``∂f/∂x`` (shape of ``x``) by reverse mode: adjoints unwound from the output down."""
    if f.shape is None and unit_axes(f) != (True, True):
        raise ShapeError(f"grad needs a scalar function, but the shape of {f} is not known; declare the shapes "
                         "of its symbols, or use value_and_grad, which takes them from the values")
    if f.shape is not None and not is_scalar_shape(f.shape):
        raise ShapeError(f"grad needs a scalar function, but {f} is {shape_text(f.shape)}; use jacobian")
    order = topological([f])
    dep = _dependents(order, x)
    adjoint: dict[int, Expr] = {id(f): literal(1.0) if f.shape == () else ones((1, 1))}
    for n in reversed(order):
        G = adjoint.get(id(n))
        if G is None or n is x or n.kind in SHAPE_ONLY:
            continue
        for i, a in enumerate(n.args):
            if id(a) in dep:
                contribution = unwind_power(a, matrix_exponent(n), G) if n.kind == "mpow" else \
                    unwind(local_jacobian(n, i), G)
                adjoint[id(a)] = contribution if id(a) not in adjoint else add(adjoint[id(a)], contribution)
    return adjoint[id(x)] if id(x) in adjoint else zeros_like(x)


class Derivative:
    """A lazy derivative ``∂vec(F)/∂vec(x)ᵀ``: ``.map`` is its Kron/Box/Outer form, ``.at(values)``
    the kronbox operator (row-major; ``order="F"`` for the column-major arrangement)."""

    def __init__(self, function: Expr, wrt: Expr, build: Callable[[Expr, Expr], LinearMap]):
        self.function, self.wrt, self._build = function, wrt, build
        # (id(F), id(x)) → (F, x, the map): F and x kept, so that their ids stay theirs
        self._maps: dict[tuple[int, int], tuple[Expr, Expr, LinearMap]] = {}
        self._core: tuple[LinearMap | None] | None = None  # symmetric_core, once worked out

    @property
    def map(self) -> LinearMap:
        return self._map_for(self.function, self.wrt)

    def _map_for(self, F: Expr, x: Expr) -> LinearMap:
        key = (id(F), id(x))
        if key not in self._maps:
            self._maps[key] = (F, x, self._build(F, x))
        return self._maps[key][2]

    @property
    def symmetric_core(self) -> LinearMap | None:
        """For the Hessian of ``f`` in a variable declared symmetric: a sum of Kron terms ``H'`` (factors in that
        variable) with ``Π H' Π`` this Hessian, its terms merged (:mod:`~kronbox.amd.differentiation.symmetric`);
        what ``amd.compile`` and ``amd.minimize`` bind and apply inside the projection. ``None`` for another
        derivative, or where the Hessian is not a sum of Kron and box terms."""
        x = self.wrt
        if self._build is not linearize_gradient or not is_symmetric_variable(x) or x.shape is None:
            return None
        if self._core is None:
            free = var(x.name, x.shape)  # the same function, every entry independent: Π H Π is the same
            f = substitute(self.function, {x: free})
            self._core = (merged_map(linearize(gradient(f, free), free), free, into=x),)
        return self._core[0]

    def at(self, values: dict[str, Any] | None = None, order: str = "C", simplify: bool = True,
           **named: Any) -> operators.Operator:
        """The derivative at ``values`` as a lazy kronbox operator (factors evaluated once)."""
        values = {**(values or {}), **named}
        arrays = bound_values([self.function], values)
        F, x = specialize([self.function, self.wrt], arrays)
        return to_operator(self._map_for(F, x), values, order=order, simplify=simplify)

    def __str__(self) -> str:
        return str(self.map)

    def _repr_latex_(self) -> str:
        """The derivative's map as LaTeX math, which a notebook typesets."""
        return self.map._repr_latex_()

    def __repr__(self) -> str:
        return f"<Derivative of {self.function} with respect to {self.wrt}: {self.map}>"


def linearize_gradient(f: Expr, x: Expr) -> LinearMap:
    """The Hessian's map: the Jacobian of the gradient (a module function, so that a Derivative pickles);
    ``Π H Π`` for a symmetric variable."""
    G = gradient(f, x)
    if is_symmetric_variable(x):
        return compose(symmetric_part(x), linearize(G, x))
    return linearize(G, x)


def jacobian(F: Expr, wrt: str | Expr) -> Derivative:
    """The Jacobian of ``F`` with respect to ``wrt``, lazy (forward mode)."""
    return Derivative(F, find_symbol(F, wrt), linearize)


CONVENTIONS = ("sym", "triangle")


def grad(f: Expr, wrt: str | Expr, *, convention: str = "sym") -> Expr:
    """The gradient of the scalar ``f`` with respect to ``wrt``: a matrix expression (reverse mode).

    For a variable declared symmetric (``var(…, symmetric=True)``) the gradient ``G`` with every entry
    independent is taken onto the symmetric matrices: ``convention="sym"`` gives ``sym(G) = (G + Gᵀ)/2``, the
    Frobenius-consistent gradient (``⟨sym G, V⟩`` is the derivative along a symmetric ``V``; what gradient
    descent and :func:`~kronbox.amd.minimize` use); ``"triangle"`` gives the Matrix Cookbook's
    ``G + Gᵀ − I ∘ G``, the derivatives with respect to the entries of one triangle."""
    if convention not in CONVENTIONS:
        raise ValueError(f"grad: convention is one of {', '.join(map(repr, CONVENTIONS))}, not {convention!r}")
    x = find_symbol(f, wrt)
    G = gradient(f, x)
    if not is_symmetric_variable(x):
        return G
    if convention == "triangle":
        return _triangle(G)
    return G if known_symmetric(G) else mul(literal(0.5), add(G, transpose(G)))


def _triangle(G: Expr) -> Expr:
    """``G + Gᵀ − I ∘ G``."""
    return add(add(G, transpose(G)), neg(mul(eye_like(G, 0), G)))


def hessian(f: Expr, wrt: str | Expr) -> Derivative:
    """The Hessian of the scalar ``f``: the Jacobian of its gradient, a lazy symmetric operator."""
    return Derivative(f, find_symbol(f, wrt), linearize_gradient)


def value_and_grad(f: Expr, wrt: str | Expr, values: dict[str, Any] | None = None, **named: Any) -> tuple[Any, Any]:
    """``(f, ∂f/∂wrt)`` at ``values``, evaluated together so that shared work is done once: a number and an
    array of the shape of ``wrt`` (arrays of the values' library when they are not numpy's)."""
    values = {**(values or {}), **named}
    f, = specialize([f], bound_values([f], values))
    value, gradient_value = evaluate([f, grad(f, wrt)], values)
    return value, gradient_value

"""Matrix functions and decompositions as expression nodes: ``expm``, ``logm``, real powers, ``eigvalsh``,
``eigvecs``, ``cholesky``, ``diag`` / ``diagm``, and the Fréchet derivatives of the matrix functions.

A *matrix function* ``f(X)`` (``expm``, ``logm``, ``X^p`` for a real ``p``) extends a scalar function to
square matrices; for a symmetric ``X = Q diag(λ) Qᵀ`` it is ``Q diag(f(λ)) Qᵀ``. Its derivative is the
Fréchet derivative ``L_f(X)[E]`` (``f(X + E) = f(X) + L_f(X)[E] + o(‖E‖)``), itself a node, ``dexpm(X, E)``,
so that the chain of derivatives closes: the ``k``-th derivative is ``L_f^{(k)}(X)[E₁, …, E_k]`` (written
``dexpm(X, E₁, …, E_k)``), symmetric in the directions, and

- ``∂/∂E_k``: the map ``U ↦ L^{(k)}(X)[E₁, …, E_{k−1}, U]``, whose transpose (Frobenius inner product) is
  ``G ↦ L^{(k)}(Xᵀ)[E₁ᵀ, …, E_{k−1}ᵀ, G]`` (``f`` has real coefficients, so ``f(X)ᵀ = f(Xᵀ)``);
- ``∂/∂X``: the map ``U ↦ L^{(k+1)}(X)[E₁, …, E_k, U]``.

For symmetric ``X`` the first derivative is the Daleckii–Krein formula
``L_f(X)[E] = Q (Φ ∘ (Qᵀ E Q)) Qᵀ`` with the divided differences ``Φᵢⱼ = (f(λᵢ) − f(λⱼ)) / (λᵢ − λⱼ)``,
``Φᵢᵢ = f'(λᵢ)``; for any ``X``, ``L^{(k)}`` is the top right block of ``f`` of a block upper triangular
matrix of size ``2ᵏ n`` (Mathias; Higham & Relton), and ``expm``'s first one is scipy's ``expm_frechet``.

The decompositions of a symmetric ``X`` are differentiated as functions on symmetric matrices (the
direction ``dX`` enters through ``sym(dX) = (dX + dXᵀ)/2``, as JAX and PyTorch do, so gradients are
symmetric): ``dλᵢ = qᵢᵀ dX qᵢ``, ``dQ = Q (Ω ∘ Qᵀ dX Q)`` with ``Ωᵢⱼ = 1/(λⱼ − λᵢ)`` off the diagonal
(repeated eigenvalues: the derivative does not exist), and for ``X = L Lᵀ``,
``dL = L (M ∘ L⁻¹ dX L⁻ᵀ)`` with ``M`` ones below the diagonal and ``½`` on it.
"""

from __future__ import annotations

from kronbox.amd.expressions.expr import (
    BUILDERS,
    PARAMETRIC_BUILDERS,
    Expr,
    Shape,
    ShapeError,
    _clash,
    _square,
    add,
    as_expr,
    div,
    elementwise,
    eye_like,
    inv,
    is_eye,
    literal,
    matmul,
    mpow,
    mul,
    neg,
    node,
    ones_like,
    scalar_factor,
    shape_text,
    transpose,
)


def derivative_at_identity(param: tuple, X: Expr) -> Expr:
    """``L_f(X)[I] = f'(X)``: ``expm(X)``, ``inv(X)``, ``p X^(p−1)``; at ``Xᵀ`` the transpose of the one at ``X``
    (``f'(Xᵀ) = f'(X)ᵀ``), so that a gradient shares ``f(X)`` with the function."""
    if X.kind == "transpose":
        return transpose(derivative_at_identity(param, X.args[0]))
    if param[0] == "expm":
        return expm(X)
    if param[0] == "logm":
        return inv(X)
    return mul(literal(param[1]), matrix_power(X, param[1] - 1.0))


def _matrix_function(param: tuple, a: Expr) -> Expr:
    if param[0] == "pow":
        return mpow(a, param[1])
    shape = _square(a, lambda: f"{param[0]}({a})")
    if a.shape == ():
        raise ShapeError(f"{param[0]}({a}): needs a square matrix, {a} is a scalar")
    return node("matfun", (a,), param, shape)


def _call_text(param: tuple) -> str:
    return param[0] if param[0] != "pow" else f"X^{param[1]}"


def expm(a) -> Expr:
    """The matrix exponential ``exp(X) = Σₖ Xᵏ/k!`` of a square matrix."""
    a = as_expr(a)
    if a.shape == ():
        return elementwise("exp", a)
    return _matrix_function(("expm",), a)


def logm(a) -> Expr:
    """The principal matrix logarithm (``expm(logm(X)) = X``); ``X`` has no eigenvalue on the closed
    negative real axis."""
    a = as_expr(a)
    if a.shape == ():
        return elementwise("log", a)
    return _matrix_function(("logm",), a)


def matrix_power(a, p) -> Expr:
    """``X^p`` for any real ``p``: integer powers through products (:func:`~kronbox.amd.expressions.expr.mpow`),
    ``±½`` through ``sqrtm``, any other ``p`` the principal power ``expm(p logm(X))`` (for a symmetric positive
    definite ``X``: ``Q diag(λᵖ) Qᵀ``)."""
    return mpow(as_expr(a), p)


def frechet(param: tuple, a: Expr, *directions: Expr) -> Expr:
    """``L_f^{(k)}(X)[E₁, …, E_k]``, the ``k``-th Fréchet derivative of the matrix function ``param`` at
    ``X = a`` (``k = len(directions) ≥ 1``); ``L_f(X)[I] = f'(X)`` is folded."""
    shape = _square(a, lambda: f"d{_call_text(param)}({a}, …)")
    for E in directions:
        if shape is not None and E.shape is not None and E.shape != shape:
            raise _clash(f"the Fréchet derivative of {_call_text(param)} at {a}", [(a, shape), (E, E.shape)],
                         "the directions have the shape of the matrix")
    if len(directions) == 1 and is_eye(directions[0]):
        return derivative_at_identity(param, a)
    if len(directions) == 1:
        c, rest = scalar_factor(directions[0])
        if c is not None:
            return mul(c, frechet(param, a, rest))
    return node("frechet", (a, *directions), param, shape)


def diag(a) -> Expr:
    """The diagonal of a square matrix as a column, ``diag(X)ᵢ = Xᵢᵢ``."""
    a = as_expr(a)
    if a.shape == ():
        return a
    shape = _square(a, lambda: f"diag({a})")
    if a.kind == "diagm":
        return a.args[0]
    if a.kind == "transpose":
        return diag(a.args[0])
    c, rest = scalar_factor(a)
    if c is not None:
        return mul(c, diag(rest))
    return node("diag", (a,), None, None if shape is None else (shape[0], 1))


def diagm(a) -> Expr:
    """The diagonal matrix of a column, ``diagm(x)ᵢᵢ = xᵢ``."""
    a = as_expr(a)
    if a.shape == ():
        return a
    if a.shape is not None and a.shape[1] != 1:
        raise ShapeError(f"diagm({a}): needs a column vector, but {a} is {shape_text(a.shape)}")
    c, rest = scalar_factor(a)
    if c is not None:
        return mul(c, diagm(rest))
    return node("diagm", (a,), None, None if a.shape is None else (a.shape[0], a.shape[0]))


def _symmetric_argument(a: Expr, what: str) -> Shape:
    shape = _square(a, lambda: f"{what}({a})")
    if a.shape == ():
        raise ShapeError(f"{what}({a}): needs a symmetric matrix, {a} is a scalar")
    return shape


def eigvalsh(a) -> Expr:
    """The eigenvalues of a symmetric matrix, ascending, as a column."""
    a = as_expr(a)
    shape = _symmetric_argument(a, "eigvalsh")
    return node("eigvalsh", (a,), None, None if shape is None else (shape[0], 1))


def eigvecs(a, *, distinct: bool = False) -> Expr:
    """The orthonormal eigenvectors of a symmetric matrix as columns, in the order of :func:`eigvalsh`.
    ``distinct=True`` (the node derivatives use) requires distinct eigenvalues when evaluated."""
    a = as_expr(a)
    shape = _symmetric_argument(a, "eigvecs")
    return node("eigvecs", (a,), "distinct" if distinct else None, shape)


def eigh(a) -> tuple[Expr, Expr]:
    """``(eigvalsh(X), eigvecs(X))``: ``X = Q diag(λ) Qᵀ``."""
    a = as_expr(a)
    return eigvalsh(a), eigvecs(a)


def cholesky(a) -> Expr:
    """The lower triangular ``L`` with positive diagonal and ``L Lᵀ = X``, for a symmetric positive definite ``X``."""
    a = as_expr(a)
    shape = _symmetric_argument(a, "chol")
    return node("cholesky", (a,), None, shape)


def trilhalf_like(a: Expr) -> Expr:
    """The mask of the Cholesky derivative, of ``a``'s size: ones below the diagonal, ``½`` on it, zeros above."""
    return node("trilhalf_like", (a,), None, a.shape)


def gap_inverse(lam: Expr) -> Expr:
    """``Ωᵢⱼ = 1/(λⱼ − λᵢ)`` off the diagonal, ``0`` on it, for a column ``λ``: ``1 ./ (1 λᵀ − λ 1ᵀ + I) − I``."""
    one = ones_like(lam)
    gaps = add(matmul(one, transpose(lam)), neg(matmul(lam, transpose(one))))
    I = eye_like(gaps, 0)
    return add(div(literal(1.0), add(gaps, I)), neg(I))


BUILDERS.update({"diag": diag, "diagm": diagm, "eigvalsh": eigvalsh, "cholesky": cholesky,
                 "trilhalf_like": trilhalf_like})
PARAMETRIC_BUILDERS.update({
    "matfun": lambda param, a: _matrix_function(param, a),
    "frechet": lambda param, a, *es: frechet(param, a, *es),
    "eigvecs": lambda param, a: eigvecs(a, distinct=param == "distinct"),
})

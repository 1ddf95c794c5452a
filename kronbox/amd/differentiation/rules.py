"""The derivative table: one rule per primitive, ``LOCAL[kind](F, i)`` = ``∂F/∂(argument i)``.

Each rule returns the local Jacobian as a :class:`~kronbox.amd.expressions.linear_map.LinearMap` on row-major
``vec`` (the AMD table, docs/derivatives.md): forward mode composes them (the chain rule), reverse mode
applies their transposes to the adjoint by the unwinding rule (:func:`~kronbox.amd.expressions.linear_map.unwind`),
so the table is written once for both.

====================  =====================================================
``F``                 ``∂F/∂A`` (and ``∂F/∂B``)
====================  =====================================================
``A + B``             ``I`` (a broadcast scalar: ``vec(1)``)
``A B``               ``I ⊗ Bᵀ``, ``A ⊗ I``
``A ∘ B``             ``diag(vec B)``, ``diag(vec A)`` (a scalar factor: ``vec(B)``, ``a I``)
``A / B``             ``diag(vec 1/B)``, ``−diag(vec F/B)``
``Aᵀ``                ``I ⊠ I``
``A⁻¹``               ``−F ⊗ Fᵀ``
``A^k``               ``Σᵢ Aⁱ ⊗ (A^{k−1−i})ᵀ``
``A^{1/2}``           ``(F ⊗ I + I ⊗ Fᵀ)⁻¹``
``trace(A)``          ``vec(I)ᵀ``
``det(A)``            ``F vec(A⁻ᵀ)ᵀ``;  ``logdet(A)``: ``vec(A⁻ᵀ)ᵀ``
``sum(A)``            ``vec(1)ᵀ``;  ``‖A‖²``: ``2 vec(A)ᵀ``;  ``‖A‖``: ``vec(A/F)ᵀ``
``f∘(A)``             ``diag(vec f'(A))``
``Z = sylv(A, B, C)`` ``(A ⊗ I + I ⊗ Bᵀ)⁻¹ (vec dC − (I ⊗ Zᵀ) vec dA − (Z ⊗ I) vec dB)``
====================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable

from kronbox.amd.expressions.budget import check_terms
from kronbox.amd.expressions.elementwise import FUNCTIONS, power_derivative
from kronbox.amd.expressions.expr import (
    SHAPE_ONLY,
    Expr,
    div,
    eye_like,
    function_name,
    inv,
    is_scalar_shape,
    literal,
    matrix_exponent,
    matrix_function_of,
    mpow,
    neg,
    ones,
    ones_like,
    power_exponent,
    softmax,
    transpose,
)
from kronbox.amd.expressions.linear_map import (
    LinearMap,
    box,
    compose,
    diag,
    frechet_map,
    identity,
    kron,
    kronsum_inverse,
    negate,
    outer,
    scaled,
    slot_map,
    symmetric_part,
    total,
    zero,
)
from kronbox.amd.expressions.spectral import eigvalsh, eigvecs, gap_inverse, trilhalf_like


def _broadcast(F: Expr, arg: Expr) -> bool:
    """True when ``arg`` is a scalar that ``F`` spreads over a larger shape."""
    return is_scalar_shape(arg.shape) and not is_scalar_shape(F.shape) and F.shape is not None


def _scalar_arg_map(F: Expr, arg: Expr, D: Expr) -> LinearMap:
    """``∂F/∂arg`` for ``F = D ∘ arg`` entrywise: ``vec(D)`` if ``arg`` is a broadcast scalar."""
    if _broadcast(F, arg):
        return outer(D, literal(1.0) if arg.shape == () else ones((1, 1)))
    if is_scalar_shape(D.shape) and not is_scalar_shape(arg.shape):
        return scaled(D, identity(arg.shape))
    return diag(D)


def _add(F: Expr, i: int) -> LinearMap:
    arg = F.args[i]
    return outer(ones_like(F), literal(1.0)) if _broadcast(F, arg) else identity(arg.shape)


def _mul(F: Expr, i: int) -> LinearMap:
    return _scalar_arg_map(F, F.args[i], F.args[1 - i])


def _div(F: Expr, i: int) -> LinearMap:
    A, B = F.args
    if i == 0:
        return _scalar_arg_map(F, A, div(literal(1.0), B))
    return _scalar_arg_map(F, B, neg(div(F, B)))


def _matmul(F: Expr, i: int) -> LinearMap:
    A, B = F.args
    return kron(eye_like(A, 0), transpose(B)) if i == 0 else kron(A, eye_like(B, 1))


def _power(F: Expr, k: int) -> LinearMap:
    A = F.args[0]
    check_terms(k, f"the Jacobian of A^k (k = {k})")
    terms = [kron(mpow(A, j), transpose(mpow(A, k - 1 - j))) for j in range(k)]
    return total(terms, A.shape, A.shape)


def _sylvester(F: Expr, i: int) -> LinearMap:
    A, B, _ = F.args
    solve = kronsum_inverse(A, transpose(B))
    if i == 2:
        return solve
    inner = kron(eye_like(A, 0), transpose(F)) if i == 0 else kron(F, eye_like(B, 1))
    return negate(compose(solve, inner))


def _elementwise(F: Expr, i: int) -> LinearMap:
    return diag(FUNCTIONS[function_name(F)].derivative(F, F.args[0]))


def _trace(F: Expr, i: int) -> LinearMap:
    return outer(literal(1.0), eye_like(F.args[0], 0))


LOCAL: dict[str, Callable[[Expr, int], LinearMap]] = {
    "add": _add,
    "neg": lambda F, i: negate(identity(F.shape)),
    "mul": _mul,
    "div": _div,
    "matmul": _matmul,
    "transpose": lambda F, i: box(eye_like(F.args[0], 1), eye_like(F.args[0], 0)),
    "inv": lambda F, i: negate(kron(F, transpose(F))),
    "mpow": lambda F, i: _power(F, matrix_exponent(F)),
    "sqrtm": lambda F, i: kronsum_inverse(F, transpose(F)),
    "trace": _trace,
    "det": lambda F, i: outer(F, transpose(inv(F.args[0]))),
    "logdet": lambda F, i: outer(literal(1.0), transpose(inv(F.args[0]))),
    "sum": lambda F, i: outer(literal(1.0), ones_like(F.args[0])),
    "normsq": lambda F, i: outer(literal(2.0), F.args[0]),
    "norm": lambda F, i: outer(literal(1.0), div(F.args[0], F)),
    "ew": _elementwise,
    "power": lambda F, i: _scalar_arg_map(F, F.args[0], power_derivative(F, F.args[0], power_exponent(F))),
    "sylvester": _sylvester,
    # ∇ logsumexp(a) = softmax(a); ∂softmax(a) = diag(vec p) − vec(p) vec(p)ᵀ with p = softmax(a)
    "logsumexp": lambda F, i: outer(literal(1.0), softmax(F.args[0])),
    "softmax": lambda F, i: total([diag(F), negate(outer(F, F))], F.shape, F.shape),
    # Z = A⁻¹B: dZ = −A⁻¹ dA Z + A⁻¹ dB, so ∂Z/∂A = −(A⁻¹ ⊗ Zᵀ) and ∂Z/∂B = A⁻¹ ⊗ I
    "solve": lambda F, i: negate(kron(inv(F.args[0]), transpose(F))) if i == 0 else kron(inv(F.args[0]),
                                                                                          eye_like(F.args[1], 1)),
}


def _diagonal(F: Expr, i: int) -> LinearMap:
    """``diag(X)``: ``vec(X) ↦ (X ∘ I) 1``, the diagonal as a column."""
    return compose(kron(eye_like(F.args[0], 0), transpose(ones_like(F))), diag(eye_like(F.args[0], 0)))


def _diagonal_matrix(F: Expr, i: int) -> LinearMap:
    """``diagm(x)``: ``vec(x) ↦ vec(I ∘ (x 1ᵀ))``."""
    return compose(diag(eye_like(F, 0)), kron(eye_like(F, 0), ones_like(F.args[0])))


def _eigenvalues(F: Expr, i: int) -> LinearMap:
    """``dλᵢ = qᵢᵀ dX qᵢ``: ``diag(Qᵀ dX Q)``."""
    X = F.args[0]
    Q = eigvecs(X, distinct=True)
    I = eye_like(X, 0)
    return compose(kron(I, transpose(ones_like(F))), diag(I), kron(transpose(Q), transpose(Q)))


def _eigenvectors(F: Expr, i: int) -> LinearMap:
    """``dQ = Q (Ω ∘ Qᵀ sym(dX) Q)``, ``Ωᵢⱼ = 1/(λⱼ − λᵢ)`` off the diagonal."""
    X = F.args[0]
    Q = eigvecs(X, distinct=True)
    omega = gap_inverse(eigvalsh(X))
    return compose(kron(Q, eye_like(X, 0)), diag(omega), kron(transpose(Q), transpose(Q)), symmetric_part(X))


def _cholesky(F: Expr, i: int) -> LinearMap:
    """``dL = L (M ∘ L⁻¹ sym(dX) L⁻ᵀ)``, ``M`` ones below the diagonal and ``½`` on it."""
    X, Linv = F.args[0], inv(F)
    return compose(kron(F, eye_like(X, 0)), diag(trilhalf_like(X)), kron(Linv, Linv), symmetric_part(X))


def _frechet(F: Expr, i: int) -> LinearMap:
    """``L⁽ᵏ⁾(X)[E₁, …, E_k]``: in ``X`` the next derivative, in ``Eᵢ`` the same one with ``Eᵢ`` the free slot."""
    X, directions = F.args[0], F.args[1:]
    fixed = directions if i == 0 else directions[:i - 1] + directions[i:]
    return frechet_map(matrix_function_of(F), X, fixed)


def _slot(F: Expr, i: int) -> LinearMap:
    """A node bilinear in its arguments: its derivative in one is itself with that argument free."""
    return slot_map(F.kind, F.param, i, F.args[:i] + F.args[i + 1:], F.args[i].shape, F.shape)


LOCAL.update({
    "kron": _slot,
    "kronfactor": _slot,
    "matfun": lambda F, i: frechet_map(matrix_function_of(F), F.args[0]),
    "frechet": _frechet,
    "eigvalsh": _eigenvalues,
    "eigvecs": _eigenvectors,
    "cholesky": _cholesky,
    "diag": _diagonal,
    "diagm": _diagonal_matrix,
})


for _kind in SHAPE_ONLY:  # I, ones and zeros of another node's size: constant
    LOCAL[_kind] = lambda F, i: zero(F.shape, F.args[i].shape)


def local_jacobian(F: Expr, i: int) -> LinearMap:
    """``∂F/∂(argument i)`` of the node ``F``, from the table."""
    return LOCAL[F.kind](F, i)


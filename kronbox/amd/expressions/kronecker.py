"""The Kronecker product inside formulas, ``kron(A, B) = A ⊗ B``, and its adjoint, ``kronfactor``.

``A ⊗ B`` (``A`` of shape ``m₁×n₁``, ``B`` of shape ``m₂×n₂``) has the entries
``(A ⊗ B)_{(i k),(j l)} = A_{ij} B_{kl}`` (row-major pairs, ``(i k) = i m₂ + k``). It is bilinear: its
derivative in ``A`` is ``U ↦ U ⊗ B`` and in ``B`` is ``U ↦ A ⊗ U``. Their transposes (reverse mode) contract a
matrix ``G`` of the product's shape with the other factor, which is the node

    ``kronfactor(G, B, 1)_{ij} = Σ_{kl} G_{(i k),(j l)} B_{kl}``,
    ``kronfactor(G, A, 2)_{kl} = Σ_{ij} G_{(i k),(j l)} A_{ij}``

(``kronfactor(A ⊗ B, B, 1) = ‖B‖² A``), itself bilinear, with the transposes
``⟨W, kronfactor(U, M, 1)⟩ = ⟨W ⊗ M, U⟩`` and ``⟨W, kronfactor(G, V, 1)⟩ = ⟨kronfactor(G, W, 2), V⟩``
(and the same with 1 and 2 exchanged). Each derivative of these two nodes is therefore one of them with one
argument left free: a *slot map* (:func:`slot_adjoint` gives its transpose, another slot map), so that
Jacobians, gradients and Hessians through ``kron`` close over the two kinds.
"""

from __future__ import annotations

from kronbox.amd.expressions.expr import BUILDERS, PARAMETRIC_BUILDERS, Expr, ShapeError, as_expr, mul, node

SLOT_KINDS = ("kron", "kronfactor")


def kron(a, b) -> Expr:
    """``A ⊗ B``: the Kronecker product as a matrix (a scalar factor scales the other)."""
    a, b = as_expr(a), as_expr(b)
    if a.shape == () or b.shape == ():
        return mul(a, b)
    shape = None if a.shape is None or b.shape is None else (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])
    return node("kron", (a, b), None, shape)


def kronfactor(g, m, k: int) -> Expr:
    """``k = 1``: ``Σ_{kl} G_{(i k),(j l)} M_{kl}`` (the first factor's shape, ``M`` the second factor's);
    ``k = 2``: ``Σ_{ij} G_{(i k),(j l)} M_{ij}`` (the second factor's shape, ``M`` the first's)."""
    g, m = as_expr(g), as_expr(m)
    if k not in (1, 2):
        raise ValueError(f"kronfactor(G, M, k): k is 1 or 2, not {k!r}")
    if g.shape == () or m.shape == ():
        raise ShapeError(f"kronfactor({g}, {m}, {k}): G and M are matrices")
    shape = None
    if g.shape is not None and m.shape is not None:
        (p, q), (r, s) = g.shape, m.shape
        if p % r or q % s:
            raise ShapeError(f"kronfactor({g}, {m}, {k}): {g} is {p}×{q}, not a Kronecker product with a {r}×{s} "
                             "factor (the sizes do not divide)")
        shape = (p // r, q // s)
    return node("kronfactor", (g, m), k, shape)


def factor_index(e: Expr) -> int:
    """``k`` of a ``kronfactor`` node."""
    k = e.param
    if e.kind != "kronfactor" or k not in (1, 2):
        raise TypeError(f"a {e.kind} node with parameter {k!r} where kronfactor's 1 or 2 was expected")
    return int(k)


def build_slot(kind: str, param, args: tuple[Expr, ...]) -> Expr:
    """The node ``kind(*args)`` (``kronfactor``'s ``k`` in ``param``)."""
    if kind == "kron":
        return kron(*args)
    g, m = args
    return kronfactor(g, m, param)


def slot_adjoint(kind: str, param, slot: int, others: tuple[Expr, ...]) -> tuple[str, object, int, tuple[Expr, ...]]:
    """The transpose of the slot map ``U ↦ kind(args with U at slot)`` as another slot map
    ``(kind, param, slot, others)``, from the rules of the module docstring."""
    (other,) = others
    if kind == "kron":  # U ↦ U ⊗ B: G ↦ kronfactor(G, B, 1); U ↦ A ⊗ U: G ↦ kronfactor(G, A, 2)
        return "kronfactor", slot + 1, 0, (other,)
    if slot == 0:  # U ↦ kronfactor(U, M, k): W ↦ W ⊗ M (k = 1) or M ⊗ W (k = 2)
        return "kron", None, 0 if param == 1 else 1, (other,)
    return "kronfactor", 3 - param, 1, (other,)  # V ↦ kronfactor(G, V, k): W ↦ kronfactor(G, W, 3 − k)


def kron_value(xp, A, B):
    """``A ⊗ B`` in the namespace ``xp`` (numpy's or another library's); a stack of matrices in either argument
    (leading axes) gives the stack of products."""
    (m1, n1), (m2, n2) = A.shape[-2:], B.shape[-2:]
    product = A[..., :, None, :, None] * B[..., None, :, None, :]
    return xp.reshape(product, (*product.shape[:-4], m1 * m2, n1 * n2))


def kronfactor_value(xp, G, M, k: int):
    """:func:`kronfactor` in the namespace ``xp`` (stacks of matrices as :func:`kron_value`)."""
    (p, q), (r, s) = G.shape[-2:], M.shape[-2:]
    if k == 1:
        return xp.sum(xp.reshape(G, (*G.shape[:-2], p // r, r, q // s, s)) * M[..., None, :, None, :], axis=(-3, -1))
    return xp.sum(xp.reshape(G, (*G.shape[:-2], r, p // r, s, q // s)) * M[..., :, None, :, None], axis=(-4, -2))


def slot_value(xp, kind: str, param, args: tuple):
    """The value of ``kind(*args)`` from arrays."""
    if kind == "kron":
        return kron_value(xp, *args)
    G, M = args
    return kronfactor_value(xp, G, M, param)


BUILDERS["kron"] = kron
PARAMETRIC_BUILDERS["kronfactor"] = lambda k, g, m: kronfactor(g, m, k)

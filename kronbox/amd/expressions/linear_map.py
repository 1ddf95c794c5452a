"""Linear maps whose factors are matrix expressions: the symbolic form of Jacobians and Hessians.

A :class:`LinearMap` acts on ``vec(dX)`` (row-major) and is built from the same pieces as the
kronbox operators, with expressions as factors: ``A ⊗ B``, ``A ⊠ B``, ``vec(U) vec(V)ᵀ``,
``diag(vec D)``, ``c · L``, sums, compositions, the identity, zero, ``(A ⊗ I + I ⊗ B)⁻¹``, and the
Fréchet derivative ``L_f(X)`` of a matrix function (``expm``, ``logm``, real powers).
Two actions turn a map back into matrix expressions without ever forming it:

- ``apply(L, U)``: ``vec⁻¹(L vec U)``, e.g. ``(A ⊗ B) vec U = vec(A U Bᵀ)``;
- ``unwind(L, G)``: ``vec⁻¹(Lᵀ vec G)``, the unwinding rule of reverse mode,
  ``vecᵀ(G)(A ⊗ B) = vecᵀ(Aᵀ G B)`` and ``vecᵀ(G)(A ⊠ B) = vecᵀ(Bᵀ Gᵀ A)``.

Compositions fold as they are built: identities vanish, scalars move to the front, adjacent
Kron/Box factors merge by the mixed-product rules (``(A⊗B)(C⊗D) = AC ⊗ BD``,
``(A⊠B)(C⊠D) = AD ⊗ BC``, ``(A⊗B)(C⊠D) = AC ⊠ BD``, ``(A⊠B)(C⊗D) = AD ⊠ BC``), and an outer
product absorbs its neighbours (``vec(U) vec(V)ᵀ L = vec(U) vec(unwind(L, V))ᵀ``).
``at(values)`` evaluates every factor once and returns the lazy kronbox operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kronbox import services
from kronbox.amd.expressions.budget import check_terms
from kronbox.amd.expressions.expr import (
    Expr,
    add,
    eye,
    eye_like,
    inner,
    is_literal,
    is_zero,
    literal,
    matmul,
    mul,
    shape_text,
    sylvester,
    transpose,
    zeros,
)
from kronbox.amd.expressions.kronecker import build_slot, slot_adjoint
from kronbox.amd.expressions.spectral import diagm, frechet

if TYPE_CHECKING:
    from kronbox import operators

MatrixShape = tuple[int, int] | None


def _as_matrix_shape(shape) -> MatrixShape:
    return None if shape is None else (1, 1) if shape == () else shape


class LinearMap:
    """A node of a linear-map expression (``kind`` and ``args``; matrix shapes read and written)."""

    kind: str
    # what ``args`` holds depends on the kind: the factors (expressions) of ⊗, ⊠, outer, diag and the
    # Kronecker sum, the terms (maps) of a sum or a composition, ``(c, L)`` for ``c · L``
    args: tuple[Any, ...]
    in_shape: MatrixShape
    out_shape: MatrixShape

    __slots__ = ("args", "in_shape", "kind", "out_shape", "param")

    def __init__(self, kind: str, args: tuple, in_shape, out_shape, param=None):
        self.kind, self.args, self.param = kind, args, param
        self.in_shape, self.out_shape = _as_matrix_shape(in_shape), _as_matrix_shape(out_shape)

    def factors(self) -> list[Expr]:
        """Every matrix expression the map is made of (for evaluating them together)."""
        out: list[Expr] = []
        for a in self.args:
            out.extend(a.factors() if isinstance(a, LinearMap) else [a])
        return out

    def at(self, values: dict[str, Any], order: str = "C", simplify: bool = True) -> operators.Operator:
        """The lazy kronbox operator of this map, its factors evaluated at ``values`` (row-major;
        ``order="F"`` for the column-major arrangement)."""
        return services.call("amd.to_operator", self, values, order=order, simplify=simplify)

    def __str__(self) -> str:
        """The readable form, every factor simplified (``amd.to_format(L)``); ``amd.map_text(L)`` prints
        the map as it is built."""
        return services.call("amd.to_format", self)

    def _repr_latex_(self) -> str:
        """The simplified map in Kron/Box notation as LaTeX math, which a notebook typesets."""
        return f"${services.call('amd.to_format', self, 'latex')}$"

    def __repr__(self) -> str:
        return f"<LinearMap {self} : {shape_text(self.out_shape)} ← {shape_text(self.in_shape)}>"


# -- constructors --------------------------------------------------------------------------------------
def identity(shape) -> LinearMap:
    return LinearMap("identity", (), shape, shape)


def zero(out_shape, in_shape) -> LinearMap:
    return LinearMap("zero", (), in_shape, out_shape)


def _dims(A: Expr) -> tuple:
    s = _as_matrix_shape(A.shape)
    return (None, None) if s is None else s


def kron(A: Expr, B: Expr) -> LinearMap:
    """``A ⊗ B``: ``vec(X) ↦ vec(A X Bᵀ)``."""
    (m1, n1), (m2, n2) = _dims(A), _dims(B)
    return _unless_zero(LinearMap("kron", (A, B), _pair(n1, n2), _pair(m1, m2)))


def box(A: Expr, B: Expr) -> LinearMap:
    """``A ⊠ B``: ``vec(X) ↦ vec(A Xᵀ Bᵀ)``."""
    (m1, n1), (m2, n2) = _dims(A), _dims(B)
    return _unless_zero(LinearMap("box", (A, B), _pair(n2, n1), _pair(m1, m2)))


def _unless_zero(M: LinearMap) -> LinearMap:
    """``M``, or the zero map where a factor of ``M`` is zero and its shapes are known."""
    if M.in_shape is not None and M.out_shape is not None and any(is_zero(a) for a in M.args):
        return zero(M.out_shape, M.in_shape)
    return M


def _pair(a, b):
    return None if a is None or b is None else (a, b)


def outer(U: Expr, V: Expr) -> LinearMap:
    """``vec(U) vec(V)ᵀ``: ``vec(X) ↦ ⟨V, X⟩ vec(U)``."""
    return _unless_zero(LinearMap("outer", (U, V), V.shape, U.shape))


def diag(D: Expr) -> LinearMap:
    """``diag(vec D)``: ``vec(X) ↦ vec(D ∘ X)``."""
    return _unless_zero(LinearMap("diag", (D,), D.shape, D.shape))


def kronsum_inverse(A: Expr, B: Expr) -> LinearMap:
    """``(A ⊗ I + I ⊗ B)⁻¹``: ``vec(C) ↦ vec(Z)`` with ``A Z + Z Bᵀ = C``."""
    shape = _pair(_dims(A)[0], _dims(B)[0])
    return LinearMap("kronsum_inv", (A, B), shape, shape)


def slot_map(kind: str, param, slot: int, others: tuple[Expr, ...], in_shape, out_shape) -> LinearMap:
    """``vec(U) ↦ vec(kind(args with U at slot))`` for a node bilinear in its arguments (``kron``, ``kronfactor``:
    :mod:`kronbox.amd.expressions.kronecker`); ``others`` are the arguments that stay."""
    return LinearMap("slot", others, in_shape, out_shape, (kind, param, slot))


def _slot_args(L: LinearMap, U: Expr) -> tuple[Expr, ...]:
    slot = L.param[2]
    return (*L.args[:slot], U, *L.args[slot:])


def slot_transpose(L: LinearMap) -> LinearMap:
    """The transpose of a slot map, another slot map (:func:`kronbox.amd.expressions.kronecker.slot_adjoint`)."""
    kind, param, slot = L.param
    return slot_map(*slot_adjoint(kind, param, slot, L.args), L.out_shape, L.in_shape)


def symmetric_part(X: Expr) -> LinearMap:
    """``Π``: ``vec(V) ↦ vec(sym V)``, ``sym V = (V + Vᵀ)/2`` on ``X``'s shape, written ``½ (I + I ⊠ I)``."""
    I = eye_like(X, 0)
    return scaled(literal(0.5), total([identity(X.shape), box(I, I)], X.shape, X.shape))


def frechet_map(param: tuple, X: Expr, fixed: tuple[Expr, ...] = ()) -> LinearMap:
    """``vec(U) ↦ vec(L_f^{(k)}(X)[E₁, …, E_{k−1}, U])`` for the matrix function ``param`` (``fixed`` holds
    ``E₁, …, E_{k−1}``; none: the first derivative ``L_f(X)``), :mod:`kronbox.amd.expressions.spectral`."""
    return LinearMap("frechet", (X, *fixed), X.shape, X.shape, param)


def column_matrix(M: LinearMap) -> Expr | None:
    """The matrix ``C`` with ``M vec(x) = C x``, when ``M`` maps column vectors to column vectors and is
    made of terms that are matrices there (``A ⊗ 1 = A``, ``a ⊠ b = a b`` for a column ``a`` and a
    row ``b``, ``vec(u) vec(v)ᵀ = u vᵀ``, the identity) by sums, compositions and scalings; else ``None``."""
    if not (M.in_shape and M.out_shape and M.in_shape[1] == 1 and M.out_shape[1] == 1):
        return None
    k, a = M.kind, M.args
    if k == "identity":
        return eye(M.in_shape[0])
    if k == "kron" and a[1].shape == (1, 1) and a[1].kind in ("eye", "ones"):
        return a[0]
    if k == "box" and is_column(a[0]) and a[1].shape is not None and a[1].shape[0] == 1:
        return matmul(a[0], a[1])
    if k == "diag" and is_column(a[0]):  # diag(vec(d)) of a column d: the diagonal matrix diag(d)
        return diagm(a[0])
    if k == "outer" and is_column(a[1]) and (is_column(a[0]) or a[0].shape == ()):
        return (mul if a[0].shape == () else matmul)(a[0], transpose(a[1]))
    found = [column_matrix(b) for b in a if isinstance(b, LinearMap)]
    parts = [p for p in found if p is not None]
    if k not in ("scaled", "sum", "compose") or len(parts) < len(found):
        return None
    if k == "scaled":
        return mul(a[0], parts[0])
    combined = parts[0]
    for p in parts[1:]:
        combined = add(combined, p) if k == "sum" else matmul(combined, p)
    return combined


def is_column(e: Expr) -> bool:
    """Whether ``e`` is a column vector (``n×1``)."""
    return e.shape is not None and len(e.shape) == 2 and e.shape[1] == 1


def scaled(c: Expr, L: LinearMap) -> LinearMap:
    if is_literal(c, 1.0):
        return L
    if is_literal(c, 0.0) or L.kind == "zero":
        return zero(L.out_shape, L.in_shape)
    if L.kind == "scaled":
        return scaled(mul(c, L.args[0]), L.args[1])
    return LinearMap("scaled", (c, L), L.in_shape, L.out_shape)


def negate(L: LinearMap) -> LinearMap:
    return scaled(literal(-1.0), L)


def total(maps: list[LinearMap], out_shape, in_shape) -> LinearMap:
    """The sum of ``maps``: nested sums flattened (scalars distributed), zeros dropped, and terms that
    share a factor merged, ``a (A ⊗ B) + b (A ⊗ C) = A ⊗ (a B + b C)`` (likewise ⊠, outer, diag)."""
    terms: list[tuple[Expr, LinearMap]] = []
    sharing: dict[tuple, list[int]] = {}  # the terms by kind and factor: a term merges with the first that shares one

    def index(M: LinearMap, i: int) -> None:
        for key in _merge_keys(M):
            sharing.setdefault(key, []).append(i)

    for L in maps:
        for c, M in _scaled_terms(L, literal(1.0)):
            check_terms(len(terms), "a Jacobian or Hessian")
            for i in sorted({i for key in _merge_keys(M) for i in sharing.get(key, ())}):
                d, N = terms[i]
                joined = _merge(c, M, d, N)
                if joined is not None:
                    terms[i] = (literal(1.0), joined)
                    index(joined, i)
                    break
            else:
                terms.append((c, M))
                index(M, len(terms) - 1)
    if not terms:
        return zero(out_shape, in_shape)
    if len(terms) == 1:
        return scaled(*terms[0])
    parts = tuple(scaled(c, M) for c, M in terms)
    return LinearMap("sum", parts, parts[0].in_shape or in_shape, parts[0].out_shape or out_shape)


def _scaled_terms(L: LinearMap, c: Expr) -> list[tuple[Expr, LinearMap]]:
    """``c L`` as a list of ``(coefficient, map)`` with no sums or scalings left at the top."""
    if L.kind == "zero":
        return []
    if L.kind == "scaled":
        return _scaled_terms(L.args[1], mul(c, L.args[0]))
    if L.kind == "sum":
        return [t for M in L.args for t in _scaled_terms(M, c)]
    return [(c, L)]


def _merge_keys(M: LinearMap) -> tuple:
    """Where :func:`_merge` may join ``M`` with another term: the same kind and a shared factor."""
    if M.kind == "diag":
        return (("diag",),)
    if M.kind in ("kron", "box", "outer"):
        return ((M.kind, 0, id(M.args[0])), (M.kind, 1, id(M.args[1])))
    return ()


def _merge(c: Expr, L: LinearMap, d: Expr, M: LinearMap) -> LinearMap | None:
    """``c L + d M`` as one map when both are ⊗ (or ⊠, outer, diag) sharing a factor, else ``None``."""
    if L.kind != M.kind or L.kind not in ("kron", "box", "outer", "diag"):
        return None
    if L.kind == "diag":
        return diag(add(mul(c, L.args[0]), mul(d, M.args[0])))
    build = {"kron": kron, "box": box, "outer": outer}[L.kind]
    (a, b), (e, f) = L.args, M.args
    if a is e:
        return build(a, add(mul(c, b), mul(d, f)))
    if b is f:
        return build(add(mul(c, a), mul(d, e)), b)
    return None


def compose(*maps: LinearMap) -> LinearMap:
    """``L₁ L₂ ⋯ Lₖ`` (``Lₖ`` acts first), folded by the rules in the module docstring."""
    flat: list[LinearMap] = []
    for L in maps:
        flat.extend(L.args if L.kind == "compose" else [L])
    out_shape, in_shape = flat[0].out_shape, flat[-1].in_shape
    if any(L.kind == "zero" for L in flat):
        return zero(out_shape, in_shape)
    coefficient = literal(1.0)
    parts: list[LinearMap] = []
    for L in flat:
        if L.kind == "scaled":
            coefficient, L = mul(coefficient, L.args[0]), L.args[1]
        if L.kind == "identity":
            continue
        parts.append(L)
        while len(parts) >= 2:
            folded = _fold(parts[-2], parts[-1])
            if folded is None:
                break
            parts[-2:] = [folded]
            if folded.kind == "scaled":
                coefficient, parts[-1] = mul(coefficient, folded.args[0]), folded.args[1]
    if not parts:
        result = identity(in_shape)
    elif len(parts) == 1:
        result = parts[0]
    else:
        result = LinearMap("compose", tuple(parts), parts[-1].in_shape, parts[0].out_shape)
    return scaled(coefficient, result)


def _fold(L: LinearMap, M: LinearMap) -> LinearMap | None:
    """``L M`` as one map when a rule applies, else ``None``."""
    kinds = (L.kind, M.kind)
    if "sum" in kinds and not ("sum", "sum") == kinds:
        # distribute, so that each term can fold with the neighbour: L (M₁ + M₂) = L M₁ + L M₂
        if L.kind == "sum":
            return total([compose(T, M) for T in L.args], L.out_shape, M.in_shape)
        return total([compose(L, T) for T in M.args], L.out_shape, M.in_shape)
    if L.kind == "outer":
        return outer(L.args[0], unwind(M, L.args[1]))
    if M.kind == "outer":
        return outer(apply(L, M.args[0]), M.args[1])
    if kinds == ("diag", "diag"):
        return diag(mul(L.args[0], M.args[0]))
    if L.kind in ("kron", "box") and M.kind in ("kron", "box"):
        (A, B), (C, D) = L.args, M.args
        if L.kind == "kron":
            return (kron if M.kind == "kron" else box)(_product(A, C), _product(B, D))
        return (kron if M.kind == "box" else box)(_product(A, D), _product(B, C))
    return None


def _product(A: Expr, B: Expr) -> Expr:
    """``A B``, with ``A (C D)`` taken as ``(A C) D`` when that costs no more multiplications
    (``a c (b + d) ≤ b d (a + c)`` for ``A`` a×b, ``C`` b×c, ``D`` c×d): the adjoint rules build their
    products from the left, so a Hessian's factors then share the gradient's products."""
    if B.kind != "matmul":
        return matmul(A, B)
    C, D = B.args
    if A.shape is None or C.shape is None or D.shape is None:
        return matmul(A, B)
    (a, b), (c, d) = A.shape, D.shape
    if a * c * (b + d) > b * d * (a + c):
        return matmul(A, B)
    return matmul(_product(A, C), D)


# -- actions -----------------------------------------------------------------------------------------
def apply(L: LinearMap, U: Expr) -> Expr:
    """``vec⁻¹(L vec U)`` as an expression."""
    k, a = L.kind, L.args
    if k == "identity":
        return U
    if k == "zero":
        return zeros(L.out_shape)
    if k == "kron":
        return matmul(matmul(a[0], U), transpose(a[1]))
    if k == "box":
        return matmul(matmul(a[0], transpose(U)), transpose(a[1]))
    if k == "outer":
        return mul(inner(a[1], U), a[0])
    if k == "diag":
        return mul(a[0], U)
    if k == "scaled":
        return mul(a[0], apply(a[1], U))
    if k == "sum":
        return _sum_of(apply(M, U) for M in a)
    if k == "compose":
        for M in reversed(a):
            U = apply(M, U)
        return U
    if k == "kronsum_inv":
        return sylvester(a[0], transpose(a[1]), U)
    if k == "frechet":
        return frechet(L.param, a[0], *a[1:], U)
    if k == "slot":
        return build_slot(L.param[0], L.param[1], _slot_args(L, U))
    raise AssertionError(k)


def unwind(L: LinearMap, G: Expr) -> Expr:
    """``vec⁻¹(Lᵀ vec G)`` as an expression: the reverse-mode (unwinding) rule."""
    k, a = L.kind, L.args
    if k == "identity":
        return G
    if k == "zero":
        return zeros(L.in_shape)
    if k == "kron":
        return matmul(matmul(transpose(a[0]), G), a[1])
    if k == "box":
        return matmul(matmul(transpose(a[1]), transpose(G)), a[0])
    if k == "outer":
        return mul(inner(a[0], G), a[1])
    if k == "diag":
        return mul(a[0], G)
    if k == "scaled":
        return mul(a[0], unwind(a[1], G))
    if k == "sum":
        return _sum_of(unwind(M, G) for M in a)
    if k == "compose":
        for M in a:
            G = unwind(M, G)
        return G
    if k == "kronsum_inv":
        # (A ⊗ I + I ⊗ B)ᵀ = Aᵀ ⊗ I + I ⊗ Bᵀ: solve Aᵀ Z + Z B = G.
        return sylvester(transpose(a[0]), a[1], G)
    if k == "frechet":
        # ⟨G, L⁽ᵏ⁾(X)[E₁, …, U]⟩ = ⟨L⁽ᵏ⁾(Xᵀ)[E₁ᵀ, …, G], U⟩: f has real coefficients, f(X)ᵀ = f(Xᵀ)
        return frechet(L.param, transpose(a[0]), *map(transpose, a[1:]), G)
    if k == "slot":
        return apply(slot_transpose(L), G)
    raise AssertionError(k)


def _sum_of(exprs: Iterable[Expr]) -> Expr:
    """The sum of ``exprs`` (at least one: a sum map has two terms or more)."""
    first, *rest = exprs
    for e in rest:
        first = add(first, e)
    return first


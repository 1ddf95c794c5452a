"""Linear maps (:class:`~kronbox.amd.expressions.linear_map.LinearMap`) in Kron/Box notation, for any expression format.

A :class:`MapNotation` names the symbols of one format (``⊗`` or ``\\otimes``, how ``vec(U) vec(V)ᵀ``
is written, ...) and the printer of its expressions; :func:`map_notation` writes a map with it:
``-(inv(X) ⊗ inv(X)')``, ``vec(I)*vec(A)'``, ``inv(sqrtm(X) ⊗ I + I ⊗ sqrtm(X)')``, and the Fréchet
derivative of a matrix function as the call without its last direction, ``dexpm(X)`` (``U ↦ dexpm(X, U)``).

A term that maps column vectors to column vectors is the matrix that it multiplies them by, and is
written so, as vector calculus writes it: ``A ⊗ 1`` as ``A``, ``vec(u) vec(v)ᵀ`` as ``u*v'``,
``diag(vec(d))`` as ``diag(d)`` (the Jacobian of ``A*x`` is ``A``, the Hessian of ``x'*A*x`` is
``A + A'``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kronbox.amd.expressions.expr import Expr, is_literal, literal
from kronbox.amd.expressions.linear_map import LinearMap, column_matrix, is_column
from kronbox.amd.printing.fold import ATOM, PRODUCT, Fold, wrap


@dataclass(frozen=True)
class MapNotation:
    """How one format writes maps: ``printer`` is its expression visit (see :class:`Fold`), the
    templates take the printed factors in order."""

    printer: Callable[[Expr, list], tuple[str, int]]
    kron: str
    box: str
    times: str  # between a coefficient and a map, and between composed maps
    outer: str
    diag: str
    diag_of_vector: str
    kronsum_inverse: str
    frechet: Callable[[tuple, list[str]], str]  # (the function's parameter, printed X and fixed directions)
    slot: Callable[[tuple, list[str]], str]  # (kind, its parameter, the free slot), the other arguments printed


def map_notation(L: LinearMap, notation: MapNotation) -> str:
    """``L`` written in ``notation`` (factors printed once each, whatever their sharing)."""
    printed = Fold(notation.printer)

    def text(M) -> str:
        k, a = M.kind, M.args
        matrix = column_matrix(M)
        if matrix is not None:
            return wrap(printed(matrix), PRODUCT)
        if k == "identity":
            return "I"
        if k == "zero":
            return "0"
        if k in ("kron", "box"):
            symbol = notation.kron if k == "kron" else notation.box
            return f"({wrap(printed(a[0]), PRODUCT)} {symbol} {wrap(printed(a[1]), PRODUCT)})"
        if k == "outer":
            return notation.outer.format(printed(a[0])[0], printed(a[1])[0])
        if k == "diag":
            return (notation.diag_of_vector if is_column(a[0]) else notation.diag).format(printed(a[0])[0])
        if k == "scaled":
            inner = grouped(a[1])
            if is_literal(a[0], -1.0):
                return f"-{inner}"
            c = a[0]
            if c.kind == "literal" and isinstance(c.param, float) and c.param < 0:  # -0.25*(…), not (-0.25)*(…)
                return f"-{wrap(printed(literal(-c.param)), ATOM)}{notation.times}{inner}"
            return f"{wrap(printed(c), ATOM)}{notation.times}{inner}"
        if k == "sum":
            return " + ".join(map(text, a)).replace("+ -", "- ")
        if k == "compose":
            return notation.times.join(map(grouped, a))
        if k == "kronsum_inv":
            return notation.kronsum_inverse.format(wrap(printed(a[0]), PRODUCT), wrap(printed(a[1]), PRODUCT))
        if k == "frechet":
            return notation.frechet(M.param, [printed(x)[0] for x in a])
        if k == "slot":
            return notation.slot(M.param, [printed(x)[0] for x in a])
        raise AssertionError(k)

    def grouped(M) -> str:
        return f"({text(M)})" if M.kind == "sum" else text(M)

    matrix = column_matrix(L)
    return printed(matrix)[0] if matrix is not None else text(L)


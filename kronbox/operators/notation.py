"""Operators written as the mathematics they stand for: ``str(op)`` and, in notebooks, ``op._repr_latex_()``.

A factor that is an array shows as its shape in brackets (``[40×40]``), an operator factor as its own
tree; ``Kron(A, B) + 0.5 * Identity(N)`` prints ``[40×40] ⊗ [50×50] + 0.5 I₂₀₀₀`` and typesets as
``[40{\\times}40] \\otimes [50{\\times}50] + 0.5\\, I_{2000}``. Products bind tighter than sums, so
parentheses appear only where a sum is a factor. ``repr(op)`` stays the constructor form
(``Kron(40×40, 50×50)``) that error messages quote.
"""

from __future__ import annotations

from dataclasses import dataclass

import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox.backend import is_foreign, library
from kronbox.operators.base import Operator
from kronbox.operators.combinators import Compose, Sum, Transpose
from kronbox.operators.inverse import Inverse
from kronbox.operators.kronsum import KronSum
from kronbox.operators.products import Box, Kron, Outer
from kronbox.operators.structural import Commutation, Dense, Diag, Identity, Scaled, Zero
from kronbox.operators.symmetric_part import SymmetricPart

SUM, PRODUCT, ATOM = 0, 1, 2  # binding strength of a printed form
_SUBSCRIPTS = str.maketrans("0123456789×,", "₀₁₂₃₄₅₆₇₈₉ₓ,")


@dataclass(frozen=True)
class Style:
    """The symbols of one notation (text or LaTeX)."""

    kron: str
    box: str
    kronsum: str
    times: str
    transpose: str
    inverse: str
    identity: str  # format with the size
    zero: str
    commutation: str
    shape: str  # format with the shape text
    scale: str  # coefficient, then the operand
    outer: str  # u, v
    diag: str
    vec: str
    projection: str  # format with the operand


TEXT = Style(
    kron=" ⊗ ", box=" ⊠ ", kronsum=" ⊕ ", times=" ", transpose="ᵀ", inverse="⁻¹", identity="I{}", zero="0{}",
    commutation="K{}", shape="[{}]", scale="{} {}", outer="{} {}ᵀ", diag="diag({})", vec="vec{}", projection="Π {} Π",
)
LATEX = Style(
    kron=r" \otimes ", box=r" \boxtimes ", kronsum=r" \oplus ", times=r" \, ", transpose=r"^{\top}", inverse="^{-1}",
    identity="I_{{{}}}", zero="0_{{{}}}", commutation="K_{{{}}}", shape="[{}]", scale=r"{} \, {}",
    outer=r"{} \, {}^{{\top}}", diag=r"\operatorname{{diag}}({})", vec=r"\operatorname{{vec}}{}",
    projection=r"\Pi \, {} \, \Pi",
)


def _size(text: str, style: Style) -> str:
    return text.translate(_SUBSCRIPTS) if style is TEXT else text.replace("×", r"{\times}")


def _bracket(shape: str, style: Style) -> str:
    """An array of this shape: ``[40×40]`` (``[40{\times}40]`` in LaTeX)."""
    return style.shape.format(shape if style is TEXT else _size(shape, style))


def _number(c) -> str:
    if isinstance(c, complex) and c.imag:
        return f"({c.real:.4g}{c.imag:+.4g}j)"
    return f"{getattr(c, 'real', c):.4g}"


def _factor(F, style: Style) -> tuple[str, int]:
    if isinstance(F, Operator):
        return _form(F, style)
    if isinstance(F, LinearOperator):
        return type(F).__name__, ATOM
    kind = "sparse " if sp.issparse(F) else f"{library(F)} " if is_foreign(F) else ""
    return _bracket(kind + "×".join(map(str, F.shape)), style), ATOM


def _wrap(form: tuple[str, int], at_least: int, style: Style) -> str:
    text, strength = form
    if strength >= at_least:
        return text
    return f"\\left({text}\\right)" if style is LATEX else f"({text})"


def _form(op, style: Style) -> tuple[str, int]:
    """``op`` in ``style`` and how tightly it binds."""
    shape = "×".join(map(str, op.in_shape)) if len(op.in_shape) > 1 else str(op.shape[0])
    if isinstance(op, Kron | Box | KronSum):
        symbol = style.kron if isinstance(op, Kron) else style.box if isinstance(op, Box) else style.kronsum
        # ⊗ with ⊗ and ⊠ with ⊠ are associative: a nested product of the same kind needs no parentheses
        return symbol.join(_factor(F, style)[0] if type(F) is type(op) and not isinstance(op, KronSum)
                           else _wrap(_factor(F, style), ATOM, style) for F in (op.A, op.B)), PRODUCT
    if isinstance(op, Identity):
        return style.identity.format(_size(shape, style)), ATOM
    if isinstance(op, Zero):
        return style.zero.format(_size(f"{op.shape[0]}×{op.shape[1]}", style)), ATOM
    if isinstance(op, Commutation):
        return style.commutation.format(_size(f"{op.m},{op.n}", style)), ATOM
    if isinstance(op, Diag):
        return style.diag.format(_bracket("×".join(map(str, op.d.shape)), style)), ATOM
    if isinstance(op, Dense):
        return _factor(op.M, style)
    if isinstance(op, Outer):
        u, v = (_bracket("×".join(map(str, s)), style) for s in (op.out_shape, op.in_shape))
        if len(op.out_shape) == 2:  # vec(U) vec(V)ᵀ
            u, v = (style.vec.format(w) for w in (u, v))
        return style.outer.format(u, v), PRODUCT
    if isinstance(op, Scaled):
        operand = _wrap(_form(op.op, style), PRODUCT, style)
        if op.c == 1 or op.c == -1:
            return ("-" if op.c == -1 else "") + operand, PRODUCT
        return style.scale.format(_number(op.c), operand), PRODUCT
    if isinstance(op, Sum):
        text = ""
        for i, term in enumerate(op.ops):
            body, _ = _form(term, style)
            if i and body.startswith("-"):
                text += " - " + body[1:]
            else:
                text += (" + " if i else "") + body
        return text, SUM
    if isinstance(op, Compose):
        return style.times.join(_wrap(_form(F, style), PRODUCT + 1, style) for F in op.ops), PRODUCT
    if isinstance(op, Transpose):
        return _wrap(_form(op.op, style), ATOM, style) + style.transpose, ATOM
    if isinstance(op, Inverse):
        return _wrap(_form(op.op, style), ATOM, style) + style.inverse, ATOM
    if isinstance(op, SymmetricPart):
        return style.projection.format(_wrap(_form(op.op, style), ATOM, style)), PRODUCT
    return repr(op), ATOM


def text(op) -> str:
    """``op`` in mathematical notation (``[40×40] ⊗ [50×50] + 0.5 I₂₀₀₀``)."""
    return _form(op, TEXT)[0]


def latex(op) -> str:
    """``op`` in LaTeX (``\\otimes``, ``\\boxtimes``, ``^{\\top}``, ``^{-1}``)."""
    return _form(op, LATEX)[0]

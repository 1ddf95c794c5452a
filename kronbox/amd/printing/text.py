"""Expressions as text in the AMD / MATLAB notation: ``*`` matrix product and scaling, ``.*`` ``./``
elementwise, postfix ``'`` transpose, ``X^k`` matrix power, ``A.^p`` elementwise power, ``inv``,
``trace``, ``det``, ``logdet``, ``sqrtm``, ``norm2`` (Frobenius), ``sum``, ``I``, ``vector(c)`` and
``matrix(c)`` (all entries ``c``, the size given by the context, like ``I``'s), ``ones(size(X))``,
``sylvester(A, B, C)`` and the elementwise functions by name.

Parentheses appear only where precedence needs them, so the text is short and reads as typed
(``str(e)`` prints the simplified expression through the same printer); it is the dialect
:func:`kronbox.amd.parse` reads back.
"""

from __future__ import annotations

import math

from kronbox.amd.expressions.expr import (
    Expr,
    Shape,
    fill_shape,
    function_name,
    literal_value,
    matrix_exponent,
    power_exponent,
)
from kronbox.amd.printing.fold import ATOM, NEG, POSTFIX, PRODUCT, Fold, plus, wrap
from kronbox.amd.printing.map_notation import MapNotation, map_notation

_CALLS = {"inv": "inv", "trace": "trace", "det": "det", "logdet": "logdet", "sum": "sum", "norm": "norm2",
          "sqrtm": "sqrtm", "logsumexp": "logsumexp", "softmax": "softmax"}


def number_text(x: float | complex) -> str:
    """A number as the dialect writes it: ``2``, ``0.5``, ``(1+2i)``, ``Inf``, ``-Inf``, ``NaN``."""
    if isinstance(x, complex):
        return f"({number_text(x.real)}{'+' if x.imag >= 0 or math.isnan(x.imag) else '-'}{number_text(abs(x.imag))}i)"
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else "Inf" if x > 0 else "-Inf"
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


def filled_text(kind: str, shape: Shape) -> tuple[str, int]:
    """An all-ones or all-zeros matrix the way matrixcalculus.org writes it, with the size left to the
    context: ``vector(1)``, ``vector(1)'``, ``matrix(0)`` (a 1×1 one keeps its size: ``ones(1, 1)``; one
    whose shape is not known is ``matrix(0)``)."""
    if shape == (1, 1):
        return f"{kind}(1, 1)", ATOM
    c = "1" if kind == "ones" else "0"
    if shape is None:
        return f"matrix({c})", ATOM
    if shape[1] == 1:
        return f"vector({c})", ATOM
    return (f"vector({c})'", POSTFIX) if shape[0] == 1 else (f"matrix({c})", ATOM)


def amd_text(e: Expr, a: list[tuple[str, int]]) -> tuple[str, int]:
    """``(text, binding strength)`` of the node ``e`` from the printed arguments ``a``."""
    k = e.kind
    if k in ("var", "const"):
        return e.name, ATOM
    if k == "literal":
        text = number_text(literal_value(e))
        return text, ATOM if not text.startswith("-") else NEG
    if k in ("eye", "eye_like"):
        return "I", ATOM
    if k in ("ones_like", "zeros_like"):
        return f"{k[:-5]}(size({a[0][0]}))", ATOM
    if k in ("zeros", "ones"):
        return filled_text(k, fill_shape(e))
    if k == "add":  # A + (-B) is A - B
        return plus(a, NEG)
    if k == "neg":
        return f"-{wrap(a[0], PRODUCT)}", NEG
    if k in ("matmul", "mul", "div"):
        x, y = e.args
        scalar = x.shape == () or y.shape == ()
        op = {"matmul": "*", "mul": "*" if scalar else ".*", "div": "/" if y.shape == () else "./"}[k]
        c = literal_value(x) if x.kind == "literal" else None
        if isinstance(c, float) and c < 0:
            return f"-{number_text(-c)}{op}{wrap(a[1], PRODUCT + 1)}", NEG  # -2*X, not (-2)*X
        return f"{wrap(a[0], PRODUCT)}{op}{wrap(a[1], PRODUCT + 1)}", PRODUCT
    if k == "transpose":
        return f"{wrap(a[0], POSTFIX)}'", POSTFIX
    if k == "normsq":
        return f"norm2({a[0][0]})^2", POSTFIX
    if k == "mpow":
        return f"{wrap(a[0], ATOM)}^{matrix_exponent(e)}", POSTFIX
    if k == "power":
        return f"{wrap(a[0], ATOM)}.^{number_text(power_exponent(e))}", POSTFIX
    if k == "ew":
        return f"{function_name(e)}({a[0][0]})", ATOM
    if k in ("sylvester", "solve"):
        return f"{k}({', '.join(t for t, _ in a)})", ATOM
    return f"{_CALLS[k]}({a[0][0]})", ATOM


def to_text(e: Expr) -> str:
    """``e`` in the AMD / MATLAB dialect, e.g. ``-logdet(X) - trace(S*inv(X))``."""
    return Fold(amd_text)(e)[0]


TEXT_MAPS = MapNotation(printer=amd_text, kron="⊗", box="⊠", times="*", outer="vec({})*vec({})'",
                        diag="diag(vec({}))", diag_of_vector="diag({})", kronsum_inverse="inv({} ⊗ I + I ⊗ {})")


def map_text(L) -> str:
    """A linear map in Kron/Box notation: ``-(inv(X) ⊗ inv(X)')``, ``vec(I)*vec(A)'``."""
    return map_notation(L, TEXT_MAPS)

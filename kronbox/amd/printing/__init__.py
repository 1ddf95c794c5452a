"""Printers: an expression (or a linear map) as text in the AMD / MATLAB dialect, LaTeX, or numpy source.

=========  ==========================  ===========================================
format     expressions                 linear maps (Kron/Box notation)
=========  ==========================  ===========================================
``amd``    :func:`to_text`             :func:`map_text`: ``-(inv(X) ⊗ inv(X)')``
``latex``  :func:`to_latex`            :func:`map_latex`: ``-(X^{-1} \\otimes X^{-\\top})``
``numpy``  :func:`to_numpy`            --
=========  ==========================  ===========================================

:func:`to_format` picks one by name and, unless asked not to, prints the simplified expression
(:mod:`kronbox.amd.printing.simplify`); the printers themselves print an expression as it is.
``str(e)`` is ``to_format(e)``, the readable form; ``to_text(e)`` (or ``e.to_format(simplify=False)``)
is the raw one.
"""

from __future__ import annotations

from kronbox import services
from kronbox.amd.expressions.expr import Expr
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.amd.printing.latex import map_latex, to_latex
from kronbox.amd.printing.numpy_source import to_numpy
from kronbox.amd.printing.simplify import simplify as simplify_expr
from kronbox.amd.printing.simplify import simplify_map
from kronbox.amd.printing.text import map_text, number_text, to_text

services.provide("amd.to_text", to_text)
services.provide("amd.map_text", map_text)

FORMATS = {"amd": (to_text, map_text), "latex": (to_latex, map_latex), "numpy": (to_numpy, None)}


def to_format(e: Expr | LinearMap, fmt: str = "amd", simplify: bool = True) -> str:
    """``e`` printed in the format ``fmt`` (``"amd"``, ``"latex"`` or ``"numpy"``), simplified first by default."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; the known formats are {', '.join(map(repr, FORMATS))}")
    print_expr, print_map = FORMATS[fmt]
    if isinstance(e, LinearMap):
        if print_map is None:
            raise ValueError(f"a linear map has no {fmt!r} form; print it as 'amd' or 'latex'")
        return print_map(simplify_map(e) if simplify else e)
    if not isinstance(e, Expr):
        raise TypeError(f"to_format prints an expression or a linear map, not a {type(e).__name__}")
    return print_expr(simplify_expr(e) if simplify else e)


services.provide("amd.to_format", to_format)

__all__ = [
    "FORMATS", "map_latex", "map_text", "number_text", "simplify_map", "to_format", "to_latex", "to_numpy", "to_text",
]

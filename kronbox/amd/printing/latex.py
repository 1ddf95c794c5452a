r"""Expressions as LaTeX: ``X^{\top}``, ``X^{-1}`` (``X^{-\top}`` for its transpose), ``\operatorname{tr}``,
``\log\det``, ``\circ`` for the elementwise product and ``A^{\circ p}`` for the elementwise power,
``\frac{A}{B}`` for division, ``\|X\|_F^2``, and ``\otimes`` / ``\boxtimes`` in linear maps.

Only macros that matplotlib's mathtext knows are used, so the output renders there as in LaTeX.
A postfix operand (one that carries a superscript already) is parenthesized before another
superscript, which LaTeX would refuse (``(X^{2})^{\top}``, not ``X^{2}^{\top}``).
"""

from __future__ import annotations

from kronbox.amd.expressions.expr import (
    Expr,
    fill_shape,
    function_name,
    literal_value,
    matrix_exponent,
    matrix_function_of,
    power_exponent,
)
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.amd.printing.fold import ATOM, NEG, POSTFIX, PRODUCT, Fold, plus, wrap
from kronbox.amd.printing.map_notation import MapNotation, map_notation

_GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
    "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
_CALLS = {"trace": r"\operatorname{tr}", "det": r"\det", "logdet": r"\log\det", "sum": r"\operatorname{sum}",
          "logsumexp": r"\operatorname{logsumexp}", "softmax": r"\operatorname{softmax}",
          "eigvalsh": r"\lambda", "eigvecs": r"\operatorname{eigvecs}", "cholesky": r"\operatorname{chol}",
          "diag": r"\operatorname{diag}", "diagm": r"\operatorname{diag}",
          "trilhalf_like": r"\operatorname{tril}_{1/2}"}
_FUNCTIONS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh",
              "arcsin": r"\arcsin", "arccos": r"\arccos", "arctan": r"\arctan"}
_INVERSE = "^{-1}"
_MATRIX_FUNCTIONS = {"expm": r"\exp", "logm": r"\log"}


def latex_name(name: str) -> str:
    r"""A symbol's name: ``X``, ``\Sigma``, ``C_{12}``, ``x_{0}``, ``\mathrm{name}``."""
    stem, _, subscript = name.partition("_")
    if not subscript:
        digits = len(stem) - len(stem.rstrip("0123456789"))
        stem, subscript = (stem[:-digits], stem[-digits:]) if 0 < digits < len(stem) else (stem, "")
    base = "\\" + stem if stem in _GREEK else stem if len(stem) == 1 else r"\mathrm{" + stem + "}"
    return base + "_{" + subscript.replace("_", r"\_") + "}" if subscript else base


def latex_number(x: float | complex) -> str:
    if isinstance(x, complex):
        return f"({x.real:g}{x.imag:+g}i)"
    if x != x:
        return r"\mathrm{NaN}"
    if x in (float("inf"), float("-inf")):
        return r"\infty" if x > 0 else r"-\infty"
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else f"{x:g}"


def latex_text(e: Expr, a: list[tuple[str, int]]) -> tuple[str, int]:
    """``(LaTeX, binding strength)`` of the node ``e`` from its printed arguments ``a``."""
    k = e.kind
    if k in ("var", "const"):
        return latex_name(e.name), ATOM
    if k == "literal":
        text = latex_number(literal_value(e))
        return text, ATOM if not text.startswith("-") else NEG
    if k in ("eye", "eye_like"):
        return "I", ATOM
    if k in ("zeros", "ones", "zeros_like", "ones_like"):
        base = r"\mathbf{0}" if k.startswith("zeros") else r"\mathbf{1}"
        if k in ("zeros", "ones"):  # sized by the context, as in the text form
            shape = fill_shape(e)
            return (f"{base}^{{\\top}}", POSTFIX) if shape is not None and shape[0] == 1 < shape[1] else (base, ATOM)
        return f"{base}_{{{a[0][0]}}}", POSTFIX
    if k == "add":
        return plus(a, NEG)
    if k == "neg":
        return f"-{wrap(a[0], PRODUCT)}", NEG
    if k == "div":
        return f"\\frac{{{a[0][0]}}}{{{a[1][0]}}}", ATOM
    if k in ("matmul", "mul"):
        x, y = e.args
        scaling = k == "matmul" or x.shape == () or y.shape == ()
        right = wrap(a[1], PRODUCT + 1)
        op = (r" \cdot " if right[0].isdigit() else " ") if scaling else r" \circ "
        c = literal_value(x) if x.kind == "literal" else None
        if isinstance(c, float) and c < 0:
            return f"-{latex_number(-c)}{op}{right}", NEG
        return f"{wrap(a[0], PRODUCT)}{op}{right}", PRODUCT
    if k == "transpose":
        if e.args[0].kind == "inv":  # (X^{-1})^T is X^{-T}
            return a[0][0][: -len(_INVERSE)] + r"^{-\top}", POSTFIX
        return f"{wrap(a[0], ATOM)}^{{\\top}}", POSTFIX
    if k == "inv":
        return f"{wrap(a[0], ATOM)}{_INVERSE}", POSTFIX
    if k == "mpow":
        return f"{wrap(a[0], ATOM)}^{{{matrix_exponent(e)}}}", POSTFIX
    if k == "sqrtm":
        return f"{wrap(a[0], ATOM)}^{{1/2}}", POSTFIX
    if k == "power":
        return f"{wrap(a[0], ATOM)}^{{\\circ {latex_number(power_exponent(e))}}}", POSTFIX
    if k == "norm":
        return f"\\|{a[0][0]}\\|_F", POSTFIX
    if k == "normsq":
        return f"\\|{a[0][0]}\\|_F^2", POSTFIX
    if k == "ew":
        function = function_name(e)
        if function == "sqrt":
            return f"\\sqrt{{{a[0][0]}}}", ATOM
        if function == "abs":
            return f"|{a[0][0]}|", ATOM
        name = _FUNCTIONS.get(function) or r"\operatorname{" + function + "}"
        return f"{name}({a[0][0]})", ATOM
    if k == "sylvester":
        return f"\\operatorname{{sylv}}({', '.join(t for t, _ in a)})", ATOM
    if k == "matfun":
        f = matrix_function_of(e)
        if f[0] == "pow":
            return f"{wrap(a[0], ATOM)}^{{{latex_number(f[1])}}}", POSTFIX
        return f"{_MATRIX_FUNCTIONS[f[0]]}({a[0][0]})", ATOM
    if k == "frechet":
        return frechet_latex(matrix_function_of(e), [t for t, _ in a]), ATOM
    if k == "kron":
        return slot_latex((k, e.param), [wrap(x, PRODUCT + 1) for x in a]), PRODUCT
    if k == "kronfactor":
        return slot_latex((k, e.param), [t for t, _ in a]), ATOM
    if k == "solve":  # A^{-1} B, computed without the inverse
        return f"{wrap(a[0], ATOM)}{_INVERSE} {wrap(a[1], PRODUCT + 1)}", PRODUCT
    return f"{_CALLS[k]}({a[0][0]})", ATOM


def frechet_latex(param: tuple, args: list[str], free: bool = False) -> str:
    r"""``L_{\exp}(X)[E]``, the Fréchet derivative (``L^{(k)}`` for the ``k``-th); ``free``: a slot left open,
    the linear map ``L_{\exp}(X)[·]``."""
    name = _MATRIX_FUNCTIONS[param[0]] if param[0] != "pow" else f"(\\cdot)^{{{latex_number(param[1])}}}"
    directions = [*args[1:], r"\cdot"] if free else args[1:]
    order = "" if len(directions) == 1 else f"^{{({len(directions)})}}"
    return f"L{order}_{{{name}}}({args[0]})[{', '.join(directions)}]"


def slot_latex(kind: tuple, args: list[str]) -> str:
    r"""``A \otimes B``; ``\operatorname{kronfactor}_{k}(G, M)`` (see :mod:`kronbox.amd.expressions.kronecker`)."""
    name, param = kind
    if name == "kron":
        return f"{args[0]} \\otimes {args[1]}"
    return f"\\operatorname{{kronfactor}}_{{{param}}}({', '.join(args)})"


def _slot_map_latex(param: tuple, args: list[str]) -> str:
    kind, node_param, slot = param
    return "(" + slot_latex((kind, node_param), [*args[:slot], r"\cdot", *args[slot:]]) + ")"


def to_latex(e: Expr) -> str:
    r"""``e`` in LaTeX math (without the ``$``), e.g. ``-\log\det(X) - \operatorname{tr}(S X^{-1})``."""
    return Fold(latex_text)(e)[0]


LATEX_MAPS = MapNotation(
    printer=latex_text, kron=r"\otimes", box=r"\boxtimes", times=" ",
    outer=r"\operatorname{{vec}}({}) \operatorname{{vec}}({})^{{\top}}",
    diag=r"\operatorname{{diag}}(\operatorname{{vec}}({}))", diag_of_vector=r"\operatorname{{diag}}({})",
    kronsum_inverse=r"({} \otimes I + I \otimes {})^{{-1}}",
    frechet=lambda param, args: frechet_latex(param, args, free=True),
    slot=_slot_map_latex,
)


def map_latex(L: LinearMap) -> str:
    r"""A linear map in LaTeX: ``-(X^{-1} \otimes X^{-\top})``."""
    return map_notation(L, LATEX_MAPS)

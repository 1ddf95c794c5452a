"""Expressions as text in the AMD / MATLAB notation: ``*`` matrix product, ``.*`` elementwise,
``'`` transpose, ``inv``, ``trace``, ``logdet``, ``norm2`` (Frobenius), ``X^k``, ``A.^p``.

Parentheses appear only where precedence needs them, so ``str(e)`` is short and reads as typed.
"""

from __future__ import annotations

from .expr import Expr

# Binding strength: sums < unary minus < products < postfix (transpose, powers) < atoms.
_SUM, _NEG, _PRODUCT, _POSTFIX, _ATOM = range(5)

_CALLS = {"inv": "inv", "trace": "trace", "det": "det", "logdet": "logdet", "sum": "sum", "norm": "norm2",
          "sqrtm": "sqrtm"}


def number_text(x) -> str:
    if isinstance(x, complex):
        return f"({x.real:g}{x.imag:+g}i)"
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


def to_text(e: Expr) -> str:
    return _text(e)[0]


def _wrap(e: Expr, at_least: int) -> str:
    text, strength = _text(e)
    return text if strength >= at_least else f"({text})"


def _text(e: Expr) -> tuple[str, int]:
    k, a = e.kind, e.args
    if k in ("var", "const"):
        return e.param[0], _ATOM
    if k == "literal":
        text = number_text(e.param)
        return text, _ATOM if not text.startswith("-") else _NEG
    if k in ("eye", "eye_like"):
        return "I", _ATOM
    if k in ("ones_like", "zeros_like"):
        return f"{k[:-5]}(size({to_text(a[0])}))", _ATOM
    if k in ("zeros", "ones"):
        return f"{k}({', '.join(map(str, e.param))})", _ATOM
    if k == "add":
        left = _wrap(a[0], _SUM)
        right, strength = _text(a[1])
        if right.startswith("-") and strength >= _NEG:  # A + (-B) is A - B
            return f"{left} - {right[1:]}", _SUM
        return f"{left} + {right if strength > _SUM else f'({right})'}", _SUM
    if k == "neg":
        return f"-{_wrap(a[0], _PRODUCT)}", _NEG
    if k in ("matmul", "mul", "div"):
        scalar = a[0].shape == () or a[1].shape == ()
        op = {"matmul": "*", "mul": "*" if scalar else ".*", "div": "/" if a[1].shape == () else "./"}[k]
        if a[0].kind == "literal" and a[0].param.real < 0 and not isinstance(a[0].param, complex):
            return f"-{number_text(-a[0].param)}{op}{_wrap(a[1], _PRODUCT + 1)}", _NEG  # -2*X, not (-2)*X
        return f"{_wrap(a[0], _PRODUCT)}{op}{_wrap(a[1], _PRODUCT + 1)}", _PRODUCT
    if k == "transpose":
        return f"{_wrap(a[0], _POSTFIX)}'", _POSTFIX
    if k == "normsq":
        return f"norm2({to_text(a[0])})^2", _POSTFIX
    if k == "mpow":
        return f"{_wrap(a[0], _ATOM)}^{e.param}", _POSTFIX
    if k == "power":
        return f"{_wrap(a[0], _ATOM)}.^{number_text(e.param)}", _POSTFIX
    if k == "ew":
        return f"{e.param}({to_text(a[0])})", _ATOM
    if k == "sylvester":
        return f"sylvester({', '.join(map(to_text, a))})", _ATOM
    return f"{_CALLS[k]}({to_text(a[0])})", _ATOM


def map_text(L) -> str:
    """A linear map in Kron/Box notation: ``-(inv(X) ⊗ inv(X)')``, ``vec(I)*vec(A)'``."""
    k, a = L.kind, L.args
    if k == "identity":
        return "I"
    if k == "zero":
        return "0"
    if k in ("kron", "box"):
        return f"({_wrap(a[0], _PRODUCT)} {'⊗' if k == 'kron' else '⊠'} {_wrap(a[1], _PRODUCT)})"
    if k == "outer":
        return f"vec({to_text(a[0])})*vec({to_text(a[1])})'"
    if k == "diag":
        return f"diag(vec({to_text(a[0])}))"
    if k == "scaled":
        inner = map_text(a[1])
        if a[1].kind == "sum":
            inner = f"({inner})"
        if a[0].kind == "literal" and a[0].param == -1:
            return f"-{inner}"
        return f"{_wrap(a[0], _ATOM)}*{inner}"
    if k == "sum":
        return " + ".join(map_text(M) for M in a).replace("+ -", "- ")
    if k == "compose":
        return "*".join(map_text(M) if M.kind != "sum" else f"({map_text(M)})" for M in a)
    if k == "kronsum_inv":
        return f"inv({_wrap(a[0], _PRODUCT)} ⊗ I + I ⊗ {_wrap(a[1], _PRODUCT)})"
    raise AssertionError(k)

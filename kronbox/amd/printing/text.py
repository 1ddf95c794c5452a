"""Expressions as text in the AMD / MATLAB notation: ``*`` matrix product and scaling, ``.*`` ``./``
elementwise, postfix ``'`` transpose, ``X^k`` matrix power, ``A.^p`` elementwise power, ``inv``,
``trace``, ``det``, ``logdet``, ``sqrtm``, ``norm2`` (Frobenius), ``sum``, ``I``, ``vector(c)`` and
``matrix(c)`` (all entries ``c``, the size given by the context, like ``I``'s), ``ones(size(X))``,
``sylvester(A, B, C)``, ``solve(A, B)``, the matrix functions ``expm``, ``logm`` and ``X^p`` with their Fréchet
derivatives ``dexpm(X, E)``, ``dlogm(X, E)``, ``dpowm(X, p, E)``, ``eigvalsh``, ``eigvecs``, ``chol``,
``diag`` (of a matrix: its diagonal; of a vector: the diagonal matrix) and the elementwise functions by name.

Parentheses appear only where precedence needs them, so the text is short and reads as typed
(``str(e)`` prints the simplified expression through the same printer); it is the dialect
:func:`kronbox.amd.parse` reads back.
"""

from __future__ import annotations

import dataclasses
import math

from kronbox.amd.expressions.expr import (
    Expr,
    Shape,
    eye_size,
    fill_shape,
    function_name,
    literal_value,
    matrix_exponent,
    matrix_function_of,
    power_exponent,
    topological,
)
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.amd.printing.fold import ATOM, NEG, POSTFIX, PRODUCT, Fold, plus, wrap
from kronbox.amd.printing.map_notation import MapNotation, map_notation

_CALLS = {"inv": "inv", "trace": "trace", "det": "det", "logdet": "logdet", "sum": "sum", "norm": "norm2",
          "sqrtm": "sqrtm", "logsumexp": "logsumexp", "softmax": "softmax", "eigvalsh": "eigvalsh",
          "eigvecs": "eigvecs", "cholesky": "chol", "diag": "diag", "trilhalf_like": "trilhalf"}


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
        if k == "matmul" and y.kind == "inv" and y.shape == (1, 1):  # x*inv(q) for a 1×1 q is x/q, as parsed
            q = a[1][0][len("inv("):-1]
            return f"{wrap(a[0], PRODUCT)}/{q if q.isidentifier() else f'({q})'}", PRODUCT
        scalar = x.shape == () or y.shape == ()
        op = {"matmul": "*", "mul": "*" if scalar else ".*", "div": "/" if y.shape == () else "./"}[k]
        c = literal_value(x) if x.kind == "literal" else None
        if isinstance(c, float) and c < 0:
            return f"-{number_text(-c)}{op}{wrap(a[1], PRODUCT + 1)}", NEG  # -2*X, not (-2)*X
        right = PRODUCT if k == "mul" and x.shape == () else PRODUCT + 1  # c*(A*B) = c*A*B: a scaling associates
        return f"{wrap(a[0], PRODUCT)}{op}{wrap(a[1], right)}", PRODUCT
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
    if k == "matfun":
        f = matrix_function_of(e)
        if f[0] == "pow":
            return f"{wrap(a[0], ATOM)}^{number_text(f[1])}", POSTFIX
        return f"{f[0]}({a[0][0]})", ATOM
    if k == "frechet":  # dexpm(X, E), dlogm(X, E), dpowm(X, p, E)
        return frechet_call(matrix_function_of(e), [t for t, _ in a]), ATOM
    if k in ("kron", "kronfactor"):
        return slot_call((k, e.param), [t for t, _ in a]), ATOM
    if k == "diagm":  # matrixcalculus.org's diag of a vector; diagm where the argument's shape is not known
        return f"{'diag' if e.args[0].shape is not None else 'diagm'}({a[0][0]})", ATOM
    return f"{_CALLS[k]}({a[0][0]})", ATOM


def to_text(e: Expr) -> str:
    """``e`` in the AMD / MATLAB dialect, e.g. ``-logdet(X) - trace(S*inv(X))``."""
    return Fold(sized_printer([e]))(e)[0]


# Kinds whose argument has the node's own shape (or one the node's shape fixes): an identity below them is sized
# by what sizes the node; and kinds whose value no longer says the size of their argument.
_SIZE_KEEPING = frozenset({"neg", "transpose", "ew", "power", "inv", "sqrtm", "mpow", "matfun", "softmax", "diag",
                           "diagm", "eigvalsh", "eigvecs", "cholesky"})
_SIZE_LOSING = frozenset({"trace", "sum", "det", "logdet", "norm", "normsq", "logsumexp", "kron", "kronfactor"})


def unsized_identities(roots: list[Expr]) -> set[int]:
    """The identities of known size that the text around them would not size when read back: ``I`` is sized by
    its neighbours (``A + I``, ``A*I``), and not below ``trace(…)`` or ``sum(…)`` through scalings and entrywise
    functions only (``trace(tanh(c*I))``). Those are printed ``eye(n)``; a root is sized by its reader."""
    order = topological(roots)
    own: dict[int, bool] = {}  # the node's shape follows from its symbols' (which the reader is given)
    parents: dict[int, list[Expr]] = {}
    for n in order:
        for a in n.args:
            parents.setdefault(id(a), []).append(n)
        matrices = [own[id(a)] for a in n.args if a.shape != ()]
        own[id(n)] = n.kind in ("var", "const") or (n.kind not in _SIZE_LOSING and bool(matrices) and (
            all(matrices) if n.kind in ("matmul", "sylvester", "solve") else any(matrices)))
    sized: dict[int, bool] = {}
    for n in reversed(order):  # parents before children
        sized[id(n)] = all(_sizes(p, n, sized[id(p)], own) for p in parents.get(id(n), ()))
    return {id(n) for n in order if n.kind == "eye" and n.shape is not None and not sized[id(n)]}


def _sizes(parent: Expr, child: Expr, parent_sized: bool, own: dict[int, bool]) -> bool:
    """Whether ``child``'s size is told by its place as an argument of ``parent``: by the parent's size, or by a
    sibling whose shape its symbols give (``A + I``, ``A*I``)."""
    if parent.kind in _SIZE_LOSING:
        return False
    siblings = [a for a in parent.args if a is not child and a.shape != ()]
    if parent.kind in ("add", "mul", "div", "matmul") and any(own[id(a)] for a in siblings):
        return True
    return parent_sized if parent.kind in _SIZE_KEEPING or parent.kind in ("add", "mul", "div") else True


def sized_printer(roots: list[Expr]):
    """:func:`amd_text`, with the identities :func:`unsized_identities` finds written ``eye(n)``."""
    unsized = unsized_identities(roots)
    if not unsized:
        return amd_text

    def visit(e: Expr, a: list[tuple[str, int]]) -> tuple[str, int]:
        return (f"eye({eye_size(e)})", ATOM) if id(e) in unsized else amd_text(e, a)

    return visit


def frechet_call(param: tuple, args: list[str]) -> str:
    """``dexpm(X, E₁, …)``, ``dlogm(…)``, ``dpowm(X, p, E₁, …)``: the Fréchet derivative's call."""
    if param[0] == "pow":
        return f"dpowm({', '.join([args[0], number_text(param[1]), *args[1:]])})"
    return f"d{param[0]}({', '.join(args)})"


def slot_call(kind: tuple, args: list[str]) -> str:
    """``kron(A, B)``, ``kronfactor(G, M, k)``; with ``·`` among ``args``, the linear map of that argument."""
    name, param = kind
    return f"{name}({', '.join(args)})" if name == "kron" else f"kronfactor({', '.join(args)}, {param})"


def _slot_map_text(param: tuple, args: list[str]) -> str:
    kind, node_param, slot = param
    return slot_call((kind, node_param), [*args[:slot], "·", *args[slot:]])


TEXT_MAPS = MapNotation(printer=amd_text, kron="⊗", box="⊠", times="*", outer="vec({})*vec({})'",
                        diag="diag(vec({}))", diag_of_vector="diag({})", kronsum_inverse="inv({} ⊗ I + I ⊗ {})",
                        frechet=frechet_call, slot=_slot_map_text)


def map_text(L: LinearMap) -> str:
    """A linear map in Kron/Box notation: ``-(inv(X) ⊗ inv(X)')``, ``vec(I)*vec(A)'``."""
    return map_notation(L, dataclasses.replace(TEXT_MAPS, printer=sized_printer(L.factors())))

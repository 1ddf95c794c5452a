"""Expressions as the source of a Python function on numpy arrays.

``to_numpy(e, "f")`` is the text of ``def f(<the symbols, sorted by name>): ...``: ``@`` for the
matrix product, ``*`` ``/`` elementwise (a scalar broadcasts), ``.T``, ``numpy.linalg`` for
``inv``, ``det`` and powers, ``scipy.linalg`` for ``sqrtm`` and ``sylvester`` (imported only then),
and a node used more than once (not a leaf) assigned once to a temporary, so the function does the
shared work once, as :meth:`Expr.eval` does (a deeply nested one gets a temporary too, so that
Python can parse the source). A scalar function returns a ``float``.
"""

from __future__ import annotations

import keyword
import math
from collections import Counter

from kronbox.amd.expressions.expr import (
    LEAF_KINDS,
    SYMBOL_KINDS,
    Expr,
    eye_size,
    fill_shape,
    function_name,
    like_axis,
    literal_value,
    matrix_exponent,
    matrix_function_of,
    power_exponent,
    topological,
)
from kronbox.amd.printing.fold import PRODUCT, plus, wrap

# Python's binding strengths: sums < products (@ * /) < unary minus < postfix (.T, calls) < atoms.
_UNARY, _POSTFIX, _ATOM = PRODUCT + 1, PRODUCT + 2, PRODUCT + 3

_CALLS = {"inv": "np.linalg.inv({})", "trace": "np.trace({})", "det": "np.linalg.det({})", "logdet": "_logdet({})",
          "sum": "np.sum({})", "normsq": "np.sum(np.square({}))", "norm": "np.sqrt(np.sum(np.square({})))",
          "sqrtm": "scipy.linalg.sqrtm({})", "ones_like": "np.ones(np.shape({}))",
          "zeros_like": "np.zeros(np.shape({}))", "logsumexp": "scipy.special.logsumexp({})",
          "softmax": "scipy.special.softmax({}, axis=None)", "eigvalsh": "np.linalg.eigvalsh({})[:, None]",
          "eigvecs": "np.linalg.eigh({})[1]", "cholesky": "np.linalg.cholesky({})", "diag": "np.diagonal({})[:, None]",
          "diagm": "np.diagflat({})", "trilhalf_like": "_trilhalf({})"}
_MATRIX_FUNCTIONS = {"expm": "scipy.linalg.expm", "logm": "_real(scipy.linalg.logm)",
                     "pow": "_real(scipy.linalg.fractional_matrix_power)"}
_ELEMENTWISE = {"exp": "np.exp({})", "log": "np.log({})", "sqrt": "np.sqrt({})", "sin": "np.sin({})",
                "cos": "np.cos({})", "tan": "np.tan({})", "tanh": "np.tanh({})", "arcsin": "np.arcsin({})",
                "arccos": "np.arccos({})", "arctan": "np.arctan({})", "abs": "np.abs({})",
                "sign": "np.sign({})", "relu": "np.maximum({}, 0)", "step": "(np.real({}) > 0) * 1.0"}
_OPERATORS = {"matmul": " @ ", "mul": " * ", "div": " / "}
_RESERVED = ("np", "scipy", "_logdet", "_real", "_frechet", "_kronfactor", "_trilhalf")  # the source's own names
_MAX_NESTING = 50  # a deeper subexpression gets a temporary of its own

# The helper functions the generated source defines, each only where the body calls it.
_HELPERS = {
    "_logdet": '''
def _logdet(A):
    """log det A; an error where det A <= 0 (its real logarithm does not exist)."""
    sign, logabs = np.linalg.slogdet(A)
    if np.iscomplexobj(sign):
        return np.log(sign) + logabs
    if sign <= 0:
        raise ValueError("logdet: the determinant is not positive")
    return logabs
''',
    "_real": '''
def _real(f):
    """f with the imaginary rounding dropped from a real argument's result."""
    return lambda A, *p: np.real(f(A, *p)) if np.isrealobj(A) else f(A, *p)
''',
    "_frechet": '''
def _frechet(f, X, *E):
    """The k-th Frechet derivative of the matrix function f at X in the directions E: the top right
    block of f of the block upper triangular matrix [[X_{j-1}, I (x) E_j], [0, X_{j-1}]], X_0 = X."""
    n, B = len(X), X
    for Ej in E:
        m = len(B)
        B = np.block([[B, np.kron(np.eye(m // n), Ej)], [np.zeros_like(B), B]])
    return f(B)[:n, -n:]
''',
    "_kronfactor": '''
def _kronfactor(G, M, k):
    """k = 1: sum_kl G[(i k), (j l)] M[k, l]; k = 2: sum_ij G[(i k), (j l)] M[i, j]."""
    (p, q), (r, s) = G.shape, M.shape
    if k == 1:
        return np.einsum("iajb,ab->ij", G.reshape(p // r, r, q // s, s), M)
    return np.einsum("iajb,ij->ab", G.reshape(r, p // r, s, q // s), M)
''',
    "_trilhalf": '''
def _trilhalf(A):
    """Ones below the diagonal, 1/2 on it (the mask of the Cholesky derivative)."""
    return np.tril(np.ones(np.shape(A)), -1) + 0.5 * np.eye(len(A))
''',
}


def _number(x: float | complex) -> str:
    return repr(x) if isinstance(x, complex) or math.isfinite(x) else f"float({str(x)!r})"


def _python(e: Expr, a: list[tuple[str, int]]) -> tuple[str, int]:
    """``(Python source, binding strength)`` of the node ``e`` from its arguments' sources ``a``."""
    k = e.kind
    if k in SYMBOL_KINDS:
        return e.name, _ATOM
    if k == "literal":
        text = _number(literal_value(e))
        return text, _UNARY if text.startswith("-") else _ATOM
    if k == "eye":
        size = eye_size(e)
        if size is None:
            raise ValueError("to_numpy: the size of an identity I is not known; give the symbols shapes")
        return f"np.eye({size})", _ATOM
    if k == "eye_like":
        return f"np.eye(np.shape({a[0][0]})[{like_axis(e)}])", _ATOM
    if k in ("zeros", "ones"):
        shape = fill_shape(e)
        if shape is None:
            raise ValueError(f"to_numpy: the size of {k} is not known; give the symbols shapes")
        return f"np.{k}({shape})", _ATOM
    if k == "add":
        return plus(a, _UNARY)
    if k == "neg":
        return f"-{wrap(a[0], _UNARY)}", _UNARY
    if k in _OPERATORS:
        return f"{wrap(a[0], PRODUCT)}{_OPERATORS[k]}{wrap(a[1], PRODUCT + 1)}", PRODUCT
    if k == "transpose":
        return f"{wrap(a[0], _POSTFIX)}.T", _POSTFIX
    if k == "mpow":
        return f"np.linalg.matrix_power({a[0][0]}, {matrix_exponent(e)})", _ATOM
    if k == "power":
        return f"np.power({a[0][0]}, {_number(power_exponent(e))})", _ATOM
    if k == "ew":
        return _ELEMENTWISE[function_name(e)].format(a[0][0]), _ATOM
    if k == "sylvester":
        return f"scipy.linalg.solve_sylvester({', '.join(t for t, _ in a)})", _ATOM
    if k == "solve":
        return f"np.linalg.solve({', '.join(t for t, _ in a)})", _ATOM
    if k == "kron":
        return f"np.kron({a[0][0]}, {a[1][0]})", _ATOM
    if k == "kronfactor":
        return f"_kronfactor({a[0][0]}, {a[1][0]}, {e.param})", _ATOM
    if k in ("matfun", "frechet"):
        fn = matrix_function_of(e)
        f, power = _MATRIX_FUNCTIONS[fn[0]], [_number(fn[1])] if fn[0] == "pow" else []
        if k == "matfun":
            return f"{f}({', '.join([a[0][0], *power])})", _ATOM
        if fn[0] == "expm" and len(a) == 2:  # scipy's own first derivative of expm
            return f"scipy.linalg.expm_frechet({a[0][0]}, {a[1][0]}, compute_expm=False)", _ATOM
        f = f if not power else f"lambda A: {f}(A, {power[0]})"
        return f"_frechet({f}, {', '.join(t for t, _ in a)})", _ATOM
    return _CALLS[k].format(a[0][0]), _ATOM


def to_numpy(e: Expr, name: str = "f") -> str:
    """The source of ``def name(<symbols sorted by name>)`` computing ``e`` with numpy (see the module)."""
    order = topological([e])
    symbols = sorted({n.name for n in order if n.kind in SYMBOL_KINDS})
    for word in (name, *symbols):
        if not word.isidentifier() or keyword.iskeyword(word) or word in _RESERVED or word.startswith("_t"):
            raise ValueError(f"to_numpy: {word!r} cannot be a name in the generated Python source")
    uses = Counter(id(a) for n in order for a in n.args)
    body: list[str] = []
    code: dict[int, tuple[str, int]] = {}
    depth: dict[int, int] = {}  # how deeply the source of a node nests (Python's parser has a limit)
    for n in order:
        source = _python(n, [code[id(a)] for a in n.args])
        depth[id(n)] = 1 + max((depth[id(a)] for a in n.args), default=0)
        if n.kind not in LEAF_KINDS and (uses[id(n)] > 1 or depth[id(n)] >= _MAX_NESTING):
            body.append(f"    _t{len(body) + 1} = {source[0]}")
            source, depth[id(n)] = (f"_t{len(body)}", _ATOM), 0
        code[id(n)] = source
    result = code[id(e)][0]
    body.append(f"    return float({result})" if e.shape == () else f"    return {result}")
    kinds = {n.kind for n in order}
    header = ["import numpy as np"] + (["import scipy.linalg"] if kinds & {"sqrtm", "sylvester", "matfun", "frechet"}
                                       else []) + (["import scipy.special"] if kinds & {"logsumexp", "softmax"} else [])
    called = "\n".join(body)
    helpers = [source for helper, source in _HELPERS.items() if f"{helper}(" in called]
    return "\n".join([*header, *helpers, "", f"def {name}({', '.join(symbols)}):", *body]) + "\n"

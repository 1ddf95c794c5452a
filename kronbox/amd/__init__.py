"""Automatic matrix differentiation: matrix expressions, lazy Jacobians, gradients, Hessians, Taylor series.

Row-major ``vec`` (``X.ravel()``), the AMD arrangement: ``∂F/∂X`` maps ``vec(dX)`` to ``vec(dF)``,
so ``∂(A X B)/∂X = A ⊗ Bᵀ`` and ``∂Xᵀ/∂X = I ⊠ I``. Gradients have the shape of the variable.

    >>> from kronbox import amd
    >>> X = amd.var("X", (3, 3))
    >>> print(amd.grad(amd.logdet(X), X))
    inv(X)'
"""

from kronbox.amd.differentiation import Derivative, grad, hessian, jacobian, taylor, value_and_grad
from kronbox.amd.evaluation import CompiledFunction, compile, evaluate
from kronbox.amd.expressions.expr import (
    Expr,
    ShapeError,
    const,
    det,
    eye,
    inner,
    inv,
    logdet,
    logsumexp,
    norm,
    normsq,
    power,
    softmax,
    solve,
    sqrtm,
    substitute,
    sylvester,
    trace,
    var,
    zeros,
)
from kronbox.amd.expressions.expr import sum_ as sum
from kronbox.amd.expressions.functions import (
    abs,
    arccos,
    arcsin,
    arctan,
    cos,
    exp,
    log,
    relu,
    sign,
    sin,
    sqrt,
    tan,
    tanh,
)
from kronbox.amd.expressions.kronecker import kron
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.amd.expressions.spectral import cholesky, diag, diagm, eigh, eigvalsh, eigvecs, expm, logm
from kronbox.amd.optimize import Iteration, MinimizeResult, NotConvergedError, NotConvergedWarning, minimize
from kronbox.amd.parsing import ParseError, parse, parse_map
from kronbox.amd.printing import map_latex, map_text, to_format, to_latex, to_numpy, to_text
from kronbox.amd.printing.simplify import simplify, simplify_map

__all__ = [
    "CompiledFunction",
    "Derivative",
    "Expr",
    "Iteration",
    "LinearMap",
    "MinimizeResult",
    "NotConvergedError",
    "NotConvergedWarning",
    "ParseError",
    "ShapeError",
    "abs",
    "arccos",
    "arcsin",
    "arctan",
    "cholesky",
    "compile",
    "const",
    "cos",
    "det",
    "diag",
    "diagm",
    "eigh",
    "eigvalsh",
    "eigvecs",
    "evaluate",
    "exp",
    "expm",
    "eye",
    "grad",
    "hessian",
    "inner",
    "inv",
    "jacobian",
    "kron",
    "log",
    "logdet",
    "logm",
    "logsumexp",
    "map_latex",
    "map_text",
    "minimize",
    "norm",
    "normsq",
    "parse",
    "parse_map",
    "power",
    "relu",
    "sign",
    "simplify",
    "simplify_map",
    "sin",
    "softmax",
    "solve",
    "sqrt",
    "sqrtm",
    "substitute",
    "sum",
    "sylvester",
    "tan",
    "tanh",
    "taylor",
    "to_format",
    "to_latex",
    "to_numpy",
    "to_text",
    "trace",
    "value_and_grad",
    "var",
    "zeros",
]

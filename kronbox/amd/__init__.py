"""Automatic matrix differentiation: matrix expressions, lazy Jacobians, gradients, Hessians, Taylor series.

Row-major ``vec`` (``X.ravel()``), the AMD arrangement: ``∂F/∂X`` maps ``vec(dX)`` to ``vec(dF)``,
so ``∂(A X B)/∂X = A ⊗ Bᵀ`` and ``∂Xᵀ/∂X = I ⊠ I``. Gradients have the shape of the variable.

    >>> from kronbox import amd
    >>> X = amd.var("X", (3, 3))
    >>> print(amd.grad(amd.logdet(X), X))
    inv(X)'
"""

from .differentiate import Derivative, grad, hessian, jacobian, value_and_grad
from .evaluate import evaluate
from .expr import (
    Expr,
    ShapeError,
    const,
    det,
    eye,
    inner,
    inv,
    logdet,
    norm,
    normsq,
    power,
    sqrtm,
    substitute,
    sylvester,
    trace,
    var,
    zeros,
)
from .expr import sum_ as sum
from .functions import abs, cos, exp, log, relu, sign, sin, sqrt, tan, tanh
from .linear import LinearMap
from .optimize import Iteration, MinimizeResult, NotConvergedError, NotConvergedWarning, minimize
from .parse import ParseError, parse
from .parse_map import parse_map
from .printing import map_latex, map_text, to_format, to_latex, to_numpy, to_text
from .simplify import simplify, simplify_map
from .taylor import taylor

__all__ = [
    "Derivative", "Expr", "Iteration", "LinearMap", "MinimizeResult", "NotConvergedError", "NotConvergedWarning",
    "ParseError", "ShapeError", "abs", "const", "cos", "det", "evaluate", "exp", "eye", "grad", "hessian", "inner",
    "inv", "jacobian", "log", "logdet", "map_latex", "map_text", "minimize", "norm", "normsq", "parse", "parse_map",
    "power", "relu", "sign", "simplify", "simplify_map", "sin", "sqrt", "sqrtm", "substitute", "sum", "sylvester",
    "tan", "tanh", "taylor", "to_format", "to_latex", "to_numpy", "to_text", "trace", "value_and_grad", "var", "zeros",
]

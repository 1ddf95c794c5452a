"""Every kind of expression node has its row in every table: the derivative rules, the numpy and
Array API kernels, the three printers and the parser. A new kind without one of them fails here.

Each kind has an example expression below that contains it; the example is evaluated, differentiated
(against central differences), printed in each format without simplification, and its text parsed back
and evaluated (against the value of the example).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from amd_reference import assert_close, fd_gradient, spd

from kronbox import amd
from kronbox.amd.differentiation.rules import LOCAL
from kronbox.amd.evaluation.array_api import ARRAY_API_KERNELS
from kronbox.amd.evaluation.numpy_kernels import NUMPY_KERNELS
from kronbox.amd.expressions import expr as E
from kronbox.amd.expressions import kronecker as K_
from kronbox.amd.expressions import spectral as S_

N = 3
X = amd.var("X", (N, N))
U = amd.var("X")  # unshaped: shape-only nodes stay nodes until the value is known
S = amd.const("S", spd(np.random.default_rng(1), N))

# kind → an expression containing a node of that kind (a scalar, so that it has a gradient in X, but for zeros).
EXAMPLES: dict[str, Callable[[], amd.Expr]] = {
    "var": lambda: amd.trace(X),
    "const": lambda: amd.trace(S @ X),
    "literal": lambda: amd.trace(2.5 * X),
    "eye": lambda: amd.trace(X + amd.eye(N)),
    "zeros": lambda: amd.zeros((N, N)),  # a zero folds away inside anything larger: the one matrix example
    "ones": lambda: amd.trace(X @ E.ones((N, N))),
    "add": lambda: amd.trace(X + S),
    "neg": lambda: amd.trace(-X),
    "mul": lambda: amd.sum(X * X),
    "div": lambda: amd.sum(X / (X * X + 1)),
    "matmul": lambda: amd.trace(X @ S @ X),
    "transpose": lambda: amd.trace(S @ X.T),
    "inv": lambda: amd.trace(amd.inv(X)),
    "trace": lambda: amd.trace(X),
    "det": lambda: amd.det(X),
    "logdet": lambda: amd.logdet(X),
    "sum": lambda: amd.sum(X),
    "norm": lambda: amd.norm(X),
    "normsq": lambda: amd.normsq(X),
    "mpow": lambda: amd.trace(X**3),
    "power": lambda: amd.sum(amd.power(X, 3)),
    "sqrtm": lambda: amd.trace(amd.sqrtm(X)),
    "sylvester": lambda: amd.trace(amd.sylvester(X, X, S)),
    "solve": lambda: amd.trace(amd.solve(X, S @ X)),
    "logsumexp": lambda: amd.logsumexp(X @ S),
    "softmax": lambda: amd.sum(amd.softmax(X) * S),
    "ew": lambda: amd.sum(amd.tanh(X)),
    # matrix functions and decompositions: of X + Xᵀ where they need a symmetric matrix (so every entry of X
    # may move in the differences); X0 below is symmetric positive definite, so logm and real powers exist
    "matfun": lambda: amd.sum(amd.expm(X) * S) + amd.trace(amd.logm(X)) + amd.sum(X**0.3),
    "frechet": lambda: amd.sum(S_.frechet(("expm",), X, S) * S),
    "eigvalsh": lambda: amd.sum(amd.eigvalsh(X + X.T) * amd.diag(S)),
    "eigvecs": lambda: amd.sum(amd.power(amd.eigvecs(X + X.T), 2) * S),
    "cholesky": lambda: amd.sum(amd.cholesky(X + X.T) * S),
    "trilhalf_like": lambda: amd.sum(S_.trilhalf_like(X) * X),
    "diag": lambda: amd.sum(amd.diag(X) * amd.diag(S)),
    "diagm": lambda: amd.trace(amd.diagm(amd.diag(X)) @ S),
    "kron": lambda: amd.sum(amd.kron(X, S) * amd.kron(S, X)),
    "kronfactor": lambda: amd.sum(K_.kronfactor(amd.kron(X @ X, S), S, 1) * X) + amd.sum(K_.kronfactor(
        amd.kron(S, X @ X), S, 2) * X),
    "eye_like": lambda: amd.trace(U + E.eye_like(U, 0)),
    "ones_like": lambda: amd.sum(U * E.ones_like(U)),
    "zeros_like": lambda: amd.trace(U) + amd.sum(E.zeros_like(U)),
}


def test_the_kinds_are_the_tables_keys():
    assert set(EXAMPLES) == E.KINDS, "every kind needs an example here"
    assert set(LOCAL) == E.OPERATION_KINDS, "every operation needs a derivative rule"
    assert set(NUMPY_KERNELS) == E.KINDS, "every kind needs a numpy kernel"
    assert set(ARRAY_API_KERNELS) == E.KINDS, "every kind needs an Array API kernel"


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_table_has_a_row_for(kind):
    e = EXAMPLES[kind]()
    assert kind in {n.kind for n in e.nodes()}, f"the example of {kind!r} lost its node: {e}"
    X0 = spd(np.random.default_rng(2), N)
    values = {"X": X0}
    value = e.eval(values)
    if e.shape == ():  # derivative rules: the gradient against central differences
        G = amd.grad(e, "X").eval(values)
        assert_close(np.asarray(G), fd_gradient(lambda Y: float(e.eval({"X": Y})), X0), 1e-6, kind)
    # each printer, on the expression as built
    text = amd.to_format(e, "amd", simplify=False)
    latex = amd.to_format(e, "latex", simplify=False)
    source = amd.to_format(e, "numpy", simplify=False)
    assert text and latex and "def " in source
    # the parser reads the printed text back to the same value
    parsed = amd.parse(text, {"X": (N, N), "S": (N, N)}, result_shape=e.shape)
    assert_close(np.asarray(parsed.eval({"X": X0, "S": S.value})), np.asarray(value), 1e-12, f"{kind}: {text}")
    # the numpy source computes it
    scope: dict = {}
    exec(compile(source, "<to_numpy>", "exec"), scope)  # the printed source under test
    arguments = {"X": X0, "S": S.value}
    result = scope["f"](*(arguments[k] for k in sorted(e.symbols)))
    assert_close(np.asarray(result), np.asarray(value), 1e-12, f"{kind}: numpy source")

"""Matrix powers with large exponents and the budget on symbolic work (issue 14, item 8).

The gradient of ``X^k`` has ``O(log k)`` nodes and evaluates in ``O(log k)`` matrix products (the
squares of ``X`` for the binary digits of ``k``, shared), ``trace(X^k)``'s prints as
``k*X^(k-1)'``, and work that would still grow with ``k`` (the Jacobian of ``X^k`` has ``k`` Kron
terms) stops at a limit with a :class:`SymbolicBudgetError` instead of running for minutes.
References: numpy's matrix powers and the defining sum ``Σⱼ (Xʲ)ᵀ Aᵀ (X^{k−1−j})ᵀ``."""

import math
import time

import numpy as np
import pytest
from amd_reference import assert_close
from command import kronbox

from kronbox import amd
from kronbox.amd.expressions.budget import SymbolicBudgetError

N = 3
rng = np.random.default_rng(8)
Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
X0 = Q @ np.diag([0.999, -0.998, 0.5]) @ Q.T + 0.001 * rng.standard_normal((N, N))  # powers stay bounded
A0 = rng.standard_normal((N, N))
x0 = rng.standard_normal((N, 1))


def reference_gradient(k: int) -> np.ndarray:
    """∇ trace(A X^k) = Σⱼ (Xʲ)ᵀ Aᵀ (X^{k−1−j})ᵀ, term by term in numpy."""
    powers = [np.eye(N)]
    for _ in range(k):
        powers.append(powers[-1] @ X0)
    return sum(powers[j].T @ A0.T @ powers[k - 1 - j].T for j in range(k))


def products(e) -> int:
    return sum(n.kind == "matmul" for n in e.nodes())


@pytest.mark.parametrize("k", [5, 64, 65, 100, 1000, 10_000, 1_000_000, 10**12])
def test_the_gradient_of_trace_of_a_power_is_k_times_a_power(k):
    X = amd.var("X", (N, N))
    start = time.perf_counter()
    g = amd.grad(amd.trace(X**k), X)
    assert str(g) == f"{k}*X^{k - 1}'"
    assert len(g.nodes()) <= 8 and time.perf_counter() - start < 2
    if k <= 1000:
        assert_close(g.eval(X=X0), k * np.linalg.matrix_power(X0, k - 1).T, 1e-8, f"k = {k}")


@pytest.mark.parametrize("k", [65, 100, 257, 1000, 4097, 10**9])
def test_the_gradient_of_a_general_power_has_log_k_nodes_and_products(k):
    X, A = amd.var("X", (N, N)), amd.const("A", A0)
    for f in (amd.trace(A @ X**k), x0.T @ X**k @ amd.const("x", x0)):
        g = amd.grad(f, X)
        assert len(g.nodes()) <= 30 * math.log2(k), len(g.nodes())
        assert products(g) <= 12 * math.log2(k), products(g)
    if k <= 1000:
        g = amd.grad(amd.trace(A @ X**k), X)
        assert_close(g.eval(X=X0), reference_gradient(k), 1e-7, f"k = {k}")
        assert_close(amd.parse(str(g), {"A": (N, N), "X": (N, N)}).eval(A=A0, X=X0), reference_gradient(k), 1e-7,
                     "printed")


def test_the_command_line_prints_the_gradient_of_a_huge_power_at_once():
    for k in (10_000, 100_000):
        start = time.perf_counter()
        result = kronbox("diff", f"trace(X^{k})")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[1] == f"Derivative: {k}*X^{k - 1}'"
        assert time.perf_counter() - start < 10


def test_symbolic_work_beyond_the_budget_is_a_clear_error():
    X = amd.var("X", (N, N))
    with pytest.raises(SymbolicBudgetError, match="MAX_MAP_TERMS"):
        _ = amd.jacobian(X**10_000, X).map
    with pytest.raises(SymbolicBudgetError, match="MAX_MAP_TERMS"):
        _ = amd.hessian(amd.trace(amd.const("A", A0) @ X**300), X).map
    e = X
    for _ in range(40):  # 2^40 copies of X when written out without sharing
        e = e @ e
    with pytest.raises(SymbolicBudgetError, match="MAX_TEXT"):
        amd.to_text(e)
    assert str(e) == f"X^{2**40}"  # simplified, it is short
    result = kronbox("diff", "trace(X^10000)", "--hessian")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "MAX_MAP_TERMS" in result.stderr

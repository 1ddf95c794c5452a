"""``simplify()`` of long compositions is near-linear (issue 14, item 8): a chain of n composed Kron,
Box, scaled and inverse factors folds in one pass, and the result is the product of the dense
matrices (numpy, the independent reference)."""

import time

import numpy as np
import pytest

import kronbox as kb


def chain(n: int, seed: int = 0, kinds: str = "kb"):
    rng = np.random.default_rng(seed)
    ops = []
    for i in range(n):
        A = np.eye(2) + 0.3 * rng.standard_normal((2, 2))
        B = np.eye(2) + 0.3 * rng.standard_normal((2, 2))
        kind = kinds[i % len(kinds)]
        op = kb.Kron(A, B) if kind == "k" else kb.Box(A, B) if kind == "b" else 0.9 * kb.Kron(A, B)
        ops.append(op)
    composed = ops[0]
    for op in ops[1:]:
        composed = composed @ op
    return composed, ops


def seconds(op) -> float:
    start = time.perf_counter()
    op.simplify()
    return time.perf_counter() - start


@pytest.mark.parametrize("kinds", ["k", "kb", "kbs"])
def test_the_simplified_chain_is_the_product(kinds):
    op, ops = chain(40, kinds=kinds)
    simplified = op.simplify()
    assert not isinstance(simplified, kb.operators.Compose)  # folded into one Kron or Box (maybe scaled)
    dense = np.eye(4)
    for factor in ops:
        dense = dense @ factor.to_dense()
    np.testing.assert_allclose(simplified.to_dense(), dense, rtol=1e-9, atol=1e-12 * np.abs(dense).max())


@pytest.mark.parametrize("kinds", ["k", "kbs"])
def test_simplify_is_near_linear_in_the_length_of_the_chain(kinds):
    small, large = chain(500, kinds=kinds)[0], chain(4000, kinds=kinds)[0]
    seconds(chain(50, kinds=kinds)[0])  # warm up
    t_small, t_large = min(seconds(small) for _ in range(3)), seconds(large)
    assert t_large < 3.0, t_large  # a chain of 3000 took 31 s, quadratic
    assert t_large < 8 * 4 * max(t_small, 1e-3), (t_small, t_large)  # 8× longer: ≲ 8× the time, not 64×


def test_a_chain_with_inverses_cancels():
    rng = np.random.default_rng(1)
    A, B = np.eye(3) + 0.2 * rng.standard_normal((3, 3)), np.eye(3) + 0.2 * rng.standard_normal((3, 3))
    K = kb.Kron(A, B)
    op = K
    for _ in range(300):
        op = op @ K.inv() @ K
    np.testing.assert_allclose(op.simplify().to_dense(), np.kron(A, B), rtol=1e-8, atol=1e-10)

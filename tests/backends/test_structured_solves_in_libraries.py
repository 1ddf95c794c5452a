"""Sums of Kronecker products sharing an eigenbasis (``K₁ ⊗ K₂ + σ² I``, Kronecker sums of three factors) with
factors of another array library: solved, inverted and their log-determinants taken in that library by its
``eigh``, against numpy's dense solve."""

from functools import reduce

import numpy as np
import pytest

import kronbox as kb


def spd(rng, n):
    G = rng.standard_normal((n, n))
    return G @ G.T / n + 0.1 * np.eye(n)


def test_kron_plus_shift_in_the_library(lib):
    asarray, to_numpy = lib
    rng = np.random.default_rng(0)
    K1, K2 = spd(rng, 4), spd(rng, 5)
    op = kb.Kron(asarray(K1), asarray(K2)) + 0.5 * kb.Identity(20)
    dense = np.kron(K1, K2) + 0.5 * np.eye(20)
    b = rng.standard_normal(20)
    x = op.solve(asarray(b))
    assert type(x) is type(asarray(b))
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(dense, b), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(op.inv() @ asarray(b)), np.linalg.solve(dense, b), rtol=1e-10, atol=1e-12)
    sign, logabsdet = op.slogdet()
    dense_sign, dense_log = np.linalg.slogdet(dense)
    assert sign == dense_sign and logabsdet == pytest.approx(dense_log, rel=1e-10)


def test_kronecker_sum_of_three_factors_in_the_library(lib):
    asarray, to_numpy = lib
    rng = np.random.default_rng(1)
    sizes = (2, 3, 4)
    Ks = [spd(rng, n) for n in sizes]
    terms = [kb.Kron(*[asarray(Ks[i]) if i == j else kb.Identity(n) for i, n in enumerate(sizes)]) for j in range(3)]
    op = kb.Sum(*terms)
    dense = sum(reduce(np.kron, [Ks[i] if i == j else np.eye(n) for i, n in enumerate(sizes)]) for j in range(3))
    B = rng.standard_normal((24, 2))
    np.testing.assert_allclose(to_numpy(op.solve(asarray(B))), np.linalg.solve(dense, B), rtol=1e-10, atol=1e-12)

"""The Kronecker Gaussian process against a dense implementation (Cholesky of the ``N × N`` covariance) and
central differences, at N ≤ 2 000; and at N = 10⁶ with peak memory a small multiple of the data."""

from __future__ import annotations

import tracemalloc
from functools import reduce

import numpy as np
import pytest

from kronbox.examples.kronecker_gp import GridGP, fit


def dense_covariance(axes, theta):
    *logls, log_signal, log_noise = theta
    grams = [np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / np.exp(t) ** 2) for x, t in zip(axes, logls, strict=True)]
    N = int(np.prod([x.size for x in axes]))
    return np.exp(log_signal) * reduce(np.kron, grams) + np.exp(log_noise) * np.eye(N)


def dense_log_likelihood(axes, y, theta):
    K = dense_covariance(axes, theta)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, y.ravel())
    return -0.5 * y.ravel() @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * y.size * np.log(2 * np.pi)


GRIDS = {
    "2 axes": ((np.linspace(0, 1, 20), np.linspace(-1, 2, 30)), np.log([0.2, 0.7, 1.5, 0.1])),
    "3 axes": ((np.linspace(0, 1, 8), np.linspace(0, 3, 9), np.linspace(0, 1, 10)), np.log([0.3, 1.0, 0.5, 0.8, 0.05])),
}


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_likelihood_and_gradient_against_dense(grid):
    axes, theta = GRIDS[grid]
    rng = np.random.default_rng(1)
    y = rng.standard_normal(tuple(x.size for x in axes))
    value, grad = GridGP(axes, y, theta).value_and_grad()
    assert value == pytest.approx(dense_log_likelihood(axes, y, theta), rel=1e-10)
    h = 1e-5
    fd = [(dense_log_likelihood(axes, y, theta + h * e) - dense_log_likelihood(axes, y, theta - h * e)) / (2 * h)
          for e in np.eye(theta.size)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5 * max(1.0, abs(value)))


def test_posterior_mean_against_dense():
    axes, theta = GRIDS["2 axes"]
    y = np.random.default_rng(2).standard_normal((20, 30))
    K = dense_covariance(axes, theta)
    prior = K - np.exp(theta[-1]) * np.eye(K.shape[0])
    expected = prior @ np.linalg.solve(K, y.ravel())
    np.testing.assert_allclose(GridGP(axes, y, theta).posterior_mean().ravel(), expected, rtol=1e-9, atol=1e-12)


def test_fit_raises_the_likelihood_and_finds_the_noise():
    rng = np.random.default_rng(3)
    axes = (np.linspace(0, 1, 25), np.linspace(0, 1, 30))
    f = np.sin(5 * axes[0])[:, None] * np.cos(3 * axes[1])[None, :]
    y = f + 0.1 * rng.standard_normal(f.shape)
    start = np.log([0.5, 0.5, 1.0, 0.5])
    model = fit(axes, y, start)
    assert model.log_marginal_likelihood() > GridGP(axes, y, start).log_marginal_likelihood() + 100
    assert 0.005 < model.noise < 0.02  # the noise variance used, 0.01


def test_bad_input_says_what_is_wrong():
    x = np.linspace(0, 1, 4)
    with pytest.raises(ValueError, match="y has shape"):
        GridGP((x, x), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="two or more axes"):
        GridGP((x,), np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="θ holds"):
        GridGP((x, x), np.zeros((4, 4)), np.zeros(3))


@pytest.mark.slow
def test_a_million_points_in_seconds_and_little_memory():
    """1 000 × 1 000 grid: the covariance would have 10¹² entries (8 TB); the evaluation holds a few arrays
    of the data's size (the factors' Gram matrices, their derivatives and eigenvectors are 1 000 × 1 000 too)."""
    n = 1000
    axes = (np.linspace(0, 1, n), np.linspace(0, 1, n))
    y = np.random.default_rng(4).standard_normal((n, n))
    tracemalloc.start()
    try:
        value, grad = GridGP(axes, y, np.log([0.1, 0.1, 1.0, 0.05])).value_and_grad()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert peak < 16 * y.nbytes, f"peak {peak / 1e6:.0f} MB for {y.nbytes / 1e6:.0f} MB of data"

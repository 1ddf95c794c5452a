"""Gaussian process regression on a grid with a product kernel: ``K = σ_f² (K₁ ⊗ ⋯ ⊗ K_d) + σ_n² I``.

Observations ``y`` on the grid ``x⁽¹⁾ × ⋯ × x⁽ᵈ⁾`` (row-major: ``y[i₁, …, i_d]`` at ``(x⁽¹⁾_{i₁}, …)``),
a squared-exponential kernel per axis, ``Kᵢ[a, b] = exp(−(x⁽ⁱ⁾_a − x⁽ⁱ⁾_b)² / (2 ℓᵢ²))``. The covariance
of ``N = Π nᵢ`` points is never formed: it is the lazy ``σ_f² Kron(K₁, …) + σ_n² Identity(N)``, whose
solve, log-determinant and traces come from one ``eigh`` per factor
(:mod:`kronbox.linalg.shared_eigenbasis`). With ``Kᵢ = Qᵢ Λᵢ Qᵢᵀ``, ``e = σ_f² ⊗Λᵢ + σ_n²`` and
``α = K⁻¹ y``:

- log marginal likelihood ``L = −½ yᵀα − ½ Σ log e − (N/2) log 2π``;
- ``∂L/∂θ = ½ αᵀ (∂K/∂θ) α − ½ tr(K⁻¹ ∂K/∂θ)``, with the traces in closed form:
  ``tr(K⁻¹ (K₁ ⊗ ⋯ ∂Kⱼ ⋯ ⊗ K_d)) = Σ_p (⊗ᵢ gᵢ)_p / e_p`` where ``gᵢ = Λᵢ`` for ``i ≠ j`` and
  ``gⱼ = diag(Qⱼᵀ ∂Kⱼ Qⱼ)``; ``tr(K⁻¹) = Σ 1/e``.

Parameters are optimized on the log scale, ``θ = (log ℓ₁, …, log ℓ_d, log σ_f², log σ_n²)``. At a
1 000 × 1 000 grid (N = 10⁶, a 10¹²-entry covariance) an evaluation of ``L`` and its gradient costs
two 1 000 × 1 000 eigendecompositions and a few products of 1 000 × 1 000 matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import scipy.optimize

from kronbox.linalg.shared_eigenbasis import SharedEigenbasis, recognize
from kronbox.operators import Identity, Kron, Operator


def rbf(x: np.ndarray, lengthscale: float) -> tuple[np.ndarray, np.ndarray]:
    """The squared-exponential Gram matrix of the points ``x`` and its derivative with respect to ``log ℓ``:
    ``K = exp(−r² / (2ℓ²))``, ``∂K/∂log ℓ = K ∘ r² / ℓ²`` (``r`` the pairwise distances)."""
    r2 = (x[:, None] - x[None, :]) ** 2 / lengthscale**2
    K = np.exp(-0.5 * r2)
    return K, K * r2


@dataclass(frozen=True)
class GridGP:
    """A Gaussian process on a grid: the axes' points, the observations (``grid sizes`` shaped), and
    ``θ = (log ℓ₁, …, log ℓ_d, log σ_f², log σ_n²)``."""

    axes: tuple[np.ndarray, ...]
    y: np.ndarray
    theta: np.ndarray

    def __post_init__(self):
        axes = tuple(np.asarray(x, dtype=float).ravel() for x in self.axes)
        sizes = tuple(x.size for x in axes)
        y = np.asarray(self.y, dtype=float)
        if len(axes) < 2:
            raise ValueError(f"GridGP: a grid has two or more axes, got {len(axes)} (one axis is an ordinary GP)")
        if y.shape != sizes:
            raise ValueError(f"GridGP: y has shape {y.shape}, the grid is {' × '.join(map(str, sizes))}")
        theta = np.asarray(self.theta, dtype=float).ravel()
        if theta.size != len(axes) + 2:
            raise ValueError(
                f"GridGP: θ holds {len(axes)} log-lengthscales, log σ_f², log σ_n²; got {theta.size} numbers"
            )
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "theta", theta)

    @property
    def signal(self) -> float:
        return float(np.exp(self.theta[-2]))

    @property
    def noise(self) -> float:
        return float(np.exp(self.theta[-1]))

    def gram(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(Kᵢ, ∂Kᵢ/∂log ℓᵢ)`` per axis."""
        return [rbf(x, np.exp(t)) for x, t in zip(self.axes, self.theta, strict=False)]

    def covariance(self, grams=None) -> Operator:
        """``σ_f² K₁ ⊗ ⋯ ⊗ K_d + σ_n² I`` as a lazy kronbox operator."""
        Ks = [K for K, _ in (grams or self.gram())]
        return Kron(*Ks) * self.signal + Identity(self.y.size) * self.noise

    def _structure(self, grams) -> SharedEigenbasis:
        structure = recognize(self.covariance(grams))
        if structure is None:  # the factors are symmetric by construction
            raise RuntimeError("GridGP: the covariance lost its Kronecker-plus-diagonal structure")
        smallest = np.min(structure.spectrum)
        if smallest <= 0:
            raise np.linalg.LinAlgError(
                f"GridGP: the covariance is not positive definite (smallest eigenvalue {smallest:.3g})"
            )
        return structure

    def log_marginal_likelihood(self) -> float:
        """``log p(y | θ) = −½ yᵀ K⁻¹ y − ½ log det K − (N/2) log 2π``."""
        return self.value_and_grad()[0]

    def value_and_grad(self) -> tuple[float, np.ndarray]:
        """``L(θ)`` and ``∂L/∂θ`` (module docstring), by the kept eigendecompositions of the factors."""
        grams = self.gram()
        structure = self._structure(grams)
        values, vectors = structure.eigen
        e = structure.spectrum
        N = e.size
        y = self.y.ravel()
        alpha = structure.solve(y[:, None])[:, 0]
        value = -0.5 * y @ alpha - 0.5 * np.sum(np.log(e)) - 0.5 * N * np.log(2 * np.pi)
        grad = np.empty_like(self.theta)
        for j, (_, dK) in enumerate(grams):
            factors = [dK if i == j else G for i, (G, _) in enumerate(grams)]
            quadratic = alpha @ Kron(*factors)._matmat(alpha[:, None])[:, 0]
            # diag(Qᵀ dK Q) for the differentiated axis (Q None: eigenvectors I, a diagonal factor)
            g = [lam if i != j else np.diagonal(dK) if Q is None else np.einsum("kp,kp->p", Q, dK @ Q)
                 for i, (lam, Q) in enumerate(zip(values, vectors, strict=True))]
            trace = np.sum(reduce(np.multiply.outer, g).ravel() / e)
            grad[j] = 0.5 * self.signal * (quadratic - trace)
        aa = alpha @ alpha
        grad[-2] = 0.5 * ((y @ alpha - self.noise * aa) - (N - self.noise * np.sum(1 / e)))
        grad[-1] = 0.5 * self.noise * (aa - np.sum(1 / e))
        return float(value), grad

    def posterior_mean(self) -> np.ndarray:
        """``E[f | y] = σ_f² (K₁ ⊗ ⋯ ⊗ K_d) K⁻¹ y`` on the grid, shaped like ``y``."""
        grams = self.gram()
        structure = self._structure(grams)
        alpha = structure.solve(self.y.reshape(-1, 1))
        Ks = [G for G, _ in grams]
        mean = Kron(*Ks)._matmat(alpha)
        return self.signal * mean.reshape(self.y.shape)


def fit(axes: Sequence[np.ndarray], y: np.ndarray, theta0: Sequence[float], maxiter: int = 100) -> GridGP:
    """The model of maximum marginal likelihood from ``θ₀`` (scipy's L-BFGS-B on ``−L`` and ``−∂L/∂θ``)."""

    def objective(theta):
        value, grad = GridGP(tuple(axes), y, theta).value_and_grad()
        return -value, -grad

    result = scipy.optimize.minimize(objective, np.asarray(theta0, dtype=float), jac=True, method="L-BFGS-B",
                                     options={"maxiter": maxiter})
    return GridGP(tuple(axes), y, result.x)

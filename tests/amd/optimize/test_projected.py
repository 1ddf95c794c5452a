"""``fewer_terms`` and ``merged_map``: a Hessian of a symmetric variable with its Kron and Box terms merged
(by value, or as expressions once) equals the original as ``Π H Π`` (against ``np.kron`` and the box product's
einsum, projected), with fewer terms; the merged operator stays inside the projection, so it is never solved as
if it held everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import fd_hessian, spd, symmetric_projector
from zoo import box_twin

import kronbox as kb
from kronbox.amd.optimize.projected import fewer_terms


def test_terms_sharing_a_factor_merge_and_keep_the_projected_value():
    rng = np.random.default_rng(0)
    n = 4
    P = spd(rng, n)
    A, B, C = (rng.standard_normal((n, n)) for _ in range(3))
    H = kb.Box(P.T.copy(), A) + 2.0 * kb.Kron(B, B) + kb.Box(C, P) - kb.Kron(A, P)  # P and Pᵀ: one factor
    dense = box_twin(P.T, A) + 2 * np.kron(B, B) + box_twin(C, P) - np.kron(A, P)
    merged = fewer_terms(H)
    assert isinstance(merged, kb.SymmetricPart)
    assert len(merged.op.ops) == 2  # {P: A + C − A} and {B: 2B}
    Pi = symmetric_projector(n)
    np.testing.assert_allclose(merged.to_dense(), Pi @ dense @ Pi, rtol=1e-12, atol=1e-12)


def test_nothing_to_merge_leaves_the_operator_alone():
    rng = np.random.default_rng(1)
    A, B, C, D = (rng.standard_normal((3, 3)) for _ in range(4))
    H = kb.Kron(A, B) + kb.Box(C, D) + kb.Identity(9)
    assert fewer_terms(H).op is H
    single = kb.Kron(A, B)
    assert fewer_terms(single).op is single


def test_the_projected_hessian_refuses_a_full_space_solve_and_minres_solves_on_the_subspace():
    """The issue's case: merged terms ``A ⊗ B`` standing for ``(A ⊗ B + B ⊗ A)/2`` on symmetric directions.
    ``solve`` refuses (the operator is singular on the full space); MINRES on the operator gives the Newton
    step computed densely on the symmetric subspace."""
    from scipy.sparse.linalg import minres

    rng = np.random.default_rng(2)
    n = 5
    P, Q = spd(rng, n), spd(rng, n)
    H = kb.Kron(P, Q) + kb.Box(Q, P) + kb.Kron(Q, P)  # all three merge into one pair
    dense = np.kron(P, Q) + box_twin(Q, P) + np.kron(Q, P)
    projected = fewer_terms(H)
    G = rng.standard_normal((n, n))
    g = ((G + G.T) / 2).ravel()
    with pytest.raises(np.linalg.LinAlgError, match="symmetric 5×5 matrices only"):
        projected.solve(g)
    assert projected.slogdet()[0] == 0
    Pi = symmetric_projector(n)
    basis = np.linalg.svd(Pi)[0][:, : n * (n + 1) // 2]  # an orthonormal basis of the symmetric matrices
    reduced = basis.T @ Pi @ dense @ Pi @ basis
    newton = basis @ np.linalg.solve(reduced, basis.T @ g)
    step, info = minres(projected, g, rtol=1e-12)
    assert info == 0
    np.testing.assert_allclose(step, newton, rtol=1e-8, atol=1e-10)


def _kron_terms(L) -> int:
    return len(L.args) if L.kind == "sum" else 1


@pytest.mark.parametrize("case", ["covariance", "quadratic", "inverse"])
def test_a_merged_map_is_the_projected_hessian_at_every_symmetric_point(case):
    """``merged_map``: the Hessian's Kron and box terms merged as functions of a symmetric ``X``, once; ``Π H' Π``
    equals ``Π H Π`` at symmetric points (the unmerged operator to round-off, second central differences of ``f``
    to theirs), with fewer terms."""
    from kronbox import amd
    from kronbox.amd.differentiation.symmetric import merged_map

    rng = np.random.default_rng(7)
    n = 4
    X = amd.var("X", (n, n))
    S = amd.const("S", spd(rng, n))
    A = amd.const("A", rng.standard_normal((n, n)))
    f = {"covariance": amd.logdet(X) + amd.trace(S @ amd.inv(X)) + amd.normsq(amd.inv(X)),
         "quadratic": amd.trace(X @ A @ X @ S) + amd.trace(X.T @ S @ X @ A),
         "inverse": amd.trace(A @ amd.inv(X) @ S @ amd.inv(X))}[case]
    H = amd.hessian(f, X).map
    merged = merged_map(H, X)
    assert merged is not None and _kron_terms(merged) < _kron_terms(H)
    Pi = symmetric_projector(n)
    for seed in range(3):
        X0 = spd(np.random.default_rng(seed), n)
        expected = amd.hessian(f, X).at({"X": X0}).to_dense()
        got = merged.at({"X": X0}).to_dense()
        np.testing.assert_allclose(Pi @ got @ Pi, Pi @ expected @ Pi, rtol=1e-10, atol=1e-10)
        differences = fd_hessian(lambda M: f.eval({"X": M}), X0)
        np.testing.assert_allclose(Pi @ got @ Pi, Pi @ differences @ Pi, rtol=1e-5, atol=1e-5 * np.abs(got).max())
    assert merged_map(amd.hessian(amd.sum(amd.eigvalsh(X)), X).map, X) is None  # not Kron and box terms

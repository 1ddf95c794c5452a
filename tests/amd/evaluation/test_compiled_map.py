"""Hessians of Kron and box terms bound by one compiled plan apply as their kronbox operators do; other
maps are left to the operators."""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import fd_hessian, spd, symmetric_projector

from kronbox import amd
from kronbox.amd.evaluation.compiled_map import CompiledMap, thin_path
from kronbox.amd.optimize.objective import VecObjective, sym
from kronbox.amd.optimize.projected import fewer_terms

N = 4
X = amd.var("X", (N, N))
S = amd.const("S", shape=(N, N))
A = amd.const("A", shape=(N, N))
FUNCTIONS = {
    "covariance": -amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X)),
    "logdet": amd.logdet(X),
    "trace(A X S X)": amd.trace(A @ X @ S @ X),
    "‖X⁻¹‖²": amd.normsq(amd.inv(X)),
}


def _values(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"X": spd(rng, N), "S": spd(rng, N), "A": rng.standard_normal((N, N))}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bound_terms_apply_as_the_hessian_operator(name):
    H = amd.hessian(FUNCTIONS[name], X)
    compiled = CompiledMap(H.map)
    values = _values()
    terms = compiled.terms_at(values)
    assert terms is not None, f"{name}: {H.map}"
    v = np.random.default_rng(1).standard_normal(N * N)
    np.testing.assert_allclose(thin_path(terms, (N, N))(v), H.at(values) @ v, rtol=1e-12, atol=1e-12)


def test_maps_of_another_form_are_left_to_the_operators():
    for f in (amd.normsq(X) + amd.trace(X @ X), amd.trace(S @ amd.inv(X)) * amd.logdet(X)):  # identities, outers
        assert CompiledMap(amd.hessian(f, X).map).terms_at(_values()) is None
    compiled = CompiledMap(amd.hessian(FUNCTIONS["covariance"], X).map)
    assert compiled.terms_at({**_values(), "X": np.eye(N, dtype=int)}) is None  # values the plan does not take
    assert compiled.terms_at({**_values(), "X": np.zeros((N, N))}) is None  # singular: the operator path reports it


@pytest.mark.parametrize("symmetric", [False, True])
def test_the_objective_applies_the_hessian_as_its_operator_does(symmetric):
    f = FUNCTIONS["covariance"]
    values = _values(2)
    X0 = values.pop("X")
    objective = VecObjective(f, "X", X0, values, symmetric=symmetric)
    x = X0.ravel()
    rng = np.random.default_rng(3)
    for p in rng.standard_normal((3, N * N)):
        H = objective.operator(x)
        expected = fewer_terms(H) @ p if symmetric else H @ p
        np.testing.assert_allclose(objective.hessp(x, p), expected, rtol=1e-12, atol=1e-12)
        objective.value_and_grad(x)  # the factors are now evaluated with f and ∇f: the same products
    if symmetric:
        P = rng.standard_normal((N, N))
        np.testing.assert_allclose(objective.hessp(x, sym(P).ravel()).reshape(N, N),
                                   sym((objective.operator(x) @ sym(P).ravel()).reshape(N, N)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_amd_compile_binds_value_gradient_and_hessian_at_once(name):
    f = FUNCTIONS[name]
    fn = amd.compile(f, amd.grad(f, X), amd.hessian(f, X))
    values = _values(4)
    value, G, H = fn(values)
    reference = amd.hessian(f, X).at(values)
    assert value == f.eval(values) and np.array_equal(G, amd.grad(f, X).eval(values))
    V = np.random.default_rng(5).standard_normal((N * N, 3))
    np.testing.assert_allclose(H @ V[:, 0], reference @ V[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H @ V, reference @ V, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H.H @ V[:, 1], reference.H @ V[:, 1], rtol=1e-12, atol=1e-12)
    if "inv" in str(f):
        assert fn.source(values).count("_factorize(") == 1  # f, ∇f and H share inv(X)'s factorization


def test_amd_compile_binds_other_maps_as_their_kronbox_operators():
    f = amd.trace(S @ amd.inv(X)) * amd.logdet(X)  # outer products in its Hessian
    values = _values(6)
    _, H = amd.compile(f, amd.hessian(f, X))(values)
    v = np.random.default_rng(7).standard_normal(N * N)
    np.testing.assert_allclose(H @ v, amd.hessian(f, X).at(values) @ v, rtol=1e-12)
    with pytest.raises(ValueError, match="declare the shapes"):
        amd.compile(amd.hessian(amd.logdet(amd.var("Y")), "Y"))


XS = amd.var("X", (N, N), symmetric=True)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_hessian_in_a_symmetric_variable_binds_its_merged_terms_inside_the_projection(name):
    """``amd.compile`` of ``Π H Π`` binds the merged Kron terms ``H'`` of ``Derivative.symmetric_core`` and applies
    them between two symmetrizations: products and adjoint products as the kronbox operator's, on any vector."""
    from kronbox.amd.expressions.expr import substitute

    f = substitute(FUNCTIONS[name], {X: XS})
    hessian = amd.hessian(f, XS)
    core = hessian.symmetric_core
    assert core is not None and core.kind in ("kron", "sum", "scaled"), name
    fn = amd.compile(f, amd.grad(f, XS), hessian)
    values = _values(8)
    value, G, H = fn(values)
    assert H.projected and value == f.eval(values) and np.array_equal(G, amd.grad(f, XS).eval(values))
    reference = hessian.at(values)
    V = np.random.default_rng(9).standard_normal((N * N, 3))
    np.testing.assert_allclose(H @ V, reference @ V, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H.H @ V[:, 1], reference.H @ V[:, 1], rtol=1e-12, atol=1e-12)
    assert fn.source(values).count("_factorize(") <= 1
    # independently: Π D Π, D the second central differences of the same function with every entry free
    free = FUNCTIONS[name]
    others = {k: v for k, v in values.items() if k != "X"}
    Pi = symmetric_projector(N)
    D = Pi @ fd_hessian(lambda M: free.eval({**others, "X": M}), values["X"]) @ Pi
    np.testing.assert_allclose(H @ np.eye(N * N), D, rtol=1e-5, atol=1e-5 * np.abs(D).max())


def test_only_a_hessian_in_a_symmetric_variable_has_a_symmetric_core():
    f = FUNCTIONS["covariance"]
    assert amd.hessian(f, X).symmetric_core is None  # a free variable
    assert amd.jacobian(amd.inv(XS), XS).symmetric_core is None  # not a Hessian
    assert amd.hessian(amd.sum(amd.eigvalsh(XS)), XS).symmetric_core is None  # not Kron and box terms


def test_a_compiled_function_takes_values_by_name_only():
    fn = amd.compile(FUNCTIONS["logdet"])
    with pytest.raises(TypeError, match=r"takes values by name.*ndarray"):
        fn(np.eye(N))

"""Matrix expressions: immutable, hash-consed, shared work done once, shapes from the values, every
operator overload, literal folding, and every primitive evaluated against its numpy definition
(real, complex with the analytic continuation ``Σ x²`` rather than ``Σ |x|²``, and float32)."""

from __future__ import annotations

import copy
import importlib
from collections import Counter

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from kronbox import amd
from kronbox.amd.evaluation import numpy_kernels
from kronbox.amd.evaluation.factorization import Factorization
from kronbox.amd.expressions.expr import ones as ones_expr

N = 4


def spd(n: int, rng: np.random.Generator) -> np.ndarray:
    A = rng.standard_normal((n, n))
    return A @ A.T / n + np.eye(n)


def general(n: int, rng: np.random.Generator) -> np.ndarray:
    """A non-symmetric matrix with a positive determinant, well away from singular."""
    return rng.standard_normal((n, n)) + 3 * np.eye(n)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


# -- immutability and hash-consing -------------------------------------------------------------------
def test_expressions_are_immutable():
    X = amd.var("X", (3, 3))
    e = X @ X.T
    for name, value in (("kind", "add"), ("shape", (2, 2)), ("args", ()), ("new_attribute", 1)):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(e, name, value)
    for name in ("kind", "shape", "args"):
        with pytest.raises(AttributeError, match="immutable"):
            delattr(e, name)
    assert (e.kind, e.shape, e.args) == ("matmul", (3, 3), (X, X.T))


def test_a_copy_of_an_expression_is_the_expression():
    X = amd.var("X", (3, 3))
    e = amd.inv(X) @ X.T
    assert copy.copy(e) is e
    assert copy.deepcopy({"f": e}) == {"f": e}
    assert copy.deepcopy(e) is e


ENTRYWISE = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sign", "relu")


def _constructors():
    X, Y = amd.var("X", (3, 3)), amd.var("Y", (3, 3))
    S = amd.const("S", shape=(3, 3))
    a = amd.var("a", ())
    return {
        "var": lambda: amd.var("X", (3, 3)),
        "var without shape": lambda: amd.var("Z"),
        "const": lambda: amd.const("S", shape=(3, 3)),
        "eye": lambda: amd.eye(3),
        "eye of open size": lambda: amd.eye(),
        "zeros": lambda: amd.zeros((3, 2)),
        "+": lambda: X + Y,
        "-": lambda: X - Y,
        "unary -": lambda: -X,
        "@": lambda: X @ Y,
        "*": lambda: X * Y,
        "/": lambda: X / Y,
        "scalar *": lambda: a * X,
        "number *": lambda: 2.5 * X,
        "number +": lambda: X + 1.5,
        ".T": lambda: X.T,
        "inv": lambda: amd.inv(X),
        "** -1": lambda: X**-1,
        "** 3": lambda: X**3,
        "** -2": lambda: X**-2,
        "** 0.5": lambda: X**0.5,
        "trace": lambda: amd.trace(X @ Y),
        "det": lambda: amd.det(X),
        "logdet": lambda: amd.logdet(X),
        "sum": lambda: amd.sum(X),
        "norm": lambda: amd.norm(X),
        "normsq": lambda: amd.normsq(X),
        "inner": lambda: amd.inner(X, Y),
        "sqrtm": lambda: amd.sqrtm(X),
        "power": lambda: amd.power(X, 3),
        "sylvester": lambda: amd.sylvester(X, Y, S),
        **{name: _entrywise(name, X) for name in ENTRYWISE},
    }


def _entrywise(name: str, X: amd.Expr):
    return lambda: getattr(amd, name)(X)


@pytest.mark.parametrize("name", list(_constructors()))
def test_every_constructor_is_hash_consed(name):
    build = _constructors()[name]
    assert build() is build()


def test_different_arguments_give_different_nodes():
    X, Y = amd.var("X", (3, 3)), amd.var("Y", (3, 3))
    assert X @ Y is not Y @ X
    assert X - Y is not Y - X
    assert amd.var("X", (3, 3)) is not amd.var("X", (2, 2))
    assert amd.power(X, 2) is not amd.power(X, 3)


# -- shared work is done once ------------------------------------------------------------------------
@pytest.fixture
def kernel_calls(monkeypatch) -> Counter:
    """Counts, per node, the calls of the evaluation kernels (their results are unchanged)."""
    calls: Counter = Counter()
    for kind, kernel in list(numpy_kernels.NUMPY_KERNELS.items()):
        def counted(n, ctx, kernel=kernel):
            calls[n] += 1
            return kernel(n, ctx)

        monkeypatch.setitem(numpy_kernels.NUMPY_KERNELS, kind, counted)
    return calls


@pytest.fixture
def factorizations(monkeypatch) -> list[str]:
    """The matrices factorized (by the name in their error messages), one entry per Factorization."""
    made: list[str] = []
    init = Factorization.__init__

    def counted(self, A, what):
        made.append(str(what))
        init(self, A, what)

    monkeypatch.setattr(Factorization, "__init__", counted)
    return made


def covariance_objective(n: int, S0: np.ndarray) -> tuple[amd.Expr, amd.Expr]:
    """``(Σ, −logdet Σ − trace(S Σ⁻¹) − ‖Σ⁻¹‖²_F)``."""
    Sigma = amd.var("Sigma", (n, n))
    S = amd.const("S", S0)
    return Sigma, -amd.logdet(Sigma) - amd.trace(S @ amd.inv(Sigma)) - amd.normsq(amd.inv(Sigma))


def covariance_reference(Sigma0: np.ndarray, S0: np.ndarray) -> tuple[float, np.ndarray]:
    """The objective and its gradient ``−Σ⁻ᵀ + (Σ⁻¹ S Σ⁻¹)ᵀ + 2 (Σ⁻¹ Σ⁻ᵀ Σ⁻¹)ᵀ`` by hand."""
    P = np.linalg.inv(Sigma0)
    value = -np.linalg.slogdet(Sigma0)[1] - np.trace(S0 @ P) - np.sum(P * P)
    return value, (-P + P @ S0 @ P + 2 * P @ P.T @ P).T


def test_a_common_subexpression_is_evaluated_once(kernel_calls, rng):
    X, Y = amd.var("X", (N, N)), amd.var("Y", (N, N))
    XY = X @ Y
    e = amd.trace(XY @ XY.T) + amd.sum(amd.exp(XY)) + amd.normsq(XY) + amd.trace(amd.inv(X) @ amd.inv(X))
    X0, Y0 = general(N, rng), rng.standard_normal((N, N))
    value = e.eval(X=X0, Y=Y0)
    P = X0 @ Y0
    Xi = np.linalg.inv(X0)
    assert value == pytest.approx(2 * np.sum(P * P) + np.sum(np.exp(P)) + np.trace(Xi @ Xi), rel=1e-12)
    assert kernel_calls[XY] == 1
    assert kernel_calls[amd.inv(X)] == 1
    assert max(kernel_calls.values()) == 1


def test_a_function_and_its_gradient_share_their_work(kernel_calls, factorizations, rng):
    Sigma0, S0 = spd(N, rng), spd(N, rng)
    Sigma, f = covariance_objective(N, S0)
    g = amd.grad(f, "Sigma")
    assert amd.inv(Sigma) in g.nodes()  # the gradient reuses the node of f
    value, gradient = amd.evaluate([f, g], {"Sigma": Sigma0})
    ref_value, ref_gradient = covariance_reference(Sigma0, S0)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-10, atol=1e-12)
    assert max(kernel_calls.values()) == 1
    assert kernel_calls[amd.inv(Sigma)] == 1
    assert factorizations == ["the value of Sigma"]


def test_value_and_grad_evaluates_together(factorizations, rng):
    Sigma0, S0 = spd(N, rng), spd(N, rng)
    _, f = covariance_objective(N, S0)
    value, gradient = amd.value_and_grad(f, "Sigma", {"Sigma": Sigma0})
    ref_value, ref_gradient = covariance_reference(Sigma0, S0)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-10, atol=1e-12)
    assert len(factorizations) == 1


@pytest.mark.parametrize("matrix", [spd, general], ids=["symmetric positive definite", "general"])
def test_inv_det_logdet_of_one_matrix_share_one_factorization(factorizations, matrix, rng):
    X = amd.var("X", (N, N))
    A = matrix(N, rng)
    inverse, det, logdet = amd.evaluate([amd.inv(X), amd.det(X), amd.logdet(X)], {"X": A})
    np.testing.assert_allclose(inverse @ A, np.eye(N), atol=1e-12)
    assert det == pytest.approx(np.linalg.det(A), rel=1e-12)
    assert logdet == pytest.approx(np.log(np.linalg.det(A)), rel=1e-12)
    assert factorizations == ["the value of X"]


class _LUCount:
    """Counts the dense LU-based routines of numpy and scipy (each one factorizes its argument)."""

    ROUTINES = (
        ("numpy.linalg", ("inv", "slogdet", "det", "solve")),
        ("scipy.linalg", ("lu_factor", "inv", "det")),
        ("kronbox.linalg.lapack", ("lu_in_place",)),
    )

    def __init__(self, monkeypatch):
        self.calls = 0
        for module_name, names in self.ROUTINES:
            module = importlib.import_module(module_name)
            for name in names:
                monkeypatch.setattr(module, name, self._counted(getattr(module, name)))

    def _counted(self, routine):
        def counted(*args, **kwargs):
            self.calls += 1
            return routine(*args, **kwargs)

        return counted


def test_a_symmetric_positive_definite_matrix_is_never_lu_factorized(monkeypatch, rng):
    X = amd.var("X", (N, N))
    A = spd(N, rng)
    count = _LUCount(monkeypatch)
    inverse, logdet = amd.evaluate([amd.inv(X), amd.logdet(X)], {"X": A})
    assert count.calls == 0
    np.testing.assert_allclose(inverse @ A, np.eye(N), atol=1e-12)
    assert logdet == pytest.approx(np.sum(np.log(np.linalg.eigvalsh(A))), rel=1e-12)


def test_a_general_matrix_is_lu_factorized_once_for_inv_and_logdet(monkeypatch, rng):
    X = amd.var("X", (N, N))
    A = general(N, rng)
    A = A if np.linalg.det(A) > 0 else -A
    count = _LUCount(monkeypatch)
    inverse, logdet, det = amd.evaluate([amd.inv(X), amd.logdet(X), amd.det(X)], {"X": A})
    assert count.calls == 1
    np.testing.assert_allclose(inverse @ A, np.eye(N), atol=1e-12)
    assert logdet == pytest.approx(np.linalg.slogdet(A)[1], rel=1e-12)
    assert det == pytest.approx(np.linalg.det(A), rel=1e-12)


# -- shapes from the values --------------------------------------------------------------------------
def test_symbols_without_shapes_take_them_from_the_values(rng):
    X, A = amd.var("X"), amd.const("A")
    assert X.shape is None and (X @ A).shape is None
    e = amd.trace(X @ A @ X.T)
    for m, n in ((2, 3), (4, 4), (5, 1)):
        X0, A0 = rng.standard_normal((m, n)), rng.standard_normal((n, n))
        assert e.eval(X=X0, A=A0) == pytest.approx(np.trace(X0 @ A0 @ X0.T), rel=1e-12)
    B0 = rng.standard_normal((3, 3))
    np.testing.assert_allclose((X @ X).eval(X=B0), B0 @ B0)


def test_gradients_of_symbols_without_shapes_take_them_from_the_values(rng):
    Z = amd.var("Z")
    for shape in ((3, 3), (2, 5)):
        A = rng.standard_normal(shape)
        np.testing.assert_array_equal(amd.grad(amd.sum(Z), "Z").eval(Z=A), np.ones(shape))
        np.testing.assert_allclose(amd.grad(amd.normsq(Z), "Z").eval(Z=A), 2 * A)
    A = general(3, rng)
    np.testing.assert_array_equal(amd.grad(amd.trace(Z), "Z").eval(Z=A), np.eye(3))
    np.testing.assert_allclose(amd.grad(amd.trace(Z @ Z), "Z").eval(Z=A), 2 * A.T)
    np.testing.assert_allclose(amd.grad(amd.logdet(Z), "Z").eval(Z=A), np.linalg.inv(A).T, rtol=1e-12)


def test_identity_of_inferred_size(rng):
    X, Z = amd.var("X", (3, 3)), amd.var("Z")
    I = amd.eye()
    A = rng.standard_normal((3, 3))
    assert (X + I).shape == (3, 3)
    for e, expected in (
        (X + I, A + np.eye(3)), (I + X, A + np.eye(3)), (X - I, A - np.eye(3)), (I - X, np.eye(3) - A),
        (2 * I + X, A + 2 * np.eye(3)), (X * I, np.diag(np.diag(A))), (X @ I, A), (I @ X, A),
        (Z + I, A + np.eye(3)), (Z - 2 * I, A - 2 * np.eye(3)), (amd.inv(I + Z), np.linalg.inv(np.eye(3) + A)),
        (Z**0, np.eye(3)), (Z**0 + Z, np.eye(3) + A),
    ):
        np.testing.assert_allclose(e.eval(X=A, Z=A), expected, rtol=1e-12, atol=1e-14, err_msg=str(e))
    assert amd.trace(Z + I).eval(Z=A) == pytest.approx(np.trace(A) + 3)
    for n in (2, 5):  # one expression, identities of several sizes
        B = rng.standard_normal((n, n))
        np.testing.assert_allclose((Z + I).eval(Z=B), B + np.eye(n))


# -- scalars, vectors, matrices -------------------------------------------------------------------------
def test_scalars_vectors_and_matrices(rng):
    a, x, X = amd.var("a", ()), amd.var("x", (N, 1)), amd.var("X", (N, N))
    assert amd.var("y", N).shape == (N, 1)  # an integer shape is a column vector
    a0, x0, X0 = 1.7, rng.standard_normal(N), rng.standard_normal((N, N))
    col = x0[:, None]
    values = {"a": a0, "x": x0, "X": X0}  # a 1-D value is a column vector
    cases = {
        "a * a + 1": (a * a + 1, a0 * a0 + 1),
        "a * x": (a * x, a0 * col),
        "x / a": (x / a, col / a0),
        "a / X": (a / X, a0 / X0),
        "a + X": (a + X, a0 + X0),
        "X @ x": (X @ x, X0 @ col),
        "x' X x": (x.T @ X @ x, col.T @ X0 @ col),
        "x x'": (x @ x.T, np.outer(x0, x0)),
        "norm(x)": (amd.norm(x), np.linalg.norm(x0)),
        "sum(x .* x)": (amd.sum(x * x), x0 @ x0),
        "inner(x, X x)": (amd.inner(x, X @ x), x0 @ X0 @ x0),
        "inv(a)": (amd.inv(a), 1 / a0),
        "logdet(a)": (amd.logdet(a), np.log(a0)),
        "det(a)": (amd.det(a), a0),
        "sqrtm(a)": (amd.sqrtm(a), np.sqrt(a0)),
        "a ** 2": (a**2, a0**2),
        "a ** -1": (a**-1, 1 / a0),
        "a ** 0.5": (a**0.5, np.sqrt(a0)),
    }
    for label, (e, expected) in cases.items():
        value = e.eval(values)
        assert np.shape(value) == np.shape(expected), label
        np.testing.assert_allclose(value, expected, rtol=1e-12, err_msg=label)
    assert isinstance(amd.trace(X).eval(values), float | np.floating)


# -- operator overloads ---------------------------------------------------------------------------------
def test_every_operator_overload(rng):
    X, Y = amd.var("X", (N, N)), amd.var("Y", (N, N))
    A, B, C = general(N, rng), rng.standard_normal((N, N)), rng.standard_normal((N, N)) + 4
    values = {"X": A, "Y": C}
    cases = {
        "X + Y": (X + Y, A + C), "X - Y": (X - Y, A - C), "X @ Y": (X @ Y, A @ C), "X * Y": (X * Y, A * C),
        "X / Y": (X / Y, A / C), "-X": (-X, -A), "+X": (+X, A), "X.T": (X.T, A.T),
        "X + B": (X + B, A + B), "B + X": (B + X, B + A), "X - B": (X - B, A - B), "B - X": (B - X, B - A),
        "X @ B": (X @ B, A @ B), "B @ X": (B @ X, B @ A), "X * B": (X * B, A * B), "B * X": (B * X, B * A),
        "X / C": (X / C, A / C), "C / X": (C / X, C / A),
        "X + 2": (X + 2, A + 2), "2 + X": (2 + X, 2 + A), "X - 2": (X - 2, A - 2), "2 - X": (2 - X, 2 - A),
        "X * 2": (X * 2, 2 * A), "2 * X": (2 * X, 2 * A), "X / 2": (X / 2, A / 2), "2 / Y": (2 / Y, 2 / C),
        "np.float64(2) * X": (np.float64(2) * X, 2 * A), "X * np.int64(3)": (X * np.int64(3), 3 * A),
        "X ** 2": (X**2, A @ A), "X ** 3": (X**3, A @ A @ A), "X ** 1": (X**1, A),
        "X ** -1": (X**-1, np.linalg.inv(A)), "X ** -2": (X**-2, np.linalg.inv(A @ A)), "X ** 0": (X**0, np.eye(N)),
    }
    for label, (e, expected) in cases.items():
        assert isinstance(e, amd.Expr), label
        np.testing.assert_allclose(e.eval(values), expected, rtol=1e-11, atol=1e-13, err_msg=label)


def test_matrix_square_root_by_power(rng):
    X = amd.var("X", (N, N))
    A = spd(N, rng)
    w, Q = np.linalg.eigh(A)
    np.testing.assert_allclose((X**0.5).eval(X=A), (Q * np.sqrt(w)) @ Q.T, rtol=1e-10)
    np.testing.assert_allclose((X**-0.5).eval(X=A), (Q / np.sqrt(w)) @ Q.T, rtol=1e-10)
    assert X**0.5 is amd.sqrtm(X)


@settings(deadline=None, max_examples=25)
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4), c=st.floats(-3, 3, allow_subnormal=False),
       seed=st.integers(0, 2**16))
def test_overloads_on_rectangular_shapes(m, k, n, c, seed):
    rng = np.random.default_rng(seed)
    A0, B0, D0 = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, k))
    A, B, D = amd.var("A", (m, k)), amd.var("B", (k, n)), amd.const("D", D0)
    e = (c * A - D) @ B + (A * D).T.T @ B / 2.0 - D0 @ B
    expected = (c * A0 - D0) @ B0 + (A0 * D0) @ B0 / 2.0 - D0 @ B0
    assert e.shape == (m, n)
    np.testing.assert_allclose(e.eval(A=A0, B=B0), expected, rtol=1e-10, atol=1e-12)


# -- literal folding ----------------------------------------------------------------------------------
def test_literal_folding():
    X, a = amd.var("X", (3, 3)), amd.var("a", ())
    assert X + 0 is X and 0 + X is X and X - 0 is X
    assert X * 1 is X and 1 * X is X and X / 1 is X
    assert 2 * (3 * X) is 6 * X
    assert (X * 2) / 4 is 0.5 * X
    minus_X = -X
    assert -minus_X is X and -1 * X is minus_X
    assert X.T.T is X and amd.inv(amd.inv(X)) is X and X**1 is X
    assert amd.trace(X.T) is amd.trace(X)
    assert X @ amd.eye(3) is X and amd.eye(3) @ X is X
    assert amd.trace(amd.eye(3)).kind == "literal"
    zero = 0 * X
    assert zero.kind == "zeros" and zero.shape == (3, 3)
    assert (a * 0).kind == "literal"
    for e, number in ((2 * amd.exp(0) + 3, 5.0), (amd.sqrt(4) - amd.log(1), 2.0), ((a * 0) + 7, 7.0)):
        assert e.kind == "literal"
        assert e.eval() == number
    ones = (np.ones((2, 3)), np.ones((3, 4)), np.eye(3))
    constant = (ones_expr((2, 3)), ones_expr((3, 4)), amd.eye(3))
    for e, reference in ((amd.trace(ones_expr((3, 3))), np.trace(np.ones((3, 3)))),
                         (amd.sum(constant[0]), ones[0].sum()), (amd.sum(constant[2]), ones[2].sum()),
                         (amd.sum(amd.zeros((2, 2))), 0.0)):
        assert e.kind == "literal" and e.eval() == reference
    product = constant[0] @ constant[1]  # folded to 3 · ones(2, 4)
    assert product.kind != "matmul"
    np.testing.assert_array_equal(product.eval(), ones[0] @ ones[1])


# -- every primitive against numpy: real, complex (analytic continuation), float32 ---------------------
def _unary(f):
    return lambda A, B: f(A)


def _sqrtm_reference(A, B):
    return scipy.linalg.sqrtm(A)


def _primitives():
    """``name → (build(X, Y), numpy(A, B), needs)``; ``needs`` picks the value of X (Y is general)."""
    return {
        "add": (lambda X, Y: X + Y, lambda A, B: A + B, "general"),
        "neg": (lambda X, Y: -X, lambda A, B: -A, "general"),
        "matmul": (lambda X, Y: X @ Y, lambda A, B: A @ B, "general"),
        "mul": (lambda X, Y: X * Y, lambda A, B: A * B, "general"),
        "div": (lambda X, Y: X / Y, lambda A, B: A / B, "general"),
        "transpose": (lambda X, Y: X.T, lambda A, B: A.T, "general"),
        "inv": (lambda X, Y: amd.inv(X), _unary(np.linalg.inv), "general"),
        "inv spd": (lambda X, Y: amd.inv(X), _unary(np.linalg.inv), "spd"),
        "trace": (lambda X, Y: amd.trace(X), _unary(np.trace), "general"),
        "trace of product": (lambda X, Y: amd.trace(X @ Y), lambda A, B: np.trace(A @ B), "general"),
        "det": (lambda X, Y: amd.det(X), _unary(np.linalg.det), "general"),
        "logdet": (lambda X, Y: amd.logdet(X), lambda A, B: np.log(np.linalg.det(A)), "general"),
        "logdet spd": (lambda X, Y: amd.logdet(X), lambda A, B: np.log(np.linalg.det(A)), "spd"),
        "sum": (lambda X, Y: amd.sum(X), _unary(np.sum), "general"),
        "sum of product": (lambda X, Y: amd.sum(X * Y), lambda A, B: np.sum(A * B), "general"),
        "inner": (lambda X, Y: amd.inner(X, Y), lambda A, B: np.sum(A * B), "general"),
        "norm": (lambda X, Y: amd.norm(X), lambda A, B: np.sqrt(np.sum(A * A)), "general"),
        "normsq": (lambda X, Y: amd.normsq(X), lambda A, B: np.sum(A * A), "general"),
        "mpow 3": (lambda X, Y: X**3, lambda A, B: A @ A @ A, "general"),
        "mpow -2": (lambda X, Y: X**-2, lambda A, B: np.linalg.inv(A @ A), "general"),
        "sqrtm": (lambda X, Y: amd.sqrtm(X), _sqrtm_reference, "spd"),
        "sqrtm general": (lambda X, Y: amd.sqrtm(X), _sqrtm_reference, "general"),
        "power 3": (lambda X, Y: amd.power(X, 3), lambda A, B: A**3, "general"),
        "power 0.5": (lambda X, Y: amd.power(X, 0.5), _unary(np.sqrt), "positive"),
        "exp": (lambda X, Y: amd.exp(X), _unary(np.exp), "general"),
        "log": (lambda X, Y: amd.log(X), _unary(np.log), "positive"),
        "sqrt": (lambda X, Y: amd.sqrt(X), _unary(np.sqrt), "positive"),
        "sin": (lambda X, Y: amd.sin(X), _unary(np.sin), "general"),
        "cos": (lambda X, Y: amd.cos(X), _unary(np.cos), "general"),
        "tan": (lambda X, Y: amd.tan(X), _unary(np.tan), "general"),
        "tanh": (lambda X, Y: amd.tanh(X), _unary(np.tanh), "general"),
        "abs": (lambda X, Y: amd.abs(X), _unary(np.abs), "general"),
        "sign": (lambda X, Y: amd.sign(X), _unary(np.sign), "general"),
        "relu": (lambda X, Y: amd.relu(X), lambda A, B: np.maximum(A, 0), "general"),
        "sylvester": (lambda X, Y: amd.sylvester(X, Y, X @ Y), None, "spd"),
        "eye": (lambda X, Y: X @ Y + amd.eye(), lambda A, B: A @ B + np.eye(len(A)), "general"),
        "zeros": (lambda X, Y: X + amd.zeros((N, N)) * Y, lambda A, B: A, "general"),
    }


NOT_ANALYTIC = {"abs", "sign", "relu"}


def _value(needs: str, rng: np.random.Generator) -> np.ndarray:
    if needs == "spd":
        return spd(N, rng)
    if needs == "positive":
        return np.abs(rng.standard_normal((N, N))) + 0.5
    return general(N, rng)


def _check(name, X0, Y0, rtol, atol):
    build, reference, _ = _primitives()[name]
    X, Y = amd.var("X", (N, N)), amd.var("Y", (N, N))
    value = build(X, Y).eval(X=X0, Y=Y0)
    if name == "sylvester":  # Z with X Z + Z Y = X Y, checked by its equation
        np.testing.assert_allclose(X0 @ value + value @ Y0, X0 @ Y0, rtol=rtol, atol=atol)
    elif name.startswith("sqrtm"):  # R with R² = X, the principal root
        np.testing.assert_allclose(value @ value, X0, rtol=rtol, atol=atol)
        np.testing.assert_allclose(value, reference(X0, Y0), rtol=10 * rtol, atol=10 * atol)
    else:
        np.testing.assert_allclose(value, reference(X0, Y0), rtol=rtol, atol=atol)
    return value


@pytest.mark.parametrize("name", list(_primitives()))
def test_primitive_against_numpy(name, rng):
    X0 = _value(_primitives()[name][2], rng)
    Y0 = spd(N, rng) if name == "sylvester" else general(N, rng)
    value = _check(name, X0, Y0, rtol=1e-10, atol=1e-12)
    assert np.asarray(value).dtype == np.float64


@pytest.mark.parametrize("name", [n for n in _primitives() if n not in NOT_ANALYTIC])
def test_primitive_on_complex_values_is_the_analytic_continuation(name, rng):
    """Complex entries (as under the complex step): ``Σ x²`` and ``Σ xᵢⱼ yᵢⱼ``, never conjugated."""
    needs = _primitives()[name][2]
    X0 = _value(needs, rng) + 0.3j * rng.standard_normal((N, N))
    Y0 = (spd(N, rng) if name == "sylvester" else general(N, rng)) + 0.3j * rng.standard_normal((N, N))
    value = _check(name, X0, Y0, rtol=1e-9, atol=1e-11)
    assert np.iscomplexobj(value)


def test_norms_of_complex_values_are_not_moduli():
    X = amd.var("X", (1, 2))
    z = np.array([[1j, 1.0]])  # Σ z² = −1 + 1 = 0, while Σ |z|² = 2
    assert amd.normsq(X).eval(X=z) == 0
    assert amd.inner(X, X).eval(X=z) == 0
    assert amd.sum(X * X).eval(X=z) == 0
    w = np.array([[2j, 0.0]])
    assert amd.normsq(X).eval(X=w) == -4
    assert amd.norm(X).eval(X=w) == pytest.approx(2j)


@pytest.mark.parametrize("name", list(_primitives()))
def test_primitive_on_float32_values(name, rng):
    needs = _primitives()[name][2]
    X0 = _value(needs, rng)
    Y0 = spd(N, rng) if name == "sylvester" else general(N, rng)
    X32, Y32 = X0.astype(np.float32), Y0.astype(np.float32)
    value = _check(name, X32.astype(np.float64), Y32.astype(np.float64), rtol=1e-10, atol=1e-12)
    build = _primitives()[name][0]
    value32 = build(amd.var("X", (N, N)), amd.var("Y", (N, N))).eval(X=X32, Y=Y32)
    np.testing.assert_allclose(value32, value, rtol=2e-4, atol=2e-5)
    assert np.asarray(value32).dtype == np.float32, "a value computed from float32 values stays float32"


def test_expressions_pickle_back_to_the_same_node(rng):
    import pickle

    X, Y = amd.var("X", (N, N)), amd.var("Y")
    e = amd.trace(amd.inv(X) @ Y.T) + amd.sum(amd.exp(X)) - 2 * amd.logdet(X + amd.eye())
    assert pickle.loads(pickle.dumps(e)) is e
    S = amd.const("S", spd(N, rng))
    f = amd.trace(S @ amd.inv(X))
    g = pickle.loads(pickle.dumps(f))
    X0 = spd(N, rng)
    assert g.eval(X=X0) == pytest.approx(f.eval(X=X0), rel=1e-14)


def test_a_temporary_is_overwritten_only_when_it_has_the_result_dtype():
    X = amd.var("X", (3, 3))
    e = -X - (X + (0.5 + 1j) * X)  # −X is a float temporary; the difference is complex
    X0 = np.arange(9.0).reshape(3, 3)
    assert np.allclose(e.eval(X=X0), -(2.5 + 1j) * X0)

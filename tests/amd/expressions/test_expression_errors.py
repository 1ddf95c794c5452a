"""Bad input to the differentiation engine: every error is a ValueError (ShapeError is one) or a
LinAlgError that says what is wrong and where (the offending subexpression and both shapes),
raised when the shapes become known: at construction, or at evaluation from the values."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kronbox import amd

SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # row 2 = 2 · row 1
NEGATIVE_DETERMINANT = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # det = −5


def raises(kind, *fragments):
    """``pytest.raises(kind)`` whose message contains every fragment (literally)."""
    return pytest.raises(kind, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# -- shape clashes at construction -----------------------------------------------------------------------
def test_shape_error_is_a_value_error():
    assert issubclass(amd.ShapeError, ValueError)


@pytest.mark.parametrize(("build", "fragments"), [
    (lambda X, R: X + R, ("X + R", "3×3", "3×4")),
    (lambda X, R: R - X, ("R", "X", "3×3", "3×4")),
    (lambda X, R: X * R, ("X * R", "3×3", "3×4")),
    (lambda X, R: X / R, ("X / R", "3×3", "3×4")),
    (lambda X, R: R @ X, ("R * X", "inner", "3×4", "3×3")),
    (lambda X, R: amd.trace(R), ("trace(R)", "square", "3×4")),
    (lambda X, R: amd.inv(R), ("inv(R)", "square", "3×4")),
    (lambda X, R: amd.logdet(R), ("logdet(R)", "square", "3×4")),
    (lambda X, R: amd.det(R), ("det(R)", "square", "3×4")),
    (lambda X, R: amd.sqrtm(R), ("sqrtm(R)", "square", "3×4")),
    (lambda X, R: R**2, ("R", "square", "3×4")),
    (lambda X, R: R**-1, ("R ** -1", "square", "3×4")),
    (lambda X, R: R**0.5, ("sqrtm(R)", "square", "3×4")),
    (lambda X, R: R + amd.eye(), ("R + I", "square", "3×4")),
    (lambda X, R: amd.sylvester(X, R, X), ("sylvester(X, R, X)", "square", "3×4")),
], ids=["+", "-", "*", "/", "@", "trace", "inv", "logdet", "det", "sqrtm", "**2", "**-1", "**0.5", "+ I", "sylvester"])
def test_shape_clash_at_construction(build, fragments):
    X, R = amd.var("X", (3, 3)), amd.var("R", (3, 4))
    with raises(amd.ShapeError, *fragments):
        build(X, R)


def test_shape_clash_shows_the_offending_subexpression():
    X, R = amd.var("X", (3, 3)), amd.var("R", (3, 4))
    with raises(amd.ShapeError, "X*R + X", "X*R is 3×4", "X is 3×3"):
        amd.trace(X @ X) * (X @ R + X)


def test_a_matrix_product_of_a_scalar_says_to_scale():
    a, X = amd.var("a", ()), amd.var("X", (3, 3))
    with raises(amd.ShapeError, "a * X", "scalar", "3×3", "elementwise"):
        a @ X


# -- shape clashes at evaluation, shapes from the values --------------------------------------------------
@pytest.mark.parametrize(("build", "fragments"), [
    (lambda Z, W: Z + W, ("Z + W", "Z is 3×3", "W is 3×4")),
    (lambda Z, W: Z * W, ("Z * W", "Z is 3×3", "W is 3×4")),
    (lambda Z, W: Z / W, ("Z / W", "Z is 3×3", "W is 3×4")),
    (lambda Z, W: W @ Z @ Z, ("W * Z", "inner", "W is 3×4", "Z is 3×3")),
    (lambda Z, W: amd.trace(W), ("trace(W)", "square", "3×4")),
    (lambda Z, W: amd.inv(W), ("inv(W)", "square", "3×4")),
    (lambda Z, W: amd.logdet(W), ("logdet(W)", "square", "3×4")),
    (lambda Z, W: amd.det(W), ("det(W)", "square", "3×4")),
    (lambda Z, W: amd.sqrtm(W), ("sqrtm(W)", "square", "3×4")),
    (lambda Z, W: W + amd.eye(), ("W + I", "square", "3×4")),
    (lambda Z, W: amd.trace(Z @ Z) * (Z + W) + Z, ("Z + W", "3×3", "3×4")),
], ids=["+", "*", "/", "@", "trace", "inv", "logdet", "det", "sqrtm", "+ I", "nested"])
def test_shape_clash_at_evaluation(build, fragments):
    Z, W = amd.var("Z"), amd.var("W")
    e = build(Z, W)  # nothing is known yet
    with raises(amd.ShapeError, *fragments):
        e.eval(Z=np.ones((3, 3)), W=np.ones((3, 4)))


# -- differentiating with respect to what is not there ------------------------------------------------------
@pytest.mark.parametrize("differentiate", [amd.grad, amd.jacobian, amd.hessian], ids=["grad", "jacobian", "hessian"])
def test_derivative_with_respect_to_a_missing_symbol(differentiate):
    X, Y = amd.var("X", (3, 3)), amd.var("Y", (3, 3))
    f = amd.trace(X @ Y)
    with raises(ValueError, "'Q' is not a variable of trace(X*Y)", "X, Y"):
        differentiate(f, "Q")
    with raises(ValueError, "'Q'", "X, Y"):
        differentiate(f, amd.var("Q", (3, 3)))


def test_derivative_of_an_expression_without_symbols():
    with raises(ValueError, "'X'", "none"):
        amd.grad(amd.trace(amd.eye(3)) + 1, "X")


@pytest.mark.parametrize("wrt", [3, None, 1.5], ids=repr)
def test_derivative_with_respect_to_something_that_is_not_a_symbol(wrt):
    X = amd.var("X", (3, 3))
    with raises(TypeError, "symbol"):
        amd.grad(amd.trace(X), wrt)


def test_derivative_with_respect_to_a_compound_expression():
    X = amd.var("X", (3, 3))
    with raises(TypeError, "symbol", "X^2"):
        amd.grad(amd.trace(X @ X), X @ X)


@pytest.mark.parametrize(("F", "shape"), [
    (lambda X, x: X @ X, "3×3"), (lambda X, x: X @ x, "3×1"), (lambda X, x: amd.exp(X), "3×3"),
], ids=["X X", "X x", "exp(X)"])
def test_grad_of_a_matrix_valued_expression(F, shape):
    X, x = amd.var("X", (3, 3)), amd.var("x", (3, 1))
    e = F(X, x)
    with raises(amd.ShapeError, "grad needs a scalar function", str(e), shape, "jacobian"):
        amd.grad(e, "X")
    with raises(amd.ShapeError, "grad needs a scalar function"):
        amd.hessian(e, "X").at(X=np.eye(3), x=np.ones(3))


@pytest.mark.parametrize("F", [lambda Z: Z @ Z, lambda Z: amd.exp(Z), lambda Z: Z, lambda Z: Z.T + 1],
                         ids=["Z Z", "exp(Z)", "Z", "Z' + 1"])
def test_grad_of_an_expression_of_unknown_shape_is_refused_not_guessed(F):
    """Without shapes ``f`` may be a matrix: it is not differentiated as if it were a scalar."""
    Z = amd.var("Z")
    with raises(amd.ShapeError, "grad needs a scalar function", "not known", "value_and_grad"):
        amd.grad(F(Z), "Z")
    with raises(amd.ShapeError, "grad needs a scalar function", "3×3"):
        amd.value_and_grad(F(Z), "Z", Z=np.eye(3))


def test_value_and_grad_takes_shapes_from_the_values():
    z, A0 = amd.var("z"), np.array([[2.0, 1.0], [0.0, 3.0]])
    f = z.T @ amd.const("A", A0) @ z  # 1×1 once z is known to be a vector
    z0 = np.array([1.0, -2.0])
    value, gradient = amd.value_and_grad(f, "z", z=z0)
    assert np.asarray(value).item() == pytest.approx(z0 @ A0 @ z0)
    np.testing.assert_allclose(gradient, ((A0 + A0.T) @ z0)[:, None])


# -- evaluation with bad values --------------------------------------------------------------------------
def test_eval_with_a_missing_value_names_the_symbol():
    X, Z = amd.var("X", (3, 3)), amd.var("Z")
    with raises(ValueError, "no value", "variable 'Z'"):
        (X @ Z).eval(X=np.eye(3))
    S = amd.const("S", shape=(3, 3))
    with raises(ValueError, "no value", "constant 'S'"):
        amd.trace(S @ X).eval(X=np.eye(3))
    with raises(ValueError, "'X'"):
        amd.jacobian(amd.inv(X), "X").at({})


@pytest.mark.parametrize("value", [np.ones((3, 4)), np.ones(3), np.ones((1, 3)), 2.0],
                         ids=["3×4", "1-D", "1×3", "scalar"])
def test_eval_with_a_wrongly_shaped_value_names_it_and_both_shapes(value):
    X = amd.var("X", (3, 3))
    given = {(3, 4): "3×4", (3,): "3×1", (1, 3): "1×3", (): "scalar"}[np.shape(value)]
    with raises(amd.ShapeError, "'X'", "3×3", given):
        amd.trace(X @ X).eval(X=value)
    with raises(amd.ShapeError, "'X'", "3×3", given):
        amd.hessian(amd.trace(X @ X), "X").at(X=value)


def test_eval_with_an_array_of_more_than_two_dimensions():
    X = amd.var("X")
    with raises(amd.ShapeError, "'X'", "(2, 2, 2)"):
        amd.sum(X).eval(X=np.ones((2, 2, 2)))


@pytest.mark.parametrize("value", ["abc", np.array([["a", "b"], ["c", "d"]]), None, object(), {"a": 1}],
                         ids=["str", "str array", "None", "object", "dict"])
def test_eval_with_a_value_that_is_not_numeric(value):
    X = amd.var("X", (2, 2))
    with raises(ValueError, "'X'", "numbers"):
        amd.trace(X).eval(X=value)


# -- singular and indefinite values -------------------------------------------------------------------------
@pytest.mark.parametrize("build", [amd.logdet, amd.inv, lambda X: amd.trace(amd.inv(X))],
                         ids=["logdet", "inv", "trace(inv)"])
@pytest.mark.parametrize("value", [SINGULAR, np.ones((3, 3)), np.zeros((3, 3))], ids=["general", "symmetric", "zero"])
def test_singular_value(build, value):
    X = amd.var("X", (3, 3))
    e = build(X)
    with raises(np.linalg.LinAlgError, "singular", "X"):
        e.eval(X=value)


def test_singular_value_names_the_subexpression():
    X = amd.var("X", (3, 3))
    with raises(np.linalg.LinAlgError, "singular", "X*X'"):
        amd.trace(amd.inv(X @ X.T)).eval(X=SINGULAR)
    with raises(np.linalg.LinAlgError, "singular", "X + X'"):
        amd.logdet(X + X.T).eval(X=SINGULAR - SINGULAR.T)
    with raises(np.linalg.LinAlgError, "singular"):
        amd.jacobian(amd.inv(X), "X").at(X=SINGULAR)


def test_det_of_a_singular_value_is_zero_not_an_error():
    X = amd.var("X", (3, 3))
    assert amd.det(X).eval(X=SINGULAR) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("value", [np.diag([1.0, -2.0, 3.0]), -np.eye(3), NEGATIVE_DETERMINANT],
                         ids=["diagonal", "minus identity", "general"])
def test_logdet_of_a_negative_determinant_is_an_error_not_nan(value):
    assert np.linalg.det(value) < 0
    X = amd.var("X", (3, 3))
    with raises(ValueError, "logdet", "negative determinant", "X"):
        amd.logdet(X).eval(X=value)
    with raises(ValueError, "negative determinant", "X + X'"):
        amd.logdet(X + X.T).eval(X=value / 2)


def test_logdet_of_a_positive_determinant_without_positive_definiteness():
    X = amd.var("X", (2, 2))
    value = -np.eye(2)  # det = 1 but not positive definite: log det is 0, not an error
    assert amd.logdet(X).eval(X=value) == pytest.approx(0.0, abs=1e-15)


# -- bad names, functions, exponents, orders -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["1X", "a b", "", "x-y", "X'", 3, None], ids=repr)
@pytest.mark.parametrize("make", [amd.var, lambda name: amd.const(name, np.eye(2)),
                                  lambda name: amd.const(name, shape=(2, 2))], ids=["var", "const", "const shape"])
def test_bad_names(make, name):
    with raises(ValueError, "name", repr(name)):
        make(name)


@pytest.mark.parametrize("shape", [(3, 0), (3, 3, 3), (-1, 2), (2.5, 2), (0,)], ids=repr)
def test_bad_shapes(shape):
    with raises(amd.ShapeError, "var 'X'", repr(shape)):
        amd.var("X", shape)


def test_const_value_and_shape_disagree():
    with raises(amd.ShapeError, "const 'S'", "2×2", "3×3"):
        amd.const("S", np.eye(2), shape=(3, 3))
    with raises(ValueError, "const 'S'", "numbers"):
        amd.const("S", "abc")


def test_unknown_elementwise_function():
    from kronbox.amd.expressions.expr import elementwise

    with raises(ValueError, "unknown elementwise function 'foo'", "exp", "tanh"):
        elementwise("foo", amd.var("X", (2, 2)))


@pytest.mark.parametrize(("exponent", "kind"), [(float("inf"), ValueError), (float("nan"), ValueError),
                                                 ("2", TypeError), (None, TypeError), (True, TypeError)], ids=repr)
def test_bad_matrix_powers(exponent, kind):
    X = amd.var("X", (2, 2))
    with raises(kind, "X ** "):
        X**exponent


@pytest.mark.parametrize("exponent", [1.5, -0.25])
def test_a_real_matrix_power_of_a_rectangular_matrix_is_refused(exponent):
    with raises(amd.ShapeError, "needs a square matrix", "X is 2×3"):
        amd.var("X", (2, 3)) ** exponent


@pytest.mark.parametrize("operand", ["a", {1}, None, object()], ids=repr)
def test_operands_that_are_not_numbers_or_arrays(operand):
    X = amd.var("X", (2, 2))
    for combine in (lambda: X + operand, lambda: X @ operand, lambda: X * operand):
        with raises(TypeError, "matrix expression", type(operand).__name__):
            combine()


def test_the_truth_value_of_an_expression_is_refused():
    X = amd.var("X", (2, 2))
    with raises(TypeError, "truth value", ".eval()"):
        bool(X @ X)


@pytest.mark.parametrize("order", [-1, 1.5, "2", None, True, 2.0], ids=repr)
def test_bad_taylor_orders(order):
    X = amd.var("X", (2, 2))
    with raises(ValueError, "taylor", "order", repr(order)):
        amd.taylor(amd.logdet(X), "X", around="X0", order=order)


def test_taylor_accepts_numpy_integer_orders():
    X = amd.var("X", (2, 2))
    terms = amd.taylor(amd.logdet(X), "X", around="X0", order=np.int64(2))
    assert len(terms) == 3


def test_bad_taylor_centres():
    X = amd.var("X", (2, 2))
    with raises(TypeError, "around", "'X 0'"):
        amd.taylor(amd.logdet(X), "X", around="X 0", order=2)
    with raises(ValueError, "already appears"):
        amd.taylor(amd.logdet(X), "X", around="X", order=2)
    with raises(amd.ShapeError, "X0", "X"):
        amd.taylor(amd.logdet(X), "X", around=amd.var("X0", (3, 3)), order=2)
    with raises(ValueError, "'Q' is not a variable", "X"):
        amd.taylor(amd.logdet(X), "Q", around="X0", order=2)


@pytest.mark.parametrize("build", [lambda: amd.eye(), lambda: amd.trace(amd.eye()), lambda: 2 * amd.eye()])
def test_an_identity_of_unknown_size_cannot_be_evaluated(build):
    with pytest.raises(amd.ShapeError, match="size of I is not known"):
        build().eval()

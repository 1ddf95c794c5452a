"""Compiled plans give the interpreter's values bit for bit, on every row of the derivative table and
every kind's example; values they cannot take (other libraries, numbers) go to the interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from amd.test_tables import EXAMPLES
from amd_reference import spd
from array_libraries import LIBRARIES
from derivative_rows import ROWS, build

import kronbox as kb
from kronbox import amd
from kronbox.amd.evaluation.compiled import CompiledPlan, compile_program
from kronbox.amd.evaluation.evaluate import evaluate, interpret
from kronbox.amd.evaluation.factorization import Factorization, factorize, given
from kronbox.amd.evaluation.plan import bound_values, program, specialize
from kronbox.linalg import lapack


def _compiled_values(exprs: list[amd.Expr], values: dict) -> list:
    """The values of ``exprs`` by their compiled function (shapes taken from the values first)."""
    exprs = specialize(exprs, bound_values(exprs, values))
    plan = program(tuple(exprs))
    arrays = bound_values(exprs, values)
    run = compile_program(plan)
    return run(arrays, *(arrays[n.param[0]] for n in plan.symbols))


def _assert_identical(exprs: list[amd.Expr], values: dict) -> None:
    expected = interpret(exprs, values)
    got = _compiled_values(exprs, values)
    for e, a, b in zip(exprs, got, expected, strict=True):
        assert np.shape(a) == np.shape(b), e
        assert np.array_equal(a, b, equal_nan=True), f"{e}: compiled {a} ≠ interpreted {b}"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_derivative_table_compiles_to_the_interpreted_values(name):
    row = build(name)
    factors = [f for f in dict.fromkeys(amd.jacobian(row.F, "X").map.factors()) if f.kind != "eye"]
    _assert_identical([row.F, *factors], {"X": row.X})


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_kind_compiles_to_the_interpreted_value_and_gradient(kind):
    e = EXAMPLES[kind]()
    values = {"X": spd(np.random.default_rng(2), 3)}
    exprs = [e, amd.grad(e, "X")] if e.shape == () else [e]
    _assert_identical(exprs, values)


def test_a_transposed_symmetric_value_is_shared_as_the_interpreter_shares_it():
    # inv(X) of a symmetric positive definite X is exactly symmetric: its transpose is itself
    X = amd.var("X", (4, 4))
    S = amd.const("S", shape=(4, 4))
    f = -amd.logdet(X) - amd.trace(S @ amd.inv(X)) - amd.normsq(amd.inv(X))
    values = {"X": spd(np.random.default_rng(0), 4), "S": spd(np.random.default_rng(1), 4)}
    _assert_identical([f, amd.grad(f, "X")], values)
    values["X"] = values["X"] + np.triu(np.full((4, 4), 0.1), 1)  # not symmetric: LU, and transposes are views
    _assert_identical([f, amd.grad(f, "X")], values)


def test_a_hot_plan_is_compiled_and_an_error_is_raised_by_the_interpreter():
    X = amd.var("X", (3, 3))
    f = amd.logdet(X) + amd.sum(amd.inv(X) * 2.0)
    plan = CompiledPlan(program((f,)))
    values = {"X": spd(np.random.default_rng(0), 3)}
    assert plan(values) is None  # the first call is the interpreter's
    assert plan(values) == interpret([f], values)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        plan({"X": np.zeros((3, 3))})
    for _ in range(3):
        amd.evaluate([f], values)
    with pytest.raises(np.linalg.LinAlgError, match=r"logdet: the value of X is singular"):
        amd.evaluate([f], {"X": np.zeros((3, 3))})


def test_values_a_plan_does_not_take_go_to_the_interpreter():
    X = amd.var("X", (3, 3))
    f = amd.trace(X @ X)
    plan = CompiledPlan(program((f,)))
    plan({"X": np.eye(3)})
    assert plan({"X": np.eye(3, dtype=int)}) is None  # converted by the interpreter
    assert plan({"X": np.eye(3).ravel()}) is None  # a wrong shape: the interpreter's error
    assert plan({"X": np.eye(3)}) == [3.0]


@pytest.mark.parametrize("library", LIBRARIES[:2], ids=lambda lib: lib.name)
def test_arrays_of_other_libraries_are_evaluated_by_the_interpreter(library):
    asarray, to_numpy = library.load()
    X = amd.var("X", (3, 3))
    f = amd.logdet(X) + amd.trace(amd.inv(X) @ X.T)
    g = amd.grad(f, "X")
    X0 = spd(np.random.default_rng(3), 3)
    for _ in range(3):  # hot: the numpy plan is compiled, the other library's values still interpreted
        value, G = amd.evaluate([f, g], {"X": asarray(X0)})
    expected = interpret([f, g], {"X": X0})
    np.testing.assert_allclose(float(value), expected[0], rtol=1e-12)
    np.testing.assert_allclose(to_numpy(G), expected[1], rtol=1e-12)


def test_amd_compile_gives_the_values_of_evaluate_and_a_function_per_shape():
    X = amd.var("X")  # no shape: one compiled function per shape of its value
    f = amd.logdet(X) + amd.trace(amd.inv(X) @ X.T)
    fn = amd.compile(f, amd.grad(f, X))
    for n in (2, 5, 2):
        X0 = spd(np.random.default_rng(n), n)
        value, G = fn(X=X0)
        expected = interpret([f, amd.grad(f, X)], {"X": X0})
        assert value == expected[0] and np.array_equal(G, expected[1])
    assert "def _compiled(_arrays, a_X):" in fn.source(X=np.eye(3))
    with pytest.raises(ValueError, match="no value given for the variable 'X'"):
        fn()
    with pytest.raises(TypeError, match="compile takes amd expressions and derivatives"):
        amd.compile(f, "g")


def test_a_product_and_its_twin_of_transposed_symmetric_operands_are_one_product_and_never_alias():
    X = amd.var("X", (3, 3))
    P = amd.inv(X)
    exprs = [P.T @ P, P @ P.T, (P.T @ P) * 2.0 + P @ P.T]
    for X0 in (spd(np.random.default_rng(0), 3), np.triu(spd(np.random.default_rng(1), 3))):  # symmetric or not
        _assert_identical(exprs, {"X": X0})
        first, second, _ = _compiled_values(exprs, {"X": X0})
        assert not np.shares_memory(first, second)
    assert "t3.copy() if t1 is t2" in compile_program(program(tuple(exprs))).source  # the twin is recognized


def test_a_product_of_twins_is_a_twin_and_a_result_takes_it_uncopied_only_once():
    X = amd.var("X", (3, 3))
    P = amd.inv(X)
    M = P + P
    inner = [(P.T @ M) @ P.T + P, (P @ M.T) @ P]  # the twin's value is no result: taken as it is
    both = [(P.T @ M) @ P.T, (P @ M.T) @ P]  # both results: copied
    for exprs, line in ((inner, "t9 = t5 if t8 is t4 and t1 is t2 else t8 @ t1"),
                        (both, "t8 = t5.copy() if t7 is t4 and t1 is t2 else t7 @ t1")):
        for X0 in (spd(np.random.default_rng(0), 3), np.triu(spd(np.random.default_rng(1), 3))):
            _assert_identical(exprs, {"X": X0})
            first, second = _compiled_values(exprs, {"X": X0})
            assert not np.shares_memory(first, second)
        assert line in compile_program(program(tuple(exprs))).source


def test_private_results_may_share_a_product_but_never_with_a_public_result():
    """The last ``private`` results (factors only a bound map reads) take a twin's value uncopied; a public
    result still gets its own array."""
    X = amd.var("X", (3, 3))
    P = amd.inv(X)
    exprs = [P * 2.0, P.T @ P, P @ P.T, P.T @ P.T]
    X0 = spd(np.random.default_rng(2), 3)
    exprs = specialize(exprs, bound_values(exprs, {"X": X0}))
    plan = program(tuple(exprs))
    arrays = bound_values(exprs, {"X": X0})
    expected = interpret(exprs, {"X": X0})
    # the twins P'P, PP' and P'P' of a symmetric P: the first one's value, copied for a public result
    twins = ((1, 2), (1, 3), (2, 3))
    for private, shared in ((0, ()), (2, ()), (3, twins), (4, twins)):
        got = compile_program(plan, private)(arrays, X0)
        for a, b in zip(got, expected, strict=True):
            assert np.array_equal(a, b)
        for i in range(4):
            for j in range(i + 1, 4):
                assert np.shares_memory(got[i], got[j]) == ((i, j) in shared), (private, i, j)


def test_a_given_factorization_is_used_for_its_own_array_only():
    """``with given(F)``: an evaluation reading ``F.A`` takes ``F`` (no second Cholesky), one of an equal copy of
    ``F.A`` factorizes again; both give the interpreter's values."""
    X = amd.var("X", (4, 4))
    f = amd.logdet(X) + amd.trace(amd.inv(X))
    X0 = spd(np.random.default_rng(3), 4)
    expected = interpret([f], {"X": X0})[0]
    given_factorization = Factorization(X0, "X")
    assert given_factorization.positive_definite
    calls = []
    cholesky = lapack.cholesky_in_place

    def counted(W):
        calls.append(W.shape)
        return cholesky(W)

    plan = CompiledPlan(program((f,)), hot=1)
    with given(given_factorization), pytest.MonkeyPatch.context() as patch:
        patch.setattr(lapack, "cholesky_in_place", counted)
        assert plan({"X": X0})[0] == expected and interpret([f], {"X": X0})[0] == expected
        assert calls == []
        assert plan({"X": X0.copy()})[0] == expected
        assert calls == [(4, 4)]
    assert factorize(X0, "X") is not given_factorization  # outside the block: a new factorization


@pytest.mark.parametrize("library", LIBRARIES[:1], ids=lambda lib: lib.name)
def test_a_value_of_another_library_that_no_symbol_reads_still_decides_as_in_the_interpreter(library):
    asarray, _ = library.load()
    X = amd.var("X", (2, 2))
    f = amd.trace(X)
    for _ in range(3):
        f.eval({"X": np.eye(2)})  # hot
    with pytest.raises(kb.BackendError, match="two array libraries"):  # numpy's X and the other library's Y
        evaluate([f], {"X": np.eye(2), "Y": asarray(np.eye(2))})

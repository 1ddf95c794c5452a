"""``amd.parse_map``: the Kron/Box notation read back. Jacobians of random expression trees and the
Hessians of the printing corpus, printed and parsed, act as central differences say they should;
identity factors are sized by the map's input through compositions; hand-written maps against
``np.kron`` and the box product's einsum; every malformed map names its column."""

from __future__ import annotations

import re

import numpy as np
import pytest
from amd_reference import assert_close
from formula_corpus import FUNCTIONS, TREE_SYMBOLS, N, symbols, trees, values
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from zoo import box_twin

from kronbox import amd


def _directional(F, X: np.ndarray, V: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """``dF(X)[V]`` by central differences, written here."""
    return (np.asarray(F(X + h * V), dtype=float) - np.asarray(F(X - h * V), dtype=float)).ravel() / (2 * h)


def _round_trip(L: amd.LinearMap, v: dict, in_shape, out_shape) -> amd.LinearMap:
    shapes = {k: np.shape(x) for k, x in v.items()}
    for simplified in (False, True):
        text = amd.to_format(L, "amd", simplify=simplified)
        parsed = amd.parse_map(text, shapes, in_shape=in_shape, out_shape=out_shape)
        assert (parsed.in_shape, parsed.out_shape) == (tuple(in_shape), tuple(out_shape)), text
    return parsed


# Leaves that are symbols: a constant subtree such as trace(tanh(I)) prints without its size.
SIZED_TREES = st.recursive(st.sampled_from([TREE_SYMBOLS[k] for k in ("X", "A", "B")]), trees, max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(SIZED_TREES)
def test_jacobians_of_random_trees_parse_back(e):
    assume("X" in e.symbols)
    v = values(11)
    X = v["X"]
    parsed = _round_trip(amd.jacobian(e, "X").map, v, (N, N), e.shape)
    V = np.random.default_rng(2).standard_normal((N, N))
    expected = _directional(lambda W: e.eval({**v, "X": W}), X, V)
    assert_close(parsed.at(v) @ V.ravel(), expected, 1e-5, amd.map_text(parsed))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_hessians_parse_back(name):
    f = FUNCTIONS[name](symbols())
    v = values(12)
    parsed = _round_trip(amd.hessian(f, "X").map, v, (N, N), (N, N))
    V = np.random.default_rng(3).standard_normal((N, N))
    g = amd.grad(f, "X")  # itself checked against central differences of f in test_amd_printing
    expected = _directional(lambda W: g.eval({**v, "X": W}), v["X"], V)
    assert_close(parsed.at(v) @ V.ravel(), expected, 1e-5, name)


def test_identity_factors_are_sized_by_the_input():
    rng = np.random.default_rng(0)
    A, B, C = rng.standard_normal((5, 3)), rng.standard_normal((6, 4)), rng.standard_normal((2, 3))
    shapes = {"A": A.shape, "B": B.shape, "C": C.shape}
    cases = {
        # text: (input shape, dense matrix)
        "(I ⊗ B)*(A ⊗ I)": ((3, 4), np.kron(np.eye(5), B) @ np.kron(A, np.eye(4))),
        "A ⊗ I + 2*(A ⊗ I)": ((3, 4), 3 * np.kron(A, np.eye(4))),
        "I ⊠ C": ((3, 4), box_twin(np.eye(4), C)),
        "(C ⊠ I)*(B ⊗ I)": ((4, 3), box_twin(C, np.eye(6)) @ np.kron(B, np.eye(3))),
        "-I": ((3, 4), -np.eye(12)),
        "vec(C)*vec(A)' + (C ⊠ A')*(I ⊗ I)": ((5, 3), np.outer(C.ravel(), A.ravel()) + box_twin(C, A.T)),
        "diag(vec(A))*(I ⊗ I)": ((5, 3), np.diag(A.ravel())),
    }
    values = {"A": A, "B": B, "C": C}
    for text, (in_shape, dense) in cases.items():
        L = amd.parse_map(text, shapes, in_shape=in_shape)
        np.testing.assert_allclose(L.at(values).to_dense(), dense, rtol=1e-12, atol=1e-12, err_msg=text)


def test_matrices_are_maps_on_column_vectors():
    """As vector calculus writes derivatives: ``A`` for ``A ⊗ 1``, ``diag(d)`` for ``diag(vec(d))``."""
    rng = np.random.default_rng(2)
    values = {"A": rng.standard_normal((4, 3)), "d": rng.standard_normal((4, 1)), "u": rng.standard_normal((4, 1)),
              "v": rng.standard_normal((3, 1))}
    A, d, u, v = (values[k] for k in ("A", "d", "u", "v"))
    shapes = {k: x.shape for k, x in values.items()}
    cases = {
        "A'*diag(d)*A": ((3, 1), A.T @ np.diag(d.ravel()) @ A),
        "2*(A'*A) + I": ((3, 1), 2 * A.T @ A + np.eye(3)),
        "u*v' - A": ((3, 1), u @ v.T - A),
        "diag(d)*(A ⊗ I)": ((3, 1), np.diag(d.ravel()) @ A),
    }
    for text, (in_shape, dense) in cases.items():
        L = amd.parse_map(text, shapes, in_shape=in_shape)
        np.testing.assert_allclose(L.at(values).to_dense(), dense, rtol=1e-12, atol=1e-12, err_msg=text)
    with pytest.raises(amd.ParseError, match="diag\\(d\\) takes a column vector"):
        amd.parse_map("diag(A)", shapes, in_shape=(4, 3))


def test_inverse_of_a_kronecker_sum():
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 4)) + 3 * np.eye(4)
    L = amd.parse_map("inv(A ⊗ I + I ⊗ B)", {"A": A, "B": B}, in_shape=(3, 4))
    dense = np.linalg.inv(np.kron(A, np.eye(4)) + np.kron(np.eye(3), B))
    np.testing.assert_allclose(L.at({"A": A, "B": B}).to_dense(), dense, rtol=1e-10, atol=1e-12)


def test_the_zero_map_takes_out_shape():
    L = amd.parse_map("0", in_shape=(2, 3), out_shape=(4, 1))
    assert (L.in_shape, L.out_shape, L.kind) == ((2, 3), (4, 1), "zero")


@pytest.mark.parametrize(("text", "in_shape", "out_shape", "message", "column"), [
    ("trace(X)", (3, 3), None, "a linear map is expected", 1),
    ("A ⊗ B", (2, 3), None, "'A' is 3×3, but this place in the map takes ?×2", 1),
    ("(A ⊗ I)*(I ⊗ Q)", (3, 3), None, "'Q' is 3×4, but this place in the map takes ?×3", 14),
    ("A ⊗ foo(B)", (3, 3), None, "unknown function 'foo'", 5),
    ("vec(A)*B", (3, 3), None, "starts an outer product", 1),
    ("inv(A ⊗ B)", (3, 3), None, "inverse of a Kronecker sum", 1),
    ("inv(Q ⊗ I + I ⊗ A)", (4, 3), None, "'Q' is 3×4, but this place in the map takes 4×4", 5),
    ("A ⊗ I + I ⊗ R", (3, 3), None, "the terms of the sum map 3×3 to 3×3 and 3×3 to 3×4", 11),
    ("A*(I ⊗ I)", (3, 3), None, "a matrix is a map on column vectors only", 1),
    ("0", (3, 3), None, "the size of the zero map 0 cannot be told", 1),
    ("A ⊗ A", (3, 3), (2, 2), "'A' is 3×3, but this place in the map takes 2×3", 1),
    ("I", (3, 4), (3, 3), "the map gives 3×4 matrices, but 3×3 was expected", 1),
    ("diag(vec(Q))", (3, 3), None, "'Q' is 3×4, but this place in the map takes 3×3", 10),
    ("A ⊗ ", (3, 3), None, "ends too early", 4),
])
def test_malformed_maps_name_their_column(text, in_shape, out_shape, message, column):
    shapes = {"A": (3, 3), "B": (3, 3), "Q": (3, 4), "R": (4, 3)}
    with pytest.raises(amd.ParseError, match=re.escape(message)) as caught:
        amd.parse_map(text, shapes, in_shape=in_shape, out_shape=out_shape)
    assert caught.value.position + 1 == column, caught.value


def test_an_expression_refuses_the_map_operators():
    with pytest.raises(amd.ParseError, match="parse_map") as caught:
        amd.parse("trace(A ⊠ B)", {"A": (2, 2), "B": (2, 2)})
    assert caught.value.position == 8


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="XAIx12+-*'() ⊗⊠,vecdiaginv", max_size=28))
def test_fuzz_only_the_parse_error_escapes(text):
    try:
        amd.parse_map(text, {"X": (2, 2), "A": (2, 3), "x": (2, 1)}, in_shape=(2, 2))
    except amd.ParseError:
        pass

"""Bad input: a ``ValueError`` that names the operator and the shapes, never a silent broadcast.

And non-finite input: NaN and inf go through an operator as IEEE arithmetic says, they are neither
dropped, nor replaced, nor turned into an error.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from zoo import DTYPES, box_twin, random

import kronbox as kb


@pytest.fixture
def kron(rng):
    """``A ⊗ B`` with ``A`` 2×3 and ``B`` 4×2: an 8×6 operator on 3×2 matrices."""
    return kb.Kron(rng.standard_normal((2, 3)), rng.standard_normal((4, 2)))


def raises(match: str):
    return pytest.raises(ValueError, match=re.escape(match))


# ------------------------------------------------------------------ mismatched shapes
def test_compose_names_both_operators_and_shapes(kron, rng):
    other = kb.Box(rng.standard_normal((2, 2)), rng.standard_normal((2, 2)))
    with raises("Compose") as err:
        kron @ other
    for part in (repr(kron), "8×6", repr(other), "4×4"):
        assert part in str(err.value)
    with raises("Compose"):
        kb.Compose(kron, np.ones((5, 5)))


def test_sum_names_both_operators_and_shapes(kron, rng):
    other = kb.Box(rng.standard_normal((2, 3)), rng.standard_normal((3, 2)))
    for build in (lambda: kron + other, lambda: kron - other, lambda: kb.Sum(kron, other)):
        with raises("Sum") as err:
            build()
        for part in (repr(kron), "8×6", repr(other), "6×6"):
            assert part in str(err.value)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda op: op @ np.ones(5), 6),
        (lambda op: op.matvec(np.ones(7)), 6),
        (lambda op: op.matvec(np.ones((6, 2))), 6),
        (lambda op: op.matvec(np.float64(1.0)), 6),
        (lambda op: op.dot(np.ones((5, 1))), 6),
        (lambda op: op.rmatvec(np.ones(6)), 8),
        (lambda op: op.matmat(np.ones((5, 2))), 6),
        (lambda op: op.matmat(np.ones(6)), 6),
        (lambda op: op.rmatmat(np.ones((6, 2))), 8),
        (lambda op: op @ np.ones((5, 3)), 6),
        (lambda op: np.ones(6) @ op, 8),
        (lambda op: np.ones((2, 6)) @ op, 8),
    ],
)
def test_wrong_vector_length_says_the_expected_one(kron, call, expected):
    with raises(repr(kron)) as err:
        call(kron)
    assert str(expected) in str(err.value)


def test_apply_needs_the_input_matrix_shape(kron):
    # 2×3 has the right number of entries (6) but the wrong shape: no silent reshape.
    with raises(f"{kron!r}.apply") as err:
        kron.apply(np.ones((2, 3)))
    assert "(3, 2)" in str(err.value) and "(2, 3)" in str(err.value)
    with raises("(2, 3)"):  # column-major reads the transposed shape
        kron.apply(np.ones((3, 2)), order="F")
    with raises("order"):
        kron.apply(np.ones((3, 2)), order="X")
    with raises("(2, 3)"):
        kb.Box(np.ones((2, 3)), np.ones((4, 2))).apply(np.ones((3, 2)))


def test_not_a_vector_or_columns(kron):
    with raises(repr(kron)):
        kron @ np.ones((6, 2, 2))
    with raises("use *"):
        kron @ 3.0
    with raises("use *"):
        3.0 @ kron


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: kb.Kron(np.ones(3), np.ones((2, 2))), "Kron: the left factor must be a matrix"),
        (lambda: kb.Kron(np.ones((2, 2)), np.ones((2, 2, 2))), "(2, 2, 2)"),
        (lambda: kb.Box(np.ones((2, 2)), np.array([["a"]])), "Box: the right factor must hold numbers"),
        (lambda: kb.Outer(np.ones((2, 2, 2)), np.ones(2)), "Outer"),
        (lambda: kb.Outer(np.ones(2), np.ones(2), order="K"), "order"),
        (lambda: kb.Diag(np.ones((2, 2, 2))), "(2, 2, 2)"),
        (lambda: kb.Identity(-1), "Identity"),
        (lambda: kb.Identity((2, 2, 2)), "Identity"),
        (lambda: kb.Zero(2, (1, 2, 3)), "Zero"),
        (lambda: kb.Commutation(-1, 2), "Commutation"),
        (lambda: kb.Commutation(2.5, 2), "Commutation"),
        (lambda: kb.Dense(np.ones((6, 4)), in_shape=(3, 3)), "6×4"),
        (lambda: kb.Dense(np.ones(3)), "Dense"),
        (lambda: kb.Scaled(np.ones(2), kb.Identity(2)), "scalar"),
        (lambda: kb.Sum(), "Sum"),
        (lambda: kb.Compose(), "Compose"),
        (lambda: kb.Sum(kb.Identity(2), "text"), "Sum"),
        (lambda: kb.Identity(2) / np.ones(2), "scalar"),
        (lambda: kb.Identity(2) ** -1, "-1"),
        (lambda: kb.Identity(2) ** 1.5, "1.5"),
    ],
)
def test_bad_construction(build, match):
    with raises(match):
        build()


def test_trace_of_a_rectangular_operator(kron):
    with raises("square") as err:
        kron.trace()
    assert repr(kron) in str(err.value) and "8×6" in str(err.value)


def test_user_errors_are_not_assertions(kron):
    """``python -O`` strips asserts: bad input must still be caught, so no AssertionError is raised."""
    for bad in (np.ones(5), np.ones((5, 1)), np.ones((6, 2, 1))):
        with pytest.raises(ValueError):
            kron @ bad


# ---------------------------------------------------------------------- non-finite input
def _assert_same_nonfinite(y, want, what):
    """Non-finite exactly where the dense product is; for real dtypes also the same kind (nan, +inf, -inf).

    (Complex infinities may turn into NaN differently: ``(∞ + ∞i)(c + di)`` is evaluated in a
    different order by the two products, and IEEE arithmetic is not associative.)
    """
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(want), err_msg=f"{what}: non-finite entries differ")
    if want.dtype.kind == "f":
        for kind in (np.isnan, np.isposinf, np.isneginf):
            np.testing.assert_array_equal(kind(y), kind(want), err_msg=f"{what}: {kind.__name__} differs")
    finite = np.isfinite(want)
    np.testing.assert_allclose(y[finite], want[finite], rtol=1e-3)


# OpenBLAS's single-precision GEMM raises the IEEE "invalid" flag on infinite input even when every
# result is right (numpy's own ``A @ X`` warns the same way); the results are what is checked here.
@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_entries_propagate(dtype, bad, rng):
    """With factors of nonzero entries, one bad input entry reaches every output entry, as in the dense product."""
    A, B = random(rng, (3, 2), dtype), random(rng, (2, 4), dtype)
    U, V = random(rng, (3, 2), dtype), random(rng, (4, 2), dtype)
    for op, twin in [
        (kb.Kron(A, B), np.kron(A, B)),
        (kb.Box(A, B), box_twin(A, B)),
        (kb.Kron(sp.csr_array(A), B), np.kron(A, B)),
        (kb.Outer(U, V), np.outer(U.ravel(), V.ravel())),
        (kb.Dense(np.kron(A, B)), np.kron(A, B)),
        (2 * kb.Kron(A, B) @ kb.Commutation(2, 4, dtype=dtype), 2 * np.kron(A, B) @ box_twin(np.eye(2), np.eye(4))),
    ]:
        x = random(rng, op.shape[1], dtype)
        x[3] = bad
        for columns in (1, 3):
            X = np.repeat(x[:, None], columns, axis=1)
            Y = op @ X
            assert Y.dtype == dtype
            _assert_same_nonfinite(Y, np.repeat((twin @ x)[:, None], columns, axis=1), repr(op))
        _assert_same_nonfinite(op @ x, twin @ x, repr(op))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_structural_operators_keep_nonfinite_entries_in_place(dtype, rng):
    """Permutations and diagonals move or scale NaN and inf; they never zero them out or spread them."""
    X = random(rng, (2, 3), dtype)
    X[0, 1], X[1, 2] = np.nan, np.inf
    x = X.ravel()
    np.testing.assert_array_equal(kb.Identity(6, dtype=dtype) @ x, x)
    np.testing.assert_array_equal(kb.Commutation(3, 2, dtype=dtype) @ x, X.T.ravel())
    d = random(rng, 6, dtype)
    np.testing.assert_array_equal(kb.Diag(d) @ x, d * x)
    np.testing.assert_array_equal(kb.vec(kb.unvec(x, (2, 3))), x)

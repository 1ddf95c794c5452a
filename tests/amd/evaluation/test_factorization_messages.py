"""``logdet`` and ``inv`` of a matrix with an inf or nan entry say so, never "singular" (issue 14, item 12).

LU reads a non-finite entry as a failed pivot; the message must name the real cause. A matrix that is
singular with finite entries keeps its own message, and IEEE propagation that yields a value (a nan
anywhere, an inf on the diagonal) is unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

from kronbox import amd

X = amd.var("X", (3, 3))
NOT_FINITE = {
    "inf above the diagonal": np.array([[1.0, np.inf, 0], [0, 1, 0], [0, 0, 1]]),
    "-inf below the diagonal": np.array([[1.0, 0, 0], [-np.inf, 1, 0], [0, 0, 1]]),
    "inf and -inf": np.array([[1.0, -np.inf, 0], [np.inf, 1, 0], [0, 0, 1]]) * np.array([[1, 1, 0], [1, 1, 0],
                                                                                            [0, 0, 1]]),
}


# An inf on the LU's diagonal makes the determinant's phase inf/inf: numpy's "invalid value" warning on the
# way to a value that IEEE arithmetic propagates (logdet = inf), not an error.
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@pytest.mark.parametrize("value", list(NOT_FINITE.values()), ids=list(NOT_FINITE))
@pytest.mark.parametrize("f", [amd.logdet(X), amd.inv(X), -amd.logdet(X) - amd.trace(amd.inv(X)),
                               amd.trace(amd.inv(X) @ X)], ids=str)
def test_a_non_finite_matrix_is_not_called_singular(f, value):
    try:
        f.eval(X=value)
    except np.linalg.LinAlgError as err:
        message = str(err)
        assert "singular" not in message and "determinant is 0" not in message, message
        assert "not finite" in message and "inf or nan" in message, message
        assert "the value of X" in message


def test_a_singular_finite_matrix_is_still_called_singular():
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        amd.logdet(X).eval(X=np.ones((3, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        amd.inv(X).eval(X=np.ones((3, 3)))


def test_at_least_one_case_raises():
    """The cases above reach the factorization's error (they are not all propagated as values)."""
    with pytest.raises(np.linalg.LinAlgError, match="not finite"):
        amd.logdet(X).eval(X=NOT_FINITE["inf above the diagonal"])


@pytest.mark.parametrize("value", list(NOT_FINITE.values()), ids=list(NOT_FINITE))
def test_the_array_api_path_says_so_too(lib, value):
    """The same through another array library's ``slogdet`` (PyTorch, JAX)."""
    asarray, _ = lib
    with pytest.raises(np.linalg.LinAlgError, match="not finite") as raised:
        amd.logdet(X).eval(X=asarray(value))
    assert "singular" not in str(raised.value)

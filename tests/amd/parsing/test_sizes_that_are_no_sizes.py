"""A size written as ``Inf`` or ``NaN`` (``eye(Inf)``, ``ones(NaN, 2)``) is a :class:`ParseError` at its place,
not an ``OverflowError`` from ``int(inf)``; the calculator says so in one line and exits 2."""

import pytest
from command import kronbox

from kronbox import amd


@pytest.mark.parametrize("text", ["eye(Inf)", "ones(NaN, 2)", "zeros(2, Inf)", "trace(X*ones(3, -Inf))"])
def test_a_size_that_is_not_finite_is_a_parse_error(text):
    with pytest.raises(amd.ParseError) as error:
        amd.parse(text, {"X": (3, 3)})
    assert "positive whole number" in error.value.message


def test_the_calculator_reports_it_in_one_line():
    result = kronbox("diff", "trace(X*ones(2, Inf))")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "takes positive whole numbers" in result.stderr


def test_a_map_acts_on_matrices():
    with pytest.raises(amd.ShapeError, match="acts on matrices"):
        amd.parse_map("X ⊗ I", {"X": (3, 3)}, in_shape=(3, 3, 2))

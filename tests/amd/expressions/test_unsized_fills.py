"""``zeros`` and ``ones`` whose shape is not known (``amd.zeros(None)``, as a zero map of unknown shape applies)
transpose to themselves and print (the text form ``matrix(0)``, sized by the context as the parser reads it);
the numpy printer says that their size is not known. A constant's declared shape that its value contradicts is a
:class:`ShapeError`, whether the shape is a tuple or a column's length."""

import numpy as np
import pytest

from kronbox import amd
from kronbox.amd.expressions import expr as E


@pytest.mark.parametrize("make", [E.zeros, E.ones])
def test_an_unsized_fill_transposes_to_itself_and_prints(make):
    Z = make(None)
    assert Z.T is Z
    kind = "0" if make is E.zeros else "1"
    assert amd.to_text(Z) == f"matrix({kind})"
    assert amd.to_latex(Z) == rf"\mathbf{{{kind}}}"
    with pytest.raises(ValueError, match=r"size of \w+ is not known"):
        amd.to_numpy(Z)


@pytest.mark.parametrize("shape", [4, (4, 1), (1, 3)])
def test_a_constant_whose_value_contradicts_its_shape(shape):
    with pytest.raises(amd.ShapeError, match="the value is 3×1"):
        amd.const("C", np.ones((3, 1)), shape=shape)


def test_a_constant_whose_value_has_its_shape():
    assert amd.const("C", np.ones((3, 1)), shape=3).shape == (3, 1)

"""The test suite runs with warnings as errors (issue 14, item 13), so that a library's next change of
contract (a DeprecationWarning, a FutureWarning) fails it instead of scrolling by."""

from __future__ import annotations

import warnings

import pytest


def test_warnings_are_errors(pytestconfig):
    assert pytestconfig.getini("filterwarnings")[:1] == ["error"]
    with pytest.raises(FutureWarning, match="a contract changed"):
        warnings.warn("a contract changed", FutureWarning, stacklevel=1)

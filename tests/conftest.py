"""Fixtures shared by the tests: every zoo member (see ``zoo.py``) in every dtype, and every array library
(see ``backends.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from array_libraries import LIBRARIES
from zoo import DTYPES, ZOO, Case


@pytest.fixture(params=ZOO, ids=lambda case: case.name)
def case(request) -> Case:
    return request.param


@pytest.fixture(params=DTYPES, ids=str)
def dtype(request) -> np.dtype:
    return request.param


@pytest.fixture
def built(case: Case, dtype: np.dtype):
    """``(op, twin)``: the zoo member and its dense twin, in ``dtype``."""
    return case(dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture(params=LIBRARIES, ids=lambda lib: lib.name)
def lib(request):
    """``(asarray, to_numpy)`` of one array library (skips when it is not available here)."""
    return request.param.load()

"""kronbox.services, the one way up: every declared service has its provider once kronbox is imported, and an
undeclared name is refused."""

import pytest

import kronbox
from kronbox import services


def test_every_declared_service_is_provided():
    assert services.missing() == []


def test_an_undeclared_service_is_refused():
    with pytest.raises(KeyError, match="not a declared service"):
        services.provide("linalg.nothing", print)


def test_calls_reach_the_provider():
    import numpy as np

    A, B = np.diag([1.0, 2.0]), np.diag([3.0, 4.0, 5.0])
    expected = np.trace(np.kron(A, B))
    assert services.call("linalg.trace", kronbox.Kron(A, B)) == pytest.approx(expected)

"""A zero trace is +0.0, never -0.0 (issue 14, item 12): ``tr(0×0 ⊗ B) = tr(0×0) · tr B`` multiplies a
zero by a negative number, while the sum of an (empty) diagonal is a plain zero. Every kind of empty
operator, and zero traces of non-empty ones, in real and complex dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kronbox as kb

E = np.zeros((0, 0))
B = -np.eye(2)

ZERO_TRACES = {
    "Kron(0×0, B)": lambda: kb.Kron(E, B),
    "Kron(B, 0×0)": lambda: kb.Kron(B, E),
    "Box(0×0, B)": lambda: kb.Box(E, B),
    "KronSum(0×0, B)": lambda: kb.KronSum(E, B),
    "KronSum(B, 0×0)": lambda: kb.KronSum(B, E),
    "-I(0)": lambda: -kb.Identity(0),
    "Diag(empty)": lambda: kb.Diag(np.zeros(0)),
    "Zero(0, 0)": lambda: kb.Zero(0, 0),
    "Dense(0×0)": lambda: kb.Dense(E),
    "-Kron(0×0, B)": lambda: -kb.Kron(E, B),
    "sum of empty Krons": lambda: kb.Kron(E, B) + 2 * kb.Kron(E, B),
    "composition of empty Krons": lambda: kb.Kron(E, B) @ kb.Kron(E, B),
    "Outer(empty, empty)": lambda: kb.Outer(np.zeros(0), np.zeros(0)),
    "Commutation(0, 3)": lambda: -kb.Commutation(0, 3),
    "transpose": lambda: kb.Kron(E, B).T,
    "complex Kron(0×0, B)": lambda: kb.Kron(E.astype(complex), (1 + 1j) * B),
    "Kron(zero-trace A, B)": lambda: kb.Kron(np.zeros((2, 2)), B),
    "complex zero-trace": lambda: kb.Kron(np.zeros((2, 2), complex), -(1 + 1j) * np.eye(2)),
}


@pytest.mark.parametrize("build", list(ZERO_TRACES.values()), ids=list(ZERO_TRACES))
def test_a_zero_trace_is_positive_zero(build):
    op = build()
    t = op.trace()
    assert t == 0 and t == np.trace(op.to_dense())
    parts = (t.real, t.imag) if isinstance(t, complex) else (t,)
    for part in parts:
        assert math.copysign(1.0, part) == 1.0, f"{op!r}.trace() = {t!r}"


def test_nonzero_traces_are_unchanged():
    A = np.diag([1.0, -3.0])
    assert kb.Kron(A, B).trace() == 4.0
    assert kb.KronSum(A, B).trace() == 2 * -2.0 + 2 * -2.0

"""``to_dense()`` of an operator whose dense matrix cannot exist (issue 14, item 12): a kronbox error that
names the size and the lazy alternatives, raised before anything is allocated."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import kronbox as kb
from kronbox.operators.base import DenseTooLargeError, byte_text

HUGE = [
    ("Kron(I(10¹⁰), I(10¹⁰))", lambda: kb.Kron(kb.Identity(10**10), kb.Identity(10**10))),  # beyond numpy's reach
    ("Kron(I(10⁵), I(10⁴))", lambda: kb.Kron(kb.Identity(10**5), kb.Identity(10**4))),  # beyond any RAM today
    ("Identity(10⁷)", lambda: kb.Identity(10**7)),
    ("Box of sparse identities", lambda: kb.Box(sp.eye(10**5, format="csr"), sp.eye(10**5, format="csr"))),
    ("Outer(10⁶·10⁶)", lambda: kb.Outer(np.ones(10**6), np.ones(10**6))),
    ("sum", lambda: kb.Kron(kb.Identity(10**4), kb.Identity(10**3)) + kb.Commutation(10**4, 10**3)),
    ("composition", lambda: kb.Kron(kb.Identity(10**4), kb.Identity(10**3)) @ kb.Commutation(10**4, 10**3)),
    ("float32 transpose", lambda: kb.Kron(np.ones((10**4, 10**4), np.float32), np.ones((10, 10), np.float32)).T),
]


@pytest.mark.parametrize("build", [b for _, b in HUGE], ids=[name for name, _ in HUGE])
def test_a_dense_form_that_cannot_exist_is_refused_with_its_size(build):
    op = build()
    M, N = op.shape
    needed = M * N * np.dtype(op.dtype).itemsize
    for densify in (op.to_dense, op.toarray):
        with pytest.raises(DenseTooLargeError) as caught:
            densify()
        message = str(caught.value)
        assert isinstance(caught.value, MemoryError)
        assert f"{M}×{N}" in message and byte_text(needed) in message and str(np.dtype(op.dtype)) in message
        assert "lazily" in message and "op @ x" in message


def test_the_error_is_public():
    assert kb.DenseTooLargeError is DenseTooLargeError and issubclass(kb.DenseTooLargeError, MemoryError)


def test_byte_text():
    assert byte_text(512) == "512 B"
    assert byte_text(8 * 10**9 * 10**9) == "6.94 EiB"
    assert byte_text(80 * 2**30) == "80 GiB"


def test_small_dense_forms_are_unaffected():
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(kb.Kron(A, A).to_dense(), np.kron(A, A))
    assert kb.Identity(0).to_dense().shape == (0, 0)


def test_a_wide_operator_without_structure_densifies_within_its_own_size():
    """``to_dense`` of a 1 × 10⁶ operator (8 MB) never forms the 10⁶ × 10⁶ identity (8 TB): it goes through
    the adjoint, for real and complex operators, and agrees with the matrix behind it."""
    rng = np.random.default_rng(8)
    w = rng.standard_normal(10**6)
    row = spla.LinearOperator((1, 10**6), matvec=lambda x: np.atleast_1d(w @ x), rmatvec=lambda y: w * y[0],
                              dtype=np.float64)
    dense = kb.Dense(row).to_dense()
    assert dense.shape == (1, 10**6)
    np.testing.assert_array_equal(dense[0], w)
    C = rng.standard_normal((3, 7)) + 1j * rng.standard_normal((3, 7))
    for op, twin in ((kb.Dense(spla.aslinearoperator(C)), C), (kb.Dense(spla.aslinearoperator(C)).H, C.conj().T)):
        np.testing.assert_allclose(op.to_dense(), twin, rtol=1e-14)

"""The thin path of ``op @ x`` (a Kron or Box of numpy factors on one vector) computes what the general path
computes: against the dense twin, for rectangular factors in both product orders, every dtype, through ``@``,
``matvec`` (as scipy's solvers call it) and ``dot``."""

import numpy as np
import pytest
from zoo import box_twin

import kronbox as kb

SHAPES = [((3, 5), (4, 2)), ((5, 3), (2, 4)), ((1, 4), (3, 1)), ((6, 6), (6, 6))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("product", ["kron", "box"])
def test_thin_path_against_the_dense_twin(shapes, dtype, product):
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal(s).astype(dtype) for s in shapes)
    op, twin = (kb.Kron(A, B), np.kron(A, B)) if product == "kron" else (kb.Box(A, B), box_twin(A, B))
    assert op._vector is not None
    x = rng.standard_normal(op.shape[1]).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for y in (op @ x, op.matvec(x), op.dot(x), op._matmat(x[:, None])[:, 0]):
        assert y.shape == (op.shape[0],)
        np.testing.assert_allclose(y, twin @ x, rtol=tol, atol=tol)


def test_operators_of_sparse_or_operator_factors_take_the_general_path():
    import scipy.sparse as sp

    op = kb.Kron(sp.eye(3, format="csr"), np.ones((2, 2)))
    assert op._vector is None
    np.testing.assert_allclose(op @ np.arange(6.0), np.kron(np.eye(3), np.ones((2, 2))) @ np.arange(6.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128], ids=lambda d: np.dtype(d).name)
def test_sums_scalings_and_symmetric_parts_of_thin_operators_are_thin(dtype):
    rng = np.random.default_rng(1)
    A, B, C, D = (rng.standard_normal((4, 4)).astype(dtype) for _ in range(4))
    H = kb.Box(A, B) - 2.0 * kb.Kron(C, D) + kb.Box(D, A)
    ops = {
        "sum": (H, np.asarray(box_twin(A, B) - 2.0 * np.kron(C, D) + box_twin(D, A))),
        "scaled": (3.0 * kb.Kron(A, B), 3.0 * np.kron(A, B)),
    }
    commutation = kb.Commutation(4, 4).to_dense()
    projection = (np.eye(16) + commutation) / 2
    ops["symmetric part"] = (kb.SymmetricPart(H), projection @ ops["sum"][1] @ projection)
    x = rng.standard_normal(16).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name, (op, twin) in ops.items():
        assert op._vector is not None, name
        for y in (op @ x, op.matvec(x)):
            assert y.dtype == op._matmat(x[:, None]).dtype, name
            np.testing.assert_allclose(y, twin @ x, rtol=tol, atol=tol, err_msg=name)


def test_a_sum_of_mixed_dtypes_or_a_complex_scaling_of_a_real_operator_takes_the_general_path():
    A = np.arange(4.0).reshape(2, 2)
    assert (kb.Kron(A, A) + kb.Kron(A.astype(np.float32), A.astype(np.float32)))._vector is None
    op = 1j * kb.Kron(A, A)
    assert op._vector is None
    np.testing.assert_allclose(op @ np.ones(4), 1j * np.kron(A, A) @ np.ones(4))

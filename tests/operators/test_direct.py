"""The 24 direct matrix products against an einsum of their definition."""

import itertools
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

import kronbox as kb

PERMS = list(itertools.permutations(range(4)))


def definition(A, B, perm):
    """``X[(i0 i1), (i2 i3)] = A[i_σ0, i_σ1] B[i_σ2, i_σ3]`` by einsum, row-major pairs."""
    letters = "abcd"
    dims = [0] * 4
    dims[perm[0]], dims[perm[1]] = A.shape
    dims[perm[2]], dims[perm[3]] = B.shape
    spec = f"{letters[perm[0]]}{letters[perm[1]]},{letters[perm[2]]}{letters[perm[3]]}->abcd"
    X = np.einsum(spec, A, B)
    return X.reshape(dims[0] * dims[1], dims[2] * dims[3]), dims


@pytest.fixture(scope="module")
def factors_2x3_4x5():
    rng = np.random.default_rng(3)
    return rng.standard_normal((2, 3)), rng.standard_normal((4, 5))


@pytest.mark.parametrize("perm", PERMS)
def test_direct_product_matches_definition(perm, factors_2x3_4x5):
    A, B = factors_2x3_4x5
    X, dims = definition(A, B, perm)
    op = kb.direct_product(A, B, perm)
    assert isinstance(op, kb.Kron | kb.Box | kb.Outer)
    np.testing.assert_allclose(op.to_dense(), X, rtol=1e-13, atol=1e-13)
    # the matrix shapes it reads and writes are those of the index pairs
    assert op.out_shape == (dims[0], dims[1])
    assert op.in_shape == (dims[2], dims[3])
    x = np.random.default_rng(0).standard_normal(op.shape[1])
    np.testing.assert_allclose(op @ x, X @ x, rtol=1e-12, atol=1e-12)


def test_eight_of_each_kind(factors_2x3_4x5):
    A, B = factors_2x3_4x5
    kinds = Counter(type(kb.direct_product(A, B, p)).__name__ for p in PERMS)
    assert kinds == {"Outer": 8, "Kron": 8, "Box": 8}


def test_all_24_are_distinct(factors_2x3_4x5):
    A, B = factors_2x3_4x5
    dense = [kb.direct_product(A, B, p).to_dense() for p in PERMS]
    for i, j in itertools.combinations(range(len(dense)), 2):
        assert dense[i].shape != dense[j].shape or not np.allclose(dense[i], dense[j])


def test_identity_permutation_is_an_outer_product_and_0213_is_kron(factors_2x3_4x5):
    A, B = factors_2x3_4x5
    np.testing.assert_allclose(kb.direct_product(A, B, (0, 1, 2, 3)).to_dense(), np.outer(A.ravel(), B.ravel()))
    np.testing.assert_allclose(kb.direct_product(A, B, (0, 2, 1, 3)).to_dense(), np.kron(A, B))


@pytest.mark.parametrize("perm", [(0, 2, 1, 3), (0, 3, 1, 2), (0, 1, 2, 3), (2, 1, 3, 0)])
def test_sparse_and_complex_factors(perm):
    rng = np.random.default_rng(5)
    A = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    B = sp.random(2, 4, density=0.6, random_state=1, format="csr")
    X, _ = definition(A, B.toarray(), perm)
    op = kb.direct_product(A, B, perm)
    assert op.dtype == np.complex128
    np.testing.assert_allclose(op.to_dense(), X, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "perm", [(0, 1, 2), (0, 1, 2, 2), (1, 2, 3, 4), (0, 1, 2, 3, 4), "0123", 3, (0.0, 1.0, 2.0, 3.0), None]
)
def test_malformed_perm_says_what_a_valid_one_is(perm):
    with pytest.raises(ValueError, match=r"permutation of \(0, 1, 2, 3\)"):
        kb.direct_product(np.ones((2, 2)), np.ones((2, 2)), perm)


def test_non_matrix_factor_is_rejected():
    with pytest.raises(ValueError, match="direct_product: A must be a matrix"):
        kb.direct_product(np.ones(3), np.ones((2, 2)), (0, 1, 2, 3))

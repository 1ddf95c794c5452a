"""The operator zoo: every kronbox operator next to a dense twin built without kronbox.

Each :class:`Case` builds, for a random generator and a dtype, a pair ``(op, twin)``: the lazy
operator and the dense matrix it must equal, computed from the definitions with numpy alone
(``np.kron``, an einsum of the box definition, ``np.outer``, ``np.diag``, index arithmetic for the
commutation matrix). Row-major ``vec`` throughout: ``vec(X) = X.ravel()``.

Also here: the tolerances every comparison uses and the hypothesis strategies for shapes and dtypes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

import kronbox as kb

DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex128))


# ---------------------------------------------------------------------------------- tolerances
def tolerance(dtype) -> float:
    return 2e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-11


def assert_close(actual, expected, dtype, what: str = "") -> None:
    """Entrywise agreement up to ``tolerance(dtype)`` relative to the largest entry of ``expected``."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    tol = tolerance(dtype)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


# ------------------------------------------------------------------------ random ingredients
def random(rng: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """Standard normal entries of ``dtype`` (complex dtypes get an imaginary part too)."""
    dtype = np.dtype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def random_sparse(rng: np.random.Generator, shape, dtype) -> sp.csr_array:
    """A random matrix with about half of its entries zero, as a CSR array."""
    M = random(rng, shape, dtype)
    M[rng.random(shape) < 0.5] = 0
    return sp.csr_array(M)


# ----------------------------------------------------------------------- independent twins
def box_twin(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``(A ⊠ B)[(ij),(kl)] = A[i,l] B[j,k]`` with ``(kl) = k·n1 + l``: the definition as an einsum."""
    (m1, n1), (m2, n2) = A.shape, B.shape
    return np.einsum("il,jk->ijkl", A, B).reshape(m1 * m2, n2 * n1)


def commutation_twin(m: int, n: int, dtype) -> np.ndarray:
    """The permutation with ``K vec(X) = vec(Xᵀ)`` for ``X`` of shape ``n×m``: ``K[b·n + a, a·m + b] = 1``."""
    K = np.zeros((m * n, m * n), dtype=dtype)
    for a in range(n):
        for b in range(m):
            K[b * n + a, a * m + b] = 1
    return K


def dense(F) -> np.ndarray:
    return F.toarray() if sp.issparse(F) else np.asarray(F)


# ------------------------------------------------------------------------------------ cases
Builder = Callable[[Callable[..., np.ndarray], np.random.Generator, np.dtype], tuple[kb.Operator, np.ndarray]]


@dataclass(frozen=True)
class Case:
    """One zoo member: ``build(r, rng, dtype)`` returns ``(op, twin)``; ``r(*shape)`` draws random entries."""

    name: str
    build: Builder

    def __call__(self, dtype) -> tuple[kb.Operator, np.ndarray]:
        dtype = np.dtype(dtype)
        rng = np.random.default_rng(zlib.crc32(f"{self.name}/{dtype}".encode()))
        return self.build(lambda *shape: random(rng, shape, dtype), rng, dtype)


def _kron(*shapes):
    def build(r, rng, dtype):
        mats = [r(*s) for s in shapes]
        twin = mats[0]
        for M in mats[1:]:
            twin = np.kron(twin, M)
        return kb.Kron(*mats), twin

    return build


def _box(shape_a, shape_b):
    def build(r, rng, dtype):
        A, B = r(*shape_a), r(*shape_b)
        return kb.Box(A, B), box_twin(A, B)

    return build


def _outer_vectors(r, rng, dtype):
    u, v = r(4), r(3)
    return kb.Outer(u, v), np.outer(u, v)


def _outer_matrices(order: str):
    def build(r, rng, dtype):
        U, V = r(2, 3), r(4, 2)
        return kb.Outer(U, V, order=order), np.outer(U.ravel(order=order), V.ravel(order=order))

    return build


def _nested_kron(r, rng, dtype):
    A, B, C = r(2, 1), r(2, 3), r(1, 2)
    return kb.Kron(A, kb.Kron(B, C)), np.kron(A, np.kron(B, C))


def _box_of_kron(r, rng, dtype):
    A, B, C = r(2, 1), r(1, 2), r(3, 2)
    return kb.Box(kb.Kron(A, B), C), box_twin(np.kron(A, B), C)


def _kron_sparse_dense(r, rng, dtype):
    S, D = random_sparse(rng, (4, 3), dtype), r(2, 3)
    return kb.Kron(S, D), np.kron(S.toarray(), D)


def _box_dense_sparse(r, rng, dtype):
    D, S = r(3, 2), random_sparse(rng, (2, 4), dtype)
    return kb.Box(D, S), box_twin(D, S.toarray())


def _kron_op_array(r, rng, dtype):
    A, B, C = r(2, 2), r(1, 3), r(3, 2)
    return kb.Kron(kb.Box(A, B), C), np.kron(box_twin(A, B), C)


def _kron_linear_operator(r, rng, dtype):
    A, B = r(3, 2), r(2, 3)
    return kb.Kron(aslinearoperator(A), B), np.kron(A, B)


def _kron_identity_factor(r, rng, dtype):
    A = r(2, 3)
    return kb.Kron(A, kb.Identity(3, dtype=dtype)), np.kron(A, np.eye(3, dtype=dtype))


def _sum_of_products(r, rng, dtype):
    # All three map 3×2 matrices to 2×3 matrices.
    A, B, C, D, U, V = r(2, 3), r(3, 2), r(2, 2), r(3, 3), r(2, 3), r(3, 2)
    op = kb.Sum(kb.Kron(A, B), kb.Box(C, D), kb.Outer(U, V))
    return op, np.kron(A, B) + box_twin(C, D) + np.outer(U.ravel(), V.ravel())


def _sum_with_structure(r, rng, dtype):
    A, B, d = r(3, 3), r(2, 2), r(3, 2)
    op = kb.Kron(A, B) + kb.Identity((3, 2), dtype=dtype) - kb.Diag(d)
    return op, np.kron(A, B) + np.eye(6, dtype=dtype) - np.diag(d.ravel())


def _difference(r, rng, dtype):
    A, B, C, D = r(2, 2), r(2, 2), r(2, 2), r(2, 2)
    return kb.Kron(A, B) - kb.Box(C, D), np.kron(A, B) - box_twin(C, D)


def _negation(r, rng, dtype):
    A, B = r(3, 1), r(2, 2)
    return -kb.Kron(A, B), -np.kron(A, B)


def _compose(r, rng, dtype):
    # Box(C, D): 2×2 → 3×2 matrices; Kron(A, B): 3×2 → 2×4 matrices.
    A, B, C, D = r(2, 3), r(4, 2), r(3, 2), r(2, 2)
    return kb.Kron(A, B) @ kb.Box(C, D), np.kron(A, B) @ box_twin(C, D)


def _compose_three(r, rng, dtype):
    A, B, d = r(2, 2), r(3, 3), r(6)
    op = kb.Compose(kb.Commutation(3, 2, dtype=dtype), kb.Kron(A, B), kb.Diag(d))
    return op, commutation_twin(3, 2, dtype) @ np.kron(A, B) @ np.diag(d)


def _transpose_of(factory):
    def build(r, rng, dtype):
        op, twin = factory(r, rng, dtype)
        return kb.Transpose(op), twin.T

    return build


def _scaled(c):
    def build(r, rng, dtype):
        A, B = r(2, 3), r(2, 2)
        return c * kb.Kron(A, B), c * np.kron(A, B)

    return build


def _nested_scaled(r, rng, dtype):
    A, B = r(2, 2), r(3, 2)
    return kb.Scaled(0.5, kb.Scaled(-3, kb.Box(A, B))), -1.5 * box_twin(A, B)


def _identity(n):
    def build(r, rng, dtype):
        op = kb.Identity(n, dtype=dtype)
        return op, np.eye(op.shape[0], dtype=dtype)

    return build


def _zero(m, n):
    def build(r, rng, dtype):
        op = kb.Zero(m, n, dtype=dtype)
        return op, np.zeros(op.shape, dtype=dtype)

    return build


def _diag(*shape):
    def build(r, rng, dtype):
        d = r(*shape)
        return kb.Diag(d), np.diag(d.ravel())

    return build


def _dense_array(r, rng, dtype):
    M = r(4, 3)
    return kb.Dense(M), M.copy()


def _dense_sparse(r, rng, dtype):
    S = random_sparse(rng, (3, 5), dtype)
    return kb.Dense(S), S.toarray()


def _dense_linear_operator(r, rng, dtype):
    M = r(3, 4)
    return kb.Dense(aslinearoperator(M)), M.copy()


def _dense_with_shapes(r, rng, dtype):
    M = r(6, 4)
    return kb.Dense(M, in_shape=(2, 2), out_shape=(3, 2)), M.copy()


def _commutation(m, n):
    def build(r, rng, dtype):
        return kb.Commutation(m, n, dtype=dtype), commutation_twin(m, n, dtype)

    return build


def _kronsum(r, rng, dtype):
    A, B = r(3, 3), r(2, 2)
    return kb.KronSum(A, B), np.kron(A, np.eye(2, dtype=dtype)) + np.kron(np.eye(3, dtype=dtype), B)


def _symmetric_part(r, rng, dtype):
    """``Π (A ⊗ B + C ⊠ D) Π`` on 3×3 matrices; the twin projects the dense sum on both sides."""
    A, B, C, D = (r(3, 3) for _ in range(4))
    n = 3
    P = np.zeros((n * n, n * n), dtype=dtype)
    for i in range(n):
        for j in range(n):
            P[i * n + j, i * n + j] += 0.5
            P[i * n + j, j * n + i] += 0.5
    return kb.SymmetricPart(kb.Kron(A, B) + kb.Box(C, D)), P @ (np.kron(A, B) + box_twin(C, D)) @ P


def _inverse_of_sum(factory):
    """The lazy inverse of ``op + 4 I`` (no structure to exploit); the twin is ``numpy.linalg.inv``."""

    def build(r, rng, dtype):
        op, twin = factory(r, rng, dtype)
        shift = 4 * np.eye(op.shape[0], dtype=dtype)
        return kb.Inverse(op + kb.Dense(shift)), np.linalg.inv(twin + shift)

    return build


def _inverse_kronsum(r, rng, dtype):
    """``(A ⊕ B)⁻¹`` with eigenvalues of ``A ⊕ B`` kept away from zero (a Sylvester solve)."""
    A, B = r(3, 3) + 4 * np.eye(3, dtype=dtype), r(2, 2) + 4 * np.eye(2, dtype=dtype)
    twin = np.kron(A, np.eye(2, dtype=dtype)) + np.kron(np.eye(3, dtype=dtype), B)
    return kb.Inverse(kb.KronSum(A, B)), np.linalg.inv(twin)


def _inverse_box(r, rng, dtype):
    A, B = r(3, 3) + 3 * np.eye(3, dtype=dtype), r(2, 2) + 3 * np.eye(2, dtype=dtype)
    return kb.Inverse(kb.Box(A, B)), np.linalg.inv(box_twin(A, B))


def _power(r, rng, dtype):
    A, B = r(2, 2), r(2, 2)
    twin = np.kron(A, B)
    return kb.Kron(A, B) ** 3, twin @ twin @ twin


ZOO: tuple[Case, ...] = (
    Case("kron-rect", _kron((2, 3), (4, 2))),
    Case("kron-square", _kron((3, 3), (2, 2))),
    Case("kron-1x1", _kron((1, 1), (3, 2))),
    Case("kron-row-col", _kron((1, 3), (4, 1))),
    Case("kron-col-row", _kron((3, 1), (1, 2))),
    Case("kron-3ary", _kron((2, 2), (1, 3), (3, 2))),
    Case("kron-nested", _nested_kron),
    Case("kron-sparse-dense", _kron_sparse_dense),
    Case("kron-op-array", _kron_op_array),
    Case("kron-linearoperator", _kron_linear_operator),
    Case("kron-identity-factor", _kron_identity_factor),
    Case("box-rect", _box((2, 3), (4, 2))),
    Case("box-square-from-rect", _box((2, 3), (3, 2))),
    Case("box-1x1", _box((1, 1), (2, 3))),
    Case("box-row-col", _box((1, 4), (3, 1))),
    Case("box-of-kron", _box_of_kron),
    Case("box-dense-sparse", _box_dense_sparse),
    Case("outer-vectors", _outer_vectors),
    Case("outer-matrices-C", _outer_matrices("C")),
    Case("outer-matrices-F", _outer_matrices("F")),
    Case("sum-of-products", _sum_of_products),
    Case("sum-with-structure", _sum_with_structure),
    Case("difference", _difference),
    Case("negation", _negation),
    Case("compose", _compose),
    Case("compose-three", _compose_three),
    Case("power", _power),
    Case("kronsum", _kronsum),
    Case("inverse-of-sum", _inverse_of_sum(_kronsum)),
    Case("inverse-kronsum", _inverse_kronsum),
    Case("inverse-box", _inverse_box),
    Case("transpose-kron", _transpose_of(_kron((2, 3), (4, 2)))),
    Case("transpose-box", _transpose_of(_box((2, 3), (4, 2)))),
    Case("transpose-sum", _transpose_of(_sum_of_products)),
    Case("scaled-real", _scaled(2.5)),
    Case("scaled-complex", _scaled(1 - 2j)),
    Case("scaled-nested", _nested_scaled),
    Case("identity-int", _identity(4)),
    Case("identity-matrix", _identity((2, 3))),
    Case("zero-vectors", _zero(3, 4)),
    Case("zero-matrices", _zero((2, 3), (3, 1))),
    Case("diag-vector", _diag(5)),
    Case("diag-matrix", _diag(2, 3)),
    Case("dense-array", _dense_array),
    Case("dense-sparse", _dense_sparse),
    Case("dense-linearoperator", _dense_linear_operator),
    Case("dense-matrix-shapes", _dense_with_shapes),
    Case("commutation-3-2", _commutation(3, 2)),
    Case("commutation-1-4", _commutation(1, 4)),
    Case("commutation-4-4", _commutation(4, 4)),
    Case("symmetric-part", _symmetric_part),
)


# ------------------------------------------------------------------------ hypothesis strategies
dims = st.integers(min_value=1, max_value=5)
matrix_shapes = st.tuples(dims, dims)
dtypes = st.sampled_from(DTYPES)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def factor_pairs(draw, square_product: bool = False):
    """``(A, B)`` of one drawn dtype and shapes ``m1×n1``, ``m2×n2`` (factor dimensions 1..5).

    With ``square_product`` the shapes are ``m×n`` and ``n×m``, so that ``A ⊠ B`` is square.
    """
    dtype = draw(dtypes)
    rng = np.random.default_rng(draw(seeds))
    shape_a = draw(matrix_shapes)
    shape_b = shape_a[::-1] if square_product else draw(matrix_shapes)
    return random(rng, shape_a, dtype), random(rng, shape_b, dtype)


spaces = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def operator_trees(draw, max_depth: int = 3):
    """``(op, twin)``: a random operator tree of depth ≤ ``max_depth`` on small matrix spaces.

    Leaves are Kron, Box, Outer, Dense (and Diag, Identity, Commutation where the spaces allow);
    inner nodes are Sum, Compose, Transpose, ``.H`` and Scaled. The twin is built alongside with numpy.
    """
    dtype = draw(dtypes)
    rng = np.random.default_rng(draw(seeds))
    return _tree(draw, lambda *shape: random(rng, shape, dtype), dtype, draw(spaces), draw(spaces), max_depth)


def _tree(draw, r, dtype, out: tuple[int, int], inp: tuple[int, int], depth: int):
    (m1, m2), (n1, n2) = out, inp
    kinds = ["kron", "box", "outer", "dense"]
    kinds += ["diag", "identity"] if out == inp else []
    kinds += ["commutation"] if out == inp[::-1] else []
    kinds += ["sum", "compose", "transpose", "adjoint", "scaled"] if depth > 0 else []
    kind = draw(st.sampled_from(kinds))
    below = depth - 1
    if kind == "kron":
        A, B = r(m1, n1), r(m2, n2)
        return kb.Kron(A, B), np.kron(A, B)
    if kind == "box":
        A, B = r(m1, n2), r(m2, n1)
        return kb.Box(A, B), box_twin(A, B)
    if kind == "outer":
        U, V = r(m1, m2), r(n1, n2)
        return kb.Outer(U, V), np.outer(U.ravel(), V.ravel())
    if kind == "dense":
        M = r(m1 * m2, n1 * n2)
        return kb.Dense(M, in_shape=inp, out_shape=out), M
    if kind == "diag":
        D = r(m1, m2)
        return kb.Diag(D), np.diag(D.ravel())
    if kind == "identity":
        return kb.Identity(out, dtype=dtype), np.eye(m1 * m2, dtype=dtype)
    if kind == "commutation":
        return kb.Commutation(m1, m2, dtype=dtype), commutation_twin(m1, m2, dtype)
    if kind == "sum":
        terms = [_tree(draw, r, dtype, out, inp, below) for _ in range(draw(st.integers(2, 3)))]
        return kb.Sum(*(op for op, _ in terms)), sum(twin for _, twin in terms)
    if kind == "compose":
        middle = draw(spaces)
        (left, left_twin), (right, right_twin) = _tree(draw, r, dtype, out, middle, below), _tree(
            draw, r, dtype, middle, inp, below
        )
        return left @ right, left_twin @ right_twin
    if kind == "scaled":
        c = draw(st.sampled_from([2.0, -0.5, 3, 1 - 1j]))
        op, twin = _tree(draw, r, dtype, out, inp, below)
        return c * op, c * twin
    op, twin = _tree(draw, r, dtype, inp, out, below)
    if kind == "transpose":
        return (kb.Transpose(op), twin.T) if draw(st.booleans()) else (op.T, twin.T)
    return op.H, twin.conj().T


VIEWS = {
    "op": (lambda op: op, lambda M: M),
    "op.T": (lambda op: op.T, lambda M: M.T),
    "op.H": (lambda op: op.H, lambda M: M.conj().T),
    "Transpose(op)": (kb.Transpose, lambda M: M.T),
}


def views(built):
    """``(name, op, twin)`` for the views ``op``, ``op.T``, ``op.H``, ``Transpose(op)`` of a zoo member."""
    op, twin = built
    for name, (on_op, on_twin) in VIEWS.items():
        yield name, on_op(op), on_twin(twin)

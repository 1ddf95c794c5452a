"""The operator zoo on PyTorch and JAX arrays (CuPy and CUDA tensors where a GPU exists), against numpy.

Every zoo member is rebuilt with factors of the library (:func:`backends.rebuild`) and applied,
through ``op``, ``op.T``, ``op.H`` and ``Transpose(op)``, to vectors, blocks of columns and
matrices of that library: the results must stay in the library, on the input's device, in the
operator's dtype, and equal the zoo's numpy twin. Members that hold numpy-only pieces (scipy sparse
factors, scipy LinearOperators, lazy inverses) must refuse foreign inputs with a BackendError.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from array_libraries import LIBRARIES, Unconvertible, rebuild
from zoo import DTYPES, assert_close, box_twin, random, views

import kronbox as kb
from kronbox.backend import library, numpy_dtype
from kronbox.backend import of as backend_of
from kronbox.linalg import symmetric_sylvester
from kronbox.linalg.symmetric_sylvester import solvable

# JAX compiles every operation for each new shape and dtype (about 0.6 s per zoo member and dtype):
# it runs the zoo in float64, the other libraries in every dtype of the zoo.
LIBRARY_DTYPES = [(library, dtype) for library in LIBRARIES for dtype in DTYPES
                  if library.name != "jax-cpu" or dtype == np.float64]


def _check(name: str, got, want: np.ndarray, like, op, to_numpy) -> None:
    """``got`` is an array of ``like``'s library and device, in ``op``'s dtype, equal to ``want``."""
    assert library(got) == library(like), f"{name}: a {type(got).__name__}, expected {library(like)}"
    if library(like) is not None:
        assert backend_of(got).device == backend_of(like).device, name
    assert numpy_dtype(got.dtype) == op.dtype, f"{name}: {got.dtype}, expected {op.dtype}"
    assert_close(to_numpy(got), want, op.dtype, name)


@pytest.mark.parametrize(("library_", "dtype"), LIBRARY_DTYPES, ids=lambda p: getattr(p, "name", str(p)))
def test_zoo_on_the_library(case, library_, dtype, rng):
    asarray, to_numpy = library_.load()
    numpy_op, numpy_twin = case(dtype)
    try:
        foreign = rebuild(numpy_op, asarray)
    except Unconvertible:
        x = asarray(random(rng, numpy_op.shape[1], numpy_op.dtype))
        with pytest.raises(kb.BackendError, match="two array libraries"):
            numpy_op @ x
        return
    for view, op, twin in views((foreign, numpy_twin)):
        x, y = random(rng, op.shape[1], op.dtype), random(rng, op.shape[0], op.dtype)
        X = random(rng, (op.shape[1], 3), op.dtype)
        fx, fy, fX = asarray(x), asarray(y), asarray(X)
        for name, got, want in [
            ("op @ x", op @ fx, twin @ x),
            ("matvec", op.matvec(fx), twin @ x),
            ("op @ X", op @ fX, twin @ X),
            ("matmat", op.matmat(fX), twin @ X),
            ("rmatvec", op.rmatvec(fy), twin.conj().T @ y),
        ]:
            _check(f"{view} = {op!r}: {name}", got, want, fx, op, to_numpy)
        # an operator without numbers of its own (an identity, a permutation) is numpy's to densify
        like, read = (fx, to_numpy) if op.backend is not None else (x, np.asarray)
        _check(f"{view} = {op!r}: to_dense", op.to_dense(), twin, like, op, read)
        if len(op.in_shape) == 2:
            M = random(rng, op.in_shape, op.dtype)
            want = (twin @ M.ravel()).reshape(op.out_shape)
            _check(f"{view}: apply", op.apply(asarray(M)), want, fx, op, to_numpy)
            want_f = (twin @ M.ravel()).reshape(op.out_shape).T  # vec_F(Mᵀ) = vec_C(M), unvec_F(y) = unvec_C(y)ᵀ
            _check(f"{view}: apply(order='F')", op.apply(asarray(M.T), order="F"), want_f, fx, op, to_numpy)


def test_a_numpy_input_to_a_foreign_operator_is_refused(lib, rng):
    asarray, _ = lib
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((4, 5))
    op = kb.Kron(asarray(A), asarray(B))
    with pytest.raises(kb.BackendError, match=r"Kron\(.* matvec: the operator's factors and the input come from two"):
        op @ np.ones(10)
    with pytest.raises(kb.BackendError, match=r"numpy\.asarray"):
        op.apply(np.ones((2, 5)))
    with pytest.raises(kb.BackendError, match="two array libraries"):
        kb.Kron(A, B).matmat(asarray(np.ones((10, 2))))


def test_factors_of_two_libraries_are_refused(lib, rng):
    asarray, _ = lib
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
    with pytest.raises(kb.BackendError, match="Kron: the factors come from two array libraries"):
        kb.Kron(asarray(A), B)
    with pytest.raises(kb.BackendError, match="Sum: the factors come from two array libraries"):
        kb.Kron(asarray(A), asarray(B)) + kb.Kron(A, B)
    with pytest.raises(kb.BackendError, match="two array libraries"):
        kb.Kron(asarray(A), sp.csr_array(B))
    # structure without numbers (identities, permutations) joins any library
    mixed = kb.Kron(asarray(A), asarray(B)) + 2 * kb.Identity(6) - kb.Commutation(2, 3) @ kb.Commutation(3, 2)
    assert mixed.backend.library == library(asarray(A))


def test_closed_forms_say_what_runs_instead(lib, rng):
    asarray, _ = lib
    A, B = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((2, 2)) + 3 * np.eye(2)
    op = kb.Kron(asarray(A), asarray(B))
    for call in (op.trace, op.slogdet, op.inv, lambda: op.solve(asarray(np.ones(6))), kb.KronSum(*op.ops).inv
                 if hasattr(op, "ops") else kb.KronSum(asarray(A), asarray(B)).inv):
        with pytest.raises(kb.BackendError, match=r"numpy arrays .*scipy\.sparse\.linalg\.gmres"):
            call()
    with pytest.raises(kb.BackendError, match="solve of Kron"):
        kb.Kron(A, B).solve(asarray(np.ones(6)))


def test_a_kronecker_sum_of_symmetric_factors_is_solved_in_the_library(lib, rng, monkeypatch):
    """``(S ⊗ I + I ⊗ T)⁻¹`` by the eigendecompositions of ``S`` and ``T``, against a dense solve."""
    asarray, to_numpy = lib
    S, T = (M @ M.T / 4 + np.eye(4) for M in rng.standard_normal((2, 4, 4)))
    op = kb.KronSum(asarray(S), asarray(T[:3, :3]))
    dense = np.kron(S, np.eye(3)) + np.kron(np.eye(4), T[:3, :3])
    x, X = rng.standard_normal(12), rng.standard_normal((12, 5))
    for got, want in ((op.inv() @ asarray(x), np.linalg.solve(dense, x)),
                      (op.solve(asarray(X)), np.linalg.solve(dense, X)),
                      (op.inv().T @ asarray(x), np.linalg.solve(dense.T, x))):
        assert library(got) == library(asarray(x))
        assert_close(to_numpy(got), want, np.float64, "Kronecker-sum solve")
    tested = []  # the symmetry test and the eigendecompositions: once per operator, not once per solve
    monkeypatch.setattr(symmetric_sylvester, "solvable", lambda *a: tested.append(a) or solvable(*a))
    fresh = kb.KronSum(asarray(S), asarray(T[:3, :3]))
    for _ in range(3):
        fresh.inv() @ asarray(x)
    assert len(tested) == 1
    singular = kb.KronSum(asarray(np.diag([1.0, 2.0])), asarray(np.diag([-2.0, 3.0])))  # 2 + (−2) = 0
    with pytest.raises(np.linalg.LinAlgError, match="share an eigenvalue"):
        singular.inv() @ asarray(np.ones(4))


def test_products_of_foreign_factors_simplify_in_the_library(lib, rng):
    """The mixed-product rules multiply foreign factors with the library's own ``@``."""
    asarray, to_numpy = lib
    A, B, C, D = (rng.standard_normal((3, 3)) for _ in range(4))
    simplified = (kb.Kron(asarray(A), asarray(B)) @ kb.Kron(asarray(C), asarray(D))).simplify()
    assert isinstance(simplified, kb.Kron) and library(simplified.A) == library(asarray(A))
    assert_close(to_numpy(simplified.to_dense()), np.kron(A @ C, B @ D), np.float64, "(A⊗B)(C⊗D)")
    box = kb.Box(asarray(A), asarray(B)).to_dense()
    assert_close(to_numpy(box), box_twin(A, B), np.float64, "to_dense of a Box")


def test_numpy_path_imports_no_other_library():
    """numpy in, numpy out: neither array-api-compat nor any other array library is imported."""
    code = (
        "import sys, numpy as np, kronbox as kb\n"
        "from kronbox import amd\n"
        "kb.Kron(np.eye(2), np.eye(3)) @ np.ones(6); kb.Box(np.eye(2), np.eye(3)).apply(np.ones((3, 2)))\n"
        "X = amd.var('X', (3, 3)); amd.grad(amd.logdet(X), X).eval(X=2 * np.eye(3))\n"
        "print(sorted(m for m in ('array_api_compat', 'torch', 'jax', 'dask', 'cupy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

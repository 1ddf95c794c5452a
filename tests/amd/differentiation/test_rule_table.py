"""The derivative table (docs/derivatives.md), and every primitive of :mod:`kronbox.amd`, row by row.

The rows are in ``derivative_rows.py``: each an expression ``F(X)`` next to the same function in plain numpy,
with the closed-form Jacobian where the table gives one.
"""

from __future__ import annotations

import numpy as np
import pytest
from amd_reference import assert_close, assert_lazy, fd_hessian, fd_jacobian, near_identity, operator_nodes
from derivative_rows import NAMES, Row, build, functional, var
from zoo import box_twin

from kronbox import amd

# ------------------------------------------------------------------------------------- tests
WITH_CLOSED_FORM = [name for name in NAMES if build(name).closed is not None]


def jacobian_shape(r: Row) -> tuple[int, int]:
    return np.size(r.f(r.X)), r.X.size


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_against_central_differences(name):
    r = build(name)
    J = amd.jacobian(r.F, "X").at({"X": r.X})
    assert_close(J.to_dense(), fd_jacobian(r.f, r.X), 1e-7, name)


@pytest.mark.parametrize("name", WITH_CLOSED_FORM)
def test_jacobian_against_closed_form(name):
    r = build(name)
    assert jacobian_shape(r) == r.closed.shape
    J = amd.jacobian(r.F, "X").at({"X": r.X})
    assert_close(J.to_dense(), r.closed, 1e-11, name)
    # the closed form itself is the function's derivative
    assert_close(r.closed, fd_jacobian(r.f, r.X), 1e-7, f"{name}: the closed form")


@pytest.mark.parametrize("name", NAMES)
def test_column_major_arrangement(name):
    r = build(name)
    J = amd.jacobian(r.F, "X").at({"X": r.X}, order="F")
    assert_lazy(J, jacobian_shape(r))
    assert_close(J.to_dense(), fd_jacobian(r.f, r.X, order="F"), 1e-7, name)


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_is_lazy(name):
    r = build(name)
    D = amd.jacobian(r.F, "X")
    J = D.at({"X": r.X})
    assert_lazy(J, jacobian_shape(r))
    kinds = {type(n) for n in operator_nodes(J)}
    for piece in r.pieces:
        assert piece in kinds, f"{name}: {J!r} has no {piece.__name__}"
    printed = str(D).replace(" ", "")
    for text in r.text:
        assert text.replace(" ", "") in printed, f"{name}: {D} does not show {text}"


@pytest.mark.parametrize(("name", "printed"), [
    ("X^T", "(I⊠I)"),
    ("A X B", "(A⊗B')"),
    ("A X^T B", "(A⊠B')"),
    ("trace(A X) B", "vec(B)*vec(A')'"),
    ("X^-1", "-(inv(X)⊗inv(X)')"),
    ("X^-T", "-(inv(X)'⊠inv(X))"),
    ("X^1/2", "inv(sqrtm(X)⊗I+I⊗sqrtm(X)')"),
])
def test_printed_as_in_the_table(name, printed):
    assert str(amd.jacobian(build(name).F, "X")).replace(" ", "") == printed


def test_jacobian_applies_without_forming_the_matrix():
    """``J vec(V)`` by the lazy operator equals the directional derivative, for a batch of directions."""
    rng = np.random.default_rng(7)
    X, A = near_identity(rng, 5), rng.standard_normal((5, 5))
    F = amd.inv(var(X)) @ amd.const("A", A) @ var(X).T
    J = amd.jacobian(F, "X").at({"X": X})
    V = rng.standard_normal((25, 3))
    Xi = np.linalg.inv(X)
    for k in range(3):
        dX = V[:, k].reshape(5, 5)
        dF = -Xi @ dX @ Xi @ A @ X.T + Xi @ A @ dX.T
        assert_close(J @ V[:, k], dF.ravel(), 1e-12, f"direction {k}")
    assert_close(J @ V, np.stack([J @ V[:, k] for k in range(3)], axis=1), 1e-13, "matmat")


@pytest.mark.parametrize(("name", "closed"), [
    ("A X B", lambda r, A, B: np.kron(B.T, A)),  # (Bᵀ ⊗ A) vec_F(X) = vec_F(A X B)
    ("A X^T B", lambda r, A, B: box_twin(B.T, A)),  # (Bᵀ ⊠ A) vec_F(X) = vec_F(A Xᵀ B)
])
def test_column_major_closed_forms(name, closed):
    """Magnus–Neudecker: in column-major ``vec`` the factors trade places."""
    r = build(name)
    A, B = (r.F.symbols[s].value for s in "AB")
    J = amd.jacobian(r.F, "X").at({"X": r.X}, order="F")
    assert_close(J.to_dense(), closed(r, A, B), 1e-12, name)


def test_column_major_inverse():
    """``∂vec_F(X⁻¹)/∂vec_F(X)ᵀ = −X⁻ᵀ ⊗ X⁻¹``."""
    r = build("inv(X)")
    Xi = np.linalg.inv(r.X)
    J = amd.jacobian(r.F, "X").at({"X": r.X}, order="F")
    assert_close(J.to_dense(), -np.kron(Xi.T, Xi), 1e-12, "inv(X)")


# ----------------------------------------------- reverse mode and second order, row by row
@pytest.mark.parametrize("name", NAMES)
def test_gradient_by_unwinding(name):
    """Reverse mode: ``vec(∇⟨C, F⟩) = Jᵀ vec(C)``, against central differences and the closed form."""
    r = build(name)
    f, twin, C = functional(r)
    G = np.asarray(amd.grad(f, "X").eval({"X": r.X}))
    assert G.shape == r.X.shape
    assert_close(G, fd_jacobian(twin, r.X).reshape(r.X.shape), 1e-7, name)
    if r.closed is not None:
        assert_close(G.ravel(), r.closed.T @ np.ravel(C), 1e-11, f"{name}: Jᵀ vec(C)")


@pytest.mark.parametrize("name", NAMES)
def test_hessian_of_the_functional(name):
    """Second order through every rule: the lazy Hessian of ``⟨C, F⟩`` against second differences."""
    r = build(name)
    f, twin, _ = functional(r)
    H = amd.hessian(f, "X").at({"X": r.X})
    assert_lazy(H, (r.X.size, r.X.size))
    D = H.to_dense()
    assert_close(D, D.T, 1e-12, f"{name}: symmetry")
    assert_close(D, fd_hessian(twin, r.X), 1e-6 * max(1.0, abs(twin(r.X))), name)


@pytest.mark.parametrize("name", NAMES)
def test_shape_of_the_variable_from_its_value(name):
    """The same row with ``X`` declared without a shape: the value gives it, nothing else changes."""
    r = build(name)
    F = amd.substitute(r.F, {r.F.symbols["X"]: amd.var("X")})
    assert F.symbols["X"].shape is None
    J = amd.jacobian(F, "X").at({"X": r.X})
    assert_close(J.to_dense(), fd_jacobian(r.f, r.X), 1e-7, name)
    f, twin, _ = functional(Row(F, r.f, r.X))
    assert_close(np.asarray(amd.grad(f, "X").eval({"X": r.X})), fd_jacobian(twin, r.X).reshape(r.X.shape), 1e-7,
                 f"{name}: gradient")

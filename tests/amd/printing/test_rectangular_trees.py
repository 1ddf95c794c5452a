"""The display simplifier on random expression trees whose matrices are rectangular: a rule that holds only for
square or invertible factors (``inv(A X B) = inv(B) inv(X) inv(A)``, ``logdet(A X B) = logdet(A) + …``,
``M inv(M) = I``) must not fire on ``Mᵀ S M`` with a tall ``M``. Simplification never changes the value (against
numpy's evaluation of the tree as built) and never lengthens the text."""

from __future__ import annotations

import numpy as np
from amd_reference import spd
from hypothesis import given, settings
from hypothesis import strategies as st

from kronbox import amd
from kronbox.amd.printing.tokens import token_count

DIMS = (2, 3, 4)


def _matrix(shape: tuple[int, int]) -> amd.Expr:
    return amd.var(f"R{shape[0]}x{shape[1]}", shape)


def _spd(n: int) -> amd.Expr:
    return amd.var(f"S{n}", (n, n))


def _values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {f"R{m}x{n}": rng.standard_normal((m, n)) for m in DIMS for n in DIMS}
    out.update({f"S{n}": spd(rng, n) for n in DIMS})
    return out


VALUES = _values()


@st.composite
def trees(draw, shape: tuple[int, int], depth: int) -> amd.Expr:
    """A random expression of ``shape``; squares are built from rectangles (``Mᵀ S M``, ``M Mᵀ``)."""
    m, n = shape
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return _matrix(shape)
    below = depth - 1
    choices = ["transpose", "scale", "sum", "difference", "entrywise", "product", "trace scaling"]
    if m == n:
        choices += ["sandwich inverse", "sandwich logdet", "gram"]
    op = draw(st.sampled_from(choices))
    if op == "transpose":
        return draw(trees((n, m), below)).T
    if op == "scale":
        return draw(st.sampled_from([2.0, -0.5, 3.0])) * draw(trees(shape, below))
    if op in ("sum", "difference", "entrywise"):
        a, b = draw(trees(shape, below)), draw(trees(shape, below))
        return a + b if op == "sum" else a - b if op == "difference" else a * b
    if op == "product":
        k = draw(st.sampled_from(DIMS))
        return draw(trees((m, k), below)) @ draw(trees((k, n), below))
    if op == "trace scaling":
        k = draw(st.sampled_from(DIMS))
        return amd.trace(draw(trees((k, k), below))) * draw(trees(shape, below))
    k = draw(st.sampled_from([d for d in DIMS if d >= m]))  # M is k × m, tall or square: Mᵀ S M is invertible
    M = _matrix((k, m))
    sandwich = M.T @ _spd(k) @ M
    if op == "sandwich inverse":
        return amd.inv(sandwich) @ draw(trees(shape, below))
    if op == "sandwich logdet":
        return amd.logdet(sandwich) * draw(trees(shape, below))
    return M.T @ M + draw(trees(shape, below))  # gram


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(DIMS).flatmap(lambda m: st.sampled_from(DIMS).flatmap(lambda n: trees((m, n), 4))))
def test_simplify_keeps_the_value_of_rectangular_trees_and_never_lengthens_them(e):
    s = amd.simplify(e)
    expected, got = np.asarray(e.eval(VALUES)), np.asarray(s.eval(VALUES))
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-8 * max(1.0, float(np.abs(expected).max())),
                               err_msg=f"{amd.to_text(e)} simplified to {amd.to_text(s)}")
    assert token_count(amd.to_text(s)) <= token_count(amd.to_text(e))

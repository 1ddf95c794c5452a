"""Operators in mathematical notation: ``str(op)`` and the notebook's ``_repr_latex_`` (typeset by matplotlib's
mathtext), for every zoo member, and the notation itself on a few operators written out by hand."""

import numpy as np
import pytest
from matplotlib.mathtext import MathTextParser

import kronbox as kb

A, B = np.eye(2), np.ones((3, 3))


@pytest.mark.parametrize(
    ("op", "text"),
    [
        (kb.Kron(A, B) + 0.5 * kb.Identity(6), "[2×2] ⊗ [3×3] + 0.5 I₆"),
        (kb.Kron(A, B) - kb.Box(B, A), "[2×2] ⊗ [3×3] - [3×3] ⊠ [2×2]"),
        (kb.Kron(A, A, A), "[2×2] ⊗ [2×2] ⊗ [2×2]"),
        (kb.KronSum(A, B).inv(), "([2×2] ⊕ [3×3])⁻¹"),
        ((kb.Kron(A, B) + kb.Identity(6)) @ kb.Diag(np.ones(6)), "([2×2] ⊗ [3×3] + I₆) diag([6])"),
        (2.0 * kb.Commutation(2, 3), "2 K₂,₃"),
        (kb.Outer(np.ones((2, 3)), np.ones((3, 2))), "vec[2×3] vec[3×2]ᵀ"),
        (kb.SymmetricPart(kb.Kron(A, A)), "Π ([2×2] ⊗ [2×2]) Π"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_notation_written_out(op, text):
    assert str(op) == text


def test_every_zoo_member_prints_and_typesets(built):
    op, _ = built
    assert str(op)
    latex = op._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$")
    MathTextParser("agg").parse(latex)  # raises on LaTeX that mathtext cannot typeset

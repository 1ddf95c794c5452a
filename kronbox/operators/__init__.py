"""The lazy operators (each one a ``scipy.sparse.linalg.LinearOperator``)."""

from kronbox.operators.base import Operator
from kronbox.operators.combinators import Compose, Sum, Transpose
from kronbox.operators.inverse import Inverse
from kronbox.operators.kronsum import KronSum
from kronbox.operators.products import Box, Kron, Outer
from kronbox.operators.structural import Commutation, Dense, Diag, Identity, Scaled, Zero
from kronbox.operators.symmetric_part import SymmetricPart

__all__ = [
    "Box",
    "Commutation",
    "Compose",
    "Dense",
    "Diag",
    "Identity",
    "Inverse",
    "Kron",
    "KronSum",
    "Operator",
    "Outer",
    "Scaled",
    "Sum",
    "SymmetricPart",
    "Transpose",
    "Zero",
]

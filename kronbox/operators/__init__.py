"""The lazy operators (each one a ``scipy.sparse.linalg.LinearOperator``)."""

from .base import Operator
from .combinators import Compose, Sum, Transpose
from .products import Box, Kron, Outer
from .structural import Commutation, Dense, Diag, Identity, Scaled, Zero

__all__ = [
    "Box",
    "Commutation",
    "Compose",
    "Dense",
    "Diag",
    "Identity",
    "Kron",
    "Operator",
    "Outer",
    "Scaled",
    "Sum",
    "Transpose",
    "Zero",
]

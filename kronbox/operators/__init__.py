"""The lazy operators (each one a ``scipy.sparse.linalg.LinearOperator``)."""

from .base import Operator
from .combinators import Compose, Sum, Transpose
from .inverse import Inverse
from .kronsum import KronSum
from .products import Box, Kron, Outer
from .structural import Commutation, Dense, Diag, Identity, Scaled, Zero

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
    "Transpose",
    "Zero",
]

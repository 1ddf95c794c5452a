"""kronbox: lazy Kronecker, box and outer products, and automatic matrix differentiation.

Convention: ``vec(X) = X.ravel()`` (row-major) unless ``order="F"`` is asked for.
"""

__version__ = "0.2.0"

from kronbox import (
    amd,
    check,
    linalg,  # (importing it provides the operators' closed forms, see kronbox.services)
)
from kronbox.backend import BackendError
from kronbox.examples import covariance
from kronbox.operators import (
    Box,
    Commutation,
    Compose,
    Dense,
    Diag,
    Identity,
    Inverse,
    Kron,
    KronSum,
    Operator,
    Outer,
    Scaled,
    Sum,
    SymmetricPart,
    Transpose,
    Zero,
)
from kronbox.operators.base import DenseTooLargeError
from kronbox.operators.direct import direct_product
from kronbox.vec import unvec, vec

__all__ = [
    "BackendError",
    "Box",
    "Commutation",
    "Compose",
    "Dense",
    "DenseTooLargeError",
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
    "amd",
    "check",
    "covariance",
    "direct_product",
    "linalg",
    "unvec",
    "vec",
]

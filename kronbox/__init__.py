"""kronbox: lazy Kronecker, box and outer products, and automatic matrix differentiation.

Convention: ``vec(X) = X.ravel()`` (row-major) unless ``order="F"`` is asked for.
"""

__version__ = "0.2.0"

from . import amd, check
from .backend import BackendError
from .direct import direct_product
from .operators import (
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
    Transpose,
    Zero,
)
from .vec import unvec, vec

__all__ = [
    "BackendError",
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
    "amd",
    "check",
    "direct_product",
    "unvec",
    "vec",
]

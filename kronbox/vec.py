"""``vec`` and ``unvec`` in both stacking orders.

``order="C"`` (the default) stacks rows: ``vec(X) = X.ravel()``, numpy's native layout and the
arrangement of the AMD paper. ``order="F"`` stacks columns (Magnus–Neudecker, the Matrix
Cookbook): ``vec_F(X) = vec_C(Xᵀ)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Order = Literal["C", "F"]


def check_order(order: str) -> Order:
    """Return ``order`` if it is ``"C"`` or ``"F"``, else raise ``ValueError``."""
    if order == "C":
        return "C"
    if order == "F":
        return "F"
    raise ValueError(f"order must be 'C' (row-major) or 'F' (column-major), got {order!r}")


def vec(X, order: str = "C") -> np.ndarray:
    """Stack the entries of a matrix into a vector: rows after rows (``"C"``) or columns (``"F"``).

    A C-contiguous ``X`` gives a view for ``order="C"``.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"vec expects a matrix (2-D array), got an array of shape {X.shape}")
    return X.ravel(order=check_order(order))


def unvec(x, shape: tuple[int, int], order: str = "C") -> np.ndarray:
    """Inverse of :func:`vec`: read a vector of length ``m·n`` as an ``m × n`` matrix."""
    x = np.asarray(x)
    sizes = tuple(int(s) for s in shape)
    if len(sizes) != 2:
        raise ValueError(f"unvec needs a matrix shape (m, n), got {sizes}")
    shape = (sizes[0], sizes[1])
    if x.ndim != 1 and not (x.ndim == 2 and 1 in x.shape):
        raise ValueError(f"unvec expects a vector, got an array of shape {x.shape}")
    if x.size != shape[0] * shape[1]:
        raise ValueError(
            f"unvec: a vector of length {x.size} cannot be read as a {shape[0]}×{shape[1]} matrix "
            f"(needs length {shape[0] * shape[1]})"
        )
    return x.reshape(shape, order=check_order(order))

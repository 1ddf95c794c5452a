"""The state of one evaluation: node values, factorizations, known-symmetric values, scratch buffers."""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import numpy as np

from kronbox.amd.evaluation.factorization import factorize
from kronbox.amd.expressions.expr import Expr, ShapeError, eye_size, fill_shape


class _ValueOf:
    """``the value of e``, printed only when an error message needs it."""

    __slots__ = ("e",)

    def __init__(self, e: Expr):
        self.e = e

    def __str__(self) -> str:
        return f"the value of {self.e}"


class MatrixFactorization(Protocol):
    """What the kernels ask of the factorization of a square matrix: numpy's :class:`Factorization`, or the
    Array API one (values of the matrix's library: ``Any``, as the Array API has no static types)."""

    @property
    def inverse(self) -> Any: ...

    def det(self) -> Any: ...

    def logdet(self) -> Any: ...


class Context:
    """One evaluation: node values, factorizations, which values are known symmetric, and which
    are temporaries that their single user may overwrite (saving an allocation per elementwise step)."""

    def __init__(self, arrays: dict[str, Any], uses: Counter[int], roots: set[int]):
        self.arrays = arrays
        self.uses, self.roots = uses, roots
        # id(node) → its value: a numpy array or a number, or an array of another library (Any: no static type)
        self.values: dict[int, Any] = {}
        self.factorizations: dict[int, MatrixFactorization] = {}
        self.symmetric: set[int] = set()
        self.decompositions: dict[int, tuple[object, object]] = {}  # eigh of a matrix (id) by the spectral kernels
        self.dtype = self.precision(arrays)

    def precision(self, arrays: dict[str, Any]) -> Any:
        """The dtype of identities, zeros and ones: the precision of the values (float32 stays float32);
        a numpy dtype here, the namespace's dtype in another library."""
        return np.result_type(*arrays.values(), np.float32) if arrays else np.dtype(np.float64)

    def factor(self, e: Expr) -> MatrixFactorization:
        """The factorization of the value of ``e``, made on first use."""
        f = self.factorizations.get(id(e))
        if f is None:
            f = self.factorizations[id(e)] = self.factorize(self.values[id(e)], _ValueOf(e))
        return f

    def factorize(self, A: Any, what: object) -> MatrixFactorization:
        return factorize(A, what)

    def scratch(self, n: Expr, *candidates: Expr) -> np.ndarray | None:
        """A value among ``candidates`` (the operands ``n`` computes from) that ``n`` may overwrite with
        its own result, or ``None``; it must already have the result's dtype."""
        operands = {id(x): x for x in (*n.args, *candidates) if id(x) in self.values}
        dtype = None
        for c in candidates:
            v = self.values.get(id(c))
            if (c.kind in _FRESH and self.uses[id(c)] == 1 and id(c) not in self.roots
                    and isinstance(v, np.ndarray) and v.shape == n.shape and v.flags.writeable):
                if dtype is None:
                    dtype = np.result_type(*(self.values[i] for i in operands))
                if v.dtype == dtype:
                    return v
        return None


# Kinds whose kernels return a newly allocated array (never a view, a leaf or a cached factor).
_FRESH = frozenset({"add", "neg", "mul", "div", "matmul", "ew", "power", "mpow"})


def _unknown_size(n: Expr) -> ShapeError:
    name = "I" if n.kind == "eye" else n.kind
    return ShapeError(f"the size of {name} is not known: use it with a matrix of known shape, or give it a size")


def known_size(n: Expr) -> int:
    """The size of an identity node (an error while it is not known)."""
    size = eye_size(n)
    if size is None:
        raise _unknown_size(n)
    return size


def known_shape(n: Expr) -> tuple[int, ...]:
    """The shape of a ``zeros`` or ``ones`` node (an error while it is not known)."""
    shape = fill_shape(n)
    if shape is None:
        raise _unknown_size(n)
    return shape

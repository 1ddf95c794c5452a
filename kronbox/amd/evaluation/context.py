"""The state of one evaluation: node values, factorizations, known-symmetric values, scratch buffers."""

from __future__ import annotations

from collections import Counter

import numpy as np

from kronbox.amd.evaluation.factorization import Factorization
from kronbox.amd.expressions.expr import Expr, ShapeError


class _ValueOf:
    """``the value of e``, printed only when an error message needs it."""

    __slots__ = ("e",)

    def __init__(self, e: Expr):
        self.e = e

    def __str__(self) -> str:
        return f"the value of {self.e}"


class Context:
    """One evaluation: node values, factorizations, which values are known symmetric, and which
    are temporaries that their single user may overwrite (saving an allocation per elementwise step)."""

    def __init__(self, arrays: dict[str, np.ndarray], uses: Counter, roots: set[int]):
        self.arrays = arrays
        self.uses, self.roots = uses, roots
        self.values: dict[int, object] = {}
        self.factorizations: dict[int, Factorization] = {}
        self.symmetric: set[int] = set()
        self.dtype = self.precision(arrays)

    def precision(self, arrays: dict):
        """The dtype of identities, zeros and ones: the precision of the values (float32 stays float32)."""
        return np.result_type(*arrays.values(), np.float32) if arrays else np.dtype(np.float64)

    def factor(self, e: Expr) -> Factorization:
        """The factorization of the value of ``e``, made on first use."""
        f = self.factorizations.get(id(e))
        if f is None:
            f = self.factorizations[id(e)] = self.factorize(self.values[id(e)], _ValueOf(e))
        return f

    def factorize(self, A, what: object) -> Factorization:
        return Factorization(A, what)

    def scratch(self, n: Expr, *candidates: Expr):
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


def known_size(n: Expr):
    if n.param is None:
        name = "I" if n.kind == "eye" else n.kind
        raise ShapeError(f"the size of {name} is not known: use it with a matrix of known shape, or give it a size")
    return n.param

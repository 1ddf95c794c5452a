"""Linear maps of Kron and box terms bound at values in one step, and applied to vectors by their GEMMs.

Most Hessians are sums ``L = Σₖ cₖ Aₖ ∘ Bₖ`` with ``∘`` a Kronecker product (``vec(V) ↦ vec(A V Bᵀ)``)
or a box product (``vec(V) ↦ vec(A Vᵀ Bᵀ)``): the covariance objective's is
``P ⊠ M₁ − 2 P² ⊗ P² + M₂ ⊠ P``. A :class:`CompiledMap` reads that form once; :meth:`CompiledMap.terms_at`
evaluates every factor and coefficient by one compiled plan (:mod:`~kronbox.amd.evaluation.compiled`:
the factorization of ``X`` and the products shared), and :func:`thin_path` applies the bound terms
to a vector by two GEMMs each, added in place (the thin paths of :mod:`kronbox.operators`), with no
operator object built per point. Binding costs the plan (its factorization and its three GEMMs) and a
Fortran-ordered copy of each right factor: at n = 64 the covariance Hessian binds in 1.9× the time of
``f``, where building its kronbox operator takes 5.1× (``python -m bench small``). A map of another
form (identities, compositions, outer products, ...) or values the plan does not take leave
:meth:`~CompiledMap.terms_at` with ``None``: the caller builds the kronbox operator
(:func:`~kronbox.amd.evaluation.lazy_operator.to_operator`) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from kronbox.amd.evaluation.compiled import CompiledPlan
from kronbox.amd.evaluation.plan import program
from kronbox.amd.expressions.expr import Expr
from kronbox.amd.expressions.linear_map import LinearMap
from kronbox.operators.combinators import _SumPath
from kronbox.operators.products import _VectorPath
from kronbox.operators.structural import _ScaledPath
from kronbox.operators.symmetric_part import _SymmetricPath

# A bound term: (coefficient, is a box product, A, B).
Term = tuple[complex | float, bool, np.ndarray, np.ndarray]
# A term of the map: (coefficient expressions, is a box product, A, B).
SymbolicTerm = tuple[tuple[Expr, ...], bool, Expr, Expr]


def kron_box_terms(L: LinearMap, coefficients: tuple[Expr, ...] = ()) -> list[SymbolicTerm] | None:
    """The terms of ``L``, or ``None`` when it is not a sum of scaled Kron and box products of matrices."""
    if L.kind == "sum":
        terms: list[SymbolicTerm] = []
        for M in L.args:
            found = kron_box_terms(M, coefficients)
            if found is None:
                return None
            terms.extend(found)
        return terms
    if L.kind == "scaled":
        c, M = L.args
        return kron_box_terms(M, (*coefficients, c))
    if L.kind in ("kron", "box") and all(F.kind != "eye" and F.shape is not None and len(F.shape) == 2
                                         for F in L.args):
        return [(coefficients, L.kind == "box", *L.args)]
    return None


class CompiledMap:
    """A map of Kron and box terms (see the module), its factors evaluated by one compiled plan."""

    def __init__(self, L: LinearMap):
        self.in_shape = L.in_shape
        self.terms = kron_box_terms(L)
        self.plan: CompiledPlan | None = None
        self.factors: tuple[Expr, ...] = ()
        self._positions: list[tuple[tuple[int, ...], bool, int, int]] | None = None  # the terms by factor
        if self.terms is not None:
            self.factors = tuple(dict.fromkeys(e for cs, _, A, B in self.terms for e in (*cs, A, B)))
            self.plan = CompiledPlan(program(self.factors), hot=1, private=len(self.factors))
            index = {id(e): i for i, e in enumerate(self.factors)}
            self._positions = [(tuple(index[id(c)] for c in cs), box, index[id(A)], index[id(B)])
                               for cs, box, A, B in self.terms]

    def terms_at(self, values: Mapping[str, Any]) -> list[Term] | None:
        """The terms with their factors' values at ``values``, or ``None`` where the compiled plan
        does not apply (another form of map, values it does not take, an error for the interpreter to
        report) or the terms are not numpy matrices of one dtype with real or complex numbers as
        coefficients that keep it."""
        if self.plan is None:
            return None
        try:
            evaluated = self.plan(values)
        except Exception:  # the operator path evaluates again and reports it
            return None
        return None if evaluated is None else self.bind(evaluated)

    def bind(self, evaluated: list[Any]) -> list[Term] | None:
        """The terms with the values ``evaluated`` of :attr:`factors` (in their order), or ``None``
        (see :meth:`terms_at`): for factors evaluated in a plan of their own, or together with more."""
        if self._positions is None:
            return None
        bound: list[Term] = []
        for coefficients, box, a, b in self._positions:
            c: complex | float = 1.0
            for i in coefficients:
                number = _number(evaluated[i])
                if number is None:
                    return None
                c *= number
            bound.append((c, box, evaluated[a], evaluated[b]))
        pair = None  # the factors' dtypes: numpy arrays, the same pair in every term
        for _, _, A, B in bound:
            if not (isinstance(A, np.ndarray) and isinstance(B, np.ndarray)) or \
                    (pair is not None and (A.dtype, B.dtype) != pair):
                return None
            pair = (A.dtype, B.dtype)
        assert pair is not None  # a map has a term
        complex_terms = pair[0].kind == "c" or pair[1].kind == "c"
        if not complex_terms and any(isinstance(c, complex) for c, *_ in bound):
            return None
        return bound


def _number(v: Any) -> complex | float | None:
    """A coefficient's value (a number or a 1×1 matrix) as a Python number, or ``None``."""
    if type(v) is float or type(v) is complex:
        return v
    a = np.asarray(v)
    return a.reshape(()).item() if a.size == 1 and a.dtype.kind in "fc" else None

def thin_path(terms: list[Term], in_shape: tuple[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """``x ↦ Σₖ cₖ (Aₖ ∘ Bₖ) x`` for bound terms on ``vec`` of ``in_shape`` matrices (row-major).

    Each ``B`` is copied to Fortran order once, so that ``Bᵀ`` is C-ordered: OpenBLAS multiplies by a
    transposed right operand slowly (at n = 64, 16 µs against 10 µs a GEMM), and a bound map is applied
    many times (the copy costs 1 µs there)."""
    paths: list[Callable[[np.ndarray], np.ndarray]] = []
    for c, box, A, B in terms:
        path = _VectorPath(A, np.asfortranarray(B), in_shape, transposed=box)
        paths.append(path if c == 1.0 else _ScaledPath(c, path))
    return paths[0] if len(paths) == 1 else _SumPath(tuple(paths))


class BoundTerms(LinearOperator):
    """Bound Kron and box terms as a scipy :class:`~scipy.sparse.linalg.LinearOperator` on ``vec`` of
    ``in_shape`` matrices (row-major): products by the terms' GEMMs (:func:`thin_path`), the adjoint
    by the adjoint terms, ``(A ⊗ B)ᴴ = Aᴴ ⊗ Bᴴ`` and ``(A ⊠ B)ᴴ = Bᴴ ⊠ Aᴴ``. ``projected``: the operator is
    ``Π L Π`` (``Π vec(V) = vec((V + Vᵀ)/2)``), the terms' map ``L`` applied between two symmetrizations."""

    def __init__(self, terms: list[Term], in_shape: tuple[int, int], out_shape: tuple[int, int],
                 projected: bool = False):
        self.terms, self.in_shape, self.out_shape, self.projected = terms, in_shape, out_shape, projected
        path = thin_path(terms, in_shape)
        self._path = _SymmetricPath(in_shape[0], path, fresh=True) if projected else path
        # LinearOperator's attributes set as its __init__ sets them, without re-validating the map's own shapes
        # the factors' dtype: every term has the same pair, and a complex coefficient only complex factors (bind)
        self.dtype = np.result_type(terms[0][2].dtype, terms[0][3].dtype)
        self.shape = (out_shape[0] * out_shape[1], in_shape[0] * in_shape[1])

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._path(np.ravel(x))

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        return np.stack([self._path(np.ascontiguousarray(column)) for column in X.T], axis=1)

    def _adjoint(self) -> BoundTerms:
        adjoint = [(np.conj(c).item() if isinstance(c, complex) else c, box,
                    *((B.conj().T, A.conj().T) if box else (A.conj().T, B.conj().T))) for c, box, A, B in self.terms]
        return BoundTerms(adjoint, self.out_shape, self.in_shape, self.projected)

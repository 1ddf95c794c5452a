"""The :class:`Operator` base: a ``scipy.sparse.linalg.LinearOperator`` with an algebra.

Every kronbox operator maps ``vec(X)`` to ``vec(Y)`` with row-major ``vec`` (``X.ravel()``), and
knows the matrix shapes it reads and writes (``in_shape``, ``out_shape``), so ``apply(X)`` takes
a matrix and returns one. Subclasses implement ``_matmat`` (all right-hand sides at once; the
primitive), ``_transpose`` and ``_adjoint``; everything else is derived here.

Arrays of other libraries (PyTorch, JAX, CuPy, dask.array; :mod:`kronbox.backend`) take a second
path, chosen once per call at the public entry points: an operator whose factors are foreign has a
``backend``, and a foreign input is applied as a stack ``X3`` of ``k`` matrices of shape
``in_shape`` (``X3[c] = unvec(x_c)``) by ``_apply_stack(xp, X3)``, written with the Array API
namespace ``xp`` (``A @ X3 @ Bᵀ`` for a Kron: one batched product per factor). numpy inputs of
numpy operators never reach it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from kronbox import services
from kronbox.backend import (
    Backend,
    BackendError,
    combine,
    is_foreign,
    join,
    join_all,
    library,
    numpy_dtype,
    of_foreign,
    with_numpy,
)
from kronbox.backend import of as backend_of
from kronbox.vec import check_order

_T = TypeVar("_T")


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def result_dtype(*parts) -> np.dtype:
    """The dtype of a combination of operators, arrays and scalars (float32 stays float32).

    Python scalars and operators with a *weak* dtype (identities, zeros, permutations) do not
    promote; when every operand is weak, the weak dtypes decide. Integers become float64.
    """
    typed = [p for p in parts if hasattr(p, "dtype")]
    strong = [p for p in typed if not getattr(p, "weak_dtype", False)] or typed
    scalars = [p for p in parts if not hasattr(p, "dtype")]
    dtype = np.result_type(*(numpy_dtype(p.dtype) for p in strong), *scalars) if strong or scalars else \
        np.dtype(np.float64)
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype


def all_weak(*parts) -> bool:
    """True when none of ``parts`` carries a dtype of its own (see :func:`result_dtype`)."""
    return all(getattr(p, "weak_dtype", False) or isinstance(p, int | float) for p in parts)


class DenseTooLargeError(MemoryError):
    """``to_dense()`` of an operator whose dense matrix cannot exist in this machine's memory."""


def _memory_bytes() -> int | None:
    """This machine's physical memory in bytes, where the OS says (``None`` elsewhere)."""
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def byte_text(n: int) -> str:
    """``n`` bytes in binary units: ``512 B``, ``74.5 GiB``, ``710 EiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    size, unit = float(n), 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{n} B" if unit == 0 else f"{size:.3g} {units[unit]}"


def check_dense_size(op: Operator) -> None:
    """Raise :class:`DenseTooLargeError` if ``op``'s dense matrix would not fit in memory: more bytes than
    this machine has (physical memory), or than numpy can address at all."""
    M, N = (int(s) for s in op.shape)
    itemsize = np.dtype(op.dtype).itemsize
    needed = M * N * itemsize  # Python integers: no overflow
    addressable = int(np.iinfo(np.intp).max)
    memory = _memory_bytes()
    limit = min(addressable, memory) if memory else addressable
    if needed <= limit:
        return
    where = f"this machine's memory ({byte_text(memory)})" if memory and memory < addressable else \
        f"numpy's largest array ({byte_text(addressable)})"
    raise DenseTooLargeError(
        f"{op!r}.to_dense(): the dense matrix would be {M}×{N} = {M * N:.3g} entries of {np.dtype(op.dtype)}, "
        f"{byte_text(needed)}, more than {where}; use the operator lazily instead (op @ x, op.apply(X), "
        f"scipy.sparse.linalg's solvers on op) or its closed forms (op.trace(), op.logdet(), op.solve(b), op.inv())"
    )


def is_scalar(x) -> bool:
    return isinstance(x, numbers.Number) or (isinstance(x, np.ndarray | np.generic) and np.ndim(x) == 0)


class Operator(LinearOperator):
    """A lazy linear operator on ``vec(X)``.

    ``shape`` is ``(M, N)``; ``in_shape`` and ``out_shape`` are the matrix shapes (or ``(N,)`` and
    ``(M,)`` for plain vectors) whose row-major ``vec`` the operator reads and writes.

    Operators do not copy the caller's arrays: they hold read-only views of them (so writing through an
    operator, ``op.A[0, 0] = 1``, raises, while the caller's own array stays writeable), and they read the
    values those arrays hold at each call. If the caller changes an array in place, every method follows:
    products and dense forms read the new entries, and results kept for later solves (:meth:`kept`) are
    checked against the entries they were computed from and computed again, so no stale result is ever
    returned. To fix an operator's values, pass copies. (``inv()`` of a factor computed at the call, such
    as ``Kron(A, B).inv() = Kron(A⁻¹, B⁻¹)``, is a new operator holding the inverses of that moment.)
    """

    weak_dtype = False
    # The thin path of ``op @ x`` for one vector: a callable ``x ↦ op x`` set at construction by operators that
    # can decide everything about the application up front (Kron and Box of numpy factors), else None.
    _vector: Callable[[np.ndarray], np.ndarray] | None = None

    def __init__(self, dtype, shape: tuple[int, int], in_shape=None, out_shape=None, parts=()):
        """``parts``: the arrays and operators the operator is made of. Their library is its
        ``backend`` (``None``: numpy, or no arrays at all); ``native`` tells whether numpy or scipy
        arrays are among them. Two libraries among them are a :class:`BackendError`."""
        super().__init__(numpy_dtype(dtype), shape)
        self.in_shape = tuple(in_shape) if in_shape is not None else (self.shape[1],)
        self.out_shape = tuple(out_shape) if out_shape is not None else (self.shape[0],)
        self.backend: Backend | None
        self.backend, self.native = join_all(parts, lambda: f"{type(self).__name__}: the factors")

    # ----------------------------------------------------------------- application
    def _matvec(self, x):
        x = np.asarray(x)
        n = self.shape[1]
        if x.ndim == 1 and self._vector is not None:
            return self._vector(x)
        if x.ndim == 1:
            return self._matmat(x.reshape(n, 1)).reshape(self.shape[0])
        if x.ndim == 2 and x.shape == (n, 1):
            return self._matmat(x)
        stack = x.reshape(-1, n).T
        return self._matmat(stack).T.reshape((*x.shape[:-1], self.shape[0]))

    def _rmatvec(self, x):
        return self._adjoint()._matvec(x)

    def _rmatmat(self, X):
        return self._adjoint()._matmat(X)

    def _check_vector(self, x, length: int, what: str, columns: bool | None = None) -> np.ndarray:
        """``x`` as an array if it is a vector of ``length`` (``columns=True``: a ``length × k`` block;
        ``None``: either), else a ``ValueError`` naming the operator and the expected length.
        (An ``np.matrix`` is read as a plain array, a scipy sparse block as a dense one.)"""
        if not is_foreign(x):
            x = x.toarray() if sp.issparse(x) else np.asarray(x)
        vector = x.ndim == 1 or (x.ndim == 2 and x.shape[1] == 1)
        fits = {True: x.ndim == 2, False: vector, None: x.ndim in (1, 2)}[columns]
        if not fits or x.shape[0] != length:
            expected = {
                True: f"a {length}×k block of columns",
                False: f"a vector of length {length}",
                None: f"a vector of length {length} (or {length}×k columns)",
            }[columns]
            raise ValueError(f"{self!r} {what}: expected {expected}, got an array of shape {tuple(x.shape)}")
        return x

    # ---------------------------------------------------- other array libraries
    def _backend_for(self, x, what: str) -> Backend | None:
        """The backend to apply ``self`` to ``x`` in, ``None`` for the numpy path (the usual case)."""
        if self.backend is None and not is_foreign(x):
            return None
        given = backend_of(x)

        def where() -> str:
            return f"{self!r} {what}: the operator's factors and the input"

        if given is None:
            return with_numpy(self.backend, where)
        if self.native:
            combine(None, given.library, where)
        return join(self.backend, given, where)

    def _apply_stack(self, xp, X3):
        """``Y3[c] = unvec(A vec(X3[c]))`` for a stack ``X3`` of shape ``(k, *in_shape)`` of a foreign
        library, with its namespace ``xp``; returns ``(k, *out_shape)``."""
        raise BackendError(f"{self!r} cannot be applied to {library(X3)} arrays: it runs on numpy arrays only")

    def _apply_stack_as(self, xp, X3, out_shape: tuple[int, ...]):
        """:meth:`_apply_stack` on a stack of ``k`` inputs of any shape holding ``N`` entries each,
        reshaped to ``in_shape`` first; the result reshaped to ``(k, *out_shape)``."""
        k = X3.shape[0]
        Y3 = self._apply_stack(xp, xp.reshape(X3, (k, *self.in_shape)))
        return xp.reshape(Y3, (k, *out_shape))

    def _columns_in(self, b: Backend, X):
        """``A x`` for a foreign vector ``x`` of length ``N``, or ``A X`` for ``N × k`` columns."""
        xp = b.xp
        X = xp.asarray(X) if not is_foreign(X) else X  # a numpy input joining a dask operator
        vector = X.ndim == 1
        stack = xp.reshape(X, (1, X.shape[0])) if vector else X.T
        Y = self._apply_stack_as(xp, stack, (self.shape[0],))
        return Y[0] if vector else Y.T

    def _dense_in(self, b: Backend):
        """The dense matrix in the library of ``b``: the operator applied to the identity's rows."""
        N = self.shape[1]
        rows = b.xp.eye(N, dtype=b.dtype(self.dtype), device=b.device)
        return self._apply_stack_as(b.xp, rows, (self.shape[0],)).T

    def matvec(self, x):
        vector = self._vector
        if vector is not None and type(x) is np.ndarray and x.ndim == 1 and x.shape[0] == self.shape[1] \
                and x.dtype.kind in "fc":
            return vector(x)  # the thin path, as scipy's Krylov solvers call it
        b = self._backend_for(x, "matvec")
        x = self._check_vector(x, self.shape[1], "matvec", columns=False)
        if b is not None:
            return self._columns_in(b, x)
        # An (N, 1) column gives an (M, 1) column, as scipy's matvec did; it is applied here as a block
        # of one column, never handed to scipy's LinearOperator.matvec, which deprecates 2-D input.
        return self._matvec(x) if x.ndim == 1 else self._matmat(x)

    def rmatvec(self, x):
        b = self._backend_for(x, "rmatvec")
        x = self._check_vector(x, self.shape[0], "rmatvec", columns=False)
        if b is not None:
            return self.H._columns_in(b, x)
        return self._rmatvec(x) if x.ndim == 1 else self._rmatmat(x)

    def matmat(self, X):
        b = self._backend_for(X, "matmat")
        X = self._check_vector(X, self.shape[1], "matmat", columns=True)
        return self._matmat(X) if b is None else self._columns_in(b, X)

    def rmatmat(self, X):
        b = self._backend_for(X, "rmatmat")
        X = self._check_vector(X, self.shape[0], "rmatmat", columns=True)
        return self._rmatmat(X) if b is None else self.H._columns_in(b, X)

    def apply(self, X, order: str = "C") -> np.ndarray:
        """Apply to a matrix: ``unvec(A vec(X))`` with ``X`` of shape ``in_shape``.

        With ``order="F"`` both ``vec`` and ``unvec`` stack columns; the matrix shapes are then the
        transposed ones (``vec_F(X) = vec_C(Xᵀ)``).
        """
        in_shape, out_shape = self.in_shape, self.out_shape
        if check_order(order) == "F":
            in_shape, out_shape = in_shape[::-1], out_shape[::-1]
        b = self._backend_for(X, "apply")
        X = np.asarray(X) if b is None else X if is_foreign(X) else b.xp.asarray(X)
        if tuple(X.shape) != in_shape:
            raise ValueError(f"{self!r}.apply: expected an input of shape {in_shape}, got {tuple(X.shape)}")
        if b is not None:
            return self._matrix_in(b, X, order)
        y = self.matvec(X.ravel(order=order))
        return y.reshape(out_shape, order=order)

    def _matrix_in(self, b: Backend, X, order: str):
        """``apply`` for a foreign matrix, as a stack of one (``vec_F(X) = vec_C(Xᵀ)``): no ``vec``
        is formed, so a chunked dask array keeps its blocks."""
        xp = b.xp
        if order == "F":
            X = X.T if X.ndim == 2 else X
        Y = self._apply_stack(xp, xp.expand_dims(X, axis=0))[0]
        return Y.T if order == "F" and Y.ndim == 2 else Y

    def dot(self, x):
        if isinstance(x, LinearOperator):
            from kronbox.operators.combinators import Compose

            return Compose(self, x)
        if is_scalar(x):
            from kronbox.operators.structural import Scaled

            return Scaled(x, self)
        if is_foreign(x) or self.backend is not None:
            return self.matvec(x) if x.ndim == 1 else self.matmat(x)
        x = x.toarray() if sp.issparse(x) else np.asanyarray(x)
        if x.ndim == 1:
            return self.matvec(x)
        if x.ndim == 2:
            return self.matmat(x)
        raise ValueError(f"{self!r}: cannot apply to an array of shape {x.shape}; pass a vector or columns")

    def __matmul__(self, other):
        vector = self._vector
        if vector is not None and type(other) is np.ndarray and other.ndim == 1 and other.shape[0] == self.shape[1]:
            return vector(other)  # the thin path (see _vector)
        if type(other) is np.ndarray and 0 < other.ndim <= 2 and other.shape[0] == self.shape[1] and \
                self.backend is None:
            # ``op @ x`` and ``op @ X``, the hot paths, without the dispatch of ``dot``
            return self._matvec(other) if other.ndim == 1 else self._matmat(other)
        if is_scalar(other):
            raise ValueError("scalar operands are not allowed with @, use * instead")
        return self.dot(other)

    def __rmatmul__(self, other):
        if isinstance(other, LinearOperator):
            from kronbox.operators.combinators import Compose

            return Compose(other, self)
        if is_scalar(other):
            raise ValueError("scalar operands are not allowed with @, use * instead")
        if not is_foreign(other):
            other = other.toarray() if sp.issparse(other) else np.asanyarray(other)
        if other.ndim not in (1, 2) or other.shape[-1] != self.shape[0]:
            raise ValueError(
                f"{self!r}: x @ op needs a row vector of length {self.shape[0]} (or rows of that length), "
                f"got an array of shape {tuple(other.shape)}"
            )
        if other.ndim == 1:
            return self.T.matvec(other)
        return self.T.matmat(other.T).T

    def __call__(self, x):
        return self.dot(x)

    # -------------------------------------------------------------------- algebra
    def __mul__(self, other):
        if is_scalar(other):
            from kronbox.operators.structural import Scaled

            return Scaled(other, self)
        return self.dot(other)

    def __rmul__(self, other) -> Operator:
        if is_scalar(other):
            from kronbox.operators.structural import Scaled

            return Scaled(other, self)
        return NotImplemented

    def __truediv__(self, other) -> Operator:
        if not is_scalar(other):
            raise ValueError("an operator can only be divided by a scalar")
        from kronbox.operators.structural import Scaled

        return Scaled(1 / other, self)

    def __neg__(self) -> Operator:
        from kronbox.operators.structural import Scaled

        return Scaled(-1, self)

    def __add__(self, other) -> Operator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        from kronbox.operators.combinators import Sum

        return Sum(self, other)

    def __radd__(self, other) -> Operator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        from kronbox.operators.combinators import Sum

        return Sum(other, self)

    def __sub__(self, other) -> Operator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        from kronbox.operators.combinators import Sum

        return Sum(self, -other)

    def __rsub__(self, other) -> Operator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        from kronbox.operators.combinators import Sum

        return Sum(other, -self)

    def __pow__(self, p) -> Operator:
        if not isinstance(p, numbers.Integral) or int(p) < 0:
            raise ValueError(f"operator powers need a non-negative integer exponent, got {p!r}")
        from kronbox.operators.combinators import Compose
        from kronbox.operators.structural import Identity

        n = int(p)
        if n == 0:
            return Identity(self.shape[0], dtype=self.dtype)
        return Compose(*([self] * n)) if n > 1 else self

    # ------------------------------------------------------------------ structure
    def _transpose(self):
        from kronbox.operators.combinators import Transpose

        return Transpose(self)

    def kept(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, evaluated once per operator and ``key`` and kept, so that a factorization (or any
        other derived object) computed for one solve serves every later one.

        Kept results are a cache of the operator's current values: each is stored with a copy of the arrays
        the operator reads (:meth:`_arrays`) and checked against them, entry by entry, on every use; if the
        caller has changed one of its arrays in place since, the result is computed again from the new
        values, so nothing stale is ever served. (The check costs one pass over the factors, far less than
        the solve it guards.) It is not pickled or deep-copied with the operator either: a copy computes it
        again on first use, so every operator pickles and copies, used or not.
        """
        store = self.__dict__.setdefault("_kept", {})
        entry = store.get(key)
        if entry is not None and _unchanged(self._arrays(), entry[1]):
            return entry[0]
        snapshot = [_snapshot(a) for a in self._arrays()]
        value = compute()
        store[key] = (value, snapshot)
        return value

    def _arrays(self) -> Iterator:
        """The arrays whose entries the operator reads (its factors, and those of the operators it is made
        of), for :meth:`kept`'s check; scipy sparse matrices by their index and data arrays."""
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield from _arrays_in(value)

    def __getstate__(self):
        """The operator without its kept results (see :meth:`kept`): what pickle and ``copy`` store."""
        state = self.__dict__.copy()
        state.pop("_kept", None)
        return state

    def to_dense(self):
        """The operator as a dense ``M × N`` array (the matrix that acts on row-major ``vec``), in the
        library of its factors (numpy's numba kernels for numpy factors, the Array API otherwise).

        A matrix larger than this machine's memory (or than any array numpy can index) is refused before
        anything is allocated, with a :class:`DenseTooLargeError` (a ``MemoryError``) that names its size.
        """
        check_dense_size(self)
        if self.backend is not None:
            return self._dense_in(self.backend)
        return self._dense()

    def _dense(self) -> np.ndarray:
        """:meth:`to_dense` for numpy factors: the operator applied to the identity, ``A I_N``, or, for a wide
        operator (``N > M``), its adjoint's ``(Aᴴ I_M)ᴴ``, so that no identity larger than the result is formed
        (a ``1 × 10⁶`` operator is 8 MB dense; ``I_N`` would be 8 TB)."""
        M, N = self.shape
        if N > M:
            return self._rmatmat(np.eye(M, dtype=self.dtype)).conj().T
        return self._matmat(np.eye(N, dtype=self.dtype))

    def dense_terms(self, c=1) -> Iterator[tuple]:
        """``c · self`` as the pieces a dense kernel of :mod:`kronbox.kernels.dense` accumulates: ``("kron", c,
        A, B)``, ``("box", c, A, B)``, ``("outer", c, u, v)``, ``("diag", c, d, None)``, or, for an operator
        without such structure, ``("dense", c, M, None)`` with its dense matrix ``M`` (formed when iterated)."""
        yield ("dense", c, self._dense(), None)

    def toarray(self) -> np.ndarray:
        return self.to_dense()

    @property
    def square(self) -> bool:
        return self.shape[0] == self.shape[1]

    def matvec_flops(self) -> int:
        """Floating-point operations of one matvec (the cost model used by ``simplify``)."""
        return 2 * self.shape[0] * self.shape[1]

    # -------------------------------------------- closed forms (kronbox.linalg, through kronbox.services)
    def trace(self) -> float | complex:
        """``tr(A)`` by a closed form where one exists (never forming the matrix)."""
        return services.call("linalg.trace", self)

    def det(self) -> float | complex:
        """``det A`` by a closed form where one exists (see :mod:`kronbox.linalg.determinant`)."""
        return services.call("linalg.det", self)

    def slogdet(self) -> tuple[float | complex, float]:
        """``(sign, log|det A|)``, safe from overflow: ``det A = sign · exp(logabsdet)`` (a
        :class:`kronbox.linalg.Slogdet`)."""
        return services.call("linalg.slogdet", self)

    def logdet(self) -> float | complex:
        """``log det A``; raises ``ValueError`` for a real ``A`` with a negative determinant."""
        return services.call("linalg.logdet", self)

    def inv(self) -> Operator:
        """``A⁻¹`` as a lazy operator built from the inverses of the small factors."""
        return services.call("linalg.inv", self)

    def solve(self, b) -> np.ndarray:
        """``x`` with ``A x = b`` (a vector or ``N × k`` columns), by a closed form where one exists."""
        return services.call("linalg.solve", self, b)

    def simplify(self) -> Operator:
        """An equal operator rewritten with the AMD identities, never costlier (:mod:`kronbox.operators.identities`)."""
        from kronbox.operators.identities import simplify_operator

        return simplify_operator(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({shape_text(self.shape)})"

    def __str__(self) -> str:
        """The operator in mathematical notation: ``[40×40] ⊗ [50×50] + 0.5 I₂₀₀₀``
        (:mod:`kronbox.operators.notation`)."""
        from kronbox.operators import notation

        return notation.text(self)

    def _repr_latex_(self) -> str:
        """The notation typeset, for notebooks: ``A ⊗ B`` as ``\\otimes``, ``⊠`` as ``\\boxtimes``."""
        from kronbox.operators import notation

        return f"${notation.latex(self)}$"


def readonly(x):
    """A read-only view of the numpy array ``x`` (what operators keep of the caller's arrays: writing
    through an operator's attributes raises, and the caller's array is left as it is); anything else as it is."""
    if type(x) is np.ndarray and x.flags.writeable:
        x = x.view()
        x.flags.writeable = False
    return x


def _arrays_in(value) -> Iterator:
    if isinstance(value, Operator):
        yield from value._arrays()
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _arrays_in(v)
    elif isinstance(value, np.ndarray) or is_foreign(value):
        yield value
    elif sp.issparse(value):
        for name in ("data", "indices", "indptr", "row", "col", "coords", "offsets"):
            part = getattr(value, name, None)
            if isinstance(part, tuple):
                yield from part
            elif isinstance(part, np.ndarray):
                yield part
    elif isinstance(value, LinearOperator):  # a scipy operator: its matrix, if it exposes one
        yield from _arrays_in(getattr(value, "A", None))


def _snapshot(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    return of_foreign(a).xp.asarray(a, copy=True)


def _unchanged(arrays, snapshots) -> bool:
    """Whether ``arrays`` hold exactly the entries of ``snapshots`` (NaN matching NaN)."""
    arrays = list(arrays)
    if len(arrays) != len(snapshots):
        return False
    for a, s in zip(arrays, snapshots, strict=True):
        if tuple(a.shape) != tuple(s.shape):
            return False
        if isinstance(a, np.ndarray):
            if not np.array_equal(a, s, equal_nan=a.dtype.kind in "fc"):
                return False
        else:
            xp = of_foreign(a).xp
            same = a == s
            if xp.isdtype(a.dtype, ("real floating", "complex floating")):
                same = same | (xp.isnan(a) & xp.isnan(s))
            if not bool(xp.all(same)):
                return False
    return True

"""Which array library a computation runs in: numpy (the default, with its fast paths) or another
one that follows the Python Array API standard (PyTorch, JAX, CuPy, dask.array), through
``array-api-compat``.

numpy arrays, numpy scalars, Python numbers and scipy sparse matrices are *native*: they take
kronbox's numpy code as it always was, and nothing here is imported for them. Any other array is
*foreign*; :func:`of` gives its :class:`Backend` (library, Array API namespace, device;
``array_api_compat`` is imported on first use). One computation uses one library: mixing two raises
:class:`BackendError` rather than converting silently, with one exception: a ``dask.array`` is a
graph of numpy blocks, so numpy arrays may join a dask computation (they become constants of the
graph, and the result is a dask array).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import DTypeLike
from scipy.sparse.linalg import LinearOperator

# Libraries whose arrays are recognized by their type's top-level module (torch tensors have no
# ``__array_namespace__``); any other object with ``__array_namespace__`` is recognized by that.
_LIBRARY_OF_MODULE = {"torch": "torch", "jax": "jax", "jaxlib": "jax", "cupy": "cupy", "dask": "dask"}


class BackendError(TypeError):
    """Arrays of two libraries in one computation, or an operation a backend cannot do."""


def library(x) -> str | None:
    """The name of the array library of a foreign array (``"torch"``, ``"jax"``, ``"cupy"``,
    ``"dask"``, …), or ``None`` for native values (numpy, scipy sparse, Python numbers, operators)."""
    t = type(x)
    if t is np.ndarray:
        return None
    name = _LIBRARY_OF_MODULE.get(t.__module__.partition(".")[0])
    if name is not None:
        return name
    if hasattr(x, "__array_namespace__") and not isinstance(x, np.ndarray | np.generic):
        return t.__module__.partition(".")[0]
    return None


def is_foreign(x) -> bool:
    """True for an array of a library other than numpy."""
    return library(x) is not None


Description = str | Callable[[], str]


def _text(what: Description) -> str:
    return what() if callable(what) else what


def combine(first: str | None, second: str | None, what: Description) -> str | None:
    """The library of a computation whose parts are of libraries ``first`` and ``second`` (``None``
    for numpy); ``what`` names the two parts in the error (e.g. ``"Kron(…) matvec: the operator's
    factors and the input"``), or is a callable that makes that text (only if it is needed)."""
    if first == second:
        return first
    if {first, second} == {None, "dask"}:
        return "dask"
    names = [("numpy" if n is None else n) for n in (first, second)]
    conversions = " or ".join(_CONVERSIONS.get(n, f"{n}'s asarray") for n in (first, second))
    raise BackendError(
        f"{_text(what)} come from two array libraries ({names[0]} and {names[1]}); kronbox does not convert "
        f"between them: convert one side first ({conversions})"
    )


_CONVERSIONS = {
    None: "numpy.asarray(x)",
    "torch": "torch.asarray(x, device=...)",
    "jax": "jax.numpy.asarray(x)",
    "cupy": "cupy.asarray(x)",
    "dask": "dask.array.from_array(x)",
}


@dataclass(frozen=True)
class Backend:
    """Where a foreign computation runs: the library's name, its Array API namespace, the device."""

    library: str
    xp: ModuleType
    device: object

    def dtype(self, dtype: DTypeLike):
        """The namespace's dtype of the numpy dtype ``dtype`` (``float32`` → ``torch.float32``)."""
        return getattr(self.xp, np.dtype(dtype).name)


def of(x) -> Backend | None:
    """The backend of the foreign array ``x``, ``None`` for a native value (``array_api_compat``
    is imported here, on the first foreign array)."""
    name = library(x)
    if name is None:
        return None
    import array_api_compat

    return Backend(name, array_api_compat.array_namespace(x), array_api_compat.device(x))


def of_foreign(x) -> Backend:
    """The backend of ``x``, an array known to be foreign (:func:`of` without the ``None``)."""
    b = of(x)
    if b is None:
        raise BackendError(f"expected an array of a library other than numpy, got a {type(x).__name__}")
    return b


def join(first: Backend | None, second: Backend | None, what: Description) -> Backend | None:
    """The backend of a computation with parts on ``first`` and ``second`` (``None``: no foreign part)."""
    if first is None or second is None:
        return first or second
    combine(first.library, second.library, what)
    if first.device != second.device:
        devices = f"{first.device} and {second.device}"
        raise BackendError(f"{_text(what)} are on two devices ({devices}): move one side first")
    return first


def with_numpy(b: Backend | None, what: Description) -> Backend | None:
    """``b``, when numpy arrays may take part in its computation (dask), else a :class:`BackendError`."""
    if b is not None:
        combine(b.library, None, what)
    return b


def join_all(parts, what: Description) -> tuple[Backend | None, bool]:
    """``(backend, native)`` of ``parts`` (arrays, and operators carrying their own ``backend`` and
    ``native``): the one foreign backend among them, and whether numpy or scipy arrays take part."""
    result, native = None, False
    for p in parts:
        if isinstance(p, LinearOperator):
            b, n = getattr(p, "backend", None), getattr(p, "native", True)
        else:
            b = of(p)
            n = b is None
        result = join(result, b, what)
        native = native or n
    if native:
        with_numpy(result, what)
    return result, native


def matmul(xp, a, b):
    """``a @ b`` in the namespace ``xp``, both operands promoted to their common dtype first
    (PyTorch's ``@`` refuses mixed dtypes, such as a float32 factor and a complex64 input)."""
    if a.dtype == b.dtype:
        return a @ b
    dtype = xp.result_type(a, b)
    a = a if a.dtype == dtype else xp.astype(a, dtype)
    b = b if b.dtype == dtype else xp.astype(b, dtype)
    return a @ b


def numpy_dtype(dtype) -> np.dtype:
    """A numpy dtype for the dtype of any array (``torch.float32`` → ``float32``): operators are
    scipy ``LinearOperator``s, whose ``dtype`` is a numpy dtype whatever library holds the numbers."""
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rpartition(".")[2])


def unsupported(what: str, name: str, alternative: str) -> BackendError:
    """The error for an operation that the library ``name`` cannot do, naming the alternative."""
    return BackendError(f"{what} is not available for {name} arrays: {alternative}")


# numpy.linalg works in float32/float64/complex64/complex128: other numbers are promoted or refused.
_PROMOTED = {np.dtype(np.float16): np.dtype(np.float32)}
_EXPECTED = {(2,): "a matrix (2-D)", (1, 2): "a vector or a matrix", (0, 1, 2): "a number, a vector or a matrix"}


def numeric_array(x, what: str, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``x`` as an array of a dtype numpy.linalg supports; ``ValueError`` naming ``what`` otherwise.

    Integers and booleans become float64 and float16 becomes float32; strings, objects and extended
    precision (``longdouble``) are refused, as is an array whose number of dimensions is not in ``ndims``.
    An array of another library (see :func:`of`) stays in its library, with the same rules.
    """
    if is_foreign(x):
        return _foreign_numeric_array(x, what, ndims)
    x = np.asarray(x)
    if x.dtype.kind not in "biufc" or x.dtype.itemsize > (16 if x.dtype.kind == "c" else 8):
        raise ValueError(
            f"{what} must hold numbers (integers, float32/64 or complex64/128), got dtype {x.dtype}"
        )
    if x.ndim not in ndims:
        raise ValueError(f"{what} must be {_EXPECTED[ndims]}, got an array of shape {x.shape}")
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    return x.astype(_PROMOTED[x.dtype]) if x.dtype in _PROMOTED else x


def _foreign_numeric_array(x, what: str, ndims: tuple[int, ...]):
    dtype = numpy_dtype(x.dtype)
    if dtype.kind not in "biufc" or dtype.itemsize > (16 if dtype.kind == "c" else 8):
        raise ValueError(f"{what} must hold numbers (integers, float32/64 or complex64/128), got dtype {x.dtype}")
    if x.ndim not in ndims:
        raise ValueError(f"{what} must be {_EXPECTED[ndims]}, got an array of shape {tuple(x.shape)}")
    promoted = np.dtype(np.float64) if dtype.kind in "biu" else _PROMOTED.get(dtype)
    if promoted is None:
        return x
    b = of_foreign(x)
    return b.xp.astype(x, b.dtype(promoted))

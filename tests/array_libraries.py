"""Array libraries for the backend tests: how to make an array of each, read it back, and rebuild
an operator of the zoo with that library's factors.

Each :class:`Library` is loaded by a fixture; one that is not installed, or needs a GPU this
machine lacks, skips with the reason. Results are always compared with numpy (the zoo's dense
twins, the numpy evaluation of the same expression), never with the library itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp

import kronbox as kb


@dataclass(frozen=True)
class Library:
    """``load()`` imports the library (or skips) and returns ``(asarray, to_numpy)``."""

    name: str
    load: Callable[[], tuple[Callable, Callable]]


def _torch(device: str):
    def load():
        torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[backends]')")
        if device == "cuda" and not torch.cuda.is_available():
            pytest.skip("no CUDA device on this machine")
        # a copy: the factors kronbox keeps are read-only views, which torch refuses to share (and warns)
        return (lambda a: torch.asarray(a, device=device, copy=True)), (lambda t: t.cpu().numpy())

    return load


def _jax():
    jax = pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[test]')")
    jax.config.update("jax_enable_x64", True)  # float64 stays float64 (JAX computes in float32 otherwise)
    import jax.numpy as jnp

    return jnp.asarray, np.asarray


def _cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (it needs a CUDA GPU)")
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            pytest.skip("no CUDA device on this machine")
    except cupy.cuda.runtime.CUDARuntimeError:
        pytest.skip("no CUDA device on this machine")
    return cupy.asarray, cupy.asnumpy


LIBRARIES = (
    Library("torch-cpu", _torch("cpu")),
    Library("jax-cpu", _jax),
    Library("torch-cuda", _torch("cuda")),
    Library("cupy", _cupy),
)


class Unconvertible(Exception):
    """The operator holds something that only numpy arrays work with (a sparse or scipy factor, a lazy inverse)."""


def rebuild(op, asarray: Callable):
    """The operator ``op`` with every array factor replaced by ``asarray(factor)``: the same tree."""

    def factor(F):
        if isinstance(F, kb.Operator):
            return rebuild(F, asarray)
        if isinstance(F, np.ndarray):
            return asarray(F)
        raise Unconvertible(type(F).__name__)

    if isinstance(op, kb.Identity | kb.Zero | kb.Commutation):
        return op
    if isinstance(op, kb.Kron | kb.Box | kb.KronSum):
        return type(op)(factor(op.A), factor(op.B))
    if isinstance(op, kb.Outer):
        return kb.Outer._from_vectors(asarray(op.u), asarray(op.v), op.in_shape, op.out_shape)
    if isinstance(op, kb.Diag):
        return kb.Diag(asarray(op.d))
    if isinstance(op, kb.Dense):
        if sp.issparse(op.M) or not isinstance(op.M, np.ndarray | kb.Operator):
            raise Unconvertible(type(op.M).__name__)
        return kb.Dense(factor(op.M), op.in_shape, op.out_shape)
    if isinstance(op, kb.Scaled):
        return kb.Scaled(op.c, rebuild(op.op, asarray))
    if isinstance(op, kb.Sum | kb.Compose):
        return type(op)(*(rebuild(child, asarray) for child in op.ops))
    if isinstance(op, kb.Transpose):
        return kb.Transpose(rebuild(op.op, asarray))
    raise Unconvertible(type(op).__name__)

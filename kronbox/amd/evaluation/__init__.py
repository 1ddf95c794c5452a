"""Evaluation of expressions and the binding of linear maps to values.

:func:`evaluate` runs a :mod:`~kronbox.amd.evaluation.plan` (each node once, shared factorizations,
fused ``trace(A B)``) with the kernels of :mod:`~kronbox.amd.evaluation.numpy_kernels`, or of
:mod:`~kronbox.amd.evaluation.array_api` for arrays of another library; a square matrix is
factorized once per evaluation (:mod:`~kronbox.amd.evaluation.factorization`). A plan evaluated
again is written out as one Python function (:mod:`~kronbox.amd.evaluation.compiled`), which
:func:`compile` makes at once (:mod:`~kronbox.amd.evaluation.compiled_function`).
:func:`~kronbox.amd.evaluation.lazy_operator.to_operator` turns a linear map into the lazy kronbox
operator. Importing this package provides ``e.eval()`` and ``L.at(values)`` (:mod:`kronbox.services`).
"""

from kronbox import services
from kronbox.amd.evaluation.compiled_function import CompiledFunction, compile
from kronbox.amd.evaluation.evaluate import evaluate
from kronbox.amd.evaluation.lazy_operator import to_operator
from kronbox.amd.evaluation.plan import bound_values, specialize

services.provide("amd.evaluate", evaluate)
services.provide("amd.to_operator", to_operator)

__all__ = ["CompiledFunction", "bound_values", "compile", "evaluate", "specialize", "to_operator"]

"""Linear algebra on lazy operators without forming them: closed forms, structured and iterative solves.

One module per concept: :mod:`~kronbox.linalg.trace`, :mod:`~kronbox.linalg.determinant`,
:mod:`~kronbox.linalg.inverse`, :mod:`~kronbox.linalg.solve` (each a table of closed forms,
dispatched on the operator type), the shared preconditions (:mod:`~kronbox.linalg.checks`),
Sylvester equations, the Kronecker sums hidden in sums of Krons and the Kron-plus-Box equation
(:mod:`~kronbox.linalg.sylvester`, :mod:`~kronbox.linalg.symmetric_sylvester`), sums of Kronecker
products sharing an eigenbasis per factor, such as ``K₁ ⊗ K₂ + σ² I`` and ``A ⊕ B ⊕ C``
(:mod:`~kronbox.linalg.shared_eigenbasis`), Krylov fallbacks (:mod:`~kronbox.linalg.krylov`) and the
LAPACK and BLAS-thread helpers (:mod:`~kronbox.linalg.lapack`, :mod:`~kronbox.linalg.blas`).

Importing this package provides the operators' ``trace``, ``det``, ``slogdet``, ``logdet``, ``inv``
and ``solve`` methods (:mod:`kronbox.services`).
"""

from kronbox import services
from kronbox.linalg.determinant import Slogdet, det, logdet, slogdet
from kronbox.linalg.inverse import inv
from kronbox.linalg.krylov import ConvergenceError
from kronbox.linalg.shared_eigenbasis import preconditioner
from kronbox.linalg.solve import solve, solve_stack
from kronbox.linalg.sylvester import SylvesterSolver
from kronbox.linalg.trace import checked_trace, trace

for _name, _implementation in (
    ("linalg.trace", checked_trace),
    ("linalg.det", det),
    ("linalg.slogdet", slogdet),
    ("linalg.logdet", logdet),
    ("linalg.inv", inv),
    ("linalg.solve", solve),
    ("linalg.solve_stack", solve_stack),
    ("linalg.sylvester", SylvesterSolver),
):
    services.provide(_name, _implementation)

__all__ = [
    "ConvergenceError", "Slogdet", "SylvesterSolver", "det", "inv", "logdet", "preconditioner", "slogdet", "solve",
    "trace",
]

"""Minimizing scalar matrix expressions with their lazy Hessians.

:func:`minimize` (:mod:`~kronbox.amd.optimize.minimize`) drives kronbox's truncated Newton method
(:mod:`~kronbox.amd.optimize.newton`) or scipy's optimizers on the objective of
:mod:`~kronbox.amd.optimize.objective` (value and gradient together, Hessian-vector products,
symmetric variables by projection, with Hessian terms merged by
:mod:`~kronbox.amd.optimize.projected`).
"""

from kronbox.amd.optimize.minimize import Iteration, MinimizeResult, NotConvergedError, NotConvergedWarning, minimize

__all__ = ["Iteration", "MinimizeResult", "NotConvergedError", "NotConvergedWarning", "minimize"]

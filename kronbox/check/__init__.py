"""Numeric checkers that return reports instead of raising.

A :class:`Report` is truthy when the check passed, prints as one line and carries the numbers.
Operators: :func:`dot_test`, :func:`identity`. Derivatives: :func:`gradient`, :func:`jacobian`,
:func:`hessian` (against central differences, and the complex step where the function is analytic).
"""

from kronbox.check.derivatives import domain_problem, gradient, hessian, jacobian, random_values
from kronbox.check.operator_checks import Report, default_tolerance, dot_test, identity, random_like

__all__ = [
    "Report", "default_tolerance", "domain_problem", "dot_test", "gradient", "hessian", "identity", "jacobian",
    "random_like", "random_values",
]

"""Differentiation: one table of local Jacobians, forward mode, reverse mode, Hessians, Taylor series.

:mod:`~kronbox.amd.differentiation.rules` gives each primitive's Jacobian as a linear map (one
line per primitive, shared by both modes); :mod:`~kronbox.amd.differentiation.derivative` composes
them forward (:func:`jacobian`) or unwinds them backward (:func:`grad`: ``vecᵀ(G)(A ⊗ B) =
vecᵀ(Aᵀ G B)``), and the Hessian is the Jacobian of the gradient;
:mod:`~kronbox.amd.differentiation.taylor` builds Taylor polynomials.
"""

from kronbox.amd.differentiation.derivative import (
    Derivative,
    find_symbol,
    grad,
    gradient,
    hessian,
    jacobian,
    value_and_grad,
)
from kronbox.amd.differentiation.taylor import taylor

__all__ = ["Derivative", "find_symbol", "grad", "gradient", "hessian", "jacobian", "taylor", "value_and_grad"]

"""Limits on the symbolic work a short formula can ask for, with a clear error when one is reached.

``trace(X^100000)``'s Jacobian has 100 000 Kron terms, a gradient printed without simplification
can be exponentially longer than its expression (a shared subexpression is written out each time
it is used), and a formula nested thousands of levels deep multiplies both. kronbox stops such work
early with a :class:`SymbolicBudgetError` (a ``ValueError``: the command line reports it in one
line and exits 2) instead of running for minutes and gigabytes. The limits are module attributes;
raise them for a job that needs more.
"""

from __future__ import annotations

#: The most terms a sum of linear maps (a Jacobian or Hessian in Kron/Box form) may have.
MAX_MAP_TERMS = 5_000
#: The longest text (in characters) a printer may produce for one expression or subexpression.
MAX_TEXT = 20_000_000
#: The most characters one printing (or simplification) may produce for all subexpressions together:
#: a formula nested thousands of levels deep prints each level's text around the one below.
MAX_TEXT_TOTAL = 1_000_000_000


class SymbolicBudgetError(ValueError):
    """Symbolic work beyond a limit of :mod:`kronbox.amd.expressions.budget`."""


def check_terms(count: int, what: str) -> None:
    if count > MAX_MAP_TERMS:
        raise SymbolicBudgetError(
            f"{what} would have more than {MAX_MAP_TERMS:,} terms (kronbox.amd.expressions.budget.MAX_MAP_TERMS); "
            "a power X^k with a large k has k of them: use the gradient (reverse mode), which stays small")


def check_text(length: int, total: int = 0) -> None:
    if total > MAX_TEXT_TOTAL:
        raise SymbolicBudgetError(
            f"printing this expression would write more than {MAX_TEXT_TOTAL:,} characters for its subexpressions "
            "(kronbox.amd.expressions.budget.MAX_TEXT_TOTAL): it is nested too deeply or too large to print; "
            "evaluate it instead")
    if length > MAX_TEXT:
        raise SymbolicBudgetError(
            f"the printed expression would be longer than {MAX_TEXT:,} characters "
            "(kronbox.amd.expressions.budget.MAX_TEXT): shared subexpressions are written out each time they "
            "are used; evaluate it instead, or print it simplified")

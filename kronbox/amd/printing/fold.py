"""Bottom-up folds over expression DAGs, shared by the printers and the simplifier.

A :class:`Fold` computes ``visit(node, [result of each argument])`` once per node, children
first, with an explicit stack (no recursion, so a chain of ten thousand nodes is fine), and keeps
the results for later calls: a subexpression printed once is never printed again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from kronbox.amd.expressions.budget import check_text
from kronbox.amd.expressions.expr import Expr

R = TypeVar("R")

# Binding strength of printed text: sums < unary minus < products < postfix (transpose, powers) < atoms.
SUM, NEG, PRODUCT, POSTFIX, ATOM = range(5)


class Fold(Generic[R]):
    """``visit`` folded over expressions, memoized by node (the nodes are kept alive with their results)."""

    def __init__(self, visit: Callable[[Expr, list[R]], R]):
        self._visit = visit
        self._done: dict[int, tuple[Expr, R]] = {}
        self._characters = 0  # printed so far, for the budget (kronbox.amd.expressions.budget)

    def __call__(self, root: Expr) -> R:
        done = self._done
        stack = [root]
        while stack:
            n = stack[-1]
            if id(n) in done:
                stack.pop()
                continue
            pending = [a for a in n.args if id(a) not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            result = self._visit(n, [done[id(a)][1] for a in n.args])
            if isinstance(result, tuple) and result and isinstance(result[0], str):
                self._characters += len(result[0])
                check_text(len(result[0]), self._characters)
            done[id(n)] = (n, result)
        return done[id(root)][1]

    def remember(self, node: Expr, result: R) -> None:
        """Record ``result`` for ``node`` unless it has one already."""
        self._done.setdefault(id(node), (node, result))


def wrap(printed: tuple[str, int], at_least: int, left: str = "(", right: str = ")") -> str:
    """The text of ``printed`` (a ``(text, strength)`` pair), parenthesized if it binds looser than ``at_least``."""
    text, strength = printed
    return text if strength >= at_least else f"{left}{text}{right}"


def plus(a: list[tuple[str, int]], negative: int) -> tuple[str, int]:
    """``A + B`` from the printed operands, written ``A - C`` when ``B`` prints as ``-C`` binding at
    least as tightly as ``negative`` (the strength of a unary minus in that format)."""
    right, strength = a[1]
    if right.startswith("-") and strength >= negative:
        return f"{wrap(a[0], SUM)} - {right[1:]}", SUM
    return f"{wrap(a[0], SUM)} + {wrap(a[1], SUM + 1)}", SUM

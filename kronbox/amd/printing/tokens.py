"""The length of a printed formula as a person counts it: its tokens.

A token is a name (``X``, ``inv``, ``norm2``), a number (``2``, ``0.5``, ``1e-3``) or an operator
(``+ - * / .* ./ .^ ^ '``); parentheses, commas and spaces are free, so ``(A + A')*x`` is 6 tokens
and ``A'*x + A*x`` is 8. This is the measure the display simplifier
minimizes (:mod:`kronbox.amd.printing.simplify`), with the number of characters as the tie-break.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\.[*/^]|[-+*/^'⊗⊠]")


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` in order (parentheses, commas and spaces dropped)."""
    return _TOKEN.findall(text)


def token_count(text: str) -> int:
    """How many tokens ``text`` has: ``token_count("(A + A')*x") == 6``."""
    return len(tokens(text))


def cost(text: str) -> tuple[int, int]:
    """What the simplifier minimizes: tokens first, then characters."""
    return token_count(text), len(text)

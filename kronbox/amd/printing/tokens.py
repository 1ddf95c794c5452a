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


_LONG = 512  # characters; a longer text is counted by string methods, linear at C speed
_OPERATORS = "+-*/^'⊗⊠"
_SEPARATORS = str.maketrans(dict.fromkeys("()+-*/^',⊗⊠", " "))


def token_count(text: str) -> int:
    """How many tokens ``text`` has: ``token_count("(A + A')*x") == 6``.

    A long text (a deep expression, whose every subexpression is costed as it is simplified) is counted
    without the regular expression: its operator characters, plus the runs of everything else between
    separators (``.*`` counts once, a number with an exponent such as ``1e-05`` twice)."""
    if len(text) < _LONG:
        return len(tokens(text))
    return sum(map(text.count, _OPERATORS)) + len(text.translate(_SEPARATORS).split())


def cost(text: str) -> tuple[int, int]:
    """What the simplifier minimizes: tokens first, then characters."""
    return token_count(text), len(text)

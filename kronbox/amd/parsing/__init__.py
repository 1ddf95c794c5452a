"""Reading formulas: the calculator's syntax (:func:`parse`) and the Kron/Box notation of maps (:func:`parse_map`).

Both are read by a LALR grammar (lark) in :mod:`~kronbox.amd.parsing.grammar`; the text is never
evaluated as Python. :mod:`~kronbox.amd.parsing.map_reader` reads printed Jacobians and Hessians
back into linear maps.
"""

from kronbox.amd.parsing.grammar import ParseError, parse
from kronbox.amd.parsing.map_reader import parse_map

__all__ = ["ParseError", "parse", "parse_map"]

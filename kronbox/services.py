"""Services: the one way a lower layer of kronbox reaches a higher one.

kronbox's packages import downward only (the import-linter contracts in ``pyproject.toml``): the
operators know nothing of :mod:`kronbox.linalg`, the expressions of :mod:`kronbox.amd` nothing of
their evaluation or printing. A few conveniences still point up, because that is where users look
for them: ``op.inv()``, ``op.solve(b)``, ``op.trace()`` (closed forms in :mod:`kronbox.linalg`), a
Kronecker sum's Bartels–Stewart factorization, ``e.eval()`` and ``str(e)`` on an expression,
``L.at(values)`` and ``str(L)`` on a linear map. For these, the higher layer *provides* an
implementation under a name declared below when it is imported, and the lower layer *calls* it by
that name::

    # kronbox/linalg/__init__.py                  # kronbox/operators/base.py
    services.provide("linalg.inv", inv)            def inv(self):
                                                       return services.call("linalg.inv", self)

``import kronbox`` imports every layer, so every service is provided before user code runs; a
test checks that each declared name has its provider. Nothing else in kronbox imports upward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Every service: its name and what the provider does (the provider's module in brackets).
DECLARED: dict[str, str] = {
    "linalg.trace": "tr(A) of an operator by a closed form [kronbox.linalg.trace]",
    "linalg.det": "det(A) of an operator [kronbox.linalg.determinant]",
    "linalg.slogdet": "(sign, log|det A|) of an operator [kronbox.linalg.determinant]",
    "linalg.logdet": "log det(A) of an operator [kronbox.linalg.determinant]",
    "linalg.inv": "A⁻¹ as a lazy operator [kronbox.linalg.inverse]",
    "linalg.solve": "x with A x = b, for a vector or a block of columns [kronbox.linalg.solve]",
    "linalg.solve_stack": "A⁻¹ applied to a stack of another array library [kronbox.linalg.solve]",
    "linalg.sylvester": "the Bartels–Stewart factorization of a Kronecker sum's factors [kronbox.linalg.sylvester]",
    "amd.evaluate": "the value of an expression at bound values [kronbox.amd.evaluation]",
    "amd.to_operator": "a linear map bound to values, as a lazy operator [kronbox.amd.evaluation]",
    "amd.to_text": "an expression as text in the calculator's syntax, as it is [kronbox.amd.printing]",
    "amd.to_format": "an expression printed in a format, simplified unless asked not to [kronbox.amd.printing]",
    "amd.map_text": "a linear map as text in Kron/Box notation [kronbox.amd.printing]",
}

_providers: dict[str, Callable[..., Any]] = {}


def provide(name: str, implementation: Callable[..., Any]) -> None:
    """Register ``implementation`` as the provider of the declared service ``name``."""
    if name not in DECLARED:
        raise KeyError(f"services: {name!r} is not a declared service (declared: {', '.join(sorted(DECLARED))})")
    _providers[name] = implementation


def call(name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Call the provider of ``name`` with ``args`` and ``kwargs``."""
    try:
        implementation = _providers[name]
    except KeyError:
        raise RuntimeError(
            f"services: nothing provides {name!r} ({DECLARED.get(name, 'undeclared')}); import kronbox first"
        ) from None
    return implementation(*args, **kwargs)


def missing() -> list[str]:
    """The declared services without a provider (empty once ``kronbox`` is imported)."""
    return sorted(set(DECLARED) - set(_providers))

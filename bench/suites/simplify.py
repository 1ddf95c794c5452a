"""Display simplification: kronbox's rewrite system against equality saturation (egglog), in time and tokens.

The gradients of the hand corpus (``tests/formula_corpus.py``: 100 formulas with the shortest gradient
written by hand) are simplified for printing twice: by :func:`kronbox.amd.simplify` (one bottom-up pass
over the expression's DAG into linear combinations of products, then factoring under a token cost), and
by egglog (the Rust e-graph engine): the raw gradient as an e-graph term, the same algebra as rewrite
rules (transposes, associativity and commutativity, distributivity both ways, like terms, ``M M⁻¹ = I``,
``inv(A B) = inv(B) inv(A)`` under a ``square`` relation on the factors, numbers folded), saturated for a
bounded number of iterations, and the cheapest term extracted (AST size, which is the token count with
leaves and function names counted once). Only gradients built of the kinds both systems model are
compared (matrix products, sums, transposes, inverses, scalings; other nodes are opaque leaves).

One table of times per corpus pass (both candidates return token totals; the notes give them with the
hand total, and the slowest formula of each). egglog is optional: ``pip install egglog``; without it the
table has kronbox's row only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.table import Table
from bench.timing import Settings, compare
from kronbox import amd
from kronbox.amd.expressions.expr import Expr
from kronbox.amd.printing.tokens import token_count

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from formula_corpus import HAND_FORMS, hand_shapes

_MODELLED = {"var", "const", "add", "neg", "matmul", "transpose", "inv", "eye", "literal", "mul"}


def _gradients() -> list[tuple[str, Expr, str]]:
    """(formula, raw gradient, hand form) for the corpus formulas whose gradients both systems model."""
    shapes = hand_shapes()
    out = []
    for formula, wrt, hand in HAND_FORMS:
        g = amd.grad(amd.parse(formula, shapes=shapes), wrt)
        modelled = all(n.kind in _MODELLED and (n.kind != "mul" or n.args[0].kind == "literal") for n in g.nodes())
        if modelled:
            out.append((formula, g, hand))
    return out


def _kronbox(grads: list[tuple[str, Expr, str]]) -> tuple[int, float]:
    total, slowest = 0, 0.0
    for _, g, _ in grads:
        start = time.perf_counter()
        total += token_count(str(g))
        slowest = max(slowest, time.perf_counter() - start)
    return total, slowest


def _egglog_simplifier(iterations: int = 3) -> Callable[[list[tuple[str, Expr, str]]], tuple[int, float]] | None:
    try:
        import egglog as eg
    except ImportError:
        return None

    class M(eg.Expr):
        def __init__(self, name: eg.StringLike) -> None: ...
        def __add__(self, other: M) -> M: ...
        def __matmul__(self, other: M) -> M: ...

    @eg.function
    def tr(a: M) -> M: ...

    @eg.function
    def inv(a: M) -> M: ...

    @eg.function
    def neg(a: M) -> M: ...

    @eg.function
    def scale(c: eg.f64Like, a: M) -> M: ...

    @eg.function
    def square(a: M) -> eg.Unit: ...

    eye = M("I")
    a, b, c = eg.vars_("a b c", M)
    p, q = eg.vars_("p q", eg.f64)
    rules = [
        eg.rewrite(tr(tr(a))).to(a), eg.rewrite(tr(a @ b)).to(tr(b) @ tr(a)), eg.rewrite(tr(b) @ tr(a)).to(tr(a @ b)),
        eg.rewrite(tr(a + b)).to(tr(a) + tr(b)), eg.rewrite(tr(a) + tr(b)).to(tr(a + b)),
        eg.rewrite(tr(inv(a))).to(inv(tr(a))), eg.rewrite(tr(neg(a))).to(neg(tr(a))), eg.rewrite(tr(eye)).to(eye),
        eg.rewrite(a + b).to(b + a), eg.rewrite((a + b) + c).to(a + (b + c)), eg.rewrite(a + (b + c)).to((a + b) + c),
        eg.rewrite((a @ b) @ c).to(a @ (b @ c)), eg.rewrite(a @ (b @ c)).to((a @ b) @ c),
        eg.rewrite(a @ b + a @ c).to(a @ (b + c)), eg.rewrite(a @ c + b @ c).to((a + b) @ c),
        eg.rewrite(neg(neg(a))).to(a), eg.rewrite(neg(a) @ b).to(neg(a @ b)), eg.rewrite(a @ neg(b)).to(neg(a @ b)),
        eg.rewrite(a + a).to(scale(2.0, a)), eg.rewrite(scale(p, a) + a).to(scale(p + 1.0, a)),
        eg.rewrite(scale(p, a) + scale(q, a)).to(scale(p + q, a)),
        eg.rewrite(scale(p, scale(q, a))).to(scale(p * q, a)),
        eg.rewrite(scale(p, a) @ b).to(scale(p, a @ b)), eg.rewrite(a @ scale(p, b)).to(scale(p, a @ b)),
        eg.rewrite(scale(-1.0, a)).to(neg(a)), eg.rewrite(neg(scale(p, a))).to(scale(-p, a)),
        eg.rewrite(tr(scale(p, a))).to(scale(p, tr(a))),
        eg.rewrite(inv(a) @ a).to(eye), eg.rewrite(a @ inv(a)).to(eye), eg.rewrite(eye @ a).to(a),
        eg.rewrite(a @ eye).to(a), eg.rewrite(inv(inv(a))).to(a),
        eg.rewrite(inv(a) @ (a @ b)).to(b), eg.rewrite((b @ a) @ inv(a)).to(b),
        eg.rewrite(inv(a @ b)).to(inv(b) @ inv(a), square(a), square(b)),
        eg.rule(square(a), square(b)).then(square(a @ b)), eg.rule(square(a)).then(square(inv(a)), square(tr(a))),
    ]

    def node(n: Expr, args: list[M]) -> M:
        k = n.kind
        if k in ("var", "const"):
            return M(n.param[0])
        if k == "eye":
            return eye
        if k == "literal":
            return M(str(n.param))
        if k == "add":
            return args[0] + args[1]
        if k == "matmul":
            return args[0] @ args[1]
        if k == "mul":
            return scale(float(n.args[0].param), args[1])
        return {"neg": neg, "transpose": tr, "inv": inv}[k](args[0])

    def term(e: Expr, done: dict[int, M]) -> M:
        for n in e.nodes():
            done[id(n)] = node(n, [done[id(x)] for x in n.args])
        return done[id(e)]

    def simplify_all(grads: list[tuple[str, Expr, str]]) -> tuple[int, float]:
        total, slowest = 0, 0.0
        for _, g, _ in grads:
            start = time.perf_counter()
            graph = eg.EGraph()
            graph.register(*rules)
            done: dict[int, M] = {}
            root = graph.let("root", term(g, done))
            for n in g.nodes():
                if n.kind in ("var", "const") and n.shape is not None and n.shape[:1] == n.shape[1:]:
                    graph.register(square(done[id(n)]))
            graph.run(iterations)
            extracted, cost = graph.extract(root, include_cost=True)
            text = str(extracted)
            total += cost - text.count("M(")  # a name is one token, the node and its string two in the AST size
            slowest = max(slowest, time.perf_counter() - start)
        return total, slowest

    return simplify_all


def run(settings: Settings) -> Iterator[Table]:
    grads = _gradients()
    hand = sum(token_count(h) for _, _, h in grads)
    candidates: dict[str, Callable[[], object]] = {"kronbox rewrite system": lambda: _kronbox(grads)}
    egglog = _egglog_simplifier(2 if settings.quick else 3)
    if egglog is not None:
        candidates["egglog equality saturation"] = lambda: egglog(grads)
    table = Table(f"Simplifying {len(grads)} corpus gradients for display", baseline="kronbox rewrite system")
    table.add("whole corpus", compare(candidates, None, settings))
    for name, run_once in candidates.items():
        total, slowest = run_once()  # type: ignore[misc]
        table.notes.append(f"{name}: {total} tokens (hand {hand}), slowest formula {slowest * 1e3:.1f} ms")
    yield table

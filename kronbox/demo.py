"""``kronbox demo``: a million-unknown Kronecker system and a Lyapunov equation, solved lazily.

1. ``K = P ⊗ Q`` with ``n×n`` symmetric positive definite factors: an ``n² × n²`` operator held as
   two ``n×n`` matrices. One matvec is two matrix products; ``K x = b`` is solved by the closed form
   ``K⁻¹ = P⁻¹ ⊗ Q⁻¹`` and, for comparison, by scipy's conjugate gradients on the same operator.
2. The Lyapunov equation ``A X + X Aᵀ = C`` is the Kronecker sum ``(A ⊗ I + I ⊗ A) vec(X) = vec(C)``
   (row-major ``vec``): solved by Bartels–Stewart in ``O(n³)`` and by GMRES on the lazy operator.
3. The AMD identities are checked numerically by random probing, and a wrong one is caught.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import scipy.sparse.linalg as spla

from . import check
from .operators import Box, Commutation, Identity, Kron, KronSum

HELP = "solve a million-unknown Kronecker system and a Lyapunov equation"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kronbox demo``; the parsed arguments carry ``run``."""
    parser.add_argument("--size", type=int, default=1000, help="factor size n of the n²×n² system (default 1000)")
    parser.add_argument("--lyapunov-size", type=int, default=200, help="size of the Lyapunov equation (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=_command)


def _command(args: argparse.Namespace) -> int:
    if args.size < 2 or args.lyapunov_size < 2:
        print("kronbox demo: sizes must be at least 2", file=sys.stderr)
        return 2
    return 0 if run(args.size, args.lyapunov_size, args.seed) else 1


def _spd(n: int, rng: np.random.Generator) -> np.ndarray:
    """A well-conditioned symmetric positive definite ``n×n`` matrix."""
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    return G @ G.T + np.eye(n)


def _stable(n: int, rng: np.random.Generator) -> np.ndarray:
    """A matrix whose eigenvalues have positive real part (so ``A ⊕ A`` is nonsingular)."""
    return rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)


def _timed(f: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = f()
    return result, time.perf_counter() - start


def _relative(x: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(x - reference) / np.linalg.norm(reference))


def _bytes(count: int) -> str:
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    size, unit = float(count), 0
    while size >= 1000 and unit < len(units) - 1:
        size, unit = size / 1000, unit + 1
    return f"{size:.3g} {units[unit]}"


def run(n: int = 1000, lyapunov_n: int = 200, seed: int = 0, say: Callable[[str], None] = print) -> bool:
    """Run the demo, printing as it goes; return True when every numeric check passed."""
    rng = np.random.default_rng(seed)
    ok = True

    say(f"[1/3] Kronecker system: K = P ⊗ Q with {n}×{n} SPD factors")
    P, Q = _spd(n, rng), _spd(n, rng)
    K = Kron(P, Q)
    N = K.shape[0]
    say(f"      K is {N:,} × {N:,}: {_bytes(8 * N * N)} if formed, {_bytes(P.nbytes + Q.nbytes)} as factors")
    x_true = rng.standard_normal(N)
    tracemalloc.start()
    b, t_apply = _timed(lambda: K @ x_true)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    say(f"      K @ x: {t_apply * 1e3:.1f} ms, peak extra memory {_bytes(peak)} (x is {_bytes(x_true.nbytes)})")
    x_closed, t_closed = _timed(lambda: K.solve(b))
    err_closed = _relative(x_closed, x_true)
    say(f"      closed form K⁻¹ = P⁻¹ ⊗ Q⁻¹: {t_closed:.2f} s, relative error {err_closed:.1e}")
    iterations = 0

    def count(_):
        nonlocal iterations
        iterations += 1

    (x_cg, info), t_cg = _timed(lambda: spla.cg(K, b, rtol=1e-10, maxiter=500, callback=count))
    err_cg = _relative(x_cg, x_true)
    say(f"      scipy cg on the lazy operator: {iterations} iterations, {t_cg:.2f} s, relative error {err_cg:.1e}")
    ok &= err_closed < 1e-8 and info == 0 and err_cg < 1e-6

    m = lyapunov_n
    say(f"[2/3] Lyapunov equation A X + X Aᵀ = C with A {m}×{m}: a {m * m:,}-unknown Kronecker sum")
    A = _stable(m, rng)
    L = KronSum(A, A)
    X_true = rng.standard_normal((m, m))
    C = A @ X_true + X_true @ A.T
    X_bs, t_bs = _timed(lambda: L.solve(C.ravel()).reshape(m, m))
    err_bs = _relative(X_bs, X_true)
    say(f"      Bartels–Stewart: {t_bs:.3f} s, relative error {err_bs:.1e}")
    (x_gm, info), t_gm = _timed(lambda: spla.gmres(L, C.ravel(), rtol=1e-10, restart=50, maxiter=200))
    err_gm = _relative(x_gm.reshape(m, m), X_true)
    say(f"      scipy gmres on the lazy operator: {t_gm:.3f} s, relative error {err_gm:.1e}")
    ok &= err_bs < 1e-8 and info == 0 and err_gm < 1e-6

    say("[3/3] AMD identities, checked by random probing (never formed)")
    p, q = 4, 3
    A1, B1, C1, D1 = (rng.standard_normal((p, p)) for _ in range(4))
    E1 = rng.standard_normal((q, q))
    claims = [
        ("(A⊠B)(C⊠D) = (AD)⊗(BC)", Box(A1, B1) @ Box(C1, D1), Kron(A1 @ D1, B1 @ C1), True),
        ("(A⊗E)(I⊠I) = A⊠E", Kron(A1, E1) @ Commutation(p, q), Box(A1, E1), True),
        ("(I⊠I)ᵀ(I⊠I) = I", Commutation(p, q).T @ Commutation(p, q), Identity(p * q), True),
        ("(A⊠B)(C⊠D) = (AC)⊠(BD), as the slides print it", Box(A1, B1) @ Box(C1, D1), Box(A1 @ C1, B1 @ D1), False),
    ]
    for name, lhs, rhs, holds in claims:
        report = check.identity(lhs, rhs)
        verdict = "holds" if report.passed else "fails"
        say(f"      {name}: {verdict} (relative error {report.error:.1e})")
        ok &= report.passed == holds
    say("All checks passed." if ok else "Some checks FAILED.")
    return ok

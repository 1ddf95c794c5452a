"""The BLAS pool limit under threads (issue 14, item 7): ``amd.minimize`` and the Sylvester solves run
with one BLAS thread per pool, and however their calls overlap across Python threads, the pools end
with the sizes they had before.

The threaded cases run in a fresh subprocess whose pools start at two threads (``OPENBLAS_NUM_THREADS``):
OpenBLAS ≥ 0.3.30 honors ``openblas_set_num_threads`` only from the thread that called it first (while
it lives), and in this test session the main thread has called it already.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from kronbox.linalg import blas

COMMON = r"""
import threading
import numpy as np
from threadpoolctl import threadpool_info
import kronbox as kb
from kronbox import amd
from kronbox.linalg import blas

def pool_sizes():
    # read by threadpoolctl, not through kronbox
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

before = pool_sizes()
assert before and set(before) == {2}, before
"""

OVERLAP = COMMON + r"""
# the order that left the pools at one thread: A enters, B enters, A leaves, B leaves
a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
seen = {}

def a():
    with blas.threads(1):
        seen["A inside"] = pool_sizes()
        a_in.set()
        b_in.wait()
    a_out.set()

def b():
    a_in.wait()
    with blas.threads(1):
        seen["B inside"] = pool_sizes()
        b_in.set()
        a_out.wait()

threads = [threading.Thread(target=a), threading.Thread(target=b)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert set(seen["A inside"]) == {1} and set(seen["B inside"]) == {1}, seen
assert pool_sizes() == before, (pool_sizes(), before)
"""

CONCURRENT = COMMON + r"""
rng = np.random.default_rng(7)
d = 8
G = rng.standard_normal((d, 2 * d))
S = G @ G.T / (2 * d)
Sigma = amd.var("Sigma", (d, d))
phi = amd.logdet(Sigma) + amd.trace(amd.const("S", S) @ amd.inv(Sigma))  # minimized at Sigma = S
A = rng.standard_normal((30, 30)) + 8 * np.eye(30)
B = rng.standard_normal((20, 20)) + 8 * np.eye(20)
C = rng.standard_normal((30, 20))
errors, inside = [], []
start = threading.Barrier(6)

def optimize(method):
    start.wait()
    try:
        for _ in range(3):
            result = amd.minimize(phi, np.eye(d), method=method, symmetric=True, tol=1e-8,
                                  callback=lambda step, X: inside.append(set(pool_sizes())))
            np.testing.assert_allclose(result.X, S, atol=1e-5)
    except BaseException as err:
        errors.append(err)

def sylvester():
    start.wait()
    try:
        for _ in range(20):
            X = kb.KronSum(A, B).solve(C.ravel()).reshape(30, 20)
            np.testing.assert_allclose(A @ X + X @ B.T, C, atol=1e-10)
    except BaseException as err:
        errors.append(err)

jobs = [threading.Thread(target=optimize, args=(m,)) for m in ("newton-pcg", "trust-ncg", "newton-pcg")]
jobs += [threading.Thread(target=sylvester) for _ in range(3)]
for job in jobs:
    job.start()
for job in jobs:
    job.join()
assert not errors, errors
assert any(s == {1} for s in inside), inside  # the limit was applied
assert pool_sizes() == before, (pool_sizes(), before)
"""


def _run(script: str) -> None:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


def test_overlapping_limits_in_two_threads_restore_the_pools():
    _run(OVERLAP)


def test_concurrent_minimize_and_sylvester_solves_leave_the_pools_as_they_were():
    _run(CONCURRENT)


def test_nested_limits_hold_the_smallest_and_restore():
    with threadpool_limits(limits=2, user_api="blas"):
        def sizes() -> set[int]:
            return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

        if not sizes():
            pytest.skip("no BLAS pool that threadpoolctl can see")
        with blas.threads(2):
            assert sizes() == {2}
            with blas.threads(1):
                assert sizes() == {1}
                with blas.threads(2):
                    assert sizes() == {1}  # the smallest active limit
            assert sizes() == {2}
        assert sizes() == {2}
    with pytest.raises(ValueError, match="positive integer"):
        blas.threads(0)

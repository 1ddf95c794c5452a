"""Concurrent ``to_dense`` from several Python threads, on every numba threading layer (issue 14, item 14).

numba's workqueue layer aborts the process when two threads launch parallel kernels at once; kronbox
serializes its kernel calls there. Each layer runs in its own subprocess (the layer is chosen once per
process), 8 threads forming Kron, Box, Outer and sum matrices above the numpy/numba switch, each result
checked against numpy's definition.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import threading
import numpy as np
import numba
import kronbox as kb

rng = np.random.default_rng(0)
jobs = []
# A sum whose terms have operator factors: their dense forms are made by the kernels while the sum's
# buffer is being filled, in the same thread (first, while numba's layer is not chosen yet, as well).
A, B, C = (rng.standard_normal((5, 5)) for _ in range(3))
nested = kb.Kron(kb.Kron(A, B), C) + 2 * kb.Box(A, kb.Kron(B, C))
nested_twin = np.kron(np.kron(A, B), C) + 2 * np.einsum("il,jk->ijkl", A, np.kron(B, C)).reshape(125, 125)
assert np.allclose(nested.to_dense(), nested_twin)
jobs.append((nested, nested_twin))
for t in range(8):
    A, B = rng.standard_normal((12 + t, 11)), rng.standard_normal((10, 9 + t))
    jobs.append((kb.Kron(A, B), np.kron(A, B)))
    jobs.append((kb.Box(A, B.T), np.einsum("il,jk->ijkl", A, B.T).reshape(A.shape[0] * B.shape[1], -1)))
    jobs.append((kb.Kron(A, B) + 2 * kb.Kron(A, B), 3 * np.kron(A, B)))
    u, v = rng.standard_normal(100 + t), rng.standard_normal(90)
    jobs.append((kb.Outer(u, v), np.outer(u, v)))
failures = []
start = threading.Barrier(8)

def work(mine):
    start.wait()
    try:
        for _ in range(20):
            for op, twin in mine:
                if not np.allclose(op.to_dense(), twin):
                    failures.append(repr(op))
    except BaseException as err:
        failures.append(repr(err))

threads = [threading.Thread(target=work, args=(jobs[t::8],)) for t in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not failures, failures
print(numba.threading_layer())
"""


@pytest.mark.parametrize("layer", ["workqueue", "default", "omp", "tbb"])
def test_eight_threads_form_dense_matrices_at_once(layer):
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NUMBA_NUM_THREADS="2")
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail(f"deadlock: 8 threads forming dense matrices did not finish in 300 s ({layer} layer)")
    if layer in ("omp", "tbb") and "No threading layer could be loaded" in done.stderr:
        pytest.skip(f"numba's {layer} threading layer is not available here")
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    if layer != "default":
        assert done.stdout.split()[-1] == layer

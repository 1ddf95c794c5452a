"""numba's caches of kronbox's kernels never land in the installed package (issue 14, item 1).

Each test copies the kronbox package (sources only) to a fresh directory, as an install would place
it, and runs the kernels from there in a subprocess through the public operators: afterwards no
``.nbi``/``.nbc`` file may exist anywhere under that copy, and the cache must be where the docs say
(``$NUMBA_CACHE_DIR`` if set, else the user's cache directory, else nowhere).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kronbox

# Forms a Kron, a Box, an Outer and a sum above the numpy/numba switch, and runs the symmetric
# kernels; prints where kronbox came from and the kernels' cache statistics.
SCRIPT = r"""
import json
import numpy as np
import kronbox as kb
from kronbox.kernels import dense, symmetric

rng = np.random.default_rng(0)
A, B = rng.standard_normal((12, 11)), rng.standard_normal((10, 9))
D = (kb.Kron(A, B) + 2 * kb.Box(A.T, B.T).T).to_dense()
assert np.allclose(kb.Kron(A, B).to_dense(), np.kron(A, B))
u, v = rng.standard_normal(100), rng.standard_normal(90)
assert np.allclose(kb.Outer(u, v).to_dense(), np.outer(u, v))
S = rng.standard_normal((70, 70))
assert not symmetric.is_symmetric(S)
assert symmetric.is_symmetric(symmetric.symmetrize_from_upper(S.copy()))
print(json.dumps({
    "file": kb.__file__,
    "hits": sum(dense._kron_into.stats.cache_hits.values()),
    "misses": sum(dense._kron_into.stats.cache_misses.values()),
}))
"""


def _installed_copy(tmp_path: Path) -> Path:
    """The kronbox package copied to ``tmp_path/site/kronbox`` without any ``__pycache__``."""
    site = tmp_path / "site"
    shutil.copytree(Path(kronbox.__file__).parent, site / "kronbox", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _run(site: Path, tmp_path: Path, **env_changes: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
    env["PYTHONPATH"] = str(site)
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_CACHE_HOME", None)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).resolve().is_relative_to(site.resolve()), result["file"]  # the copy was tested
    return result


def _numba_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".nbi", ".nbc"))


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG cache directory is the Linux rule")
def test_kernels_cache_in_the_user_cache_directory_never_in_the_package(tmp_path):
    site = _installed_copy(tmp_path)
    cache = tmp_path / "xdg"
    first = _run(site, tmp_path, XDG_CACHE_HOME=str(cache))
    assert _numba_files(site) == []
    assert _numba_files(cache / "kronbox" / "numba"), "nothing was cached in $XDG_CACHE_HOME/kronbox/numba"
    assert first["misses"] >= 1
    # a second process reads the cache back instead of compiling again
    second = _run(site, tmp_path, XDG_CACHE_HOME=str(cache))
    assert second["hits"] >= 1 and second["misses"] == 0, second
    assert _numba_files(site) == []


def test_numba_cache_dir_is_honored(tmp_path):
    site = _installed_copy(tmp_path)
    cache = tmp_path / "numba-cache"
    _run(site, tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert _numba_files(site) == []
    assert _numba_files(cache)


def test_without_a_writable_cache_directory_the_kernels_run_uncached(tmp_path):
    site = _installed_copy(tmp_path)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go")
    result = _run(site, tmp_path, XDG_CACHE_HOME=str(blocked), HOME=str(blocked))
    assert _numba_files(tmp_path) == []
    assert result["misses"] >= 1


def test_a_cache_directory_inside_the_package_is_not_used(tmp_path):
    site = _installed_copy(tmp_path)
    result = _run(site, tmp_path, NUMBA_CACHE_DIR=str(site / "kronbox" / "numba-cache"))
    assert _numba_files(site) == []
    assert result["misses"] >= 1


def test_unexpected_numba_internals_mean_no_cache(monkeypatch):
    """The cache plugs into numba's non-public caching classes; if they change, the kernels run uncached."""
    from numba.core import caching

    from kronbox.kernels import cache

    def kernel(x):
        return x + 1

    monkeypatch.delattr(caching, "_CacheLocator")
    assert cache._function_cache(kernel) is None
    assert cache.jit()(kernel)(1) == 2

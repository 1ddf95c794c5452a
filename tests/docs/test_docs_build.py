"""The documentation builds with warnings as errors, and its API reference covers every public name.

The build is the command of ``docs/conf.py``'s docstring (into a temporary directory), so a
docstring that autodoc cannot render, a broken cross-reference or a notebook that no longer
renders fails here, not first on the published site.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kronbox
from kronbox import amd

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CHECKERS = ("dot_test", "identity", "gradient", "jacobian", "hessian", "Report")


def documented() -> set[str]:
    """The names given to ``autoclass``, ``autofunction`` and ``autoexception`` on the API pages."""
    names: set[str] = set()
    for page in (DOCS / "api").glob("*.rst"):
        text = page.read_text(encoding="utf-8")
        names |= set(re.findall(r"^\.\. auto(?:class|function|exception)::\s+(\S+)", text, flags=re.M))
    return names


def test_the_api_reference_covers_the_public_names():
    public = {
        f"kronbox.{name}" for name in kronbox.__all__
        if not name.startswith("_") and not inspect.ismodule(getattr(kronbox, name))
    }
    public |= {f"kronbox.amd.{name}" for name in amd.__all__}
    public |= {f"kronbox.check.{name}" for name in CHECKERS}
    missing = sorted(public - documented())
    assert not missing, f"public names missing from docs/api/: {missing}"


def test_the_api_reference_uses_public_paths_only():
    """Documented by where users import them, so moving a module inside kronbox breaks no page."""
    for name in documented():
        module, _, attribute = name.rpartition(".")
        assert module in ("kronbox", "kronbox.amd", "kronbox.check", "kronbox.linalg"), name
        assert attribute in getattr(sys.modules[module], "__all__", ()), f"{name} is not in {module}.__all__"


def test_the_pages_stand_alone():
    """No page points into files outside the repository."""
    for page in DOCS.rglob("*"):
        if page.suffix in (".md", ".rst", ".py") and "_build" not in page.parts:
            assert "DESIGN.md" not in page.read_text(encoding="utf-8"), page


PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md"))


@pytest.mark.parametrize("page", PAGES)
def test_the_python_examples_of_a_page_run(page, capsys):
    """Every ```python block of a page, in order, in one namespace (the asserts in them check the claims)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)
    namespace: dict = {"__name__": f"docs_{Path(page).stem}"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{page}, python block {number}", "exec"), namespace)


def test_the_documentation_builds_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "myst_nb", "furo"):
        pytest.importorskip(module)
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    for page in ("index", "conventions", "derivatives", "identities", "architecture", "calculator",
                 "api/operators", "api/amd", "api/check", "examples/01_operators"):
        assert (tmp_path / "html" / f"{page}.html").is_file(), page

"""Sphinx configuration of the kronbox documentation.

Build (warnings are errors)::

    sphinx-build -W --keep-going -q -b html docs docs/_build/html

The notebooks of ``notebooks/`` are rendered as they are stored, never executed: at the start of
every build they are copied into ``docs/examples/`` (a build product, ignored by git), because a
Sphinx toctree can only name documents inside ``docs/``.
"""

from __future__ import annotations

import inspect
import shutil
import sys
from pathlib import Path

from sphinx.util.inspect import stringify_signature

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document the checkout, not an installed copy


def copy_notebooks(source: Path = ROOT / "notebooks", target: Path = DOCS / "examples") -> list[str]:
    """Mirror ``notebooks/*.ipynb`` into ``docs/examples/`` (unchanged files are not touched, so
    incremental builds stay incremental; copies whose notebook is gone are removed)."""
    target.mkdir(exist_ok=True)
    names = sorted(p.name for p in source.glob("*.ipynb"))
    for stale in target.glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    for name in names:
        src, dst = source / name, target / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    return names


copy_notebooks()

# -- project ----------------------------------------------------------------------------------------
project = "kronbox"
author = "the kronbox developers"
copyright = "the kronbox developers"

try:
    from importlib.metadata import version as _version

    release = _version("kronbox")
except Exception:  # not installed: the docs still build from the checkout
    release = ""
version = release

# -- extensions -------------------------------------------------------------------------------------
extensions = [
    "myst_nb",  # Markdown pages (it brings myst-parser) and the notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

# MyST: $…$ and $$…$$ maths, ::: fences, definition lists
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# myst-nb: render the stored outputs, run nothing
nb_execution_mode = "off"
nb_merge_streams = True

# autodoc: the public names only, documented where users import them
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autosummary_generate = False

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False



def _constructor_signature(app, what, name, obj, options, signature, return_annotation):
    """The operators' constructor arguments rather than ``(*args, **kwargs)``.

    scipy's ``LinearOperator`` defines ``__new__(cls, *args, **kwargs)``, which autodoc would show
    for every kronbox operator; the arguments users pass are those of ``__init__``.
    """
    if what != "class" or signature != "(*args, **kwargs)" or "__init__" not in dir(obj):
        return None
    try:
        sig = inspect.signature(obj.__init__)
    except (TypeError, ValueError):
        return None
    parameters = [_readable_default(p) for p in list(sig.parameters.values())[1:]]  # drop self
    return stringify_signature(sig.replace(parameters=parameters), show_return_annotation=False), None


class _Shown:
    """A default value shown by name (``np.float64``, not ``<class 'numpy.float64'>``)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _readable_default(parameter):
    default = parameter.default
    if isinstance(default, type) and default is not parameter.empty:
        module = "np" if default.__module__ == "numpy" else default.__module__
        return parameter.replace(default=_Shown(f"{module}.{default.__qualname__}"))
    return parameter


def setup(app):
    app.connect("autodoc-process-signature", _constructor_signature)


# -- HTML -------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "kronbox"
html_static_path: list[str] = []
pygments_style = "sphinx"

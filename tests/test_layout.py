"""The package's shape: the top of ``kronbox/`` holds the face and the shared foundations only, and every folder
is small enough to read (docs/architecture.md)."""

from pathlib import Path

import kronbox

PACKAGE = Path(kronbox.__file__).resolve().parent


def test_the_top_holds_the_face_and_the_foundations():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "backend.py", "cli.py", "services.py", "vec.py"]


def test_no_folder_holds_more_than_twelve_modules():
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        modules = list(folder.glob("*.py"))
        assert len(modules) <= 12, f"{folder.relative_to(PACKAGE.parent)} holds {len(modules)} modules"

"""What a package index and a user see agrees with the code: one version, no exact pins, the license
and citation files the metadata names."""

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kronbox

ROOT = Path(__file__).resolve().parents[2]

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


@pytest.fixture(scope="module")
def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def test_version_is_the_installed_metadata_version():
    try:
        installed = importlib.metadata.version("kronbox")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("kronbox is not installed: pip install -e .")
    assert kronbox.__version__ == installed, (
        f"kronbox.__version__ is {kronbox.__version__} but the installed metadata says {installed}: "
        "reinstall (pip install -e .)"
    )


def test_version_is_single_sourced(project):
    assert "version" not in project and "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", kronbox.__version__)


def test_command_line_version():
    result = subprocess.run([sys.executable, "-m", "kronbox", "--version"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kronbox {kronbox.__version__}"


def _requirements(project) -> dict[str, list[str]]:
    groups = {"dependencies": project["dependencies"]}
    groups.update({f"extra {name}": reqs for name, reqs in project["optional-dependencies"].items()})
    return groups


def test_dependencies_and_extras_have_lower_bounds_only(project):
    requirements = pytest.importorskip("packaging.requirements")
    for group, reqs in _requirements(project).items():
        for text in reqs:
            operators = {spec.operator for spec in requirements.Requirement(text).specifier}
            assert ">=" in operators, f"{group}: {text!r} has no lower bound"
            assert operators <= {">=", "!="}, f"{group}: {text!r} pins or caps a version (pins: .ci/constraints.txt)"


def test_constraints_pin_what_ci_installs(project):
    pins = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f".ci/constraints.txt: {line!r} is not an exact pin"
            pins[name.strip().lower()] = version.strip()
    declared = {
        re.match(r"[A-Za-z0-9_.-]+", text).group().lower()
        for reqs in _requirements(project).values()
        for text in reqs
    }
    assert "torch" in pins  # an unpinned torch pulls the multi-GB CUDA build on CI's machine
    assert declared - {"pylops", "pykronecker"} <= set(pins), "a dependency CI installs has no pin"


def test_license_is_bsd_3_clause(project):
    assert project["license"] == "BSD-3-Clause"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", [])), \
        "with an SPDX license expression the License classifiers must go (PEP 639)"
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    for clause in (
        "Copyright (c) 2026, the kronbox developers",
        "Redistribution and use in source and binary forms, with or without modification, are permitted",
        "1. Redistributions of source code must retain the above copyright notice",
        "2. Redistributions in binary form must reproduce the above copyright notice",
        "3. Neither the name of the copyright holder nor the names of its contributors may be used to endorse",
        'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"',
    ):
        assert clause in text, clause
    assert "LICENSE" in project["license-files"]


def test_typed_marker():
    assert (Path(kronbox.__file__).parent / "py.typed").is_file()


def test_citation_and_changelog_name_this_version():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    try:
        import yaml
    except ModuleNotFoundError:  # no YAML parser: the plain-text checks
        assert re.search(r"^cff-version: 1\.2\.0$", text, flags=re.M)
        assert re.search(rf"^version: {re.escape(kronbox.__version__)}$", text, flags=re.M)
        assert "family-names: Kambadur" in text
    else:
        citation = yaml.safe_load(text)
        assert citation["cff-version"] == "1.2.0"
        assert str(citation["version"]) == kronbox.__version__
        assert citation["license"] == "BSD-3-Clause"
        authors = [a["family-names"] for ref in citation["references"] for a in ref["authors"]]
        assert "Kambadur" in authors and "Olsen" in authors
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(kronbox.__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, flags=re.M), \
        f"CHANGELOG.md has no section for {kronbox.__version__}"

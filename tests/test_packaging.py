"""The project's packaging: one place for pins, a CLI whose every subcommand answers --help."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from resnet_signs import cli, paths

ROOT = paths.PROJECT_ROOT
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)==([^;\s]+)\s*(?:;\s*(.+))?$")


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"pyproject.toml: not pinned with ==: {requirement!r}"
        name, version, marker = match.groups()
        if marker and "linux" not in marker:
            continue  # environment.yml describes the Linux/Windows (tensorflow-cpu) install
        pins[name.lower()] = version
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("- ") and "==" in line:
            name, version = line[2:].strip().split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_lists_exactly_the_pyproject_pins():
    assert _environment_pins() == _pyproject_pins()


def test_environment_yml_python_matches_requires_python():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = requires.removeprefix(">=")
    assert f"python={minimum}" in (ROOT / "environment.yml").read_text()


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_answers_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "resnet_signs", command, "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage: resnet-signs" in result.stdout


def test_unknown_subcommand_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "resnet_signs", "frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_nothing_derived_from_the_dataset_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    forbidden = [p for p in tracked if p.endswith((".h5", ".keras", ".jpg", ".jpeg")) or p.startswith("models/")]
    assert forbidden == []

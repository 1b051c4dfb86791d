"""The project's packaging: one place for pins, a CLI whose every subcommand answers --help."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from resnet_signs import cli, paths

ROOT = paths.PROJECT_ROOT
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")
#: Marker environments of the platforms the course supports (tensorflow has wheels for all of them).
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
}
TENSORFLOWS = {"tensorflow", "tensorflow-cpu"}


def _requirements() -> dict[str, list[Requirement]]:
    """pyproject.toml's requirements by extra (``""``: the base)."""
    project = PYPROJECT["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {extra: [Requirement(text) for text in texts] for extra, texts in groups.items()}


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = PIN.match(line)
            assert match, f"constraints.txt: not an exact pin: {line!r}"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("- ") and "==" in line:
            name, version = line[2:].strip().split("==")
            pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def _chosen(extra: str, environment: dict[str, str]) -> set[str]:
    """The distributions pyproject.toml asks for with ``extra`` on a platform."""
    return {canonicalize_name(r.name) for r in _requirements()[extra]
            if r.marker is None or r.marker.evaluate({**environment, "extra": extra})}


def test_constraints_pin_every_requirement_inside_its_range():
    pins = _constraints()
    named = set()
    for extra, requirements in _requirements().items():
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            named.add(name)
            assert name in pins, f"constraints.txt has no pin for {requirement} ([{extra}] in pyproject.toml)"
            assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"
    assert set(pins) == named, "constraints.txt pins packages pyproject.toml does not ask for"


def test_pyproject_states_ranges_not_pins():
    exact = [str(r) for group in _requirements().values() for r in group
             if any(spec.operator in ("==", "===") for spec in r.specifier)]
    assert exact == [], "exact versions belong in constraints.txt"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_cpu_extra_installs_exactly_one_tensorflow_and_the_base_none(platform):
    environment = PLATFORMS[platform]
    assert _chosen("", environment) & TENSORFLOWS == set()
    cpu = _chosen("cpu", environment) & TENSORFLOWS
    assert cpu == ({"tensorflow-cpu"} if platform in ("linux-x86_64", "windows") else {"tensorflow"})


def test_gpu_extra_is_the_cuda_tensorflow_alone():
    (requirement,) = _requirements()["gpu"]
    assert requirement.name == "tensorflow" and requirement.extras == {"and-cuda"}
    assert _chosen("gpu", PLATFORMS["linux-x86_64"]) & TENSORFLOWS == {"tensorflow"}


def test_environment_yml_mirrors_the_constraints_with_the_plain_tensorflow():
    expected = {name: version for name, version in _constraints().items() if name != "tensorflow-cpu"}
    assert _environment_pins() == expected


def test_environment_yml_python_matches_requires_python():
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert f"python={minimum}" in (ROOT / "environment.yml").read_text()


def test_make_install_uses_the_constraints():
    assert "pip install -q -c constraints.txt -e '.[$(EXTRAS)]'" in (ROOT / "Makefile").read_text()


def test_license_file_matches_the_metadata():
    assert PYPROJECT["project"]["license"] == "MIT" and PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_version_option():
    result = subprocess.run([sys.executable, "-m", "resnet_signs", "--version"], check=False, capture_output=True,
                            text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"resnet-signs {importlib.metadata.version('resnet-signs')}"


def test_main_leaves_sys_argv_alone(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pytest-runner", "--some-flag"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["notebooks", "get", "--help"])
    assert exit_info.value.code == 0 and "usage: resnet-signs notebooks get" in capsys.readouterr().out
    assert sys.argv == ["pytest-runner", "--some-flag"]


def test_data_dir_option_reaches_paths_and_child_processes(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    assert cli.main(["--data-dir", str(tmp_path), "data", "verify"]) == 2
    assert f"{tmp_path}" in capsys.readouterr().err
    assert paths.data_dir() == tmp_path.resolve()
    child = subprocess.run([sys.executable, "-c", "from resnet_signs import paths; print(paths.data_dir())"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == str(tmp_path.resolve())


def test_data_dir_before_a_subcommand_with_its_own_data_dir_option(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    argv = ["--data-dir", str(tmp_path), "train", "--epochs", "1"]
    args = cli.build_parser(argv).parse_args(argv)
    assert args.global_data_dir == tmp_path and args.data_dir is None  # train falls back to paths.data_dir()


def test_a_checkout_keeps_its_own_folders(monkeypatch):
    for name in (paths.DATA_ENV, paths.MODELS_ENV, paths.COURSE_ENV):
        monkeypatch.delenv(name, raising=False)
    assert paths.checkout_root() == ROOT  # pyproject.toml and the Makefile beside the package
    assert (paths.data_dir(), paths.models_dir(), paths.course_dir()) == (ROOT / "data", ROOT / "models",
                                                                          ROOT / "autograder")
    assert paths.student_notebooks_dir() == ROOT / "assignments"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_answers_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "resnet_signs", command, "--help"], check=False, capture_output=True, text=True,
        timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage: resnet-signs" in result.stdout


def test_unknown_subcommand_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "resnet_signs", "frobnicate"], check=False, capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_nothing_derived_from_the_dataset_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    forbidden = [p for p in tracked if p.endswith((".h5", ".keras", ".jpg", ".jpeg")) or p.startswith("models/")]
    assert forbidden == []

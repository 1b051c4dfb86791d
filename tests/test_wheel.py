"""The built wheel and sdist: no answers inside, and a working ``resnet-signs`` with no checkout.

The wheel is built once per session (``pip wheel --no-deps``, an isolated build with the
setuptools pyproject.toml declares). It is installed into a fresh venv in a temporary folder
that *sees* this interpreter's site-packages through a ``.pth`` file (the effect of
``--system-site-packages``, but for this venv's packages rather than the base Python's), with
``--no-deps --ignore-installed``: TensorFlow and the rest (1.9 GB) are not downloaded again,
nothing is uninstalled from this environment, and the package itself comes from the wheel only
(the editable install's path hook lives in a ``.pth`` that a ``.pth``-added folder does not run).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from resnet_signs import paths

pytestmark = pytest.mark.slow

ROOT = paths.PROJECT_ROOT
SIGNS = paths.shared_signs_dir()
#: Files that hold answers: the course directory's reference and hidden tests, the solutions.
ANSWER_PARTS = ("autograder/", "solutions/", "reference.py", "hidden_tests.py", "/samples/")
#: Text that only a solution or a hidden test contains: nbgrader's markers, left in a notebook that
#: was not stubbed (the package's code may name them; its data files and notebooks may not).
ANSWER_MARKERS = (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS")


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


#: What a build must not see: setuptools builds in the source folder and packs whatever a stale
#: build/lib holds, so the builds below run in a copy without these (nor the data, nor a venv).
TOP_LEVEL_OUTPUTS = {".git", ".venv", "build", "dist", "data", "models", "out", "experiments-cache"}


def _not_source(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {name for name in names if (top and name in TOP_LEVEL_OUTPUTS) or name in ("__pycache__", ".pytest_cache")
            or name.endswith((".egg-info", ".h5", ".keras"))}


@pytest.fixture(scope="session")
def source(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("source") / "resnet-signs"
    shutil.copytree(ROOT, copy, ignore=_not_source, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def dist(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)], timeout=600)
    return out


@pytest.fixture(scope="session")
def wheel(dist) -> Path:
    (found,) = dist.glob("resnet_signs-*.whl")
    return found


def _wheel_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _answers_in(names: list[str], read) -> list[str]:
    bad = [name for name in names if any(part in name for part in ANSWER_PARTS)]
    data = [name for name in names if not name.endswith(".py")]
    bad += [name for name in data if any(marker in read(name) for marker in ANSWER_MARKERS)]
    return bad


def test_wheel_ships_the_package_data_and_no_answers(wheel):
    names = _wheel_names(wheel)
    with zipfile.ZipFile(wheel) as archive:
        assert _answers_in(names, archive.read) == []
    for shipped in ("resnet_signs/data/SHA256SUMS", "resnet_signs/checks/expected.npz",
                    "resnet_signs/checks/expected.json",
                    "resnet_signs/assignments/residual_networks/Residual_Networks.ipynb",
                    "resnet_signs/assignments/why_resnets_work/Why_ResNets_Work.ipynb"):
        assert shipped in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    with zipfile.ZipFile(wheel) as archive:  # the committed student release, byte for byte
        for notebook in (ROOT / "assignments").glob("*/*.ipynb"):
            shipped = f"resnet_signs/assignments/{notebook.relative_to(ROOT / 'assignments')}"
            assert archive.read(shipped) == notebook.read_bytes()
    assert {name.split("/")[0] for name in names} == {"resnet_signs", wheel.name.split("-")[0] + "-0.1.0.dist-info"}


def test_sdist_has_no_answers_and_builds_the_same_wheel(source, tmp_path):
    pytest.importorskip("build", reason="the sdist is built with `python -m build` (the [dev] extra installs it)")
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(source)], timeout=600)
    (sdist,) = tmp_path.glob("resnet_signs-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if m.isfile()}
        assert _answers_in(list(members), lambda name: archive.extractfile(members[name]).read()) == []
        assert {"LICENSE", "constraints.txt", "setup.py", "pyproject.toml",
                "assignments/residual_networks/Residual_Networks.ipynb"} <= set(members)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(sdist)], timeout=600)
    (rebuilt,) = tmp_path.glob("resnet_signs-*.whl")
    assert "resnet_signs/assignments/residual_networks/Residual_Networks.ipynb" in _wheel_names(rebuilt)


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> Path:
    """A venv outside the checkout with the wheel installed (see the module docstring)."""
    folder = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(folder)])
    (purelib,) = Path(folder, "lib").glob("python*/site-packages")
    (purelib / "_outer_site_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = folder / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", str(wheel)],
         env=_clean_env(folder), timeout=300)
    return folder


def _clean_env(home: Path, **extra) -> dict[str, str]:
    """No PYTHONPATH (it would put the checkout first) and a fresh home and data folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",) and not k.startswith("RESNET_SIGNS_")}
    env.pop("SIGNS_SOURCE", None)
    return {**env, "HOME": str(home), "XDG_DATA_HOME": str(home / "xdg-data"),
            "XDG_CACHE_HOME": str(home / "xdg-cache"), "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


@pytest.fixture
def outside(tmp_path, venv):
    """Runs the venv's ``resnet-signs`` or ``python`` in an empty folder outside the checkout."""
    work = tmp_path / "work"
    work.mkdir()

    def run(program: str, *args: str, check: bool = True, **env) -> subprocess.CompletedProcess:
        cmd = [str(venv / "bin" / program), *args]
        result = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=work,
                                env=_clean_env(tmp_path, **env), timeout=600)
        if check:
            assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"
        return result

    run.work = work
    run.home = tmp_path
    return run


def test_the_installed_package_is_the_wheel_not_the_checkout(outside, venv):
    where = outside("python", "-c", "import resnet_signs, resnet_signs.paths as p; "
                    "print(resnet_signs.__file__); print(p.checkout_root())").stdout.split()
    assert Path(where[0]).is_relative_to(venv) and where[1] == "None"
    assert outside("resnet-signs", "--version").stdout.strip() == "resnet-signs 0.1.0"


@pytest.mark.skipif(not SIGNS.is_dir(), reason=f"no SIGNS copy at {SIGNS} (set SIGNS_SOURCE)")
def test_prepare_then_load_outside_a_checkout(outside):
    data = outside.home / "signs-data"
    prepared = outside("resnet-signs", "data", "prepare", "--from", str(SIGNS), RESNET_SIGNS_DATA=str(data))
    assert (data / "train_signs.h5").is_file() and (data / "test_signs.h5").is_file(), prepared.stdout
    shape = outside("python", "-c", "from resnet_signs.data import load_dataset; print(load_dataset()[0].shape)",
                    RESNET_SIGNS_DATA=str(data))
    assert shape.stdout.strip() == "(1080, 64, 64, 3)"
    verified = outside("resnet-signs", "--data-dir", str(data), "data", "verify")
    assert "ok" in verified.stdout


def test_data_defaults_to_the_per_user_folder(outside):
    folder = outside("python", "-c",
                     "from resnet_signs import paths; print(paths.data_dir()); print(paths.models_dir())")
    data, models = folder.stdout.split()
    assert data == str(outside.home / "xdg-data" / "resnet-signs" / "data")
    assert models == str(outside.home / "xdg-data" / "resnet-signs" / "models")
    missing = outside("resnet-signs", "data", "verify", check=False)
    assert missing.returncode == 2 and str(outside.home / "xdg-data" / "resnet-signs" / "data") in missing.stderr


def test_notebooks_get_copies_and_refuses_to_overwrite(outside):
    first = outside("resnet-signs", "notebooks", "get")
    notebook = outside.work / "residual_networks" / "Residual_Networks.ipynb"
    assert notebook.is_file() and (outside.work / "why_resnets_work" / "Why_ResNets_Work.ipynb").is_file()
    assert f"wrote {Path('residual_networks') / 'Residual_Networks.ipynb'}" in first.stdout
    notebook.write_text("my work")
    again = outside("resnet-signs", "notebooks", "get", check=False)
    assert again.returncode == 2 and "already exist: copying would overwrite your work. Pass --force" in again.stderr
    assert notebook.read_text() == "my work"
    outside("resnet-signs", "notebooks", "get", "--force")
    assert notebook.read_text() != "my work"


def test_checkout_only_commands_say_so(outside):
    demo = outside("resnet-signs", "demo", check=False)
    assert demo.returncode == 2 and "run `make demo` in a checkout" in demo.stderr
    lab = outside("resnet-signs", "lab", "--no-browser", check=False)
    assert lab.returncode == 2 and "run `resnet-signs notebooks get` here first" in lab.stderr
    instructor = outside("resnet-signs", "lab", "--role", "instructor", "--no-browser", check=False)
    assert instructor.returncode == 2 and "set RESNET_SIGNS_COURSE" in instructor.stderr

"""The Gradescope bundle: what the zip holds, that its package source builds, and its run_autograder
grading the solution in a fake /autograder tree (one grading run for the module).

run_autograder runs with this environment's package (as setup.sh's venv would hold it): the sandbox
child imports the package the environment installs, not one from a folder on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from resnet_signs import cli
from resnet_signs.grading.gradescope import _find_notebook, build

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "Residual_Networks.ipynb"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, list[str]]:
    zip_path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    return zip_path, build(zip_path, course=ROOT / "autograder")


@pytest.fixture(scope="module")
def autograded(bundle, tmp_path_factory) -> dict:
    """Gradescope's steps on this machine: unzip into source/, install the package, run run_autograder."""
    zip_path, _ = bundle
    root = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(zip_path) as z:  # as unzip does: with the modes the zip records
        for info in z.infolist():
            z.extract(info, root / "source")
            (root / "source" / info.filename).chmod(info.external_attr >> 16)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    shutil.copy(ROOT / "autograder" / "samples" / "solution" / NOTEBOOK, root / "submission" / NOTEBOOK)
    env = {**os.environ, "RESNET_SIGNS_GRADESCOPE_ROOT": str(root),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RESNET_SIGNS_COURSE", None)
    script = root / "source" / "run_autograder"
    run = subprocess.run(["flock", "/tmp/heavy.lock", str(script)], env=env, check=False, capture_output=True,
                         text=True,
                         timeout=1800, cwd=root)  # the lock may wait for another heavy job
    return {"root": root, "run": run}


def test_the_zip_holds_the_scripts_the_package_and_only_the_graders_course_files(bundle):
    zip_path, names = bundle
    assert [n for n in names if not n.startswith("package/")] == [
        "course/hidden_tests.py", "course/reference.py", f"course/source/residual_networks/{NOTEBOOK}",
        "run_autograder", "setup.sh"]
    assert "package/pyproject.toml" in names and "package/resnet_signs/grading/core.py" in names
    assert "package/resnet_signs/checks/expected.npz" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".db", ".md"))]
    with zipfile.ZipFile(zip_path) as z:
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        setup = z.read("setup.sh").decode()
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "pip install -q /autograder/source/package" in setup


def test_the_package_source_in_the_zip_builds_a_wheel_with_its_data(bundle, tmp_path):
    zip_path, names = bundle
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(tmp_path / "source", [n for n in names if n.startswith("package/")])
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", "wheel", "--no-deps",
                    "--no-build-isolation", "-w", tmp_path / "wheels", tmp_path / "source" / "package"],
                   check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "wheels").glob("resnet_signs-*.whl")
    with zipfile.ZipFile(wheel) as w:
        inside = set(w.namelist())
    expected = {n.removeprefix("package/") for n in names if n.startswith("package/resnet_signs/")}
    assert expected <= inside  # every module and data file (expected.npz, ...) is installed
    with zipfile.ZipFile(wheel) as w:
        metadata = w.read(next(n for n in w.namelist() if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: keras" in metadata and "Requires-Dist: nbformat" in metadata


def test_building_twice_gives_the_same_zip(bundle, tmp_path):
    zip_path, _ = bundle
    build(tmp_path / "again.zip", course=ROOT / "autograder")
    assert (tmp_path / "again.zip").read_bytes() == zip_path.read_bytes()


def test_bad_zip_paths_are_one_line_errors(capsys, tmp_path):
    for bad, says in ((tmp_path / "a.tar", "must be a .zip file"), (tmp_path / "nope" / "a.zip", "does not exist")):
        assert cli.main(["gradescope", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and says in err
    assert cli.main(["gradescope", str(tmp_path / "a.zip"), "--course", str(tmp_path)]) == 2
    assert "is not a course directory" in capsys.readouterr().err


def test_the_submitted_notebook_is_found_by_name_or_as_the_only_one(tmp_path):
    assert _find_notebook(tmp_path / "missing", NOTEBOOK) == (None, f"submit {NOTEBOOK} (found: no notebook)")
    (tmp_path / "mine.ipynb").write_text("{}")
    assert _find_notebook(tmp_path, NOTEBOOK) == (tmp_path / "mine.ipynb", "")
    (tmp_path / "other.ipynb").write_text("{}")
    assert _find_notebook(tmp_path, NOTEBOOK)[1] == f"submit {NOTEBOOK} (found: mine.ipynb, other.ipynb)"
    (tmp_path / NOTEBOOK).write_text("{}")
    assert _find_notebook(tmp_path, NOTEBOOK) == (tmp_path / NOTEBOOK, "")


@pytest.mark.slow
def test_run_autograder_writes_valid_results_with_full_marks_for_the_solution(autograded):
    run = autograded["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((autograded["root"] / "results" / "results.json").read_text(encoding="utf-8"))
    assert isinstance(results["execution_time"], (int, float)) and isinstance(results["output"], str)
    assert results["visibility"] in VISIBILITIES and len(results["tests"]) == 9
    for test in results["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["name"], str) and test["visibility"] in VISIBILITIES
        assert test["score"] == test["max_score"] == 1 and test["output"].startswith("passed")
    assert results["score"] == 9 == sum(t["score"] for t in results["tests"])
    assert "score 9 / 9" in run.stdout and run.stdout.startswith("isolation: ")

"""``resnet-signs lab``: the role configs it writes, its errors, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from resnet_signs import lab
from resnet_signs.errors import CourseError, UsageError


def _read(config_dir: Path) -> tuple[dict, dict]:
    server = json.loads((config_dir / "jupyter_server_config.json").read_text())
    page = json.loads((config_dir / "labconfig" / "page_config.json").read_text())
    return server["ServerApp"]["jpserver_extensions"], page["disabledExtensions"]


def test_student_config_hides_instructor_tools(tmp_path):
    extensions, disabled = _read(lab.write_role_config("student", tmp_path))
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    assert disabled["@jupyter/nbgrader:formgrader"] is True
    assert disabled["@jupyter/nbgrader:create-assignment"] is True


def test_instructor_config_enables_formgrader(tmp_path):
    extensions, disabled = _read(lab.write_role_config("instructor", tmp_path))
    assert extensions["nbgrader.server_extensions.formgrader"] is True
    assert not any(name.startswith("@jupyter/nbgrader") for name in disabled)


def test_config_names_match_installed_nbgrader():
    """The ids we disable and the modules we enable exist in the installed nbgrader."""
    import importlib

    for role in lab.ROLES:
        for module in lab._SERVER_EXTENSIONS[role]:
            importlib.import_module(module)
    labext = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    bundle = "".join(p.read_text(errors="replace") for p in labext.glob("*.js"))
    for plugin in (p for p in lab._DISABLED_PLUGINS["student"] if p.startswith("@jupyter/nbgrader")):
        assert f'"{plugin}"' in bundle, plugin


def test_unknown_role_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown role 'teacher': choose one of student, instructor"):
        lab.write_role_config("teacher", tmp_path)


def test_bad_port_is_a_usage_error():
    with pytest.raises(UsageError, match=r"--port must be between 1 and 65535. Received: 70000"):
        lab.start("student", port=70000)


def test_missing_release_names_the_fix(tmp_path):
    with pytest.raises(CourseError, match=r"no student notebook at .*: run `make release` first"):
        lab.start("student", root=tmp_path, config_dir=tmp_path / "cfg")


def test_student_lab_serves_both_released_notebooks():
    root, start_path = lab._root_and_start("student", None)
    assert start_path == "/lab/tree/residual_networks/Residual_Networks.ipynb"
    for notebook, _ in lab.STUDENT_NOTEBOOKS:
        assert (root / notebook).is_file(), notebook


def test_instructor_needs_a_course_directory(tmp_path):
    with pytest.raises(CourseError, match="is not an nbgrader course directory"):
        lab.start("instructor", root=tmp_path, config_dir=tmp_path / "cfg")


def test_ctrl_c_stops_lab_cleanly(tmp_path):
    """The CLI prints the URL, and Ctrl-C ends it with status 0, no traceback, no server left."""
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "resnet_signs", "lab", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    lines = []
    for line in proc.stdout:  # blocks until the server answered and the URL is printed
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    url_line = next((ln for ln in lines if "?token=" in ln), None)
    assert url_line is not None, "".join(lines)
    # Both notebooks are offered: the assignment (opened first) and the optional lab.
    assert "residual_networks/Residual_Networks.ipynb" in url_line
    assert any("why_resnets_work/Why_ResNets_Work.ipynb?token=" in ln for ln in lines), "".join(lines)
    port = url_line.split("127.0.0.1:")[1].split("/")[0]
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "Traceback" not in rest
    found = subprocess.run(["pgrep", "-f", f"ServerApp.port={port}"], check=False, capture_output=True, text=True)
    assert found.stdout.strip() == "", "the Jupyter server outlived `resnet-signs lab`"


def test_a_student_can_open_each_language(tmp_path):
    assert lab.student_notebooks()[0][0] == Path("residual_networks/Residual_Networks.ipynb")
    assert [p for p, _ in lab.student_notebooks("zh-TW")] == [Path("residual_networks/zh_TW/Residual_Networks.ipynb"),
                                                              Path("why_resnets_work/zh_TW/Why_ResNets_Work.ipynb")]
    for language in ("zh_CN", "zh_TW"):
        for notebook, _ in lab.student_notebooks(language):
            assert (lab.paths.PROJECT_ROOT / lab.STUDENT_ROOT / notebook).is_file()
    with pytest.raises(UsageError, match="--lang: unknown language 'fr'"):
        lab.start("student", language="fr", config_dir=tmp_path)

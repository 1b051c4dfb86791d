"""``resnet-signs hub-config``: the files it writes, what JupyterHub reads from them, the permissions it sets,
and a one-line error for each setting that cannot work. (tests/hub/test_jupyterhub.py runs a hub on them.)"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from resnet_signs import cli, paths
from resnet_signs.errors import UsageError
from resnet_signs.hub import config

ROOT = paths.PROJECT_ROOT


@pytest.fixture()
def course(tmp_path) -> Path:
    folder = tmp_path / "course"
    (folder / "source" / "residual_networks").mkdir(parents=True)
    for name in ("nbgrader_config.py", "hidden_tests.py", "reference.py"):
        shutil.copy(ROOT / "autograder" / name, folder / name)
    (folder / "source" / "residual_networks" / "Residual_Networks.ipynb").write_text("{}")
    return folder


def hub_course(course: Path, tmp_path: Path, **overrides) -> config.HubCourse:
    values = dict(course_dir=course, exchange=tmp_path / "exchange", course_id="resnet_signs", instructors=("ann",),
                  students=("bo", "cy"), unix_group="resnet_signs-instructors", feedback_on_submit=True,
                  data_dir=tmp_path / "data")
    return config.HubCourse(**{**values, **overrides})


def load_hub_config(snippet: Path):
    """What JupyterHub 6 makes of the hub's config file including the generated one."""
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import PAMAuthenticator
    from jupyterhub.spawner import LocalProcessSpawner

    main = snippet.parent / "site_config.py"
    main.write_text("c = get_config()\nc.Authenticator.allowed_users = {'admin'}\n"
                    f"load_subconfig({str(snippet)!r})\n")
    app = JupyterHub()
    app.load_config_file(str(main))
    return app, PAMAuthenticator(config=app.config), LocalProcessSpawner(config=app.config)


def test_the_generated_jupyterhub_config_declares_groups_roles_and_the_service(course, tmp_path):
    pytest.importorskip("jupyterhub", reason="JupyterHub is the [hub] extra: make install")
    out = tmp_path / "out"
    config.write(hub_course(course, tmp_path), out)
    app, auth, spawner = load_hub_config(out / "jupyterhub_config.py")
    assert app.load_groups == {"formgrade-resnet_signs": {"users": ["ann"]},
                               "nbgrader-resnet_signs": {"users": ["bo", "cy"]}}
    assert auth.allowed_users == {"admin", "ann", "bo", "cy"}  # the site's own users are kept
    [role] = app.load_roles
    assert role["groups"] == ["formgrade-resnet_signs"] and set(role["scopes"]) == {"list:services", "read:services"}
    [service] = app.services
    assert service["user"] == "ann" and service["command"][1:] == [
        "watch", "--course", str(course), "--exchange", str(tmp_path / "exchange"), "--release-feedback"]
    assert spawner.disable_user_config and spawner.cmd == [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]

    def spawned(groups):
        fake = SimpleNamespace(user=SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups]), environment={},
                               notebook_dir="")
        spawner.pre_spawn_hook(fake)
        return fake, spawner.server_token_scopes(fake)

    teacher, teacher_scopes = spawned(["formgrade-resnet_signs"])
    student, student_scopes = spawned(["nbgrader-resnet_signs"])
    assert teacher.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(out / "jupyter" / "instructor")
    assert teacher.environment[paths.COURSE_ENV] == str(course) and teacher.notebook_dir == str(course)
    assert student.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(out / "jupyter" / "student")
    assert paths.COURSE_ENV not in student.environment and student.notebook_dir == ""
    assert {"list:services", "read:services"} <= set(teacher_scopes)
    assert "list:services" not in student_scopes and "read:users:groups!user" in student_scopes


def test_roles_get_their_extensions_and_only_instructors_may_be_framed(course, tmp_path):
    out = tmp_path / "out"
    config.write(hub_course(course, tmp_path), out)
    student = json.loads((out / "jupyter" / "student" / "labconfig" / "page_config.json").read_text())
    assert student["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    assert student["disabledExtensions"]["@jupyter/nbgrader:create-assignment"] is True
    server = json.loads((out / "jupyter" / "student" / "jupyter_server_config.json").read_text())["ServerApp"]
    assert server["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    assert "tornado_settings" not in server
    teacher = json.loads((out / "jupyter" / "instructor" / "jupyter_server_config.json").read_text())["ServerApp"]
    assert teacher["tornado_settings"]["headers"]["Content-Security-Policy"] == "frame-ancestors 'self'"
    common = (out / "jupyter" / "common" / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {str(tmp_path / 'exchange')!r}" in common and "JupyterHubAuthPlugin" in common
    assert str(course / "nbgrader_config.py") in (out / "jupyter" / "instructor" / "nbgrader_config.py").read_text()
    assert all(stat.S_IMODE(p.stat().st_mode) in (0o644, 0o755) for p in out.rglob("*"))  # every user reads them


def test_grade_on_submit_runs_the_service_without_releasing(course, tmp_path):
    out = tmp_path / "out"
    config.write(hub_course(course, tmp_path, feedback_on_submit=False, grade_on_submit=True), out)
    snippet = (out / "jupyterhub_config.py").read_text()
    assert '"watch"' in snippet and "--release-feedback" not in snippet
    config.write(hub_course(course, tmp_path, feedback_on_submit=False), out)
    assert "c.JupyterHub.services" not in (out / "jupyterhub_config.py").read_text()


@pytest.mark.parametrize(("csp", "host", "subdomain", "framed"), [
    ("subdomain", "https://hub.example.org", True, True),
    ("none", None, False, False),
])  # fmt: skip
def test_the_other_csp_choices(course, tmp_path, csp, host, subdomain, framed):
    out = tmp_path / "out"
    config.write(hub_course(course, tmp_path, csp=csp, subdomain_host=host), out)
    snippet = (out / "jupyterhub_config.py").read_text()
    assert ("c.JupyterHub.subdomain_host = 'https://hub.example.org'" in snippet) is subdomain
    teacher = json.loads((out / "jupyter" / "instructor" / "jupyter_server_config.json").read_text())["ServerApp"]
    assert ("tornado_settings" in teacher) is framed


def test_permissions_close_the_course_to_everyone_but_its_group(course, tmp_path):
    (course / "gradebook.db").write_text("")
    (course / "gradebook.db").chmod(0o644)
    gid = os.getgid()
    config.apply_permissions(hub_course(course, tmp_path), gid)
    for path in (course, *course.rglob("*")):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert path.stat().st_gid == gid and not mode & 0o007, (path, oct(mode))
        assert mode == (0o2770 if path.is_dir() else 0o660), (path, oct(mode))
    assert stat.S_IMODE((tmp_path / "exchange").stat().st_mode) == 0o1777


def test_users_and_group_are_checked(course, tmp_path):
    me = pwd.getpwuid(os.getuid()).pw_name
    my_group = grp.getgrgid(os.getgid()).gr_name
    with pytest.raises(UsageError, match="no Unix group 'no-such-group'"):
        config.check_users(hub_course(course, tmp_path, unix_group="no-such-group", instructors=(me,)))
    with pytest.raises(UsageError, match="instructor 'no-such-user-x' is not a Unix user"):
        config.check_users(hub_course(course, tmp_path, unix_group=my_group, instructors=("no-such-user-x",)))
    with pytest.raises(UsageError, match=f"student {me!r} is in the Unix group"):
        config.check_users(hub_course(course, tmp_path, unix_group=my_group, instructors=(me,), students=(me,)))
    assert config.check_users(hub_course(course, tmp_path, unix_group=my_group, instructors=(me,),
                                         students=())) == os.getgid()


@pytest.mark.parametrize(("extra", "message"), [
    (["--instructors", "Ann"], "'Ann' is not a user name"),
    (["--instructors", "ann", "--students", "ann"], "ann cannot be both instructor and student"),
    (["--instructors", "ann", "--csp", "subdomain"], "--csp subdomain needs --subdomain-host"),
    (["--instructors", "ann", "--grader-user", "bo"], "--grader-user 'bo' must be one of the instructors"),
    (["--instructors", "ann,ann"], "--instructors names someone twice"),
])  # fmt: skip
def test_bad_settings_are_one_line_errors_and_write_nothing(course, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    argv = ["hub-config", "--course-dir", str(course), "--exchange", str(tmp_path / "exchange"), "--out", str(out),
            "--no-permissions", *extra]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_a_folder_that_is_not_a_course_is_refused(tmp_path, capsys):
    argv = ["hub-config", "--course-dir", str(tmp_path), "--exchange", str(tmp_path / "x"), "--instructors", "ann",
            "--out", str(tmp_path / "out")]
    assert cli.main(argv) == 2
    assert "is not a course directory" in capsys.readouterr().err

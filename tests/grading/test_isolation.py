"""The sandbox's walls, probed from inside with plain Python (no TensorFlow: each case is ~0.1 s).

Every backend that works on this machine is tested; one that does not is skipped saying why
(CI installs bubblewrap, so both run there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from resnet_signs import paths
from resnet_signs.errors import UsageError
from resnet_signs.grading import api, isolation, runner

PROBE = textwrap.dedent(r"""
    import json, os, socket, sys
    course, package, outside = sys.argv[1:4]
    seen = {}
    seen["course_listed"] = os.path.exists(course) and bool(os.listdir(course))
    seen["reference_readable"] = os.path.exists(os.path.join(course, "reference.py"))
    seen["package_readable"] = os.path.exists(os.path.join(package, "checks", "expected.json"))
    try:
        open("written.txt", "w").write("ok"); seen["work_writable"] = True
    except OSError:
        seen["work_writable"] = False
    try:
        open(os.path.join(package, "planted.py"), "w").write("x = 1"); seen["package_writable"] = True
    except OSError:
        seen["package_writable"] = False
    try:
        open(outside, "w").write("x"); seen["outside_writable"] = True
    except OSError:
        seen["outside_writable"] = False
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close(); seen["network"] = True
    except OSError:
        seen["network"] = False
    seen["sees_parent"] = os.path.exists(f"/proc/{os.getppid()}/cmdline") and os.getppid() > 1 and os.getpid() > 10
    import resnet_signs.grading.sandbox  # the sandbox module itself imports inside the walls
    print(json.dumps(seen))
""")


def _backends():
    for name in ("bwrap", "unshare"):
        works = isolation.works(name)
        mark = [] if works else [pytest.mark.skip(reason=f"{name} does not work here: {isolation.why_not(name)}")]
        yield pytest.param(name, marks=mark)


def _run_inside(name: str, tmp_path: Path, code: str, *args: str, hide=()) -> subprocess.CompletedProcess:
    sandbox = tmp_path / "sandbox"
    (sandbox / "work").mkdir(parents=True)
    argv = isolation._WRAPPERS[name]([sys.executable, "-c", code, *args], sandbox, hide)
    return subprocess.run(argv, cwd=sandbox / "work", capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(sandbox)})


@pytest.mark.parametrize("name", _backends())
def test_the_child_sees_the_package_but_not_the_course(name, tmp_path):
    import resnet_signs

    course = paths.course_dir()
    assert (course / "reference.py").exists()  # the answer is there, outside the walls
    outside = tmp_path / "outside.txt"
    result = _run_inside(name, tmp_path, PROBE, str(course), str(Path(resnet_signs.__file__).parent), str(outside))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    seen.pop("outside_writable")  # bwrap gives a throwaway /tmp: what counts is the real file below
    assert seen == {"course_listed": False, "reference_readable": False, "package_readable": True,
                    "work_writable": True, "package_writable": False,
                    "network": False, "sees_parent": False}
    assert (tmp_path / "sandbox" / "work" / "written.txt").read_text() == "ok"
    assert not outside.exists()


@pytest.mark.parametrize("name", _backends())
def test_a_course_elsewhere_is_hidden_too(name, tmp_path):
    course = tmp_path / "other-course"
    course.mkdir()
    (course / "reference.py").write_text("ANSWER = 42\n")
    code = "import os, sys; print(os.path.exists(os.path.join(sys.argv[1], 'reference.py')))"
    result = _run_inside(name, tmp_path, code, str(course), hide=(course,))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("name", _backends())
def test_a_signal_that_kills_the_child_comes_back_as_its_status(name, tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "backend", lambda: name)
    result = _run_inside(name, tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert isolation.exit_signal(result.returncode) == 11


needs_cgroup = pytest.mark.skipif(not isolation.ProcessLimit.available(),
                                  reason="no writable pids cgroup on this machine")


@needs_cgroup
def test_a_fork_bomb_hits_the_process_cap_and_nothing_survives(tmp_path):
    limit = isolation.ProcessLimit.create()
    bomb = ("import os, time\n"
            "n = 0\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            os.setsid(); time.sleep(300); os._exit(0)\n"
            "        n += 1\n"
            "except OSError as e:\n"
            "    print('refused after', n, e.errno, flush=True)\n"
            "time.sleep(300)\n")
    proc = subprocess.Popen(limit.enter([sys.executable, "-c", bomb]), stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("refused after"), line
    assert int(line.split()[2]) < isolation.MAX_PIDS
    pids = limit.pids()
    assert len(pids) > 10
    limit.kill_all()
    proc.wait(timeout=10)
    time.sleep(0.2)
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not limit.path.exists()


def test_a_detached_grandchild_is_killed_without_namespace_or_cgroup(tmp_path, monkeypatch):
    """The last line of defence: this process is a subreaper; orphans with the sandbox's HOME die."""
    sandbox = tmp_path / "sandbox"
    (sandbox / "home").mkdir(parents=True)
    runner._become_subreaper()
    if not runner._subreaper:
        pytest.skip("prctl(PR_SET_CHILD_SUBREAPER) unavailable")
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        print(os.getpid(), flush=True); time.sleep(300)\n"
            "    os._exit(0)\n"
            "time.sleep(0.5)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={"HOME": str(sandbox / "home"), "PATH": "/usr/bin:/bin"})
    orphan = int(proc.stdout.readline())
    proc.wait(timeout=30)
    proc.stdout.close()
    assert psutil.Process(orphan).ppid() == os.getpid()  # re-parented to us, alive
    runner._reap_orphans(sandbox)
    assert not psutil.pid_exists(orphan)


def test_a_forced_backend_must_be_known(monkeypatch):
    monkeypatch.setenv("RESNET_SIGNS_ISOLATION", "chroot")
    isolation.backend.cache_clear()
    try:
        with pytest.raises(UsageError, match="RESNET_SIGNS_ISOLATION must be one of bwrap, unshare, none"):
            api._check_isolation(False)
    finally:
        isolation.backend.cache_clear()


def test_require_isolation_refuses_to_grade_without_namespaces(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_SIGNS_ISOLATION", "none")
    isolation.backend.cache_clear()
    try:
        api._check_isolation(False)  # allowed, and said: the summary names what is missing
        assert isolation.summary().startswith("isolation: NONE")
        submissions = tmp_path / "subs"
        (submissions / "alice").mkdir(parents=True)
        result = subprocess.run([sys.executable, "-m", "resnet_signs", "grade", str(submissions),
                                 "--out", str(tmp_path / "out"), "--require-isolation"],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "RESNET_SIGNS_ISOLATION": "none"})
    finally:
        isolation.backend.cache_clear()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--require-isolation: no namespaces for the sandbox" in lines[0], result.stderr

"""The sandbox's walls, probed from inside with plain Python (no TensorFlow: each case is ~0.1 s).

Every backend that works on this machine is tested; one that does not is skipped saying why
(CI installs bubblewrap, so both run there).
"""

from __future__ import annotations

import json
import os
import shutil
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


#: Walks the child's whole filesystem (but the pseudo-filesystems and the folders it may read) and
#: lists every file found: nothing of the machine may exist in there but what the view binds.
WALK = textwrap.dedent(r"""
    import json, os, sys
    allowed = set(sys.argv[1:])
    found = []
    for folder, dirs, files in os.walk("/"):
        if folder in ("/proc", "/sys", "/dev"):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in allowed]
        found += [os.path.join(folder, f) for f in files]
    print(json.dumps(found))
""")

#: What a student running as the grader's user (root here) could change on the machine.
WALLS = textwrap.dedent(r"""
    import glob, json, os
    seen = {}
    def writable(path):
        try:
            with open(path, "r+b"):  # opened for writing, nothing written
                return True
        except OSError:
            return False
    seen["cgroup_procs"] = [p for p in glob.glob("/sys/fs/cgroup/**/cgroup.procs", recursive=True) if writable(p)]
    seen["sysctl"] = [p for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/swappiness") if writable(p)]
    seen["root_or_dev"] = []
    for folder in ("/", "/dev", "/usr", "/etc"):
        try:
            open(os.path.join(folder, "planted"), "w").close()
            seen["root_or_dev"].append(folder)
        except OSError:
            pass
    def fill(path):
        try:
            with open(path, "wb") as f:
                for _ in range(80):
                    f.write(b"x" * (1 << 20))
            return "unbounded"
        except OSError as exc:
            return exc.strerror
        finally:
            if os.path.exists(path):
                os.remove(path)
    seen["tmp_80mb"], seen["shm_80mb"] = fill("/tmp/fill"), fill("/dev/shm/fill")
    print(json.dumps(seen))
""")


def _backends():
    for name in ("bwrap", "unshare"):
        works = isolation.works(name)
        mark = [] if works else [pytest.mark.skip(reason=f"{name} does not work here: {isolation.why_not(name)}")]
        yield pytest.param(name, marks=mark)


def _run_inside(name: str, tmp_path: Path, code: str, *args: str, hide=()) -> subprocess.CompletedProcess:
    sandbox = tmp_path / "sandbox"
    (sandbox / "work").mkdir(parents=True, exist_ok=True)
    argv = isolation._WRAPPERS[name]([sys.executable, "-c", code, *args], sandbox, hide)
    return subprocess.run(argv, cwd=sandbox / "work", check=False, capture_output=True, text=True, timeout=60,
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


@pytest.fixture
def classmates(tmp_path):
    """A classmate's notebook wherever one may lie while grading runs: another worker's grading folder,
    another zygote's sandbox, the submissions folder next to ours, /var/tmp, the home directory."""
    import tempfile

    folders = [Path(tempfile.mkdtemp(prefix="resnet-signs-grade-")),
               Path(tempfile.mkdtemp(prefix="resnet-signs-zygote-")),
               Path(tempfile.mkdtemp(prefix="resnet-signs-probe-", dir="/var/tmp"))]
    planted = [folders[0] / "submission" / "submission.ipynb",
               folders[1] / "s-0123456789ab" / "work" / "classmate.ipynb",
               folders[2] / "alice.ipynb", tmp_path / "submitted" / "alice" / "Residual_Networks.ipynb",
               Path.home() / f".resnet-signs-probe-{os.getpid()}.ipynb"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"cells": [{"source": "def identity_block(X, f, filters): ..."}]}')
    yield planted
    planted[-1].unlink()
    for folder in folders:
        shutil.rmtree(folder)


@pytest.mark.parametrize("name", _backends())
def test_nothing_of_the_machine_is_there_but_the_environment_the_package_the_data_and_its_folder(
        name, tmp_path, classmates):
    sandbox = (tmp_path / "sandbox").resolve()
    (sandbox / "work" / "own.ipynb").parent.mkdir(parents=True)
    (sandbox / "work" / "own.ipynb").write_text("{}")
    allowed = ["/usr", "/etc", *map(str, isolation.visible_folders()), str(sandbox)]
    result = _run_inside(name, tmp_path, WALK, *allowed)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []  # not even the classmates' notebooks planted outside
    assert all(path.exists() for path in classmates)


@pytest.mark.parametrize("name", _backends())
def test_the_child_can_change_nothing_of_the_machine_and_its_temporary_folders_are_small(name, tmp_path):
    """It runs as the grader's user (root here) in its user namespace: what a real uid 0 could
    write must be read-only in there, and its in-memory folders bounded."""
    limit = isolation.ProcessLimit.create()
    try:
        sandbox = tmp_path / "sandbox"
        (sandbox / "work").mkdir(parents=True)
        argv = isolation._WRAPPERS[name]([sys.executable, "-c", WALLS], sandbox)
        result = subprocess.run(limit.enter(argv) if limit else argv, cwd=sandbox / "work", check=False,
                                capture_output=True,
                                text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(sandbox)})
    finally:
        if limit:
            limit.kill_all()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"cgroup_procs": [], "sysctl": [], "root_or_dev": [],
                                         "tmp_80mb": "No space left on device", "shm_80mb": "No space left on device"}


def test_a_link_left_in_the_sandbox_does_not_change_what_the_next_child_sees(tmp_path):
    """An earlier child of the same submission may leave anything in its folder, where the unshare
    fallback builds the next child's root."""
    if not isolation.works("unshare"):
        pytest.skip(f"unshare does not work here: {isolation.why_not('unshare')}")
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / ".root").symlink_to("/")
    course = paths.course_dir()
    code = "import os, sys; print(os.path.exists(os.path.join(sys.argv[1], 'reference.py')), os.listdir('/'))"
    result = _run_inside("unshare", tmp_path, code, str(course))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False") and not (tmp_path / "sandbox" / ".root").exists()


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
                                check=False, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "RESNET_SIGNS_ISOLATION": "none"})
    finally:
        isolation.backend.cache_clear()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--require-isolation: no namespaces for the sandbox" in lines[0], result.stderr


LEAVE_PROCESSES = textwrap.dedent(r"""
    import os, sys, time
    for _ in range(20):
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
    read_end, write_end = os.pipe()
    if os.fork() == 0:  # detached and orphaned: found by its namespace, not as a descendant
        os.setsid()
        if os.fork() == 0:
            os.dup2(os.open(os.devnull, os.O_RDWR), 1)
            os.dup2(1, 2)
            os.write(write_end, str(os.getpid()).encode())
            time.sleep(300)
            os._exit(0)
        os._exit(0)
    orphan = os.read(read_end, 20).decode()
    from resnet_signs.grading import strays
    own_namespace = sys.argv[1] == "namespace"
    killed, remaining = strays.end(own_namespace)
    print(killed, remaining, len(strays.left(own_namespace)), orphan)
""")


@pytest.mark.parametrize("name", _backends())
def test_what_a_step_left_is_killed_and_reaped_in_the_sandbox(name, tmp_path):
    result = _run_inside(name, tmp_path, LEAVE_PROCESSES, "namespace")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["21", "0", "0"]  # 20 children and the orphan (its parent exited)


def test_without_a_namespace_only_descendants_are_killed(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    result = subprocess.run([sys.executable, "-c", LEAVE_PROCESSES, "descendants"], check=False, capture_output=True,
                            text=True,
                            timeout=60, cwd=paths.PROJECT_ROOT)
    try:
        assert result.returncode == 0, result.stderr
        killed, remaining, left, orphan = map(int, result.stdout.split())
        assert (killed, remaining, left) == (20, 0, 0)  # the orphan is the runner's business (a subreaper)
        assert bystander.poll() is None and psutil.pid_exists(orphan)
    finally:
        bystander.kill()
        bystander.wait()
        if result.stdout.split():
            os.kill(int(result.stdout.split()[-1]), 9)


FILL_THE_CAP = textwrap.dedent(r"""
    import os, time
    room = int(os.environ["ROOM"]) - len(os.listdir("/proc/self/task"))
    for _ in range(room):  # sleepers up to just under the point where the runner stops the child
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
""")
START_THREADS = textwrap.dedent(r"""
    import threading, time
    threads = [threading.Thread(target=time.sleep, args=(0.5,)) for _ in range(128)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("all threads started")
""")


@needs_cgroup
@pytest.mark.slow
@pytest.mark.parametrize("name", _backends())
def test_a_step_that_filled_the_process_cap_costs_the_next_step_nothing(name, tmp_path, monkeypatch):
    """The processes a step leaves are gone before the next step starts (issue 19: the fork bomb's
    sleepers made the next function's threads fail, and that function paid)."""
    from resnet_signs.grading.channel import EventKind
    from resnet_signs.grading.model import Limits, Status
    from resnet_signs.grading.plan import ChildPlan, Step, StepKind

    monkeypatch.setattr(isolation, "backend", lambda: name)
    monkeypatch.setenv("RESNET_SIGNS_ZYGOTE", "0")  # one child started directly: no zygote for two steps
    sandbox = tmp_path / "sandbox"
    for sub in ("work", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True)
    env = {**runner.child_env(sandbox), "ROOM": str(runner.PROCESS_KILL - 60)}
    plan = ChildPlan((Step(StepKind.CODE, 0, "identity_block", FILL_THE_CAP),
                      Step(StepKind.CODE, 1, "convolutional_block", START_THREADS)), {}, {}, Limits(),
                     runner.MAX_FILE_BYTES)
    output = runner.Output(Limits().output_bytes)
    attempt = runner.run_child(plan, sandbox=sandbox, env=env, limits=Limits(), deadline=time.monotonic() + 120,
                               output=output)
    ends = {e.step: (e.status, e.detail) for e in attempt.events if e.kind is EventKind.END}
    assert attempt.finished and attempt.killed is None, (attempt.killed, ends, output.text())
    assert ends[1] == (Status.OK, "") and "all threads started" in output.text()
    assert ends[0][0] is Status.OK and ends[0][1].startswith("left ") and "killed before the next step" in ends[0][1]

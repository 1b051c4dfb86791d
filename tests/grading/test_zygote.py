"""The zygote: forked children start clean, get their own folder and environment, cannot reach
into the zygote, and a dead zygote is replaced. One zygote (one TensorFlow import) for the module."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from resnet_signs import paths
from resnet_signs.grading import channel, isolation, runner, zygote
from resnet_signs.grading.model import Limits, Status
from resnet_signs.grading.plan import ChildPlan, Step, StepKind

PROBE = r"""
import json, os, tempfile, sys
zygote = os.getppid()
report = {"zygote_cmdline": open(f"/proc/{zygote}/cmdline").read().replace("\0", " "), "home": os.environ["HOME"],
          "tmp": tempfile.gettempdir(), "cwd": os.getcwd(),
          "tf_loaded": "tensorflow" in sys.modules, "course_env": "RESNET_SIGNS_COURSE" in os.environ,
          "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
try:
    open(f"/proc/{zygote}/mem", "rb").read(1); report["zygote_memory"] = True
except OSError:
    report["zygote_memory"] = False
try:
    os.readlink(f"/proc/{zygote}/fd/0"); report["zygote_fds"] = True
except OSError:
    report["zygote_fds"] = False
print("PROBE " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def server():
    env = runner.child_env(Path("/unused"))
    server = zygote.Zygote(env, (paths.course_dir(),))
    yield server
    server.close()


def _plan(code: str) -> ChildPlan:
    return ChildPlan((Step(StepKind.CODE, 0, None, code),), {}, {}, Limits(), runner.MAX_FILE_BYTES)


def _run(server, code: str) -> tuple[int, str]:
    sandbox = server.sandbox()
    for sub in ("work", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True)
    plan = _plan(code)
    read_end, write_end = os.pipe()
    try:
        child = runner._fork(server, sandbox, runner.child_env(sandbox), write_end, None)
    finally:
        os.close(write_end)
    reader = channel.Reader(read_end).start()
    child.stdin.write(json.dumps(plan.to_json()).encode())
    child.stdin.close()
    output = child.stdout.read().decode()
    child.stdout.close()
    code = child.wait()
    reader.join(timeout=5)
    return code, output, sandbox


def test_a_forked_child_gets_its_own_folder_and_environment(server):
    code, output, sandbox = _run(server, PROBE)
    assert code == 0, output
    report = json.loads(output.split("PROBE ", 1)[1].splitlines()[0])
    assert report["home"] == str(sandbox / "home") and report["tmp"] == str(sandbox / "tmp")
    assert report["cwd"] == str(sandbox / "work")
    assert report["tf_loaded"] and not report["course_env"]
    assert report["cuda_visible_devices"] == "-1"  # no GPU for student code on a shared server (devices.py)
    assert "resnet_signs.grading.zygote" in report["zygote_cmdline"]  # the pid probed below is the zygote's
    assert not report["zygote_memory"] and not report["zygote_fds"]  # the zygote is not dumpable


def test_a_module_one_child_plants_in_the_zygote_folder_is_not_imported_by_the_next(server):
    """Every child of a zygote can write what the zygote can (its folder, its /tmp): nothing there may be
    on the next student's import path, where ``python -m`` put the zygote's working folder."""
    if isolation.backend() == "none":
        pytest.skip("without isolation a child can write the environment itself")
    plant = ("import os, sys\n"
             "folder = os.path.dirname(os.path.dirname(os.getcwd()))  # <zygote folder>/s-.../work\n"
             "for entry in [*sys.path, os.path.join(folder, 'work')]:\n"
             "    try:\n"
             "        open(os.path.join(entry or '.', 'planted_by_a_classmate.py'), 'w').write('print(\"PLANTED\")')\n"
             "    except OSError:\n"
             "        pass\n")
    try:
        code, output, _ = _run(server, plant)
        assert code == 0, output
        code, output, _ = _run(server,
                               "try:\n    import planted_by_a_classmate\nexcept ImportError:\n    print('PROBE clean')")
        assert code == 0 and "PROBE clean" in output and "PLANTED" not in output, output
    finally:  # were the walls broken, the plant would be in this environment: never leave it there
        for entry in [*sys.path, str(server.root / "work")]:
            Path(entry or ".", "planted_by_a_classmate.py").unlink(missing_ok=True)


def test_a_child_that_kills_the_zygote_ends_its_own_run_and_the_next_gets_a_new_zygote(server):
    code, output, _ = _run(server, "import os, signal; os.kill(os.getppid(), signal.SIGKILL)")
    for _ in range(50):
        if not server.alive():
            break
        time.sleep(0.1)
    assert not server.alive()
    env = runner.child_env(Path("/unused"))
    fresh = zygote.shared(env, (paths.course_dir(),))
    try:
        assert fresh is not server and fresh.alive()
        code, output, _ = _run(fresh, "print('PROBE ok')")
        assert code == 0 and "PROBE ok" in output
    finally:
        fresh.close()
        zygote._current = None


def test_a_folder_chosen_under_a_zygote_that_dies_before_the_child_starts_still_gets_its_child(tmp_path):
    hide = (paths.course_dir(),)
    try:
        sandbox = runner.sandbox_folder(tmp_path, runner.child_env(tmp_path / "unused"), hide)
        old = zygote._current
        assert old is not None and sandbox.is_relative_to(old.root)
        for sub in ("work", "home", "tmp"):
            (sandbox / sub).mkdir(parents=True)
        old.proc.kill()
        old.proc.wait()
        plan = _plan("print('PROBE ok')")
        output = runner.Output(Limits().output_bytes)
        attempt = runner.run_child(plan, sandbox=sandbox, env=runner.child_env(sandbox), limits=Limits(),
                                   deadline=time.monotonic() + 120, output=output, hide=hide)
        assert attempt.finished and "PROBE ok" in output.text()
    finally:
        if zygote._current is not None:
            zygote._current.close()
            zygote._current = None


FLOOD = r"""
import os, stat
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
            for _ in range(64):
                os.write(fd, b"z" * (1 << 16))
    except OSError:
        pass
"""


def test_a_child_that_floods_the_report_channel_is_stopped_and_its_step_charged(tmp_path, monkeypatch):
    """Past MAX_TOTAL bytes the reader stops; the runner stops the child and says why (``Kill.CHANNEL``),
    charging the step that was running, instead of losing its events silently."""
    monkeypatch.setattr(channel, "MAX_TOTAL", 1 << 20)  # the flood writes 4 MiB
    hide = (paths.course_dir(),)
    try:
        sandbox = runner.sandbox_folder(tmp_path, runner.child_env(tmp_path / "unused"), hide)
        for sub in ("work", "home", "tmp"):
            (sandbox / sub).mkdir(parents=True)
        plan = ChildPlan((Step(StepKind.CODE, 0, None, "x = 1"), Step(StepKind.CODE, 1, None, FLOOD),
                          Step(StepKind.CODE, 2, None, "print('after')")), {}, {}, Limits(), runner.MAX_FILE_BYTES)
        output = runner.Output(Limits().output_bytes)
        attempt = runner.run_child(plan, sandbox=sandbox, env=runner.child_env(sandbox), limits=Limits(),
                                   deadline=time.monotonic() + 120, output=output, hide=hide)
        assert attempt.killed is runner.Kill.CHANNEL and attempt.running == 1 and not attempt.finished
        assert attempt.status is Status.ERROR and "after" not in output.text()
    finally:
        if zygote._current is not None:
            zygote._current.close()
            zygote._current = None

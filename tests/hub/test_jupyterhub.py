"""The course on a real JupyterHub, driven through Debian's Chromium: the README's JupyterHub recipe, run.

As root, the test creates throwaway Unix users (an instructor, a student who gets everything right,
one with a mistake in ``convolutional_block``), runs ``resnet-signs hub-config`` for them (with the
feedback-on-submit service) and starts JupyterHub 6 on 127.0.0.1: PAM logins, the
LocalProcessSpawner, configurable-http-proxy, nbgrader's exchange. Then, in the browser:

1. the instructor releases the assignment from the formgrader panel inside JupyterLab;
2. each student fetches it, completes it (its answer cells from a sample), runs it and reads the
   public check, presses Validate, submits, and, as soon as the watch service has released it,
   fetches the feedback and opens it (the time from the Submit click is measured);
3. the instructor collects, grades with ``resnet-signs grade`` (which reuses the service's grades),
   sees both totals in the formgrader panel, and generates and releases the feedback there.

One economy: the assignment is the course's own, cut to its graded cells and their setup
(tests/hub/courses.py: nbgrader's Validate runs every cell, about 3 minutes for the whole notebook on
2 cores). The grader, the hidden tests and the sample answers are the real ones. (This test replaced
tests/grading/test_nbgrader_exchange.py, the same chain with one user playing both roles.) Everything
the test starts is stopped by pid, and the users, their group and their folders removed, also when a
step fails (tests/hub/machine.py). Screenshots
go to tests/output/hub/ (`make screenshots` copies two to docs/screenshots/); the measured times to
tests/output/hub/timings.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from resnet_signs import cli, paths

from . import courses, machine
from .courses import ASSIGNMENT, NOTEBOOK

pytestmark = [pytest.mark.hub, pytest.mark.slow]

OUTPUT = paths.PROJECT_ROOT / "tests" / "output" / "hub"
#: Each student's answers come from a sample submission: what they should score, and whether the
#: public check of convolutional_block shows a hint.
STUDENTS = {"right": "solution", "wrong": "conv-shortcut-wrong-stride"}
WAIT_MS = 180_000
#: Opening the Nbgrader menu: tries, and how long each waits for the item to show.
MENU_TRIES, MENU_WAIT_MS = 6, 10_000


def complete(notebook: Path, sample: str, owner: machine.User) -> None:
    """Fill the fetched notebook's answer cells from the sample's, as the student would (their file)."""
    nb = courses.with_answers(json.loads(notebook.read_text(encoding="utf-8")), sample)
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    os.chown(notebook, owner.uid, pwd.getpwnam(owner.name).pw_gid)


@dataclass
class Site:
    """The hub and its users, as the fixture set them up."""

    hub: machine.Hub
    base: Path
    course: Path
    exchange: Path
    teacher: machine.User
    students: dict[str, machine.User]
    started: float


@pytest.fixture(scope="module")
def site(browser):
    """Throwaway users, the generated configuration, a running hub; all removed afterwards.

    Asks for the shared ``browser`` first, so that a missing Chromium skips before any hub starts.
    """
    reason = machine.missing()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    uids = []
    with contextlib.ExitStack() as stack:
        base = Path(tempfile.mkdtemp(prefix="resnet-signs-hub-", dir="/tmp"))
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        stack.callback(keep_logs, base)
        base.chmod(0o755)
        tag = secrets.token_hex(2)
        group = machine.add_group(stack, f"rsh{tag}-teachers")
        teacher = machine.add_user(stack, f"rsh{tag}-teacher", base / "home", (group,))
        students = {role: machine.add_user(stack, f"rsh{tag}-{role}", base / "home") for role in STUDENTS}
        uids = [user.uid for user in (teacher, *students.values())]
        machine.open_for_others(stack, [Path(sys.executable).resolve(), Path(sys.prefix), paths.PROJECT_ROOT,
                                        paths.data_dir()])
        blocked = machine.unreadable(teacher,
                                     [Path(sys.executable).resolve(), machine.VENV_BIN / "jupyterhub-singleuser",
                                               paths.PROJECT_ROOT / "resnet_signs" / "__init__.py",
                                               paths.data_dir() / "train_signs.h5"])
        if blocked:
            pytest.skip(f"other users cannot read {', '.join(map(str, blocked))}: the hub's users run this environment")
        course, exchange = courses.make_course(base / "course"), base / "exchange"
        for path in (course, *course.rglob("*")):
            os.chown(path, teacher.uid, -1)
        assert cli.main(["hub-config", "--course-dir", str(course), "--exchange", str(exchange),
                         "--instructors", teacher.name, "--students", ",".join(u.name for u in students.values()),
                         "--unix-group", group, "--out", str(base / "conf"), "--feedback-on-submit"]) == 0
        hub = machine.start_hub(stack, base / "hub", base / "conf" / "jupyterhub_config.py")
        yield Site(hub, base, course, exchange, teacher, students, started)
    leftovers = machine.kill_processes(lambda p: p.uids().real in uids)
    assert not leftovers, f"processes of the throwaway users outlived the hub: {leftovers}"


def keep_logs(base: Path) -> None:
    """The hub's log (the watch service's lines included) and the grading worker's, for a failure's post-mortem."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for log, name in ((base / "hub" / "jupyterhub.log", "jupyterhub.log"),
                      (base / "course" / ".watch" / "worker.log", "worker.log")):
        if log.is_file():
            shutil.copyfile(log, OUTPUT / name)


def login(browser, site: Site, user: machine.User):
    """A browser context of ``user``'s own, logged in through the hub's PAM form, on a fresh JupyterLab."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{site.hub.url}/hub/login")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user.name}/lab**")
    page.goto(f"{site.hub.url}/user/{user.name}/lab?reset")  # no tab from an earlier visit
    page.get_by_role("menuitem", name="Nbgrader", exact=True).wait_for()
    return page


def open_panel(page, item: str) -> None:
    """Nbgrader menu → ``item`` (Assignment List, Course List, Formgrader).

    A click on the menu bar toggles the menu: on a busy machine it can land while the menu is still
    open or still closing (an Escape not yet handled), and the item never shows. So the menu is
    opened only while the item is hidden, and again until the item shows.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    entry = page.locator("#jp-mainmenu-nbgrader").get_by_text(item, exact=True)
    for _ in range(MENU_TRIES):
        if not entry.is_visible():
            page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        try:
            entry.wait_for(state="visible", timeout=MENU_WAIT_MS)
        except PlaywrightTimeout:
            continue
        entry.click()
        return
    raise AssertionError(f"the Nbgrader menu did not show {item!r} in {MENU_TRIES} tries")


def formgrader_action(panel, column: str) -> str:
    """Click the assignment's button in formgrader's ``column`` (assign, release, collect,
    generate-feedback, release-feedback) and close the result dialog; its text."""
    row = panel.locator("tr", has_text=ASSIGNMENT).first
    row.locator(f"td.{column} a").click()
    dialog = panel.locator(".modal-dialog").first
    dialog.get_by_text("Log Output").wait_for()
    text = dialog.inner_text()
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="hidden")
    return text


@dataclass
class Student:
    """What one student saw."""

    menu: str = ""
    create_assignment: int = 0  # the "Create Assignment" side panel's tabs on the page
    csp: str = ""
    check: str = ""
    validation: str = ""
    feedback: str = ""
    submit_to_release: float = 0.0
    submit_to_feedback: float = 0.0
    state: dict = field(default_factory=dict)


@dataclass
class Course:
    """What the whole run saw: the instructor's dialogs and grading, each student's view, the times."""

    release: str = ""
    create_assignment: int = 0
    warm: str = ""
    students: dict[str, Student] = field(default_factory=dict)
    courses: str = ""
    collect: str = ""
    grading: str = ""
    totals: dict[str, str] = field(default_factory=dict)
    frame_url: str = ""
    csp: str = ""
    generate_feedback: str = ""
    release_feedback: str = ""
    released_again: bool = False
    listening: list = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    steps: dict[str, float] = field(default_factory=dict)

    def mark(self, step: str) -> None:
        """Seconds from the start of the hub fixture to the end of ``step`` (timings.json)."""
        self.steps[step] = round(time.monotonic() - self.started, 1)


@pytest.fixture(scope="module")
def run(site, browser) -> Course:
    """The whole course, once: release, two students, grading, feedback (see the module's docstring)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    seen = Course(started=site.started)
    seen.mark("hub up")
    teacher = login(browser, site, site.teacher)
    seen.create_assignment = teacher.get_by_text("Create Assignment", exact=True).count()
    open_panel(teacher, "Formgrader")
    panel = teacher.frame_locator("iframe").first
    panel.get_by_text("Manage Assignments").first.wait_for()
    formgrader_action(panel, "assign")
    seen.release = formgrader_action(panel, "release")
    seen.mark("released")

    for role, sample in STUDENTS.items():
        seen.students[role] = student_works(browser, site, role, sample, seen)
        seen.mark(f"{role} done")

    open_panel(teacher, "Course List")
    teacher.locator(".jp-MainAreaWidget:visible").get_by_text("resnet_signs").first.wait_for()
    seen.courses = teacher.locator(".jp-MainAreaWidget:visible").inner_text()
    teacher.locator(".lm-TabBar-tab", has_text="Formgrader").click()
    seen.collect = formgrader_action(panel, "collect")
    seen.grading = as_teacher(site, ["resnet-signs", "grade", "submitted", "--out", "grades", "--course", "."])
    seen.mark("graded by the instructor")
    panel.get_by_role("link", name="Manage Students").click()
    for user in site.students.values():
        panel.locator("tr", has_text=user.name).locator(".score").first.wait_for()
    seen.totals = {u.name: panel.locator("tr", has_text=u.name).locator(".score").first.inner_text().strip()
                   for u in site.students.values()}
    teacher.screenshot(path=str(OUTPUT / "formgrader_panel.png"))
    seen.frame_url = teacher.locator("iframe").first.get_attribute("src") or ""
    seen.csp = csp_of(teacher, site, site.teacher)
    seen.listening = machine.listeners(site.hub, [u.uid for u in (site.teacher, *site.students.values())])
    panel.get_by_role("link", name="Manage Assignments").click()
    released = {p: p.stat().st_mtime_ns for p in (site.exchange / "resnet_signs" / "feedback").glob("*.html")}
    seen.generate_feedback = formgrader_action(panel, "generate-feedback")
    seen.release_feedback = formgrader_action(panel, "release-feedback")
    seen.released_again = bool(released) and all(p.stat().st_mtime_ns > t for p, t in released.items())
    seen.mark("feedback released by the instructor")
    timings = {role: {"submit_to_release_s": round(s.submit_to_release, 1),
                      "submit_to_feedback_page_s": round(s.submit_to_feedback, 1)} for role, s in seen.students.items()}
    timings["service"] = seen.warm.split(" ", 2)[-1]
    timings["steps_s"] = seen.steps
    (OUTPUT / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    return seen


def student_works(browser, site: Site, role: str, sample: str, course: Course) -> Student:
    """One student's session: fetch, complete, run, Validate, submit, then fetch and open the feedback."""
    user, seen = site.students[role], Student()
    page = login(browser, site, user)
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    seen.menu = page.locator("#jp-mainmenu-nbgrader").inner_text()
    seen.create_assignment = page.get_by_text("Create Assignment", exact=True).count()
    seen.csp = csp_of(page, site, user)
    page.keyboard.press("Escape")
    open_panel(page, "Assignment List")
    page.locator("#released_assignments_list").get_by_role("button", name="Fetch").click()
    page.locator("#fetched_assignments_list").get_by_text(ASSIGNMENT).first.wait_for()
    complete(user.home / ASSIGNMENT / NOTEBOOK, sample, user)

    page.goto(f"{site.hub.url}/user/{user.name}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}?reset")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    check = page.locator(".jp-NotebookPanel:visible .jp-CodeCell",
                         has_text="convolutional_block_test(convolutional_block)")
    verdict = check.locator(".jp-OutputArea-output", has_text=re.compile("✓|✗")).first
    verdict.wait_for()
    verdict.scroll_into_view_if_needed()
    seen.check = verdict.text_content() or ""  # not inner_text: JupyterLab skips rendering off-screen cells
    page.screenshot(path=str(OUTPUT / f"{role}_check.png"))
    page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for()
    seen.validation = dialog.inner_text()
    page.screenshot(path=str(OUTPUT / f"{role}_validate.png"))
    dialog.get_by_role("button").last.click()

    open_panel(page, "Assignment List")
    if not course.warm:  # the time is measured with the service warm (its warm-up overlaps the steps above)
        course.warm = site.hub.wait_for_log("grader warm in", 600)
        course.mark("service warm")
    page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
    clicked = time.monotonic()
    page.locator("#submitted_assignments_list").get_by_text(ASSIGNMENT).first.wait_for()
    seen.state = wait_for_state(site, user, clicked)
    seen.submit_to_release = time.monotonic() - clicked
    page.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback").click()
    # "(view feedback)" shows the feedback's folder in the file browser; the student opens the page there.
    page.locator("#submitted_assignments_list").get_by_text("(view feedback)").first.click()
    page.locator(".jp-DirListing-item", has_text="Residual_Networks.html").first.dblclick()
    feedback = page.frame_locator(".jp-MainAreaWidget:visible iframe").first
    feedback.get_by_text("Score:").first.wait_for()
    seen.submit_to_feedback = time.monotonic() - clicked
    seen.feedback = feedback.locator("body").inner_text()
    failed = feedback.get_by_text("✗ failed").first
    if failed.count():
        failed.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / f"{role}_feedback.png"))
    page.context.close()
    return seen


def csp_of(page, site: Site, user: machine.User) -> str:
    """The Content-Security-Policy header of ``user``'s server (with the page's login cookies)."""
    return page.request.get(f"{site.hub.url}/user/{user.name}/lab").headers.get("content-security-policy", "")


def wait_for_state(site: Site, user: machine.User, since: float) -> dict:
    """The watch service's state file for ``user``'s submission, once it exists."""
    deadline = since + WAIT_MS / 1000
    while time.monotonic() < deadline:
        for path in (site.course / ".watch" / "done").glob("*.json"):
            state = json.loads(path.read_text(encoding="utf-8"))
            if state["student"] == user.name:
                return state
        time.sleep(0.1)
    raise AssertionError(f"no feedback for {user.name} within {WAIT_MS / 1000:g} s:\n{site.hub.log_text()[-3000:]}")


def as_teacher(site: Site, argv: list[str]) -> str:
    """Run a command in the course directory as the instructor, with their servers' environment."""
    env = {"PATH": f"{machine.VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(site.teacher.home),
           "LANG": "C.UTF-8", paths.DATA_ENV: str(paths.data_dir()), paths.COURSE_ENV: str(site.course)}
    done = subprocess.run(argv, cwd=site.course, env=env, check=False, capture_output=True, text=True, timeout=600,
                          **site.teacher.identity())
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


# --- What the run must show ------------------------------------------------------------------


def test_the_instructor_releases_from_the_formgrader_panel(run):
    assert "Successfully released" in run.release


def test_students_see_the_assignment_list_and_validate_never_formgrader(run):
    assert run.create_assignment >= 1  # the instructor's JupyterLab has the Create Assignment panel
    for role, student in run.students.items():
        assert "Assignment List" in student.menu and "Formgrader" not in student.menu, (role, student.menu)
        assert student.create_assignment == 0, role


def test_each_student_sees_the_public_check_then_validates(run):
    right, wrong = run.students["right"], run.students["wrong"]
    assert "✓" in right.check and "✗" not in right.check, right.check
    assert "✗" in wrong.check and "stride" in wrong.check, wrong.check
    assert "Success! Your notebook passes all the tests." in right.validation, right.validation
    assert "The following cell failed:" in wrong.validation and "convolutional_block_test" in wrong.validation


def test_the_watch_service_grades_each_submission_and_releases_its_feedback(run, site):
    right, wrong = run.students["right"], run.students["wrong"]
    assert (right.state["outcome"], right.state["score"], right.state["feedback"]) == ("graded", 9.0, "released")
    assert (wrong.state["outcome"], wrong.state["score"], wrong.state["feedback"]) == ("graded", 6.0, "released")
    log = site.hub.log_text()
    for user in site.students.values():
        assert len(re.findall(rf"{user.name} \(submitted [^)]*\): graded", log)) == 1, log[-3000:]


def test_each_student_sees_their_own_hint_and_nobody_elses(run):
    right, wrong = run.students["right"], run.students["wrong"]
    assert "Residual_Networks (Score: 6.0 / 9.0)" in wrong.feedback and "stride belongs" in wrong.feedback
    assert "Residual_Networks (Score: 9.0 / 9.0)" in right.feedback and "stride belongs" not in right.feedback
    assert right.feedback.count("✓ passed") == 9 and "✗ failed" not in right.feedback


def test_the_gradebook_and_autograded_notebooks_follow_nbgrader(run, site):
    """What nbgrader's later steps read: the autograded notebook with the submission's bookkeeping files,
    and the gradebook's submission with nbgrader's own timestamp (its late penalty compares it)."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    with Gradebook(f"sqlite:///{site.course / 'gradebook.db'}") as gb:
        for role, user in site.students.items():
            submitted = site.course / "submitted" / user.name / ASSIGNMENT
            autograded = site.course / "autograded" / user.name / ASSIGNMENT
            assert (autograded / NOTEBOOK).is_file()
            assert (autograded / "timestamp.txt").read_text() == (submitted / "timestamp.txt").read_text()
            submission = gb.find_submission(ASSIGNMENT, user.name)
            stamp = parse_utc((submitted / "timestamp.txt").read_text().strip())
            assert submission.timestamp == stamp.replace(tzinfo=None)
            assert (submission.score, submission.max_score) == ({"right": 9.0, "wrong": 6.0}[role], 9.0)


def test_the_instructors_grade_reuses_the_services_grades(run, site):
    for user in site.students.values():
        assert re.search(rf"{re.escape(user.name[:24])}\s+\d+/9\s+ok \(reused\)", run.grading), run.grading


def test_the_formgrader_panel_inside_jupyterlab_shows_both_totals(run, site):
    assert f"/user/{site.teacher.name}/formgrader" in run.frame_url, run.frame_url
    assert run.csp.startswith("frame-ancestors 'self'"), run.csp  # the setting that lets the panel render
    for student in run.students.values():
        assert student.csp.startswith("frame-ancestors 'none'"), student.csp  # JupyterHub's default for students
    assert run.totals == {site.students["right"].name: "9 / 9", site.students["wrong"].name: "6 / 9"}
    assert "resnet_signs" in run.courses  # nbgrader's course list: the hub answered (list:services)


def test_the_instructor_generates_and_releases_feedback(run):
    assert "Success" in run.generate_feedback and "Success" in run.release_feedback, run.release_feedback
    assert run.released_again


def test_everything_listens_on_127_0_0_1_only(run):
    programs = {name for name, _, _ in run.listening}
    assert "node" in programs and len(run.listening) >= 5, run.listening  # proxy, hub API, three servers, kernels
    assert all(address == "127.0.0.1" for _, address, _ in run.listening), run.listening


def test_students_cannot_read_the_course_directory(site):
    for user in site.students.values():
        done = subprocess.run(["cat", str(site.course / "reference.py")], check=False, capture_output=True,
                              **user.identity())
        assert done.returncode != 0 and b"Permission denied" in done.stderr

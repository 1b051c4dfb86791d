"""``resnet-signs hub-config``: what a JupyterHub administrator needs to run the course.

Everything goes into one folder (``--out``), generated from the arguments (re-run to change it):

- ``jupyterhub_config.py``: to include from the hub's own configuration (``load_subconfig(...)``).
  It declares nbgrader's groups (``formgrade-<course>``: instructors, ``nbgrader-<course>``:
  students; nbgrader's ``JupyterHubAuthPlugin`` reads a user's courses from them), a role that lets
  the instructors' servers list the hub's services (nbgrader's course list asks the hub for them and
  answers 403 without), and a pre-spawn hook giving each server its role's Jupyter configuration
  (``JUPYTER_CONFIG_PATH``; users' own ``~/.jupyter`` is ignored). With ``--feedback-on-submit``
  it also runs ``resnet-signs watch`` as a hub-managed service.
- ``jupyter/common/nbgrader_config.py``: the exchange root, the course id and the auth plugin,
  read by every user's server.
- ``jupyter/<role>/``: the server extensions and disabled JupyterLab plugins of each role, the same
  as ``resnet-signs lab --role`` (students: the assignment list and Validate; never formgrader or
  create-assignment); the instructors' servers also read the course's ``nbgrader_config.py`` and
  get the frame-ancestors setting chosen with ``--csp`` (see :data:`CSP_CHOICES`).

It also sets the permissions the course needs (:func:`apply_permissions`): the course directory,
which holds the answers and the gradebook, belongs to a Unix group of the instructors and is closed
to everyone else; the exchange root is writable by all with the sticky bit, like ``/tmp``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from resnet_signs import lab, paths
from resnet_signs.errors import UsageError

#: ``--csp`` choices: how the instructors' servers may be framed, and what each costs.
CSP_CHOICES = {
    "self": "frame-ancestors 'self' on the instructors' servers: the formgrader panel works; on a hub without "
            "subdomains every user's server shares one origin, so a page another user serves could frame an "
            "instructor's server too (clickjacking, if an instructor opens that page)",
    "subdomain": "each user's server on its own subdomain (c.JupyterHub.subdomain_host) and frame-ancestors 'self' "
                 "on the instructors' servers: 'self' is then the instructor's own server only, the safe variant; "
                 "needs wildcard DNS and a wildcard TLS certificate",
    "none": "JupyterHub's default frame-ancestors 'none': nothing can frame a server, so the formgrader panel "
            "stays blank; instructors open formgrader in its own tab (/user/<name>/formgrader)",
}
ROLES = ("instructor", "student")
SERVICE_NAME = "resnet-signs-watch"
#: JupyterHub user names that are also Unix user names and nbgrader student ids.
_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class HubCourse:
    """One course on one hub: every value the generated files contain.

    Attributes:
        course_dir: the nbgrader course directory (a copy of ``autograder/``): answers, gradebook.
        exchange: nbgrader's exchange root, shared by every user.
        course_id: the course's id (its ``nbgrader_config.py``), part of the groups' names.
        instructors: JupyterHub (and Unix) user names of the instructors.
        students: the students' user names (may be empty: students then join ``nbgrader-<course>``
            through the hub's admin page or API).
        unix_group: the Unix group owning the course directory; every instructor is a member.
        csp: a key of :data:`CSP_CHOICES`.
        subdomain_host: the hub's public URL for ``csp="subdomain"`` (e.g. ``https://hub.example.org``).
        grade_on_submit: run ``resnet-signs watch`` as a hub-managed service: each submission is graded
            (gradebook, formgrader, nbgrader's feedback generated) as soon as it is complete.
        feedback_on_submit: the same, and the service releases each student's feedback at once.
        grader_user: the Unix user the service runs as (an instructor: the one who releases, since
            nbgrader's inbound folder belongs to the releasing user).
        data_dir: the SIGNS data the students' notebooks load.
        prefix: the Python environment users' servers run from (holds ``jupyterhub-singleuser``).
    """

    course_dir: Path
    exchange: Path
    course_id: str
    instructors: tuple[str, ...]
    students: tuple[str, ...]
    unix_group: str
    csp: str = "self"
    subdomain_host: str | None = None
    grade_on_submit: bool = False
    feedback_on_submit: bool = False
    grader_user: str | None = None
    data_dir: Path | None = None
    prefix: Path = Path(sys.prefix)

    @property
    def groups(self) -> dict[str, str]:
        """nbgrader's JupyterHub group names: ``{"instructor": "formgrade-<id>", "student": "nbgrader-<id>"}``."""
        return {"instructor": f"formgrade-{self.course_id}", "student": f"nbgrader-{self.course_id}"}


def course_id_of(course_dir: Path) -> str:
    """The ``CourseDirectory.course_id`` the course's ``nbgrader_config.py`` sets."""
    from resnet_signs.release.nbgrader_steps import load_config

    course_id = load_config(course_dir).CourseDirectory.get("course_id", "")
    if not isinstance(course_id, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", course_id or ""):
        raise UsageError(f"{course_dir / 'nbgrader_config.py'} must set c.CourseDirectory.course_id "
                         f"(letters, digits, '_', '.', '-'), got {course_id!r}")
    return course_id


def names(text: str, what: str) -> tuple[str, ...]:
    """``"a,b"`` as user names, each checked (a clear error names the bad one)."""
    found = tuple(n.strip() for n in text.split(",") if n.strip()) if text else ()
    for name in found:
        if not _NAME.match(name):
            raise UsageError(f"--{what}: {name!r} is not a user name (lowercase letters, digits, '_', '.', '-'; "
                             "at most 32 characters, starting with a letter or '_')")
    if len(set(found)) != len(found):
        raise UsageError(f"--{what} names someone twice: {text}")
    return found


def check(course: HubCourse) -> None:
    """Refuse settings that cannot work, each with one line saying what to fix."""
    if not (course.course_dir / "nbgrader_config.py").is_file() or not (course.course_dir / "source").is_dir():
        raise UsageError(f"{course.course_dir} is not a course directory (needs nbgrader_config.py and source/): "
                         "copy the checkout's autograder/ there first")
    if not course.instructors:
        raise UsageError("--instructors needs at least one user name")
    both = sorted(set(course.instructors) & set(course.students))
    if both:
        raise UsageError(f"{', '.join(both)} cannot be both instructor and student")
    if course.csp not in CSP_CHOICES:
        raise UsageError(f"--csp must be one of {', '.join(CSP_CHOICES)}, got {course.csp!r}")
    if course.csp == "subdomain" and not re.match(r"^https?://[^/\s]+$", course.subdomain_host or ""):
        raise UsageError("--csp subdomain needs --subdomain-host with the hub's public URL, e.g. https://hub.example.org")
    if course.grader_user and course.grader_user not in course.instructors:
        raise UsageError(f"--grader-user {course.grader_user!r} must be one of the instructors (the service reads "
                         "the course directory and the releasing instructor's inbound folder)")
    singleuser = course.prefix / "bin" / "jupyterhub-singleuser"
    if not singleuser.is_file():
        raise UsageError(f"no {singleuser}: install JupyterHub into this environment "
                         "(pip install -c constraints.txt 'resnet-signs[hub]')")
    if course.course_dir.resolve().is_relative_to(course.exchange.resolve()) or \
            course.exchange.resolve().is_relative_to(course.course_dir.resolve()):
        raise UsageError("the exchange and the course directory must not contain each other: students write to one "
                         "and must not read the other")


# --- The generated files ----------------------------------------------------------------------


def role_config_dirs(out: Path) -> dict[str, Path]:
    """``{"common": ..., "instructor": ..., "student": ...}``: the Jupyter config folders under ``out``."""
    return {name: out / "jupyter" / name for name in ("common", *ROLES)}


def config_path(out: Path, role: str) -> str:
    """``JUPYTER_CONFIG_PATH`` of ``role``'s servers: its own folder first, then the common one."""
    dirs = role_config_dirs(out)
    return os.pathsep.join(str(dirs[name].resolve()) for name in (role, "common"))


def environments(course: HubCourse, out: Path) -> dict[str, dict[str, str]]:
    """The environment variables each role's servers get (on top of JupyterHub's own)."""
    path = os.pathsep.join([str(course.prefix / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    data = str((course.data_dir or paths.data_dir()).resolve())
    common = {"PATH": path, paths.DATA_ENV: data}
    return {
        "instructor": {**common, "JUPYTER_CONFIG_PATH": config_path(out, "instructor"),
                       paths.COURSE_ENV: str(course.course_dir.resolve())},
        "student": {**common, "JUPYTER_CONFIG_PATH": config_path(out, "student")},
    }


def nbgrader_common(course: HubCourse) -> str:
    """``jupyter/common/nbgrader_config.py``: what every user's nbgrader needs."""
    return f'''"""nbgrader settings every user's server reads (generated by `resnet-signs hub-config`: re-run it to change)."""

c = get_config()  # noqa: F821 -- injected by traitlets' config loader

c.Exchange.root = {str(course.exchange.resolve())!r}
c.CourseDirectory.course_id = {course.course_id!r}
# A user's courses come from the hub's groups formgrade-<course> (instructors) and nbgrader-<course> (students).
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
'''  # noqa: E501 - the generated file's docstring, verbatim


def nbgrader_instructor(course: HubCourse) -> str:
    """``jupyter/instructor/nbgrader_config.py``: formgrader and ``nbgrader`` work on the course directory."""
    return f'''"""The instructors' nbgrader settings (generated by `resnet-signs hub-config`: re-run it to change).

formgrader and the instructor's `nbgrader` commands use the course directory's own settings
(its root, gradebook, stubs), wherever the instructor starts them.
"""

c = get_config()  # noqa: F821 -- injected by traitlets' config loader

load_subconfig({str((course.course_dir / "nbgrader_config.py").resolve())!r})  # noqa: F821
'''


def jupyterhub_snippet(course: HubCourse, out: Path) -> str:
    """``jupyterhub_config.py``: the course's part of the hub's configuration."""
    groups = course.groups
    frame = course.csp != "none"
    release = ["--release-feedback"] if course.feedback_on_submit else []
    service = {
        "name": SERVICE_NAME,
        "command": [str(course.prefix / "bin" / "resnet-signs"), "watch", "--course", str(course.course_dir.resolve()),
                    "--exchange", str(course.exchange.resolve()), *release],
        "user": course.grader_user or course.instructors[0],
        "cwd": str(course.course_dir.resolve()),
        "environment": {"PATH": environments(course, out)["instructor"]["PATH"],
                        paths.DATA_ENV: environments(course, out)["instructor"][paths.DATA_ENV]},
    }
    lines = [
        f'"""The {course.course_id} course on this hub (generated by `resnet-signs hub-config`: re-run it to change).',
        "",
        "Include it from the hub's configuration file:",
        f"    load_subconfig({str((out / 'jupyterhub_config.py').resolve())!r})",
        "It sets c.Spawner.pre_spawn_hook and c.Spawner.server_token_scopes: a hub that has its own must call",
        "resnet_signs_pre_spawn(spawner) / resnet_signs_server_token_scopes(spawner) from them.",
        '"""',
        "",
        "c = get_config()  # noqa: F821 -- injected by traitlets' config loader",
        "",
        f"RESNET_SIGNS_GROUPS = {groups!r}",
        "# What each role's servers get: their Jupyter config path (server extensions, disabled lab plugins,",
        "# nbgrader settings), the environment's scripts first on PATH, the data; instructors the course directory.",
        f"RESNET_SIGNS_ENVIRONMENT = {json.dumps(environments(course, out), indent=4, sort_keys=True)}",
        "",
        "# nbgrader's JupyterHubAuthPlugin reads a user's courses from these groups.",
        f"c.JupyterHub.load_groups.update({{{groups['instructor']!r}: {{'users': {list(course.instructors)!r}}},",
        f"                                 {groups['student']!r}: {{'users': {list(course.students)!r}}}}})",
        f"c.Authenticator.allowed_users.update({sorted(course.instructors + course.students)!r})",
        "# nbgrader's course list asks the hub for its services: instructors may list and read them.",
        "c.JupyterHub.load_roles.append({",
        f"    'name': {course.course_id + '-instructors'!r},",
        "    'description': 'List the hub services (nbgrader course list)',",
        "    'scopes': ['list:services', 'read:services'],",
        f"    'groups': [{groups['instructor']!r}],",
        "})",
        "",
        "",
        "def resnet_signs_role(spawner):",
        "    names = {group.name for group in spawner.user.groups}",
        "    return 'instructor' if RESNET_SIGNS_GROUPS['instructor'] in names else 'student'",
        "",
        "",
        "def resnet_signs_pre_spawn(spawner):",
        "    role = resnet_signs_role(spawner)",
        "    spawner.environment = {**spawner.environment, **RESNET_SIGNS_ENVIRONMENT[role]}",
        "    if role == 'instructor':  # formgrader needs the course directory inside the server's root",
        f"        spawner.notebook_dir = {str(course.course_dir.resolve())!r}",
        "",
        "",
        "def resnet_signs_server_token_scopes(spawner):",
        "    # JupyterHub's 'server' role, plus what nbgrader's course list needs on the instructors' servers.",
        "    scopes = ['users:activity!user', 'access:servers!server', 'read:users:groups!user', 'read:users:name!user']",  # noqa: E501 - a line of the generated file, verbatim
        "    if resnet_signs_role(spawner) == 'instructor':",
        "        scopes += ['list:services', 'read:services']",
        "    return scopes",
        "",
        "",
        "c.Spawner.pre_spawn_hook = resnet_signs_pre_spawn",
        "c.Spawner.server_token_scopes = resnet_signs_server_token_scopes",
        "c.Spawner.disable_user_config = True  # a user's ~/.jupyter cannot re-enable what their role has off",
        f"c.Spawner.cmd = [{str(course.prefix / 'bin' / 'jupyterhub-singleuser')!r}]",
        "c.Spawner.default_url = '/lab'",
    ]
    if course.csp == "subdomain":
        lines += ["# Every user's server on its own origin: frame-ancestors 'self' is then that server only.",
                  f"c.JupyterHub.subdomain_host = {course.subdomain_host!r}"]
    if not frame:
        lines += ["# --csp none: JupyterHub's frame-ancestors 'none' stays; formgrader opens in its own tab."]
    if course.grade_on_submit or course.feedback_on_submit:
        what = ("and releases its feedback at once" if course.feedback_on_submit
                else "(the instructor releases feedback)")
        lines += ["", f"# On submit: the watch service grades each new submission {what}.",
                  f"c.JupyterHub.services.append({json.dumps(service, indent=4)})"]
    return "\n".join(lines) + "\n"


def write(course: HubCourse, out: Path) -> list[Path]:
    """Write every file into ``out`` (readable by all: users' servers read them) and return them."""
    out = Path(out)
    dirs = role_config_dirs(out)
    written = []
    for role in ROLES:
        lab.write_role_config(role, dirs[role])
        written += [dirs[role] / "jupyter_server_config.json", dirs[role] / "labconfig" / "page_config.json"]
    if course.csp != "none":
        _add_frame_ancestors(dirs["instructor"] / "jupyter_server_config.json")
    files = {
        dirs["common"] / "nbgrader_config.py": nbgrader_common(course),
        dirs["instructor"] / "nbgrader_config.py": nbgrader_instructor(course),
        out / "jupyterhub_config.py": jupyterhub_snippet(course, out),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for folder, _, names_ in os.walk(out):
        os.chmod(folder, 0o755)
        for name in names_:
            os.chmod(Path(folder) / name, 0o644)
    return written


def _add_frame_ancestors(server_config: Path) -> None:
    """Let the instructor's own pages frame their server (JupyterHub's servers send 'none')."""
    config = json.loads(server_config.read_text())
    config["ServerApp"]["tornado_settings"] = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
    server_config.write_text(json.dumps(config, indent=2) + "\n")


# --- Permissions ------------------------------------------------------------------------------


def check_users(course: HubCourse) -> int:
    """The Unix group's id, after checking that instructors exist and belong to it and students do not."""
    import grp
    import pwd

    try:
        group = grp.getgrnam(course.unix_group)
    except KeyError:
        raise UsageError(f"no Unix group {course.unix_group!r}: create it and add the instructors, e.g. "
                         f"`groupadd {course.unix_group} && usermod -aG {course.unix_group} {course.instructors[0]}`"
                         ) from None
    members = set(group.gr_mem)
    for name in course.instructors:
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            raise UsageError(f"instructor {name!r} is not a Unix user of this machine (PAM and the "
                             "LocalProcessSpawner need one)") from None
        if name not in members and user.pw_gid != group.gr_gid:
            raise UsageError(f"instructor {name!r} is not in the Unix group {course.unix_group!r}: "
                             f"`usermod -aG {course.unix_group} {name}`")
    for name in course.students:
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue  # a student whose account comes later
        if name in members or user.pw_gid == group.gr_gid:
            raise UsageError(f"student {name!r} is in the Unix group {course.unix_group!r}, which can read the "
                             f"answers: `gpasswd -d {name} {course.unix_group}`")
    return group.gr_gid


def apply_permissions(course: HubCourse, gid: int) -> None:
    """The course directory to the instructors' group only; the exchange root open to all, sticky.

    Every folder of the course directory gets ``rwxrws---`` (set-group-id: what nbgrader creates
    there later belongs to the group too), every file its owner's bits for the group and none for
    others. The exchange root gets ``rwxrwxrwt``: every user may create in it, nobody may rename or
    remove another's course folder (nbgrader sets the modes below it).

    Raises:
        UsageError: a change was refused (not run as root, or not the owner).
    """
    try:
        for folder, _, files in os.walk(course.course_dir):
            os.chown(folder, -1, gid, follow_symlinks=False)
            os.chmod(folder, 0o2770)
            for name in files:
                path = Path(folder) / name
                if path.is_symlink():
                    continue
                os.chown(path, -1, gid)
                owner = stat.S_IMODE(path.stat().st_mode) & 0o700
                os.chmod(path, owner | owner >> 3)
        course.exchange.mkdir(parents=True, exist_ok=True)
        os.chmod(course.exchange, 0o1777)
    except PermissionError as exc:
        raise UsageError(f"cannot set permissions ({exc.strerror}: {exc.filename}): run as root, "
                         "or pass --no-permissions and set them yourself") from None


def closed_parents(path: Path) -> list[Path]:
    """Folders above ``path`` that other users cannot enter (no ``o+x``): users' servers need them open."""
    return [p for p in Path(path).resolve().parents if not stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH]


# --- Command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course-dir", type=Path, required=True, metavar="DIR",
                        help="the nbgrader course directory on the hub (a copy of autograder/)")
    parser.add_argument("--exchange", type=Path, required=True, metavar="DIR",
                        help="nbgrader's exchange root, shared by every user (created if missing)")
    parser.add_argument("--instructors", required=True, metavar="A,B", help="instructors' user names")
    parser.add_argument("--students", default="", metavar="C,D",
                        help="students' user names (default: none; add them to the group nbgrader-<course> later)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where to write jupyterhub_config.py and the Jupyter config folders")
    parser.add_argument("--unix-group", default=None, metavar="NAME",
                        help="Unix group owning the course directory, holding every instructor "
                             "(default: <course id>-instructors)")
    parser.add_argument("--csp", choices=sorted(CSP_CHOICES), default="self",
                        help="how the formgrader panel may frame the instructor's server: "
                             + "; ".join(f"{k}: {v}" for k, v in CSP_CHOICES.items()) + " (default: %(default)s)")
    parser.add_argument("--subdomain-host", default=None, metavar="URL",
                        help="the hub's public URL with --csp subdomain, e.g. https://hub.example.org")
    parser.add_argument("--grade-on-submit", action="store_true",
                        help="run `resnet-signs watch` as a hub-managed service: each submission graded seconds after "
                             "the student submits (scores in formgrader; the instructor releases feedback)")
    parser.add_argument("--feedback-on-submit", action="store_true",
                        help="the same, and the service releases each student's feedback at once")
    parser.add_argument("--grader-user", default=None, metavar="NAME",
                        help="the instructor the watch service runs as (default: the first instructor; it must be "
                             "the one who releases the assignment)")
    parser.add_argument("--no-permissions", action="store_true",
                        help="write the files only; leave the course directory's and the exchange's modes alone")


def run(args: argparse.Namespace) -> int:
    course_dir = args.course_dir.expanduser().resolve()
    if not (course_dir / "nbgrader_config.py").is_file():
        raise UsageError(f"{course_dir} is not a course directory (no nbgrader_config.py): "
                         "copy the checkout's autograder/ there first")
    course_id = course_id_of(course_dir)
    course = HubCourse(
        course_dir=course_dir, exchange=args.exchange.expanduser().resolve(), course_id=course_id,
        instructors=names(args.instructors, "instructors"), students=names(args.students, "students"),
        unix_group=args.unix_group or f"{course_id}-instructors", csp=args.csp, subdomain_host=args.subdomain_host,
        grade_on_submit=args.grade_on_submit, feedback_on_submit=args.feedback_on_submit, grader_user=args.grader_user,
    )
    check(course)
    out = args.out.expanduser().resolve()
    if not args.no_permissions:
        apply_permissions(course, check_users(course))
    for path in write(course, out):
        print(f"wrote {path}")
    print(f"next: add `load_subconfig({str(out / 'jupyterhub_config.py')!r})` to the hub's jupyterhub_config.py "
          "and restart the hub")
    for folder in sorted(set(closed_parents(Path(sys.executable).resolve()) + closed_parents(out))):
        print(f"warning: other users cannot enter {folder} (no o+x): their servers cannot start from here")
    return 0

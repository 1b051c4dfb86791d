"""``resnet-signs lab``: JupyterLab with nbgrader, set up for a student or an instructor.

The role decides which nbgrader pieces are on. A student gets the assignment list and
Validate, never formgrader or "create assignment"; an instructor gets formgrader over the
course directory. The role's settings live in a Jupyter config folder of their own
(``JUPYTER_CONFIG_DIR`` for the server only), so the user's ``~/.jupyter`` is neither read
nor changed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError, UsageError

ROLES = ("student", "instructor")

#: The folder a student's JupyterLab serves, relative to the project root: both released notebooks.
STUDENT_ROOT = Path("assignments")
#: The notebooks a student is offered, relative to that folder; the first (the graded assignment) opens first.
STUDENT_NOTEBOOKS = (
    (Path("residual_networks") / "Residual_Networks.ipynb", "the graded assignment"),
    (Path("why_resnets_work") / "Why_ResNets_Work.ipynb", "the optional lab"),
)

# nbgrader 0.9.6 names: server extensions (Python modules) and lab plugins (ids).
_SERVER_EXTENSIONS = {
    "student": {
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.course_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
        "nbgrader.server_extensions.formgrader": False,
    },
    "instructor": {
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.course_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
        "nbgrader.server_extensions.formgrader": True,
    },
}
# Jupyter's "news" prompt asks to fetch from the internet: a course server should not.
_NO_NEWS = {"@jupyterlab/apputils-extension:announcements": True}
_DISABLED_PLUGINS = {
    "student": {"@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True, **_NO_NEWS},
    "instructor": dict(_NO_NEWS),
}


class LabError(CourseError):
    """JupyterLab could not be set up or started."""


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server.

    Attributes:
        process: the ``jupyter lab`` child (its own session, so Ctrl-C reaches only us).
        url: base URL, e.g. ``http://127.0.0.1:8888``.
        token: the access token.
        start_path: what the role opens first, e.g. ``/lab/tree/Residual_Networks.ipynb``.
    """

    process: subprocess.Popen
    url: str
    token: str
    start_path: str

    def link(self, path: str | None = None) -> str:
        """The URL of ``path`` (default: the start page) with the token."""
        return f"{self.url}{path or self.start_path}?token={self.token}"

    def stop(self, timeout: float = 20.0) -> None:
        """Shut the server down (SIGTERM, then SIGKILL if it hangs)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def write_role_config(role: str, config_dir: Path) -> Path:
    """Write the Jupyter config folder for ``role`` and return it.

    Args:
        role: ``"student"`` or ``"instructor"``.
        config_dir: folder to (over)write; becomes the server's ``JUPYTER_CONFIG_DIR``.

    Returns:
        ``config_dir``, holding ``jupyter_server_config.json`` (server extensions) and
        ``labconfig/page_config.json`` (disabled lab plugins).
    """
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    config_dir = Path(config_dir)
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    server = {"ServerApp": {"jpserver_extensions": _SERVER_EXTENSIONS[role]}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server, indent=2) + "\n")
    page = {"disabledExtensions": _DISABLED_PLUGINS[role]}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=2) + "\n")
    return config_dir


def default_config_dir(role: str) -> Path:
    """Where a role's config lives: inside the environment, never in ``~/.jupyter``."""
    return Path(sys.prefix) / "etc" / "resnet-signs-jupyter" / role


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def student_notebooks(language: str = "en") -> list[tuple[Path, str]]:
    """:data:`STUDENT_NOTEBOOKS` in ``language``'s edition: English, or the translation the release
    writes in a language folder (``residual_networks/zh_TW/Residual_Networks.ipynb``)."""
    from resnet_signs import i18n

    try:
        language = i18n.normalise(language)
    except ValueError as exc:
        raise UsageError(f"--lang: {exc}") from exc
    if language == i18n.DEFAULT:
        return list(STUDENT_NOTEBOOKS)
    return [(path.parent / language / path.name, what) for path, what in STUDENT_NOTEBOOKS]


def _root_and_start(role: str, root: Path | None, language: str = "en") -> tuple[Path, str]:
    """The folder the server serves and the page it opens first, for ``role``."""
    if role == "student":
        checkout = paths.checkout_root()
        # In a checkout the committed release; installed, the copy `notebooks get` made here.
        root = root or (checkout / STUDENT_ROOT if checkout else Path.cwd())
        first = student_notebooks(language)[0][0]
        if not (root / first).is_file():
            fix = "run `make release` first" if checkout else (
                "run `resnet-signs notebooks get` here first (it copies the student notebooks into this folder)")
            raise LabError(f"no student notebook at {root / first}: {fix}")
        return root, f"/lab/tree/{first.as_posix()}"
    root = root or paths.course_dir()
    if not (root / "nbgrader_config.py").is_file():
        raise LabError(f"{root} is not an nbgrader course directory (no nbgrader_config.py). The course directory "
                       f"holds the answers and ships only with the course's repository: run from a checkout, or set "
                       f"{paths.COURSE_ENV} to its autograder/ folder")
    return root, "/formgrader"


def start(
    role: str,
    *,
    port: int | None = None,
    root: Path | None = None,
    config_dir: Path | None = None,
    open_browser: bool = False,
    ready_timeout: float = 90.0,
    language: str = "en",
) -> LabServer:
    """Start JupyterLab for ``role`` on 127.0.0.1 and wait until it answers.

    Args:
        role: ``"student"`` or ``"instructor"``.
        port: TCP port; a free one when None.
        root: folder to serve (default: the release folder, or the course directory).
        config_dir: the role's Jupyter config folder (default :func:`default_config_dir`).
        open_browser: let Jupyter open the start page in the user's browser.
        ready_timeout: seconds to wait for the server to answer.
        language: which edition a student opens (``en``, ``zh_CN``, ``zh_TW``).

    Returns:
        The running :class:`LabServer`.
    """
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535. Received: {port}")
    root, start_path = _root_and_start(role, Path(root) if root else None, language)
    config_dir = write_role_config(role, config_dir or default_config_dir(role))
    port = port or free_port()
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir))
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}", f"--ServerApp.default_url={start_path}",
        "--ServerApp.log_level=WARN",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI often run as root; Jupyter refuses otherwise
    # Own session: a terminal Ctrl-C reaches only us, and we stop the server without its
    # "Shutdown this Jupyter server (y/[n])?" prompt. cwd=root: nbgrader reads its config there.
    process = subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True)
    server = LabServer(process, f"http://127.0.0.1:{port}", token, start_path)
    try:
        _wait_ready(server, ready_timeout)
    except BaseException:  # includes Ctrl-C while waiting: never leave the server behind
        server.stop()
        raise
    return server


def _wait_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status_url = f"{server.url}/api/status?token={server.token}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(f"JupyterLab exited with status {server.process.returncode} before it answered")
        try:
            with urllib.request.urlopen(status_url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)  # polling a port that is not listening yet
    raise LabError(f"JupyterLab did not answer on {server.url} within {timeout:.0f} s")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``resnet-signs lab``'s options."""
    parser.add_argument("--role", choices=ROLES, default="student", help="which nbgrader tools to enable")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    parser.add_argument("--lang", default="en", metavar="LANG",
                        help="the student notebook's language: en (default), zh_CN or zh_TW")


def run(args: argparse.Namespace) -> int:
    """Start the lab, print its URL, and serve until Ctrl-C (exit 0)."""
    # Ctrl-C (and a polite SIGTERM) both end in the KeyboardInterrupt branch below, even
    # where the shell started us with SIGINT ignored; the server is then never orphaned.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    server = start(args.role, port=args.port, language=args.lang)
    print(f"JupyterLab ({args.role}) is running at:\n  {server.link()}", flush=True)
    if args.role == "student":
        for notebook, what in student_notebooks(args.lang):
            print(f"  {what}: {server.link('/lab/tree/' + notebook.as_posix())}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    if not args.no_browser:
        webbrowser.open(server.link())
    try:
        server.process.wait()
    except KeyboardInterrupt:
        print("\nstopping JupyterLab ...", flush=True)
        server.stop()
        return 0
    if server.process.returncode not in (0, -signal.SIGTERM):
        raise LabError(f"JupyterLab stopped with status {server.process.returncode}")
    return 0

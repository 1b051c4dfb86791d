"""What the JupyterHub test sets up on this machine, and takes down again: throwaway Unix users, folders
opened for them, a JupyterHub on 127.0.0.1.

Every piece is registered for undoing (an :class:`contextlib.ExitStack`) the moment it exists, so a
failing step, an error in the test or Ctrl-C still stop every process started (by pid) and remove
every user, group and folder, and give the folders back their modes.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from resnet_signs import paths

VENV_BIN = Path(sys.executable).parent
#: Programs the test runs as root to create and remove users.
ADMIN_TOOLS = ("useradd", "userdel", "groupadd", "groupdel", "chpasswd")


def missing() -> str | None:
    """Why a real JupyterHub cannot run here (the test then skips with this message), or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the JupyterHub test creates throwaway Unix users: run it as root (CI does)"
    lacking = [tool for tool in ADMIN_TOOLS if shutil.which(tool) is None]
    if lacking:
        return f"the JupyterHub test needs {', '.join(lacking)} to create throwaway users"
    try:
        import jupyterhub  # noqa: F401 - only whether it imports
        import pamela  # noqa: F401 - PAM: the hub's default authenticator
    except (ImportError, OSError) as exc:
        return f"JupyterHub is not installed ({exc}): run `make hub-deps` (pip install -c constraints.txt -e '.[hub]')"
    if not (VENV_BIN / "jupyterhub-singleuser").is_file():
        return f"no {VENV_BIN / 'jupyterhub-singleuser'}: run `make hub-deps`"
    if proxy_command() is None:
        return "no configurable-http-proxy (npm): run `make hub-deps` (needs Node.js 20+ and npm)"
    return None


def proxy_command() -> str | None:
    """configurable-http-proxy: the one `make hub-deps` put in the environment, else one on PATH."""
    return shutil.which("configurable-http-proxy", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class User:
    """A throwaway Unix user: its name, the password PAM checks, its home."""

    name: str
    password: str
    home: Path

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.name).pw_uid

    def identity(self) -> dict:
        """``subprocess`` arguments that run a command as this user: uid, group and supplementary groups
        (``user=`` alone would keep root's groups, and with them root's group permissions)."""
        gid = pwd.getpwnam(self.name).pw_gid
        return {"user": self.name, "group": gid, "extra_groups": os.getgrouplist(self.name, gid)}


def add_group(stack: contextlib.ExitStack, name: str) -> str:
    """``groupadd NAME``; ``groupdel`` when the stack unwinds."""
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    stack.callback(subprocess.run, ["groupdel", name], capture_output=True)
    return name


def add_user(stack: contextlib.ExitStack, name: str, homes: Path, groups: tuple[str, ...] = ()) -> User:
    """``useradd`` with a home under ``homes`` (mode 0700) and a random password; on unwinding, every
    process of the user is killed by pid and the user removed (``userdel -r``)."""
    home = homes / name
    argv = ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash"]
    if groups:
        argv += ["--groups", ",".join(groups)]
    subprocess.run([*argv, name], check=True, capture_output=True)
    stack.callback(_remove_user, name)
    user = User(name, secrets.token_urlsafe(12), home)
    subprocess.run(["chpasswd"], input=f"{name}:{user.password}\n", text=True, check=True, capture_output=True)
    home.chmod(0o700)
    return user


def _remove_user(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    kill_processes(lambda p: p.uids().real == uid)
    subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


def kill_processes(match) -> list[int]:
    """SIGKILL every process for which ``match(process)`` is true, each by its pid; their pids."""
    killed = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and match(process):
                process.kill()
                killed.append(process.pid)
        except psutil.Error:
            continue
    psutil.wait_procs([p for p in map(_process, killed) if p], timeout=10)
    return killed


def _process(pid: int):
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def open_for_others(stack: contextlib.ExitStack, targets) -> list[Path]:
    """Let other users reach ``targets`` (the environment, its interpreter, the checkout, the data):
    every folder above one of them that others cannot enter gets ``o+x`` (enter, not list), and its
    old mode back when the stack unwinds. CI's clone may live under ``/root`` (mode 0700); the users'
    servers and the grader run the environment's Python from there."""
    opened = []
    for target in targets:
        for folder in [*reversed(Path(target).resolve().parents)]:
            mode = stat.S_IMODE(folder.stat().st_mode)
            if not mode & stat.S_IXOTH and folder not in opened:
                folder.chmod(mode | stat.S_IXOTH)
                stack.callback(folder.chmod, mode)
                opened.append(folder)
    return opened


def unreadable(user: User, files) -> list[Path]:
    """The files ``user`` cannot read (checked as that user)."""
    blocked = []
    for path in files:
        done = subprocess.run(["test", "-r", str(path)], check=False, capture_output=True, **user.identity())
        if done.returncode != 0:
            blocked.append(Path(path))
    return blocked


@dataclass
class Hub:
    """A running JupyterHub: its process, its URL, its log."""

    process: subprocess.Popen
    url: str
    log: Path
    proxy_pid_file: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float) -> str:
        """The first log line holding ``text``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_text().splitlines():
                if text in line:
                    return line
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
            time.sleep(0.3)
        raise TimeoutError(f"no {text!r} in the hub's log within {timeout:g} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM (the hub stops the users' servers, its services and the proxy), then SIGKILL to
        whatever is left: the hub, the proxy (its pid file), each by pid."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            proxy = psutil.Process(int(self.proxy_pid_file.read_text().strip()))
            if "configurable-http-proxy" in " ".join(proxy.cmdline()):
                proxy.kill()
        except (OSError, ValueError, psutil.Error):
            pass


def start_hub(stack: contextlib.ExitStack, folder: Path, snippet: Path) -> Hub:
    """JupyterHub on 127.0.0.1 (free ports) with the generated ``snippet``, state in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    port, hub_port, api_port = free_port(), free_port(), free_port()
    config = folder / "jupyterhub_config.py"
    config.write_text(f'''c = get_config()  # noqa: F821 - injected by traitlets' config loader
load_subconfig({str(snippet)!r})  # noqa: F821 - the course's part, from `resnet-signs hub-config`
# The site's part: this machine only, throwaway state.
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy_command()!r}]
c.ConfigurableHTTPProxy.pid_file = {str(folder / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{folder / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(folder / "cookie_secret")!r}
c.JupyterHub.cleanup_servers = True
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
''')
    log = folder / "jupyterhub.log"
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
    for name in (paths.COURSE_ENV, "RESNET_SIGNS_GRADEBOOK", "JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH"):
        env.pop(name, None)
    with open(log, "wb") as out:
        process = subprocess.Popen([str(VENV_BIN / "jupyterhub"), "-f", str(config)], cwd=folder, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(process, f"http://127.0.0.1:{port}", log, folder / "proxy.pid")
    stack.callback(hub.stop)
    hub.wait_for_log("JupyterHub is now running", 120)
    with urllib.request.urlopen(f"{hub.url}/hub/login", timeout=30) as response:
        assert response.status == 200
    return hub


def listeners(hub: Hub, uids) -> list[tuple[str, str, int]]:
    """``(program, address, port)`` of every TCP socket listening in the hub's process tree (proxy,
    services) or in a process of the users ``uids`` (their servers, kernels)."""
    try:
        tree = {hub.process.pid, *(p.pid for p in psutil.Process(hub.process.pid).children(recursive=True))}
    except psutil.Error:
        tree = set()
    found = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or conn.pid is None:
            continue
        try:
            process = psutil.Process(conn.pid)
            if conn.pid in tree or process.uids().real in uids:
                found.append((process.name(), conn.laddr.ip, conn.laddr.port))
        except psutil.Error:
            continue
    return found

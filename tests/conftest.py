"""Fixtures shared by every test folder."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

#: Debian's Chromium (`make browser-deps`); Playwright never downloads a browser of its own.
CHROMIUM = Path(os.environ.get("RESNET_SIGNS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
_EMULATION = Path(__file__).parent / "tf32" / "tf32_emulation.py"


def _load_tf32_emulation():
    # The name the emulation's sitecustomize imports it by in the processes the tests start.
    if "tf32_emulation" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tf32_emulation", _EMULATION)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["tf32_emulation"]


def pytest_collection_modifyitems(items):
    """Modules with a slow test first (otherwise in their order): ``make test`` hands whole modules to
    two pytest-xdist workers (``--dist loadfile --no-loadscope-reorder``), and a long module started
    last would leave one worker idle at the end."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)


@pytest.fixture(autouse=True)
def _environment_restored():
    """Every test leaves ``os.environ`` as it found it, whatever the code it runs exported (the CLI's
    ``--data-dir`` sets RESNET_SIGNS_DATA for its child processes): with tests spread over pytest-xdist
    workers, a leak would reach whichever module that worker runs next."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def tf32():
    """The TensorFloat-32 emulation module (tests/tf32/tf32_emulation.py): ``tf32.installed()`` rounds as an
    NVIDIA GPU does in this process, ``tf32.environment()`` in the processes a test starts."""
    return _load_tf32_emulation()


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium, or a skip that says what is missing.

    One per session, shared by tests/browser and tests/hub: Playwright's sync API refuses to start
    while another instance of it is running in the process.
    """
    if not CHROMIUM.is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: run `make browser-deps` (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright Python package: run `make install`")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()

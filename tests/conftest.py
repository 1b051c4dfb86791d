"""Fixtures shared by every test folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_EMULATION = Path(__file__).parent / "tf32" / "tf32_emulation.py"


def _load_tf32_emulation():
    # The name the emulation's sitecustomize imports it by in the processes the tests start.
    if "tf32_emulation" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tf32_emulation", _EMULATION)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["tf32_emulation"]


@pytest.fixture(scope="session")
def tf32():
    """The TensorFloat-32 emulation module (tests/tf32/tf32_emulation.py): ``tf32.installed()`` rounds as an
    NVIDIA GPU does in this process, ``tf32.environment()`` in the processes a test starts."""
    return _load_tf32_emulation()

"""Installs the TF32 emulation (``tf32_emulation``) in a Python process as soon as it imports TensorFlow.

Only on ``PYTHONPATH`` when a test asks for the emulation (``tf32_emulation.environment()``).
"""

import importlib.abc
import importlib.util
import sys

# Imported now: multiprocessing's spawned children replace sys.path with their parent's before they
# import TensorFlow, and the parent may not have this folder on it.
import tf32_emulation


class _AfterTensorFlow(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps TensorFlow's loader so that the emulation is installed right after it."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            tf32_emulation.install()

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterTensorFlow())

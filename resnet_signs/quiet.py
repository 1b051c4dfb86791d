"""Import TensorFlow without its native start-up lines on the terminal.

TensorFlow's C++ runtime writes lines such as ``oneDNN custom operations are on`` and ``All log
messages before absl::InitializeLog() is called are written to STDERR`` straight to file
descriptor 2 while it is imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``. Commands that talk
to a person (``resnet-signs grade``, its worker processes) import it through :func:`import_tensorflow`,
which points descriptor 2 at /dev/null for the duration of the import only.
"""

from __future__ import annotations

import os
import sys

from resnet_signs import paths


def import_tensorflow() -> None:
    """Import ``tensorflow`` and ``keras`` once, silencing native stderr meanwhile (Python errors still raise)."""
    if "tensorflow" in sys.modules:
        return
    paths.quiet_tensorflow("3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401 - imports TensorFlow as its backend
        import tensorflow  # noqa: F401 - imported here for its side effect, stderr silenced
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)

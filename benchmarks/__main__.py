"""``python -m benchmarks`` (``make bench``): run every benchmark module's ``main()`` in turn.

Each module under ``benchmarks/`` exposes ``main(argv=None) -> int`` and prints its own table.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    status = 0
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        print(f"\n=== benchmarks.{info.name} ===", flush=True)
        status |= int(module.main([]) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main())

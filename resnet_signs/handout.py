"""``resnet-signs notebooks get``: copy the released student notebooks into a folder.

The student notebooks ship inside the wheel (no checkout needed); they land as
``<folder>/<assignment>/<Name>.ipynb``, nbgrader's layout, which ``resnet-signs lab`` serves.
A student's own work is never overwritten unless they ask (``--force``).
"""

from __future__ import annotations

import argparse
from importlib.abc import Traversable
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError, UsageError


def student_notebooks() -> dict[str, Traversable]:
    """``{"<assignment>/<Name>.ipynb": file}`` for every released student notebook."""
    root = paths.student_notebooks_dir()
    found = {}
    if root.is_dir():
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            for item in folder.iterdir():
                if item.name.endswith(".ipynb"):
                    found[f"{folder.name}/{item.name}"] = item
    return dict(sorted(found.items()))


def get(dest: Path | str = ".", *, force: bool = False) -> list[Path]:
    """Copy the student notebooks into ``dest`` (created if needed).

    Args:
        dest: the folder to copy into; each notebook goes to ``dest/<assignment>/<Name>.ipynb``.
        force: replace notebooks that are already there.

    Returns:
        The files written, in assignment order.

    Raises:
        UsageError: a notebook exists already and ``force`` is off (nothing is written then),
            or ``dest`` is a file.
        CourseError: this installation carries no student notebooks.
    """
    dest = Path(dest)
    notebooks = student_notebooks()
    if not notebooks:
        raise CourseError(f"no student notebooks in {paths.student_notebooks_dir()}: "
                          "reinstall resnet-signs (in a checkout: `make release`)")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file, not a folder: pass a folder to copy the notebooks into")
    targets = {dest / relative: source for relative, source in notebooks.items()}
    existing = [str(target) for target in targets if target.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: "
                         "copying would overwrite your work. Pass --force to replace, or choose another folder")
    for target, source in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return list(targets)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("get", help="copy the student notebooks into DEST (default: the current folder)",
                       description="Copy the released student notebooks into DEST/<assignment>/<Name>.ipynb.")
    p.add_argument("dest", nargs="?", type=Path, default=Path("."), metavar="DEST",
                   help="folder to copy into (default: the current folder)")
    p.add_argument("--force", action="store_true", help="replace notebooks that are already there")


def run(args: argparse.Namespace) -> int:
    for path in get(args.dest, force=args.force):
        print(f"wrote {path}")
    print("next: `resnet-signs lab` in this folder opens the assignment in JupyterLab")
    return 0

"""Adds the released student notebooks to the wheel; everything else is in pyproject.toml.

The notebooks are committed in ``assignments/<assignment>/<Name>.ipynb`` (``make release``
writes them there), outside the package; an installed package reads them as
``resnet_signs/assignments`` through importlib.resources (``resnet-signs notebooks get``).
Only that folder is copied: the solutions and the course directory hold answers and never ship.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RELEASE = Path(__file__).parent / "assignments"


class BuildWithStudentNotebooks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, which reads assignments/ directly
        notebooks = sorted(RELEASE.glob("*/*.ipynb"))
        if not notebooks:
            raise SystemExit(f"no student notebooks in {RELEASE}: run `make release` before building")
        for notebook in notebooks:
            target = Path(self.build_lib) / "resnet_signs" / "assignments" / notebook.relative_to(RELEASE)
            self.mkpath(str(target.parent))
            self.copy_file(str(notebook), str(target))


setup(cmdclass={"build_py": BuildWithStudentNotebooks})

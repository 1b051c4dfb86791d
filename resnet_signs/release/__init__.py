"""Release the course notebooks: one Markdown source -> nbgrader source, student release, solution.

Notebooks are authored as jupytext Markdown in ``autograder/source/<assignment>/<Name>.md``.
``release()`` (``make release``, ``resnet-signs release``) builds from each:

* ``autograder/source/<assignment>/<Name>.ipynb``: the nbgrader source notebook;
* ``assignments/<assignment>/<Name>.ipynb``: the student version from ``nbgrader generate_assignment``;
* ``solutions/<assignment>/<Name>.ipynb``: the solution without hidden tests, executed.

With translation catalogues beside the Markdown (``<assignment>/i18n/<lang>.yaml``, see
:mod:`.translations`), the release and the solution are also written in each language, under
``assignments/<assignment>/<lang>/`` and ``solutions/<assignment>/<lang>/``.

All of them are generated, marked so in their metadata and first cell, and byte-stable;
``release(check=True)`` (``--check``) reports those that are out of date.
"""

from resnet_signs.release.assignments import ASSIGNMENTS, Assignment, ReleaseError
from resnet_signs.release.cli import add_arguments, run
from resnet_signs.release.pipeline import STEPS, release

__all__ = ["ASSIGNMENTS", "STEPS", "Assignment", "ReleaseError", "add_arguments", "release", "run"]

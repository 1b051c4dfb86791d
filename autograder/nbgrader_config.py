"""nbgrader configuration of the Residual Networks course directory (this folder).

nbgrader reads this file when it runs from ``autograder/`` (``cd autograder && nbgrader
autograde residual_networks``); ``resnet-signs release`` loads it too, so the release, the
real nbgrader apps and the tests share one set of settings. Everything nbgrader writes
(gradebook, release/, submitted/, autograded/, feedback/) stays inside this folder and is
ignored by git.

Environment:
    RESNET_SIGNS_GRADEBOOK: SQLAlchemy URL of the gradebook (default
        ``sqlite:///<this folder>/gradebook.db``), e.g. to share one on a course server.
    NBGRADER_EXECUTION: set by nbgrader itself in the kernel while it validates or
        autogrades; ``resnet_signs.notebook.training_budget()`` then trains a tiny smoke budget.
"""

import os

c = get_config()  # noqa: F821 -- injected by traitlets' config loader

# The course root is this folder wherever it is copied to (tests grade in a tmp copy).
_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "resnet_signs"
c.CourseDirectory.root = _ROOT
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = os.environ.get(
    "RESNET_SIGNS_GRADEBOOK", "sqlite:///" + os.path.join(_ROOT, "gradebook.db")
)
# The jupytext Markdown next to each source notebook holds the solutions: never copy it
# into a release or a student's autograded folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]

# What students see in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Seconds per cell when nbgrader executes a notebook (validate, autograde). Under
# NBGRADER_EXECUTION the training cells run a smoke budget, so a cell needs far less than
# this; the limit only stops a runaway submission.
c.Execute.timeout = 300

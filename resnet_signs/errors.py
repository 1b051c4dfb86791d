"""The project's user-facing errors.

Anything a person can fix (missing data, a corrupt file, a bad argument) raises a
subclass of :class:`CourseError` whose message is one line that says what is wrong and
what to run next. The CLI prints it without a traceback and exits with status 2.
"""


class CourseError(Exception):
    """A problem the user can fix; ``str(error)`` is the whole message."""


class UsageError(CourseError):
    """A bad command-line argument or configuration value."""


class DataError(CourseError):
    """The SIGNS data is missing, corrupt or not in the expected layout."""

"""What the command line does with a mistake: one line on stderr and an exit status."""

from __future__ import annotations

USAGE = 2  # a bad command line: an unknown option, a value out of range
DATA = 1  # bad data or files: missing, unreadable, not a table, not a model


class CommandError(Exception):
    """A mistake the person can fix, told in one line; ``status`` is the exit status.

    Parameters
    ----------
    message : str
    status : int
        :data:`USAGE` (2) for the command line itself, :data:`DATA` (1) for the files.
    """

    def __init__(self, message: str, status: int = DATA):
        super().__init__(message)
        self.status = status


def one_line(error: BaseException) -> str:
    """``error`` as a single line for a person: an OSError names its file and reason."""
    if isinstance(error, OSError) and error.strerror:
        text = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())

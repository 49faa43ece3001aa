"""The command line, ``gmm-core`` (or ``python -m gmm_core``): fit, predict, score, sample.

::

    gmm-core fit points.parquet --components 1:8 --out model.json
    gmm-core predict model.json points.parquet --out labels.csv
    gmm-core score model.json new_points.csv
    gmm-core sample model.json 1000 --random-state 0 > drawn.csv

Modules: :mod:`~gmm_core.cli.arguments` (the grammar), :mod:`~gmm_core.cli.fit`
(``fit`` in one process), :mod:`~gmm_core.cli.torchrun` (``fit`` under torchrun),
:mod:`~gmm_core.cli.options` (the estimator's options for both),
:mod:`~gmm_core.cli.apply` (``predict``, ``score``, ``sample``), :mod:`~gmm_core.cli.files`
(tables, model files, atomic writes) and :mod:`~gmm_core.cli.progress` (bars on stderr).

A mistake is one line on stderr, never a traceback: exit status 2 for a bad command line,
1 for bad data or files.
"""

from __future__ import annotations

import os
import sys

from .arguments import PROG, check_together, parser
from .errors import DATA, CommandError, one_line

__all__ = ["main"]


def _command(name: str):
    """The function that runs subcommand ``name`` (imported only when it runs).

    The one place that chooses between ``fit`` in this process and ``fit`` on every
    process of a torchrun group (``WORLD_SIZE`` above 1).
    """
    if name == "fit":
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            from .torchrun import run
        else:
            from .fit import run
        return run
    from . import apply

    return getattr(apply, name)


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        args = parser().parse_args(argv)
        check_together(args)
        return _command(args.command)(args)
    except CommandError as error:
        print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
        return error.status
    except (ValueError, OSError) as error:
        if isinstance(error, BrokenPipeError):
            return _closed_stdout()
        print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
        return DATA
    except MemoryError:
        print(f"{PROG}: error: out of memory; use --stream or a smaller N", file=sys.stderr)
        return DATA
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _closed_stdout() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as other tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it

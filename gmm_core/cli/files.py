"""The command line's files: tables in, models in and out, CSV out; every write atomic."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

import numpy as np

from ..tables import describe_table, iter_table, read_table
from .errors import CommandError

__all__ = [
    "SkippedRows",
    "csv_header",
    "describe_table",
    "iter_table",
    "load_model",
    "output",
    "read_table",
    "save_model",
    "write_rows",
]


class SkippedRows:
    """Rows left out with ``--on-bad-rows skip``: how many, and the first line numbers."""

    SHOWN = 10

    def __init__(self) -> None:
        self.count = 0
        self.lines: list[int] = []

    def add(self, table) -> None:
        """Count a :class:`~gmm_core.tables.Table`'s (or a batch's) skipped rows."""
        self.count += table.n_skipped
        self.lines.extend(table.skipped_lines[: self.SHOWN - len(self.lines)])

    def report(self, path: str) -> None:
        """One line on stderr when rows were skipped (even with ``--quiet``: data was lost)."""
        if self.count:
            lines = ", ".join(map(str, self.lines))
            more = ", ..." if self.count > len(self.lines) else ""
            rows = "row" if self.count == 1 else "rows"
            where = "line" if describe_table(path).format == "csv" else "row"  # 1-based
            print(
                f"gmm-core: {path}: skipped {self.count} {rows} with a missing or non-finite "
                f"value ({where} {lines}{more})",
                file=sys.stderr,
            )


def load_model(path: str):
    """A fitted model from a JSON file, and the column names saved with it (or None).

    Returns
    -------
    model : GaussianMixture, GradientGaussianMixture or BayesianGaussianMixture
    columns : list of str or None

    Raises
    ------
    CommandError
        Status 1 when the file is missing, not JSON, not a model or not fitted.
    """
    from .. import BayesianGaussianMixture, GaussianMixture, GradientGaussianMixture
    from ..fitted.serialization import read_columns

    if os.path.isdir(path):
        raise CommandError(f"{path}: is a folder, not a model file")
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such model file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = error.reason if isinstance(error, UnicodeDecodeError) else error.msg
        raise CommandError(f"{path}: not a gmm_core model file (not JSON: {reason})") from None
    kinds = {
        cls.__name__: cls
        for cls in (GaussianMixture, GradientGaussianMixture, BayesianGaussianMixture)
    }
    kind = data.get("type") if isinstance(data, dict) else None
    try:
        model = kinds.get(kind, GaussianMixture).from_dict(data)
        if not model.__sklearn_is_fitted__():
            raise ValueError("the model was never fitted")
        return model, read_columns(data, model.n_features_in_)
    except ValueError as error:
        raise CommandError(f"{path}: not a fitted gmm_core model ({error})") from None


def save_model(path: str, model, columns: Sequence[str]) -> None:
    """Write ``model.to_dict()`` with the data's ``columns`` to ``path``, atomically."""
    from ..fitted.serialization import COLUMNS

    described = model.to_dict() | {COLUMNS: list(columns)}
    with output(path) as stream:
        json.dump(described, stream, allow_nan=False)


@contextmanager
def output(path: str | None) -> Iterator[TextIO]:
    """A text stream to ``path``, which appears only once complete; stdout for None.

    A failure while writing leaves an existing file as it was and no partial file.
    """
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CommandError(f"{path}: is a folder; give a file name to write")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".gmm-core-", suffix=".tmp")
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_rows(stream: TextIO, rows: np.ndarray, number: Callable[[object], str] = repr) -> None:
    """Rows of numbers as CSV lines; floats in their shortest exact form (``repr``).

    Parameters
    ----------
    stream : text stream
    rows : ndarray of shape (n_rows,) or (n_rows, n_columns)
    number : callable
        How one Python number is written.
    """
    values = rows.tolist()
    if rows.ndim == 1:
        lines = map(number, values)
    else:
        lines = (",".join(map(number, row)) for row in values)
    stream.write("".join(line + "\n" for line in lines))


def csv_header(names: Sequence[str]) -> str:
    """A CSV header line; names with a comma, a quote or a newline are quoted."""
    quoted = (
        '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name
        for name in names
    )
    return ",".join(quoted) + "\n"

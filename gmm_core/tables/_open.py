"""Opening a table file: its format by content, its source, and the checks on arguments.

Everything here serves :mod:`gmm_core.tables`; every failure a person can cause becomes a
ValueError naming the file.
"""

from __future__ import annotations

import numbers
import os
import stat
from collections.abc import Sequence

import pyarrow as pa

from ._assembly import BadRows
from ._binary import ArrowSource, NpySource, ParquetSource
from ._csv_sniff import NotText, read_sample, sniff_text
from ._csv_table import CsvSource
from ._types import NoRows, TableInfo

_MAGIC = {b"PAR1": "parquet", b"ARROW1": "arrow", b"\x93NUMPY": "npy", b"\xff\xff\xff\xff": "arrow"}
ON_BAD_ROWS = ("error", "skip")
_PACKED = {  # files people try that hold a table, packed
    b"\x1f\x8b": "a gzip-compressed file; decompress it first (gunzip)",
    b"PK\x03\x04": "a zip archive or an Excel workbook; export the table as CSV or Parquet",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook; export the table as CSV or Parquet",
}


def open_table(path, separator: str | None = None) -> TableReader:
    name = os.fspath(path)
    if separator is not None and (
        not isinstance(separator, str) or len(separator) != 1 or separator in '"\r\n'
    ):
        raise ValueError(f"{name}: separator must be one character, got {separator!r}.")
    try:
        status = os.stat(name)
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file.") from None
    except OSError as error:
        raise ValueError(f"{name}: cannot be read ({error.strerror or error}).") from None
    if stat.S_ISDIR(status.st_mode):
        raise ValueError(f"{name}: is a folder, not a table file.")
    try:
        with open(name, "rb") as handle:
            head = handle.read(8)
            for magic, what in _PACKED.items():
                if head.startswith(magic):
                    raise ValueError(f"{name}: {what}.")
            kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), "csv")
            reader = TableReader(name, status.st_size, lambda: pa.OSFile(name), kind)
            if kind == "csv":
                reader.source = reader.text_source(handle, separator)
                return reader
        with reader.errors():
            if kind == "parquet":
                reader.source = ParquetSource(name)
            elif kind == "npy":
                reader.source = NpySource(name)
            else:
                reader.source = ArrowSource(name, stream=not head.startswith(b"ARROW1"))
    except OSError as error:
        raise ValueError(f"{name}: cannot be read ({error.strerror or error}).") from None
    return reader


class TableReader:
    """One file being read: its name, its format's source, and the checks on the arguments."""

    def __init__(self, name: str, size: int, opener, kind: str):
        self.name = name
        self.size = size
        self.opener = opener
        self.kind = kind
        self.source = None

    def text_source(self, handle, separator: str | None = None) -> CsvSource:
        """The source for delimited text, its layout sniffed from ``handle``'s first bytes."""
        if self.size == 0:
            raise NoRows(f"{self.name}: no rows of numbers (the file is empty).")
        try:
            layout = sniff_text(read_sample(handle, self.size), separator)
        except NotText as error:
            raise ValueError(f"{self.name}: {error}.") from None
        if layout is None:
            raise NoRows(f"{self.name}: no rows of numbers (only comments and blank lines).")
        if layout.n_sample_rows == 0:
            raise NoRows(
                f"{self.name}: no rows of numbers (only a header: {', '.join(layout.columns)}).",
                layout.columns,
            )
        return CsvSource(self.opener, self.size, layout)

    @property
    def info(self) -> TableInfo:
        """What the file holds (refused as :class:`NoRows` when it is known to hold none)."""
        source = self.source
        columns = source.layout.columns if self.kind == "csv" else source.columns
        numeric = source.layout.numeric if self.kind == "csv" else source.numeric
        n_rows = None if self.kind == "csv" else source.n_rows
        if n_rows == 0:
            raise NoRows(f"{self.name}: no rows of numbers (the table is empty).", columns)
        return TableInfo(
            self.name, self.kind, list(columns), [columns[j] for j in numeric], n_rows, self.size
        )

    def close(self) -> None:
        """Let go of the file (sources that hold one open)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def take_part(self, part) -> None:
        """Read only part ``index`` of ``count`` (checked)."""
        if (
            not isinstance(part, tuple | list)
            or len(part) != 2
            or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in part)
            or not 0 <= part[0] < part[1]
        ):
            raise ValueError(f"{self.name}: part must be (index, count), got {part!r}.")
        with self.errors():
            self.source = self.source.part(int(part[0]), int(part[1]))

    def prepare(self, columns, on_bad_rows) -> tuple[list[int], list[str], BadRows]:
        """The chosen columns' positions and names, and the bad-row policy; checked."""
        if on_bad_rows not in ON_BAD_ROWS:
            raise ValueError(
                f"{self.name}: on_bad_rows must be 'error' or 'skip', got {on_bad_rows!r}."
            )
        info = self.info
        chosen = _chosen_columns(info, columns)
        names = [info.columns[j] for j in chosen]
        return chosen, names, BadRows(self.name, on_bad_rows, self.kind == "csv")

    def errors(self):
        """A context in which any failure of the libraries becomes a ValueError naming the file."""
        return _ReadErrors(self.name, self.kind)


class _ReadErrors:
    """Turns what pyarrow, numpy or the system raise while reading into a ValueError."""

    def __init__(self, name: str, kind: str):
        self.name, self.kind = name, kind

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, NoRows) or getattr(error, "from_reader", False):
            return False
        if isinstance(error, pa.ArrowException | OSError | ValueError | TypeError):
            detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            wrapped = ValueError(f"{self.name}: not a readable {self.kind} table ({detail}).")
            wrapped.from_reader = True
            raise wrapped from None
        return False


def _chosen_columns(info: TableInfo, columns) -> list[int]:
    if columns is None:
        if not info.numeric:
            raise ValueError(
                f"{info.path}: no numeric columns (columns: {', '.join(info.columns)})."
            )
        return [info.columns.index(name) for name in info.numeric]
    if isinstance(columns, str | bytes | numbers.Integral) or not isinstance(columns, Sequence):
        raise ValueError(
            f"{info.path}: columns must be a list of names or positions, got {columns!r}."
        )
    if not columns:
        raise ValueError(f"{info.path}: no columns chosen.")
    chosen = []
    for column in columns:
        if isinstance(column, str):
            if column not in info.columns:
                raise ValueError(
                    f"{info.path}: no column named {column!r} (columns: {', '.join(info.columns)})."
                )
            chosen.append(info.columns.index(column))
        elif isinstance(column, numbers.Integral) and not isinstance(column, bool):
            if not 0 <= column < len(info.columns):
                raise ValueError(
                    f"{info.path}: no column at position {column} "
                    f"(the table has {len(info.columns)} columns, 0 to {len(info.columns) - 1})."
                )
            chosen.append(int(column))
        else:
            raise ValueError(f"{info.path}: a column is a name or a position, got {column!r}.")
    numeric = set(info.numeric)
    for j in chosen:
        if info.columns[j] not in numeric:
            raise ValueError(f"{info.path}: column {info.columns[j]!r} is not numeric.")
    return chosen

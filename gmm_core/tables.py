"""Tables of numbers from files: CSV and other delimited text, Parquet, Arrow, ``.npy``.

One reader for gmm_core, the command line and the program, built on pyarrow. The format
is told by the file's content (its first bytes), whatever its name says:

- delimited text (``.csv``, ``.tsv``, ``.txt``, ...): UTF-8 with or without a BOM; the
  separator is sniffed (comma, semicolon, tab, or runs of spaces); a first line that
  names the columns is a header; ``#`` lines and blank lines are skipped; fields may be
  quoted;
- Parquet; Arrow IPC files and streams (Feather version 2);
- ``.npy`` arrays of shape (n, d) or (n,), or of records with named fields, read through
  a memory map (``allow_pickle=False``).

Columns are chosen by name or 0-based position; by default every numeric column.
A row whose chosen values are not all finite numbers (missing, NaN, infinite, text, or a
line with the wrong number of fields) stops the read with a ValueError naming the file and
its line (``on_bad_rows="error"``), or is skipped and counted (``"skip"``).

Example
-------
>>> from gmm_core.tables import read_table
>>> table = read_table("measurements.parquet", ["length", "width"])  # doctest: +SKIP
>>> table.data.shape  # doctest: +SKIP
(150, 2)
"""

from __future__ import annotations

import io
import numbers
import os
import stat
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa

from ._binary_tables import ArrowSource, NpySource, ParquetSource
from ._csv_sniff import NotText, read_sample, sniff_text
from ._csv_table import CsvSource
from ._kmeans import Cancelled
from ._table_assembly import Assembler, BadRows, Rebatcher
from ._table_types import NoRows, Table, TableInfo

__all__ = [
    "NoRows",
    "Table",
    "TableInfo",
    "describe_table",
    "iter_table",
    "read_table",
    "table_from_text",
]

_MAGIC = {b"PAR1": "parquet", b"ARROW1": "arrow", b"\x93NUMPY": "npy", b"\xff\xff\xff\xff": "arrow"}
ON_BAD_ROWS = ("error", "skip")


def describe_table(path: str | os.PathLike) -> TableInfo:
    """What is in a table file, read cheaply: its format, columns and (where known) rows.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    TableInfo

    Raises
    ------
    ValueError
        Naming the file, if it is missing, a folder, empty, a header only, or not a table.
    """
    return _open(path).info


def read_table(
    path: str | os.PathLike,
    columns: Sequence[str | int] | None = None,
    *,
    on_bad_rows: str = "error",
    progress: Callable[[float], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
    separator: str | None = None,
    part: tuple[int, int] | None = None,
) -> Table:
    """Read the chosen columns of a table file as one float64 array.

    Parameters
    ----------
    path : str or path-like
    columns : sequence of str or int, optional
        Column names or 0-based positions, in the order wanted; every numeric column by
        default. A chosen column that is not numeric is refused.
    on_bad_rows : {"error", "skip"}
        What a row whose chosen values are not all finite numbers does: stop the read with
        a ValueError naming its line, or be skipped (counted in the result).
    progress : callable, optional
        Called now and then with the fraction of the file read, in [0, 1].
    cancelled : callable, optional
        Polled between blocks; once it returns True the read stops with
        :class:`gmm_core.Cancelled`.
    separator : str, optional
        For delimited text: this one-character separator instead of a sniffed one.
    part : (int, int), optional
        ``(index, count)``: read only the index-th of ``count`` parts of the file, as one
        of ``count`` processes does (:mod:`gmm_core.shards`): Parquet row groups, Arrow
        record batches, ``.npy`` rows, text byte ranges aligned to line starts. Together
        the parts are the whole file, in order; a part may hold no rows.

    Returns
    -------
    Table
        ``data`` of shape (n_rows, len(columns)); peak memory while reading stays near the
        size of that array.

    Raises
    ------
    ValueError
        With a message for a person naming the file: missing, a folder, empty, a header
        only, not a table, an unknown or non-numeric column, a bad row, or no rows left.
    gmm_core.Cancelled
        When ``cancelled`` said so.
    """
    reader = _open(path, separator)
    chosen, names, bad = reader.prepare(columns, on_bad_rows)
    if part is not None:
        reader.take_part(part)
    assembler = Assembler(reader.source.estimate_rows(), len(chosen))
    with reader.errors():
        for block in reader.source.blocks(chosen):
            if cancelled is not None and cancelled():
                raise Cancelled
            good, error = bad.screen(block)
            assembler.append(good)
            if error is not None:
                raise error
            if progress is not None:
                progress(block.fraction)
    data = assembler.finish()
    if part is None:
        bad.check_some_rows(data.shape[0])
    if progress is not None:
        progress(1.0)
    return Table(data, names, bad.n_skipped, tuple(bad.lines), reader.name)


def iter_table(
    path: str | os.PathLike,
    columns: Sequence[str | int] | None = None,
    *,
    batch_rows: int = 65536,
    on_bad_rows: str = "error",
    separator: str | None = None,
) -> Iterator[Table]:
    """Read a table file in batches, holding about one batch in memory at a time.

    Parameters
    ----------
    path, columns, on_bad_rows, separator
        As for :func:`read_table`.
    batch_rows : int
        Rows per batch; every batch but the last has exactly this many.

    Returns
    -------
    iterator of Table
        One per batch; ``n_skipped`` and ``skipped_lines`` count the rows skipped since the
        previous batch. With ``on_bad_rows="error"`` the batches before a bad row are
        handed out before the ValueError.

    Raises
    ------
    ValueError
        At once, for a file that cannot be read, an unknown column or a bad ``batch_rows``;
        while iterating, for a bad row.
    """
    if (
        isinstance(batch_rows, bool)
        or not isinstance(batch_rows, numbers.Integral)
        or batch_rows < 1
    ):
        raise ValueError(f"batch_rows must be a positive integer, got {batch_rows!r}.")
    reader = _open(path, separator)
    chosen, names, bad = reader.prepare(columns, on_bad_rows)
    return _batches(reader, chosen, names, bad, int(batch_rows))


def _batches(reader, chosen, names, bad: BadRows, batch_rows: int) -> Iterator[Table]:
    batches = Rebatcher(batch_rows, len(chosen))
    n_rows = 0
    with reader.errors():
        for block in reader.source.blocks(chosen):
            good, error = bad.screen(block)
            for data in batches.add(good):
                n_rows += data.shape[0]
                yield Table(data, names, *bad.since_last(), reader.name)
            if error is not None:
                raise error
    data = batches.rest()
    n_rows += data.shape[0]
    bad.check_some_rows(n_rows)
    if data.shape[0] or bad.n_skipped:
        yield Table(data, names, *bad.since_last(), reader.name)


def table_from_text(
    text: str,
    name: str = "The text",
    columns: Sequence[str | int] | None = None,
    *,
    on_bad_rows: str = "error",
) -> Table:
    """Read delimited text held in memory (pasted text, say) as :func:`read_table` reads a file.

    ``name`` stands for the file in messages.
    """
    data = text.encode("utf-8", "surrogatepass")
    reader = _TableReader(name, len(data), lambda: pa.BufferReader(data), "csv")
    reader.source = reader.text_source(io.BytesIO(data))
    chosen, names, bad = reader.prepare(columns, on_bad_rows)
    assembler = Assembler(reader.source.estimate_rows(), len(chosen))
    with reader.errors():
        for block in reader.source.blocks(chosen):
            good, error = bad.screen(block)
            assembler.append(good)
            if error is not None:
                raise error
    result = assembler.finish()
    bad.check_some_rows(result.shape[0])
    return Table(result, names, bad.n_skipped, tuple(bad.lines), name)


# -- opening a file ------------------------------------------------------------------------


def _open(path, separator: str | None = None) -> _TableReader:
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
            kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), "csv")
            reader = _TableReader(name, status.st_size, lambda: pa.OSFile(name), kind)
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


class _TableReader:
    """One file being read: its name, its format's source, and the checks on the arguments."""

    def __init__(self, name: str, size: int, opener, kind: str):
        self.name = name
        self.size = size
        self.opener = opener
        self.kind = kind
        self.source = None

    def text_source(self, handle, separator: str | None = None) -> CsvSource:
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
        source = self.source
        columns = source.layout.columns if self.kind == "csv" else source.columns
        numeric = source.layout.numeric if self.kind == "csv" else source.numeric
        n_rows = None if self.kind == "csv" else source.n_rows
        if n_rows == 0:
            raise NoRows(f"{self.name}: no rows of numbers (the table is empty).", columns)
        return TableInfo(
            self.name, self.kind, list(columns), [columns[j] for j in numeric], n_rows, self.size
        )

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

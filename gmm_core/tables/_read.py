"""The reader functions of :mod:`gmm_core.tables` (see there for the formats), on pyarrow."""

from __future__ import annotations

import io
import numbers
import os
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa

from ..parts.cancel import Cancelled
from ._assembly import Assembler, BadRows, Rebatcher
from ._open import TableReader, open_table
from ._types import NoRows, Table, TableInfo

__all__ = [
    "NoRows",
    "Table",
    "TableInfo",
    "describe_table",
    "iter_table",
    "read_table",
    "table_from_text",
]


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
    reader = open_table(path)
    try:
        return reader.info
    finally:
        reader.close()


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
        size of that array. Its ``format`` and ``numeric`` say what the file is and which
        numeric columns it holds: ``read_table(path)`` both learns the numeric columns and
        reads them in one open of the file, with no :func:`describe_table` first.

    Raises
    ------
    ValueError
        With a message for a person naming the file: missing, a folder, empty, a header
        only, not a table, an unknown or non-numeric column, a bad row, or no rows left.
    gmm_core.Cancelled
        When ``cancelled`` said so.
    """
    reader = open_table(path, separator)
    try:
        chosen, names, bad = reader.prepare(columns, on_bad_rows)
        numeric = reader.info.numeric
        if part is not None:
            reader.take_part(part)
        data = _gather(reader, chosen, bad, progress, cancelled)
    finally:
        reader.close()
    if part is None:
        bad.check_some_rows(data.shape[0])
    if progress is not None:
        progress(1.0)
    return Table(data, names, bad.n_skipped, tuple(bad.lines), reader.name, reader.kind, numeric)


def _gather(reader, chosen, bad: BadRows, progress=None, cancelled=None):
    """Every good row of the reader's source in one array (n_rows, len(chosen))."""
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
    return assembler.finish()


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
    reader = open_table(path, separator)
    try:
        chosen, names, bad = reader.prepare(columns, on_bad_rows)
    except BaseException:
        reader.close()
        raise
    return _batches(reader, chosen, names, bad, int(batch_rows))


def _batches(reader, chosen, names, bad: BadRows, batch_rows: int) -> Iterator[Table]:
    found = reader.kind, reader.info.numeric  # the format and numeric columns of each batch
    batches = Rebatcher(batch_rows, len(chosen))
    n_rows = 0
    try:
        with reader.errors():
            for block in reader.source.blocks(chosen):
                good, error = bad.screen(block)
                for data in batches.add(good):
                    n_rows += data.shape[0]
                    yield Table(data, names, *bad.since_last(), reader.name, *found)
                if error is not None:
                    raise error
    finally:
        reader.close()
    data = batches.rest()
    n_rows += data.shape[0]
    bad.check_some_rows(n_rows)
    if data.shape[0] or bad.n_skipped:
        yield Table(data, names, *bad.since_last(), reader.name, *found)


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
    reader = TableReader(name, len(data), lambda: pa.BufferReader(data), "csv")
    reader.source = reader.text_source(io.BytesIO(data))
    chosen, names, bad = reader.prepare(columns, on_bad_rows)
    numeric = reader.info.numeric
    data = _gather(reader, chosen, bad)
    bad.check_some_rows(data.shape[0])
    return Table(data, names, bad.n_skipped, tuple(bad.lines), name, "csv", numeric)

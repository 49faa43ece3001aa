"""The one table reader: numbers from CSV and other delimited text, Parquet, Arrow, ``.npy``.

One reader for gmm_core, the command line and the program, built on pyarrow. The format
is told by the file's content (its first bytes), whatever its name says:

- delimited text (``.csv``, ``.tsv``, ``.txt``, ...): UTF-8 with or without a BOM; the
  separator is sniffed (comma, semicolon, tab, or runs of spaces), and decimal commas
  (``3,14``) where the separator is not a comma; a first line that
  names the columns is a header; ``#`` lines and blank lines are skipped; fields may be
  quoted;
- Parquet; Arrow IPC files and streams (Feather version 2);
- ``.npy`` arrays of shape (n, d) or (n,), or of records with named fields, read through
  a memory map (``allow_pickle=False``).

Columns are chosen by name or 0-based position; by default every numeric column.
A row whose chosen values are not all finite numbers (missing, NaN, infinite, text, or a
line with the wrong number of fields) stops the read with a ValueError naming the file and
its line (``on_bad_rows="error"``), or is skipped and counted (``"skip"``).

Importing this package is cheap: pyarrow loads when a reader function is first used
(PEP 562), so that a program's GUI thread may ``from gmm_core import tables`` at start-up.
The records (:class:`Table`, :class:`TableInfo`, :class:`NoRows`) need numpy only.

One open of the file: ``read_table(path)`` reads every numeric column, and its result
says what the file held (``table.format``, ``table.numeric``) beside the numbers
(``table.data``, ``table.columns``), so that a caller need not :func:`describe_table`
first. :func:`describe_table` is for when the numbers are not wanted (yet).

Example
-------
>>> from gmm_core.tables import read_table
>>> table = read_table("measurements.parquet", ["length", "width"])  # doctest: +SKIP
>>> table.data.shape  # doctest: +SKIP
(150, 2)
>>> every = read_table("measurements.parquet")  # doctest: +SKIP
>>> every.format, every.numeric  # doctest: +SKIP
('parquet', ['length', 'width', 'weight'])
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._read import describe_table, iter_table, read_table, table_from_text
    from ._types import NoRows, Table, TableInfo

# Each public name and the module that defines it (loaded on first use).
_HOMES = {
    "NoRows": "._types",
    "Table": "._types",
    "TableInfo": "._types",
    "describe_table": "._read",
    "iter_table": "._read",
    "read_table": "._read",
    "table_from_text": "._read",
}

__all__ = [
    "NoRows",
    "Table",
    "TableInfo",
    "describe_table",
    "iter_table",
    "read_table",
    "table_from_text",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Parquet, Arrow IPC (Feather) and ``.npy`` files read in blocks of float64 rows.

Each source names its columns, says which are numeric, and hands out
:class:`gmm_core._table_types.Block` objects whose rows are numbered 1, 2, ... from the
file's first row (a binary file has no lines).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._table_types import Block

#: Rows per block of a binary file.
BLOCK_ROWS = 1 << 16


def _numeric_type(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _row_locate(first: int):
    """Refs (positions in a block starting at row ``first``, 0-based) -> 1-based rows."""

    def locate(refs):
        return [(first + int(ref) + 1, None) for ref in refs]

    return locate


def _arrow_block(batch, chosen_names, first: int, fraction: float) -> Block:
    values = np.empty((batch.num_rows, len(chosen_names)))
    for j, name in enumerate(chosen_names):
        column = pc.cast(batch.column(name), pa.float64())
        values[:, j] = column.to_numpy(zero_copy_only=False)
    return Block(values, fraction, _row_locate(first))


class ParquetSource:
    """A Parquet file, read row group by row group, one block of rows at a time."""

    format = "parquet"

    def __init__(self, path: str):
        self.file = pq.ParquetFile(path, memory_map=False)
        schema = self.file.schema_arrow
        self.columns = list(schema.names)
        self.numeric = [j for j, item in enumerate(schema) if _numeric_type(item.type)]
        self.n_rows = self.file.metadata.num_rows

    def group_rows(self) -> list[int]:
        """The number of rows of each row group."""
        metadata = self.file.metadata
        return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]

    def blocks(self, chosen: list[int], row_groups: list[int] | None = None) -> Iterator[Block]:
        """Blocks of the chosen columns, from every row group or from ``row_groups``."""
        sizes = self.group_rows()
        groups = list(range(len(sizes))) if row_groups is None else list(row_groups)
        first = sum(sizes[i] for i in range(groups[0])) if groups else 0
        total = max(sum(sizes[i] for i in groups), 1)
        names = [self.columns[j] for j in chosen]
        done = 0
        for group in groups:
            first = sum(sizes[:group])
            for batch in self.file.iter_batches(
                BLOCK_ROWS, row_groups=[group], columns=names, use_threads=False
            ):
                done += batch.num_rows
                yield _arrow_block(batch, names, first, done / total)
                first += batch.num_rows


class ArrowSource:
    """An Arrow IPC file (Feather version 2) or stream, read record batch by record batch."""

    format = "arrow"

    def __init__(self, path: str, stream: bool):
        self.path = path
        self.stream = stream
        with self._open() as reader:
            schema = reader.schema
            self.n_rows = (
                None
                if stream
                else sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
            )
        self.columns = list(schema.names)
        self.numeric = [j for j, item in enumerate(schema) if _numeric_type(item.type)]

    def _open(self):
        source = pa.memory_map(self.path)
        return pa.ipc.open_stream(source) if self.stream else pa.ipc.open_file(source)

    def batch_rows(self) -> list[int]:
        """The number of rows of each record batch (of a file; a stream has no index)."""
        with self._open() as reader:
            return [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]

    def blocks(self, chosen: list[int], batches: list[int] | None = None) -> Iterator[Block]:
        """Blocks of the chosen columns, from every record batch or from ``batches``."""
        names = [self.columns[j] for j in chosen]
        with self._open() as reader:
            if self.stream:
                items = iter(reader)
                first_rows = None
            else:
                sizes = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
                wanted = range(len(sizes)) if batches is None else batches
                items = (reader.get_batch(i) for i in wanted)
                first_rows = iter([sum(sizes[:i]) for i in wanted])
            first = 0
            for batch in items:
                if first_rows is not None:
                    first = next(first_rows)
                fraction = (
                    1.0 if self.n_rows is None else (first + batch.num_rows) / max(self.n_rows, 1)
                )
                for start in range(0, max(batch.num_rows, 1), BLOCK_ROWS):
                    piece = batch.slice(start, BLOCK_ROWS)
                    yield _arrow_block(piece, names, first + start, fraction)
                first += batch.num_rows


class NpySource:
    """A ``.npy`` array (2-D, 1-D, or 1-D with named fields), read through a memory map."""

    format = "npy"

    def __init__(self, path: str):
        self.array = np.load(path, mmap_mode="r", allow_pickle=False)
        array = self.array
        if array.dtype.names:
            if array.ndim != 1:
                raise ValueError(f"an array of records of shape {array.shape} (1-D expected)")
            self.columns = list(array.dtype.names)
            self.numeric = [
                j for j, name in enumerate(self.columns) if array.dtype[name].kind in "iuf"
            ]
        else:
            if array.ndim not in (1, 2):
                raise ValueError(
                    f"an array of shape {array.shape}; give shape (n_samples, n_features)"
                )
            width = 1 if array.ndim == 1 else array.shape[1]
            self.columns = [f"column {j + 1}" for j in range(width)]
            self.numeric = list(range(width)) if array.dtype.kind in "iuf" else []
        self.n_rows = int(array.shape[0])

    def blocks(self, chosen: list[int], start: int = 0, stop: int | None = None):
        """Blocks of the chosen columns, of rows ``start`` to ``stop`` (all by default)."""
        array = self.array
        stop = self.n_rows if stop is None else stop
        for first in range(start, stop, BLOCK_ROWS):
            rows = array[first : min(first + BLOCK_ROWS, stop)]
            if array.dtype.names:
                values = np.empty((rows.shape[0], len(chosen)))
                for j, column in enumerate(chosen):
                    values[:, j] = rows[self.columns[column]]
            elif array.ndim == 1:
                values = np.asarray(rows, dtype=np.float64).reshape(-1, 1)[:, [0] * len(chosen)]
            else:
                values = np.asarray(rows[:, chosen], dtype=np.float64)
            fraction = (first + rows.shape[0] - start) / max(stop - start, 1)
            yield Block(values, fraction, _row_locate(first))

"""Parquet, Arrow IPC (Feather) and ``.npy`` files read in blocks of float64 rows.

Each source names its columns, says which are numeric, and hands out
:class:`gmm_core.tables._types.Block` objects whose rows are numbered 1, 2, ... from the
file's first row (a binary file has no lines).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._types import Block

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


def _split(sizes: list[int], index: int, count: int) -> list[int]:
    """The pieces (row groups, record batches) of part ``index`` of ``count``.

    A piece belongs to the part whose even share of the rows holds its first row, so that
    the parts together are every piece, in order.
    """
    total = max(sum(sizes), 1)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes else np.empty(0)
    return [i for i, first in enumerate(firsts) if int(first) * count // total == index]


class ParquetSource:
    """A Parquet file, read row group by row group, one block of rows at a time."""

    format = "parquet"

    def __init__(self, path: str):
        # Buffered page by page: the whole column chunk is never held at once.
        self.file = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
        schema = self.file.schema_arrow
        self.columns = list(schema.names)
        self.numeric = [j for j, item in enumerate(schema) if _numeric_type(item.type)]
        self.n_rows = self.file.metadata.num_rows
        metadata = self.file.metadata
        self.sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        self.groups = list(range(len(self.sizes)))

    def close(self) -> None:
        """Close the file."""
        self.file.close()

    def part(self, index: int, count: int) -> ParquetSource:
        """The same file, reading only the row groups of part ``index`` of ``count``."""
        part = copy.copy(self)
        part.groups = _split(self.sizes, index, count)
        return part

    def estimate_rows(self) -> int:
        """The rows of the row groups read."""
        return sum(self.sizes[i] for i in self.groups)

    def blocks(self, chosen: list[int]) -> Iterator[Block]:
        """Blocks of the chosen columns, row group by row group."""
        total = max(self.estimate_rows(), 1)
        names = [self.columns[j] for j in chosen]
        done = 0
        for group in self.groups:
            first = sum(self.sizes[:group])
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
            self.columns = list(reader.schema.names)
            self.numeric = [j for j, item in enumerate(reader.schema) if _numeric_type(item.type)]
            if stream:
                self.sizes = [batch.num_rows for batch in reader]
            else:
                self.sizes = [
                    reader.get_batch(i).num_rows for i in range(reader.num_record_batches)
                ]
        self.n_rows = sum(self.sizes)  # a stream is memory-mapped: its batches are cheap to count
        self.batches = list(range(len(self.sizes)))

    def _open(self):
        source = pa.memory_map(self.path)
        return pa.ipc.open_stream(source) if self.stream else pa.ipc.open_file(source)

    def part(self, index: int, count: int) -> ArrowSource:
        """The same file, reading only the record batches of part ``index`` of ``count``."""
        part = copy.copy(self)
        part.batches = _split(self.sizes, index, count)
        return part

    def estimate_rows(self) -> int:
        """The rows of the record batches read."""
        return sum(self.sizes[i] for i in self.batches)

    def blocks(self, chosen: list[int]) -> Iterator[Block]:
        """Blocks of the chosen columns, record batch by record batch."""
        names = [self.columns[j] for j in chosen]
        wanted = set(self.batches)
        total = max(self.estimate_rows(), 1)
        done = first = 0
        with self._open() as reader:
            if self.stream:
                items = enumerate(reader)
            else:
                items = ((i, reader.get_batch(i)) for i in self.batches)
            for i, batch in items:
                first = sum(self.sizes[:i])
                if i not in wanted:
                    continue
                done += batch.num_rows
                for start in range(0, batch.num_rows, BLOCK_ROWS):
                    piece = batch.slice(start, BLOCK_ROWS)
                    yield _arrow_block(piece, names, first + start, done / total)


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
        self.rows = (0, self.n_rows)

    def part(self, index: int, count: int) -> NpySource:
        """The same array, reading only rows ``[n index / count, n (index + 1) / count)``."""
        part = copy.copy(self)
        part.rows = (self.n_rows * index // count, self.n_rows * (index + 1) // count)
        return part

    def estimate_rows(self) -> int:
        """The rows read."""
        return self.rows[1] - self.rows[0]

    def blocks(self, chosen: list[int]) -> Iterator[Block]:
        """Blocks of the chosen columns."""
        array = self.array
        start, stop = self.rows
        for first in range(start, stop, BLOCK_ROWS):
            rows = array[first : min(first + BLOCK_ROWS, stop)]
            if array.dtype.names:
                values = np.empty((rows.shape[0], len(chosen)))
                for j, column in enumerate(chosen):
                    values[:, j] = rows[self.columns[column]]
            elif array.ndim == 1:
                values = np.repeat(np.asarray(rows, dtype=np.float64)[:, None], len(chosen), 1)
            else:
                values = np.asarray(rows[:, chosen], dtype=np.float64)
            fraction = (first + rows.shape[0] - start) / max(stop - start, 1)
            yield Block(values, fraction, _row_locate(first))

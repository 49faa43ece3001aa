"""A stand-in for gmm_core.tables (branch h9-tables) until it lands: .npy and CSV only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..shards import read_shard
from ..streaming import _header


@dataclass(frozen=True)
class TableInfo:
    path: str
    format: str
    columns: list[str]
    numeric: list[str]
    n_rows: int | None
    n_bytes: int


@dataclass(frozen=True)
class Table:
    data: np.ndarray
    columns: list[str]
    n_skipped: int
    skipped_lines: tuple[int, ...]
    path: str


def describe_table(path) -> TableInfo:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file.")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder, not a table.")
    if Path(path).suffix.lower() == ".npy":
        array = np.load(path, mmap_mode="r")
        names = [f"column {i + 1}" for i in range(array.shape[1])]
        return TableInfo(path, "npy", names, names, array.shape[0], os.path.getsize(path))
    with open(path, errors="replace") as handle:
        first = handle.readline()
    header = _header(first, ",") if first.strip() else None
    n = len(first.split(","))
    names = header or [f"column {i + 1}" for i in range(n)]
    return TableInfo(path, "csv", names, names, None, os.path.getsize(path))


def read_table(path, columns=None, *, on_bad_rows="error", progress=None, cancelled=None):
    info = describe_table(path)
    data = read_shard(path)
    if data.shape[0] == 0:
        raise ValueError(f"{info.path}: no rows of numbers.")
    if not np.isfinite(data).all():
        raise ValueError(f"{info.path}: NaN or infinite value.")
    names = info.columns
    if columns is not None:
        indices = []
        for column in columns:
            if isinstance(column, str):
                if column not in names:
                    raise ValueError(f"{info.path}: no column named {column!r}.")
                indices.append(names.index(column))
            else:
                indices.append(column)
        data, names = np.ascontiguousarray(data[:, indices]), [names[i] for i in indices]
    if progress is not None:
        progress(1.0)
    return Table(data, names, 0, (), info.path)


def iter_table(path, columns=None, *, batch_rows=65536, on_bad_rows="error") -> Iterator[Table]:
    table = read_table(path, columns, on_bad_rows=on_bad_rows)
    for start in range(0, table.data.shape[0], batch_rows):
        yield Table(table.data[start : start + batch_rows], table.columns, 0, (), table.path)

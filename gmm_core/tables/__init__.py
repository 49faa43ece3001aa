"""Tables of numbers from files: the one reader of CSV, Parquet, Arrow and ``.npy``."""

from ._read import NoRows, Table, TableInfo, describe_table, iter_table, read_table, table_from_text

__all__ = [
    "NoRows",
    "Table",
    "TableInfo",
    "describe_table",
    "iter_table",
    "read_table",
    "table_from_text",
]

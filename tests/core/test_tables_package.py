"""gmm_core.tables as a package: a cheap import, and one open to learn and read the columns."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gmm_core.tables
from gmm_core.tables import _read, iter_table, read_table, table_from_text

from .test_tables import KINDS, _points, write

FORMATS = {"csv": "csv", "parquet": "parquet", "feather": "arrow", "arrow stream": "arrow"}


def test_importing_the_package_loads_neither_pyarrow_nor_torch():
    code = (
        "import sys\n"
        "from gmm_core import tables\n"
        "import gmm_core.tables\n"
        "heavy = [m for m in ('pyarrow', 'torch', 'scipy', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(tables.read_table) and 'pyarrow' in sys.modules\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_package_shows_and_offers_its_public_names_only():
    assert dir(gmm_core.tables) == sorted(gmm_core.tables.__all__)
    for name in gmm_core.tables.__all__:
        assert getattr(gmm_core.tables, name) is getattr(_read, name)
    with pytest.raises(AttributeError, match="no attribute 'reader'"):
        gmm_core.tables.reader  # noqa: B018


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_tells_the_format_found_and_the_numeric_columns(tmp_path, kind):
    path = write(tmp_path / "points.data", _points(n=50), kind)  # the name says nothing
    table = read_table(path, [1])
    assert table.format == FORMATS.get(kind, kind)
    names = ["column 1", "column 2", "column 3"] if kind == "npy" else ["x", "y", "z"]
    assert table.numeric == names and table.columns == [names[1]]
    batches = list(iter_table(path, [2], batch_rows=20))
    assert [(b.format, b.numeric) for b in batches] == [(table.format, names)] * 3


def test_one_open_learns_the_numeric_columns_and_reads_them(tmp_path, monkeypatch):
    path = tmp_path / "mixed.csv"
    path.write_text("name,x,kind,y\na,1.5,p,2\nb,3,q,4.25\n")
    opened = []
    real_open = _read.open_table
    monkeypatch.setattr(_read, "open_table", lambda *a: opened.append(a) or real_open(*a))
    table = read_table(path)
    assert len(opened) == 1
    assert table.format == "csv"
    assert table.numeric == table.columns == ["x", "y"]
    np.testing.assert_array_equal(table.data, [[1.5, 2.0], [3.0, 4.25]])


def test_text_in_memory_is_csv():
    table = table_from_text("a b\n1 2\n3 4\n")
    assert (table.format, table.numeric, table.columns) == ("csv", ["a", "b"], ["a", "b"])

"""Points read from files as File > Open reads them, pasted text, and CSV written back."""

from __future__ import annotations

import numpy as np
import pytest

from app.files.file_loader import ColumnsNeeded, read_document
from app.files.point_files import points_from_text, write_points


def read_points(path) -> np.ndarray:
    """The points File > Open takes from ``path`` (a table of two numeric columns)."""
    return np.asarray(read_document(path).data.points)


@pytest.mark.parametrize("separator", [",", ";", "\t", " ", "  "])
def test_files_with_headers_comments_and_separators_open(tmp_path, separator):
    path = tmp_path / "p.csv"
    rows = ["eruptions", "waiting"], ["3.6", "79"], ["1.8", "54"], [" 2.5", "70 "]
    lines = [separator.join(row) for row in rows]
    path.write_text("# comment\n" + "\n".join(lines[:3]) + "\n\n" + lines[3] + "\n")
    np.testing.assert_array_equal(read_points(path), [[3.6, 79], [1.8, 54], [2.5, 70]])


def test_a_table_of_more_than_two_columns_asks_which(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ColumnsNeeded) as question:
        read_document(path)
    assert len(question.value.numeric) == 3
    document = read_document(path, question.value.numeric[:2])
    np.testing.assert_array_equal(document.data.points, [[1, 2], [4, 5]])


@pytest.mark.parametrize("text", ["1\n2\n", "", " \n\n", "x\n", "a,b\nc,d\n"])
def test_files_without_two_numeric_columns_are_refused_by_name(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.csv"):
        read_document(path)


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError):
        read_document(path)


def test_write_then_open_round_trips(tmp_path):
    pts = np.random.default_rng(32).normal(size=(20, 2)) * 1e6
    write_points(tmp_path / "out.csv", pts)
    np.testing.assert_array_equal(read_points(tmp_path / "out.csv"), pts)


@pytest.mark.parametrize(
    "text",
    [
        '"x","y"\n"1.5","2"\n"3","-4e3"\n',
        "x;y;label\n1.5;2;a\n3;-4e3;b\n",
        "# two columns\n1.5\t2\n3\t-4e3  # trailing comment\n",
        "1.5 2\n3 -4e3\n",
    ],
)
def test_simple_formats_open_and_paste_alike(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text(text)
    np.testing.assert_array_equal(read_points(path), [[1.5, 2.0], [3.0, -4e3]])
    np.testing.assert_array_equal(points_from_text(text), [[1.5, 2.0], [3.0, -4e3]])

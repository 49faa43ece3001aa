"""Reading and writing points as CSV."""

from __future__ import annotations

import numpy as np
import pytest

from app.files.point_files import read_points, write_points


@pytest.mark.parametrize("separator", [",", ";", "\t", " ", "  "])
def test_read_points_accepts_headers_comments_and_separators(tmp_path, separator):
    path = tmp_path / "p.csv"
    rows = ["eruptions", "waiting"], ["3.6", "79"], ["1.8", "54"], [" 2.5", "70 "]
    lines = [separator.join(row) for row in rows]
    path.write_text("# comment\n" + "\n".join(lines[:3]) + "\n\n" + lines[3] + "\n")
    np.testing.assert_array_equal(read_points(path), [[3.6, 79], [1.8, 54], [2.5, 70]])
    path.write_text("1,2,3\n4,5,6\n")
    np.testing.assert_array_equal(read_points(path), [[1, 2], [4, 5]])


@pytest.mark.parametrize(
    "text",
    ["x,y\n1,2\nthree,four\n", "1\n2\n", "", " \n\n", "x\n", "1,2\ninf,3\n", "a,b\nc,d\n"],
)
def test_read_points_refuses_bad_files(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.csv"):
        read_points(path)


def test_read_points_refuses_binary(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError):
        read_points(path)


def test_write_then_read_round_trips(tmp_path):
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
def test_read_points_simple_formats(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text(text)
    np.testing.assert_array_equal(read_points(path), [[1.5, 2.0], [3.0, -4e3]])

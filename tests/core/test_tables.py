"""gmm_core.tables: every format and layout read back exactly, whole and in batches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gmm_core import Cancelled, GaussianMixture, partial_fit_table
from gmm_core.tables import describe_table, iter_table, read_table, table_from_text


def _points(n=1000, d=3, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * 10.0 ** rng.integers(-8, 9, size=(n, d))


def _text(X, separator=",", header=True) -> str:
    lines = [separator.join("xyzw"[: X.shape[1]])] if header else []
    lines += [separator.join(repr(float(v)) for v in row) for row in X]
    return "\n".join(lines) + "\n"


def _arrow_table(X) -> pa.Table:
    return pa.table({name: X[:, j] for j, name in enumerate("xyzw"[: X.shape[1]])})


def write(path, X, kind):
    """X as a file of the given kind, written by pyarrow, numpy or by hand; returns path."""
    if kind == "csv":
        path.write_text(_text(X))
    elif kind == "parquet":
        pq.write_table(_arrow_table(X), path, row_group_size=300)
    elif kind == "feather":
        feather.write_feather(_arrow_table(X), path, chunksize=300)
    elif kind == "arrow stream":
        with pa.ipc.new_stream(path, _arrow_table(X).schema) as writer:
            writer.write_table(_arrow_table(X), max_chunksize=300)
    else:
        with open(path, "wb") as handle:  # np.save(path) would add ".npy" to the name
            np.save(handle, X)
    return path


KINDS = ["csv", "parquet", "feather", "arrow stream", "npy"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_format_reads_back_the_same_numbers_exactly(tmp_path, kind):
    X = _points()
    path = write(tmp_path / "points.data", X, kind)  # the name says nothing
    table = read_table(path)
    assert table.data.tobytes() == X.tobytes()
    assert table.data.dtype == np.float64 and table.data.flags.c_contiguous
    assert table.n_skipped == 0 and table.skipped_lines == () and table.path == str(path)
    info = describe_table(path)
    assert info.format == {"feather": "arrow", "arrow stream": "arrow"}.get(kind, kind)
    assert info.n_bytes == path.stat().st_size
    assert info.n_rows == (None if kind in ("csv", "arrow stream") else 1000)
    names = ["column 1", "column 2", "column 3"] if kind == "npy" else ["x", "y", "z"]
    assert info.columns == info.numeric == table.columns == names


@pytest.mark.parametrize("kind", KINDS)
def test_batches_are_the_whole_read_cut_in_equal_pieces(tmp_path, kind):
    X = _points(n=1000)
    path = write(tmp_path / f"points.{kind}", X, kind)
    batches = list(iter_table(path, [2, 0], batch_rows=128))
    assert [b.data.shape for b in batches] == [(128, 2)] * 7 + [(104, 2)]
    assert np.concatenate([b.data for b in batches]).tobytes() == X[:, [2, 0]].copy().tobytes()
    assert all(b.data.flags.c_contiguous for b in batches)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 4)),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    separator=st.sampled_from([",", ";", "\t", " "]),
    header=st.booleans(),
    kind=st.sampled_from(["text", "parquet", "npy"]),
)
def test_any_finite_numbers_round_trip(tmp_path, X, separator, header, kind):
    path = tmp_path / "any.bin"
    if kind == "text":
        path.write_text(_text(X, separator, header))
    else:
        write(path, X, "parquet" if kind == "parquet" else "npy")
    assert read_table(path).data.tobytes() == X.tobytes()


@pytest.mark.parametrize(
    "text",
    [
        "x,y\n1.5,2\n3,-4e3\n",
        "x;y\n1.5;2\n3;-4e3\n",
        "x\ty\n1.5\t2\n3\t-4e3\n",
        "x y\n1.5 2\n3 -4e3\n",
        "   x     y\n  1.5    2\n  3  -4e3   \n",
        "1.5\t 2\n 3\t-4e3\n",
        "1.5 2\n3\t\t-4e3\n",
        '"x","y"\n"1.5","2"\n"3","-4e3"\n',
        "\ufeffx,y\n1.5,2\n3,-4e3\n",
        "x,y\r\n1.5,2\r\n3,-4e3\r\n",
        "x,y\n1.5,2\n3,-4e3",
        "# exported\n# by hand\n\nx,y\n1.5,2\n\n# a note, with commas, in it\n3,-4e3\n",
        "x y # the header\n1.5 2  # a trailing comment\n3 -4e3\n",
        "# two columns\n1.5\t2\n3\t-4e3  # trailing comment\n",
    ],
    ids=[
        "comma",
        "semicolon",
        "tab",
        "space",
        "runs of spaces",
        "tab and spaces",
        "mixed runs",
        "quoted",
        "BOM",
        "CRLF",
        "no last newline",
        "comments",
        "whitespace with comments",
        "tab with a trailing comment",
    ],
)
def test_separators_headers_comments_quotes(tmp_path, text):
    path = tmp_path / "p.txt"
    path.write_bytes(text.encode())
    np.testing.assert_array_equal(read_table(path).data, [[1.5, 2.0], [3.0, -4e3]])
    assert table_from_text(text).data.tolist() == [[1.5, 2.0], [3.0, -4e3]]


def test_header_or_not(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("label,x,y\nA,1,2\nB,3,4\n")
    assert describe_table(path).columns == ["label", "x", "y"]
    assert describe_table(path).numeric == ["x", "y"]
    path.write_text("A,1,2\nB,3,4\n")  # a text column, no header
    assert describe_table(path).columns == ["column 1", "column 2", "column 3"]
    assert read_table(path).data.tolist() == [[1, 2], [3, 4]]
    path.write_text('city,x\n"New York, NY",1\n"Paris",2\n')  # a separator inside quotes
    assert read_table(path).data.tolist() == [[1], [2]]
    path.write_text("x,,y\n1,2,3\n")  # an unnamed column gets a name
    assert describe_table(path).columns == ["x", "column 2", "y"]


def test_columns_by_name_and_position_in_the_order_chosen(tmp_path):
    X = _points(n=50, d=4)
    for kind in KINDS:
        path = write(tmp_path / f"p.{kind}", X, kind)
        assert read_table(path, [3, 1]).data.tobytes() == X[:, [3, 1]].copy().tobytes()
        if kind != "npy":
            table = read_table(path, ["w", "x", "w"])
            assert table.columns == ["w", "x", "w"]
            assert table.data.tobytes() == X[:, [3, 0, 3]].copy().tobytes()


def test_non_numeric_columns_are_ignored_unless_chosen(tmp_path):
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.table({"name": ["a", "b"], "x": [1, 2], "flag": [True, False]}), path)
    assert read_table(path).columns == ["x"]
    with pytest.raises(ValueError, match=r"mixed\.parquet: column 'name' is not numeric"):
        read_table(path, ["x", "name"])
    text = tmp_path / "mixed.csv"
    text.write_text("name,x\na,1\nb,2\n")
    with pytest.raises(ValueError, match=r"mixed\.csv: column 'name' is not numeric"):
        read_table(text, [0])


def test_integer_and_float32_columns_become_float64(tmp_path):
    path = tmp_path / "kinds.parquet"
    table = pa.table(
        {"i": pa.array([1, 2**40], pa.int64()), "f": pa.array([0.1, 2.5], pa.float32())}
    )
    pq.write_table(table, path)
    expected = np.array([[1, np.float32(0.1)], [2**40, 2.5]])
    assert read_table(path).data.tobytes() == expected.tobytes()
    np.save(tmp_path / "ints.npy", np.arange(6, dtype=np.int32))  # one column
    assert read_table(tmp_path / "ints.npy").data.tolist() == [[v] for v in range(6)]


def test_records_with_named_fields(tmp_path):
    records = np.zeros(3, dtype=[("x", "<f8"), ("label", "<U3"), ("y", "<i4")])
    records["x"], records["y"] = [0.5, 1.5, 2.5], [7, 8, 9]
    np.save(tmp_path / "r.npy", records)
    info = describe_table(tmp_path / "r.npy")
    assert info.columns == ["x", "label", "y"] and info.numeric == ["x", "y"]
    assert read_table(tmp_path / "r.npy", ["y", "x"]).data.tolist() == [
        [7, 0.5],
        [8, 1.5],
        [9, 2.5],
    ]


def test_partial_fit_table_learns_the_batches_of_any_format(tmp_path):
    X = _points(n=3000, d=2, seed=3) / 1e8 + np.repeat([[0, 0], [9, 9]], 1500, 0)
    path = write(tmp_path / "p.parquet", X, "parquet")
    model = partial_fit_table(GaussianMixture(2, random_state=0), path, batch_rows=700)
    direct = GaussianMixture(2, random_state=0)
    for start in range(0, 3000, 700):
        direct.partial_fit(X[start : start + 700])
    np.testing.assert_array_equal(model.means_, direct.means_)
    assert model.n_samples_seen_ == 3000


def test_progress_and_cancel(tmp_path):
    X = _points(n=300_000, d=2)
    for kind in ("csv", "parquet"):
        path = write(tmp_path / f"p.{kind}", X, kind)
        fractions = []
        read_table(path, progress=fractions.append)
        assert len(fractions) > 2 and fractions[-1] == 1.0
        assert fractions == sorted(fractions) and 0 <= fractions[0] < 1
        polls = []

        def cancelled(polls=polls):
            polls.append(1)
            return len(polls) > 2

        with pytest.raises(Cancelled):
            read_table(path, cancelled=cancelled)
        assert len(polls) == 3

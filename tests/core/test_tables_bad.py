"""gmm_core.tables: bad rows stopped or skipped with their line numbers; bad files refused."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_core.tables import describe_table, iter_table, read_table

BAD_TEXT = (
    "# exported by hand\n"  # 1
    "x,y\n"  # 2
    "1,2\n"  # 3
    "\n"  # 4
    "nan,3\n"  # 5
    "4,inf\n"  # 6
    "# a note\n"  # 7
    "5,\n"  # 8
    "six,7\n"  # 9
    "8\n"  # 10: too few fields
    "9,10,11\n"  # 11: too many
    "12,13\n"  # 12
    "14"  # 13: a broken last line
)
BAD_LINES = (5, 6, 8, 9, 10, 11, 13)


def test_bad_rows_stop_the_read_naming_the_file_and_first_lines(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_TEXT)
    with pytest.raises(ValueError) as error:
        read_table(path)
    message = str(error.value)
    assert message.startswith(f"{path}, line 5: ") and "'nan,3'" in message
    assert "more bad lines: 6, 8, 9, 10" in message


def test_bad_rows_skipped_are_counted_with_their_lines(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_TEXT)
    table = read_table(path, on_bad_rows="skip")
    assert table.data.tolist() == [[1, 2], [12, 13]]
    assert table.n_skipped == len(BAD_LINES) and table.skipped_lines == BAD_LINES
    batches = list(iter_table(path, batch_rows=1, on_bad_rows="skip"))
    assert sum(b.n_skipped for b in batches) == len(BAD_LINES)
    assert sum((b.skipped_lines for b in batches), ()) == BAD_LINES
    assert np.concatenate([b.data for b in batches]).tolist() == [[1, 2], [12, 13]]
    only_x = read_table(path, ["x"], on_bad_rows="skip")  # y's bad values no longer count
    assert only_x.data.ravel().tolist() == [1, 4, 5, 12]
    assert only_x.skipped_lines == (5, 9, 10, 11, 13)


def test_a_broken_last_line_is_a_bad_row(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i / 7!r}\n" for i in range(200_000)) + "3.5")
    with pytest.raises(ValueError, match=r"broken\.csv, line 200002: .*'3\.5'"):
        read_table(path)
    table = read_table(path, on_bad_rows="skip")
    assert table.data.shape == (200_000, 2) and table.skipped_lines == (200_002,)


def _bad_file(n_rows, rng):
    """A large CSV with blank lines, comments and bad rows; its good rows and bad lines."""
    lines, good, bad = ["a,b"], [], []
    for i in range(n_rows):
        kind = rng.choice(["good", "blank", "comment", "bad"], p=[0.97, 0.01, 0.01, 0.01])
        if kind == "good":
            good.append([i, i / 3])
            lines.append(f"{i},{i / 3!r}")
        elif kind == "blank":
            lines.append("")
        elif kind == "comment":
            lines.append("# note, with, commas")
        else:
            lines.append(rng.choice([f"{i},", f"{i}", "x,1", f"{i},-inf", f"{i},1,2"]))
            bad.append(len(lines))
    return "\n".join(lines) + "\n", np.array(good, dtype=float), bad


def test_line_numbers_far_into_a_large_file(tmp_path):
    text, good, bad = _bad_file(150_000, np.random.default_rng(4))
    path = tmp_path / "big.csv"
    path.write_text(text)
    table = read_table(path, on_bad_rows="skip")
    assert table.data.tobytes() == good.tobytes()
    assert table.n_skipped == len(bad) and list(table.skipped_lines) == bad[:10]
    batches = list(iter_table(path, batch_rows=10_000, on_bad_rows="skip"))
    assert sum(b.n_skipped for b in batches) == len(bad)
    assert [b.data.shape[0] for b in batches[:-1]] == [10_000] * (len(batches) - 1)
    with pytest.raises(ValueError, match=rf"big\.csv, line {bad[0]}: "):
        read_table(path)


def test_streamed_batches_before_a_bad_row_are_handed_out(tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{i}" for i in range(5000)]
    rows[4321] = "4321,oops"
    path.write_text("\n".join(rows) + "\n")
    seen = []
    with pytest.raises(ValueError, match=r"late\.csv, line 4322: "):
        for batch in iter_table(path, batch_rows=1000):
            seen.append(batch.data.shape[0])
    assert seen == [1000] * 4


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(["good", "blank", "comment", "bad"]), min_size=1, max_size=60),
    separator=st.sampled_from([",", ";", "\t"]),
)
def test_any_mix_of_rows_keeps_the_good_ones_and_names_the_bad(tmp_path, kinds, separator):
    lines, good, bad = ["x", "y"], [], []
    lines = [separator.join(lines)]
    for i, kind in enumerate(kinds):
        if kind == "good":
            good.append([i, -i / 9])
            lines.append(f"{i}{separator}{-i / 9!r}")
        elif kind == "blank":
            lines.append("")
        elif kind == "comment":
            lines.append("# note")
        else:
            lines.append(f"{i}{separator}")
            bad.append(len(lines))
    path = tmp_path / "mix.csv"
    path.write_text("\n".join(lines) + "\n")
    if not good:  # y holds no number at all: not a numeric column
        with pytest.raises(ValueError, match=r"mix\.csv: "):
            read_table(path, ["x", "y"], on_bad_rows="skip")
        return
    table = read_table(path, on_bad_rows="skip")
    assert table.data.tolist() == good and list(table.skipped_lines) == bad[:10]
    if bad:
        with pytest.raises(ValueError, match=rf"mix\.csv, line {bad[0]}: "):
            read_table(path)


def test_binary_formats_name_their_bad_rows(tmp_path):
    path = tmp_path / "gaps.parquet"
    pq.write_table(pa.table({"x": [1.0, None, 3.0, np.nan, 5.0], "y": [1, 2, 3, 4, None]}), path)
    with pytest.raises(ValueError, match=r"gaps\.parquet, row 2: .*more bad rows: 4, 5"):
        read_table(path)
    table = read_table(path, on_bad_rows="skip")
    assert table.data.tolist() == [[1, 1], [3, 3]] and table.skipped_lines == (2, 4, 5)
    X = np.ones((10, 2))
    X[7, 1] = np.inf
    np.save(tmp_path / "inf.npy", X)
    with pytest.raises(ValueError, match=r"inf\.npy, row 8: "):
        read_table(tmp_path / "inf.npy")


def _write_bad(path, kind):
    """A bad file of each kind a person might give."""
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "only comments":
        path.write_text("# nothing\n\n   \n# here\n")
    elif kind == "header only":
        path.write_text("x,y\n")
    elif kind == "no numeric column":
        path.write_text("name,city\nAda,London\n")
    elif kind == "binary":
        path.write_bytes(b"1,2\n" + bytes(range(256)) * 8)
    elif kind == "not UTF-8":
        path.write_bytes("x,y\ncafé,1\n".encode("latin-1"))
    elif kind == "truncated parquet":
        pq.write_table(pa.table({"x": np.arange(1000.0)}), path)
        path.write_bytes(path.read_bytes()[:600])
    elif kind == "empty parquet":
        pq.write_table(pa.table({"x": pa.array([], pa.float64())}), path)
    elif kind == "truncated npy":
        np.save(path.with_suffix(".npy"), np.ones((100, 2)))
        path.write_bytes(path.with_suffix(".npy").read_bytes()[:200])
    elif kind == "npy of objects":
        np.save(path.with_suffix(".npy"), np.array([{"a": 1}], dtype=object))
        path.write_bytes(path.with_suffix(".npy").read_bytes())
    elif kind == "3-D npy":
        np.save(path.with_suffix(".npy"), np.ones((2, 2, 2)))
        path.write_bytes(path.with_suffix(".npy").read_bytes())
    elif kind == "truncated arrow":
        with pa.ipc.new_file(path, pa.schema([("x", pa.float64())])) as writer:
            writer.write_table(pa.table({"x": np.arange(100.0)}))
        path.write_bytes(path.read_bytes()[:300])


BAD_KINDS = [
    "missing",
    "directory",
    "empty",
    "only comments",
    "header only",
    "no numeric column",
    "binary",
    "not UTF-8",
    "truncated parquet",
    "empty parquet",
    "truncated npy",
    "npy of objects",
    "3-D npy",
    "truncated arrow",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_bad_file_is_a_value_error_naming_it(tmp_path, kind):
    path = tmp_path / "bad file.csv"
    _write_bad(path, kind)
    name = re.escape(str(path))
    with pytest.raises(ValueError, match=rf"^{name}"):
        read_table(path)
    with pytest.raises(ValueError, match=rf"^{name}"):
        for _ in iter_table(path):
            pass
    if kind not in ("no numeric column", "not UTF-8"):  # described, then refused
        with pytest.raises(ValueError, match=rf"^{name}"):
            describe_table(path)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"columns": ["z"]}, r"no column named 'z' \(columns: x, y\)"),
        ({"columns": [2]}, r"no column at position 2"),
        ({"columns": [True]}, r"a column is a name or a position"),
        ({"columns": "x"}, r"columns must be a list"),
        ({"columns": []}, r"no columns chosen"),
        ({"on_bad_rows": "ignore"}, r"on_bad_rows must be 'error' or 'skip'"),
        ({"separator": "ab"}, r"separator must be one character"),
        ({"part": (2, 2)}, r"part must be \(index, count\)"),
    ],
)
def test_bad_arguments_are_value_errors_naming_the_file(tmp_path, arguments, message):
    path = tmp_path / "ok.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=rf"ok\.csv: {message}"):
        read_table(path, **arguments)


def test_bad_batch_rows(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("x,y\n1,2\n")
    for batch_rows in (0, -1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="batch_rows must be a positive integer"):
            iter_table(path, batch_rows=batch_rows)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    magic=st.sampled_from(
        [b"", b"PAR1", b"ARROW1\0\0", b"\x93NUMPY", b"\xff\xff\xff\xff", b"x,y\n"]
    ),
    body=st.binary(max_size=300),
)
def test_any_bytes_give_a_table_or_a_value_error(tmp_path, magic, body):
    path = tmp_path / "fuzz.bin"
    path.write_bytes(magic + body)
    try:
        table = read_table(path, on_bad_rows="skip")
    except ValueError as error:
        assert str(error).startswith(str(path))
    else:
        assert np.isfinite(table.data).all() and table.data.shape[0] > 0

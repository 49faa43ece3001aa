"""Session files and atomic writes, without a window: exact round trips and bad files."""

from __future__ import annotations

import base64
import dataclasses
import errno
import json
import os

import numpy as np
import pytest

from app.files import atomic
from app.files.point_files import write_points
from app.files.session import arrays as session_encoding
from app.files.session import format as session_file
from app.files.session.format import (
    FORMAT_NAME,
    SavedModel,
    SessionData,
    read_session,
    session_text,
    write_session,
)

from .test_io import read_points


def hard_points(n=1000, seed=0):
    """Points whose float64 values no decimal rounding survives."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 2)) * 10.0 ** rng.integers(-300, 300, size=(n, 2))
    points[:4] = [[0.1, -0.0], [5e-324, 1.7976931348623157e308], [np.pi, -np.e], [1 / 3, 2 / 3]]
    return points


def a_model(n):
    return SavedModel(
        weights=np.array([0.25, 0.75]),
        means=np.array([[1.0 / 3, 2.0], [-1.0, np.pi]]),
        covariances=np.array([[[2.0, 0.1], [0.1, 1.0]], [[1.0, 0.0], [0.0, 1e-3]]]),
        colors=np.array([0, 3]),
        labels=np.arange(n) % 2,
        mean_log_likelihood=-1.2345678901234567,
        bic=123.456,
        n_iter=7,
        state="converged",
        gmm_core={"type": "GaussianMixture", "parameters": None},
    )


def test_session_round_trip_is_exact(tmp_path):
    points = hard_points()
    data = SessionData(points, {"n_components": 2, "epochs": 5, "later": [1, "x"]}, a_model(1000))
    path = tmp_path / "s.gmmsession"
    write_session(path, data)
    back = read_session(path)
    assert back.points.tobytes() == np.ascontiguousarray(points).tobytes()
    assert back.settings == data.settings
    for name in ("weights", "means", "covariances", "colors", "labels"):
        np.testing.assert_array_equal(getattr(back.model, name), getattr(data.model, name))
    assert back.model.mean_log_likelihood == data.model.mean_log_likelihood
    assert back.model.gmm_core == data.model.gmm_core
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT_NAME and document["version"] == 1


def test_many_points_and_labels_are_written_in_chunks_that_decode_as_one(tmp_path):
    # More rows than one base64 chunk holds, and a count that is no multiple of it.
    n = 5 * session_encoding.CHUNK_BYTES // 16 + 7
    points = hard_points(n, seed=1)
    labels = np.random.default_rng(2).integers(2, size=n).astype(np.int16)
    data = SessionData(points, {}, dataclasses.replace(a_model(n), labels=labels))
    path = tmp_path / "many.gmmsession"
    write_session(path, data)
    document = json.loads(path.read_text())
    assert base64.b64decode(document["points"]["base64"]) == points.astype("<f8").tobytes()
    assert base64.b64decode(document["model"]["labels"]["base64"]) == labels.astype("<i8").tobytes()
    back = read_session(path)
    assert back.points.tobytes() == points.tobytes()
    np.testing.assert_array_equal(back.model.labels, labels)


def test_no_points_round_trip(tmp_path):
    path = tmp_path / "empty.gmmsession"
    write_session(path, SessionData(np.zeros((0, 2))))
    assert read_session(path).points.shape == (0, 2)


def test_exporting_no_points_says_so_and_writes_nothing(window, tmp_path, monkeypatch):
    told = []
    monkeypatch.setattr(window, "show_error", told.append)
    path = tmp_path / "none.csv"
    assert not window.export_points(path)
    assert not path.exists()
    assert told and "no points to export" in told[0]


def test_csv_round_trip_is_exact(tmp_path):
    points = hard_points()
    write_points(tmp_path / "p.csv", points)
    assert read_points(tmp_path / "p.csv").tobytes() == points.tobytes()


def _document(**changes):
    points = np.array([[1.0, 2.0], [3.0, 4.0]])
    document = json.loads(session_text(SessionData(points, {}, a_model(2))))
    document.update(changes)
    return document


def _points_entry(array, shape=None):
    return {
        "dtype": "<f8",
        "shape": list(shape or array.shape),
        "base64": base64.b64encode(np.asarray(array, "<f8").tobytes()).decode(),
    }


BAD = {
    "empty": b"",
    "blank": b"  \n\n",
    "binary": bytes(range(256)) * 4,
    "truncated": session_text(SessionData(hard_points(50))).encode()[:-40],
    "not json": b"{this is not json",
    "another format": json.dumps({"format": "something-else", "version": 1}).encode(),
    "a list": b"[1, 2, 3]",
    "newer version": json.dumps(_document(version=99)).encode(),
    "nan in points": json.dumps(
        _document(points=_points_entry(np.array([[1.0, np.nan]])))
    ).encode(),
    "NaN literal": json.dumps(_document(model=None))[:-1].encode() + b', "x": NaN}',
    "too many points": json.dumps(
        _document(points={"dtype": "<f8", "shape": [10**9, 2], "base64": ""})
    ).encode(),
    "bad weights": json.dumps(
        _document(model={**_document()["model"], "weights": _points_entry(np.array([0.5, 0.2]))})
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_session_files_raise_a_clear_message(tmp_path, name):
    path = tmp_path / "bad.gmmsession"
    path.write_bytes(BAD[name])
    with pytest.raises(ValueError, match="bad.gmmsession") as error:
        read_session(path)
    assert len(str(error.value)) < 400


def test_newer_version_says_to_update(tmp_path):
    path = tmp_path / "new.gmmsession"
    path.write_bytes(BAD["newer version"])
    with pytest.raises(ValueError, match="newer GMM Playground"):
        read_session(path)


def test_file_size_beyond_the_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.gmmsession"
    write_session(path, SessionData(hard_points(100)))
    monkeypatch.setattr(session_file, "MAX_SESSION_BYTES", 1000)
    with pytest.raises(ValueError, match="larger than"):
        read_session(path)


class _HalfWriter:
    """A file that writes half of what it is given, then fails as a full disk does."""

    def __init__(self, file):
        self._file = file

    def write(self, data):
        self._file.write(data[: len(data) // 2])
        self._file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


@pytest.mark.parametrize("kind", ["session", "csv", "bytes"])
def test_a_write_failing_half_way_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, kind):
    path = tmp_path / f"target.{kind}"
    path.write_bytes(b"the old contents\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space"):
        if kind == "session":
            write_session(path, SessionData(hard_points(5000)))
        elif kind == "csv":
            write_points(path, hard_points(5000))
        else:
            atomic.write_bytes(path, b"x" * 100_000)
    assert path.read_bytes() == b"the old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_failing_flush_to_disk_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "target.csv"
    path.write_text("1,2\n")

    def fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(OSError):
        write_points(path, np.ones((10, 2)))
    assert path.read_text() == "1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["target.csv"]


def test_atomic_write_keeps_the_old_files_permissions(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("1,2\n")
    path.chmod(0o640)
    write_points(path, np.ones((3, 2)))
    assert path.stat().st_mode & 0o777 == 0o640
    assert read_points(path).shape == (3, 2)

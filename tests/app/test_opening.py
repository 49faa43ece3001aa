"""Opening files in the background: progress, Cancel, failures, a newer open winning, and
a file kept until its read ends.

Large files are read in many small blocks here (the reader's block size is lowered), so
that a read lasts long enough to be cancelled half-way, whatever the machine's speed.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from PySide6.QtCore import Qt

import gmm_core.tables._csv_table

from .conftest import open_and_wait, wait_for_model, waiting_for_open


@pytest.fixture
def small_blocks(monkeypatch):
    """The CSV reader reads blocks of 4 KiB (about 200 rows here) instead of 256 KiB."""
    monkeypatch.setattr(gmm_core.tables._csv_table, "BLOCK_BYTES", 4096)


def large_csv(path, n_blocks=2000, rows_per_block=64, last_line="") -> np.ndarray:
    """A CSV file of ``n_blocks`` repeats of one block of rows; its points."""
    rng = np.random.default_rng(7)
    block = np.round(rng.normal(size=(rows_per_block, 2)), 6)
    text = "".join(f"{x!r},{y!r}\n" for x, y in block.tolist())
    path.write_text("x,y\n" + text * n_blocks + last_line)
    return np.tile(block, (n_blocks, 1))


@pytest.fixture
def window_with_points(qtbot, window, updates):
    """The window holding two learnt points, and what must stay as it is."""
    window.add_points([[1.0, 2.0], [3.0, 4.0]])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2 and s.final)
    errors = []
    window.show_error = errors.append
    before = (window.points(), window.undo_stack.count(), window.windowTitle(), len(updates))
    return window, errors, before


def assert_unchanged(window, updates, before):
    points, count, title, n_updates = before
    np.testing.assert_array_equal(window.points(), points)
    assert window.undo_stack.count() == count and window.windowTitle() == title
    assert len(updates) == n_updates  # no new model either
    assert not window.progress_bar.isVisible() and not window.cancel_button.isVisible()


def test_cancel_during_a_large_open_changes_nothing(
    qtbot, window_with_points, updates, tmp_path, small_blocks
):
    window, errors, before = window_with_points
    path = tmp_path / "large.csv"
    large_csv(path)
    pressed = []

    def press_cancel_once_partly_read(value):
        # In the slot of the first partial progress shown, before the reader's later
        # answers (queued behind it) are handled: the same moment on any machine.
        if 0 < value < window.progress_bar.maximum() and not pressed:
            pressed.append(value)
            qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)

    window.progress_bar.valueChanged.connect(press_cancel_once_partly_read)
    with waiting_for_open(qtbot, window) as outcome:
        assert window.open_file(path)
        assert window.progress_bar.isVisible() and window.cancel_button.isVisible()
    assert len(pressed) == 1
    assert outcome == {"failed": str(path)}
    assert errors == []  # a Cancel is no error
    assert_unchanged(window, updates, before)
    # The reader is free again: the next file opens.
    small = tmp_path / "small.csv"
    small.write_text("x,y\n5,6\n7,8\n")
    assert open_and_wait(qtbot, window, small)
    np.testing.assert_array_equal(window.points(), [[5, 6], [7, 8]])


def test_reading_stops_at_the_next_block_once_cancelled(tmp_path, small_blocks):
    from app.files.file_loader import read_document
    from gmm_core import Cancelled

    path = tmp_path / "large.csv"
    large_csv(path)
    fractions = []
    with pytest.raises(Cancelled):
        read_document(path, progress=fractions.append, cancelled=lambda: len(fractions) >= 2)
    assert len(fractions) == 2 and fractions[-1] < 1.0


def test_a_progress_bar_shows_while_a_large_file_opens_and_goes(
    qtbot, window, updates, tmp_path, small_blocks
):
    path = tmp_path / "large.csv"
    points = large_csv(path)
    progress = []
    window.progress_bar.valueChanged.connect(progress.append)
    with waiting_for_open(qtbot, window) as outcome:
        assert window.open_file(path)
        assert window.progress_bar.isVisible() and window.cancel_button.isVisible()
        assert "large.csv" in window.progress_bar.format()
    assert outcome == {"opened": str(path)}
    assert not window.progress_bar.isVisible() and not window.cancel_button.isVisible()
    assert progress == sorted(progress) and progress[-1] == window.progress_bar.maximum()
    assert any(0 < value < progress[-1] for value in progress)  # shown as it went
    np.testing.assert_array_equal(window.points(), points)
    assert "large.csv" in window.windowTitle()
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == points.shape[0] and s.final)


def test_a_large_file_with_a_broken_last_line_opens_its_rows_and_names_the_line(
    qtbot, window_with_points, updates, tmp_path, small_blocks
):
    # The program skips a bad row and says which (the library refuses it by default).
    window, errors, _ = window_with_points
    path = tmp_path / "broken.csv"
    points = large_csv(path, n_blocks=300, last_line="3.5,oops\n")
    assert open_and_wait(qtbot, window, path)
    assert errors == []
    np.testing.assert_array_equal(window.points(), points)
    assert window.statusBar().currentMessage() == "broken.csv: 1 row skipped: line 19202"


def test_a_newer_open_replaces_one_in_flight(qtbot, window, updates, tmp_path, small_blocks):
    large = tmp_path / "large.csv"
    large_csv(large)
    small = tmp_path / "small.csv"
    small.write_text("x,y\n5,6\n7,8\n")
    opened, failed = [], []
    window.file_opened.connect(opened.append)
    window.open_failed.connect(failed.append)
    assert window.open_file(large)
    assert open_and_wait(qtbot, window, small)
    with qtbot.assertNotEmitted(window.file_opened, wait=200):
        pass  # the large file's read stopped and says nothing
    assert opened == [str(small)] and failed == []
    np.testing.assert_array_equal(window.points(), [[5, 6], [7, 8]])
    assert window.undo_stack.count() == 1 and not window.progress_bar.isVisible()


@pytest.mark.parametrize(
    ("content", "opened"), [("x,y\n1,2\n3,4\n", True), ("x,y\n1,oops\nnone,2\n", False)]
)
def test_a_file_kept_for_a_read_is_released_once_the_read_ends(
    qtbot, window, tmp_path, content, opened
):
    # An example shipped in a wheel is a temporary file that exists only while entered.
    path = tmp_path / "example.csv"
    path.write_text(content)
    events = []

    @contextmanager
    def resource():
        events.append("entered")
        yield path
        events.append("released")

    window.show_error = lambda text: events.append("error")
    kept = window.documents.opener.keep_until_read(resource())
    assert kept == path and events == ["entered"]
    assert open_and_wait(qtbot, window, kept) is opened
    assert events == (["entered", "released"] if opened else ["entered", "released", "error"])

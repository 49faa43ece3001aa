"""Fixtures for the desktop program's tests: a shown window, real mouse input, and a
check that no test leaves a QThread running (as napari's conftest does)."""

from __future__ import annotations

import gc
from contextlib import contextmanager

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

# Generous: the suite runs on a shared two-core machine.
WAIT_MS = 20_000


@pytest.fixture(scope="session", autouse=True)
def collect_garbage_in_the_gui_thread(qapp):
    """The program's policy (see ``app.__main__``): Python's collector runs only in the
    GUI thread, never in a worker thread where freeing a Qt object deadlocks."""
    import pyqtgraph as pg
    from pyqtgraph.util.garbage_collector import GarbageCollector

    # A test's mouse moves arrive microseconds apart; pyqtgraph's 100-per-second throttle
    # would drop all but the first of a drag's moves, which a hand's moves never are.
    pg.setConfigOptions(mouseRateLimit=0)
    collector = GarbageCollector(interval=1.0)
    yield collector
    collector.timer.stop()
    gc.enable()


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch):
    """Fail a test that leaves any QThread it started still running."""
    started: list[QThread] = []
    original = QThread.start

    def start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield started
    running = [t for t in started if t.isRunning()]
    for thread in running:  # do not crash the rest of the session
        thread.quit()
        thread.wait(5000)
    gc.collect()  # this test's windows go now, in the GUI thread, not in a later worker
    assert not running, f"{len(running)} QThread(s) left running: {running}"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """Autosave and settings go to a fresh folder: no test touches a person's files."""
    folder = tmp_path / "gmm-playground-data"
    monkeypatch.setenv("GMM_PLAYGROUND_DATA_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_modal_questions(monkeypatch):
    """Closing a window with unsaved points discards them instead of asking (a test that
    wants another answer sets ``window.ask_save_changes`` itself)."""
    import app.main_window

    monkeypatch.setattr(app.main_window.MainWindow, "ask_save_changes", lambda self: "discard")


@pytest.fixture
def window(qtbot):
    """A shown main window with a fixed view of [-10, 10] x [-10, 10]."""
    from app.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(900, 700)
    win.show()
    qtbot.waitExposed(win)
    set_view(win, (-10, 10), (-10, 10))
    yield win
    win.close()


@pytest.fixture
def updates(window):
    """Every payload of ``window.model_updated``, in order."""
    received = []
    window.model_updated.connect(received.append)
    return received


def set_view(window, x_range, y_range):
    vb = window.canvas.view_box
    vb.setRange(xRange=x_range, yRange=y_range, padding=0)
    QApplication.processEvents()


def to_viewport(window, x: float, y: float) -> QPointF:
    """Viewport coordinates of the data point (x, y)."""
    scene = window.canvas.view_box.mapViewToScene(QPointF(x, y))
    return QPointF(window.canvas.mapFromScene(scene))


def _send(widget, kind, pos: QPointF, button, buttons):
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def press_release(window, pos: QPointF, button=Qt.MouseButton.LeftButton):
    viewport = window.canvas.viewport()
    _send(viewport, QEvent.Type.MouseButtonPress, pos, button, button)
    _send(viewport, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)


def click(window, x: float, y: float, button=Qt.MouseButton.LeftButton):
    """A real left click on the canvas at data coordinates (x, y)."""
    press_release(window, to_viewport(window, x, y), button)


def move(window, x: float, y: float):
    """Move the mouse (no button) to data coordinates (x, y)."""
    viewport = window.canvas.viewport()
    pos = to_viewport(window, x, y)
    _send(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)


def drag(window, start: tuple[float, float], end: tuple[float, float], steps: int = 8):
    """Press at ``start``, move in steps, release at ``end`` (data coordinates)."""
    viewport = window.canvas.viewport()
    a, b = to_viewport(window, *start), to_viewport(window, *end)
    left = Qt.MouseButton.LeftButton
    _send(viewport, QEvent.Type.MouseButtonPress, a, left, left)
    for t in np.linspace(0, 1, steps)[1:]:
        p = QPointF(a.x() + t * (b.x() - a.x()), a.y() + t * (b.y() - a.y()))
        _send(viewport, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
    _send(viewport, QEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)


def wait_for_model(qtbot, window, updates, predicate=lambda s: True, timeout=WAIT_MS):
    """Wait until the window is idle and its newest drawn model satisfies ``predicate``."""

    def ready():
        assert updates, "no model drawn yet"
        assert not window.controller.busy, "still training"
        assert predicate(updates[-1]), f"newest model does not match: {updates[-1]}"

    qtbot.waitUntil(ready, timeout=timeout)
    return updates[-1]


def three_clusters(
    rng, n_per=25, centres=((-5.0, -4.0), (5.0, -4.0), (0.0, 5.0)), sd=0.6, shuffle=True
):
    """Points of three round clusters (shuffled, or cluster after cluster) and the centres."""
    parts = [rng.normal(loc=c, scale=sd, size=(n_per, 2)) for c in centres]
    points = np.concatenate(parts)
    if shuffle:
        points = points[rng.permutation(points.shape[0])]
    return points, np.asarray(centres)


def nearest_distances(means: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each centre (m, 2), the distance to the nearest of ``means`` (k, 2)."""
    return np.min(np.linalg.norm(means[:, None, :] - centres[None, :, :], axis=-1), axis=0)


def axis_points(window) -> list[QPoint]:
    """Viewport points on the left and the bottom axis, just outside the plot area."""
    rect = window.canvas.view_box.sceneBoundingRect()
    scene_points = [
        QPointF(rect.left() - 15, rect.center().y()),
        QPointF(rect.center().x(), rect.bottom() + 12),
    ]
    return [window.canvas.mapFromScene(p) for p in scene_points]


def drop_file(window, path) -> None:
    """Drop the file at ``path`` on the window, as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


@contextmanager
def waiting_for_open(qtbot, window, timeout=WAIT_MS):
    """Wait, after the block, until a file the block started opening is opened or not.

    Yields a dict that then holds ``"opened"`` or ``"failed"`` (the path), from
    ``window.file_opened`` or ``window.open_failed``.
    """
    outcome: dict[str, str] = {}

    def opened(path):
        outcome["opened"] = path

    def failed(path):
        outcome["failed"] = path

    window.file_opened.connect(opened)
    window.open_failed.connect(failed)
    try:
        yield outcome
        qtbot.waitUntil(lambda: bool(outcome), timeout=timeout)
    finally:
        window.file_opened.disconnect(opened)
        window.open_failed.disconnect(failed)


def open_and_wait(qtbot, window, path, columns=None) -> bool:
    """``window.open_file(path, columns)`` and wait for the outcome: True if opened."""
    with waiting_for_open(qtbot, window) as outcome:
        assert window.open_file(path, columns)
    return "opened" in outcome

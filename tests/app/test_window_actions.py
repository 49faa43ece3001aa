"""The window's own actions (app.window_actions): each works by its shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .conftest import wait_for_model


@pytest.mark.parametrize(
    "key, modifier",
    [
        (Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
    ],
)
def test_keyboard_clear(qtbot, window, updates, key, modifier):
    window.add_points(np.random.default_rng(16).normal(size=(30, 2)))
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 30)
    window.activateWindow()
    window.canvas.setFocus()
    asked = []
    window.confirm = lambda text: asked.append(text) or True
    qtbot.keyClick(window.canvas, key, modifier)
    assert asked, "the shortcut did not ask before clearing 30 points"
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 0)


def test_ctrl_q_closes_the_window_and_stops_the_thread(qtbot, window, updates):
    window.add_points(np.random.default_rng(17).normal(size=(10, 2)))
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 10)
    thread = window.controller.thread
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    assert not thread.isRunning()


def test_ctrl_0_fits_the_view_to_the_points(qtbot, window):
    points = np.array([[40.0, -30.0], [55.0, -20.0], [48.0, -25.0]])
    window.add_points(points)
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    assert x1 < 40.0, "the points must start out of view"
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    assert x0 < 40.0 < 55.0 < x1 and y0 < -30.0 < -20.0 < y1
    assert x1 - x0 < 40.0, "fitted to the points, not to the points and the old view"


def test_undo_and_redo_by_their_actions(qtbot, window):
    window.add_points([[1.0, 2.0]])
    window.add_points([[3.0, 4.0]])
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0]])
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0], [3.0, 4.0]])
    assert not window.redo_action.isEnabled()

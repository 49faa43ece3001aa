"""View > All Pairs: every pair of a four-column table, following the model and the history."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from app.canvas.projection import marginal_snapshot

from .conftest import wait_for_model
from .test_columns import NAMES, four_columns
from .test_columns_views import _session


def _open_four(qtbot, window, updates):
    points, _ = four_columns()
    window.components_spin.setValue(3)
    window.documents.apply_session(_session(points), "Open four")
    return wait_for_model(qtbot, window, updates, lambda s: s.n_points == 300 and s.final)


def _drawn_ellipse(window, index):
    cell = window.pairs_view._cells[index]
    return cell["ellipses"].xData, cell["ellipses"].yData


def test_four_columns_give_six_pairs_and_four_marginals_that_follow_the_model(
    qtbot, window, updates
):
    assert not window.pairs_action.isEnabled()  # two columns: nothing to show
    snapshot = _open_four(qtbot, window, updates)
    assert window.pairs_action.isEnabled()
    window.pairs_action.trigger()
    view = window.pairs_view
    qtbot.waitUntil(lambda: len(view.plots) == 6 and view.isVisible())
    assert view.pairs == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    assert len(view.diagonals) == 4

    def follows(model):
        for index, pair in enumerate(view.pairs):
            expected = marginal_snapshot(model, pair)
            x, y = _drawn_ellipse(window, index)
            if x is None or x.shape != expected.outline_x.shape:
                return False
            if not np.allclose(x, expected.outline_x):
                return False
            assert np.allclose(y, expected.outline_y)
        return True

    qtbot.waitUntil(lambda: follows(window.snapshot))
    assert window.snapshot is snapshot
    cells = view._cells
    assert sum(cell["points"].n_points for cell in cells) == 6 * 300
    curves = view._curves[2]
    assert len(curves) == 4  # three components and their sum
    x, total = curves[3].getData()
    area = float(np.sum(total) * (x[1] - x[0]))
    assert 0.9 < area < 1.01  # a density
    # The history: an earlier model is drawn in every cell too.
    window.components_spin.setValue(2)
    wait_for_model(qtbot, window, updates, lambda s: s.n_components == 2 and s.final)
    qtbot.waitUntil(lambda: follows(window.snapshot))
    window.history_slider.setValue(0)
    assert window.snapshot.n_components == 3
    qtbot.waitUntil(lambda: follows(window.snapshot))


def test_clicking_a_cell_shows_that_pair_on_the_canvas(qtbot, window, updates):
    _open_four(qtbot, window, updates)
    window.pairs_action.trigger()
    view = window.pairs_view
    qtbot.waitUntil(lambda: len(view.plots) == 6 and view.isVisible())
    index = view.pairs.index((1, 3))
    centre = view.plots[index].sceneBoundingRect().center()
    pos = QPointF(view.mapFromScene(centre))
    viewport = view.viewport()
    for kind, buttons in (
        (QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
    ):
        global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
        event = QMouseEvent(
            kind,
            pos,
            global_pos,
            Qt.MouseButton.LeftButton,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: window.canvas.pair == (1, 3))
    assert window.x_combo.currentText() == NAMES[1] and window.y_combo.currentText() == NAMES[3]

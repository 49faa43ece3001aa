"""The canvas's gestures (:mod:`app.canvas.gestures`), sent as the window system sends them.

Every click is one point, a drag pans, and with a drag tool on the left button strokes.

Qt turns the second of two quick presses at one place into a ``MouseButtonDblClick``
event (no press event), so a person clicking fast sends press, release, double-click,
release, press, release, double-click, release, ... Two routes deliver that here:

- ``window``: ``QTest`` events on the window's ``QWindow``, which go through Qt's own
  input handling, double-click detection included (``QTest.mouseDClick`` there is a
  press and release followed by a second press that Qt reports as a double-click);
- ``viewport``: the same sequence, event by event, on the canvas's viewport. (``QTest``'s
  widget overload of ``mouseDClick`` sends a lone double-click event with no press or
  release around it, which no window system does, so it is not used alone.)
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from .conftest import (
    axis_points,
    click,
    drag,
    press_release,
    to_viewport,
    wait_for_model,
)

LEFT = Qt.MouseButton.LeftButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
ROUTES = ("window", "viewport")


def quick_clicks(window, pos: QPointF, n: int, route: str) -> None:
    """``n`` left clicks at viewport position ``pos``, as fast as the event loop takes them."""
    if route == "window":
        handle = window.windowHandle()
        at = window.canvas.viewport().mapTo(window, pos.toPoint())
        for _ in range(n // 2):
            QTest.mouseDClick(handle, LEFT, NO_MODIFIER, at)
        if n % 2:
            QTest.mouseClick(handle, LEFT, NO_MODIFIER, at)
        return
    viewport, at = window.canvas.viewport(), pos.toPoint()
    for i in range(n):
        if i % 2 == 0:
            QTest.mousePress(viewport, LEFT, NO_MODIFIER, at)
        else:
            QTest.mouseDClick(viewport, LEFT, NO_MODIFIER, at)  # the second press of a pair
        QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, at)


def data_pixel(window) -> float:
    """One viewport pixel in data units."""
    a = window.canvas.view_box.mapSceneToView(QPointF(0, 0))
    b = window.canvas.view_box.mapSceneToView(QPointF(1, 0))
    return abs(b.x() - a.x())


@pytest.mark.parametrize("route", ROUTES)
def test_a_double_click_adds_two_points_where_it_was(qtbot, window, updates, route):
    quick_clicks(window, to_viewport(window, 2.5, -3.0), 2, route)
    points = window.points()
    assert points.shape == (2, 2)
    np.testing.assert_allclose(points, [[2.5, -3.0]] * 2, atol=2 * data_pixel(window))
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2 and s.final)
    assert snapshot.labels.shape == (2,)


@pytest.mark.parametrize("route", ROUTES)
def test_twenty_fast_clicks_at_one_spot_add_twenty_points(qtbot, window, updates, route):
    quick_clicks(window, to_viewport(window, -1.0, 4.0), 20, route)
    points = window.points()
    assert points.shape == (20, 2)
    np.testing.assert_allclose(points, [[-1.0, 4.0]] * 20, atol=2 * data_pixel(window))
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 20 and s.final)
    assert snapshot.labels.shape == (20,)
    assert window.canvas.points_item.n_points == 20


def test_six_quick_clicks_three_pixels_apart_add_six(qtbot, window, updates):
    """The issue's case: a row of quick clicks, each near enough to pair with the last."""
    viewport = window.canvas.viewport()
    start = to_viewport(window, 0.0, 0.0).toPoint()
    assert QGuiApplication.styleHints().mouseDoubleClickDistance() > 3
    for i in range(6):
        at = start + QPoint(3 * i, 0)
        if i % 2 == 0:
            QTest.mousePress(viewport, LEFT, NO_MODIFIER, at)
        else:
            QTest.mouseDClick(viewport, LEFT, NO_MODIFIER, at)
        QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, at)
    points = window.points()
    assert points.shape == (6, 2)
    steps = np.diff(points[:, 0]) / data_pixel(window)
    np.testing.assert_allclose(steps, 3.0, atol=0.5)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 6 and s.final)


def test_a_double_click_on_the_axes_adds_nothing(qtbot, window):
    for point in axis_points(window):
        quick_clicks(window, QPointF(point), 2, "viewport")
    assert window.points().shape == (0, 2)


def test_a_click_with_a_little_jitter_is_one_point_at_the_press(qtbot, window):
    viewport = window.canvas.viewport()
    jitter = QGuiApplication.styleHints().startDragDistance() // 2
    at = to_viewport(window, 1.0, 1.0).toPoint()
    before = window.canvas.view_box.viewRange()
    QTest.mousePress(viewport, LEFT, NO_MODIFIER, at)
    QTest.mouseMove(viewport, at + QPoint(jitter, 0))
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, at + QPoint(jitter, 0))
    np.testing.assert_allclose(window.points(), [[1.0, 1.0]], atol=2 * data_pixel(window))
    assert window.canvas.view_box.viewRange() == before, "a click must not pan"


def test_a_drag_from_a_double_click_pans_and_adds_only_the_first_click(qtbot, window):
    before = window.canvas.view_box.viewRange()[0]
    at = to_viewport(window, 0.0, 0.0).toPoint()
    viewport = window.canvas.viewport()
    QTest.mouseClick(viewport, LEFT, NO_MODIFIER, at)
    QTest.mouseDClick(viewport, LEFT, NO_MODIFIER, at)  # held: a drag begins
    drag_to = to_viewport(window, 4.0, 0.0).toPoint()
    for t in np.linspace(0, 1, 8)[1:]:
        QTest.mouseMove(viewport, at + (drag_to - at) * float(t))
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, drag_to)
    after = window.canvas.view_box.viewRange()[0]
    assert window.points().shape == (1, 2)
    assert after[0] == pytest.approx(before[0] - 4.0, abs=0.3)


def test_right_double_click_adds_nothing(qtbot, window):
    at = to_viewport(window, 1.0, 1.0).toPoint()
    handle = window.windowHandle()
    QTest.mouseDClick(
        handle, Qt.MouseButton.RightButton, NO_MODIFIER, window.canvas.viewport().mapTo(window, at)
    )
    menu = window.canvas.view_box.menu
    if menu is not None and menu.isVisible():
        menu.close()
    QApplication.processEvents()
    assert window.points().shape == (0, 2)


def test_drag_still_pans_and_wheel_still_zooms(qtbot, window):
    before = window.canvas.view_box.viewRange()[0]
    drag(window, (0.0, 0.0), (3.0, 0.0))
    assert window.points().shape == (0, 2)
    panned = window.canvas.view_box.viewRange()[0]
    assert panned[0] == pytest.approx(before[0] - 3.0, abs=0.3)
    viewport = window.canvas.viewport()
    at = QPointF(to_viewport(window, 0.0, 0.0))
    wheel = QWheelEvent(
        at,
        QPointF(viewport.mapToGlobal(at)),
        QPoint(0, 0),
        QPoint(0, 120),  # one notch away from the user: zoom in
        Qt.MouseButton.NoButton,
        NO_MODIFIER,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    zoomed = window.canvas.view_box.viewRange()[0]
    assert zoomed[1] - zoomed[0] < 0.95 * (panned[1] - panned[0])
    assert window.points().shape == (0, 2)


def test_clicks_on_the_axes_add_nothing(qtbot, window):
    for point in axis_points(window):
        press_release(window, QPointF(point))
    assert window.points().shape == (0, 2)
    click(window, 0.0, 0.0)  # the same events inside the plot area do add a point
    assert window.points().shape == (1, 2)


def test_right_click_and_drag_add_nothing_and_drag_pans(qtbot, window):
    click(window, 1.0, 1.0, button=Qt.MouseButton.RightButton)
    # close the context menu the right click may have opened
    menu = window.canvas.view_box.menu
    if menu is not None and menu.isVisible():
        menu.close()
    assert window.points().shape == (0, 2)
    before = window.canvas.view_box.viewRange()[0]
    drag(window, (0.0, 0.0), (4.0, 0.0))
    after = window.canvas.view_box.viewRange()[0]
    assert window.points().shape == (0, 2)
    assert after[0] == pytest.approx(before[0] - 4.0, abs=0.3)


def test_a_stroke_reports_its_path_in_data_coordinates_and_does_not_pan(qtbot, window):
    window.tools.set_tool("erase")  # a drag tool: the left button strokes (nothing to erase)
    canvas = window.canvas
    seen = []
    for kind, signal in [
        ("started", canvas.stroke_started),
        ("moved", canvas.stroke_moved),
        ("ended", canvas.stroke_ended),
        ("hovered", canvas.hovered),
        ("clicked", canvas.point_clicked),
    ]:
        signal.connect(lambda x, y, kind=kind: seen.append((kind, x, y)))
    before = canvas.view_box.viewRange()
    drag(window, (-2.0, 1.0), (4.0, 1.0), steps=4)
    assert [kind for kind, _, _ in seen] == ["started"] + ["moved", "hovered"] * 3 + ["ended"]
    tolerance = 2 * data_pixel(window)
    xs = [x for kind, x, _ in seen if kind != "hovered"]
    np.testing.assert_allclose(xs, [-2.0, 0.0, 2.0, 4.0, 4.0], atol=tolerance)
    np.testing.assert_allclose([y for _, _, y in seen], 1.0, atol=tolerance)
    assert canvas.view_box.viewRange() == before, "a stroke must not pan"
    assert window.points().shape == (0, 2)

"""Canvas tools driven by real mouse events on the viewport: one undo step per stroke."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from .conftest import _send, click, to_viewport, wait_for_model

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def stroke(window, path, button=LEFT):
    """Press at ``path[0]``, move through the rest, release at the last (data coordinates)."""
    viewport = window.canvas.viewport()
    positions = [to_viewport(window, x, y) for x, y in path]
    _send(viewport, QEvent.Type.MouseButtonPress, positions[0], button, button)
    for pos in positions[1:]:
        _send(viewport, QEvent.Type.MouseMove, pos, NONE, button)
    _send(viewport, QEvent.Type.MouseButtonRelease, positions[-1], button, NONE)


def line(a, b, steps=10):
    return [tuple(a + t * (np.subtract(b, a))) for t in np.linspace(0, 1, steps)]


def radius_data(window) -> float:
    return window.tools.radius_spin.value() * window.canvas.pixel_size()


def grid_points() -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(-6.0, 6.5, 1.5), np.arange(-6.0, 6.5, 1.5))
    return np.column_stack([xs.ravel(), ys.ravel()])


def test_tools_are_exclusive_checkable_actions_with_add_first(window):
    actions = window.tool_actions
    assert set(actions) == {"add", "brush", "move", "erase", "jitter"}
    assert [n for n, a in actions.items() if a.isChecked()] == ["add"]
    actions["brush"].trigger()
    assert [n for n, a in actions.items() if a.isChecked()] == ["brush"]
    assert {a.shortcut().toString() for a in actions.values()} == {"A", "B", "M", "E", "J"}


def test_shortcut_key_chooses_the_tool(qtbot, window):
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_E)
    assert window.tool_actions["erase"].isChecked()
    QTest.keyClick(window, Qt.Key.Key_A)
    assert window.tool_actions["add"].isChecked()


def test_brush_stroke_sprays_points_near_the_path_as_one_undo_step(qtbot, window, updates):
    window.tool_actions["brush"].trigger()
    path = line((-4.0, -2.0), (4.0, 2.0))
    models_before = len(updates)
    view = window.canvas.view_box.viewRange()
    stroke(window, path)
    points = window.points()
    assert points.shape[0] >= 2 * window.tools.intensity_spin.value()
    # every point within the radius of the path's segment
    a, b = np.array(path[0]), np.array(path[-1])
    t = np.clip((points - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    distance = np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1)
    assert distance.max() <= radius_data(window) * (1 + 1e-9)
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText().startswith("Brush Stroke")
    assert window.undo_action.text().startswith("&Undo Brush Stroke")
    assert window.canvas.view_box.viewRange() == view  # a brush stroke does not pan
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == points.shape[0])
    assert len(updates) > models_before
    window.undo_stack.undo()
    assert window.points().shape == (0, 2)
    window.undo_stack.redo()
    np.testing.assert_array_equal(window.points(), points)


def test_brush_adds_to_existing_points_keeping_them(qtbot, window):
    window.add_points([[9.0, 9.0], [-9.0, -9.0]])
    window.tool_actions["brush"].trigger()
    stroke(window, [(0.0, 0.0), (0.5, 0.0)])
    points = window.points()
    np.testing.assert_array_equal(points[:2], [[9.0, 9.0], [-9.0, -9.0]])
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), [[9.0, 9.0], [-9.0, -9.0]])


def test_erase_click_and_drag_each_one_undo_step(qtbot, window, updates):
    grid = grid_points()
    window.add_points(grid)
    window.tool_actions["erase"].trigger()
    click(window, 0.0, 0.0)
    after_click = window.points()
    assert radius_data(window) < 1.5  # the radius covers one point of the grid
    np.testing.assert_array_equal(after_click, grid[np.any(grid != [0.0, 0.0], axis=1)])
    assert window.undo_stack.undoText() == "Erase 1 Point"
    stroke(window, line((-6.0, -6.0), (6.0, -6.0), 20))
    after_drag = window.points()
    assert not np.any(after_drag[:, 1] == -6.0)  # the whole bottom row went
    assert window.undo_stack.count() == 3  # add, erase click, erase drag
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), after_click)
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), grid)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == grid.shape[0])


def test_erase_on_empty_space_adds_no_command(qtbot, window):
    window.add_points([[5.0, 5.0]])
    window.tool_actions["erase"].trigger()
    click(window, -5.0, -5.0)
    assert window.undo_stack.count() == 1
    np.testing.assert_array_equal(window.points(), [[5.0, 5.0]])


def test_move_drags_one_point_and_the_model_follows(qtbot, window, updates):
    points = np.array([[-5.0, -5.0], [0.0, 0.0], [5.0, 5.0], [5.0, -5.0]])
    window.add_points(points)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 4)
    window.tool_actions["move"].trigger()
    stroke(window, line((0.0, 0.0), (3.0, 4.0)))
    moved = window.points()
    np.testing.assert_array_equal(moved[[0, 2, 3]], points[[0, 2, 3]])
    np.testing.assert_allclose(moved[1], [3.0, 4.0], atol=2 * window.canvas.pixel_size())
    assert window.undo_stack.undoText() == "Move 1 Point"
    assert window.undo_stack.count() == 2
    wait_for_model(
        qtbot,
        window,
        updates,
        lambda s: s.generation == window.session.generation and s.n_points == 4,
    )
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), points)


def test_move_a_rubber_band_selection(qtbot, window):
    points = np.array([[-5.0, -5.0], [-4.0, -4.5], [5.0, 5.0], [6.0, 6.0]])
    window.add_points(points)
    window.tool_actions["move"].trigger()
    stroke(window, line((-7.0, -7.0), (-3.0, -3.0)))  # a band around the first two
    assert window.undo_stack.count() == 1  # selecting changes no data
    np.testing.assert_array_equal(window.tools.selection, [0, 1])
    stroke(window, line((-5.0, -5.0), (-5.0, 0.0)))  # drag one of them: both move
    moved = window.points()
    shift = moved[:2] - points[:2]
    np.testing.assert_allclose(shift, [[0.0, 5.0]] * 2, atol=2 * window.canvas.pixel_size())
    np.testing.assert_array_equal(shift[0], shift[1])
    np.testing.assert_array_equal(moved[2:], points[2:])
    assert window.undo_stack.undoText() == "Move 2 Points"
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), points)


def test_jitter_nudges_only_points_under_the_cursor(qtbot, window):
    far = np.array([[8.0, 8.0], [-8.0, 8.0]])
    near = np.random.default_rng(1).normal(0.0, 0.2, size=(10, 2))
    window.add_points(np.concatenate([far, near]))
    window.tool_actions["jitter"].trigger()
    stroke(window, [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.1, 0.0)])
    points = window.points()
    np.testing.assert_array_equal(points[:2], far)
    assert np.all(points[2:] != near)
    assert window.undo_stack.undoText() == "Jitter 10 Points"
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), np.concatenate([far, near]))


@pytest.mark.parametrize("tool", ["brush", "move", "erase", "jitter"])
def test_middle_drag_pans_and_right_click_adds_nothing_in_every_tool(qtbot, window, tool):
    window.add_points([[1.0, 1.0]])
    window.tool_actions[tool].trigger()
    before = window.canvas.view_box.viewRange()[0]
    stroke(window, line((0.0, 0.0), (3.0, 0.0)), button=Qt.MouseButton.MiddleButton)
    after = window.canvas.view_box.viewRange()[0]
    assert after[0] == pytest.approx(before[0] - 3.0, abs=0.3)
    click(window, 2.0, 2.0, Qt.MouseButton.RightButton)
    menu = window.canvas.view_box.menu
    if menu is not None and menu.isVisible():
        menu.close()
    np.testing.assert_array_equal(window.points(), [[1.0, 1.0]])
    assert window.undo_stack.count() == 1


def test_add_tool_keeps_click_counting_after_another_tool(qtbot, window):
    window.tool_actions["brush"].trigger()
    window.tool_actions["add"].trigger()
    at = to_viewport(window, 1.0, 2.0).toPoint()
    viewport = window.canvas.viewport()
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseDClick(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at)
    assert window.points().shape == (2, 2)
    assert window.undo_stack.undoText() == "Add Point"


def test_a_brush_stroke_held_still_keeps_spraying(qtbot, window):
    window.tool_actions["brush"].trigger()
    viewport = window.canvas.viewport()
    pos = to_viewport(window, 0.0, 0.0)
    _send(viewport, QEvent.Type.MouseButtonPress, pos, LEFT, LEFT)
    first = window.points().shape[0]
    qtbot.waitUntil(lambda: window.points().shape[0] > first, timeout=5000)
    _send(viewport, QEvent.Type.MouseButtonRelease, pos, LEFT, NONE)
    assert window.undo_stack.count() == 1
    n = window.points().shape[0]
    # released: no more points, and the stroke is one command
    with qtbot.assertNotEmitted(window.session.changed, wait=300):
        pass
    assert window.points().shape[0] == n


def test_changing_tool_mid_stroke_ends_the_stroke(qtbot, window):
    window.tool_actions["brush"].trigger()
    viewport = window.canvas.viewport()
    _send(viewport, QEvent.Type.MouseButtonPress, QPointF(to_viewport(window, 0, 0)), LEFT, LEFT)
    window.tool_actions["erase"].trigger()
    assert window.undo_stack.count() == 1
    assert not window.session.in_stroke
    _send(viewport, QEvent.Type.MouseButtonRelease, to_viewport(window, 0, 0), LEFT, NONE)
    assert window.undo_stack.count() == 1

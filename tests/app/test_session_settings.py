"""The window's part of a session file: gathered from the window, and given back checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.window_state import (
    apply_model_settings,
    apply_view_settings,
    collect_session_settings,
)


def view_range(window) -> np.ndarray:
    """[[x0, x1], [y0, y1]] shown."""
    return np.array(window.canvas.view_box.viewRange())


def show_four_columns(window) -> np.ndarray:
    """Points of four columns, far from the fixture's view, as the window's points."""
    points = np.random.default_rng(5).normal(loc=100.0, scale=3.0, size=(50, 4))
    window.session.replace_points(points, "Open four", ("a", "b", "c", "d"))
    return points


def test_the_collected_settings_are_what_the_window_shows(window):
    window.components_spin.setValue(4)
    window.epochs_spin.setValue(9)
    settings = collect_session_settings(window)
    (x0, x1), (y0, y1) = view_range(window)
    assert settings == {"n_components": 4, "epochs": 9, "view": [x0, x1, y0, y1], "axes": [0, 1]}
    assert json.loads(json.dumps(settings)) == settings


def test_model_settings_are_applied_without_a_refit_of_their_own(qtbot, window):
    with qtbot.assertNotEmitted(window.components_spin.valueChanged):
        apply_model_settings(window, {"n_components": 5, "epochs": 11, "later": [1]})
    assert window.components_spin.value() == 5 and window.controller.n_components == 5
    assert window.epochs_spin.value() == 11 and window.controller.epochs == 11


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"n_components": 0, "epochs": -1},
        {"n_components": "4", "epochs": 2.5},
        {"n_components": 10**6, "epochs": 10**9},
        {"n_components": True, "epochs": True},
    ],
)
def test_model_settings_that_do_not_fit_the_window_are_ignored(window, settings):
    window.components_spin.setValue(4)
    window.epochs_spin.setValue(9)
    apply_model_settings(window, settings)
    assert window.components_spin.value() == 4 and window.controller.n_components == 4
    assert window.epochs_spin.value() == 9


def test_the_saved_columns_and_view_are_shown(window):
    show_four_columns(window)
    apply_view_settings(window, {"axes": [2, 0], "view": [-1.0, 3.0, -2, 2]}, 4)
    assert window.canvas.pair == (2, 0)
    shown = view_range(window)
    # the aspect lock may widen one side, about the same centre
    np.testing.assert_allclose(shown.mean(axis=1), [1.0, 0.0], atol=1e-9)
    assert shown[0, 0] <= -1.0 and shown[0, 1] >= 3.0
    assert shown[1, 0] <= -2.0 and shown[1, 1] >= 2.0


@pytest.mark.parametrize(
    ("axes", "view"),
    [
        (None, None),
        ([1, 1], [0.0, 1.0, 0.0]),
        ([0, 4], [1.0, 0.0, 0.0, 1.0]),
        ([True, 0], [0.0, 1.0, 1.0, 1.0]),
        ([2], [0.0, float("nan"), 0.0, 1.0]),
        ("21", [0.0, "1", 0.0, 1.0]),
    ],
)
def test_unusable_columns_and_views_are_ignored_and_the_view_fits_the_points(window, axes, view):
    points = show_four_columns(window)
    window.canvas.view_box.setRange(xRange=(-10, 10), yRange=(-10, 10), padding=0)
    apply_view_settings(window, {"axes": axes, "view": view}, 4)
    assert window.canvas.pair == (0, 1)
    shown = view_range(window)
    assert (shown[:, 0] <= points[:, :2].min(axis=0)).all()
    assert (shown[:, 1] >= points[:, :2].max(axis=0)).all()

"""The window end to end: real mouse events, real worker thread, waits on signals."""

from __future__ import annotations

import faulthandler

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from scipy.stats import multivariate_normal

from app.state import messages

from .conftest import (
    WAIT_MS,
    click,
    drop_file,
    move,
    nearest_distances,
    open_and_wait,
    set_view,
    three_clusters,
    wait_for_model,
    waiting_for_open,
)


def test_window_contract(window):
    import pyqtgraph as pg
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QSpinBox

    assert isinstance(window.canvas, pg.PlotWidget)
    assert isinstance(window.components_spin, QSpinBox)
    assert (window.components_spin.minimum(), window.components_spin.maximum()) == (1, 20)
    assert (window.epochs_spin.minimum(), window.epochs_spin.maximum()) == (0, 1000)
    assert isinstance(window.train_action, QAction)
    assert isinstance(window.clear_action, QAction)
    assert window.points().shape == (0, 2)
    assert not window.windowIcon().isNull()
    assert window.canvas.hint.isVisible()


def test_click_adds_point_where_clicked(qtbot, window, updates):
    click(window, 2.5, -3.25)
    pts = window.points()
    assert pts.shape == (1, 2)
    # One pixel of a 700-pixel view of 20 units is ~0.03 units.
    np.testing.assert_allclose(pts[0], [2.5, -3.25], atol=0.05)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 1)
    assert snapshot.n_components == 1
    np.testing.assert_allclose(snapshot.means[0], pts[0], atol=1e-9)
    assert not window.canvas.hint.isVisible()


@pytest.mark.parametrize("shuffle", [False, True], ids=["cluster_after_cluster", "mixed"])
def test_three_clicked_clusters_give_three_means_near_them(qtbot, window, updates, shuffle):
    rng = np.random.default_rng(3)
    points, centres = three_clusters(rng, n_per=10, shuffle=shuffle)
    for x, y in points:
        click(window, x, y)
    assert window.points().shape == (30, 2)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 30 and s.final)
    assert snapshot.n_components == 3
    assert np.all(nearest_distances(snapshot.means, centres) < 1.0)
    np.testing.assert_allclose(snapshot.weights, 1 / 3, atol=0.1)
    # all ellipses (3 components x 1, 2, 3 sd) are one curve item, updated in place
    import pyqtgraph as pg

    children = window.canvas.view_box.childGroup.childItems()
    curves = [i for i in children if isinstance(i, pg.PlotCurveItem) and i.isVisible()]
    assert curves == [window.canvas.ellipses_item]
    assert curves[0].getData()[0].shape == snapshot.outline_x.shape
    assert snapshot.ring_component.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_spin_box_to_two_gives_two_components(qtbot, window, updates):
    rng = np.random.default_rng(4)
    points, _ = three_clusters(rng, n_per=20)
    window.add_points(points)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 60 and s.n_components == 3)
    window.components_spin.setValue(2)
    snapshot = wait_for_model(
        qtbot, window, updates, lambda s: s.n_components == 2 and s.final and s.n_points == 60
    )
    assert snapshot.means.shape == (2, 2)
    assert snapshot.covariances.shape == (2, 2, 2)
    assert "2 components" in window.components_label.text()


def test_dragging_the_spin_box_is_coalesced_into_one_refit(qtbot, window, updates):
    rng = np.random.default_rng(5)
    window.add_points(three_clusters(rng, n_per=20)[0])
    wait_for_model(qtbot, window, updates)
    first = window.controller.latest_request_id
    for k in range(4, 21):
        window.components_spin.setValue(k)
    wait_for_model(qtbot, window, updates, lambda s: s.final and s.n_components >= 10)
    assert window.controller.latest_request_id == first + 1


def test_clear_empties_everything_and_emits_once(qtbot, window, updates):
    rng = np.random.default_rng(6)
    window.add_points(three_clusters(rng, n_per=10)[0])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 30)
    asked = []
    window.confirm = lambda text: asked.append(text) or True
    start = len(updates)
    window.clear_action.trigger()
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 0)
    assert asked and "30" in asked[0]
    assert window.points().shape == (0, 2)
    assert snapshot.weights.shape == (0,)
    assert snapshot.means.shape == (0, 2)
    assert snapshot.covariances.shape == (0, 2, 2)
    with qtbot.assertNotEmitted(window.model_updated, wait=300):
        pass  # a late, stale snapshot would fail here
    assert [s.n_points for s in updates[start:]] == [0]
    assert window.canvas.points_item.n_points == 0
    assert window.canvas.hint.isVisible()
    assert window.state_label.text() == "idle"


def test_clear_asks_first_and_no_keeps_everything(qtbot, window, updates):
    window.add_points(np.random.default_rng(7).normal(size=(25, 2)))
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 25)
    window.confirm = lambda text: False
    count = len(updates)
    with qtbot.assertNotEmitted(window.model_updated, wait=300):
        window.clear_action.trigger()
    assert window.points().shape == (25, 2)
    assert len(updates) == count


def test_few_points_clear_without_asking(qtbot, window, updates):
    window.add_points([[0, 0], [1, 1]])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2)

    def refuse(text):
        raise AssertionError("must not ask for 2 points")

    window.confirm = refuse
    window.clear_action.trigger()
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 0)


def test_ctrl_z_undoes_the_last_point(qtbot, window, updates):
    for x, y in [(-3, 0), (0, 3), (3, 0)]:
        click(window, x, y)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 3)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    pts = window.points()
    assert pts.shape == (2, 2)
    np.testing.assert_allclose(pts[-1], [0, 3], atol=0.05)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2)
    assert snapshot.labels.shape == (2,)
    window.session.undo_stack.redo()
    assert window.points().shape == (3, 2)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 3)


def test_add_points_is_one_undoable_edit(qtbot, window, updates):
    window.add_points([[0.0, 0.0]])
    window.add_points(np.random.default_rng(9).normal(size=(40, 2)))
    assert window.points().shape == (41, 2)
    window.session.undo_stack.undo()
    assert window.points().shape == (1, 2)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 1)


def test_hover_shows_log_density_and_component(qtbot, window, updates):
    rng = np.random.default_rng(10)
    points, centres = three_clusters(rng, n_per=20)
    window.add_points(points)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.final and s.n_components == 3)
    target = snapshot.means[1]
    hovered = []
    window.canvas.hovered.connect(lambda x, y: hovered.append((x, y)))
    move(window, *target)
    assert hovered, "no hover reached the canvas"
    xy = np.array(hovered[-1])
    np.testing.assert_allclose(xy, target, atol=0.05)
    text = window.hover_label.text()
    assert "log density" in text and "component 2" in text
    # the value shown is the mixture's log-density at the cursor
    expected = np.log(
        sum(
            w * multivariate_normal(m, c).pdf(xy)
            for w, m, c in zip(snapshot.weights, snapshot.means, snapshot.covariances, strict=True)
        )
    )
    shown = float(text.split("log density ")[1].split(" ")[0].replace("&nbsp;", ""))
    assert shown == pytest.approx(expected, rel=1e-3, abs=1e-3)
    window.canvas.left.emit()
    assert window.hover_label.text() == ""


def test_status_bar_shows_points_loglik_bic(qtbot, window, updates):
    window.add_points(three_clusters(np.random.default_rng(11), n_per=10)[0])
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 30 and s.final)
    assert window.points_label.text() == "30 points"
    assert "3 components" in window.components_label.text()
    assert f"{snapshot.mean_log_likelihood:.4g}" in window.loglik_label.text()
    assert f"BIC {snapshot.bic:.6g}" == window.bic_label.text()
    # the figures are those scikit-learn gives for the same mixture and points
    from sklearn.mixture import GaussianMixture as Reference

    reference = Reference(3).fit(window.points())  # fitted, then given our parameters
    reference.weights_, reference.means_ = snapshot.weights, snapshot.means
    reference.covariances_ = snapshot.covariances
    reference.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(snapshot.covariances))
    assert snapshot.mean_log_likelihood == pytest.approx(reference.score(window.points()))
    assert snapshot.bic == pytest.approx(reference.bic(window.points()))


def test_open_bad_csv_shows_a_dialog_and_changes_nothing(qtbot, window, updates, tmp_path):
    window.add_points([[1.0, 2.0], [3.0, 4.0]])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2)
    errors = []
    window.show_error = errors.append
    count = len(updates)
    with qtbot.assertNotEmitted(window.model_updated, wait=300):
        open_bad_files(qtbot, window, tmp_path)
    assert len(errors) == 5 and all("Could not open" in e for e in errors)
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0], [3.0, 4.0]])
    assert len(updates) == count
    assert window.session.undo_stack.count() == 1


def open_bad_files(qtbot, window, tmp_path):
    # (a file with some bad rows opens without them, and says so: see test_columns.py)
    for name, text in [
        ("words.csv", "x,y\none,two\nthree,four\n"),
        ("one_column.csv", "1\n2\n3\n"),
        ("empty.csv", "# nothing\n"),
        ("nan.csv", "nan,2\n1,nan\n"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        assert open_and_wait(qtbot, window, path) is False
    assert open_and_wait(qtbot, window, tmp_path / "missing.csv") is False


def test_open_old_faithful(qtbot, window, updates):
    before = window.controller.latest_request_id
    with waiting_for_open(qtbot, window):
        window.example_action.trigger()
    assert window.controller.latest_request_id == before + 1  # one request: Train
    assert window.points().shape == (272, 2)
    window_range = window.canvas.view_box.viewRange()
    assert window_range[1][0] < 43 and window_range[1][1] > 96  # the view shows the data
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 272 and s.final)
    assert snapshot.n_components == 3 and snapshot.request_id == before + 1
    assert snapshot.state in ("converged", "stopped") and snapshot.n_iter > 0


@pytest.mark.parametrize("scale", [1e-3, 1e6])
def test_any_scale_behaves_the_same(qtbot, window, updates, scale):
    rng = np.random.default_rng(13)
    points, centres = three_clusters(rng, n_per=25)
    offset = np.array([7.0, -3.0]) * scale * 10
    set_view(
        window,
        (-10 * scale + offset[0], 10 * scale + offset[0]),
        (-10 * scale + offset[1], 10 * scale + offset[1]),
    )
    for x, y in points[:6] * scale + offset:
        click(window, x, y)
    window.add_points(points[6:] * scale + offset)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 75)
    window.train_action.trigger()
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.final and s.n_iter > 1)
    assert snapshot.n_components == 3
    found = (snapshot.means - offset) / scale
    assert np.all(nearest_distances(found, centres) < 1.0)
    spreads = np.sqrt(np.linalg.eigvalsh(snapshot.covariances)) / scale
    assert np.all((spreads > 0.2) & (spreads < 2.0))


def test_closing_during_a_long_fit_returns_promptly(qtbot, window, updates):
    rng = np.random.default_rng(14)
    window.epochs_spin.setValue(1000)
    window.components_spin.setValue(20)
    window.add_points(rng.uniform(-9, 9, size=(150_000, 2)))  # slow to converge with K=20
    window.train_action.trigger()
    qtbot.waitUntil(lambda: bool(window.controller.busy and updates), timeout=20_000)
    assert window.controller.busy
    thread = window.controller.thread
    faulthandler.dump_traceback_later(30.0)  # where it hangs, should it
    window.close()
    faulthandler.cancel_dump_traceback_later()
    assert not thread.isRunning()
    assert not updates[-1].final  # the fit was stopped in the middle, not waited for


def test_large_data_draws_one_item_per_layer(qtbot, window, updates):
    rng = np.random.default_rng(15)
    n = messages.DENSITY_ABOVE + 10_000  # drawn as one density image
    points = rng.normal(size=(n, 2)) * 3
    window.add_points(points)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == n)
    layer = window.canvas.point_density
    qtbot.waitUntil(lambda: not layer.busy and layer.image is not None, timeout=WAIT_MS)
    items = window.canvas.view_box.childGroup.childItems()
    # points, pending, image, grid, ellipses, means, and at most 20 weight labels and the
    # other layers' items: never one per point
    assert 6 <= len(items) <= 12 + 20
    assert window.canvas.points_item.n_points == 0 and layer.image_item.isVisible()
    x, y, width, height = layer.image.rect
    inside = (points >= (x, y)) & (points < (x + width, y + height))
    assert layer.image.counts.sum() == np.count_nonzero(inside.all(axis=1))
    assert snapshot.labels.shape == (n,)
    # the points are really drawn: saturated colour where they are dense
    image = window.canvas.grab().toImage()
    centre = window.canvas.mapFromScene(window.canvas.view_box.mapViewToScene(QPointF(0.5, 0.5)))
    colours = [
        image.pixelColor(centre.x() + dx, centre.y() + dy)
        for dx in range(-2, 3)
        for dy in range(-2, 3)
    ]
    assert max(c.hsvSaturation() for c in colours) > 100


def test_hover_position_keeps_its_digits_at_large_offsets(qtbot, window):
    set_view(window, (1e6 - 1e-2, 1e6 + 1e-2), (-1e-2, 1e-2))
    move(window, 1e6 + 1.234e-3, 0.0)
    text = window.hover_label.text()
    assert "(1000000.001" in text, text


def test_dropping_a_csv_file_opens_it(qtbot, window, updates, tmp_path):
    path = tmp_path / "dropped.csv"
    path.write_text("x,y\n0,0\n1,1\n5,5\n6,6\n")
    with waiting_for_open(qtbot, window):
        drop_file(window, path)
    np.testing.assert_array_equal(window.points(), [[0, 0], [1, 1], [5, 5], [6, 6]])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 4)

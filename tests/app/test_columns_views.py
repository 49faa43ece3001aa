"""With four columns, every view stays honest: exports, the insight panels, the readout."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from scipy.stats import multivariate_normal

from app.canvas.plot_items import soft_groups
from app.canvas.projection import marginal_snapshot
from app.state.geometry import responsibilities
from app.state.messages import TRAINERS, ModelSnapshot
from gmm_core.covariance_types import component_log_densities

from .conftest import WAIT_MS, move, wait_for_model
from .test_columns import CENTRES, NAMES, four_columns


@pytest.fixture
def four(qtbot, window, updates):
    """The window with four columns opened and fitted; returns (points, snapshot)."""
    points, _ = four_columns()
    window.components_spin.setValue(3)
    window.documents.apply_session(_session(points), "Open four")
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 300 and s.final)
    return points, snapshot


def _session(points):
    from app.files.session.format import SessionData

    return SessionData(points, columns=tuple(NAMES))


def mixture_log_density(xy, weights, means, covariances) -> float:
    """scipy's log-density of a Gaussian mixture at ``xy``: the reference."""
    return float(
        np.log(
            sum(
                w * multivariate_normal(m, c).pdf(xy)
                for w, m, c in zip(weights, means, covariances, strict=True)
            )
        )
    )


def test_exports_write_all_four_columns(qtbot, window, four, tmp_path):
    from gmm_core import GaussianMixture

    points, snapshot = four
    assert window.export_points(tmp_path / "points.csv")
    text = (tmp_path / "points.csv").read_text()
    assert text.splitlines()[0] == ",".join(NAMES)
    np.testing.assert_array_equal(
        np.loadtxt(tmp_path / "points.csv", delimiter=",", skiprows=1), points
    )
    assert window.export_model(tmp_path / "model.json")
    model = GaussianMixture.from_dict(
        __import__("json").loads((tmp_path / "model.json").read_text())
    )
    np.testing.assert_allclose(np.sort(model.means_, axis=0), np.sort(snapshot.means, axis=0))
    np.testing.assert_array_equal(model.predict(points[:5]).shape, (5,))
    window.axes.set_pair(2, 3)
    assert window.export_image(tmp_path / "canvas.png")
    assert not QImage(str(tmp_path / "canvas.png")).isNull()
    assert window.export_image(tmp_path / "canvas.svg")


def test_the_readout_and_density_map_show_the_marginal_of_the_shown_pair(
    qtbot, window, updates, four
):
    _, snapshot = four
    window.axes.set_pair(2, 3)
    window.axes.fit_view()
    pair = [2, 3]
    means = snapshot.means[:, pair]
    blocks = snapshot.covariances[:, pair][:, :, pair]
    target = means[1]
    move(window, *target)
    text = window.hover_label.text()
    assert "marginal log density" in text
    shown = float(text.split("marginal log density ")[1].split(" ")[0].replace("&nbsp;", ""))
    hovered = window.status._hover
    expected = mixture_log_density(hovered, snapshot.weights, means, blocks)
    assert shown == pytest.approx(expected, rel=1e-3, abs=1e-3)

    with qtbot.waitSignal(window.density.runner.result_ready, timeout=WAIT_MS):
        window.density_action.setChecked(True)
    grid = window.density.grid
    x, y, w, h = grid.rect
    size = grid.log_density.shape[0]
    for i, j in [(size // 2, size // 2), (size // 3, 2 * size // 3)]:
        cell = (x + w * (i + 0.5) / size, y + h * (j + 0.5) / size)
        expected = mixture_log_density(cell, snapshot.weights, means, blocks)
        assert grid.log_density[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # another pair: a new grid of that pair's marginal, no refit
    requests = window.controller.latest_request_id
    with qtbot.waitSignal(window.density.runner.result_ready, timeout=WAIT_MS):
        window.axes.set_pair(0, 3)
    assert window.controller.latest_request_id == requests
    grid = window.density.grid
    x, y, w, h = grid.rect
    i = size // 2
    cell = (x + w * (i + 0.5) / size, y + h * (i + 0.5) / size)
    expected = mixture_log_density(
        cell,
        snapshot.weights,
        snapshot.means[:, [0, 3]],
        snapshot.covariances[:, [0, 3]][:, :, [0, 3]],
    )
    assert grid.log_density[i, i] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_samples_soft_colours_steps_and_model_selection_work_in_four_columns(
    qtbot, window, updates, four
):
    points, snapshot = four
    window.sample_action.trigger()
    samples = window.samples.samples
    assert samples.shape == (300, 4)
    assert window.samples.item.data.shape[0] == 300
    window.axes.set_pair(3, 2)
    np.testing.assert_array_equal(
        np.column_stack([window.samples.item.data["x"], window.samples.item.data["y"]]),
        samples[:, [3, 2]],
    )
    window.keep_samples_action.trigger()  # samples have all four coordinates: they add
    assert window.points().shape == (600, 4)
    window.undo_action.trigger()
    assert window.points().shape == (300, 4)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 300 and s.final)

    window.soft_colors_action.setChecked(True)
    groups = window.canvas.points_item._groups
    shown = np.concatenate([g for g, _ in groups])
    np.testing.assert_array_equal(np.sort(shown, axis=0), np.sort(points[:, [3, 2]], axis=0))
    window.soft_colors_action.setChecked(False)

    window.step_action.trigger()  # live training off; the E half, then the M half
    stepped = wait_for_model(qtbot, window, updates, lambda s: s.state in ("m-step", "converged"))
    assert stepped.means.shape == (3, 4)
    window.repair_action.trigger()
    wait_for_model(qtbot, window, updates, lambda s: s.means.shape == (3, 4) and s.final)

    with qtbot.waitSignal(window.k_scores_ready, timeout=WAIT_MS) as blocker:
        window.model_selection_action.setChecked(True)
    assert blocker.args[0].best_k == 3


def test_compare_all_and_covariance_types_in_four_columns(qtbot, window, updates, four):
    window.trainer_combo.setCurrentText("Compare all")
    seen = {}

    def all_trainers():
        for s in updates:
            if s.n_points == 300 and s.final:
                seen[s.trainer] = s
        assert len(seen) == len(TRAINERS)

    qtbot.waitUntil(all_trainers, timeout=WAIT_MS)
    assert all(s.means.shape == (3, 4) for s in seen.values())
    window.axes.set_pair(1, 2)  # the other trainers' ellipses follow the pair too
    for trainer, item in window.canvas.trainer_ellipses.items():
        x, _ = item.getData()
        expected = marginal_snapshot(seen[trainer], (1, 2)).outline_x
        np.testing.assert_array_equal(x, expected)
    window.trainer_combo.setCurrentText("Batch EM")
    for covariance_type in ("diag", "spherical", "tied"):
        window.covariance_combo.setCurrentText(covariance_type)
        snapshot = wait_for_model(
            qtbot, window, updates, lambda s, t=covariance_type: s.covariance_type == t and s.final
        )
        c = snapshot.covariances
        assert c.shape == (3, 4, 4)
        off = c - np.einsum("kii->ki", c)[:, :, None] * np.eye(4)
        if covariance_type in ("diag", "spherical"):
            assert np.all(off == 0)
        if covariance_type == "spherical":
            assert np.allclose(np.einsum("kii->ki", c), np.einsum("kii->ki", c)[:, :1])
        if covariance_type == "tied":
            assert np.allclose(c, c[:1])


def test_responsibilities_in_four_dimensions_match_scipy():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 4)) * 3
    weights = np.array([0.2, 0.5, 0.3])
    means = CENTRES
    A = rng.normal(size=(3, 4, 4))
    covariances = A @ np.swapaxes(A, 1, 2) + 0.5 * np.eye(4)
    log_prob = component_log_densities(X, weights, means, covariances)
    expected = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ]
    )
    np.testing.assert_allclose(log_prob, expected, rtol=1e-10)
    resp = responsibilities(X, weights, means, covariances)
    np.testing.assert_allclose(
        resp,
        np.exp(expected - expected.max(1, keepdims=True))
        / np.exp(expected - expected.max(1, keepdims=True)).sum(1, keepdims=True),
        rtol=1e-9,
    )
    # soft colours of points shown in two columns mix by all four
    snapshot = ModelSnapshot(
        0,
        50,
        weights=weights,
        means=means,
        covariances=covariances,
        colors=np.arange(3),
    )
    groups = soft_groups(X, snapshot, (2, 0))
    assert sum(g.shape[0] for g, _ in groups) == 50
    np.testing.assert_array_equal(
        np.sort(np.concatenate([g for g, _ in groups]), axis=0), np.sort(X[:, [2, 0]], axis=0)
    )


def test_the_marginal_is_the_sub_block_and_large_data_is_projected_once():
    import dataclasses

    from app.canvas.projection import ShownPair

    rng = np.random.default_rng(6)
    A = rng.normal(size=(3, 4, 4))
    covariances = A @ np.swapaxes(A, 1, 2) + np.eye(4)
    grouped = rng.normal(size=(1000, 4))
    snapshot = ModelSnapshot(
        0,
        1000,
        weights=np.full(3, 1 / 3),
        means=CENTRES,
        covariances=covariances,
        colors=np.arange(3),
        grouped_points=grouped,
        group_starts=np.array([0, 400, 700, 1000]),
    )
    shown = ShownPair()
    shown.pair = (3, 1)
    marginal = shown.marginal(snapshot)
    np.testing.assert_array_equal(marginal.means, CENTRES[:, [3, 1]])
    for k in range(3):
        expected = [
            [covariances[k, 3, 3], covariances[k, 3, 1]],
            [covariances[k, 1, 3], covariances[k, 1, 1]],
        ]
        np.testing.assert_array_equal(marginal.covariances[k], expected)
    np.testing.assert_array_equal(marginal.grouped_points, grouped[:, [3, 1]])
    assert marginal.grouped_bounds == (
        grouped[:, 3].min(),
        grouped[:, 1].min(),
        grouped[:, 3].max(),
        grouped[:, 1].max(),
    )
    assert marginal.weights is snapshot.weights and marginal.means.shape == (3, 2)
    # a progress snapshot with the same grouping reuses its projection
    later = dataclasses.replace(snapshot, request_id=1)
    assert shown.marginal(later).grouped_points is marginal.grouped_points
    # data of two columns in their own order is shown as it is
    two = ModelSnapshot(0, 0, means=CENTRES[:, :2], covariances=covariances[:, :2, :2])
    assert shown.marginal(two) is two

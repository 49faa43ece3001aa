"""Issue 11 through the window: trainers, covariance types, step by step, collapse."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from app.state.messages import COMPARE_ALL, TRAINERS

from .conftest import WAIT_MS, click, three_clusters, wait_for_model, waiting_for_open


def _clusters(seed=0, n_per=25):
    return three_clusters(np.random.default_rng(seed), n_per=n_per)[0]


def test_compare_all_yields_finite_snapshots_from_all_three(qtbot, window, updates):
    window.add_points(_clusters()[:-1])
    wait_for_model(qtbot, window, updates)
    window.trainer_combo.setCurrentText(COMPARE_ALL)
    updates.clear()
    click(window, 0.0, 5.0)  # a real click: all three learn it
    wait_for_model(qtbot, window, updates)
    seen = {s.trainer for s in updates if s.n_points == 75}
    assert seen == set(TRAINERS)
    for trainer in TRAINERS:
        last = [s for s in updates if s.trainer == trainer][-1]
        assert np.isfinite(last.log_likelihood) and last.log_likelihood > -10
        assert last.final
    # drawn together: the other trainers' ellipses are on the canvas, in their own styles
    for trainer in TRAINERS[1:]:
        item = window.canvas.trainer_ellipses[trainer]
        assert item.isVisible() and item.xData.shape[0] > 0
        styles = {pen.style() for _, pen in item._strokes}
        assert window.canvas.ellipses_item.line_style not in styles
    # every trainer has its curve in the likelihood panel
    for trainer in TRAINERS:
        xs, ys = window.likelihood_plot.curve(trainer)
        assert xs.shape[0] >= 1 and np.all(np.isfinite(ys))


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical", "full"])
def test_covariance_type_gives_covariances_of_its_form(qtbot, window, updates, covariance_type):
    window.add_points(_clusters(1))
    wait_for_model(qtbot, window, updates)
    window.covariance_combo.setCurrentText(covariance_type)
    snapshot = wait_for_model(
        qtbot, window, updates, lambda s: s.covariance_type == covariance_type
    )
    cov = snapshot.covariances
    assert cov.shape == (3, 2, 2) and np.all(np.isfinite(cov))
    off = cov[:, 0, 1]
    if covariance_type == "tied":
        assert np.allclose(cov, cov[0])
    if covariance_type in ("diag", "spherical"):
        assert np.all(off == 0)
    if covariance_type == "spherical":
        assert np.allclose(cov[:, 0, 0], cov[:, 1, 1])
    if covariance_type == "full":
        assert np.all(np.abs(off) > 0)
        assert not np.allclose(cov, cov[0])


def _one_em_pass(X, weights, means, covariances):
    log_prob = np.stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ],
        axis=1,
    )
    resp = np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))
    nk = resp.sum(axis=0)
    return nk / nk.sum(), (resp.T @ X) / nk[:, None]


def test_step_with_live_training_off_runs_exactly_one_pass(qtbot, window, updates):
    window.add_points(_clusters(2))
    wait_for_model(qtbot, window, updates)
    window.live_action.setChecked(False)
    n_before = len(updates)
    click(window, 0.5, 5.5)  # with live training off, an edit changes only the points
    with qtbot.assertNotEmitted(window.model_updated, wait=200):
        click(window, -0.5, 5.5)
    assert len(updates) == n_before and len(window.points()) == 77

    window.step_action.trigger()
    after = wait_for_model(qtbot, window, updates, lambda s: s.state in ("m-step", "converged"))
    halves = updates[n_before:]
    assert [s.state for s in halves][0] == "e-step"
    e_half = halves[0]
    assert e_half.n_points == 77 and after.n_iter == e_half.n_iter + 1
    # the E half only recoloured: its parameters are those of the model before the step
    X = window.points()
    weights, means = _one_em_pass(X, e_half.weights, e_half.means, e_half.covariances)
    np.testing.assert_allclose(after.weights, weights, atol=1e-8)
    np.testing.assert_allclose(after.means, means, atol=1e-8)
    # and one more step is one more pass
    window.step_action.trigger()
    again = wait_for_model(qtbot, window, updates, lambda s: s.n_iter == after.n_iter + 1)
    assert again.state in ("m-step", "converged")


def test_play_runs_until_converged(qtbot, window, updates):
    window.add_points(_clusters(3))
    window.live_action.setChecked(False)
    window.insight.speed_spin.setValue(30)
    window.play_action.setChecked(True)
    qtbot.waitUntil(lambda: not window.play_action.isChecked(), timeout=WAIT_MS)
    assert updates[-1].state == "converged" and updates[-1].n_iter >= 2
    assert [s.n_iter for s in updates if s.state != "e-step"] == list(
        range(1, updates[-1].n_iter + 1)
    )


def test_component_on_a_duplicated_point_is_flagged_and_repaired(qtbot, window, updates):
    points = np.concatenate([_clusters(4), np.repeat([[8.0, 8.0]], 6, axis=0)])
    window.components_spin.setValue(4)
    window.add_points(points)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_components == 4)
    on_point = int(np.argmin(np.linalg.norm(snapshot.means - [8.0, 8.0], axis=1)))
    assert np.allclose(snapshot.means[on_point], [8.0, 8.0])
    assert on_point in snapshot.collapsed and len(snapshot.collapsed) == 1
    assert np.all(np.isfinite(snapshot.covariances)) and np.isfinite(snapshot.log_likelihood)
    # drawn differently: dashed, with a warning marker at its mean
    assert window.canvas.collapsed_item.data.shape[0] == 1
    assert "collapsed" in window.collapse_label.text()
    updates.clear()
    window.repair_action.trigger()
    wait_for_model(qtbot, window, updates)
    assert updates[0].request_id > snapshot.request_id


@pytest.mark.parametrize(
    "points",
    [
        np.repeat([[1.0, 2.0]], 5, axis=0),
        np.array([[3.0, -1.0]]),
        np.c_[np.arange(8.0), np.arange(8.0)],
    ],
    ids=["duplicates", "single", "line"],
)
@pytest.mark.parametrize("trainer", [*TRAINERS])
def test_degenerate_points_give_a_valid_flagged_model(qtbot, window, updates, points, trainer):
    window.trainer_combo.setCurrentText(trainer)
    window.add_points(points)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == len(points))
    assert snapshot.trainer == trainer
    assert np.all(np.isfinite(snapshot.means)) and np.all(np.isfinite(snapshot.covariances))
    assert np.isfinite(snapshot.log_likelihood)
    if trainer == TRAINERS[3]:  # variational: unneeded components die out, unflagged
        assert snapshot.collapsed == ()
        assert "in use" in window.components_label.text()
    else:
        assert len(snapshot.collapsed) >= 1
    assert "nan" not in window.loglik_label.text().lower()


def test_model_selection_picks_three_on_three_clusters(qtbot, window, updates):
    window.components_spin.setValue(6)
    window.add_points(_clusters(5, n_per=40)[:-1])
    with qtbot.waitSignal(window.k_scores_ready, timeout=WAIT_MS) as blocker:
        window.model_selection_action.setChecked(True)
        # a click while it computes: the computation restarts on the new points
        click(window, 0.0, 5.0)
    scores = blocker.args[0]
    assert window.model_selection.dock.isVisible()
    assert scores.ks == tuple(range(1, 11)) and len(scores.bic) == len(scores.aic) == 10
    assert scores.best_k == 3 and np.all(np.isfinite(scores.bic))
    assert scores.bic[2] == min(scores.bic)
    assert scores.request_id == window.model_selection.runner.latest_id  # the newest
    # the best is marked on the plot
    assert tuple(window.model_selection.best_item.data["x"]) == (3.0,)
    # beside it, the K a variational fit of K = 10 kept in use by itself
    assert scores.variational_k == 3
    assert "variational: 3 in use" in window.model_selection.summary.text()
    window.apply_best_k_action.trigger()
    assert window.components_spin.value() == 3
    wait_for_model(qtbot, window, updates, lambda s: s.n_components == 3 and s.n_points == 120)


def test_density_map_follows_the_model_and_the_view(qtbot, window, updates):
    window.add_points(_clusters(6))
    snapshot = wait_for_model(qtbot, window, updates)
    with qtbot.waitSignal(window.density.runner.result_ready, timeout=WAIT_MS):
        window.density_action.setChecked(True)
    grid = window.density.grid
    assert window.density.image_item.isVisible() and window.density.contour_item.isVisible()
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    assert np.allclose(grid.rect, (x0, y0, x1 - x0, y1 - y0))
    assert np.all(np.isfinite(grid.log_density))
    # the peak cell is next to a mean, the corners are far lower
    i, j = np.unravel_index(np.argmax(grid.log_density), grid.log_density.shape)
    size = grid.log_density.shape[0]
    cell = np.array([x0 + (x1 - x0) * (i + 0.5) / size, y0 + (y1 - y0) * (j + 0.5) / size])
    assert np.min(np.linalg.norm(snapshot.means - cell, axis=1)) < 1.0
    assert grid.log_density[0, 0] < grid.log_density[i, j] - 10
    assert window.density.contour_item.getData()[0].shape[0] > 0
    # the grid follows the view
    before = grid.rect
    with qtbot.waitSignal(window.density.runner.result_ready, timeout=WAIT_MS):
        window.canvas.view_box.setRange(xRange=(0, 8), yRange=(-8, 0), padding=0)
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    assert x0 <= 0 and x1 >= 8 and y0 <= -8 and y1 >= 0  # widened only for equal scales
    assert not np.allclose(window.density.grid.rect, before)
    assert np.allclose(window.density.grid.rect, (x0, y0, x1 - x0, y1 - y0))


def test_soft_colours_mix_component_colours(qtbot, window, updates):
    from app.state.palette import component_color

    window.components_spin.setValue(2)
    # two overlapping clusters: points between them are shared
    rng = np.random.default_rng(7)
    window.add_points(
        np.concatenate([rng.normal((-1, 0), 1, (40, 2)), rng.normal((1, 0), 1, (40, 2))])
    )
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_components == 2)
    hard = {tuple(c) for _, c in window.canvas.points_item._groups}
    assert hard == {component_color(s) for s in snapshot.colors}
    window.soft_colors_action.setChecked(True)
    groups = window.canvas.points_item._groups
    assert sum(g.shape[0] for g, _ in groups) == 80
    assert len(groups) > 2  # mixed colours beyond the two pure ones
    window.soft_colors_action.setChecked(False)
    assert {tuple(c) for _, c in window.canvas.points_item._groups} == hard


def test_samples_are_ghosts_until_kept_as_one_edit(qtbot, window, updates):
    window.add_points(_clusters(8))
    snapshot = wait_for_model(qtbot, window, updates)
    window.sample_action.trigger()
    samples = window.samples.samples
    assert samples.shape == (200, 2) and len(window.points()) == 75  # at least 200
    assert window.samples.item.data.shape[0] == 200
    # samples come from the model: each lies near a mean
    assert (
        np.median(np.min(np.linalg.norm(samples[:, None] - snapshot.means, axis=2), axis=1)) < 1.5
    )
    window.keep_samples_action.trigger()
    assert len(window.points()) == 275 and window.samples.item.data.shape[0] == 0
    window.undo_action.trigger()
    assert len(window.points()) == 75


def test_equal_scales_toggle_and_old_faithful(qtbot, window, updates):
    assert window.equal_aspect_action.isChecked() and window.canvas.equal_aspect
    with waiting_for_open(qtbot, window):
        window.open_example()
    assert not window.equal_aspect_action.isChecked() and not window.canvas.equal_aspect
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    points = window.points()
    assert x0 < points[:, 0].min() and points[:, 0].max() < x1 and (x1 - x0) < 6
    assert y0 < points[:, 1].min() and points[:, 1].max() < y1 and (y1 - y0) > 40
    snapshot = wait_for_model(qtbot, window, updates)
    # the ellipses are drawn in data units either way
    np.testing.assert_allclose(window.canvas.ellipses_item.getData()[0], snapshot.outline_x)
    window.equal_aspect_action.setChecked(True)
    assert window.canvas.equal_aspect


def test_hover_text_is_not_cut_at_the_default_width(qtbot, window, updates):
    from .conftest import move

    window.resize(1000, 720)
    window.add_points(_clusters(9))
    wait_for_model(qtbot, window, updates)
    move(window, 0.0, 5.0)
    label = window.hover_label
    assert "component" in label.text() and label.isVisible()
    assert label.width() >= label.sizeHint().width()
    assert window.canvas.rect().contains(label.geometry())


def _colour_at(snapshot, centre):
    k = int(np.argmin(np.linalg.norm(snapshot.means - centre, axis=1)))
    return int(snapshot.colors[k])


def test_colours_stay_with_clusters_across_trainers_types_and_k(qtbot, window, updates):
    points, centres = three_clusters(np.random.default_rng(10), n_per=30)
    window.add_points(points)
    first = wait_for_model(qtbot, window, updates)
    colours = [_colour_at(first, c) for c in centres]
    assert len(set(colours)) == 3
    for trainer in (*TRAINERS[1:], TRAINERS[0]):
        window.trainer_combo.setCurrentText(trainer)
        snapshot = wait_for_model(qtbot, window, updates, lambda s, t=trainer: s.trainer == t)
        assert [_colour_at(snapshot, c) for c in centres] == colours, trainer
    window.covariance_combo.setCurrentText("spherical")
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.covariance_type == "spherical")
    assert [_colour_at(snapshot, c) for c in centres] == colours
    window.components_spin.setValue(4)  # a new component takes a new colour
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_components == 4)
    assert [_colour_at(snapshot, c) for c in centres] == colours
    assert len(set(snapshot.colors.tolist())) == 4
    # each fresh fit started a new curve; earlier ones stay, faded
    assert window.likelihood_plot.n_curves(TRAINERS[0]) >= 2


def test_compare_all_interleaves_the_three_trainers():
    import threading

    from app.state.geometry import reg_covar_for
    from app.state.messages import TrainingRequest
    from app.training.trainers import Trainers

    out = []
    request = TrainingRequest(0, _clusters(11), 0, 3, 20, reg_covar_for(20.0), trainer=COMPARE_ALL)
    Trainers(out.append, threading.Event()).run(request)
    first_final = min(i for i, s in enumerate(out) if s.final)
    # every trainer has shown progress before the first one finishes: they learn at once
    assert {s.trainer for s in out[: first_final + 1]} == set(TRAINERS)
    assert {s.trainer for s in out if s.final} == set(TRAINERS)


def test_a_converged_curve_is_drawn_flat_with_a_labelled_axis(qtbot, window, updates):
    from app.panels.likelihood_panel import MIN_Y_SPAN

    points, _ = three_clusters(np.random.default_rng(4), n_per=40)
    window.add_points(points)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 120 and s.final)
    _, ys = window.likelihood_plot.curve(TRAINERS[0])
    view = window.likelihood_plot.getPlotItem().getViewBox()

    def shown():  # the whole curve, in a span of at least MIN_Y_SPAN (auto-range is lazy)
        low, high = view.viewRange()[1]
        return low <= ys.min() and ys.max() <= high and high - low >= MIN_Y_SPAN * 0.999

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    assert np.ptp(ys) < MIN_Y_SPAN  # converged: without the floor, rounding would fill it


# -- the variational trainer -----------------------------------------------------------------


def test_the_variational_trainer_lets_unneeded_components_die_out_and_fade(qtbot, window, updates):
    from app.canvas.plot_items import MIN_FADE, weight_fade
    from app.state.messages import IN_USE_WEIGHT

    variational = TRAINERS[3]
    assert not window.prior_spin.isEnabled()  # the variational trainer's control only
    window.trainer_combo.setCurrentText(variational)
    assert window.prior_spin.isEnabled()
    window.components_spin.setValue(8)
    window.add_points(_clusters(5, n_per=40))
    snapshot = wait_for_model(
        qtbot, window, updates, lambda s: s.n_points == 120 and s.final and s.trainer == variational
    )
    in_use = snapshot.weights >= IN_USE_WEIGHT
    assert snapshot.n_components == 8 and in_use.sum() == 3
    assert snapshot.collapsed == ()  # dying out is no collapse
    assert window.components_label.text() == "3 of 8 components in use"
    # the dying components are drawn faint, the living ones opaque
    fade = weight_fade(window.canvas.snapshot)
    assert np.all(fade[in_use] > 0.5) and np.all(fade[~in_use] < 0.5)
    assert np.all(fade >= MIN_FADE)
    # the weight prior is the Model panel's, and a change refits with it
    before = window.controller.latest_request_id
    window.prior_spin.setValue(5.0)
    assert window.controller.weight_prior == 5.0
    qtbot.waitUntil(lambda: window.controller.latest_request_id > before, timeout=WAIT_MS)
    wait_for_model(qtbot, window, updates, lambda s: s.request_id > before and s.final)

"""The window's one-way flow (app.model_flow): edits ask for models, answers are drawn."""

from __future__ import annotations

import numpy as np

from .conftest import WAIT_MS, click, nearest_distances, three_clusters, wait_for_model


def test_fifty_fast_clicks_end_with_all_fifty_and_no_stale_model(qtbot, window, updates):
    rng = np.random.default_rng(8)
    points, _ = three_clusters(rng, n_per=17)
    points = points[:50]
    for x, y in points:
        click(window, x, y)  # no waiting in between: as fast as the event loop allows
    assert window.points().shape == (50, 2)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 50 and s.final)
    ids = [s.request_id for s in updates]
    assert ids == sorted(ids), "an older snapshot was drawn after a newer one"
    assert snapshot.request_id == window.controller.latest_request_id
    assert snapshot.labels.shape == (50,)
    assert window.canvas.points_item.n_points == 50
    with qtbot.assertNotEmitted(window.model_updated, wait=300):
        pass  # nothing after the last model, stale or not


def test_train_refits_from_scratch(qtbot, window, updates):
    rng = np.random.default_rng(12)
    points, centres = three_clusters(rng, n_per=30)
    window.epochs_spin.setValue(0)  # incremental only: the model may be rough
    window.add_points(points)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 90)
    window.train_action.trigger()
    snapshot = wait_for_model(
        qtbot,
        window,
        updates,
        lambda s: s.final and s.state in ("converged", "stopped") and s.n_iter > 0,
    )
    assert np.all(nearest_distances(snapshot.means, centres) < 0.5)


def test_train_without_points_asks_for_no_model_and_says_why(qtbot, window, updates):
    before = window.controller.latest_request_id
    with qtbot.assertNotEmitted(window.model_updated, wait=300):
        window.train_action.trigger()
    assert window.statusBar().currentMessage() == "Add points first."
    assert window.controller.latest_request_id == before


def test_a_training_failure_is_told_and_the_next_edit_trains_again(
    qtbot, window, updates, monkeypatch
):
    from gmm_core import GaussianMixture

    def broken(self, X):
        raise ValueError("singular covariance")

    with monkeypatch.context() as patched:
        patched.setattr(GaussianMixture, "partial_fit", broken)
        window.add_points([[0.0, 0.0], [1.0, 1.0]])  # fewer points than K: incremental
        qtbot.waitUntil(
            lambda: "singular covariance" in window.statusBar().currentMessage(), timeout=WAIT_MS
        )
    assert window.statusBar().currentMessage().startswith("Training failed: ")
    assert window.training_failure.box.isVisible()  # the whole message, where it stays
    assert "singular covariance" in window.training_failure.text
    assert not window.controller.busy
    assert window.snapshot is None or window.snapshot.n_points == 0  # none of the two points
    window.add_points([[2.0, 0.0]])
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 3 and s.final)
    assert window.snapshot is snapshot


def test_points_too_large_for_a_model_are_refused_in_full_without_warnings(qtbot, window, recwarn):
    window.add_points([[1e200, 0.0], [2e200, 1.0], [3e200, 5.0], [4e200, 2.0]])
    notice = window.training_failure
    qtbot.waitUntil(lambda: notice.box.isVisible(), timeout=WAIT_MS)
    # the whole of gmm_core's message, which says what to change
    assert "Divide the data by a constant" in notice.text
    assert not window.controller.busy
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []
    assert window.points().shape == (4, 2)  # nothing the person made is lost

"""The training policy without Qt or a thread: Trainer called directly."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.state.geometry import reg_covar_for
from app.state.messages import TrainingRequest
from app.training.trainer import Trainer

from .conftest import three_clusters


def request(
    points, request_id=0, generation=0, n_components=3, epochs=20, train=False, reg_covar=None, **kw
):
    points = np.asarray(points, dtype=np.float64)
    if reg_covar is None:
        extent = float(np.ptp(points, axis=0).max()) if len(points) > 1 else 20.0
        reg_covar = 1e-6 * extent**2
    return TrainingRequest(
        request_id, points, generation, n_components, epochs, reg_covar, train=train, **kw
    )


class Clock:
    """A fake clock that advances by ``step`` seconds every time it is read."""

    def __init__(self, step=0.0):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def clusters():
    return three_clusters(np.random.default_rng(21), n_per=30)


def test_first_point_gives_one_component_at_the_point():
    out = []
    Trainer(out.append).run(request([[3.0, -2.0]], epochs=0))
    (snapshot,) = out
    assert snapshot.n_points == 1 and snapshot.n_components == 1 and snapshot.final
    np.testing.assert_allclose(snapshot.means, [[3.0, -2.0]])
    assert np.all(np.isfinite(snapshot.covariances))
    assert snapshot.labels.tolist() == [0]


def test_fewer_points_than_components_is_normal():
    out = []
    trainer = Trainer(out.append)
    pts = [[0.0, 0.0], [9.0, 9.0]]
    for i in range(1, 3):
        trainer.run(request(pts[:i], request_id=i, n_components=5))
    assert out[-1].n_points == 2
    assert 1 <= out[-1].n_components <= 2


def test_instant_answer_comes_first_then_refinement(clusters):
    points, centres = clusters
    out = []
    trainer = Trainer(out.append, clock=Clock(step=1.0), min_interval_s=0.5)
    trainer.run(request(points[:60], request_id=1))
    trainer.run(request(points, request_id=2, epochs=50))
    mine = [s for s in out if s.request_id == 2]
    assert mine[0].state == "incremental" and not mine[0].final and mine[0].n_iter == 0
    assert mine[-1].final and mine[-1].state == "converged"
    assert [s.n_iter for s in mine] == sorted(s.n_iter for s in mine)
    assert all(not s.final for s in mine[:-1])
    assert mine[-1].n_points == 90
    found = np.min(np.linalg.norm(mine[-1].means[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 1.0)


def test_requests_that_were_skipped_are_still_learnt(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append)
    trainer.run(request(points[:5], request_id=1, epochs=0))
    trainer.run(request(points[:40], request_id=7, epochs=0))  # 2..6 never served
    assert trainer.n_fitted == 40
    assert out[-1].n_points == 40 and out[-1].labels.shape == (40,)
    assert trainer.model.n_samples_seen_ == 40


def test_cancel_stops_between_passes_and_keeps_a_valid_model(clusters):
    points, _ = clusters
    cancel = threading.Event()
    out = []

    def emit(snapshot):
        out.append(snapshot)
        if snapshot.request_id == 0:
            cancel.set()  # a newer request arrived right after the instant answer

    trainer = Trainer(emit, cancel, min_interval_s=0.0)
    trainer.run(request(points[:2], request_id=-1, epochs=0))  # learns incrementally
    out.clear()
    trainer.run(request(points, epochs=1000))
    assert len(out) == 1 and out[0].state == "incremental"
    assert np.all(np.isfinite(trainer.model.means_))
    # the next request carries on from there
    cancel.clear()
    trainer.run(request(points, request_id=1, epochs=5))
    assert out[-1].final and out[-1].n_points == 90


def test_progress_snapshots_are_throttled(clusters):
    points, _ = clusters
    frozen_clock, ticking = [], []
    for out, clock in ((frozen_clock, Clock(step=0.0)), (ticking, Clock(step=1.0))):
        trainer = Trainer(out.append, clock=clock, min_interval_s=0.5)
        trainer.run(request(points[:2], epochs=0))
        out.clear()
        trainer.run(request(points, request_id=1, epochs=30))
    # with time standing still only the instant answer and the final model are sent
    assert len(frozen_clock) == 2
    assert frozen_clock[0].state == "incremental" and frozen_clock[-1].final
    assert len(ticking) > 2


def test_time_budget_ends_refinement(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append, clock=Clock(step=10.0))
    trainer.run(request(points[:2], epochs=0))
    trainer.run(request(points, request_id=1, epochs=1000, time_budget_s=5.0))
    assert out[-1].final and out[-1].state == "stopped"
    assert out[-1].n_iter <= 1


def test_no_points_forgets_everything(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append)
    trainer.run(request(points))
    trainer.run(request(np.zeros((0, 2)), request_id=1, generation=1))
    assert trainer.model is None and trainer.n_fitted == 0
    last = out[-1]
    assert last.n_points == 0 and last.final
    assert last.weights.shape == (0,) and last.means.shape == (0, 2)
    assert last.covariances.shape == (0, 2, 2)


def test_removed_points_are_relearnt_from_all_points(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append)
    trainer.run(request(points, epochs=5))
    trainer.run(request(points[:-1], request_id=1, generation=1, epochs=0))
    assert out[-1].n_points == 89 and out[-1].final and out[-1].n_iter >= 1
    assert trainer.model.n_samples_seen_ == 89


def test_changing_components_refits(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append)
    trainer.run(request(points))
    trainer.run(request(points, request_id=1, n_components=2))
    assert out[-1].n_components == 2 and out[-1].final


def test_colours_stay_with_their_components(clusters):
    points, _ = clusters
    out = []
    trainer = Trainer(out.append)
    trainer.run(request(points[:-1], request_id=0))
    before = out[-1]
    trainer.run(request(points, request_id=1))
    after = out[-1]
    assert sorted(after.colors.tolist()) == [0, 1, 2]
    for slot in range(3):
        i, j = list(before.colors).index(slot), list(after.colors).index(slot)
        assert np.linalg.norm(before.means[i] - after.means[j]) < 0.5


def test_train_refits_with_restarts(clusters):
    points, centres = clusters
    out = []
    Trainer(out.append).run(request(points, train=True, n_init=3))
    final = out[-1]
    assert final.final and final.state == "converged"
    found = np.min(np.linalg.norm(final.means[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 0.5)


@pytest.mark.parametrize("scale", [1e-3, 1e6])
def test_same_model_at_any_scale(clusters, scale):
    """The model of scaled and shifted points is the scaled and shifted model."""
    points, _ = clusters
    offset = np.array([3.0, -8.0])
    results = []
    for s in (1.0, scale):
        out = []
        trainer = Trainer(out.append)
        data = points * s + offset * s * 10
        for i in (1, 2, 5, 20, 90):
            trainer.run(request(data[:i], request_id=i, reg_covar=1e-6 * (20 * s) ** 2))
        results.append(out[-1])
    base, scaled = results
    assert base.n_components == scaled.n_components == 3
    np.testing.assert_allclose(
        (scaled.means - offset * scale * 10) / scale, base.means - offset * 10, atol=1e-4
    )
    np.testing.assert_allclose(
        scaled.covariances / scale**2, base.covariances, rtol=1e-4, atol=1e-8
    )
    np.testing.assert_allclose(scaled.weights, base.weights, atol=1e-6)


def test_large_data_progress_reuses_labels():
    rng = np.random.default_rng(22)
    points = rng.normal(size=(60_000, 2))
    out = []
    trainer = Trainer(out.append, min_interval_s=0.0)
    trainer.run(request(points, epochs=3))
    trainer.run(request(np.concatenate([points, [[0.5, 0.5]]]), request_id=1, epochs=0))
    assert out[-1].n_points == 60_001 and out[-1].labels.shape == (60_001,)
    # above DENSITY_ABOVE points the canvas draws an image of the labels: no sorted copy
    assert out[-1].grouped_points.shape == (0, 2) and out[-1].labels.dtype == np.int16


def test_check_is_the_one_way_to_cancel():
    from gmm_core import Cancelled

    cancel = threading.Event()
    trainer = Trainer(lambda s: None, cancel)
    trainer.check()
    cancel.set()
    with pytest.raises(Cancelled):
        trainer.check()


def test_a_fresh_fit_cancelled_in_its_kmeans_start_forgets_the_model(clusters):
    points, _ = clusters
    cancel = threading.Event()
    cancel.set()  # a newer request is already waiting
    out = []
    trainer = Trainer(out.append, cancel)
    trainer.run(request(points))  # returns quietly
    assert out == [] and trainer.model is None and trainer.n_fitted == 0
    cancel.clear()
    trainer.run(request(points, request_id=1))  # the next request starts afresh
    assert out[-1].final and out[-1].n_points == 90 and out[-1].n_components == 3


def test_a_cancelled_train_keeps_the_best_restart(clusters):
    points, centres = clusters
    cancel = threading.Event()
    out, models = [], []

    def emit(snapshot):
        out.append(snapshot)
        if not models or trainer.model is not models[-1]:
            models.append(trainer.model)
        if len(models) == 2:
            cancel.set()  # the second restart has begun: a newer request arrived

    trainer = Trainer(emit, cancel, min_interval_s=0.0)
    trainer.run(request(points, train=True, n_init=4, epochs=50))
    assert out and not any(s.final for s in out)  # cancelled before the end
    first = models[0]
    assert first.converged_ and trainer.model is first  # the finished restart is kept
    assert trainer.n_fitted == 90
    found = np.min(np.linalg.norm(first.means_[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 0.5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("train", [False, True])
def test_points_too_wide_for_float64_are_a_value_error(train):
    """Issue 8: such a file made the program exit; now the worker reports the message."""
    points = np.array([[1e200, 2e200], [-1e200, 3e200], [5e199, 1e199]])
    with pytest.raises(ValueError, match="more than float64 can represent"):
        Trainer([].append).run(request(points, reg_covar=reg_covar_for(3e200), train=train))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("scale", [1e-200, 1e150])
def test_tiny_and_huge_points_get_a_finite_model(train, scale):
    """Issue 8: points around 1e-200 got 'covariances_init must be positive definite'."""
    points = three_clusters(np.random.default_rng(3), n_per=10)[0] * scale
    extent = float(np.ptp(points, axis=0).max())
    out = []
    Trainer(out.append).run(request(points, reg_covar=reg_covar_for(extent), train=train))
    snapshot = out[-1]
    for values in (snapshot.means, snapshot.covariances, snapshot.weights):
        assert np.isfinite(values).all()
    np.testing.assert_allclose(snapshot.weights.sum(), 1.0)
    lo, hi = points.min(axis=0), points.max(axis=0)
    assert ((snapshot.means >= lo) & (snapshot.means <= hi)).all()

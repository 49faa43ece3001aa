"""SnapshotPublisher: throttled progress, labels checked against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from app.state.messages import TrainingRequest
from app.training.snapshot_builder import SnapshotBuilder
from app.training.snapshot_publisher import LABEL_CHUNK_ROWS, SnapshotPublisher
from gmm_core import Cancelled, GaussianMixture

from .conftest import three_clusters


class Clock:
    """Seconds that only move when the test moves them."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fitted(points):
    return GaussianMixture(3, random_state=0).fit(points)


def request(points):
    return TrainingRequest(1, points, 0, 3, 20, 1e-6)


@pytest.fixture
def points():
    return three_clusters(np.random.default_rng(5), n_per=40)[0]


def test_progress_is_due_at_most_once_per_interval_after_each_send(points):
    sent, clock = [], Clock()
    publisher = SnapshotPublisher(
        sent.append, SnapshotBuilder(), lambda: None, min_interval_s=0.5, clock=clock
    )
    snapshot = publisher.snapshot(
        request(points), fitted(points), len(points), "refining", 1, final=False
    )
    assert publisher.due()  # nothing sent yet
    publisher.send(snapshot)
    assert not publisher.due()
    clock.now = 0.4
    assert not publisher.due()
    clock.now = 0.5
    assert publisher.due()
    publisher.send(snapshot)
    assert not publisher.due() and sent == [snapshot, snapshot]


def test_labels_and_log_likelihood_match_scipy(points):
    model = fitted(points)
    weighted = np.stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(points)
            for w, m, c in zip(model.weights_, model.means_, model.covariances_, strict=True)
        ],
        axis=1,
    )  # [n, K]
    publisher = SnapshotPublisher(lambda s: None, SnapshotBuilder(), lambda: None)
    snapshot = publisher.snapshot(request(points), model, len(points), "converged", 3, final=True)
    # the snapshot lists components in palette order: map back through the means
    order = [int(np.argmin(np.linalg.norm(model.means_ - m, axis=1))) for m in snapshot.means]
    np.testing.assert_array_equal(np.take(order, snapshot.labels), weighted.argmax(axis=1))
    np.testing.assert_allclose(
        snapshot.mean_log_likelihood, logsumexp(weighted, axis=1).mean(), rtol=1e-12
    )
    assert GaussianMixture.from_dict(snapshot.model).n_components == 3


def test_cancelled_between_label_chunks_sends_nothing():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(LABEL_CHUNK_ROWS + 10, 2))
    model = fitted(points[:500])
    calls, sent = [], []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise Cancelled

    publisher = SnapshotPublisher(sent.append, SnapshotBuilder(), check, min_interval_s=0.0)
    with pytest.raises(Cancelled):
        publisher.snapshot(request(points), model, len(points), "refining", 1, final=True)
    assert sent == [] and len(calls) == 2

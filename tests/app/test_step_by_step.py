"""StepByStep: each half of a pass, checked against scikit-learn's EM."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from app.state.messages import TrainingRequest
from app.training.snapshot_builder import SnapshotBuilder
from app.training.snapshot_publisher import SnapshotPublisher
from app.training.step_by_step import StepByStep
from gmm_core import GaussianMixture

from .conftest import three_clusters

START_MEANS = np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 3.0]])
START_COVARIANCES = np.stack([np.eye(2) * 0.5] * 3)


@pytest.fixture
def points():
    return three_clusters(np.random.default_rng(8), n_per=40)[0]


def unfitted():
    return GaussianMixture(
        3,
        weights_init=np.full(3, 1 / 3),
        means_init=START_MEANS,
        covariances_init=START_COVARIANCES,
        max_iter=1,
        reg_covar=1e-6,
    )


def stepper():
    sent = []
    publisher = SnapshotPublisher(sent.append, SnapshotBuilder(), lambda: None)
    return StepByStep(publisher), sent


def request(points, step):
    return TrainingRequest(1, points, 0, 3, 20, 1e-6, step=step)


def test_e_step_labels_points_by_the_starting_parameters(points):
    steps, sent = stepper()
    steps.e_step(request(points, "e"), unfitted())
    (snapshot,) = sent
    assert snapshot.state == "e-step" and snapshot.n_iter == 0 and snapshot.final
    # equal weights and covariances: the most responsible component is the nearest mean
    nearest = np.argmin(np.linalg.norm(points[:, None] - START_MEANS[None], axis=-1), axis=1)
    order = [int(np.argmin(np.linalg.norm(START_MEANS - m, axis=1))) for m in snapshot.means]
    np.testing.assert_array_equal(np.take(order, snapshot.labels), nearest)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 3 passes only
def test_m_steps_count_passes_and_follow_scikit_learn_em(points):
    steps, sent = stepper()
    model = unfitted()
    for _ in range(3):
        steps.m_step(request(points, "m"), model)
    assert [s.n_iter for s in sent] == [1, 2, 3]
    assert steps.passes == 3
    reference = SkGaussianMixture(
        3,
        weights_init=np.full(3, 1 / 3),
        means_init=START_MEANS,
        precisions_init=np.linalg.inv(START_COVARIANCES),
        max_iter=3,
        tol=0.0,
        reg_covar=1e-6,
    ).fit(points)
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-9, atol=1e-9)


def test_a_pass_that_changes_nothing_is_converged_and_reset_counts_afresh(points):
    steps, sent = stepper()
    model = unfitted()
    for _ in range(200):
        steps.m_step(request(points, "m"), model)
        if sent[-1].state == "converged":
            break
    assert sent[-1].state == "converged"
    assert all(s.state == "m-step" for s in sent[:-1])
    steps.reset()
    steps.m_step(request(points, "m"), unfitted())
    assert sent[-1].n_iter == 1 and sent[-1].state == "m-step"

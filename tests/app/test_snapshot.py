"""Snapshot building: a fitted model shaped for drawing, checked against scipy and sklearn."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from app.state.geometry import reg_covar_for
from app.state.messages import TrainingRequest
from app.training.snapshot_builder import SnapshotBuilder

from .conftest import three_clusters


def request(points, request_id=0):
    points = np.asarray(points, dtype=np.float64)
    return TrainingRequest(request_id, points, 0, 3, 20, reg_covar_for(20.0))


def log_prob(X, model):
    """log w_k + log N(x | mu_k, Sigma_k), shape (n, K), by scipy."""
    return np.stack(
        [
            np.log(w) + np.atleast_1d(multivariate_normal(m, c).logpdf(X))
            for w, m, c in zip(model.weights_, model.means_, model.covariances_, strict=True)
        ],
        axis=1,
    )


def scipy_label(model, calls=None):
    def label(X):
        if calls is not None:
            calls.append(X.shape[0])
        lp = log_prob(X, model)
        return lp.argmax(axis=1), float(logsumexp(lp, axis=1).sum())

    return label


@pytest.fixture
def fitted():
    from gmm_core import GaussianMixture

    points, _ = three_clusters(np.random.default_rng(26), n_per=40)
    model = GaussianMixture(3, random_state=0).fit(points)
    return points, model


def test_snapshot_of_a_gmm_core_model_matches_scipy_and_sklearn(fitted):
    points, model = fitted
    builder = SnapshotBuilder()
    snapshot = builder.build(
        request(points), model, 120, "converged", 7, final=True, label=scipy_label(model)
    )
    assert snapshot.n_points == 120 and snapshot.n_iter == 7 and snapshot.final
    # the snapshot lists components in palette order; each is one of the model's
    order = [int(np.argmin(np.linalg.norm(model.means_ - m, axis=1))) for m in snapshot.means]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(snapshot.weights, model.weights_[order])
    np.testing.assert_allclose(snapshot.covariances, model.covariances_[order])
    assert snapshot.colors.tolist() == [0, 1, 2]
    # labels: the most responsible component, by scipy, renumbered into snapshot order
    expected = np.argmax(log_prob(points, model)[:, order], axis=1)
    np.testing.assert_array_equal(snapshot.labels, expected)
    for g in range(3):
        group = snapshot.grouped_points[snapshot.group_starts[g] : snapshot.group_starts[g + 1]]
        np.testing.assert_array_equal(
            np.sort(group, axis=0), np.sort(points[expected == g], axis=0)
        )
    assert snapshot.grouped_bounds == (*points.min(axis=0), *points.max(axis=0))
    # log-likelihood and BIC: what scikit-learn computes for the same mixture
    from sklearn.mixture import GaussianMixture as Reference

    reference = Reference(3).fit(points)
    reference.weights_, reference.means_ = model.weights_, model.means_
    reference.covariances_ = model.covariances_
    reference.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(model.covariances_))
    assert snapshot.mean_log_likelihood == pytest.approx(reference.score(points), rel=1e-9)
    assert snapshot.bic == pytest.approx(reference.bic(points), rel=1e-9)


def test_snapshot_arrays_are_frozen(fitted):
    points, model = fitted
    snapshot = SnapshotBuilder().build(
        request(points), model, 120, "converged", 1, final=True, label=scipy_label(model)
    )
    for name in ("weights", "means", "covariances", "labels", "outline_x", "grouped_points"):
        with pytest.raises(ValueError):
            getattr(snapshot, name)[...] = 0
    with pytest.raises(AttributeError):
        snapshot.n_points = 3


def test_colours_follow_components_when_the_model_renumbers_them(fitted):
    points, model = fitted
    builder = SnapshotBuilder()
    before = builder.build(
        request(points), model, 120, "converged", 1, final=True, label=scipy_label(model)
    )
    permuted = SimpleNamespace(
        weights_=model.weights_[[2, 0, 1]],
        means_=model.means_[[2, 0, 1]] + 0.05,
        covariances_=model.covariances_[[2, 0, 1]],
    )
    after = builder.build(
        request(points, 1), permuted, 120, "converged", 1, final=True, label=scipy_label(permuted)
    )
    np.testing.assert_allclose(after.means, before.means + 0.05)
    np.testing.assert_array_equal(after.labels, before.labels)
    assert after.colors.tolist() == before.colors.tolist()


def test_large_data_progress_reuses_the_points_layer():
    rng = np.random.default_rng(27)
    points = rng.normal(size=(400, 2)) + rng.integers(2, size=(400, 1)) * 6.0
    model = SimpleNamespace(
        weights_=np.array([0.5, 0.5]),
        means_=np.array([[0.0, 0.0], [6.0, 6.0]]),
        covariances_=np.array([np.eye(2), np.eye(2)]),
        lower_bound_=-3.5,
    )
    calls = []
    builder = SnapshotBuilder(large_n=100)
    first = builder.build(
        request(points[:300]),
        model,
        300,
        "incremental",
        0,
        final=False,
        label=scipy_label(model, calls),
    )
    progress = builder.build(
        request(points), model, 400, "refining", 3, final=False, label=scipy_label(model, calls)
    )
    assert calls == [300]  # not labelled again
    assert progress.grouped_points is first.grouped_points  # the canvas skips redrawing
    assert progress.mean_log_likelihood == -3.5  # the model's own bound for all points
    last = builder.build(
        request(points), model, 400, "converged", 4, final=True, label=scipy_label(model, calls)
    )
    assert calls == [300, 400] and last.labels.shape == (400,)
    np.testing.assert_array_equal(last.labels, (points.sum(axis=1) > 6.0).astype(int))


def test_empty_snapshot_forgets_colours(fitted):
    points, model = fitted
    builder = SnapshotBuilder()
    builder.build(request(points), model, 120, "converged", 1, final=True, label=scipy_label(model))
    empty = builder.empty(request(np.zeros((0, 2)), 1))
    assert empty.n_points == 0 and empty.final and empty.n_components == 0
    assert empty.means.shape == (0, 2) and empty.covariances.shape == (0, 2, 2)
    one = SimpleNamespace(
        weights_=np.ones(1), means_=np.array([[50.0, 50.0]]), covariances_=np.eye(2)[None]
    )
    again = builder.build(
        request([[50.0, 50.0]], 2), one, 1, "incremental", 0, final=True, label=scipy_label(one)
    )
    assert again.colors.tolist() == [0]

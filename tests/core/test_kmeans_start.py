"""gmm_core.kmeans_start: a cancellable, sampled k-means start, against scikit-learn."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans

from gmm_core import Cancelled, GaussianMixture, kmeans_start


def blobs(rng, n_per, centres, sd):
    centres = np.asarray(centres, dtype=np.float64)
    parts = [rng.normal(loc=c, scale=sd, size=(n_per, centres.shape[1])) for c in centres]
    return rng.permutation(np.concatenate(parts)), centres


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
def test_clusters_match_scikit_learn_kmeans(n_features):
    rng = np.random.default_rng(40 + n_features)
    centres = rng.normal(scale=20.0, size=(4, n_features))
    X, _ = blobs(rng, 60, centres, 1.0)
    reg = 1e-3
    weights, means, covariances = kmeans_start(X, 4, reg_covar=reg, random_state=0)
    reference = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X)
    # the same partition: each of our means is one of scikit-learn's cluster means
    order = [int(np.argmin(np.linalg.norm(reference.cluster_centers_ - m, axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2, 3]
    for k, j in enumerate(order):
        members = X[reference.labels_ == j]
        np.testing.assert_allclose(means[k], members.mean(axis=0), rtol=1e-10, atol=1e-10)
        expected = np.atleast_2d(np.cov(members.T, bias=True)) + reg * np.eye(n_features)
        np.testing.assert_allclose(covariances[k], expected, rtol=1e-10, atol=1e-12)
        assert weights[k] == pytest.approx((members.shape[0] + 1) / (X.shape[0] + 4))
    assert weights.sum() == pytest.approx(1.0)


def test_starts_a_gaussian_mixture():
    rng = np.random.default_rng(41)
    X, centres = blobs(rng, 80, [[0, 0, 0], [8, 0, 0], [0, 8, 8]], 0.7)
    weights, means, covariances = kmeans_start(X, 3, random_state=1)
    model = GaussianMixture(
        3, weights_init=weights, means_init=means, covariances_init=covariances
    ).fit(X)
    found = np.min(np.linalg.norm(model.means_[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 0.3)


def test_large_data_is_clustered_on_a_sample():
    rng = np.random.default_rng(42)
    X, centres = blobs(rng, 20_000, [[-5, 0], [5, 0], [0, 9]], 1.0)
    _, means, _ = kmeans_start(X, 3, random_state=2, sample=500)
    found = np.min(np.linalg.norm(means[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 0.3)


def test_same_seed_same_start():
    X, _ = blobs(np.random.default_rng(43), 50, [[0, 0], [4, 4], [8, 0]], 1.0)
    first = kmeans_start(X, 3, random_state=7, sample=100)
    second = kmeans_start(X, 3, random_state=7, sample=100)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_set_event_cancels():
    X, _ = blobs(np.random.default_rng(44), 50, [[0, 0], [4, 4]], 1.0)
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        kmeans_start(X, 2, random_state=0, cancelled=event)


def test_a_callable_is_checked_between_steps():
    X, _ = blobs(np.random.default_rng(45), 200, [[0, 0], [3, 0], [0, 3]], 1.5)
    calls = []

    def after_two_checks():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        kmeans_start(X, 3, random_state=0, cancelled=after_two_checks)
    assert len(calls) == 3
    never = []
    kmeans_start(X, 3, random_state=0, cancelled=lambda: never.append(1) or False)
    assert len(never) >= 2


def test_coincident_points_and_tiny_clusters_give_valid_covariances():
    X = np.array([[1.0, 1.0]] * 5 + [[2.0, 3.0]])
    weights, means, covariances = kmeans_start(X, 3, reg_covar=1e-6, random_state=0)
    assert np.all(np.linalg.eigvalsh(covariances) > 0)
    assert np.all(weights > 0) and weights.sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(means))


def test_too_few_points_says_what_to_change():
    with pytest.raises(ValueError, match="lower n_components"):
        kmeans_start(np.zeros((2, 2)), 3)


def test_points_whose_variances_overflow_float64_say_so_without_a_warning():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2)) * 1e200  # variances of 1e400
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy on the way
        with pytest.raises(ValueError, match="float64"):
            kmeans_start(X, 3, random_state=0)

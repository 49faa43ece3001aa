"""Default fits find well-separated clusters; every initialisation method works."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from gmm_core import GaussianMixture


def separated_mixture(seed, n_components=4, n_features=2, n_per=250):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=12.0, size=(n_components, n_features))
    while min(np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1 :]) < 8:
        centres = rng.normal(scale=12.0, size=(n_components, n_features))
    labels = np.repeat(np.arange(n_components), n_per)
    scales = rng.uniform(0.5, 1.5, size=n_components)
    X = centres[labels] + rng.normal(size=(len(labels), n_features)) * scales[labels, None]
    return X, labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_default_fit_recovers_true_labels(seed, covariance_type):
    X, labels = separated_mixture(seed, n_features=2 + seed % 3)
    model = GaussianMixture(4, covariance_type=covariance_type, random_state=seed)
    assert adjusted_rand_score(labels, model.fit_predict(X)) >= 0.95
    assert model.converged_


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_initialisation_with_restarts_recovers_labels(init_params):
    X, labels = separated_mixture(11, n_components=3)
    model = GaussianMixture(3, init_params=init_params, n_init=5, random_state=0, max_iter=300)
    assert adjusted_rand_score(labels, model.fit(X).predict(X)) >= 0.95


def test_n_init_keeps_the_best_lower_bound():
    X, _ = separated_mixture(5, n_components=5)
    gains = []
    for seed in range(6):
        # The first of n_init starts is the start n_init=1 takes with the same seed.
        first = GaussianMixture(5, init_params="random_from_data", random_state=seed).fit(X)
        best = GaussianMixture(5, init_params="random_from_data", n_init=6, random_state=seed).fit(
            X
        )
        assert best.lower_bound_ >= first.lower_bound_ - 1e-12
        gains.append(best.lower_bound_ - first.lower_bound_)
    assert max(gains) > 1e-3, "some restarts must find a better optimum than the first start"


def test_random_state_makes_fits_repeatable():
    X, _ = separated_mixture(2)
    a = GaussianMixture(4, random_state=3).fit(X)
    b = GaussianMixture(4, random_state=3).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_sample_follows_the_model():
    X, _ = separated_mixture(3, n_components=2)
    model = GaussianMixture(2, random_state=0).fit(X)
    samples, labels = model.sample(20_000)
    assert samples.shape == (20_000, 2) and labels.shape == (20_000,)
    np.testing.assert_allclose(np.bincount(labels) / 20_000, model.weights_, atol=0.02)
    for k in range(2):
        np.testing.assert_allclose(samples[labels == k].mean(0), model.means_[k], atol=0.1)
        np.testing.assert_allclose(np.cov(samples[labels == k].T), model.covariances_[k], atol=0.1)

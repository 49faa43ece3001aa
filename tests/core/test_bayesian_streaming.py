"""BayesianGaussianMixture.partial_fit: streaming variational Bayes."""

import copy
import warnings

import numpy as np
import pytest

from gmm_core import BayesianGaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
CENTRES = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])


def three_clusters(seed=1, n_per=1000):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 1.0, size=(n_per, 2)) for c in CENTRES])
    return X[rng.permutation(len(X))]


def live_means(model, threshold=0.01):
    return model.means_[model.weights_ > threshold]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_pass_in_chunks_finds_the_batch_fits_live_components(covariance_type):
    X = three_clusters()
    options = dict(
        n_components=8,
        covariance_type=covariance_type,
        weight_concentration_prior=1e-2,
        random_state=0,
        max_iter=500,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = BayesianGaussianMixture(**options).fit(X)
        stream = BayesianGaussianMixture(**options)
        for start in range(0, len(X), 200):
            stream.partial_fit(X[start : start + 200])
    assert stream.n_samples_seen_ == len(X)
    found, expected = live_means(stream), live_means(batch)
    assert len(found) == len(expected) == 3
    distance = np.linalg.norm(found[:, None] - expected[None], axis=2)  # [3, 3]
    assert np.all(distance.min(0) < 0.05) and np.all(distance.min(1) < 0.05)
    np.testing.assert_allclose(
        np.sort(stream.weights_[stream.weights_ > 0.01]), [1 / 3] * 3, atol=0.01
    )


@pytest.mark.parametrize("prior_type", ["dirichlet_process", "dirichlet_distribution"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_batch_adds_its_statistics_to_the_posterior(covariance_type, prior_type):
    # The natural parameters add up: beta, beta m and the weight concentrations grow by
    # the batch's responsibilities under the posterior before it, exactly.
    X = three_clusters(n_per=100)
    model = BayesianGaussianMixture(
        n_components=4,
        covariance_type=covariance_type,
        weight_concentration_prior_type=prior_type,
        random_state=0,
        max_iter=20,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    before = copy.deepcopy(model)
    batch = three_clusters(seed=2, n_per=30)
    resp = before.predict_proba(batch)  # [n, K]
    model.partial_fit(batch)
    nk = resp.sum(0)
    np.testing.assert_allclose(model.mean_precision_ - before.mean_precision_, nk, rtol=1e-12)
    np.testing.assert_allclose(
        model.mean_precision_[:, None] * model.means_,
        before.mean_precision_[:, None] * before.means_ + resp.T @ batch,
        rtol=1e-10,
        atol=1e-10,
    )
    if prior_type == "dirichlet_distribution":
        grown = model.weight_concentration_ - before.weight_concentration_
        np.testing.assert_allclose(grown, nk, rtol=1e-12)
    else:
        grown = model.weight_concentration_[0] - before.weight_concentration_[0]
        np.testing.assert_allclose(grown, nk, rtol=1e-12)
    assert model.n_samples_seen_ == before.n_samples_seen_ + len(batch)


def test_single_points_stream_after_a_first_batch():
    X = three_clusters(n_per=100)
    model = BayesianGaussianMixture(n_components=5, random_state=0).partial_fit(X[:50])
    for point in X[50:80]:
        model.partial_fit(point)
    assert model.n_samples_seen_ == 80
    assert np.isclose(model.weights_.sum(), 1.0)


def test_a_first_batch_smaller_than_n_components_is_refused():
    model = BayesianGaussianMixture(n_components=5)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        model.partial_fit(np.zeros((3, 2)))
    assert not hasattr(model, "means_")


def test_memory_follows_a_drifting_stream():
    rng = np.random.default_rng(3)
    options = dict(n_components=3, random_state=0, weight_concentration_prior=1e-2)
    forgetting = BayesianGaussianMixture(memory=300, **options)
    remembering = BayesianGaussianMixture(**options)
    shift = np.zeros(2)
    for step in range(40):
        shift = np.array([0.25 * step, 0.0])
        batch = np.vstack([rng.normal(c + shift, 0.5, size=(50, 2)) for c in CENTRES])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forgetting.partial_fit(batch)
            remembering.partial_fit(batch)
    now = CENTRES + shift

    def lag(model):
        distance = np.linalg.norm(live_means(model)[:, None] - now[None], axis=2)
        return distance.min(0).max()

    # Two batches' worth of memory lag about two batches' drift (0.25 each); all of it, 5.
    assert lag(forgetting) < 1.0 and lag(remembering) > 3.0
    assert np.sum(forgetting.mean_precision_ - forgetting.mean_precision_prior_) < 301


def test_a_refused_batch_leaves_the_model_unchanged():
    X = three_clusters(n_per=50)
    model = BayesianGaussianMixture(n_components=3, random_state=0).partial_fit(X)
    before = model.to_dict()
    with pytest.raises(ValueError):
        model.partial_fit(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError):
        model.partial_fit(np.ones((2, 3)))
    assert model.to_dict() == before

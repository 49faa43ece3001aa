"""gmm_core gives scikit-learn's numbers from the same initial parameters."""

import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def blobs(rng, n_per, centres, scale=1.0, offset=0.0):
    centres = np.asarray(centres, dtype=float)
    parts = [rng.normal(c, scale, size=(n_per, centres.shape[1])) for c in centres]
    return np.vstack(parts) + offset


def datasets():
    rng = np.random.default_rng(42)
    yield "separated-2d", blobs(rng, 150, [[0, 0], [5, 1], [1, 6]]), 3
    yield "overlapping-3d", blobs(rng, 120, [[0, 0, 0], [1.5, 0, 1], [0, 1, -1]]), 3
    yield "far-from-origin-2d", blobs(rng, 150, [[0, 0], [4, 0], [0, 4]], offset=1e4), 3
    yield "far-from-origin-4d", blobs(rng, 100, np.eye(4) * 3, offset=1e4), 4
    yield "anisotropic-2d", rng.normal(size=(400, 2)) @ np.array([[3.0, 0.0], [2.0, 0.2]]), 2


DATASETS = list(datasets())


def initial_parameters(X, n_components, covariance_type, rng):
    n_features = X.shape[1]
    weights = rng.dirichlet(np.full(n_components, 5.0))
    means = X[rng.choice(len(X), n_components, replace=False)]
    scale = 1.0 / X.var(0).mean()
    precisions = {
        "full": np.stack([np.eye(n_features) * scale] * n_components),
        "tied": np.eye(n_features) * scale,
        "diag": np.full((n_components, n_features), scale),
        "spherical": np.full(n_components, scale),
    }[covariance_type]
    return weights, means, precisions


def fit_both(X, n_components, covariance_type, n_iter, seed=0):
    """Fit both libraries from one start; scikit-learn runs on the mean-shifted data."""
    rng = np.random.default_rng(seed)
    weights, means, precisions = initial_parameters(X, n_components, covariance_type, rng)
    options = dict(covariance_type=covariance_type, tol=0.0, max_iter=n_iter, reg_covar=1e-6)
    ours = GaussianMixture(
        n_components, weights_init=weights, means_init=means, precisions_init=precisions, **options
    ).fit(X)
    shift = X.mean(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SklearnGaussianMixture(
            n_components,
            weights_init=weights,
            means_init=means - shift,
            precisions_init=precisions,
            **options,
        ).fit(X - shift)
    return ours, reference, shift


@pytest.mark.parametrize("n_iter", [1, 30])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("name", "X", "n_components"), DATASETS, ids=[d[0] for d in DATASETS])
def test_parameters_and_scores_match_scikit_learn(name, X, n_components, covariance_type, n_iter):
    ours, reference, shift = fit_both(X, n_components, covariance_type, n_iter)
    spread = np.sqrt(np.trace(np.cov(X.T)))
    tolerance = 1e-9

    assert ours.n_iter_ == reference.n_iter_ == n_iter
    np.testing.assert_allclose(ours.weights_, reference.weights_, rtol=0, atol=tolerance)
    np.testing.assert_allclose(
        ours.means_, reference.means_ + shift, rtol=0, atol=tolerance * spread
    )
    np.testing.assert_allclose(
        ours.covariances_, reference.covariances_, rtol=0, atol=tolerance * spread**2
    )
    np.testing.assert_allclose(
        ours.precisions_cholesky_,
        reference.precisions_cholesky_,
        rtol=tolerance,
        atol=tolerance / spread,
    )
    assert ours.lower_bound_ == pytest.approx(reference.lower_bound_, abs=tolerance)

    shifted = X - shift
    np.testing.assert_allclose(
        ours.score_samples(X), reference.score_samples(shifted), rtol=0, atol=tolerance
    )
    np.testing.assert_allclose(
        ours.predict_proba(X), reference.predict_proba(shifted), rtol=0, atol=tolerance
    )
    assert ours.score(X) == pytest.approx(reference.score(shifted), abs=tolerance)
    assert ours.bic(X) == pytest.approx(reference.bic(shifted), abs=tolerance * len(X))
    assert ours.aic(X) == pytest.approx(reference.aic(shifted), abs=tolerance * len(X))
    np.testing.assert_array_equal(ours.predict(X), reference.predict(shifted))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_full_parity_holds_on_unshifted_data_near_the_origin(covariance_type):
    rng = np.random.default_rng(7)
    X = blobs(rng, 200, [[0, 0], [3, 3]])
    weights, means, precisions = initial_parameters(X, 2, covariance_type, rng)
    options = dict(
        covariance_type=covariance_type,
        tol=0.0,
        max_iter=5,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
    )
    ours = GaussianMixture(2, **options).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SklearnGaussianMixture(2, **options).fit(X)
    np.testing.assert_allclose(ours.means_, reference.means_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.covariances_, reference.covariances_, rtol=0, atol=1e-10)


def test_tied_diag_spherical_stay_exact_far_from_origin():
    """Centred statistics keep their digits where raw second moments lose them."""
    rng = np.random.default_rng(3)
    near = blobs(rng, 200, [[0, 0], [4, 0], [0, 4]])
    far = near + 1e4
    for covariance_type in ["tied", "diag", "spherical"]:
        weights, means, precisions = initial_parameters(near, 3, covariance_type, rng)
        options = dict(covariance_type=covariance_type, tol=0.0, max_iter=20)
        start = dict(weights_init=weights, precisions_init=precisions)
        at_origin = GaussianMixture(3, means_init=means, **start, **options).fit(near)
        shifted = GaussianMixture(3, means_init=means + 1e4, **start, **options).fit(far)
        np.testing.assert_allclose(shifted.covariances_, at_origin.covariances_, atol=1e-9)
        np.testing.assert_allclose(shifted.means_ - 1e4, at_origin.means_, atol=1e-9)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_predict_with_log_density_equals_scikit_learn(covariance_type):
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(0, 1, (300, 3)), rng.normal(4, 0.5, (200, 3))])
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = SklearnGaussianMixture(3, covariance_type=covariance_type)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        setattr(theirs, name, getattr(ours, name))
    labels, log_density = ours.predict_with_log_density(X)
    np.testing.assert_array_equal(labels, theirs.predict(X))
    np.testing.assert_allclose(log_density, theirs.score_samples(X), rtol=1e-12)

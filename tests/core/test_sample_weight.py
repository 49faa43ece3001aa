"""sample_weight: integer weights are repeated rows, zero weights dropped rows, bad ones refused."""

import copy
import warnings

import numpy as np
import pytest

from gmm_core import BayesianGaussianMixture, GaussianMixture, GradientGaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
ESTIMATORS = [GaussianMixture, BayesianGaussianMixture]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_", "lower_bound_"]
BAYESIAN = ["weight_concentration_", "mean_precision_", "degrees_of_freedom_", "mean_prior_"]
TOLERANCE = 1e-9


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 1.0, size=(40, 2)) for c in [[0, 0], [5, 1], [1, 6]]])
    weights = rng.integers(0, 4, size=len(X))  # zeros included
    return X, weights


def start(X, covariance_type, n_components=3):
    """A fixed start (weights, means, precisions), so that both fits begin alike."""
    rng = np.random.default_rng(1)
    D = X.shape[1]
    precision = 1.0 / X.var(0).mean()
    return dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=X[rng.choice(len(X), n_components, replace=False)],
        precisions_init={
            "full": np.stack([np.eye(D) * precision] * n_components),
            "tied": np.eye(D) * precision,
            "diag": np.full((n_components, D), precision),
            "spherical": np.full(n_components, precision),
        }[covariance_type],
    )


def assert_same_model(a, b, tolerance=TOLERANCE):
    names = FITTED + (BAYESIAN if isinstance(a, BayesianGaussianMixture) else [])
    for name in names:
        ours, expected = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        if isinstance(getattr(a, name), tuple):
            ours, expected = np.stack(getattr(a, name)), np.stack(getattr(b, name))
        scale = np.max(np.abs(expected))
        np.testing.assert_allclose(
            ours, expected, rtol=tolerance, atol=tolerance * scale, err_msg=name
        )


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_integer_weights_fit_as_the_repeated_rows(estimator, covariance_type):
    X, weights = data()
    options = dict(n_components=3, covariance_type=covariance_type, tol=0.0, max_iter=25)
    options.update(start(X, covariance_type))
    weighted = quietly(estimator(**options).fit, X, sample_weight=weights)
    repeated = quietly(estimator(**options).fit, np.repeat(X, weights, axis=0))
    assert_same_model(weighted, repeated)
    np.testing.assert_allclose(weighted.score_samples(X), repeated.score_samples(X), rtol=TOLERANCE)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_zero_weights_fit_as_the_rows_left_out(estimator, covariance_type, init_params):
    # The weighted start too: rows of weight zero take no part in the draw.
    X, weights = data(seed=2)
    weights = (weights > 0).astype(float)
    options = dict(
        n_components=3,
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=4,
        max_iter=30,
    )
    weighted = quietly(estimator(**options).fit, X, sample_weight=weights)
    dropped = quietly(estimator(**options).fit, X[weights > 0])
    assert_same_model(weighted, dropped)
    assert weighted.n_iter_ == dropped.n_iter_


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_iter_fit_takes_the_weights_as_fit_does(estimator):
    X, weights = data()
    options = dict(n_components=3, random_state=0, tol=0.0, max_iter=6)
    fitted = quietly(estimator(**options).fit, X, sample_weight=weights)
    stepped = estimator(**options)
    for _ in stepped.iter_fit(X, sample_weight=weights):
        pass
    assert_same_model(stepped, fitted, tolerance=0)


@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data", "k-means++"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_a_weighted_start_follows_the_weights(estimator, init_params):
    # One blob carries almost all the weight: every start is drawn from it.
    X, _ = data()
    weights = np.where(np.arange(len(X)) < 40, 1.0, 1e-9)
    weights[:40] += np.linspace(0, 1, 40)  # not all equal: the weighted draw
    model = quietly(
        estimator(n_components=2, init_params=init_params, random_state=0, max_iter=0).fit,
        X,
        sample_weight=weights,
    )
    assert np.all(np.linalg.norm(model.means_, axis=1) < 2.5)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bayesian_stream_takes_integer_weights_as_repeated_rows(covariance_type):
    X, weights = data()
    options = dict(n_components=3, covariance_type=covariance_type, max_iter=10, tol=0.0)
    options.update(start(X, covariance_type))
    weighted = BayesianGaussianMixture(**options)
    repeated = BayesianGaussianMixture(**options)
    parts = np.array_split(np.arange(len(X)), 4)
    for rows in parts:
        quietly(weighted.partial_fit, X[rows], sample_weight=weights[rows])
        quietly(repeated.partial_fit, np.repeat(X[rows], weights[rows], axis=0))
    assert_same_model(weighted, repeated)


def test_gaussian_mixture_partial_fit_takes_weights():
    X, weights = data()
    rows = np.repeat(X, weights, axis=0)
    by_weight = GaussianMixture(3, random_state=0).partial_fit(X, sample_weight=weights)
    by_rows = GaussianMixture(3, random_state=0).partial_fit(rows)
    np.testing.assert_array_equal(by_weight.means_, by_rows.means_)
    # Fractional weights, once every component is present: one weighted chunk.
    counts = by_weight._incremental.counts.sum()
    fractional = np.full(len(X), 0.25)
    by_weight.partial_fit(X, sample_weight=fractional)
    assert np.isclose(by_weight._incremental.counts.sum(), counts + fractional.sum())
    with pytest.raises(ValueError, match="Fractional sample_weight"):
        GaussianMixture(3).partial_fit(X, sample_weight=fractional)


def test_gradient_mixture_takes_weights_as_repeated_rows():
    X, weights = data()
    options = dict(n_components=3, tol=0.0, max_iter=5, **start(X, "full"))
    weighted = GradientGaussianMixture(**options).fit(X, sample_weight=weights)
    repeated = GradientGaussianMixture(**options).fit(np.repeat(X, weights, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=TOLERANCE)


BAD_WEIGHTS = [
    (np.ones(119), "shape"),
    (np.ones((120, 1)), "shape"),
    (2.0, "one weight per row"),
    (np.r_[-1.0, np.ones(119)], "non-negative; row 0"),
    (np.r_[np.ones(5), np.nan, np.ones(114)], "finite; row 5"),
    (np.r_[np.ones(7), np.inf, np.ones(112)], "finite; row 7"),
    (np.zeros(120), "zero for every row"),
]


@pytest.mark.parametrize(("weights", "message"), BAD_WEIGHTS)
@pytest.mark.parametrize("call", ["fit", "iter_fit", "partial_fit"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_bad_weights_are_refused_and_leave_the_model_unchanged(estimator, call, weights, message):
    X, good = data()
    model = quietly(estimator(n_components=3, random_state=0).fit, X, sample_weight=good)
    before = copy.deepcopy(vars(model))
    with pytest.raises(ValueError, match=message):
        if call == "iter_fit":
            list(model.iter_fit(X, sample_weight=weights))
        else:
            getattr(model, call)(X, sample_weight=weights)
    after = vars(model)
    assert before.keys() == after.keys()
    for name, value in before.items():
        if name.endswith("_") and not name.startswith("_"):
            if isinstance(value, tuple):
                for part, other in zip(value, after[name], strict=True):
                    np.testing.assert_array_equal(part, other)
            else:
                np.testing.assert_array_equal(value, after[name], err_msg=name)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_an_unfitted_model_refusing_weights_stays_unfitted(estimator):
    X, _ = data()
    model = estimator(n_components=3)
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(X, sample_weight=-np.ones(len(X)))
    assert not hasattr(model, "means_")

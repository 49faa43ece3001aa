"""BayesianGaussianMixture gives scikit-learn's numbers from scikit-learn's own start."""

import json
import warnings

import numpy as np
import pytest
import torch
from sklearn.mixture import BayesianGaussianMixture as SklearnBayesianGaussianMixture

from gmm_core import BayesianGaussianMixture, GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
PRIOR_TYPES = ["dirichlet_process", "dirichlet_distribution"]
TOLERANCE = 1e-9


def blobs(rng, n_per, centres, scale=1.0):
    centres = np.asarray(centres, dtype=float)
    return np.vstack([rng.normal(c, scale, size=(n_per, centres.shape[1])) for c in centres])


def datasets():
    rng = np.random.default_rng(7)
    yield "separated-2d", blobs(rng, 120, [[0, 0], [5, 1], [1, 6]])
    yield "overlapping-3d", blobs(rng, 90, [[0, 0, 0], [2.5, 0, 1], [0, 2, -1]])


DATASETS = list(datasets())


def fit_both(X, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, from both
        ours = BayesianGaussianMixture(**options).fit(X)
        reference = SklearnBayesianGaussianMixture(**options).fit(X)
    return ours, reference


def assert_close(ours, reference, name):
    """Equal to TOLERANCE relative to the array's largest entry (off-diagonals may be ~0)."""
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape, name
    scale = np.max(np.abs(reference))
    np.testing.assert_allclose(
        ours, reference, rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=name
    )


FITTED = [
    "weights_",
    "means_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
    "mean_precision_",
    "degrees_of_freedom_",
    "weight_concentration_prior_",
    "mean_precision_prior_",
    "mean_prior_",
    "degrees_of_freedom_prior_",
    "covariance_prior_",
]


@pytest.mark.parametrize("init_params", ["random_from_data", "random"])
@pytest.mark.parametrize("max_iter", [1, 5, 60])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize(("name", "X"), DATASETS, ids=[d[0] for d in DATASETS])
def test_every_fitted_attribute_matches_scikit_learn(
    name, X, prior_type, covariance_type, max_iter, init_params
):
    ours, reference = fit_both(
        X,
        n_components=6,
        covariance_type=covariance_type,
        weight_concentration_prior_type=prior_type,
        init_params=init_params,
        max_iter=max_iter,
        random_state=3,
    )
    assert ours.n_iter_ == reference.n_iter_
    assert ours.converged_ == reference.converged_
    for attribute in FITTED:
        assert_close(getattr(ours, attribute), getattr(reference, attribute), attribute)
    concentration = reference.weight_concentration_
    if prior_type == "dirichlet_process":
        assert isinstance(ours.weight_concentration_, tuple)
        for part, expected in zip(ours.weight_concentration_, concentration, strict=True):
            assert_close(part, expected, "weight_concentration_")
    else:
        assert_close(ours.weight_concentration_, concentration, "weight_concentration_")
    # scikit-learn's 'tied' bound is an array of shape (1,); gmm_core's a float.
    assert_close(ours.lower_bound_, float(np.ravel(reference.lower_bound_)[0]), "lower_bound_")
    assert_close(ours.lower_bounds_, np.ravel(reference.lower_bounds_), "lower_bounds_")
    assert_close(ours.score_samples(X), reference.score_samples(X), "score_samples")
    assert_close(ours.predict_proba(X), reference.predict_proba(X), "predict_proba")
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_given_priors_and_n_init_match_scikit_learn(covariance_type):
    X = DATASETS[1][1]
    D = X.shape[1]
    covariance_prior = {
        "full": np.eye(D) * 2.0,
        "tied": np.eye(D) * 0.5,
        "diag": np.full(D, 1.5),
        "spherical": 0.7,
    }[covariance_type]
    ours, reference = fit_both(
        X,
        n_components=5,
        covariance_type=covariance_type,
        weight_concentration_prior=0.01,
        mean_precision_prior=0.3,
        mean_prior=np.ones(D),
        degrees_of_freedom_prior=D + 1.5,
        covariance_prior=covariance_prior,
        init_params="random_from_data",
        n_init=3,
        max_iter=40,
        random_state=11,
    )
    assert ours.n_iter_ == reference.n_iter_
    for attribute in FITTED:
        assert_close(getattr(ours, attribute), getattr(reference, attribute), attribute)
    # scikit-learn's 'tied' bound is an array of shape (1,); gmm_core's a float.
    assert_close(ours.lower_bound_, float(np.ravel(reference.lower_bound_)[0]), "lower_bound_")


def test_warm_start_one_pass_at_a_time_matches_scikit_learn():
    X = DATASETS[0][1]
    options = dict(n_components=4, warm_start=True, max_iter=1, random_state=0)
    options["init_params"] = "random_from_data"
    ours = BayesianGaussianMixture(**options)
    reference = SklearnBayesianGaussianMixture(**options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(8):
            ours.fit(X)
            reference.fit(X)
    assert_close(ours.means_, reference.means_, "means_")
    # scikit-learn's 'tied' bound is an array of shape (1,); gmm_core's a float.
    assert_close(ours.lower_bound_, float(np.ravel(reference.lower_bound_)[0]), "lower_bound_")


def test_iter_fit_passes_are_the_fit():
    X = DATASETS[0][1]
    options = dict(n_components=5, init_params="random_from_data", random_state=2, tol=0.0)
    fitted = BayesianGaussianMixture(max_iter=7, **options).fit(X)
    stepped = BayesianGaussianMixture(**options)
    bounds = [model.lower_bound_ for model in stepped.iter_fit(X, max_iter=7)]
    assert len(bounds) == 7
    np.testing.assert_array_equal(stepped.means_, fitted.means_)
    assert bounds == fitted.lower_bounds_
    assert all(b >= a for a, b in zip(bounds, bounds[1:], strict=False))  # the bound rises


def test_max_iter_zero_with_n_init_keeps_scikit_learns_last_start():
    X = DATASETS[0][1]
    ours, reference = fit_both(
        X, n_components=4, init_params="random_from_data", max_iter=0, n_init=3, random_state=5
    )
    assert_close(ours.means_, reference.means_, "means_")


def test_max_iter_zero_keeps_the_start():
    X = DATASETS[0][1]
    ours, reference = fit_both(
        X, n_components=4, init_params="random_from_data", max_iter=0, random_state=5
    )
    assert ours.n_iter_ == 0 and ours.lower_bound_ == -np.inf
    assert_close(ours.means_, reference.means_, "means_")
    assert_close(ours.covariances_, reference.covariances_, "covariances_")


def test_unneeded_components_die_out():
    X = DATASETS[0][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianGaussianMixture(
            n_components=10, weight_concentration_prior=1e-3, random_state=0, max_iter=500
        ).fit(X)
    assert np.sum(model.weights_ > 0.01) == 3


def test_kmeans_start_is_gaussian_mixtures_and_independent_of_covariance_type():
    X = DATASETS[0][1]
    starts = [
        BayesianGaussianMixture(n_components=3, covariance_type=kind, max_iter=0, random_state=1)
        .fit(X)
        .means_
        for kind in COVARIANCE_TYPES
    ]
    for means in starts[1:]:
        np.testing.assert_array_equal(means, starts[0])
    # The k-means clusters are found: one start mean near each blob.
    centres = np.array([[0, 0], [5, 1], [1, 6]])
    distance = np.linalg.norm(starts[0][:, None, :] - centres[None], axis=2)
    assert np.all(distance.min(0) < 0.5)
    assert isinstance(GaussianMixture(3).fit(X).means_, np.ndarray)


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_saved_and_loaded_model_scores_and_trains_on_the_same(covariance_type, prior_type):
    X = DATASETS[1][1]
    options = dict(
        n_components=4,
        covariance_type=covariance_type,
        weight_concentration_prior_type=prior_type,
        random_state=0,
        max_iter=5,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianGaussianMixture(**options).fit(X)
        loaded = BayesianGaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
        np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
        model.fit(X)
        loaded.fit(X)
    np.testing.assert_array_equal(loaded.means_, model.means_)
    assert loaded.lower_bound_ == model.lower_bound_


def test_altered_dictionary_is_refused():
    X = DATASETS[0][1]
    model = BayesianGaussianMixture(n_components=3, random_state=0).fit(X)
    data = model.to_dict()
    data["variational"]["weight_concentration"][0][0] *= 3
    with pytest.raises(ValueError, match="does not match"):
        BayesianGaussianMixture.from_dict(data)
    del data["variational"]
    with pytest.raises(ValueError, match="variational"):
        BayesianGaussianMixture.from_dict(data)


def test_float32_and_float64_answers_agree():
    X = DATASETS[0][1]
    options = dict(n_components=4, init_params="random_from_data", random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 passes need not converge
        double = BayesianGaussianMixture(**options).fit(X)
        single = BayesianGaussianMixture(dtype=torch.float32, **options).fit(X)
    assert single.means_.dtype == np.float32
    np.testing.assert_allclose(single.means_, double.means_, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(weight_concentration_prior_type="dirichlet"), "weight_concentration_prior_type"),
        (dict(weight_concentration_prior=0.0), "weight_concentration_prior"),
        (dict(mean_precision_prior=-1.0), "mean_precision_prior"),
        (dict(degrees_of_freedom_prior=1.0), "should be greater than 1"),
        (dict(mean_prior=[0.0, 0.0, 0.0]), "'means' should have the shape"),
        (dict(covariance_prior=np.eye(3)), "full covariance_prior"),
        (dict(covariance_type="diag", covariance_prior=[1.0, -1.0]), "should be positive"),
    ],
)
def test_bad_priors_are_refused_and_leave_the_model_unchanged(options, message):
    X = DATASETS[0][1]
    model = BayesianGaussianMixture(n_components=2, random_state=0).fit(X)
    before = model.to_dict()
    model.set_params(**options)
    with pytest.raises(ValueError, match=message):
        model.fit(X)
    after = model.to_dict()
    assert after["parameters"] == before["parameters"]
    assert after["variational"] == before["variational"]


@pytest.mark.parametrize("exponent", [-400, 400])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_data_far_from_unit_size_give_the_unit_answer_in_their_units(covariance_type, exponent):
    # Trained scaled by a power of two (scaling/): the same posterior, mapped back; the
    # bound moves by the Wishart terms' D log s per degree of freedom, scores by D log s.
    X = DATASETS[0][1]
    scale, shift = 2.0**exponent, np.array([3.0, -5.0]) * 2.0**exponent
    options = dict(n_components=4, covariance_type=covariance_type, random_state=0)
    options.update(max_iter=30, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = BayesianGaussianMixture(**options).fit(X)
        far = BayesianGaussianMixture(reg_covar=1e-6 * scale**2, **options).fit(X * scale + shift)
    assert far._scaled is not None
    D, log_scale = X.shape[1], exponent * np.log(2.0)
    assert_close((far.means_ - shift) / scale, unit.means_, "means_")
    assert_close(far.covariances_ / scale**2, unit.covariances_, "covariances_")
    assert_close(far.weights_, unit.weights_, "weights_")
    assert_close(far.mean_prior_, unit.mean_prior_ * scale + shift, "mean_prior_")
    assert_close(far.covariance_prior_, np.asarray(unit.covariance_prior_) * scale**2, "prior")
    total_nu = np.sum(np.broadcast_to(unit.degrees_of_freedom_, (4,)))
    expected_bound = unit.lower_bound_ - total_nu * D * log_scale
    np.testing.assert_allclose(far.lower_bound_, expected_bound, rtol=1e-9)
    scores = far.score_samples(X * scale + shift)
    np.testing.assert_allclose(scores, unit.score_samples(X) - D * log_scale, rtol=1e-9)
    loaded = BayesianGaussianMixture.from_dict(json.loads(json.dumps(far.to_dict())))
    np.testing.assert_array_equal(loaded.score_samples(X * scale + shift), scores)


def test_a_stream_far_from_unit_size_learns_as_at_unit_size():
    X = DATASETS[0][1]
    scale = 2.0**-400
    options = dict(n_components=4, random_state=0)
    unit = BayesianGaussianMixture(**options)
    far = BayesianGaussianMixture(reg_covar=1e-6 * scale**2, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in np.array_split(np.arange(len(X)), 3):
            unit.partial_fit(X[rows])
            far.partial_fit(X[rows] * scale)
    assert far._scaled is not None and far.n_samples_seen_ == len(X)
    assert_close(far.means_ / scale, unit.means_, "means_")
    assert_close(far.weights_, unit.weights_, "weights_")


def test_a_model_float64_cannot_hold_is_refused_and_the_model_kept():
    X = DATASETS[0][1]
    model = BayesianGaussianMixture(n_components=3, random_state=0).fit(X)
    before = model.to_dict()
    with pytest.raises(ValueError, match="Divide the data by a constant"):
        model.fit(X * 1e200)
    assert model.to_dict() == before

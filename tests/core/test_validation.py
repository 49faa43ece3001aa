"""Bad input is refused with a ValueError that says what to change, and nothing is lost."""

import numpy as np
import pytest
import torch

from gmm_core import GaussianMixture, NotFittedError


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(6, 1, (50, 2))])


@pytest.fixture
def fitted(data):
    return GaussianMixture(2, random_state=0).fit(data)


def snapshot(model):
    return {
        name: np.copy(getattr(model, name))
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_")
    } | {"n_iter_": model.n_iter_, "lower_bound_": model.lower_bound_}


def assert_unchanged(model, before):
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value, err_msg=name)


BAD_DATA = [  # scikit-learn's own messages: the data goes through its validate_data
    (np.array([[0.0, 1.0], [np.nan, 2.0], [3, 4]]), "contains NaN"),
    (np.array([[0.0, 1.0], [np.inf, 2.0], [3, 4]]), "contains infinity"),
    (np.arange(10.0), "Expected 2D array, got 1D array"),
    (np.zeros((4, 2, 2)), "dim 3"),
    (np.zeros((0, 2)), r"0 sample\(s\)"),
    ([[1, 2], [3]], "inhomogeneous"),
    ([["a", "b"], ["c", "d"]], "could not convert string to float"),
]


@pytest.mark.parametrize(("X", "message"), BAD_DATA)
def test_bad_data_is_refused_and_the_fitted_model_kept(fitted, X, message):
    before = snapshot(fitted)
    with pytest.raises(ValueError, match=message):
        fitted.fit(X)
    assert_unchanged(fitted, before)


@pytest.mark.parametrize(("X", "message"), BAD_DATA[:4])
def test_bad_data_is_refused_by_every_method(fitted, X, message):
    for method in (fitted.predict, fitted.predict_proba, fitted.score_samples, fitted.score):
        with pytest.raises(ValueError, match=message):
            method(X)


def test_wrong_number_of_features_is_refused(fitted, data):
    before = snapshot(fitted)
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2"):
        fitted.predict(np.zeros((3, 3)))
    fitted.warm_start = True  # continuing needs the same features
    with pytest.raises(ValueError, match="3 features"):
        fitted.fit(np.zeros((30, 3)))
    with pytest.raises(ValueError, match="3 features"):
        fitted.partial_fit(np.zeros((30, 3)))
    assert_unchanged(fitted, before)
    assert fitted.n_features_in_ == 2


def test_a_cold_fit_forgets_the_previous_data(fitted):
    # As any scikit-learn estimator: fit without warm_start starts over, any shape.
    X = np.random.default_rng(1).normal(size=(40, 3))
    assert fitted.fit(X).means_.shape == (2, 3) and fitted.n_features_in_ == 3


def test_fewer_samples_than_components(data):
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).fit(data[:3])


BAD_PARAMETERS = [
    (dict(n_components=0), "n_components must be an integer >= 1"),
    (dict(n_components=2.5), "n_components"),
    (dict(covariance_type="round"), "covariance_type must be one of"),
    (dict(init_params="best"), "init_params must be one of"),
    (dict(tol=-1.0), "tol must be a finite number >= 0"),
    (dict(reg_covar=-1e-6), "reg_covar must be a finite number >= 0"),
    (dict(max_iter=-1), "max_iter"),
    (dict(n_init=0), "n_init"),
    (dict(weights_init=[0.5, 0.6]), "weights_init must sum to 1"),
    (dict(weights_init=[1.5, -0.5]), "weights_init must be non-negative"),
    (dict(weights_init=[1.0]), r"weights_init must have shape \(2,\)"),
    (dict(means_init=np.zeros((3, 2))), r"means_init must have shape \(2, 2\)"),
    (dict(precisions_init=np.ones((2, 3, 3))), r"precisions_init must have shape \(2, 2, 2\)"),
    (dict(precisions_init=np.array([[[1, 2], [2, 1]], [[1, 0], [0, 1]]])), "positive definite"),
    (dict(covariances_init=np.array([[[1, 0], [0, -1]]] * 2)), "positive definite"),
    (dict(covariance_type="diag", precisions_init=np.array([[1, 0], [1, 1]])), "positive"),
    (
        dict(precisions_init=np.stack([np.eye(2)] * 2), covariances_init=np.stack([np.eye(2)] * 2)),
        "not both",
    ),
]


@pytest.mark.parametrize(("parameters", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_refused_before_any_work(fitted, data, parameters, message):
    options = dict(n_components=2) | parameters
    with pytest.raises(ValueError, match=message):
        GaussianMixture(**options).fit(data)
    # A fitted model whose parameters are changed to bad values keeps its state.
    before = snapshot(fitted)
    for name, value in parameters.items():
        setattr(fitted, name, value)
    with pytest.raises(ValueError, match=message):
        fitted.fit(data)
    assert_unchanged(fitted, before)


def test_unfitted_model_says_so(data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GaussianMixture(2).predict(data)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize(
    "X",
    [
        np.ones((20, 2)) * 3.0,  # all points identical
        np.column_stack([np.arange(20.0), 2 * np.arange(20.0)]),  # collinear
        np.vstack([np.zeros((1, 2)), np.random.default_rng(0).normal(size=(30, 2)) + 50]),
    ],
    ids=["identical", "collinear", "one-point-component"],
)
def test_singular_data_never_gives_nan(covariance_type, X):
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0)
    try:
        model.fit(X)
    except ValueError as error:
        assert "reg_covar" in str(error)
        return
    assert np.isfinite(model.covariances_).all() and np.isfinite(model.means_).all()
    assert np.isfinite(model.score_samples(X)).all()
    full = model.covariances_ if covariance_type == "full" else None
    if full is not None:
        assert (np.linalg.eigvalsh(full) > 0).all()


def test_singular_covariance_without_regulariser_raises_and_keeps_state(fitted):
    before = snapshot(fitted)
    fitted.reg_covar = 0.0
    with pytest.raises(ValueError, match="increase reg_covar"):
        fitted.fit(np.ones((10, 2)))
    assert_unchanged(fitted, before)


def test_accepts_lists_numpy_and_tensors_and_returns_numpy(data):
    from_list = GaussianMixture(2, random_state=0).fit(data.tolist())
    from_tensor = GaussianMixture(2, random_state=0).fit(torch.as_tensor(data))
    np.testing.assert_array_equal(from_list.means_, from_tensor.means_)
    assert isinstance(from_tensor.predict_proba(torch.as_tensor(data)), np.ndarray)
    assert isinstance(from_tensor.means_, np.ndarray)


def test_float32_weights_that_sum_to_one_in_float32_are_accepted(data):
    weights = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    weights /= weights.sum()  # sums to 1 only within float32 rounding
    model = GaussianMixture(4, weights_init=weights, random_state=0, max_iter=0).fit(data)
    np.testing.assert_array_equal(model.weights_, weights.astype(np.float64))
    with pytest.raises(ValueError, match="weights_init must sum to 1"):
        GaussianMixture(4, weights_init=weights * 1.01).fit(data)


def test_dtype_follows_the_data_unless_given(data):
    assert GaussianMixture(2, random_state=0).fit(data).means_.dtype == np.float64
    single = GaussianMixture(2, random_state=0).fit(data.astype(np.float32))
    assert single.means_.dtype == np.float32
    assert single.predict_proba(data).dtype == np.float32
    given = GaussianMixture(2, random_state=0, dtype=torch.float32).fit(data)
    assert given.means_.dtype == np.float32
    online = GaussianMixture(2, dtype=torch.float32).partial_fit(data)
    assert online.means_.dtype == np.float32
    assert GaussianMixture(2).partial_fit(data.astype(np.float32)).means_.dtype == np.float32
    with pytest.raises(ValueError, match="dtype must be"):
        GaussianMixture(2, dtype=torch.int32).fit(data)


# -- random_state: exactly what scikit-learn's check_random_state accepts (issue 8) -------


@pytest.mark.parametrize("bad", [1.5, "abc", -1, 2**32, [1, 2], True + 0.5])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "iter_fit"])
def test_random_state_refused_as_scikit_learn_refuses_it(data, bad, method):
    from sklearn.utils import check_random_state

    with pytest.raises(ValueError) as sklearn_error:
        check_random_state(bad)
    model = GaussianMixture(2, random_state=bad)
    with pytest.raises(ValueError) as ours:
        if method == "iter_fit":
            next(model.iter_fit(data))
        else:
            getattr(model, method)(data)
    assert str(ours.value) == str(sklearn_error.value)
    assert not hasattr(model, "means_")


@pytest.mark.parametrize(
    "good",
    [None, 0, 2**32 - 1, np.int64(3), np.random.RandomState(0), np.random.default_rng(0)],
)
def test_random_state_accepted_as_scikit_learn_accepts_it(data, good):
    GaussianMixture(2, random_state=good).fit(data)
    GaussianMixture(2, random_state=good).partial_fit(data)


def test_sample_refuses_a_bad_random_state(fitted):
    fitted.random_state = 1.5
    with pytest.raises(ValueError, match="cannot be used to seed"):
        fitted.sample(3)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_complex_data_refused(data, method):
    with pytest.raises(ValueError, match="Complex data not supported"):
        getattr(GaussianMixture(2), method)(data + 1j)


@pytest.mark.parametrize("name", ["reg_covar", "tol"])
def test_huge_but_finite_hyper_parameters_are_numbers(name):
    """An int too large for a float is refused with a ValueError, not a TypeError."""
    from gmm_core._validation import check_mixture_parameters

    check_mixture_parameters(GaussianMixture(**{name: 1.7976931348623157e308}))
    with pytest.raises(ValueError, match=name):
        check_mixture_parameters(GaussianMixture(**{name: 10**400}))


def test_plain_arrays_and_lists_are_learnt_alike_and_refused_alike():
    # A fitted model takes a plain float array without scikit-learn's validate_data (the
    # per-click cost); the answers and the refusals must not differ from a list's.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    by_array = GaussianMixture(2, random_state=0).fit(X)
    by_list = GaussianMixture(2, random_state=0).fit(X)
    for point in rng.normal(size=(30, 2)):
        by_array.partial_fit(point)
        by_list.partial_fit(point.tolist())
    np.testing.assert_array_equal(by_array.means_, by_list.means_)
    np.testing.assert_array_equal(by_array.covariances_, by_list.covariances_)
    for bad in (np.array([np.nan, 0.0]), np.array([[1.0, 2.0, 3.0]]), np.zeros((0, 2))):
        before = by_array.means_.copy()
        with pytest.raises(ValueError):
            by_array.partial_fit(bad)
        with pytest.raises(ValueError):
            by_list.partial_fit(bad.tolist())
        np.testing.assert_array_equal(by_array.means_, before)

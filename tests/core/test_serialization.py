"""to_dict / from_dict: JSON-safe, exact round trips, strict loading."""

import copy
import json

import numpy as np
import pytest

from gmm_core import GaussianMixture
from gmm_core.fitted.serialization import read_columns


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    return np.vstack([rng.normal(c, 0.7, (120, 2)) for c in ([0, 0], [5, 1], [1, 5])])


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_round_trip_through_json_scores_bit_for_bit(data, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(data)
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(loaded.score_samples(data), model.score_samples(data))
    np.testing.assert_array_equal(loaded.predict_proba(data), model.predict_proba(data))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.n_iter_ == model.n_iter_ and loaded.lower_bound_ == model.lower_bound_
    assert loaded.to_dict() == model.to_dict()


def test_unfitted_model_round_trips():
    model = GaussianMixture(4, covariance_type="diag", reg_covar=1e-3, memory=50)
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    assert (loaded.n_components, loaded.covariance_type) == (4, "diag")
    assert (loaded.reg_covar, loaded.memory) == (1e-3, 50)


def corrupt(described, path, value):
    broken = copy.deepcopy(described)
    target = broken
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


BROKEN = [
    (("type",), "Pickle", "describes a 'Pickle'"),
    (("format_version",), 99, "format_version"),
    (("parameters", "means"), [[0.0, 0.0]] * 4, "K or D out of range"),
    (("parameters", "weights"), [0.5, 0.5], r"shape \(2,\), expected \(3,\)"),
    (("parameters", "weights"), [0.2, 0.2, 0.2], "sum to 1"),
    (("parameters", "means"), [[0.0, float("nan")]] * 3, "non-finite"),
    (("parameters", "covariances"), [[[1.0, 2.0], [2.0, 1.0]]] * 3, "positive definite"),
    (("parameters", "covariances"), "1 2 3", "must be numbers|list of numbers"),
    (("parameters",), KeyError, "no 'parameters' entry"),
    (("hyper_parameters", "covariance_type"), "round", "covariance_type must be one of"),
    (("hyper_parameters", "surprise"), 1, "Unknown hyper-parameters"),
    (("state", "n_iter"), 1.5, "must be an integer"),
    (("statistics", "counts"), [1.0, float("inf"), 2.0], "non-finite"),
    (("columns",), ["x"], "names 1 columns, but the model has 2 features"),
    (("columns",), ["x", "x"], "distinct non-empty column names"),
    (("columns",), "x,y", "distinct non-empty column names"),
    (("columns",), ["x", 2], "distinct non-empty column names"),
]


@pytest.mark.parametrize(("path", "value", "message"), BROKEN)
def test_broken_dictionaries_are_refused(data, path, value, message):
    described = GaussianMixture(3, random_state=0).fit(data).to_dict()
    with pytest.raises(ValueError, match=message):
        GaussianMixture.from_dict(corrupt(described, path, value))


def test_column_names_saved_beside_a_model_load_and_leave_the_model_as_saved(data):
    model = GaussianMixture(3, random_state=0).fit(data)
    described = model.to_dict() | {"columns": ["width", "height"]}
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(described)))
    assert loaded.to_dict() == model.to_dict()
    assert read_columns(described, loaded.n_features_in_) == ["width", "height"]
    assert read_columns(model.to_dict(), 2) is None


def test_non_dictionaries_are_refused():
    for value in (None, [], "{}", 3):
        with pytest.raises(ValueError, match="must be a dictionary"):
            GaussianMixture.from_dict(value)


def test_float32_model_round_trips_in_float32(data):
    model = GaussianMixture(3, random_state=0).fit(data.astype(np.float32))
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    assert loaded.means_.dtype == np.float32 and loaded.dtype is None
    np.testing.assert_array_equal(loaded.score_samples(data), model.score_samples(data))
    assert loaded.lower_bounds_ == model.lower_bounds_ and len(loaded.lower_bounds_) > 1


def test_dictionaries_of_the_first_format_still_load(data):
    # Before gmm_core became a scikit-learn estimator: no verbose arguments, dtype always
    # named, no dtype or lower_bounds in the state.
    described = GaussianMixture(3, random_state=0).fit(data).to_dict()
    for key in ("verbose", "verbose_interval"):
        del described["hyper_parameters"][key]
    described["hyper_parameters"]["dtype"] = "float64"
    del described["state"]["dtype"], described["state"]["lower_bounds"]
    loaded = GaussianMixture.from_dict(described)
    np.testing.assert_array_equal(loaded.means_, np.array(described["parameters"]["means"]))
    assert loaded.lower_bounds_ == [] and loaded.means_.dtype == np.float64


# -- issue 8: every entry checked, and checked against the entries it must agree with --


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("factor", ["zero", "negative", "identity"])
def test_precisions_cholesky_must_match_covariances(data, kind, factor):
    saved = GaussianMixture(3, covariance_type=kind, random_state=0).fit(data).to_dict()
    saved = json.loads(json.dumps(saved))
    array = np.array(saved["parameters"]["precisions_cholesky"])
    if factor == "zero":
        array[...] = 0.0
    elif factor == "negative":
        array = -array
    else:
        array = (
            np.broadcast_to(np.eye(2), array.shape) if kind in ("full", "tied") else 1 + 0 * array
        )
    saved["parameters"]["precisions_cholesky"] = np.asarray(array).tolist()
    with pytest.raises(ValueError, match="precisions_cholesky'\\] does not match"):
        GaussianMixture.from_dict(saved)


@pytest.mark.parametrize(
    "key, value",
    [("converged", "no"), ("n_samples_seen", 10**30), ("n_samples_seen", -5), ("n_iter", 1.5)],
)
def test_state_fields_of_the_wrong_type_refused(data, key, value):
    saved = json.loads(json.dumps(GaussianMixture(3, random_state=0).fit(data).to_dict()))
    saved["state"][key] = value
    with pytest.raises(ValueError, match=key):
        GaussianMixture.from_dict(saved)


def test_null_parameters_with_a_fitted_state_refused(data):
    saved = json.loads(json.dumps(GaussianMixture(3, random_state=0).fit(data).to_dict()))
    saved["parameters"] = None
    with pytest.raises(ValueError, match="parameters'\\] is null"):
        GaussianMixture.from_dict(saved)


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_float32_models_round_trip(data, kind, how):
    """float32 covariances are symmetric only at float32's rounding; they still load."""
    model = GaussianMixture(3, covariance_type=kind, random_state=0)
    getattr(model, how)(data.astype(np.float32) + 1e3)
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(loaded.score_samples(data), model.score_samples(data))

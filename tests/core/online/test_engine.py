"""The engine: components founded by far points, copies that are independent, options."""

import copy

import numpy as np
import pytest
from scipy.stats import chi2

from gmm_core.online import IncrementalEM


def engine(n_components=3, **options):
    options = {"covariance_type": "full", "reg_covar": 0.0, "memory": None, **options}
    return IncrementalEM(n_components, 2, random_state=np.random.default_rng(0), **options)


def settled_at_origin(n_components=2):
    return IncrementalEM.from_statistics(
        [100.0],
        [[0.0, 0.0]],
        [np.eye(2)],
        100,
        n_components=n_components,
        covariance_type="full",
        reg_covar=0.0,
        memory=None,
        random_state=np.random.default_rng(0),
    )


def test_a_point_beyond_the_99_percent_quantile_founds_a_component():
    radius = np.sqrt(chi2.ppf(0.99, 2))  # unit covariance: Mahalanobis = Euclidean
    inside, outside = settled_at_origin(), settled_at_origin()
    inside.update(np.array([0.98 * radius, 0.0]))
    outside.update(np.array([1.02 * radius, 0.0]))
    assert inside.n_active == 1 and outside.n_active == 2
    np.testing.assert_array_equal(outside.means[1], [1.02 * radius, 0.0])


def test_no_component_beyond_n_components():
    model = settled_at_origin(n_components=1)
    model.update(np.array([100.0, 100.0]))
    assert model.n_active == 1 and model.counts.sum() == pytest.approx(101.0)


def test_a_deep_copy_continues_identically_and_independently():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 1.0, (60, 2)) for c in ([0, 0], [9, 0], [0, 9])])
    original = engine()
    for x in X[rng.permutation(180)][:120]:
        original.update(x)
    twin = copy.deepcopy(original)
    before = original.to_dict()
    for x in X[:30]:
        twin.update(x)
    assert original.to_dict() == before  # the copy shares no state
    for x in X[:30]:
        original.update(x)
    assert original.to_dict() == twin.to_dict()


def test_published_parameters_are_consistent():
    model = engine()
    for x in np.random.default_rng(2).normal(size=(50, 2)):
        model.update(x)
    np.testing.assert_allclose(model.weights, model.counts / model.counts.sum(), rtol=1e-12)
    factor = model.precisions_cholesky
    np.testing.assert_allclose(
        factor @ factor.transpose(0, 2, 1), np.linalg.inv(model.covariances), rtol=1e-9
    )


def test_bad_options_are_refused_with_what_to_change():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        engine(covariance_type="round")
    with pytest.raises(ValueError, match="memory must be a positive integer"):
        engine(memory=0)

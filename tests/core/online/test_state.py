"""Settings, the data scale and the running state: exact against numpy."""

import numpy as np
import pytest
from scipy.stats import chi2

from gmm_core.covariance_types import n_parameters
from gmm_core.online.buffer import CAPACITY
from gmm_core.online.state import DataScale, OnlineState, Settings, chi2_quantile
from gmm_core.online.statistics import Statistics
from gmm_core.online.structure import statistics


def test_settings_refuse_unknown_types_and_bad_memory():
    with pytest.raises(ValueError, match="covariance_type"):
        Settings(2, 2, "round", 0.0, None)
    with pytest.raises(ValueError, match="memory"):
        Settings(2, 2, "full", 0.0, 0)


def test_chi2_quantile_matches_scipy():
    assert chi2_quantile(0.99, 2) == pytest.approx(chi2.ppf(0.99, 2), rel=1e-12)
    assert chi2_quantile(0.999, 5) == pytest.approx(chi2.ppf(0.999, 5), rel=1e-12)


@pytest.mark.parametrize(
    ("kind", "covariance"), [("full", 6), ("tied", 0), ("diag", 3), ("spherical", 1)]
)
def test_one_more_component_adds_a_mean_a_weight_and_its_own_covariance(kind, covariance):
    # D = 3: a mean (3), a weight (1) and a covariance: 6, 0 (shared), 3 or 1 parameters.
    assert Settings(2, 3, kind, 0.0, None).split_parameters == 3 + 1 + covariance
    assert n_parameters(kind, 3, 3) - n_parameters(kind, 2, 3) == 3 + 1 + covariance


def test_data_scale_by_points_and_by_chunks_is_np_var():
    rng = np.random.default_rng(0)
    X = rng.normal(1e4, 2.0, (300, 3))
    by_point, by_chunk = DataScale.empty(3), DataScale.empty(3)
    for x in X[:100]:
        by_point.observe_point(x)
    by_chunk.observe_chunk(X[:100])
    by_point.observe_chunk(X[100:])
    by_chunk.observe_chunk(X[100:])
    for scale in (by_point, by_chunk):
        np.testing.assert_allclose(scale.mean, X.mean(0), rtol=1e-14)
        np.testing.assert_allclose(scale.variances(), X.var(0), rtol=1e-10)


def test_data_scale_of_statistics_is_that_of_all_points():
    rng = np.random.default_rng(1)
    A, B = rng.normal(0.0, 1.0, (40, 2)), rng.normal(5.0, 2.0, (60, 2))
    stats = Statistics(
        np.array([40.0, 60.0]),
        np.stack([A.mean(0), B.mean(0)]),
        np.stack([np.cov(A.T, bias=True), np.cov(B.T, bias=True)]),
    )
    scale = DataScale.of_statistics(stats)
    np.testing.assert_allclose(scale.variances(), np.vstack([A, B]).var(0), rtol=1e-12)


def test_points_leaving_the_buffer_keep_the_totals_exact():
    rng = np.random.default_rng(2)
    X = rng.normal(3.0, 1.5, (CAPACITY + 50, 2))
    state = OnlineState.empty(Settings(1, 2, "full", 0.0, None))
    state.create(X[0])
    for x in X[1:]:
        state.push(x, np.ones(1))
    assert state.buffer.size < X.shape[0]  # some points are only in the summary now
    counts, means, covs = statistics(state.structure())
    assert counts[0] == X.shape[0]
    np.testing.assert_allclose(means[0], X.mean(0), rtol=1e-13)
    np.testing.assert_allclose(covs[0], np.cov(X.T, bias=True), rtol=1e-11)

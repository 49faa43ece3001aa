"""gmm_core.covariance_types: the covariance facts in numpy, against scikit-learn and scipy."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gmm_core import covariance_types as ct
from gmm_core.parts.covariance import COVARIANCE_TYPES as TORCH_TABLE


def test_the_names_are_scikit_learns_and_the_torch_tables():
    assert ct.COVARIANCE_TYPES == ("full", "tied", "diag", "spherical")
    assert tuple(TORCH_TABLE) == ct.COVARIANCE_TYPES


def test_only_the_documented_names_are_exported():
    assert sorted(ct.__all__) == sorted(
        [
            "COVARIANCE_TYPES",
            "n_parameters",
            "full_covariances",
            "typed_covariances",
            "bic",
            "aic",
            "log_sum_exp",
            "component_log_densities",
        ]
    )


def test_importing_it_loads_neither_torch_nor_scipy_nor_pyarrow():
    code = (
        "import sys, gmm_core.covariance_types as ct; "
        "ct.n_parameters('full', 2, 3); "
        "heavy = [m for m in ('torch', 'scipy', 'pyarrow', 'sklearn') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("kind", ct.COVARIANCE_TYPES)
@pytest.mark.parametrize(("K", "D"), [(1, 1), (3, 2), (4, 5)])
def test_parameter_counts_are_scikit_learns(kind, K, D):
    model = SkGaussianMixture(K, covariance_type=kind)
    model.means_ = np.zeros((K, D))
    assert ct.n_parameters(kind, K, D) == model._n_parameters()


def test_an_unknown_type_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'full', 'tied', 'diag', 'spherical'.*'banana'"):
        ct.n_parameters("banana", 2, 2)
    with pytest.raises(ValueError, match="shape"):
        ct.full_covariances(np.ones(3), "spherical", 2, 2)


@pytest.mark.parametrize("kind", ct.COVARIANCE_TYPES)
def test_bic_and_aic_are_scikit_learns(kind):
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(60, 3)), rng.normal(size=(40, 3)) + 4.0]
    model = SkGaussianMixture(2, covariance_type=kind, random_state=0).fit(X)
    total = model.score(X) * X.shape[0]
    p = ct.n_parameters(kind, 2, 3)
    assert ct.bic(total, X.shape[0], p) == pytest.approx(model.bic(X), rel=1e-12)
    assert ct.aic(total, p) == pytest.approx(model.aic(X), rel=1e-12)


@pytest.mark.parametrize("kind", ct.COVARIANCE_TYPES)
def test_typed_and_full_covariances_are_scikit_learns_shapes_and_values(kind):
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) * 2.0 + 5.0]
    model = SkGaussianMixture(2, covariance_type=kind, random_state=0).fit(X)
    full = ct.full_covariances(model.covariances_, kind, 2, 3)
    assert full.shape == (2, 3, 3)
    # Back to the type: what scikit-learn stores, exactly for every type (tied: equal rows).
    np.testing.assert_allclose(
        ct.typed_covariances(full, kind, model.weights_), model.covariances_, rtol=1e-14
    )
    # Each full matrix is the one scikit-learn's precisions invert.
    precisions = ct.full_covariances(model.precisions_, kind, 2, 3)
    for k in range(2):
        np.testing.assert_allclose(full[k] @ precisions[k], np.eye(3), atol=1e-10)


def test_typed_covariances_reduce_as_documented():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 4, 4))
    full = A @ A.transpose(0, 2, 1) + np.eye(4)
    weights = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(
        ct.typed_covariances(full, "tied", weights), np.average(full, axis=0, weights=weights)
    )
    np.testing.assert_array_equal(
        ct.typed_covariances(full, "diag", weights), [np.diag(m) for m in full]
    )
    np.testing.assert_allclose(
        ct.typed_covariances(full, "spherical", weights), [np.trace(m) / 4 for m in full]
    )
    copy = ct.typed_covariances(full, "full", weights)
    copy[0, 0, 0] = -1.0
    assert full[0, 0, 0] != -1.0


@pytest.mark.parametrize("kind", ["diag", "tied", "spherical"])
def test_the_numpy_expand_and_reduce_equal_the_torch_tables(kind):
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 2, 2))
    full = A @ A.transpose(0, 2, 1) + np.eye(2)
    counts = np.array([5.0, 7.0, 11.0])
    table = TORCH_TABLE[kind]
    typed = ct.typed_covariances(full, kind, counts)
    np.testing.assert_array_equal(typed, table.reduce(full, counts))
    np.testing.assert_array_equal(ct.full_covariances(typed, kind, 3, 2), table.expand(typed, 3, 2))


def test_log_sum_exp_is_scipys_and_quiet_on_empty_rows():
    rng = np.random.default_rng(4)
    values = rng.normal(size=(5, 4)) * 300.0
    values[1] = -np.inf
    values[2, :2] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for axis in (0, 1, -1):
            np.testing.assert_allclose(
                ct.log_sum_exp(values, axis=axis), logsumexp(values, axis=axis), rtol=1e-14
            )
        kept = ct.log_sum_exp(values, axis=1, keepdims=True)
        empty = ct.log_sum_exp(np.zeros((2, 0)), axis=1)
    assert kept.shape == (5, 1) and kept[1, 0] == -np.inf
    np.testing.assert_array_equal(empty, [-np.inf, -np.inf])
    assert ct.log_sum_exp([1000.0, 1000.0]) == pytest.approx(1000.0 + np.log(2.0))


@pytest.mark.parametrize("D", [1, 2, 3, 5])
def test_component_log_densities_are_scipys(D):
    rng = np.random.default_rng(D)
    K = 3
    X = rng.normal(size=(40, D)) * 3.0
    means = rng.normal(size=(K, D))
    A = rng.normal(size=(K, D, D))
    covariances = A @ A.transpose(0, 2, 1) + 0.5 * np.eye(D)
    weights = np.array([0.5, 0.3, 0.2])
    log_prob = ct.component_log_densities(X, weights, means, covariances)
    assert log_prob.shape == (40, K)
    for k in range(K):
        expected = np.log(weights[k]) + multivariate_normal(means[k], covariances[k]).logpdf(X)
        np.testing.assert_allclose(log_prob[:, k], expected, rtol=1e-10)
    # The mixture's log-density is scikit-learn's score_samples.
    model = SkGaussianMixture(K)
    model.weights_, model.means_, model.covariances_ = weights, means, covariances
    model.precisions_cholesky_ = np.linalg.inv(np.linalg.cholesky(covariances)).transpose(0, 2, 1)
    np.testing.assert_allclose(ct.log_sum_exp(log_prob, axis=1), model.score_samples(X), rtol=1e-10)


@pytest.mark.parametrize("D", [2, 3])
def test_a_singular_or_weightless_component_has_minus_infinity_without_warnings(D):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(10, D))
    covariances = np.stack([np.eye(D), np.zeros((D, D)), np.eye(D)])
    covariances[1, 0, 0] = 1.0  # rank one: not positive definite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_prob = ct.component_log_densities(X, [0.5, 0.5, 0.0], np.zeros((3, D)), covariances)
    assert np.all(log_prob[:, 1:] == -np.inf)
    assert np.all(np.isfinite(log_prob[:, 0]))

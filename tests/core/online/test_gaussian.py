"""The one log-density against scipy, factors against numpy, published covariances."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gmm_core.online.gaussian import (
    differences,
    eigenvalue_floor,
    expected_log_gaussian,
    gaussian_factors,
    gaussians,
    log_gaussian,
    log_gaussian_rows,
    log_normalizer,
    published_covariances,
)


def random_covariances(rng, K, D):
    A = rng.normal(size=(K, D, D))
    return A @ A.transpose(0, 2, 1) + 0.5 * np.eye(D)


@pytest.mark.parametrize("D", [1, 2, 3, 6])
def test_log_gaussian_matches_scipy(D):
    rng = np.random.default_rng(D)
    K, n = 4, 30
    means, covs = rng.normal(size=(K, D)), random_covariances(rng, K, D)
    X = rng.normal(size=(n, D)) * 2.0
    inverse, log_det = gaussian_factors(covs)
    got = log_gaussian_rows(X, means, inverse, log_det)  # [n, K]
    for k in range(K):
        expected = multivariate_normal(means[k], covs[k]).logpdf(X).reshape(n)
        np.testing.assert_allclose(got[:, k], expected, rtol=1e-12)


def test_log_gaussian_with_weights_and_distances():
    rng = np.random.default_rng(7)
    means, covs = rng.normal(size=(3, 2)), random_covariances(rng, 3, 2)
    log_weights = np.log([0.2, 0.3, 0.5])
    X = rng.normal(size=(5, 2))
    inverse, log_det = gaussian_factors(covs)
    normalizer = log_normalizer(log_det, 2, log_weights)
    log_density, distance = log_gaussian(
        differences(X, means), inverse, normalizer, return_distance=True
    )
    for k in range(3):
        precision = np.linalg.inv(covs[k])
        d = X - means[k]
        np.testing.assert_allclose(distance[k], np.einsum("ni,ij,nj->n", d, precision, d))
        expected = log_weights[k] + multivariate_normal(means[k], covs[k]).logpdf(X)
        np.testing.assert_allclose(log_density[k], expected, rtol=1e-12)


@pytest.mark.parametrize("D", [2, 4])
def test_gaussian_factors_invert_the_covariance(D):
    covs = random_covariances(np.random.default_rng(3), 3, D)
    inverse, log_det = gaussian_factors(covs)
    np.testing.assert_allclose(inverse.transpose(0, 2, 1) @ inverse, np.linalg.inv(covs))
    np.testing.assert_allclose(log_det, np.linalg.slogdet(covs)[1])
    np.testing.assert_allclose(np.triu(inverse, 1), 0.0, atol=1e-12)  # lower-triangular


def test_expected_log_gaussian_is_the_sum_over_the_points():
    rng = np.random.default_rng(4)
    X = rng.normal(1.0, 2.0, (50, 3))
    g_means, g_covs = rng.normal(size=(2, 3)), random_covariances(rng, 2, 3)
    inverse, log_det = gaussian_factors(g_covs)
    summary = (np.array([50.0]), X.mean(0)[None], np.cov(X.T, bias=True)[None])
    got = expected_log_gaussian(*summary, g_means, inverse, log_det)[0]
    for j in range(2):
        expected = multivariate_normal(g_means[j], g_covs[j]).logpdf(X).sum()
        assert got[j] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_published_covariances_of_each_type(kind):
    rng = np.random.default_rng(5)
    counts, covs = np.array([20.0, 60.0]), random_covariances(rng, 2, 3)
    got = published_covariances(counts, covs.copy(), np.ones(3), 5.0, kind, 0.25)
    if kind == "full":
        expected = covs
    elif kind == "tied":
        expected = np.stack([(20.0 * covs[0] + 60.0 * covs[1]) / 80.0] * 2)
    elif kind == "diag":
        expected = np.stack([np.diag(np.diag(c)) for c in covs])
    else:
        expected = np.stack([np.trace(c) / 3.0 * np.eye(3) for c in covs])
    np.testing.assert_allclose(got, expected + 0.25 * np.eye(3), rtol=1e-14)


def test_a_small_component_is_completed_by_pseudo_points():
    # One point (zero scatter) and prior_count = 4: three pseudo-points of variance 2.
    got = published_covariances(
        np.array([1.0]), np.zeros((1, 2, 2)), np.full(2, 2.0), 4.0, "full", 0.0
    )
    np.testing.assert_allclose(got[0], 3.0 / 4.0 * 2.0 * np.eye(2))


def test_eigenvalue_floor_raises_the_smallest_eigenvalue():
    covs = np.array([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 3.0]]])
    eigenvalue_floor(covs, np.array([1e-3, 1e-3]))
    smallest = np.linalg.eigvalsh(covs)[:, 0]
    assert smallest[0] >= 1e-3 and smallest[1] == pytest.approx(2.0)


def test_gaussians_weights_follow_the_counts():
    g = gaussians(
        np.array([1.0, 3.0]),
        np.zeros((2, 2)),
        np.stack([np.eye(2)] * 2),
        np.ones(2),
        0.0,
        "full",
        0.0,
    )
    np.testing.assert_allclose(g.weights, [0.25, 0.75])
    np.testing.assert_allclose(g.log_normalizers(), np.log([0.25, 0.75]) - np.log(2 * np.pi))

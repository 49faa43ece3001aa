"""Sufficient statistics against np.cov: the exact merge, weighted statistics, Welford."""

import numpy as np
import pytest

from gmm_core.online.statistics import (
    Statistics,
    combined_statistics,
    merge,
    weighted_statistics,
    welford,
)


def reference(X, w):
    """Weighted mean and biased covariance by numpy's own routines."""
    return np.average(X, axis=0, weights=w), np.cov(X.T, aweights=w, bias=True)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_merge_of_two_sets_is_the_statistics_of_their_union(offset):
    rng = np.random.default_rng(0)
    A, B = rng.normal(offset, 1.0, (30, 3)), rng.normal(offset + 2.0, 0.5, (50, 3))
    wa, wb = rng.uniform(0.1, 1.0, 30), rng.uniform(0.1, 1.0, 50)
    a = weighted_statistics(A, wa[:, None], A[:1])
    b = weighted_statistics(B, wb[:, None], B[:1])
    counts, means, covs = merge(*a, *b)
    mean, cov = reference(np.vstack([A, B]), np.concatenate([wa, wb]))
    assert counts[0] == pytest.approx(wa.sum() + wb.sum(), rel=1e-14)
    np.testing.assert_allclose(means[0], mean, rtol=1e-13)
    np.testing.assert_allclose(covs[0], cov, rtol=0, atol=1e-11)


def test_weighted_statistics_one_set_per_column():
    rng = np.random.default_rng(1)
    X, W = rng.normal(size=(40, 2)), rng.uniform(size=(40, 3))
    counts, means, covs = weighted_statistics(X, W, np.zeros((3, 2)))
    for k in range(3):
        mean, cov = reference(X, W[:, k])
        assert counts[k] == pytest.approx(W[:, k].sum())
        np.testing.assert_allclose(means[k], mean, atol=1e-14)
        np.testing.assert_allclose(covs[k], cov, atol=1e-14)


def test_a_component_without_weight_keeps_its_centre():
    X = np.ones((4, 2))
    counts, means, covs = weighted_statistics(X, np.zeros((4, 1)), np.array([[5.0, 6.0]]))
    assert counts[0] == 0.0
    np.testing.assert_array_equal(means[0], [5.0, 6.0])
    np.testing.assert_array_equal(covs[0], np.zeros((2, 2)))


def test_combined_statistics_equal_the_statistics_of_all_points():
    rng = np.random.default_rng(2)
    old, recent = rng.normal(size=(25, 2)), rng.normal(1.0, 1.0, (10, 2))
    frozen = weighted_statistics(old, np.ones((25, 1)), old[:1])
    counts, means, covs = combined_statistics(frozen, recent, np.ones((10, 1)))
    mean, cov = reference(np.vstack([old, recent]), np.ones(35))
    assert counts[0] == 35.0
    np.testing.assert_allclose(means[0], mean, atol=1e-14)
    np.testing.assert_allclose(covs[0], cov, atol=1e-14)


def test_welford_with_a_cap_forgets_the_older_weight():
    old = np.array([[-1.0], [1.0]] * 5)  # ten points, mean 0, variance 1
    stats = weighted_statistics(old, np.ones((10, 1)), np.zeros((1, 1)))
    decay = welford(stats, np.array([1.0]), np.array([11.0]), cap=10.0)
    # The older ten points now weigh 0.9 each, the new one 1: a count of 10.
    np.testing.assert_allclose(decay, [0.9])
    np.testing.assert_allclose(stats.counts, [10.0])
    points, weights = np.vstack([old, [[11.0]]]), np.array([0.9] * 10 + [1.0])
    mean, cov = reference(points, weights)
    np.testing.assert_allclose(stats.means[0], mean, rtol=1e-14)
    np.testing.assert_allclose(stats.covs[0, 0, 0], cov, rtol=1e-14)


def test_one_point_is_the_weighted_welford_step_with_fractional_weights():
    rng = np.random.default_rng(4)
    X, r = rng.normal(size=(40, 3)), rng.uniform(0.1, 1.0, 40)
    counts, means, covs = np.array([r[0]]), X[:1].copy(), np.zeros((1, 3, 3))
    for x, w in zip(X[1:], r[1:], strict=True):
        welford(Statistics(counts, means, covs), np.array([w]), x)
    np.testing.assert_allclose(means[0], np.average(X, axis=0, weights=r), atol=1e-14)
    reference = np.cov(X.T, aweights=r, bias=True)
    np.testing.assert_allclose(covs[0], reference, atol=1e-14)

"""The chunk E-step against an independent one: scipy densities and np.cov with weights."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from gmm_core.online.expectation import BLOCK_ROWS, expectation_statistics, responsibilities
from gmm_core.online.gaussian import gaussians


def mixture(rng, K, D, offset):
    means = rng.normal(offset, 3.0, (K, D))
    A = rng.normal(size=(K, D, D))
    covs = A @ A.transpose(0, 2, 1) + np.eye(D)
    counts = rng.uniform(1.0, 3.0, K) * 100
    return gaussians(counts, means, covs, np.ones(D), 0.0, "full", 0.0)


def scipy_responsibilities(X, g):
    log_prob = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X).reshape(-1)
            for w, m, c in zip(g.weights, g.means, g.covariances, strict=True)
        ]
    )
    norm = logsumexp(log_prob, axis=1)
    return np.exp(log_prob - norm[:, None]), norm.sum()


@pytest.mark.parametrize(("D", "offset"), [(1, 0.0), (2, 0.0), (2, 1e4), (5, 0.0)])
def test_expectation_statistics_match_an_independent_e_step(D, offset):
    rng = np.random.default_rng(D)
    g = mixture(rng, 3, D, offset)
    n = BLOCK_ROWS + 500  # more than one block
    X = g.means[rng.integers(0, 3, n)] + rng.normal(size=(n, D))
    (counts, means, covs), log_likelihood = expectation_statistics(X, g)
    resp, expected_log_likelihood = scipy_responsibilities(X, g)
    assert log_likelihood == pytest.approx(expected_log_likelihood, rel=1e-12)
    np.testing.assert_allclose(counts, resp.sum(0), rtol=1e-10)
    for k in range(3):
        mean = np.average(X, axis=0, weights=resp[:, k])
        cov = np.cov(X.T, aweights=resp[:, k], bias=True).reshape(D, D)
        np.testing.assert_allclose(means[k], mean, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(covs[k], cov, rtol=1e-8, atol=1e-9)


def test_responsibilities_match_scipy():
    rng = np.random.default_rng(9)
    g = mixture(rng, 4, 3, 0.0)
    X = rng.normal(0.0, 3.0, (20, 3))
    np.testing.assert_allclose(responsibilities(X, g), scipy_responsibilities(X, g)[0], atol=1e-12)

"""_em: the one torch log-density and the sufficient statistics, against scipy and numpy."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from gmm_core._em import (
    GaussianParameters,
    expectation_statistics,
    log_responsibilities,
    responsibility_statistics,
    score_samples,
    weighted_log_prob,
)


def random_mixture(rng, n_components, n_features):
    weights = rng.dirichlet(np.ones(n_components))
    means = rng.normal(0.0, 3.0, (n_components, n_features))
    factors = rng.normal(size=(n_components, n_features, n_features))
    covariances = factors @ np.swapaxes(factors, 1, 2) + np.eye(n_features)
    return weights, means, covariances


def parameters(weights, means, covariances):
    # Upper U with U U^T = inv(C): U = inv(L)^T for C = L L^T.
    lower = np.linalg.cholesky(covariances)
    factor = np.swapaxes(np.linalg.inv(lower), 1, 2)
    return GaussianParameters(
        torch.log(torch.as_tensor(weights)), torch.as_tensor(means), torch.as_tensor(factor)
    )


def scipy_log_prob(X, weights, means, covariances):
    return np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ]
    )


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
def test_log_density_matches_scipy(n_features):
    rng = np.random.default_rng(n_features)
    weights, means, covariances = random_mixture(rng, 4, n_features)
    X = rng.normal(0.0, 4.0, (300, n_features))
    expected = scipy_log_prob(X, weights, means, covariances).reshape(300, 4)
    params = parameters(weights, means, covariances)
    data = torch.as_tensor(X)
    np.testing.assert_allclose(weighted_log_prob(data, params), expected, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(
        score_samples(data, params), logsumexp(expected, axis=1), rtol=1e-12, atol=1e-10
    )
    resp = np.exp(expected - logsumexp(expected, axis=1, keepdims=True))
    np.testing.assert_allclose(log_responsibilities(data, params).exp(), resp, atol=1e-12)


@pytest.mark.parametrize("n_features", [2, 3])
def test_the_differentiable_path_gives_the_same_values_and_true_gradients(n_features):
    rng = np.random.default_rng(7)
    weights, means, covariances = random_mixture(rng, 3, n_features)
    X = torch.as_tensor(rng.normal(0.0, 3.0, (50, n_features)))
    fixed = parameters(weights, means, covariances)
    loc = fixed.means.clone().requires_grad_(True)
    moving = GaussianParameters(fixed.log_weights, loc, fixed.precisions_cholesky)
    value = torch.logsumexp(weighted_log_prob(X, moving), dim=1).sum()
    np.testing.assert_allclose(
        float(value.detach()), float(score_samples(X, fixed).sum()), rtol=1e-14
    )
    value.backward()
    # d/dmu_k sum_i log p(x_i) = sum_i r_ik inv(C_k) (x_i - mu_k)
    resp = log_responsibilities(X, fixed).exp().numpy()
    diff = X.numpy()[:, None, :] - means[None]  # [n, K, D]
    expected = np.einsum("nk,kde,nke->kd", resp, np.linalg.inv(covariances), diff)
    np.testing.assert_allclose(loc.grad.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_features", [2, 4])
def test_expectation_statistics_match_numpy(n_features):
    rng = np.random.default_rng(11)
    weights, means, covariances = random_mixture(rng, 3, n_features)
    X = rng.normal(0.0, 3.0, (400, n_features)) + 1e4  # far from the origin
    params = parameters(weights, means + 1e4, covariances)
    statistics = expectation_statistics(torch.as_tensor(X), params)
    log_prob = scipy_log_prob(X, weights, means + 1e4, covariances)
    resp = np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))
    np.testing.assert_allclose(statistics.counts, resp.sum(0), rtol=1e-10)
    assert statistics.log_likelihood == pytest.approx(logsumexp(log_prob, axis=1).sum(), rel=1e-12)
    for k in range(3):
        mean = np.average(X, axis=0, weights=resp[:, k])
        np.testing.assert_allclose(statistics.means[k], mean, rtol=1e-12, atol=1e-8)
        cov = np.cov(X.T, aweights=resp[:, k], bias=True)
        np.testing.assert_allclose(statistics.covariances[k], cov, rtol=1e-7, atol=1e-9)


def test_responsibility_statistics_match_numpy():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    resp = rng.dirichlet(np.ones(4), size=200)
    statistics = responsibility_statistics(torch.as_tensor(X), torch.as_tensor(resp))
    np.testing.assert_allclose(statistics.counts, resp.sum(0), rtol=1e-12)
    for k in range(4):
        np.testing.assert_allclose(
            statistics.means[k], np.average(X, axis=0, weights=resp[:, k]), rtol=1e-10
        )
        np.testing.assert_allclose(
            statistics.covariances[k], np.cov(X.T, aweights=resp[:, k], bias=True), rtol=1e-10
        )

"""GaussianMixtureModule: every covariance type from one table, densities against scipy."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import GaussianMixture, GaussianMixtureModule

TYPES = ("full", "tied", "diag", "spherical")
CENTRES = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(c, [0.8, 0.5], (150, 2)) for c in CENTRES])


def scipy_mixture_log_prob(X, weights, means, covariances):
    return logsumexp(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ],
        axis=0,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", TYPES)
def test_raw_scale_has_scikit_learn_covariance_shape(kind):
    X = np.random.default_rng(0).normal(size=(40, 3))
    reference = SklearnGaussianMixture(2, covariance_type=kind, max_iter=1).fit(X)
    module = GaussianMixtureModule(2, 3, kind)
    assert tuple(module.raw_scale.shape) == reference.covariances_.shape
    assert tuple(module.typed_covariances().shape) == reference.covariances_.shape
    # Zero raw scale is the identity covariance (plus reg_covar) for every type.
    np.testing.assert_allclose(
        module.covariance_matrix.detach(), np.stack([np.eye(3) * (1 + 1e-6)] * 2), rtol=1e-12
    )


@pytest.mark.parametrize("kind", TYPES)
def test_log_prob_is_scipy_density_of_the_given_mixture(kind):
    rng = np.random.default_rng(5)
    n_features = 3
    weights = np.array([0.2, 0.5, 0.3])
    means = rng.normal(0.0, 2.0, (3, n_features))
    factors = rng.normal(size=(3, n_features, n_features))
    full = factors @ np.swapaxes(factors, 1, 2) + np.eye(n_features)
    typed = {
        "full": full,
        "tied": full[0],
        "diag": np.diagonal(full, axis1=1, axis2=2).copy(),
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(1),
    }[kind]
    expanded = {  # numpy's own (K, D, D) matrices for each type
        "full": lambda: full,
        "tied": lambda: np.stack([full[0]] * 3),
        "diag": lambda: np.stack([np.diag(d) for d in typed]),
        "spherical": lambda: np.stack([np.eye(n_features) * v for v in typed]),
    }[kind]()
    scale = [2.0, 2.0, 2.0] if kind == "spherical" else [2.0, 0.5, 3.0]
    module = GaussianMixtureModule.from_parameters(
        weights, means, typed, covariance_type=kind, data_shift=[1.0, -1.0, 0.5], data_scale=scale
    )
    X = rng.normal(0.0, 3.0, (200, n_features))
    with torch.no_grad():
        np.testing.assert_allclose(module.typed_covariances(), typed, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(module.means, means, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            module.log_prob(torch.as_tensor(X)),
            scipy_mixture_log_prob(X, weights, means, expanded),
            rtol=1e-10,
            atol=1e-10,
        )


def test_module_in_a_plain_torch_training_loop(clusters):
    X = torch.as_tensor(clusters)
    module = GaussianMixtureModule(
        3,
        2,
        "full",
        data_shift=X.mean(0),
        data_scale=X.std(0),
        generator=torch.Generator().manual_seed(0),
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=0.05)
    first = float(module(X).detach())
    for _ in range(300):
        optimizer.zero_grad()
        loss = module(X)
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in module.parameters())
        optimizer.step()
    em = GaussianMixture(3, random_state=0).fit(clusters)
    assert first + em.score(clusters) > 1.0, "the random start is far from the optimum"
    assert float(module(X).detach()) + em.score(clusters) < 0.05
    # log_prob is the density of the original data: it integrates the same as torch's.
    with torch.no_grad():
        np.testing.assert_allclose(
            module.log_prob(X), module.distribution().log_prob(X), rtol=0, atol=1e-10
        )
    sample = module.sample(4000, generator=torch.Generator().manual_seed(1))
    assert sample.shape == (4000, 2)
    np.testing.assert_allclose(sample.mean(0), X.mean(0), atol=0.3)


def test_module_rejects_bad_construction():
    with pytest.raises(ValueError):
        GaussianMixtureModule(2, 2, "banded")
    with pytest.raises(ValueError):
        GaussianMixtureModule(2, 2, data_scale=[1.0, 0.0])
    with pytest.raises(ValueError):
        GaussianMixtureModule(2, 2, "spherical", data_scale=[1.0, 2.0])

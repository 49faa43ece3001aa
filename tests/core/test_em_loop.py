"""iter_fit is the one EM loop: fit, warm starts and single steps all go through it."""

import numpy as np
import pytest
import torch

from gmm_core import GaussianMixture


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return np.vstack([rng.normal(c, 1.0, (200, 2)) for c in ([0, 0], [7, 0], [0, 7])])


def start(data):
    return dict(
        weights_init=np.full(3, 1 / 3),
        means_init=data[[0, 1, 2]],
        precisions_init=np.stack([np.eye(2)] * 3),
    )


def test_iter_fit_yields_after_every_pass_and_equals_fit(data):
    fitted = GaussianMixture(3, tol=0, max_iter=12, **start(data)).fit(data)
    stepped = GaussianMixture(3, tol=0, max_iter=12, **start(data))
    bounds = []
    for n, model in enumerate(stepped.iter_fit(data), start=1):
        assert model is stepped and model.n_iter_ == n
        assert np.isclose(model.weights_.sum(), 1.0)
        assert (np.linalg.eigvalsh(model.covariances_) > 0).all()
        bounds.append(model.lower_bound_)
    assert len(bounds) == 12
    assert np.all(np.diff(bounds) >= -1e-12), "EM never lowers the likelihood"
    np.testing.assert_array_equal(stepped.means_, fitted.means_)
    np.testing.assert_array_equal(stepped.covariances_, fitted.covariances_)


def test_one_step_with_next_and_stopping_between_passes(data):
    model = GaussianMixture(3, tol=0, **start(data))
    next(model.iter_fit(data))
    assert model.n_iter_ == 1
    one_step = model.means_.copy()
    reference = GaussianMixture(3, tol=0, max_iter=1, **start(data)).fit(data)
    np.testing.assert_array_equal(one_step, reference.means_)
    # A second generator continues from where the first stopped.
    for _ in model.iter_fit(data, max_iter=4):
        pass
    five = GaussianMixture(3, tol=0, max_iter=5, **start(data)).fit(data)
    np.testing.assert_allclose(model.means_, five.means_, rtol=0, atol=1e-12)


def test_iter_fit_stops_early_when_converged(data):
    model = GaussianMixture(3, tol=1e-3, **start(data))
    passes = sum(1 for _ in model.iter_fit(data, max_iter=500))
    assert model.converged_ and passes == model.n_iter_ < 500


def test_warm_start_continues_from_current_parameters(data):
    warm = GaussianMixture(3, tol=0, max_iter=3, warm_start=True, **start(data)).fit(data)
    warm.fit(data)
    six = GaussianMixture(3, tol=0, max_iter=6, **start(data)).fit(data)
    np.testing.assert_allclose(warm.means_, six.means_, rtol=0, atol=1e-12)
    cold = GaussianMixture(3, tol=0, max_iter=3, **start(data)).fit(data)
    cold.fit(data)
    three = GaussianMixture(3, tol=0, max_iter=3, **start(data)).fit(data)
    np.testing.assert_array_equal(cold.means_, three.means_)


def test_float32_agrees_with_float64(data):
    single = GaussianMixture(3, dtype=torch.float32, tol=0, max_iter=20, **start(data)).fit(data)
    double = GaussianMixture(3, tol=0, max_iter=20, **start(data)).fit(data)
    np.testing.assert_allclose(single.means_, double.means_, atol=1e-4)
    assert single.score(data) == pytest.approx(double.score(data), abs=1e-5)

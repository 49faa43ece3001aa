"""The base class's one loop: fit, n_init, warm starts, max_iter=0, bounds, verbose."""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import sklearn.exceptions
import torch
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import ConvergenceWarning, GaussianMixture, GradientGaussianMixture, NotFittedError


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


def test_warm_start_carries_the_lower_bound_and_converges(data):
    # One pass per call: the convergence test compares with the previous call's bound.
    ours = GaussianMixture(3, warm_start=True, max_iter=1, **start(data))
    reference = SklearnGaussianMixture(3, warm_start=True, max_iter=1, **start(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        for _ in range(100):
            ours.fit(data)
            reference.fit(data)
            assert ours.converged_ == reference.converged_
            assert ours.lower_bound_ == pytest.approx(reference.lower_bound_, abs=1e-9)
            if ours.converged_:
                break
    assert ours.converged_ and ours.n_iter_ == 1


def test_max_iter_zero_returns_the_initialisation_like_scikit_learn(data):
    means = data[[0, 1, 2]]
    ours = GaussianMixture(3, max_iter=0, means_init=means, random_state=0).fit(data)
    reference = SklearnGaussianMixture(3, max_iter=0, means_init=means, random_state=0).fit(data)
    assert ours.n_iter_ == reference.n_iter_ == 0
    assert ours.converged_ == reference.converged_ is False
    assert ours.lower_bound_ == reference.lower_bound_ == -np.inf
    assert ours.lower_bounds_ == [] == list(reference.lower_bounds_)
    np.testing.assert_array_equal(ours.means_, reference.means_)
    # With every parameter given (scikit-learn 1.9 fails there: no covariances_).
    given = GaussianMixture(3, max_iter=0, **start(data)).fit(data)
    np.testing.assert_array_equal(given.means_, start(data)["means_init"])
    np.testing.assert_allclose(given.covariances_, np.linalg.inv(start(data)["precisions_init"]))


@pytest.mark.parametrize("n_init", [1, 3])
def test_lower_bounds_are_those_of_the_best_initialisation(data, n_init):
    options = dict(init_params="random_from_data", random_state=4, n_init=n_init, tol=1e-6)
    ours = GaussianMixture(3, **options).fit(data)
    assert len(ours.lower_bounds_) == ours.n_iter_
    assert ours.lower_bounds_[-1] == ours.lower_bound_
    assert np.all(np.diff(ours.lower_bounds_) >= -1e-12)
    # From the same start, scikit-learn lists the same bounds.
    first = GaussianMixture(3, tol=1e-6, **start(data)).fit(data)
    reference = SklearnGaussianMixture(3, tol=1e-6, **start(data)).fit(data)
    np.testing.assert_allclose(first.lower_bounds_, reference.lower_bounds_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_verbose_prints_as_scikit_learn(data, estimator):
    out = io.StringIO()
    with redirect_stdout(out):
        estimator(3, verbose=2, verbose_interval=2, max_iter=4, tol=0, **start(data)).fit(data)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Initialization 0"
    assert [line.split("\t")[0] for line in lines[1:3]] == ["  Iteration 2", "  Iteration 4"]
    assert lines[3].startswith("Initialization did not converge.")
    quiet = io.StringIO()
    with redirect_stdout(quiet):
        estimator(3, max_iter=4, tol=0, **start(data)).fit(data)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_verbose_iter_fit_from_nothing_prints_its_iterations(data, estimator):
    out = io.StringIO()
    model = estimator(3, verbose=2, verbose_interval=1, tol=0, **start(data))
    with redirect_stdout(out):
        for _ in model.iter_fit(data, max_iter=2):
            pass
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["  Iteration 1", "  Iteration 2"]
    assert all("time lapse" in line and "ll change" in line for line in lines)


def test_float32_data_gives_float32_results_as_scikit_learn(data):
    X = data.astype(np.float32)
    init = {k: np.asarray(v, dtype=np.float32) for k, v in start(data).items()}
    init["weights_init"] = np.full(3, 1 / 3, dtype=np.float32)  # sums to 1 within float32
    ours = GaussianMixture(3, **init).fit(X)
    reference = SklearnGaussianMixture(3, **init).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        assert getattr(ours, name).dtype == getattr(reference, name).dtype == np.float32, name
    assert ours.score_samples(X).dtype == np.float32
    np.testing.assert_allclose(ours.means_, reference.means_, rtol=0, atol=1e-3)
    # dtype= still decides when given.
    assert GaussianMixture(3, dtype=torch.float64, **init).fit(X).means_.dtype == np.float64


def test_errors_and_warnings_are_scikit_learn_classes(data):
    assert NotFittedError is sklearn.exceptions.NotFittedError
    assert ConvergenceWarning is sklearn.exceptions.ConvergenceWarning
    with pytest.raises(sklearn.exceptions.NotFittedError):
        GaussianMixture(2).predict(data)
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="did not converge"):
        GaussianMixture(3, max_iter=1, **start(data)).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=sklearn.exceptions.ConvergenceWarning)
        GaussianMixture(3, max_iter=1, **start(data)).fit(data)


def test_a_refused_fit_leaves_everything_as_it_was(data):
    model = GaussianMixture(3, random_state=0).fit(data)
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    model.reg_covar = 0.0
    with pytest.raises(ValueError, match="reg_covar"):
        model.fit(np.ones((30, 2)))
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)

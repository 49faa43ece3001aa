"""GradientGaussianMixture: Adam on the likelihood, every step a valid model, EM's answers."""

import copy
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from gmm_core import (
    GaussianMixture,
    GaussianMixtureModule,
    GradientGaussianMixture,
    NotFittedError,
)
from gmm_core.parts.covariance import expand

TYPES = ("full", "tied", "diag", "spherical")
CENTRES = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The tensors here are tiny; on a shared, busy machine extra intra-op threads only
    # wait for each other (a 3x2x2 Cholesky took 15 ms instead of 4 us).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(c, [0.8, 0.5], (150, 2)) for c in CENTRES])


@pytest.fixture(scope="module")
def duplicates():
    rng = np.random.default_rng(4)
    return np.vstack([np.full((30, 2), [2.0, 3.0]), rng.normal(0.0, 1.0, (20, 2))])


def start(kind):
    """A deliberately poor common start: shifted means, unit precisions."""
    precisions = {
        "full": np.stack([np.eye(2)] * 3),
        "tied": np.eye(2),
        "diag": np.ones((3, 2)),
        "spherical": np.ones(3),
    }[kind]
    return dict(
        covariance_type=kind,
        weights_init=np.array([0.5, 0.25, 0.25]),
        means_init=CENTRES + [[1.5, 1.0], [-1.5, 1.0], [1.0, -1.5]],
        precisions_init=precisions,
    )


def full_covariances(model):
    K, D = model.means_.shape
    return expand(model.covariance_type, torch.as_tensor(model.covariances_), K, D).numpy()


def assert_valid(model):
    assert np.all(np.isfinite(model.weights_)) and np.all(model.weights_ >= 0)
    assert np.isclose(model.weights_.sum(), 1.0, rtol=0, atol=1e-12)
    assert np.all(np.isfinite(model.means_))
    full = full_covariances(model)
    np.testing.assert_array_equal(full, np.swapaxes(full, -1, -2))
    assert np.all(np.linalg.eigvalsh(full) > 0)
    assert np.isfinite(model.lower_bound_)


# -- learning ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TYPES)
def test_reaches_em_likelihood_from_the_same_start(clusters, kind):
    em = GaussianMixture(3, tol=1e-8, max_iter=500, **start(kind)).fit(clusters)
    initial = GaussianMixture(3, tol=0, max_iter=1, **start(kind)).fit(clusters).lower_bound_
    first = GradientGaussianMixture(3, max_iter=1, **start(kind)).fit(clusters).lower_bound_
    # Same initial parameters: the first epoch's bound is the start's log-likelihood.
    assert first == pytest.approx(initial, abs=1e-9)
    model = GradientGaussianMixture(3, max_iter=200, **start(kind)).fit(clusters)
    assert em.score(clusters) - initial > 0.5, "the start must be far from the optimum"
    gap = em.score(clusters) - model.score(clusters)
    assert abs(gap) < 0.05
    np.testing.assert_allclose(np.sort(model.means_[:, 0]), np.sort(em.means_[:, 0]), atol=0.05)


def test_fitted_attributes_have_scikit_learn_shapes_and_agree_with_the_module(clusters):
    X = torch.as_tensor(clusters)
    for kind, shape in zip(TYPES, [(3, 2, 2), (2, 2), (3, 2), (3,)], strict=True):
        model = GradientGaussianMixture(3, max_iter=5, **start(kind)).fit(clusters)
        assert model.covariances_.shape == model.precisions_cholesky_.shape == shape
        # An independent reference: scipy's density of the published parameters.
        full = full_covariances(model)
        expected = logsumexp(
            [
                np.log(w) + multivariate_normal(m, c).logpdf(clusters)
                for w, m, c in zip(model.weights_, model.means_, full, strict=True)
            ],
            axis=0,
        )
        np.testing.assert_allclose(model.score_samples(clusters), expected, rtol=0, atol=1e-10)
        with torch.no_grad():
            np.testing.assert_allclose(model.module_.log_prob(X), expected, rtol=0, atol=1e-10)
        assert model.predict(clusters).shape == (450,)
        assert model.sample(7)[0].shape == (7, 2)
        assert np.isfinite(model.bic(clusters))


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data"])
def test_loss_never_nan_with_duplicate_points(duplicates, kind, init_params):
    # Components collapse onto the 30 identical points (variance ~ reg_covar) and Adam
    # knocks them about; every epoch must still be a finite, valid model.
    model = GradientGaussianMixture(
        3, init_params=init_params, random_state=0, covariance_type=kind
    )
    for epoch in model.iter_fit(duplicates, max_iter=150):
        assert_valid(epoch)
    assert np.all(np.isfinite(model.score_samples(duplicates)))


@pytest.mark.parametrize("kind", ["diag", "spherical"])
def test_no_nan_without_regularisation(duplicates, kind):
    model = GradientGaussianMixture(3, reg_covar=0.0, random_state=0, covariance_type=kind)
    for epoch in model.iter_fit(duplicates, max_iter=150):
        assert np.isfinite(epoch.lower_bound_)
        assert np.all(np.isfinite(epoch.covariances_)) and np.all(epoch.covariances_ > 0)


def test_same_picture_at_any_coordinate_scale(clusters):
    # Standardisation makes the optimisation the same up to rounding (reg_covar in
    # squared data units, scaled along).
    models = []
    for scale, shift in [(1.0, 0.0), (1e-3, 5.0), (1e5, 1e6)]:
        init = start("full")
        init["means_init"] = init["means_init"] * scale + shift
        init["precisions_init"] = init["precisions_init"] / scale**2
        X = clusters * scale + shift
        model = GradientGaussianMixture(3, reg_covar=1e-6 * scale**2, max_iter=60, **init).fit(X)
        models.append((model.means_ - shift) / scale)
    np.testing.assert_allclose(models[1], models[0], rtol=0, atol=1e-7)
    np.testing.assert_allclose(models[2], models[0], rtol=0, atol=1e-7)


# -- warm start, reset, bad input --------------------------------------------------------


def test_warm_start_continues_with_the_same_optimizer_state(clusters):
    once = GradientGaussianMixture(3, max_iter=12, **start("full")).fit(clusters)
    warm = GradientGaussianMixture(3, max_iter=7, warm_start=True, **start("full")).fit(clusters)
    warm.max_iter = 5
    warm.fit(clusters)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(warm, name), getattr(once, name))
    assert float(warm.optimizer_.state[warm.module_.loc]["step"]) == 12
    # The test can tell: a fresh optimizer after the first 7 epochs lands elsewhere.
    fresh = GradientGaussianMixture(3, max_iter=7, warm_start=True, **start("full")).fit(clusters)
    fresh._optimizer = torch.optim.Adam(fresh.module_.parameters(), lr=fresh.lr)
    fresh.max_iter = 5
    fresh.fit(clusters)
    assert not np.array_equal(fresh.means_, once.means_)
    # Stepping with iter_fit is the same loop.
    stepped = GradientGaussianMixture(3, **start("full"))
    for _ in range(12):
        next(stepped.iter_fit(clusters, max_iter=1))
    np.testing.assert_array_equal(stepped.means_, once.means_)


def test_cold_fit_starts_over(clusters):
    model = GradientGaussianMixture(3, max_iter=10, **start("diag"))
    first = model.fit(clusters).means_.copy()
    np.testing.assert_array_equal(model.fit(clusters).means_, first)


def test_reset_clears_the_model_and_the_optimizer(clusters):
    model = GradientGaussianMixture(3, max_iter=10, warm_start=True, **start("full"))
    model.fit(clusters)
    assert model.reset() is model
    with pytest.raises(NotFittedError):
        model.score_samples(clusters)
    with pytest.raises(NotFittedError):
        model.optimizer_  # noqa: B018
    assert model.to_dict()["parameters"] is None
    # After reset a warm-start fit is a fresh fit: new module, new Adam state.
    model.fit(clusters)
    fresh = GradientGaussianMixture(3, max_iter=10, **start("full")).fit(clusters)
    np.testing.assert_array_equal(model.means_, fresh.means_)
    assert float(model.optimizer_.state[model.module_.loc]["step"]) == 10


@pytest.mark.parametrize(
    "bad",
    [
        np.full((5, 2), np.nan),
        np.ones((5, 3)),
        np.ones(4),
        np.ones((0, 2)),
        [["a", "b"]],
    ],
)
def test_bad_input_raises_and_leaves_the_model_unchanged(clusters, bad):
    model = GradientGaussianMixture(3, max_iter=5, warm_start=True, **start("full")).fit(clusters)
    before = model.to_dict()
    with pytest.raises(ValueError):
        model.fit(bad)
    with pytest.raises(ValueError):
        next(model.iter_fit(bad))
    assert model.to_dict() == before


def test_a_failure_during_training_restores_the_model(clusters, monkeypatch):
    model = GradientGaussianMixture(3, max_iter=5, warm_start=True, **start("full"))
    model.fit(clusters)
    before = model.to_dict()
    original = GaussianMixtureModule.forward
    calls = []

    def fails_at_the_third_epoch(self, X):
        calls.append(1)
        loss = original(self, X)
        return loss * float("nan") if len(calls) == 3 else loss

    monkeypatch.setattr(GaussianMixtureModule, "forward", fails_at_the_third_epoch)
    with pytest.raises(ValueError, match="non-finite"):
        model.fit(clusters)
    assert model.to_dict() == before
    calls.clear()
    with pytest.raises(ValueError, match="non-finite"):
        for _ in model.iter_fit(clusters):
            pass
    assert model.to_dict() == before


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0},
        {"lr": float("nan")},
        {"lr": "fast"},
        {"covariance_type": "banded"},
        {"n_components": 0},
        {"max_iter": -1},
        {"reg_covar": -1.0},
    ],
)
def test_bad_hyper_parameters_raise(clusters, options):
    model = GradientGaussianMixture(**{"n_components": 3, **options})
    with pytest.raises(ValueError):
        model.fit(clusters)
    assert not hasattr(model, "means_")


def test_too_few_points_and_singular_start_raise_cleanly():
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GradientGaussianMixture(3).fit(np.zeros((2, 2)))
    model = GradientGaussianMixture(2, reg_covar=0.0, random_state=0)
    with pytest.raises(ValueError, match="reg_covar"):
        model.fit(np.zeros((10, 2)))  # EM's initialiser refuses the same
    assert not hasattr(model, "means_")


def test_n_init_keeps_the_best_start(clusters):
    one = GradientGaussianMixture(3, init_params="random", max_iter=20, random_state=5)
    three = GradientGaussianMixture(3, init_params="random", max_iter=20, random_state=5, n_init=3)
    assert three.fit(clusters).lower_bound_ >= one.fit(clusters).lower_bound_


# -- saving ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_to_dict_round_trip_is_exact_and_trains_on_identically(clusters, kind, dtype):
    model = GradientGaussianMixture(3, max_iter=15, warm_start=True, dtype=dtype, **start(kind))
    model.fit(clusters)
    text = json.dumps(model.to_dict(), allow_nan=False)
    loaded = GradientGaussianMixture.from_dict(json.loads(text))
    np.testing.assert_array_equal(loaded.score_samples(clusters), model.score_samples(clusters))
    assert loaded.to_dict() == model.to_dict()
    model.fit(clusters)
    loaded.fit(clusters)
    for name in ("weights_", "means_", "covariances_", "lower_bound_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))


def test_unfitted_model_round_trips():
    model = GradientGaussianMixture(2, lr=0.1, means_init=[[0.0, 0.0], [1.0, 1.0]], tol=0)
    loaded = GradientGaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    assert loaded.lr == 0.1 and loaded.tol == 0
    np.testing.assert_array_equal(loaded.means_init, model.means_init)
    assert not hasattr(loaded, "means_")


def _corruptions():
    def set_(path, value):
        def corrupt(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return corrupt

    def delete(path):
        def corrupt(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]

        return corrupt

    return {
        "type": set_(["type"], "GaussianMixture"),
        "version": set_(["format_version"], 99),
        "no parameters": delete(["parameters"]),
        "means shape": set_(["parameters", "means"], [[0.0, 0.0]]),
        "nan covariance": set_(["parameters", "covariances", 0, 0, 0], float("nan")),
        "inf weight": set_(["parameters", "weights", 0], float("inf")),
        "weights sum": set_(["parameters", "weights"], [0.5, 0.5, 0.5]),
        "string in array": set_(["parameters", "means", 0, 0], "x"),
        "not spd": set_(["parameters", "covariances", 0], [[1.0, 2.0], [2.0, 1.0]]),
        "loc shape": set_(["module", "loc"], [[0.0, 0.0]]),
        "scale not positive": set_(["module", "data_scale"], [1.0, 0.0]),
        "unknown module entry": set_(["module", "extra"], [1.0]),
        "no module": delete(["module"]),
        "moment shape": set_(["optimizer", "loc", "exp_avg"], [0.0]),
        "negative moment": set_(["optimizer", "logits", "exp_avg_sq"], [-1.0, 0.0, 0.0]),
        "step": set_(["optimizer", "loc", "step"], 0),
        "step type": set_(["optimizer", "loc", "step"], "ten"),
        "dtype": set_(["hyper_parameters", "dtype"], "float16"),
        "lr": set_(["hyper_parameters", "lr"], -1.0),
        "unknown hyper": set_(["hyper_parameters", "momentum"], 0.9),
        "warm_start": set_(["hyper_parameters", "warm_start"], "yes"),
        "n_components": set_(["hyper_parameters", "n_components"], 2),
        "converged": set_(["state", "converged"], "no"),
        "n_iter": set_(["state", "n_iter"], 1.5),
        "not a dict": lambda d: d.clear(),
    }


@pytest.mark.parametrize("corruption", list(_corruptions()))
def test_from_dict_rejects_bad_dictionaries(clusters, corruption):
    saved = GradientGaussianMixture(3, max_iter=3, **start("full")).fit(clusters).to_dict()
    GradientGaussianMixture.from_dict(copy.deepcopy(saved))  # the intact one loads
    _corruptions()[corruption](saved)
    with pytest.raises(ValueError):
        GradientGaussianMixture.from_dict(saved)


def test_from_dict_rejects_non_dictionaries():
    for value in (None, [], "model", 3):
        with pytest.raises(ValueError):
            GradientGaussianMixture.from_dict(value)


# -- validity after every epoch --------------------------------------------------------------


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(TYPES),
    n_components=st.integers(1, 3),
    n_features=st.integers(1, 3),
    n_duplicates=st.integers(0, 10),
    log_scale=st.floats(-3, 5),
    lr=st.floats(0.005, 0.5),
)
def test_every_epoch_is_a_valid_model(
    seed, kind, n_components, n_features, n_duplicates, log_scale, lr
):
    rng = np.random.default_rng(seed)
    scale = 10.0**log_scale
    X = rng.normal(0.0, 1.0, (12 + n_duplicates, n_features))
    X[12:] = X[0]
    X = X * scale + 3 * scale
    model = GradientGaussianMixture(
        n_components, covariance_type=kind, lr=lr, random_state=seed, reg_covar=1e-6 * scale**2
    )
    for epoch in model.iter_fit(X, max_iter=15):
        assert_valid(epoch)
        assert np.all(np.isfinite(epoch.score_samples(X)))


def test_warm_start_after_changing_the_structure_starts_over(clusters):
    model = GradientGaussianMixture(3, max_iter=5, warm_start=True, **start("full"))
    model.fit(clusters)
    model.n_components, model.weights_init, model.means_init = 2, None, None
    model.precisions_init, model.random_state = None, 0
    model.fit(clusters)
    assert model.means_.shape == (2, 2) and model.module_.loc.shape == (2, 2)
    assert float(model.optimizer_.state[model.module_.loc]["step"]) == 5

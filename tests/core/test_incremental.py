"""Incremental EM: exactness, learning from nothing, forgetting, validity, refused input."""

import copy
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_core import GaussianMixture
from gmm_core.online import IncrementalEM

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 8.0]])


def clusters(seed, order, scale=1.0, n=300, centers=CENTERS, sd=1.0):
    """Well-separated Gaussian clusters, one after another or shuffled, times ``scale``."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, sd, (n, centers.shape[1])) for c in centers])
    if order == "random":
        X = X[rng.permutation(X.shape[0])]
    return X * scale


def feed(model, X, chunk=1):
    for start in range(0, X.shape[0], chunk):
        model.partial_fit(X[start] if chunk == 1 else X[start : start + chunk])
    return model


def full_covariances(model):
    """``covariances_`` of any type as (K, D, D) matrices."""
    K, D = model.means_.shape
    cov = np.asarray(model.covariances_)
    if model.covariance_type == "full":
        return cov
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (K, D, D))
    if model.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return cov[:, None, None] * np.eye(D)


def assert_valid(model, n_seen):
    weights, means = model.weights_, model.means_
    covs = full_covariances(model)
    assert np.isfinite(weights).all() and np.isfinite(means).all() and np.isfinite(covs).all()
    assert (weights > 0).all() and abs(weights.sum() - 1.0) < 1e-12
    assert 1 <= weights.shape[0] <= model.n_components
    np.testing.assert_array_equal(covs, covs.transpose(0, 2, 1))
    np.linalg.cholesky(covs)  # raises unless positive definite
    assert np.isfinite(model.precisions_cholesky_).all()
    assert model.n_samples_seen_ == n_seen


def engine(**options):
    options = {"covariance_type": "full", "reg_covar": 1e-6, "memory": None, **options}
    options.setdefault("random_state", np.random.default_rng(0))
    return options


# -- exactness -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 600])
def test_one_component_continues_exactly_from_fit(chunk):
    rng = np.random.default_rng(3)
    X = rng.normal([2.0, -1.0], [1.0, 3.0], (1850, 2)) @ np.array([[1.0, 0.5], [0.0, 1.0]])
    model = GaussianMixture(1, reg_covar=0.0).fit(X[:50])
    feed(model, X[50:], chunk)
    np.testing.assert_allclose(model.means_[0], X.mean(0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.covariances_[0], np.cov(X.T, bias=True), rtol=0, atol=1e-9)
    assert model.n_samples_seen_ == X.shape[0]


@pytest.mark.parametrize("chunk", [1, 25, 700])
def test_two_far_components_each_have_their_own_cluster_covariance(chunk):
    rng = np.random.default_rng(5)
    a = rng.normal([0.0, 0.0], [1.0, 0.5], (900, 2))
    b = rng.normal([100.0, 50.0], [0.7, 2.0], (900, 2))
    X = np.concatenate([a, b])
    order = rng.permutation(X.shape[0])
    X, from_a = X[order], order < 900
    model = GaussianMixture(2, reg_covar=0.0, random_state=0).fit(X[:100])
    feed(model, X[100:], chunk)
    for cluster in (X[from_a], X[~from_a]):
        k = np.argmin(((model.means_ - cluster.mean(0)) ** 2).sum(1))
        np.testing.assert_allclose(model.means_[k], cluster.mean(0), rtol=0, atol=1e-6)
        expected = np.cov(cluster.T, bias=True)
        np.testing.assert_allclose(model.covariances_[k], expected, rtol=0, atol=1e-6)


def test_two_far_components_from_nothing_one_point_at_a_time():
    rng = np.random.default_rng(6)
    a = rng.normal([0.0, 0.0], 1.0, (400, 2))
    b = rng.normal([60.0, 0.0], 1.0, (400, 2))
    X = np.concatenate([a, b])
    order = rng.permutation(800)
    X, from_a = X[order], order < 400
    model = feed(GaussianMixture(2, reg_covar=0.0), X)
    for cluster in (X[from_a], X[~from_a]):
        k = np.argmin(((model.means_ - cluster.mean(0)) ** 2).sum(1))
        expected = np.cov(cluster.T, bias=True)
        np.testing.assert_allclose(model.covariances_[k], expected, rtol=0, atol=1e-6)


# -- learning from nothing -------------------------------------------------------------------


def test_first_point_gives_a_valid_one_component_model():
    model = GaussianMixture(3).partial_fit(np.array([2.0, 3.0]))
    assert_valid(model, 1)
    assert model.weights_.shape == (1,)
    np.testing.assert_array_equal(model.means_, [[2.0, 3.0]])


def test_fewer_points_than_components_is_normal():
    model = feed(GaussianMixture(5), np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]))
    assert_valid(model, 3)
    assert model.means_.shape[0] <= 3


@pytest.mark.parametrize("order", ["random", "cluster"])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e5])
def test_three_clusters_one_point_at_a_time_from_nothing(order, scale):
    """The heart of the program: every true mean found in one pass, then the best optimum."""
    worst = 0.0
    for seed in range(3):
        X = clusters(seed, order, scale)
        reg = 1e-6 * scale**2
        model = GaussianMixture(3, reg_covar=reg, warm_start=True, random_state=seed)
        feed(model, X)
        assert model.means_.shape == (3, 2)
        distance = np.sqrt(((CENTERS[:, None] * scale - model.means_[None]) ** 2).sum(-1))
        worst = max(worst, distance.min(1).max() / scale)  # in standard deviations
        model.fit(X)
        best = GaussianMixture(3, n_init=10, reg_covar=reg, random_state=seed).fit(X).score(X)
        assert model.score(X) > best - 0.01
    assert worst < 0.5, f"a true mean is {worst:.2f} sd from every component (goal 0.25)"


@pytest.mark.parametrize("order", ["random", "cluster"])
def test_four_clusters_in_five_dimensions(order):
    rng = np.random.default_rng(11)
    centers = rng.normal(0.0, 4.0, (4, 5))
    X = clusters(2, order, centers=centers, n=250)
    model = feed(GaussianMixture(4, random_state=0), X)
    distance = np.sqrt(((centers[:, None] - model.means_[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.5


def test_same_clicks_at_any_scale_give_the_same_picture():
    X = clusters(7, "cluster", n=60)
    reference = feed(GaussianMixture(3, reg_covar=1e-6), X)
    for scale in (1e-3, 1e6):
        model = feed(GaussianMixture(3, reg_covar=1e-6 * scale**2), X * scale)
        np.testing.assert_allclose(model.means_ / scale, reference.means_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(
            model.covariances_ / scale**2, reference.covariances_, rtol=1e-6, atol=1e-9
        )
        np.testing.assert_allclose(model.weights_, reference.weights_, rtol=1e-9)


def test_a_large_first_chunk_is_fitted_in_one_go():
    X = clusters(8, "random", n=2000)
    model = GaussianMixture(3, random_state=0).partial_fit(X)
    assert_valid(model, X.shape[0])
    distance = np.sqrt(((CENTERS[:, None] - model.means_[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.1


def test_partial_fit_after_warm_started_fit_continues_from_the_refined_model():
    X = clusters(9, "random", n=200)
    model = feed(GaussianMixture(3, warm_start=True, random_state=0), X[:300])
    model.fit(X[:300])
    refined = model.means_.copy()
    model.partial_fit(X[300])
    assert model.n_samples_seen_ == 301
    assert np.abs(model.means_ - refined).max() < 0.1


def test_a_cluster_clicked_after_a_warm_started_fit_gets_a_component():
    """The program's loop: clicks, refinement over all points, then clicks somewhere new."""
    rng = np.random.default_rng(17)
    old = np.concatenate([rng.normal(c, 1.0, (100, 2)) for c in CENTERS[:2]])
    model = feed(GaussianMixture(3, warm_start=True, random_state=0), old[rng.permutation(200)])
    model.fit(old)  # three components on two clusters
    feed(model, rng.normal(CENTERS[2], 1.0, (15, 2)))
    distance = np.sqrt(((CENTERS[:, None] - model.means_[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.5


def test_a_small_chunk_from_nothing_creates_components_point_by_point():
    X = clusters(18, "random", n=10)
    model = GaussianMixture(3, random_state=0).partial_fit(X)
    assert_valid(model, 30)
    assert model.means_.shape[0] == 3


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_every_covariance_type_learns_incrementally(covariance_type):
    X = clusters(10, "random", n=150)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    for n, x in enumerate(X, start=1):
        model.partial_fit(x)
        if n % 50 == 0:
            assert_valid(model, n)
    distance = np.sqrt(((CENTERS[:, None] - model.means_[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.5
    feed(model, X[:200], chunk=100)
    assert_valid(model, X.shape[0] + 200)


# -- forgetting ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 50])
def test_memory_follows_a_jump_and_no_memory_averages(chunk):
    rng = np.random.default_rng(12)
    X = np.concatenate([rng.normal(0.0, 1.0, (3000, 2)), rng.normal(10.0, 1.0, (3000, 2))])
    forgetting = feed(GaussianMixture(1, memory=200), X, chunk)
    remembering = feed(GaussianMixture(1), X, chunk)
    np.testing.assert_allclose(forgetting.means_[0], [10.0, 10.0], atol=0.3)
    np.testing.assert_allclose(remembering.means_[0], [5.0, 5.0], atol=0.2)
    assert forgetting.n_samples_seen_ == remembering.n_samples_seen_ == 6000


def test_memory_caps_the_running_counts():
    X = np.random.default_rng(13).normal(size=(500, 2))
    model = feed(GaussianMixture(1, memory=100), X)
    assert model._incremental.counts.max() <= 100.0 + 1e-9


# -- validity --------------------------------------------------------------------------------

coordinates = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(st.tuples(coordinates, coordinates), min_size=1, max_size=60),
    chunk=st.integers(1, 8),
    n_components=st.integers(1, 4),
    covariance_type=st.sampled_from(["full", "tied", "diag", "spherical"]),
    reg_covar=st.sampled_from([0.0, 1e-6]),
    memory=st.sampled_from([None, 5]),
    repeat=st.integers(1, 3),
)
def test_model_is_valid_after_every_call(
    points, chunk, n_components, covariance_type, reg_covar, memory, repeat
):
    X = np.repeat(np.array(points, dtype=float), repeat, axis=0)
    model = GaussianMixture(
        n_components, covariance_type=covariance_type, reg_covar=reg_covar, memory=memory
    )
    seen = 0
    for start in range(0, X.shape[0], chunk):
        part = X[start : start + chunk]
        try:
            model.partial_fit(part)
        except ValueError as error:
            # Without a regulariser, points such as (0, 1e-270) alone would need a
            # variance beyond float64 (issue 8): refused, and the model kept.
            assert reg_covar == 0.0 and "can represent" in str(error)
        else:
            seen += part.shape[0]
        if seen:
            assert_valid(model, seen)


def test_valid_with_identical_points_and_reg_covar_zero():
    model = GaussianMixture(3, reg_covar=0.0)
    for n in range(1, 41):
        model.partial_fit(np.array([1e6, -3.0]))
        assert_valid(model, n)
    model.partial_fit(np.array([1e6 + 1.0, -3.0]))
    assert_valid(model, 41)


# -- refused input ---------------------------------------------------------------------------


def snapshot(model):
    state = {k: copy.deepcopy(v) for k, v in model.__dict__.items() if k != "_incremental"}
    engine_state = getattr(model, "_incremental", None)
    return state, None if engine_state is None else engine_state.to_dict()


def assert_same(model, saved):
    state, engine_state = snapshot(model)
    assert state.keys() == saved[0].keys()
    for key, value in saved[0].items():
        if dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                expected = np.asarray(getattr(value, field.name))
                np.testing.assert_array_equal(np.asarray(getattr(state[key], field.name)), expected)
        else:
            np.testing.assert_array_equal(state[key], value)
    assert engine_state == saved[1]


@pytest.mark.parametrize(
    "bad",
    [
        np.array([np.nan, 1.0]),
        np.array([[1.0, np.inf]]),
        np.array([1.0, 2.0, 3.0]),
        np.ones((2, 3)),
        np.ones((2, 2, 2)),
        np.ones((0, 2)),
        "not numbers",
    ],
)
@pytest.mark.parametrize("fitted_by", ["fit", "partial_fit"])
def test_bad_input_is_refused_and_leaves_the_model_unchanged(bad, fitted_by):
    X = clusters(14, "random", n=40)
    model = GaussianMixture(3, random_state=0)
    if fitted_by == "fit":
        model.fit(X)
    else:
        feed(model, X)
    saved = snapshot(model)
    with pytest.raises(ValueError):
        model.partial_fit(bad)
    assert_same(model, saved)


def test_bad_first_input_leaves_an_unfitted_model():
    model = GaussianMixture(2)
    with pytest.raises(ValueError):
        model.partial_fit(np.array([np.nan, 0.0]))
    assert not hasattr(model, "means_")
    model.partial_fit(np.array([0.0, 0.0]))
    assert model.n_samples_seen_ == 1


# -- the engine's own state ------------------------------------------------------------------


@pytest.mark.parametrize("memory", [None, 30])
def test_engine_round_trip_is_exact_and_continues_identically(memory):
    X = clusters(15, "random", n=150)
    state = IncrementalEM(3, 2, **engine(memory=memory))
    for x in X[:300]:
        state.update(x)
    state.update(X[300:340])
    loaded = IncrementalEM.from_dict(json.loads(json.dumps(state.to_dict())))
    for name in ("weights", "means", "covariances", "counts", "precisions_cholesky"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(state, name))
    assert loaded.n_seen == state.n_seen
    for x in X[340:]:
        state.update(x)
        loaded.update(x)
    state.update(X)
    loaded.update(X)
    assert loaded.to_dict() == state.to_dict()


def test_saved_model_continues_partial_fit_identically():
    X = clusters(3, "random", n=100)
    model = feed(GaussianMixture(3, memory=80, random_state=0), X[:250])
    loaded = GaussianMixture.from_dict(json.loads(json.dumps(model.to_dict())))
    for x in X[250:]:
        model.partial_fit(x)
        loaded.partial_fit(x)
    model.partial_fit(X)
    loaded.partial_fit(X)
    np.testing.assert_array_equal(loaded.means_, model.means_)
    np.testing.assert_array_equal(loaded.covariances_, model.covariances_)
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))


def test_engine_from_statistics_publishes_them():
    counts, means = np.array([30.0, 70.0]), np.array([[0.0, 0.0], [5.0, 5.0]])
    covs = np.stack([np.eye(2), 2 * np.eye(2)])
    state = IncrementalEM.from_statistics(
        counts, means, covs, 100, n_components=2, **engine(reg_covar=0.5)
    )
    np.testing.assert_allclose(state.weights, [0.3, 0.7])
    np.testing.assert_array_equal(state.means, means)
    np.testing.assert_allclose(state.covariances, covs + 0.5 * np.eye(2))
    assert state.n_seen == 100


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("frozen_means"),
        lambda d: d.update(means=[[0.0, 0.0, 0.0]] * len(d["means"])),
        lambda d: d.update(counts=[float("nan")] * len(d["counts"])),
        lambda d: d.update(overall_mean=[float("inf"), 0.0]),
        lambda d: d.update(format="something else"),
        lambda d: d.update(covariance_type="round"),
        lambda d: d.update(buffer_weights=[[1.0]]),
        lambda d: d.update(n_seen=-1),
        lambda d: d.update(random_state={"bit_generator": "os.system"}),
    ],
)
def test_engine_rejects_a_bad_dictionary(change):
    state = IncrementalEM(3, 2, **engine())
    for x in clusters(16, "random", n=10):
        state.update(x)
    d = state.to_dict()
    change(d)
    with pytest.raises(ValueError):
        IncrementalEM.from_dict(d)

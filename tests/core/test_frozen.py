"""``frozen_components``: components held at their given start while EM learns the rest.

Frozen components keep their means, covariances and precision factors bit for bit through
``fit``, ``iter_fit``, ``partial_fit`` and a distributed fit; the other components and the
weights are those of a reference EM with the frozen parameters held fixed, written below
from the formulas in numpy; the lower bound never decreases; bad values are refused
without changing a fitted model; ``to_dict`` keeps them.
"""

from __future__ import annotations

import json
import os
import pickle
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import clone

from gmm_core import GaussianMixture

from .test_distributed import run_processes

TYPES = ("full", "tied", "diag", "spherical")
FROZEN = [0, 2]


def _data(seed: int = 0, n: int = 600) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 5.0], [0.0, 7.0], [7.0, -1.0]])
    X = np.concatenate(
        [rng.normal(size=(n // 4, 2)) @ [[1.0, 0.3], [0.0, 0.7]] + c for c in centres]
    )
    return rng.permutation(X)


def _start(covariance_type: str, by: str = "precisions") -> dict:
    """A start away from the data's clusters, with the covariances given ``by`` either way."""
    K, D = 4, 2
    means = np.array([[1.0, 1.0], [4.0, 4.0], [-1.0, 6.0], [6.0, 1.0]])
    full = np.array([[[1.5, 0.4], [0.4, 0.8]], [[1.0, 0.0], [0.0, 1.0]]] * 2)  # [K, D, D]
    typed = {
        "full": full,
        "tied": full[0],
        "diag": np.einsum("kii->ki", full),
        "spherical": np.einsum("kii->k", full) / D,
    }[covariance_type]
    if by == "precisions":
        given = {"precisions_init": _inverse(covariance_type, typed)}
    else:
        given = {"covariances_init": typed}
    return dict(
        n_components=K,
        covariance_type=covariance_type,
        weights_init=np.array([0.1, 0.2, 0.3, 0.4]),
        means_init=means,
        **given,
    )


def _inverse(covariance_type: str, typed: np.ndarray) -> np.ndarray:
    return np.linalg.inv(typed) if covariance_type in ("full", "tied") else 1.0 / typed


def _full(covariance_type: str, typed: np.ndarray, K: int, D: int) -> np.ndarray:
    """Any type's covariances as (K, D, D) matrices."""
    if covariance_type == "full":
        return np.array(typed, dtype=np.float64)
    if covariance_type == "tied":
        return np.repeat(np.asarray(typed, dtype=np.float64)[None], K, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(row) for row in typed])
    return np.stack([value * np.eye(D) for value in typed])


def _frozen_parts(model, covariance_type: str, frozen=FROZEN) -> dict:
    """The arrays that must not move: frozen means, and their covariances and factors."""
    rows = slice(None) if covariance_type == "tied" else frozen  # tied: the shared one
    return {
        "means": model.means_[frozen].copy(),
        "covariances": model.covariances_[rows].copy(),
        "precisions_cholesky": model.precisions_cholesky_[rows].copy(),
    }


def _assert_bitwise(first: dict, second: dict) -> None:
    for name, value in first.items():
        assert value.dtype == second[name].dtype, name
        assert np.array_equal(value, second[name]), name


def _given_start(covariance_type: str, X, by: str = "precisions") -> GaussianMixture:
    """The start published with ``max_iter=0``: what the frozen components must keep."""
    return GaussianMixture(max_iter=0, **_start(covariance_type, by)).fit(X)


# -- the reference: EM with the frozen parameters held, from the formulas -----------------


def _log_gaussian(X, mean, covariance):
    """``log N(x | mean, covariance)`` for every row of ``X``."""
    D = X.shape[1]
    diff = X - mean
    _, log_det = np.linalg.slogdet(covariance)
    mahalanobis = np.einsum("ni,ni->n", diff, np.linalg.solve(covariance, diff.T).T)
    return -0.5 * (D * np.log(2 * np.pi) + log_det + mahalanobis)


def reference_em(X, covariance_type, weights, means, covariances, frozen, reg_covar, n_iter):
    """EM with the means and covariances of ``frozen`` held (all covariances for 'tied').

    E-step: responsibilities ``r_nk = w_k N(x_n | mu_k, S_k) / sum_j w_j N(x_n | mu_j, S_j)``.
    M-step: ``w_k = sum_n r_nk / N`` for every component; for the free components only,
    ``mu_k = sum_n r_nk x_n / N_k`` and ``S_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k``
    reduced to the type (its diagonal for 'diag', the mean of its diagonal for
    'spherical') plus ``reg_covar`` on the diagonal. With 'tied' and any frozen component
    the shared covariance is held too. Returns the parameters and the mean
    log-likelihood before each M-step.
    """
    N, D = X.shape
    K = len(weights)
    weights, means, covariances = weights.copy(), means.copy(), covariances.copy()
    free = [k for k in range(K) if k not in frozen]
    bounds = []
    for _ in range(n_iter):
        log_joint = np.stack(
            [np.log(weights[k]) + _log_gaussian(X, means[k], covariances[k]) for k in range(K)],
            axis=1,
        )  # [N, K]
        top = log_joint.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))  # [N]
        resp = np.exp(log_joint - log_norm[:, None])  # [N, K]
        bounds.append(log_norm.mean())
        counts = resp.sum(axis=0)  # [K]
        weights = counts / N
        for k in free:
            means[k] = resp[:, k] @ X / counts[k]
            if covariance_type == "tied":
                continue
            diff = X - means[k]
            scatter = (resp[:, k, None] * diff).T @ diff / counts[k]
            if covariance_type == "diag":
                scatter = np.diag(np.diag(scatter))
            elif covariance_type == "spherical":
                scatter = np.trace(scatter) / D * np.eye(D)
            covariances[k] = scatter + reg_covar * np.eye(D)
    return weights, means, covariances, np.array(bounds)


@pytest.mark.parametrize("by", ["precisions", "covariances"])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_fit_holds_frozen_components_and_matches_the_reference_em(covariance_type, by):
    X = _data()
    n_iter = 15
    model = GaussianMixture(max_iter=n_iter, tol=0, frozen_components=FROZEN, reg_covar=1e-3)
    model.set_params(**_start(covariance_type, by)).fit(X)
    start = _given_start(covariance_type, X, by)
    _assert_bitwise(_frozen_parts(model, covariance_type), _frozen_parts(start, covariance_type))
    K, D = 4, 2
    weights, means, covariances, bounds = reference_em(
        X,
        covariance_type,
        start.weights_.copy(),
        start.means_.copy(),
        _full(covariance_type, start.covariances_, K, D),
        FROZEN,
        1e-3,
        n_iter,
    )
    free = [1, 3]
    np.testing.assert_allclose(model.weights_, weights, rtol=1e-9)
    np.testing.assert_allclose(model.means_[free], means[free], rtol=1e-9)
    fitted = _full(covariance_type, model.covariances_, K, D)
    np.testing.assert_allclose(fitted[free], covariances[free], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.lower_bounds_, bounds, rtol=1e-9)
    assert model.n_iter_ == n_iter


@pytest.mark.parametrize("covariance_type", TYPES)
def test_lower_bounds_never_decrease(covariance_type):
    X = _data(seed=1)
    model = GaussianMixture(max_iter=60, tol=0, frozen_components=[1], **_start(covariance_type))
    bounds = np.array(model.fit(X).lower_bounds_)
    assert len(bounds) == 60
    assert (np.diff(bounds) >= -1e-12 * np.abs(bounds[1:])).all(), np.diff(bounds).min()
    # Holding components back costs likelihood: free EM from the same start does better.
    free = GaussianMixture(max_iter=60, tol=0, **_start(covariance_type)).fit(X)
    assert free.lower_bound_ > model.lower_bound_


def test_every_component_frozen_learns_the_weights_only():
    X = _data()
    model = GaussianMixture(frozen_components=[3, 1, 0, 2], tol=1e-10, **_start("full"))
    model.fit(X)
    start = _given_start("full", X)
    _assert_bitwise(
        _frozen_parts(model, "full", [0, 1, 2, 3]), _frozen_parts(start, "full", [0, 1, 2, 3])
    )
    weights, *_ = reference_em(
        X,
        "full",
        start.weights_,
        start.means_,
        start.covariances_,
        [0, 1, 2, 3],
        1e-6,
        model.n_iter_,
    )
    np.testing.assert_allclose(model.weights_, weights, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_iter_fit_holds_frozen_components_at_every_pass(covariance_type):
    X = _data()
    start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
    model = GaussianMixture(frozen_components=FROZEN, tol=0, **_start(covariance_type))
    passes = 0
    for fitted in model.iter_fit(X, max_iter=8):
        _assert_bitwise(_frozen_parts(fitted, covariance_type), start)
        passes += 1
    assert passes == 8
    # Continuing (a fitted model) holds them too, and so does a warm start.
    for fitted in model.iter_fit(X[:300], max_iter=3):
        _assert_bitwise(_frozen_parts(fitted, covariance_type), start)
    model.set_params(warm_start=True, max_iter=5).fit(X[300:])
    _assert_bitwise(_frozen_parts(model, covariance_type), start)


def test_float32_frozen_components_stay_bit_for_bit():
    X = _data().astype(np.float32)
    start = _frozen_parts(_given_start("full", X), "full")
    assert start["means"].dtype == np.float32
    model = GaussianMixture(frozen_components=FROZEN, max_iter=10, tol=0, **_start("full")).fit(X)
    _assert_bitwise(_frozen_parts(model, "full"), start)
    model.partial_fit(X[:40])
    model.partial_fit(X[40])
    _assert_bitwise(_frozen_parts(model, "full"), start)


# -- partial_fit: the incremental engine holds them -------------------------------------


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_after_fit_holds_frozen_components_while_weights_adapt(covariance_type):
    X = _data()
    start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
    model = GaussianMixture(frozen_components=FROZEN, **_start(covariance_type)).fit(X)
    # Points only near frozen component 0's cluster: its weight must grow.
    near = np.random.default_rng(5).normal(size=(400, 2)) * 0.3
    before = model.weights_.copy()
    for chunk in np.array_split(near[:300], 5):
        model.partial_fit(chunk)
        _assert_bitwise(_frozen_parts(model, covariance_type), start)
    for x in near[300:]:
        model.partial_fit(x)
        _assert_bitwise(_frozen_parts(model, covariance_type), start)
    assert model.weights_[0] > before[0] + 0.1
    assert model.n_samples_seen_ == X.shape[0] + 400


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_from_nothing_starts_at_the_given_start(covariance_type):
    X = _data()
    start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
    by_points = GaussianMixture(frozen_components=FROZEN, **_start(covariance_type))
    for x in X[:200]:
        by_points.partial_fit(x)
        _assert_bitwise(_frozen_parts(by_points, covariance_type), start)
    by_chunks = GaussianMixture(frozen_components=FROZEN, **_start(covariance_type))
    for chunk in np.array_split(X, 6):
        by_chunks.partial_fit(chunk)
        _assert_bitwise(_frozen_parts(by_chunks, covariance_type), start)
    assert by_chunks.means_.shape == (4, 2)
    assert by_chunks.n_samples_seen_ == X.shape[0]
    # The free components learned: they left their start.
    assert not np.allclose(by_chunks.means_[1], _start(covariance_type)["means_init"][1])


def test_partial_fit_matches_one_e_step_and_merge_for_a_chunk():
    """One chunk after a fit: weights from the merged counts, free means from merged sums."""
    X = _data()
    model = GaussianMixture(frozen_components=FROZEN, tol=1e-8, **_start("full")).fit(X)
    fitted = {name: getattr(model, name).copy() for name in ("weights_", "means_", "covariances_")}
    # EM's last M-step made the fitted parameters from its statistics: the counts are
    # N * weights and the free components' weighted means their means. The chunk's E-step
    # uses the fitted parameters; its statistics merge into those.
    chunk = np.random.default_rng(2).normal(size=(100, 2)) + [3.0, 3.0]
    model.partial_fit(chunk)
    log_joint = np.stack(
        [
            np.log(fitted["weights_"][k])
            + _log_gaussian(chunk, fitted["means_"][k], fitted["covariances_"][k])
            for k in range(4)
        ],
        axis=1,
    )
    resp = np.exp(log_joint - log_joint.max(1, keepdims=True))
    resp /= resp.sum(1, keepdims=True)
    # At convergence the old counts are N * weights; new counts add the chunk's.
    counts = X.shape[0] * fitted["weights_"] + resp.sum(0)
    np.testing.assert_allclose(model.weights_, counts / counts.sum(), rtol=1e-9)
    for k in (1, 3):
        merged = (
            X.shape[0] * fitted["weights_"][k] * fitted["means_"][k] + resp[:, k] @ chunk
        ) / counts[k]
        np.testing.assert_allclose(model.means_[k], merged, rtol=1e-9)


# -- today's behaviour, refusals, saving, scikit-learn -------------------------------------


@pytest.mark.parametrize("nothing", [None, (), []])
def test_no_frozen_components_is_todays_behaviour_bit_for_bit(nothing):
    X = _data()
    options = dict(n_components=3, random_state=0, max_iter=20)
    today = GaussianMixture(**options).fit(X)
    model = GaussianMixture(frozen_components=nothing, **options).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "lower_bounds_"):
        assert np.array_equal(getattr(model, name), getattr(today, name)), name
    for learner in (today, model):
        learner.partial_fit(X[:30])
        learner.partial_fit(X[30])
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.array_equal(getattr(model, name), getattr(today, name)), name
    fresh, fresh_none = GaussianMixture(3), GaussianMixture(3, frozen_components=nothing)
    for x in X[:50]:
        fresh.partial_fit(x)
        fresh_none.partial_fit(x)
    assert np.array_equal(fresh.means_, fresh_none.means_)


BAD = [
    ([4], "out of range"),
    ([-1], "out of range"),
    ([0, 0], "repeated"),
    ([0.5], "integer"),
    ([1.0], "integer"),
    (["a"], "integer"),
    ([True], "integer"),
    (1, "sequence"),
    ("0", "sequence"),
    ([[0, 1]], "sequence"),
]


def _fitted_state(model) -> dict:
    names = (
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
        "n_iter_",
        "n_samples_seen_",
    )
    return {name: np.copy(getattr(model, name)) for name in names}


@pytest.mark.parametrize(("value", "message"), BAD)
def test_bad_values_are_refused_without_changing_a_fitted_model(value, message):
    X = _data()
    model = GaussianMixture(frozen_components=[1], **_start("full")).fit(X)
    model.partial_fit(X[:10])
    before = _fitted_state(model)
    model.set_params(frozen_components=value)
    for call in (
        lambda: model.fit(X),
        lambda: next(model.iter_fit(X)),
        lambda: model.partial_fit(X[:5]),
        lambda: model.partial_fit(X[0]),
    ):
        with pytest.raises(ValueError, match=message):
            call()
        _assert_bitwise_state(model, before)
    assert model.frozen_components is value  # stored as given


def _assert_bitwise_state(model, before: dict) -> None:
    for name, value in before.items():
        assert np.array_equal(getattr(model, name), value), name


@pytest.mark.parametrize(
    "missing", [("means_init",), ("precisions_init",), ("means_init", "precisions_init")]
)
def test_frozen_components_need_a_given_start(missing):
    X = _data()
    model = GaussianMixture(4, random_state=0).fit(X)
    before = _fitted_state(model)
    start = _start("full")
    for name in missing:
        start[name] = None
    model.set_params(frozen_components=[0], **start)
    for call in (lambda: model.fit(X), lambda: model.partial_fit(X[:5])):
        with pytest.raises(ValueError, match="give means_init and one of precisions_init"):
            call()
        _assert_bitwise_state(model, before)
    # Nothing frozen needs no start.
    model.set_params(frozen_components=[]).fit(X)


def test_bad_shapes_of_the_start_are_refused():
    X = _data()
    start = _start("diag")
    start["means_init"] = start["means_init"][:3]
    with pytest.raises(ValueError, match="means_init must have shape"):
        GaussianMixture(frozen_components=[0], **start).fit(X)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_to_dict_round_trip_keeps_frozen_components(covariance_type):
    X = _data()
    start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
    frozen = np.array([2, 0])  # a numpy array of indices, in any order
    model = GaussianMixture(frozen_components=frozen, **_start(covariance_type)).fit(X)
    unfitted = GaussianMixture(frozen_components=(3,), **_start(covariance_type))
    assert GaussianMixture.from_dict(
        json.loads(json.dumps(unfitted.to_dict()))
    ).frozen_components == [3]
    saved = json.loads(json.dumps(model.to_dict()))
    assert saved["hyper_parameters"]["frozen_components"] == [2, 0]
    loaded = GaussianMixture.from_dict(saved)
    assert loaded.frozen_components == [2, 0]
    _assert_bitwise(_frozen_parts(loaded, covariance_type), start)
    for learner in (model, loaded):
        learner.partial_fit(X[:20])
        learner.partial_fit(X[20])
        _assert_bitwise(_frozen_parts(learner, covariance_type), start)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.array_equal(getattr(loaded, name), getattr(model, name)), name
    # After partial_fit the incremental engine is saved; loading holds the components again.
    again = GaussianMixture.from_dict(json.loads(json.dumps(loaded.to_dict())))
    for learner in (loaded, again):
        learner.partial_fit(X[30:60])
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.array_equal(getattr(again, name), getattr(loaded, name)), name
    saved["hyper_parameters"]["frozen_components"] = [0, 9]
    with pytest.raises(ValueError, match="out of range"):
        GaussianMixture.from_dict(saved)


def test_get_params_set_params_and_clone():
    frozen = [3, 1]
    model = GaussianMixture(frozen_components=frozen, **_start("full"))
    assert model.get_params()["frozen_components"] is frozen
    copy = clone(model)
    assert copy.frozen_components == frozen
    assert copy.set_params(frozen_components=None).frozen_components is None
    assert "frozen_components" in repr(GaussianMixture(frozen_components=[0]))


# -- a distributed fit on two processes ---------------------------------------------------


def _distributed_session(rank: int, world: int, port: int, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=30),
    )
    results = {}
    try:
        X = _data()
        shard = X[:250] if rank == 0 else X[250:]
        for covariance_type in ("full", "tied"):
            model = GaussianMixture(
                frozen_components=FROZEN,
                tol=0,
                max_iter=12,
                distributed=True,
                **_start(covariance_type),
            )
            model.fit(shard)
            results[covariance_type] = {
                name: getattr(model, name)
                for name in (
                    "weights_",
                    "means_",
                    "covariances_",
                    "precisions_cholesky_",
                    "lower_bounds_",
                )
            }
    finally:
        with open(os.path.join(out, f"{rank}.pkl"), "wb") as handle:
            pickle.dump(results, handle)
        dist.destroy_process_group()


def test_distributed_fit_holds_frozen_components(tmp_path):
    results = run_processes(_distributed_session, 2, tmp_path)
    X = _data()
    for covariance_type in ("full", "tied"):
        first, second = results[0][covariance_type], results[1][covariance_type]
        for name, value in first.items():
            assert np.array_equal(value, second[name]), name
        start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
        _assert_bitwise(_frozen_parts(SimpleNamespace(**first), covariance_type), start)
        single = GaussianMixture(
            frozen_components=FROZEN, tol=0, max_iter=12, **_start(covariance_type)
        )
        single.fit(X)
        np.testing.assert_allclose(first["weights_"], single.weights_, rtol=1e-9)
        np.testing.assert_allclose(first["means_"], single.means_, rtol=1e-9)
        np.testing.assert_allclose(first["covariances_"], single.covariances_, rtol=1e-9)
        assert (np.diff(first["lower_bounds_"]) >= -1e-12).all()


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_sample_weight_with_frozen_components(covariance_type):
    X = _data()
    start = _frozen_parts(_given_start(covariance_type, X), covariance_type)
    counts = np.random.default_rng(3).integers(0, 4, size=len(X))
    options = dict(frozen_components=FROZEN, tol=0, max_iter=10, **_start(covariance_type))
    weighted = GaussianMixture(**options).fit(X, sample_weight=counts)
    repeated = GaussianMixture(**options).fit(np.repeat(X, counts, axis=0))
    _assert_bitwise(_frozen_parts(weighted, covariance_type), start)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(repeated, name), rtol=1e-9)
    # Fractional weights in partial_fit: one weighted chunk, the frozen ones still held.
    weighted.partial_fit(X[:50], sample_weight=np.linspace(0.1, 2.0, 50))
    _assert_bitwise(_frozen_parts(weighted, covariance_type), start)

"""Structural moves: splits find two clusters, moves keep the statistics of all points."""

import numpy as np

from gmm_core.online.state import OnlineState, Settings
from gmm_core.online.structure import apply_merge, apply_split, fit_split, statistics, sweep


def one_component_on_two_clusters(seed, n=60):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-5.0, 1.0, (n, 2)), rng.normal(5.0, 1.0, (n, 2))])
    X = X[rng.permutation(X.shape[0])]
    state = OnlineState.empty(Settings(2, 2, "full", 1e-6, None))
    state.scale.observe_chunk(X)
    state.create(X[0])
    for x in X[1:]:
        state.push(x, np.ones(1))
    return X, state


def test_split_separates_two_clusters_of_one_component():
    X, state = one_component_on_two_clusters(0)
    split = fit_split(state.structure(), 0, state.publisher())
    assert split.gain > 50.0  # nats
    np.testing.assert_allclose(sorted(split.counts), [60.0, 60.0], atol=1.0)


def test_split_then_merge_keep_the_statistics_of_all_points():
    X, state = one_component_on_two_clusters(1)
    structure = state.structure()
    split = fit_split(structure, 0, state.publisher())
    two = apply_split(structure, split)
    assert two.n_components == 2
    for candidate in (two, apply_merge(two, 0, 1)):
        counts, means, covs = statistics(candidate)
        total = counts.sum()
        mean = counts @ means / total
        scatter = sum(
            c * (cov + np.outer(m - mean, m - mean))
            for c, m, cov in zip(counts, means, covs, strict=True)
        )
        assert total == X.shape[0]
        np.testing.assert_allclose(mean, X.mean(0), atol=1e-12)
        np.testing.assert_allclose(scatter / total, np.cov(X.T, bias=True), atol=1e-10)


def test_sweep_splits_while_components_are_missing():
    X, state = one_component_on_two_clusters(2)
    result, changed = sweep(state.structure(), state.publisher(), 2, 20.0, 4.0)
    assert changed and result.n_components == 2
    counts, means, _ = statistics(result)
    np.testing.assert_allclose(np.sort(means[:, 0]), [-5.0, 5.0], atol=0.5)

"""Chunk updates: the memory cap, k-means++ seeds, and components added by a large chunk."""

import numpy as np

from gmm_core.online import IncrementalEM
from gmm_core.online.chunks import cap_chunk, kmeans_seeds
from gmm_core.online.state import OnlineState, Settings

CENTERS = np.array([[0.0, 0.0], [20.0, 0.0], [10.0, 16.0]])


def blobs(seed, n=400):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 1.0, (n, 2)) for c in CENTERS])
    return X[rng.permutation(X.shape[0])]


def nearest_center(points):
    return np.argmin(((points[:, None] - CENTERS[None]) ** 2).sum(-1), axis=1)


def test_cap_chunk_keeps_every_count_under_memory():
    scaled, decay = cap_chunk(np.array([5.0, 0.0, 2.0]), np.array([10.0, 3.0, 1.0]), 8)
    np.testing.assert_array_equal(scaled, [8.0, 3.0, 1.0])
    np.testing.assert_array_equal(decay, [0.0, 1.0, 1.0])


def test_seeds_from_nothing_are_distinct_rows_one_per_cluster():
    X = blobs(0)
    state = OnlineState.empty(Settings(3, 2, "full", 1e-6, None))
    state.scale.observe_chunk(X)
    for seed in range(5):
        seeds = kmeans_seeds(state, X, 3, None, np.random.default_rng(seed))
        assert all((X == s).all(1).any() for s in seeds)
        assert sorted(nearest_center(seeds)) == [0, 1, 2]


def test_a_large_chunk_adds_the_missing_components_away_from_the_existing_one():
    X = blobs(1)
    engine = IncrementalEM.from_statistics(
        [400.0],
        CENTERS[:1],
        [np.eye(2)],
        400,
        n_components=3,
        covariance_type="full",
        reg_covar=1e-6,
        memory=None,
        random_state=np.random.default_rng(0),
    )
    assert engine.n_active == 1
    engine.update(X)
    assert engine.n_active == 3
    distance = np.sqrt(((CENTERS[:, None] - engine.means[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.2
    assert engine.n_seen == 400 + X.shape[0]

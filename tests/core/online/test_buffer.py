"""The buffer of recent points: the oldest block leaves a full buffer, forgetting, loading."""

import numpy as np
import pytest

from gmm_core.online.buffer import CAPACITY, EVICT_BLOCK, RecentPoints


def test_a_full_buffer_hands_back_its_oldest_block():
    buffer = RecentPoints(1, 2, forgetting=False)
    for i in range(CAPACITY):
        assert buffer.push(np.array([float(i)]), np.array([1.0, 0.0])) is None
    leaving = buffer.push(np.array([-1.0]), np.array([0.0, 1.0]))
    points, weights = leaving
    np.testing.assert_array_equal(points[:, 0], np.arange(EVICT_BLOCK))
    np.testing.assert_array_equal(weights, np.tile([1.0, 0.0], (EVICT_BLOCK, 1)))
    assert buffer.size == CAPACITY - EVICT_BLOCK + 1
    assert buffer.points[0, 0] == EVICT_BLOCK and buffer.points[-1, 0] == -1.0


def test_weights_of_components_not_yet_existing_are_zero():
    buffer = RecentPoints(2, 3, forgetting=True)
    buffer.push(np.zeros(2), np.array([1.0]))
    buffer.push(np.ones(2), np.array([0.25, 0.75]))
    np.testing.assert_array_equal(buffer.weights(3), [[1.0, 0.0, 0.0], [0.25, 0.75, 0.0]])
    buffer.forget(np.array([0.5, 1.0]))
    np.testing.assert_array_equal(buffer.weights(2), [[0.5, 0.0], [0.125, 0.75]])
    np.testing.assert_array_equal(buffer.decay(2), [[0.5, 1.0], [0.5, 1.0]])


def test_loading_more_points_than_it_holds_is_refused():
    with pytest.raises(ValueError, match="at most"):
        RecentPoints.from_arrays(np.zeros((CAPACITY + 1, 2)), np.zeros((CAPACITY + 1, 1)), None, 2)

"""Drawing helpers: ellipse outlines, the cursor readout, palette slots, grouping."""

from __future__ import annotations

import numpy as np

from app.state.geometry import (
    data_extent,
    ellipse_outlines,
    group_by_label,
    match_slots,
)


def test_ellipse_rings_lie_at_their_mahalanobis_radius():
    means = np.array([[1.0, -2.0], [1e6, 3e6]])
    covs = np.array([[[4.0, 1.5], [1.5, 1.0]], [[1e6, -2e5], [-2e5, 3e5]]])
    x, y, connect, ring_component = ellipse_outlines(means, covs, levels=(1, 2, 3))
    n_vertices = x.shape[0] // 6
    assert ring_component.tolist() == [0, 0, 0, 1, 1, 1]
    assert connect.reshape(6, n_vertices)[:, -1].tolist() == [False] * 6
    assert connect.reshape(6, n_vertices)[:, :-1].all()
    for ring in range(6):
        k, level = ring // 3, ring % 3 + 1
        part = slice(ring * n_vertices, (ring + 1) * n_vertices)
        d = np.stack([x[part], y[part]], axis=1) - means[k]
        maha = np.einsum("ni,ij,nj->n", d, np.linalg.inv(covs[k]), d)
        np.testing.assert_allclose(np.sqrt(maha), level, rtol=1e-9)
        np.testing.assert_allclose(d[0], d[-1])  # closed


def test_match_slots_follows_components_through_a_permutation():
    previous = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    slots = np.array([4, 0, 2])
    moved = previous[[2, 0, 1]] + 0.1
    np.testing.assert_array_equal(match_slots(previous, slots, moved, 10.0), [2, 4, 0])
    grown = np.vstack([moved, [[20.0, 20.0]]])
    new = match_slots(previous, slots, grown, 10.0)
    assert new[:3].tolist() == [2, 4, 0] and new[3] == 1  # lowest free slot
    assert match_slots(np.zeros((0, 2)), np.zeros(0, int), moved, 1.0).tolist() == [0, 1, 2]


def test_group_by_label():
    pts = np.arange(12.0).reshape(6, 2)
    grouped, starts = group_by_label(pts, np.array([2, 0, 2, 1, 0, 0]), 3)
    assert starts.tolist() == [0, 3, 4, 6]
    np.testing.assert_array_equal(grouped[:3], pts[[1, 4, 5]])
    np.testing.assert_array_equal(grouped[4:], pts[[0, 2]])


def test_data_extent_is_the_larger_side_of_the_bounding_box():
    X = np.array([[0.0, 5.0], [3.0, -1.0], [1.0, 0.0]])
    assert data_extent(X) == 6.0
    assert data_extent(X[:1]) == 0.0

"""Pure helpers: ellipse geometry, log-densities, colour matching, CSV, session, scale."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from app.geometry import (
    ellipse_outlines,
    group_by_label,
    labels_and_log_likelihood,
    log_prob_components,
    match_slots,
)
from app.io import read_points, write_points


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


def test_log_prob_matches_scipy():
    rng = np.random.default_rng(31)
    X = rng.normal(size=(50, 2)) * 3
    w = np.array([0.2, 0.8])
    mu = np.array([[0.0, 1.0], [2.0, -1.0]])
    cov = np.array([[[2.0, 0.3], [0.3, 0.5]], [[1.0, -0.4], [-0.4, 2.0]]])
    expected = np.stack(
        [np.log(w[k]) + multivariate_normal(mu[k], cov[k]).logpdf(X) for k in range(2)], 1
    )
    np.testing.assert_allclose(log_prob_components(X, w, mu, cov), expected, rtol=1e-10)
    labels, total = labels_and_log_likelihood(X, w, mu, cov, chunk=7)
    np.testing.assert_array_equal(labels, expected.argmax(1))
    assert total == pytest.approx(np.logaddexp(expected[:, 0], expected[:, 1]).sum())


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


def test_read_points_accepts_headers_comments_and_separators(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("# comment\neruptions,waiting\n3.6,79\n1.8;54\n\n 2.5\t70 \n")
    np.testing.assert_array_equal(read_points(path), [[3.6, 79], [1.8, 54], [2.5, 70]])
    path.write_text("1,2,3\n4,5,6\n")
    np.testing.assert_array_equal(read_points(path), [[1, 2], [4, 5]])


@pytest.mark.parametrize(
    "text",
    ["x,y\n1,2\nthree,four\n", "1\n2\n", "", "x,y\n", "1,2\ninf,3\n", "a,b\nc,d\n"],
)
def test_read_points_refuses_bad_files(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.csv"):
        read_points(path)


def test_read_points_refuses_binary(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError):
        read_points(path)


def test_write_then_read_round_trips(tmp_path):
    pts = np.random.default_rng(32).normal(size=(20, 2)) * 1e6
    write_points(tmp_path / "out.csv", pts)
    np.testing.assert_array_equal(read_points(tmp_path / "out.csv"), pts)


def test_session_edits_and_generations(qtbot):
    from app.session import Session

    session = Session()
    changes = []
    session.changed.connect(changes.append)
    session.add_points([1.0, 2.0])
    session.add_points([[3.0, 4.0], [5.0, 6.0]])
    assert len(session) == 3 and session.generation == 0 and changes == [1, 2]
    with pytest.raises(ValueError):
        session.points[0, 0] = 9.0  # handed-out arrays are read-only
    session.undo_stack.undo()
    assert len(session) == 1 and session.generation == 1 and changes[-1] == 0
    session.clear()
    assert len(session) == 0
    session.undo_stack.undo()
    assert len(session) == 1
    with pytest.raises(ValueError):
        session.add_points([[np.nan, 1.0]])
    with pytest.raises(ValueError):
        session.add_points([[1.0, 2.0, 3.0]])
    assert len(session) == 1


def test_regulariser_follows_the_scale(qtbot):
    from app.controller import TrainingController

    controller = TrainingController()
    pts = np.array([[0.0, 0.0], [2.0, 1.0]])
    assert controller.reg_covar_for(pts * 1e-3) == pytest.approx(1e-6 * (2e-3) ** 2)
    assert controller.reg_covar_for(pts * 1e6) == pytest.approx(1e-6 * (2e6) ** 2)
    controller.view_extent = 2e-3
    assert controller.reg_covar_for(pts[:1]) == pytest.approx(1e-6 * (2e-3) ** 2)


def test_kmeans_start_finds_clusters_and_can_be_cancelled():
    import threading

    from app.geometry import Cancelled, kmeans_start

    rng = np.random.default_rng(33)
    centres = np.array([[-5.0, 0.0], [5.0, 0.0], [0.0, 8.0]]) * 1e-4
    X = np.concatenate([rng.normal(c, 1e-5, size=(200, 2)) for c in centres])
    weights, means, covs = kmeans_start(X, 3, np.random.default_rng(0), 1e-16)
    assert weights.sum() == pytest.approx(1.0) and np.all(weights > 0)
    found = np.min(np.linalg.norm(means[:, None] - centres[None], axis=-1), axis=0)
    assert np.all(found < 1e-5)
    assert np.all(np.linalg.eigvalsh(covs) > 0)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        kmeans_start(X, 3, np.random.default_rng(0), 1e-16, cancelled=stop)


@pytest.mark.parametrize(
    "text",
    [
        '"x","y"\n"1.5","2"\n"3","-4e3"\n',
        "x;y;label\n1.5;2;a\n3;-4e3;b\n",
        "# two columns\n1.5\t2\n3\t-4e3  # trailing comment\n",
        "1.5 2\n3 -4e3\n",
    ],
)
def test_read_points_simple_formats(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text(text)
    np.testing.assert_array_equal(read_points(path), [[1.5, 2.0], [3.0, -4e3]])

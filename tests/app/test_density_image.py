"""Many points as a density image: the binning against numpy, and the canvas switching
between dots and the image at ``DENSITY_ABOVE`` (lowered here, so that the window's tests
stay quick)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.canvas import point_histogram as point_density
from app.canvas.point_histogram import (
    MIN_ALPHA,
    DensityImageRequest,
    bin_points,
    density_image,
    premultiplied_argb32,
)
from app.state import messages
from app.state.palette import UNASSIGNED_COLOR, component_color

from .conftest import WAIT_MS, set_view, three_clusters, wait_for_model

PALETTE = np.array([(0, 114, 178), (230, 159, 0), (0, 158, 115)], dtype=np.float64)


def reference_histogram(points, x_range, y_range, shape, weights=None):
    counts, _, _ = np.histogram2d(
        points[:, 0], points[:, 1], bins=shape, range=(x_range, y_range), weights=weights
    )
    return counts


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_bin_points_counts_and_colours_as_numpy_histograms(monkeypatch, chunk):
    monkeypatch.setattr(point_density, "CHUNK_POINTS", chunk)
    rng = np.random.default_rng(0)
    points = rng.normal(0.0, 2.0, size=(500, 2))  # some fall outside the range
    labels = rng.integers(3, size=400).astype(np.int16)  # the last 100 are pending
    x_range, y_range, shape = (-3.0, 4.0), (-2.5, 3.5), (14, 9)
    counts, labelled, color_sums = bin_points(points, labels, PALETTE, x_range, y_range, shape)
    np.testing.assert_array_equal(counts, reference_histogram(points, x_range, y_range, shape))
    learnt = points[:400]
    np.testing.assert_array_equal(labelled, reference_histogram(learnt, x_range, y_range, shape))
    for channel in range(3):
        expected = reference_histogram(
            learnt, x_range, y_range, shape, weights=PALETTE[labels, channel]
        )
        np.testing.assert_allclose(color_sums[..., channel], expected, rtol=1e-12)
    assert 0 < counts.sum() < 500


def test_bin_points_stops_when_cancelled():
    points = np.zeros((10, 2))
    cancelled = threading.Event()
    cancelled.set()
    request = DensityImageRequest(
        0, points, np.zeros(0, np.int16), PALETTE, (-1, 1), (-1, 1), (4, 4)
    )
    assert density_image(request, cancelled) is None


def test_pixels_take_their_points_colour_and_an_opacity_growing_with_their_count():
    # pixel (0, 0): one point of component 0; (1, 0): 9 of component 1; (0, 1): one of
    # component 1 and one pending; (1, 1): empty
    points = np.array([[0.5, 0.5]] + [[1.5, 0.5]] * 9 + [[0.5, 1.5], [0.5, 1.5]])
    labels = np.array([0] + [1] * 9 + [1], dtype=np.int16)
    request = DensityImageRequest(1, points, labels, PALETTE, (0.0, 2.0), (0.0, 2.0), (2, 2))
    image = density_image(request)
    assert image.rect == (0.0, 0.0, 2.0, 2.0)
    np.testing.assert_array_equal(image.counts, [[1, 2], [9, 0]])
    rgba = image.rgba.astype(int)
    assert tuple(rgba[0, 0, :3]) == tuple(PALETTE[0].astype(int))
    assert tuple(rgba[1, 0, :3]) == tuple(PALETTE[1].astype(int))
    half = np.rint((PALETTE[1] + np.array(UNASSIGNED_COLOR)) / 2).astype(int)
    assert tuple(rgba[0, 1, :3]) == tuple(half)
    assert rgba[0, 0, 3] == MIN_ALPHA and rgba[1, 0, 3] == 255
    assert MIN_ALPHA < rgba[0, 1, 3] < 255 and rgba[1, 1, 3] == 0


def test_soft_colours_mix_components_by_responsibility_at_each_pixel():
    points = np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]) + 0.01
    weights = np.array([0.5, 0.5])
    means = np.array([[-1.0, 0.0], [1.0, 0.0]])
    covariances = np.array([np.eye(2) * 0.25] * 2)
    request = DensityImageRequest(
        0, points, np.array([0, 0, 1], np.int16), PALETTE[:2], (-1.5, 1.5), (-0.5, 0.5),
        (3, 1), soft=(weights, means, covariances),
    )  # fmt: skip
    rgba = density_image(request).rgba.astype(int)
    # Midway the two components are equally responsible (at the pixel's centre, x = 0).
    assert tuple(rgba[1, 0, :3]) == tuple(np.rint(PALETTE[:2].mean(axis=0)).astype(int))
    assert tuple(rgba[0, 0, :3]) == tuple(PALETTE[0].astype(int))
    assert tuple(rgba[2, 0, :3]) == tuple(PALETTE[1].astype(int))


def test_premultiplied_argb32_is_what_qt_makes_of_the_rgba_image():
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)  # [x, y] with y upwards
    rows = np.ascontiguousarray(rgba.transpose(1, 0, 2)[::-1])  # top row first
    straight = QImage(rows.data, 5, 3, 20, QImage.Format.Format_RGBA8888)
    expected = straight.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    ours = premultiplied_argb32(rgba)
    theirs = np.frombuffer(expected.constBits(), dtype=np.uint8).reshape(3, 5, 4)
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1  # Qt rounds its own way


# -- the canvas ----------------------------------------------------------------------------


@pytest.fixture
def low_threshold(monkeypatch):
    """Draw more than 300 points as an image."""
    monkeypatch.setattr(messages, "DENSITY_ABOVE", 300)
    return 300


def wait_for_image(qtbot, window):
    layer = window.canvas.point_density
    qtbot.waitUntil(lambda: not layer.busy and layer.image is not None, timeout=WAIT_MS)
    return layer.image


def test_many_points_are_one_image_of_their_components(qtbot, window, updates, low_threshold):
    points, centres = three_clusters(np.random.default_rng(2), n_per=200, sd=0.8)
    window.components_spin.setValue(3)
    window.add_points(points)
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 600 and s.final)
    image = wait_for_image(qtbot, window)
    canvas = window.canvas
    assert canvas.points_item.n_points == 0 and canvas.pending_item.n_points == 0
    assert canvas.point_density.image_item.isVisible()
    # The visible range and a quarter of it on each side, at the screen's resolution.
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    margin = point_density_margin()
    x, y, width, height = image.rect
    assert x == pytest.approx(x0 - margin * (x1 - x0)) and width == pytest.approx(
        (1 + 2 * margin) * (x1 - x0)
    )
    assert y == pytest.approx(y0 - margin * (y1 - y0))
    shape = image.counts.shape
    ratio = canvas.devicePixelRatioF()
    assert shape[0] == round(canvas.view_box.width() * ratio * (1 + 2 * margin))
    expected = reference_histogram(points, (x, x + width), (y, y + height), shape)
    np.testing.assert_array_equal(image.counts, expected)
    # Each cluster's pixels take the colour of the component fitted to it.
    for centre in centres:
        k = int(np.argmin(np.linalg.norm(snapshot.means - centre, axis=1)))
        ix = int((centre[0] - x) / width * shape[0])
        iy = int((centre[1] - y) / height * shape[1])
        near = image.rgba[ix - 3 : ix + 4, iy - 3 : iy + 4].reshape(-1, 4)
        colours = {tuple(int(c) for c in px[:3]) for px in near if px[3]}
        assert colours == {component_color(snapshot.colors[k])}


def point_density_margin() -> float:
    from app.canvas.point_histogram_layer import MARGIN

    return MARGIN


def test_the_image_is_binned_again_for_a_new_view(qtbot, window, updates, low_threshold):
    points, _ = three_clusters(np.random.default_rng(3), n_per=150)
    window.add_points(points)
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 450 and s.final)
    first = wait_for_image(qtbot, window)
    with qtbot.waitSignal(window.canvas.point_density.image_ready, timeout=WAIT_MS) as signal:
        set_view(window, (-2, 2), (-2, 2))  # zoom in: finer pixels
    image = signal.args[0]
    assert image.rect[2] < first.rect[2] / 4
    np.testing.assert_array_equal(
        image.counts,
        reference_histogram(
            points,
            (image.rect[0], image.rect[0] + image.rect[2]),
            (image.rect[1], image.rect[1] + image.rect[3]),
            image.counts.shape,
        ),
    )


def test_below_the_threshold_points_are_dots_again(qtbot, window, updates, low_threshold):
    points, _ = three_clusters(np.random.default_rng(4), n_per=150)
    window.add_points(points[:200])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 200 and s.final)
    canvas = window.canvas
    assert canvas.points_item.n_points == 200 and not canvas.point_density.active
    window.add_points(points[200:])  # 450 points: an image
    wait_for_image(qtbot, window)
    assert canvas.points_item.n_points == 0 and canvas.point_density.image_item.isVisible()
    window.undo_stack.undo()  # 200 again: dots
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 200 and s.final)
    assert canvas.points_item.n_points == 200
    assert not canvas.point_density.active and not canvas.point_density.image_item.isVisible()

"""Many points as one image: a 2-D histogram at screen resolution, coloured by component.

Above :data:`app.state.messages.DENSITY_ABOVE` points, drawing every point costs more
than a frame, and at screen resolution most of them share a pixel anyway.
:func:`density_image` bins the
points into the pixels of a rectangle (the visible range and a margin) and colours each
pixel by the components of its points, with an opacity that grows with the logarithm of
its count. It is plain numpy, runs in a background thread
(:class:`app.canvas.point_histogram_layer.PointDensityLayer` owns it) and walks the points
in chunks, so its memory stays bounded whatever their number.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..state.geometry import responsibilities
from ..state.palette import UNASSIGNED_COLOR

#: Above this many points the canvas draws a density image instead of dots. Measured with
#: ``benchmarks/bench_app.py --pan-sizes N --dots-sizes N`` (2026-12-01, 2 cores): from

#: Points binned per step: bounds the temporary arrays (a few times 2 MB).
CHUNK_POINTS = 1 << 18

#: Opacity of a pixel holding one point (0-255); the fullest pixel is opaque.
MIN_ALPHA = 70


@dataclass(frozen=True, slots=True, eq=False)
class DensityImageRequest:
    """An image of points asked of the background thread.

    Attributes
    ----------
    request_id : int
    points : ndarray of shape (n, 2)
        Read-only (the session's array).
    labels : ndarray of shape (m,)
        Component of each of the first ``m <= n`` points (the rest are pending).
    palette : ndarray of shape (K, 3)
        Colour (0-255) of each component, in the order ``labels`` uses.
    x_range, y_range : tuple of 2 floats
        The rectangle binned, in data units.
    shape : tuple of 2 int
        Pixels along x and y.
    soft : tuple or None
        ``(weights (K,), means (K, 2), covariances (K, 2, 2))``: colour each pixel by the
        components' responsibilities at its centre instead of its points' labels.
    """

    request_id: int
    points: np.ndarray
    labels: np.ndarray
    palette: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    shape: tuple[int, int]
    soft: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class DensityImage:
    """The image of :class:`DensityImageRequest`, ready for a pyqtgraph ``ImageItem``.

    Attributes
    ----------
    request_id : int
    rect : tuple of 4 floats
        x, y, width, height of the image in data units.
    rgba : ndarray of shape (width, height, 4), uint8
        Indexed ``[i_x, i_y]`` (``i_y`` upwards); transparent where no point is.
    counts : ndarray of shape (width, height)
        Points in each pixel.
    argb32 : ndarray of shape (height, width, 4), uint8
        The same pixels as a ``QImage.Format_ARGB32_Premultiplied`` holds them (top row
        first, bytes B, G, R, A on a little-endian machine, colour premultiplied by
        opacity): drawn without conversion, by Qt's fastest path.
    """

    request_id: int
    rect: tuple[float, float, float, float]
    rgba: np.ndarray
    counts: np.ndarray
    argb32: np.ndarray


def bin_points(
    points: np.ndarray,
    labels: np.ndarray,
    palette: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int],
    cancelled: threading.Event | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count points per pixel and sum their components' colours.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
    labels : ndarray of shape (m,)
        Component of each of the first ``m`` points; the others count as pending.
    palette : ndarray of shape (K, 3)
    x_range, y_range : tuple of 2 floats
        The binned rectangle; points outside it (or on its far edges) are left out.
    shape : tuple of 2 int
        Pixels along x and y.
    cancelled : threading.Event, optional
        Checked between chunks; when set, the counts so far are returned.

    Returns
    -------
    counts : ndarray of shape (width, height)
        All points per pixel.
    labelled : ndarray of shape (width, height)
        Labelled points per pixel.
    color_sums : ndarray of shape (width, height, 3)
        Sum of the labelled points' component colours per pixel.
    """
    width, height = shape
    n_pixels = width * height
    counts = np.zeros(n_pixels, dtype=np.float64)
    labelled = np.zeros(n_pixels, dtype=np.float64)
    color_sums = np.zeros((3, n_pixels), dtype=np.float64)
    x0, x1 = x_range
    y0, y1 = y_range
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    channels = np.ascontiguousarray(np.asarray(palette, dtype=np.float64).reshape(-1, 3).T)
    m = labels.shape[0]
    for start in range(0, points.shape[0], CHUNK_POINTS):
        if cancelled is not None and cancelled.is_set():
            break
        chunk = points[start : start + CHUNK_POINTS]
        fx = (chunk[:, 0] - x0) * sx  # [c] pixel coordinates
        fy = (chunk[:, 1] - y0) * sy
        inside = (fx >= 0) & (fx < width) & (fy >= 0) & (fy < height)
        # [c] image order [x, y]; int32 is enough for any screen and halves the traffic
        pixel = fx.astype(np.int32) * np.int32(height) + fy.astype(np.int32)
        pixel = pixel[inside]
        counts += np.bincount(pixel, minlength=n_pixels)
        n_labelled = min(max(m - start, 0), chunk.shape[0])
        if n_labelled == 0:
            continue
        chunk_labels = labels[start : start + n_labelled][inside[:n_labelled]]
        pixel = pixel[: chunk_labels.shape[0]]  # the labelled points come first
        labelled += np.bincount(pixel, minlength=n_pixels)
        for channel in range(3):  # one column at a time: a 2-D gather is several times slower
            weights = np.take(channels[channel], chunk_labels)  # [c]
            color_sums[channel] += np.bincount(pixel, weights, minlength=n_pixels)
    return (
        counts.reshape(shape),
        labelled.reshape(shape),
        np.moveaxis(color_sums.reshape(3, width, height), 0, -1),
    )


def pixel_centres(x_range, y_range, shape) -> tuple[np.ndarray, np.ndarray]:
    """The centres of the pixels: x of each column (width,), y of each row (height,)."""
    (x0, x1), (y0, y1), (width, height) = x_range, y_range, shape
    x = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    y = y0 + (np.arange(height) + 0.5) * (y1 - y0) / height
    return x, y


def colorize(counts: np.ndarray, labelled: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """RGBA of each pixel: its points' mean colour, opacity by the log of their count.

    Points not labelled yet count in the unassigned colour.

    Parameters
    ----------
    counts, labelled : ndarray of shape (width, height)
        All points and labelled points per pixel.
    colors : ndarray of shape (width, height, 3)
        Mean colour of the labelled points per pixel (any value where there are none).

    Returns
    -------
    ndarray of shape (width, height, 4), uint8
    """
    rgba = np.zeros((*counts.shape, 4), dtype=np.uint8)
    occupied = counts > 0
    if not occupied.any():
        return rgba
    # In float32 and in place: a screen's worth of pixels, a few temporaries at most.
    share = np.divide(labelled, counts, out=np.zeros(counts.shape, np.float32), where=occupied)
    unassigned = np.asarray(UNASSIGNED_COLOR, dtype=np.float32)
    mixed = colors.astype(np.float32)  # [w, h, 3]
    mixed -= unassigned
    mixed *= share[..., None]
    mixed += unassigned
    np.rint(mixed, out=mixed)
    np.clip(mixed, 0, 255, out=mixed)
    rgba[..., :3] = mixed
    top = np.log(counts.max())  # one point: MIN_ALPHA; the fullest pixel: opaque
    level = share  # reused: the opacity level
    if top > 0:
        np.log(np.maximum(counts, 1.0), out=level, casting="same_kind")
        level /= top
    else:
        level[...] = 1.0
    level *= 255 - MIN_ALPHA
    level += MIN_ALPHA
    np.rint(level, out=level)
    level[~occupied] = 0
    rgba[..., 3] = level
    return rgba


def density_image(
    request: DensityImageRequest, cancelled: threading.Event | None = None
) -> DensityImage | None:
    """Bin and colour ``request``'s points (None when cancelled meanwhile)."""
    counts, labelled, color_sums = bin_points(
        request.points,
        request.labels,
        request.palette,
        request.x_range,
        request.y_range,
        request.shape,
        cancelled,
    )
    if cancelled is not None and cancelled.is_set():
        return None
    if request.soft is not None and labelled.any():
        colors = _soft_colors(labelled > 0, request)
    else:
        colors = color_sums
        colors /= np.maximum(labelled, 1.0)[..., None]  # in place: the mean colour
    (x0, x1), (y0, y1) = request.x_range, request.y_range
    rgba = colorize(counts, labelled, colors)
    return DensityImage(
        request_id=request.request_id,
        rect=(float(x0), float(y0), float(x1 - x0), float(y1 - y0)),
        rgba=rgba,
        counts=counts,
        argb32=premultiplied_argb32(rgba),
    )


def premultiplied_argb32(rgba: np.ndarray) -> np.ndarray:
    """``rgba`` (width, height, 4) as ``QImage.Format_ARGB32_Premultiplied`` lays it out.

    Returns
    -------
    ndarray of shape (height, width, 4), uint8
        Top row first; each pixel's 32-bit value is ``A << 24 | R << 16 | G << 8 | B``
        in the machine's byte order, colour premultiplied by opacity.
    """
    rows = np.ascontiguousarray(rgba.transpose(1, 0, 2)[::-1])  # [height, width, 4] top first
    alpha = rows[..., 3:4].astype(np.uint16)
    rgb = ((rows[..., :3].astype(np.uint16) * alpha + 127) // 255).astype(np.uint32)
    value = (
        (alpha[..., 0].astype(np.uint32) << 24)
        | (rgb[..., 0] << 16)
        | (rgb[..., 1] << 8)
        | rgb[..., 2]
    )
    return value.view(np.uint8).reshape(*value.shape, 4)


def _soft_colors(occupied: np.ndarray, request: DensityImageRequest) -> np.ndarray:
    """Each occupied pixel's colour: the components' colours by responsibility at its centre.

    At screen resolution a pixel is far smaller than any component, so the responsibility
    at its centre stands for the responsibilities of the points in it.
    """
    weights, means, covariances = request.soft
    x, y = pixel_centres(request.x_range, request.y_range, request.shape)
    ix, iy = np.nonzero(occupied)
    centres = np.column_stack([x[ix], y[iy]])  # [p, 2]
    colors = np.zeros((*occupied.shape, 3))
    resp = responsibilities(centres, weights, means, covariances)  # [p, K]
    colors[ix, iy] = resp @ np.asarray(request.palette, dtype=np.float64)
    return colors

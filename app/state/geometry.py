"""Pure numpy geometry for drawing a mixture in the plane: no Qt, no torch.

:mod:`app.state.messages` calls these to turn a model into ready-to-draw arrays (ellipse
outlines, stable palette slots, points grouped by component); the window calls
:func:`log_prob_components` for the one point under the cursor, from a snapshot's
arrays (the worker's densities come from gmm_core).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from gmm_core.covariance_types import component_log_densities, log_sum_exp

#: Standard deviations at which each covariance is outlined.
SIGMA_LEVELS: tuple[int, ...] = (1, 2, 3)


def ellipse_outlines(
    means: np.ndarray, covariances: np.ndarray, levels=SIGMA_LEVELS, n_vertices: int = 73
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Closed outlines of every covariance at the given numbers of standard deviations.

    Parameters
    ----------
    means : ndarray of shape (K, 2)
    covariances : ndarray of shape (K, 2, 2)
    levels : sequence of float
        Mahalanobis radii, one ring per level and component.
    n_vertices : int
        Vertices per ring; the last repeats the first, so each ring is closed.

    Returns
    -------
    x, y : ndarray of shape (K * len(levels) * n_vertices,)
        All rings end to end, component by component, level by level.
    connect : ndarray of shape (K * len(levels) * n_vertices,), bool
        Whether vertex ``i`` joins vertex ``i + 1`` (False at the end of every ring), as
        ``pyqtgraph.PlotCurveItem`` takes it.
    ring_component : ndarray of shape (K * len(levels),), int
        The component each ring belongs to.
    """
    means = np.asarray(means, dtype=np.float64).reshape(-1, 2)
    covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, 2, 2)
    levels = np.asarray(levels, dtype=np.float64)
    n_components, n_levels = means.shape[0], levels.shape[0]
    # Closed-form eigen-decomposition of symmetric 2x2 matrices.
    a = covariances[:, 0, 0]  # [K]
    b = 0.5 * (covariances[:, 0, 1] + covariances[:, 1, 0])  # [K]
    c = covariances[:, 1, 1]  # [K]
    half_trace = 0.5 * (a + c)
    radius = np.hypot(0.5 * (a - c), b)
    major = np.sqrt(np.maximum(half_trace + radius, 0.0))  # [K] sd along the major axis
    minor = np.sqrt(np.maximum(half_trace - radius, 0.0))  # [K]
    angle = 0.5 * np.arctan2(2.0 * b, a - c)  # [K] of the major axis
    t = np.linspace(0.0, 2.0 * np.pi, n_vertices)
    t[-1] = 0.0  # exactly closed
    u = np.cos(t)[None, None, :] * levels[None, :, None] * major[:, None, None]  # [K, L, V]
    v = np.sin(t)[None, None, :] * levels[None, :, None] * minor[:, None, None]  # [K, L, V]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    x = means[:, 0, None, None] + cos * u - sin * v  # [K, L, V]
    y = means[:, 1, None, None] + sin * u + cos * v  # [K, L, V]
    connect = np.ones((n_components, n_levels, n_vertices), dtype=bool)
    connect[:, :, -1] = False
    ring_component = np.repeat(np.arange(n_components), n_levels)
    return x.ravel(), y.ravel(), connect.ravel(), ring_component


def responsibilities(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> np.ndarray:
    """Posterior probability of each component for each point, shape (n, K).

    ``covariances`` are full, (K, D, D); a point that no component explains gets equal
    shares.
    """
    log_prob = component_log_densities(X, weights, means, covariances)  # [n, K]
    with np.errstate(invalid="ignore"):
        resp = np.exp(log_prob - log_sum_exp(log_prob, axis=1, keepdims=True))
    return np.where(np.isfinite(resp), resp, 1.0 / max(1, resp.shape[1]))


def match_slots(
    previous_means: np.ndarray,
    previous_slots: np.ndarray,
    means: np.ndarray,
    scale: float,
) -> np.ndarray:
    """Palette slots for new components that keep each colour on the nearest old component.

    Solves the assignment problem (``scipy.optimize.linear_sum_assignment``) between old
    and new means; new components without a partner take the lowest free slots.

    Parameters
    ----------
    previous_means : ndarray of shape (K_old, 2)
    previous_slots : ndarray of shape (K_old,), int
    means : ndarray of shape (K_new, 2)
    scale : float
        A length in data units (the data's extent) that makes the costs scale-free.

    Returns
    -------
    slots : ndarray of shape (K_new,), int
        Distinct slots.
    """
    n_new = means.shape[0]
    slots = np.full(n_new, -1, dtype=np.int64)
    if previous_means.shape[0] and n_new:
        scale = scale if scale > 0 and np.isfinite(scale) else 1.0
        diff = (means[:, None, :] - previous_means[None, :, :]) / scale  # [K_new, K_old, 2]
        cost = np.sum(diff * diff, axis=-1)
        cost = np.where(np.isfinite(cost), cost, 1e300)
        # scipy.optimize takes 0.3 s to import: the worker thread pays it, not start-up.
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(cost)
        slots[rows] = previous_slots[cols]
    used = set(int(s) for s in slots if s >= 0)
    free = (s for s in range(n_new + len(used) + 1) if s not in used)
    for i in np.flatnonzero(slots < 0):
        slots[i] = next(free)
    return slots


def group_by_label(
    points: np.ndarray, labels: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points sorted by label, and where each label's run starts.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
    labels : ndarray of shape (n,), int in ``[0, n_groups)``
    n_groups : int

    Returns
    -------
    grouped : ndarray of shape (n, 2)
    starts : ndarray of shape (n_groups + 1,)
        Group ``k`` is ``grouped[starts[k]:starts[k + 1]]``.
    """
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=n_groups)[:n_groups]
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return points[order], starts


def column_ranges(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and the largest value of each column, shape (D,) each.

    Column by column: numpy reduces one strided column about twenty times faster than it
    reduces axis 0 of a C-ordered (n, D) array (25 ms against 510 ms for 10,000,000
    points here), and both release the GIL only while they run. No points: inf and -inf.
    """
    d = points.shape[1]
    if points.shape[0] == 0:
        return np.full(d, np.inf), np.full(d, -np.inf)
    low = np.array([points[:, j].min() for j in range(d)], dtype=np.float64)
    high = np.array([points[:, j].max() for j in range(d)], dtype=np.float64)
    return low, high


def data_extent(points: np.ndarray) -> float:
    """The larger side of the points' bounding box (0 for fewer than two distinct points)."""
    if points.shape[0] < 2:
        return 0.0
    low, high = column_ranges(points)
    return float(np.max(high - low))


#: Regulariser relative to the squared scale of the data: the same model at any
#: coordinate scale.
RELATIVE_REG_COVAR = 1e-6


def reg_covar_for(scale: float) -> float:
    """A regulariser in squared data units for data of the given scale (a length).

    Never raises, never 0 or infinite: a scale whose square overflows (data of size
    1e200) saturates at the largest float, and gmm_core then refuses the data with a
    message the program shows; one whose square underflows (1e-200) stops at the
    smallest normal float, so that such points still get a model.
    """
    if not (scale > 0 and np.isfinite(scale)):
        scale = 1.0
    root = math.sqrt(RELATIVE_REG_COVAR) * float(scale)
    reg = root * root  # a Python float: inf or 0 quietly where ** raises OverflowError
    return min(max(reg, sys.float_info.min), sys.float_info.max)

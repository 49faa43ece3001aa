"""Showing points of D columns on a plane: two of the columns, and the model's marginal.

A Gaussian mixture's marginal in two of its dimensions is the mixture of its
components' marginals, each exactly the Gaussian with the means' two entries and the
covariance's 2x2 sub-block; the weights stay. The canvas draws that, while each point
keeps the colour of its responsibilities in all D dimensions (computed by the worker).
Pure numpy: no Qt, no torch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..state.geometry import ellipse_outlines
from ..state.messages import ModelSnapshot, frozen

#: The pair of columns shown on a new canvas: the first two.
FIRST_PAIR: tuple[int, int] = (0, 1)


def project_points(points: np.ndarray, pair: tuple[int, int]) -> np.ndarray:
    """Columns ``pair`` of ``points`` (n, D), shape (n, 2); the array itself for (0, 1) of 2."""
    if points.shape[1] == 2 and tuple(pair) == FIRST_PAIR:
        return points
    return points[:, list(pair)]


def marginal_parameters(
    means: np.ndarray, covariances: np.ndarray, pair: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The components' marginals in columns ``pair``: means (K, 2), covariances (K, 2, 2).

    Parameters
    ----------
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    pair : (int, int)
        Two distinct column indices, the first drawn along x.
    """
    index = np.asarray(pair, dtype=np.int64)
    return means[:, index], covariances[:, index[:, None], index[None, :]]


def marginal_snapshot(
    snapshot: ModelSnapshot, pair: tuple[int, int], grouped: tuple | None = None
) -> ModelSnapshot:
    """``snapshot`` as drawn in columns ``pair``: its mixture's marginal there.

    Means, covariances, ellipse outlines, grouped points and their bounds are those of
    the two columns; weights, colours, labels (from all D columns), scores and state are
    the snapshot's. Pair (0, 1) of a two-column snapshot is the snapshot itself.
    ``grouped``, (points (m, 2), bounds), gives the grouped points already in ``pair``
    (see :func:`shown_grouped`).
    """
    pair = (int(pair[0]), int(pair[1]))
    if snapshot.n_features == 2 and pair == FIRST_PAIR:
        return snapshot
    means, covariances = marginal_parameters(snapshot.means, snapshot.covariances, pair)
    x, y, connect, ring_component = ellipse_outlines(means, covariances)
    grouped, bounds = grouped or shown_grouped(snapshot.grouped_points, pair)
    return dataclasses.replace(
        snapshot,
        means=frozen(means),
        covariances=frozen(covariances),
        outline_x=frozen(x),
        outline_y=frozen(y),
        outline_connect=frozen(connect),
        ring_component=frozen(ring_component),
        grouped_points=grouped,
        grouped_bounds=bounds,
    )


def shown_grouped(points: np.ndarray, pair: tuple[int, int]) -> tuple[np.ndarray, tuple | None]:
    """Columns ``pair`` of ``points`` (m, D), read-only, and their (x0, y0, x1, y1) or None."""
    shown = frozen(project_points(points, pair))
    if not shown.shape[0]:
        return shown, None
    low, high = shown.min(axis=0), shown.max(axis=0)
    return shown, (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


class ShownPair:
    """The pair of columns a canvas shows, and the last marginal drawn there (kept).

    Data or a model with fewer columns than the pair needs is shown in its first two.
    """

    def __init__(self):
        self.pair: tuple[int, int] = FIRST_PAIR
        self._kept: tuple | None = None  # (snapshot, pair, its marginal there)
        # Progress snapshots of large data share one grouped array: projected once.
        self._grouped: tuple | None = None  # (grouped (m, D), pair, shown_grouped of it)

    def pair_for(self, n_features: int) -> tuple[int, int]:
        """The shown pair, or the first two columns for data that lacks it."""
        return self.pair if max(self.pair) < n_features else FIRST_PAIR

    def points(self, points: np.ndarray) -> np.ndarray:
        """The shown columns of ``points`` (n, D), shape (n, 2)."""
        return project_points(points, self.pair_for(points.shape[1]))

    def marginal(self, snapshot: ModelSnapshot | None) -> ModelSnapshot | None:
        """``snapshot`` as drawn: its marginal in the shown columns (the last one kept)."""
        if snapshot is None:
            return None
        pair = self.pair_for(snapshot.n_features)
        kept = self._kept
        if kept is None or kept[0] is not snapshot or kept[1] != pair:
            grouped = self._grouped
            if grouped is None or grouped[0] is not snapshot.grouped_points or grouped[1] != pair:
                shown = shown_grouped(snapshot.grouped_points, pair)
                grouped = self._grouped = (snapshot.grouped_points, pair, shown)
            marginal = marginal_snapshot(snapshot, pair, grouped[2])
            kept = self._kept = (snapshot, pair, marginal)
        return kept[2]

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

from .geometry import ellipse_outlines
from .snapshot import ModelSnapshot, frozen

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


def marginal_snapshot(snapshot: ModelSnapshot, pair: tuple[int, int]) -> ModelSnapshot:
    """``snapshot`` as drawn in columns ``pair``: its mixture's marginal there.

    Means, covariances, ellipse outlines, grouped points and their bounds are those of
    the two columns; weights, colours, labels (from all D columns), scores and state are
    the snapshot's. Pair (0, 1) of a two-column snapshot is the snapshot itself.
    """
    pair = (int(pair[0]), int(pair[1]))
    if snapshot.n_features == 2 and pair == FIRST_PAIR:
        return snapshot
    means, covariances = marginal_parameters(snapshot.means, snapshot.covariances, pair)
    x, y, connect, ring_component = ellipse_outlines(means, covariances)
    grouped = project_points(snapshot.grouped_points, pair)
    bounds = None
    if grouped.shape[0]:
        low, high = grouped.min(axis=0), grouped.max(axis=0)
        bounds = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    return dataclasses.replace(
        snapshot,
        means=frozen(means),
        covariances=frozen(covariances),
        outline_x=frozen(x),
        outline_y=frozen(y),
        outline_connect=frozen(connect),
        ring_component=frozen(ring_component),
        grouped_points=frozen(grouped),
        grouped_bounds=bounds,
    )

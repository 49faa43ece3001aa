"""Sufficient statistics of weighted points: the exact Welford step and the exact merge.

Statistics are always a triple of counts (K,), means (K, D) and biased covariances about
those means (K, D, D), one set per component; :class:`Statistics` names the triple and
still unpacks like one. Everything here works on small numpy arrays (a handful of
components, a buffer of recent points), where numpy's per-call cost is far below torch's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Statistics(NamedTuple):
    """Per-component count, mean and biased covariance of a weighted set of points.

    Attributes
    ----------
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covs : ndarray of shape (K, D, D)
    """

    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @classmethod
    def empty(cls, n_features: int) -> Statistics:
        """Statistics of no component."""
        return cls(np.zeros(0), np.zeros((0, n_features)), np.zeros((0, n_features, n_features)))

    def copy(self) -> Statistics:
        """Statistics with arrays of their own."""
        return Statistics(self.counts.copy(), self.means.copy(), self.covs.copy())

    def select(self, keep) -> Statistics:
        """The components chosen by ``keep`` (boolean mask or indices)."""
        return Statistics(self.counts[keep], self.means[keep], self.covs[keep])

    def append(self, counts, means, covs) -> Statistics:
        """These statistics followed by more components."""
        return Statistics(
            np.concatenate([self.counts, counts]),
            np.concatenate([self.means, means]),
            np.concatenate([self.covs, covs]),
        )


def merge(counts_a, means_a, covs_a, counts_b, means_b, covs_b) -> Statistics:
    """Exact statistics of the union of two weighted sets of points, per component.

    Parameters
    ----------
    counts_a, counts_b : ndarray of shape (K,)
    means_a, means_b : ndarray of shape (K, D)
    covs_a, covs_b : ndarray of shape (K, D, D)
        Biased covariances about the respective means.

    Returns
    -------
    Statistics
        ``n = n_a + n_b``, ``m = m_a + (n_b / n) delta`` and
        ``C = (n_a C_a + n_b C_b) / n + (n_a n_b / n^2) delta delta^T``, ``delta = m_b - m_a``.
    """
    counts = counts_a + counts_b
    share_b = np.divide(counts_b, counts, out=np.zeros_like(counts), where=counts > 0)
    share_a = 1.0 - share_b
    delta = means_b - means_a  # [K, D]
    means = means_a + share_b[:, None] * delta
    covs = (
        share_a[:, None, None] * covs_a
        + share_b[:, None, None] * covs_b
        + (share_a * share_b)[:, None, None] * (delta[:, :, None] * delta[:, None, :])
    )
    return Statistics(counts, means, covs)


def weighted_statistics(X, weights, centers) -> Statistics:
    """Weighted counts, means and biased covariances of points, one set per column of weights.

    Second moments are accumulated about ``centers`` (the current means), not as raw
    ``x x^T``, so that data far from the origin keeps its digits.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    weights : ndarray of shape (n, K)
    centers : ndarray of shape (K, D)

    Returns
    -------
    Statistics
        A component without weight gets its center as mean and a zero covariance.
    """
    counts = weights.sum(0)  # [K]
    diff = X[None, :, :] - centers[:, None, :]  # [K, n, D]
    weighted = diff * weights.T[:, :, None]  # [K, n, D]
    safe = np.where(counts > 0, counts, 1.0)
    shift = weighted.sum(1) / safe[:, None]  # [K, D]
    second = np.matmul(weighted.transpose(0, 2, 1), diff) / safe[:, None, None]  # [K, D, D]
    covs = second - shift[:, :, None] * shift[:, None, :]
    covs = 0.5 * (covs + covs.transpose(0, 2, 1))
    return Statistics(counts, centers + shift, covs)


def combined_statistics(frozen: Statistics, points, weights) -> Statistics:
    """Exact statistics of summaries merged with weighted points.

    Parameters
    ----------
    frozen : Statistics
        Summaries of K components.
    points : ndarray of shape (n, D)
    weights : ndarray of shape (n, K)

    Returns
    -------
    Statistics
    """
    buffer_counts = weights.sum(0)  # [K]
    safe = np.where(buffer_counts > 0, buffer_counts, 1.0)
    centers = (weights.T @ points) / safe[:, None]  # [K, D]
    centers = np.where(buffer_counts[:, None] > 0, centers, frozen.means)
    return merge(*frozen, *weighted_statistics(points, weights, centers))


def welford(statistics: Statistics, weights, x, cap=None):
    """The weighted Welford step of every component towards one point, in place.

    With ``w = r / N'`` and ``d = x - mu``: ``mu' = mu + w d`` and
    ``Sigma' = (1 - w) (Sigma + w d d^T)``. With ``cap``, a count never exceeds it: the
    older weight of a capped component is scaled down so that the new count is ``cap``.

    Parameters
    ----------
    statistics : Statistics
        Counts (K,), means (K, D) and covariances (K, D, D), changed in place.
    weights : ndarray of shape (K,)
        The point's weight (responsibility) for each component.
    x : ndarray of shape (D,)
    cap : float, optional

    Returns
    -------
    decay : ndarray of shape (K,) or None
        The factor applied to each component's older weight, or None when nothing decayed.
    """
    counts, means, covs = statistics
    new_counts = counts + weights
    decay = None
    if cap is not None and new_counts.max() > cap:
        capped = np.minimum(new_counts, cap)
        decay = np.divide(capped - weights, counts, out=np.ones_like(counts), where=counts > 0)
        new_counts = capped
    if new_counts.min() > 0:
        step = weights / new_counts
    else:
        step = np.divide(weights, new_counts, out=np.zeros_like(weights), where=new_counts > 0)
    diff = x - means  # [K, D]
    means += diff * step[:, None]
    covs += step[:, None, None] * (diff[:, :, None] * diff[:, None, :])  # bit-symmetric
    covs *= (1.0 - step)[:, None, None]
    counts[:] = new_counts
    return decay

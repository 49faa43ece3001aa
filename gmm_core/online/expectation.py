"""The E-step of a chunk: responsibilities and their weighted statistics, in numpy blocks.

Numpy in cache-sized blocks: on a small shared machine torch's threads only contend, and
the working arrays of a block stay in cache. Differences are taken from each component's
mean (laid out as :func:`.gaussian.log_gaussian` takes them), so far-from-origin data
keeps its digits.
"""

from __future__ import annotations

import numpy as np

from .gaussian import Gaussians, differences, log_gaussian, log_softmax_rows
from .statistics import Statistics

# Rows per block: the (K, rows) working arrays stay in cache.
BLOCK_ROWS = 2048
# Log-responsibilities are clipped here, so that exp never produces (slow) subnormals.
LOG_FLOOR = -600.0


def responsibilities(X, gaussians: Gaussians):
    """Posterior probability (n, K) of every component for every row of ``X`` (n, D)."""
    g = gaussians
    diff = differences(X, g.means)  # [K, D, n]
    log_prob = log_gaussian(diff, g.inverse_cholesky, g.log_normalizers())  # [K, n]
    return np.exp(log_softmax_rows(log_prob.T)[0])


def expectation_statistics(X, gaussians: Gaussians, weights=None) -> tuple[Statistics, float]:
    """Responsibility-weighted statistics of a chunk and its log-likelihood.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    gaussians : Gaussians
    weights : ndarray of shape (n,), optional
        Row weights multiplying the responsibilities (and the log-likelihood).

    Returns
    -------
    statistics : Statistics
        Counts (K,), means (K, D) and biased covariances (K, D, D) of ``X`` weighted by
        the responsibilities.
    log_likelihood : float
        Sum of the mixture log-density over the points.
    """
    g = gaussians
    K, D = g.means.shape
    counts, first, second = np.zeros(K), np.zeros((K, D)), np.zeros((K, D, D))
    log_likelihood = 0.0
    columns = np.ascontiguousarray(X.T)  # [D, n]
    centres = g.means[:, :, None]  # [K, D, 1]
    normalizers = g.log_normalizers()  # [K]
    for start in range(0, X.shape[0], BLOCK_ROWS):
        diff = columns[None, :, start : start + BLOCK_ROWS] - centres  # [K, D, n]
        resp = log_gaussian(diff, g.inverse_cholesky, normalizers)  # [K, n]
        top = resp.max(0)  # [n]
        resp -= top
        np.maximum(resp, LOG_FLOOR, out=resp)
        np.exp(resp, out=resp)
        total = resp.sum(0)  # [n]
        resp /= total
        if weights is None:
            log_likelihood += float(top.sum() + np.log(total).sum())
        else:
            block = weights[start : start + BLOCK_ROWS]  # [n]
            resp *= block
            log_likelihood += float(block @ (top + np.log(total)))
        counts += resp.sum(1)
        weighted = diff * resp[:, None, :]  # [K, D, n]
        first += weighted.sum(2)
        second += np.matmul(weighted, diff.transpose(0, 2, 1))  # [K, D, D]
    safe = np.where(counts > 0, counts, 1.0)
    shift = first / safe[:, None]  # [K, D]
    covs = second / safe[:, None, None] - shift[:, :, None] * shift[:, None, :]
    covs = 0.5 * (covs + covs.transpose(0, 2, 1))
    return Statistics(counts, g.means + shift, covs), log_likelihood

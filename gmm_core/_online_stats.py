"""Numpy building blocks of incremental EM: statistics, their exact merge, and parameters.

Everything here works on small arrays (a handful of components, a buffer of recent points)
where numpy's per-call overhead is far below torch's. Statistics are always a triple of
counts (K,), means (K, D) and biased covariances about those means (K, D, D).
"""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2.0 * math.pi)

# Eigenvalues below this fraction of a covariance's mean variance are raised to it.
RELATIVE_EIGENVALUE_FLOOR = 1e-10


def merge(counts_a, means_a, covs_a, counts_b, means_b, covs_b):
    """Exact statistics of the union of two weighted sets of points, per component.

    Parameters
    ----------
    counts_a, counts_b : ndarray of shape (K,)
    means_a, means_b : ndarray of shape (K, D)
    covs_a, covs_b : ndarray of shape (K, D, D)
        Biased covariances about the respective means.

    Returns
    -------
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covs : ndarray of shape (K, D, D)
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
    return counts, means, covs


def weighted_statistics(X, weights, centers):
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
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covs : ndarray of shape (K, D, D)
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
    return counts, centers + shift, covs


def welford(counts, means, covs, weights, x, cap=None):
    """The weighted Welford step of every component towards one point, in place.

    With ``w = r / N'`` and ``d = x - mu``: ``mu' = mu + w d`` and
    ``Sigma' = (1 - w) (Sigma + w d d^T)``. With ``cap``, a count never exceeds it: the
    older weight of a capped component is scaled down so that the new count is ``cap``.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covs : ndarray of shape (K, D, D)
    weights : ndarray of shape (K,)
        The point's weight (responsibility) for each component.
    x : ndarray of shape (D,)
    cap : float, optional

    Returns
    -------
    decay : ndarray of shape (K,) or None
        The factor applied to each component's older weight, or None when nothing decayed.
    """
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


def eigenvalue_floor(covs, floor):
    """Raise the smallest eigenvalue of every matrix to at least ``floor``, in place.

    Parameters
    ----------
    covs : ndarray of shape (K, D, D)
        Symmetric matrices.
    floor : ndarray of shape (K,)
    """
    n_features = covs.shape[-1]
    if n_features == 1:
        smallest = covs[:, 0, 0]
    elif n_features == 2:
        half_trace = 0.5 * (covs[:, 0, 0] + covs[:, 1, 1])
        half_gap = 0.5 * (covs[:, 0, 0] - covs[:, 1, 1])
        smallest = half_trace - np.hypot(half_gap, covs[:, 0, 1])
    else:
        smallest = np.linalg.eigvalsh(covs)[:, 0]
    lift = floor - smallest
    if lift.max() > 0:
        lift = np.maximum(lift, 0.0)
        # Lift a little past the floor: the 2-D closed form loses digits on extreme shapes.
        diagonal = np.arange(n_features)
        covs[:, diagonal, diagonal] += (1.0 + 1e-6) * lift[:, None]


def reduce_covariances(kind, counts, covs):
    """Full per-component matrices reduced to a covariance type, still as (K, D, D).

    Parameters
    ----------
    kind : {'full', 'tied', 'diag', 'spherical'}
    counts : ndarray of shape (K,)
        Weights of the count-weighted average that ``'tied'`` takes.
    covs : ndarray of shape (K, D, D)

    Returns
    -------
    reduced : ndarray of shape (K, D, D)
    """
    if kind == "full":
        return covs
    n_components, n_features = covs.shape[:2]
    if kind == "tied":
        pooled = np.tensordot(counts / counts.sum(), covs, axes=1)  # [D, D]
        return np.broadcast_to(pooled, covs.shape).copy()
    variances = np.diagonal(covs, axis1=1, axis2=2)  # [K, D]
    if kind == "spherical":
        variances = np.repeat(variances.mean(1, keepdims=True), n_features, axis=1)
    reduced = np.zeros_like(covs)
    reduced[:, np.arange(n_features), np.arange(n_features)] = variances
    return reduced


def published_covariances(counts, covs, prior, prior_count, kind, reg_covar):
    """The covariances a model publishes from running statistics: SPD, regularised, typed.

    A component with fewer than ``prior_count`` points is completed with
    ``prior_count - count`` pseudo-points of diagonal covariance ``prior``; the
    pseudo-points vanish exactly once the count reaches ``prior_count``. Eigenvalues are
    floored relative to each matrix (and the prior) before ``reg_covar`` is added, so that
    ``reg_covar=0`` stays positive definite.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    covs : ndarray of shape (K, D, D)
        Biased, unregularised covariances.
    prior : ndarray of shape (D,)
        Variances of a pseudo-point.
    prior_count : float
    kind : {'full', 'tied', 'diag', 'spherical'}
    reg_covar : float

    Returns
    -------
    published : ndarray of shape (K, D, D)
    """
    n_features = covs.shape[-1]
    diagonal = np.arange(n_features)
    pseudo = prior_count - counts
    if pseudo.max() > 0:
        share = np.maximum(pseudo, 0.0) / np.maximum(counts, prior_count)  # [K]
        covs = covs * (1.0 - share)[:, None, None]
        covs[:, diagonal, diagonal] += share[:, None] * prior
    published = reduce_covariances(kind, counts, covs)
    if published is covs:
        published = covs.copy()
    mean_variance = np.einsum("kii->k", published) / n_features  # [K]
    floor = RELATIVE_EIGENVALUE_FLOOR * np.maximum(mean_variance, prior.sum() / n_features)
    eigenvalue_floor(published, floor)
    if reg_covar:
        published[:, diagonal, diagonal] += reg_covar
    return published


def gaussian_factors(published):
    """Inverse Cholesky factors and log-determinants of SPD matrices.

    Parameters
    ----------
    published : ndarray of shape (K, D, D)

    Returns
    -------
    inverse_cholesky : ndarray of shape (K, D, D)
        Lower-triangular ``A`` with ``A^T A`` the inverse of each matrix, so that the squared
        Mahalanobis distance of ``d`` is ``|A d|^2``; ``A^T`` is the upper precision factor.
    log_det : ndarray of shape (K,)
        ``log |Sigma_k|``.
    """
    n_features = published.shape[-1]
    if n_features == 2:
        # Closed form: Sigma = L L^T with L = [[l00, 0], [l10, l11]].
        l00 = np.sqrt(published[:, 0, 0])
        l10 = published[:, 1, 0] / l00
        l11 = np.sqrt(published[:, 1, 1] - l10 * l10)
        inverse = np.zeros_like(published)
        inverse[:, 0, 0] = 1.0 / l00
        inverse[:, 1, 1] = 1.0 / l11
        inverse[:, 1, 0] = -l10 / (l00 * l11)
        return inverse, 2.0 * (np.log(l00) + np.log(l11))
    lower = np.linalg.cholesky(published)
    inverse = np.linalg.inv(lower)
    diagonal = np.diagonal(lower, axis1=1, axis2=2)
    return inverse, 2.0 * np.log(diagonal).sum(1)


def log_gaussian(X, means, inverse_cholesky, log_det):
    """``log N(x | mu_k, Sigma_k)`` of every point and component.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    means : ndarray of shape (K, D)
    inverse_cholesky : ndarray of shape (K, D, D)
    log_det : ndarray of shape (K,)

    Returns
    -------
    log_density : ndarray of shape (n, K)
    """
    diff = X[None, :, :] - means[:, None, :]  # [K, n, D]
    y = np.matmul(diff, inverse_cholesky.transpose(0, 2, 1))  # [K, n, D]
    distance = np.einsum("knd,knd->nk", y, y)
    return -0.5 * (means.shape[1] * LOG_2PI + log_det + distance)


def expected_log_gaussian(counts, means, covs, g_means, inverse_cholesky, log_det):
    """Summed log-density of summarised points: ``n (log N(m | mu, Sigma) - tr(P S) / 2)``.

    The exact total log-density, under each Gaussian ``j``, of a set of ``n`` points with
    mean ``m`` and biased covariance ``S``.

    Parameters
    ----------
    counts : ndarray of shape (B,)
    means : ndarray of shape (B, D)
    covs : ndarray of shape (B, D, D)
        The summaries.
    g_means : ndarray of shape (J, D)
    inverse_cholesky : ndarray of shape (J, D, D)
    log_det : ndarray of shape (J,)
        The Gaussians.

    Returns
    -------
    total : ndarray of shape (B, J)
    """
    per_point = log_gaussian(means, g_means, inverse_cholesky, log_det)  # [B, J]
    # tr(A S A^T) for every pair: sum over (i, j) of (A S A^T)_ii
    spread = np.einsum("jab,ibc,jac->ij", inverse_cholesky, covs, inverse_cholesky)
    return counts[:, None] * (per_point - 0.5 * spread)


def log_softmax_rows(log_prob):
    """Rows of ``log_prob`` minus their log-sum-exp, and the log-sum-exp itself.

    Parameters
    ----------
    log_prob : ndarray of shape (n, K)

    Returns
    -------
    log_resp : ndarray of shape (n, K)
    log_norm : ndarray of shape (n,)
    """
    top = log_prob.max(1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(log_prob - top).sum(1))
    return log_prob - log_norm[:, None], log_norm


# Rows per block of the two-dimensional E-step: (rows, K) working arrays stay in cache.
_BLOCK_ROWS = 2048
# Log-responsibilities are clipped here, so that exp never produces (slow) subnormals.
_LOG_FLOOR = -600.0


def expectation_statistics_2d(X, log_weights, means, inverse_cholesky, log_det):
    """E-step statistics of two-dimensional points, in single-threaded numpy blocks.

    Closed forms replace batched linear algebra, and differences are taken from each
    component's mean, so far-from-origin data keeps its digits.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    log_weights : ndarray of shape (K,)
    means : ndarray of shape (K, 2)
    inverse_cholesky : ndarray of shape (K, 2, 2)
        Lower-triangular ``A`` with ``|A (x - mu)|^2`` the squared Mahalanobis distance.
    log_det : ndarray of shape (K,)

    Returns
    -------
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, 2)
    covs : ndarray of shape (K, 2, 2)
        Responsibility-weighted statistics of ``X``.
    log_likelihood : float
        Sum of the mixture log-density over the points.
    """
    K = means.shape[0]
    log_norm = log_weights - 0.5 * (2.0 * LOG_2PI + log_det)  # [K]
    a00, a10, a11 = inverse_cholesky[:, 0, 0], inverse_cholesky[:, 1, 0], inverse_cholesky[:, 1, 1]
    counts, first = np.zeros(K), np.zeros((K, 2))
    sxx, sxy, syy = np.zeros(K), np.zeros(K), np.zeros(K)
    log_likelihood = 0.0
    columns = np.ascontiguousarray(X.T)  # [2, n]
    mx, my = means[:, 0:1], means[:, 1:2]  # [K, 1]
    a00, a10, a11, log_norm = a00[:, None], a10[:, None], a11[:, None], log_norm[:, None]
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        dx = columns[0:1, start : start + _BLOCK_ROWS] - mx  # [K, n]
        dy = columns[1:2, start : start + _BLOCK_ROWS] - my  # [K, n]
        work = dx * a10  # [K, n]
        work += dy * a11
        resp = dx * a00  # [K, n]
        np.multiply(resp, resp, out=resp)
        np.multiply(work, work, out=work)
        resp += work
        resp *= -0.5
        resp += log_norm  # log w_k N(x | k)
        top = resp.max(0)  # [n]
        resp -= top
        np.maximum(resp, _LOG_FLOOR, out=resp)
        np.exp(resp, out=resp)
        total = resp.sum(0)  # [n]
        resp /= total
        log_likelihood += float(top.sum() + np.log(total).sum())
        counts += resp.sum(1)
        np.multiply(resp, dx, out=work)  # r dx
        first[:, 0] += work.sum(1)
        sxx += np.einsum("kn,kn->k", work, dx)
        sxy += np.einsum("kn,kn->k", work, dy)
        np.multiply(resp, dy, out=work)  # r dy
        first[:, 1] += work.sum(1)
        syy += np.einsum("kn,kn->k", work, dy)
    safe = np.where(counts > 0, counts, 1.0)
    shift = first / safe[:, None]  # [K, 2]
    covs = np.empty((K, 2, 2))
    covs[:, 0, 0] = sxx / safe - shift[:, 0] ** 2
    covs[:, 1, 1] = syy / safe - shift[:, 1] ** 2
    covs[:, 0, 1] = covs[:, 1, 0] = sxy / safe - shift[:, 0] * shift[:, 1]
    return counts, means + shift, covs, log_likelihood


def expectation_statistics_blocks(X, log_weights, means, inverse_cholesky, log_det):
    """E-step statistics of points of any dimension, in single-threaded numpy blocks.

    Parameters and returns as for :func:`expectation_statistics_2d`, with any ``D``.
    """
    K, D = means.shape
    counts, first, second = np.zeros(K), np.zeros((K, D)), np.zeros((K, D, D))
    log_likelihood = 0.0
    transposed = inverse_cholesky.transpose(0, 2, 1)
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        diff = X[None, start : start + _BLOCK_ROWS, :] - means[:, None, :]  # [K, n, D]
        y = np.matmul(diff, transposed)  # [K, n, D]
        log_prob = -0.5 * np.einsum("knd,knd->kn", y, y)  # [K, n]
        log_prob += (log_weights - 0.5 * (D * LOG_2PI + log_det))[:, None]
        top = log_prob.max(0)  # [n]
        log_prob -= top
        np.maximum(log_prob, _LOG_FLOOR, out=log_prob)
        resp = np.exp(log_prob, out=log_prob)
        total = resp.sum(0)  # [n]
        resp /= total
        log_likelihood += float(top.sum() + np.log(total).sum())
        counts += resp.sum(1)
        weighted = diff * resp[:, :, None]  # [K, n, D]
        first += weighted.sum(1)
        second += np.matmul(weighted.transpose(0, 2, 1), diff)
    safe = np.where(counts > 0, counts, 1.0)
    shift = first / safe[:, None]  # [K, D]
    covs = second / safe[:, None, None] - shift[:, :, None] * shift[:, None, :]
    covs = 0.5 * (covs + covs.transpose(0, 2, 1))
    return counts, means + shift, covs, log_likelihood

"""Gaussians from running statistics, and the one log-density of incremental EM.

Published covariances are the running statistics completed by pseudo-points while a
component is small, reduced to the covariance type through
:mod:`gmm_core.covariance_types`, floored and regularised; a Gaussian is then kept as the
inverse of its Cholesky factor and its log-determinant. :func:`log_gaussian` is the only
place where incremental EM evaluates a Gaussian log-density; it takes differences laid out
``(K, D, n)``, points last, the layout of the chunk E-step (:mod:`.expectation`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..covariance_types import full_covariances, log_sum_exp, typed_covariances
from ..parts.covariance import LOG_2PI, precision_cholesky_numpy

# Eigenvalues below this fraction of a covariance's mean variance are raised to it.
RELATIVE_EIGENVALUE_FLOOR = 1e-10


class Gaussians(NamedTuple):
    """Weighted Gaussians ready for evaluation.

    Attributes
    ----------
    weights : ndarray of shape (K,)
    log_weights : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
        The published covariances.
    inverse_cholesky : ndarray of shape (K, D, D)
        Lower-triangular ``A`` with ``A^T A`` the inverse of each covariance.
    log_det : ndarray of shape (K,)
        ``log |Sigma_k|``.
    """

    weights: np.ndarray
    log_weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    inverse_cholesky: np.ndarray
    log_det: np.ndarray

    @classmethod
    def empty(cls, n_features: int) -> Gaussians:
        """No Gaussian at all."""
        matrices = np.zeros((0, n_features, n_features))
        none = np.zeros(0)
        return cls(none, none, np.zeros((0, n_features)), matrices, matrices, none)

    @property
    def factors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(log_weights, inverse_cholesky, log_det)``, what a sweep's publisher returns."""
        return self.log_weights, self.inverse_cholesky, self.log_det

    def log_normalizers(self) -> np.ndarray:
        """:func:`log_normalizer` with the log-weights: ``log w_k N(mu_k | mu_k, Sigma_k)``."""
        return log_normalizer(self.log_det, self.means.shape[1], self.log_weights)


class Held(NamedTuple):
    """Components whose means and covariances are held at given values (frozen components).

    Attributes
    ----------
    indices : ndarray of shape (F,)
        The held components (their means, and their covariances unless ``shared``).
    means : ndarray of shape (K, D)
        Every component's given mean; only the held rows are used.
    covariances : ndarray of shape (K, D, D)
        Every component's given full covariance (all equal for 'tied').
    precisions_cholesky : ndarray of shape (K, D, D)
        Their upper precision factors, as the model publishes them.
    shared : bool
        'tied': the one shared covariance is held for every component.
    """

    indices: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    shared: bool

    def hold(self, g: Gaussians) -> Gaussians:
        """``g`` with the held means, covariances and factors put back (weights as they are)."""
        rows = self.indices
        means = g.means.copy()
        means[rows] = self.means[rows]
        covariance_rows = slice(None) if self.shared else rows
        covariances = g.covariances.copy()
        inverse = g.inverse_cholesky.copy()
        log_det = g.log_det.copy()
        factor = self.precisions_cholesky[covariance_rows]  # [F, D, D] upper
        covariances[covariance_rows] = self.covariances[covariance_rows]
        inverse[covariance_rows] = factor.transpose(0, 2, 1)
        log_det[covariance_rows] = -2.0 * np.log(np.diagonal(factor, axis1=1, axis2=2)).sum(1)
        return Gaussians(g.weights, g.log_weights, means, covariances, inverse, log_det)


def gaussians(counts, means, covs, prior, prior_count, covariance_type, reg_covar) -> Gaussians:
    """The Gaussians that running statistics publish.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covs : ndarray of shape (K, D, D)
    prior, prior_count, covariance_type, reg_covar
        As for :func:`published_covariances`.

    Returns
    -------
    Gaussians
        Weights proportional to the counts (each at least 1e-12 of the total).
    """
    published = published_covariances(counts, covs, prior, prior_count, covariance_type, reg_covar)
    inverse, log_det = gaussian_factors(published)
    total = counts.sum()
    weights = np.maximum(counts, 1e-12 * total) if total > 0 else np.ones_like(counts)
    weights = weights / weights.sum()
    return Gaussians(weights, np.log(weights), means, published, inverse, log_det)


def published_covariances(counts, covs, prior, prior_count, covariance_type, reg_covar):
    """The covariances a model publishes from running statistics: SPD, regularised, typed.

    A component with fewer than ``prior_count`` points is completed with
    ``prior_count - count`` pseudo-points of diagonal covariance ``prior``; the
    pseudo-points vanish exactly once the count reaches ``prior_count``. The result is
    reduced to ``covariance_type`` and expanded back by the covariance table; eigenvalues
    are floored relative to each matrix (and the prior) before ``reg_covar`` is added, so
    that ``reg_covar=0`` stays positive definite.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    covs : ndarray of shape (K, D, D)
        Biased, unregularised covariances.
    prior : ndarray of shape (D,)
        Variances of a pseudo-point.
    prior_count : float
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    reg_covar : float

    Returns
    -------
    published : ndarray of shape (K, D, D)
    """
    n_components, n_features = covs.shape[:2]
    diagonal = np.arange(n_features)
    pseudo = prior_count - counts
    if pseudo.max(initial=0.0) > 0:
        share = np.maximum(pseudo, 0.0) / np.maximum(counts, prior_count)  # [K]
        covs = covs * (1.0 - share)[:, None, None]
        covs[:, diagonal, diagonal] += share[:, None] * prior
    typed = typed_covariances(covs, covariance_type, counts)
    published = full_covariances(typed, covariance_type, n_components, n_features)  # a copy
    mean_variance = np.einsum("kii->k", published) / n_features  # [K]
    floor = RELATIVE_EIGENVALUE_FLOOR * np.maximum(mean_variance, prior.sum() / n_features)
    eigenvalue_floor(published, floor)
    if reg_covar:
        published[:, diagonal, diagonal] += reg_covar
    return published


def eigenvalue_floor(covs, floor) -> None:
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
    if lift.max(initial=0.0) > 0:
        lift = np.maximum(lift, 0.0)
        # Lift a little past the floor: the 2-D closed form loses digits on extreme shapes.
        diagonal = np.arange(n_features)
        covs[:, diagonal, diagonal] += (1.0 + 1e-6) * lift[:, None]


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

    Raises
    ------
    ValueError
        If a matrix is not positive definite (beyond two dimensions).
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
    upper = precision_cholesky_numpy(published)  # raises ValueError if not SPD
    # |Sigma| = 1 / |U|^2, and U is triangular.
    log_det = -2.0 * np.log(np.diagonal(upper, axis1=1, axis2=2)).sum(1)
    return upper.transpose(0, 2, 1), log_det


def differences(X, means):
    """``x - mu_k`` for every point and component, points last.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    means : ndarray of shape (K, D)

    Returns
    -------
    diff : ndarray of shape (K, D, n)
    """
    return X.T[None, :, :] - means[:, :, None]


def log_normalizer(log_det, n_features: int, log_weights=None):
    """``log w_k - (D log(2 pi) + log |Sigma_k|) / 2``: the log-density at each mean.

    Parameters
    ----------
    log_det : ndarray of shape (K,)
        ``log |Sigma_k|``.
    n_features : int
    log_weights : ndarray of shape (K,), optional

    Returns
    -------
    ndarray of shape (K,)
    """
    normalizer = -0.5 * log_det
    normalizer -= 0.5 * n_features * LOG_2PI
    if log_weights is not None:
        normalizer += log_weights
    return normalizer


def log_gaussian(diff, inverse_cholesky, normalizer, *, return_distance=False):
    """``log w_k N(x | mu_k, Sigma_k)`` from the differences ``x - mu_k``.

    ``normalizer - |A (x - mu)|^2 / 2``, the squared Mahalanobis distance taken as one
    batched product.

    Parameters
    ----------
    diff : ndarray of shape (K, D, n)
        Differences, points last (see :func:`differences`).
    inverse_cholesky : ndarray of shape (K, D, D)
        Lower-triangular ``A`` with ``A^T A`` the precision of each component.
    normalizer : ndarray of shape (K,)
        :func:`log_normalizer` of each component (with or without its log-weight).
    return_distance : bool
        Also return the squared Mahalanobis distances.

    Returns
    -------
    log_density : ndarray of shape (K, n)
    distance : ndarray of shape (K, n)
        Only with ``return_distance``.
    """
    y = np.matmul(inverse_cholesky, diff)  # [K, D, n]
    y *= y
    distance = y.sum(1)  # [K, n]
    if return_distance:
        return normalizer[:, None] - 0.5 * distance, distance
    distance *= -0.5
    distance += normalizer[:, None]
    return distance


def log_gaussian_rows(X, means, inverse_cholesky, log_det):
    """:func:`log_gaussian` of the rows of ``X``, laid out as (n, K).

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
    normalizer = log_normalizer(log_det, X.shape[1])
    return log_gaussian(differences(X, means), inverse_cholesky, normalizer).T


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
    per_point = log_gaussian_rows(means, g_means, inverse_cholesky, log_det)  # [B, J]
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
    log_norm = log_sum_exp(log_prob, axis=1)
    return log_prob - log_norm[:, None], log_norm

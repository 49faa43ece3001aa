"""The covariance types' facts in numpy alone: names, parameter counts, criteria, densities.

This module imports numpy and nothing heavier (no torch, scipy or pyarrow), so that the
program's GUI thread and the command line's ``--help`` can use these facts without
copying them. gmm_core's torch table (:mod:`gmm_core.parts.covariance`) counts
parameters here, and the estimators' ``bic`` and ``aic`` are the formulas below.

A covariance type says how the covariances of ``K`` components of ``D`` features are
stored:

============= ============ ===========================================
type          shape        meaning
============= ============ ===========================================
``full``      (K, D, D)    one full matrix per component
``tied``      (D, D)       one full matrix shared by every component
``diag``      (K, D)       a diagonal matrix per component
``spherical`` (K,)         one variance per component, on every axis
============= ============ ===========================================

Example
-------
>>> import numpy as np
>>> from gmm_core.covariance_types import n_parameters, full_covariances
>>> n_parameters("diag", n_components=3, n_features=2)
14
>>> full_covariances(np.array([1.0, 4.0]), "spherical", 2, 2)[1]
array([[4., 0.],
       [0., 4.]])
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "COVARIANCE_TYPES",
    "aic",
    "bic",
    "component_log_densities",
    "full_covariances",
    "log_sum_exp",
    "n_parameters",
    "typed_covariances",
]

#: The covariance types, in scikit-learn's order.
COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")

_LOG_2PI = math.log(2.0 * math.pi)


def _check_type(covariance_type: str) -> None:
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {', '.join(map(repr, COVARIANCE_TYPES))}, "
            f"got {covariance_type!r}."
        )


def _shape(covariance_type: str, n_components: int, n_features: int) -> tuple:
    """The shape of one type's covariances (and precision factors) for K components of D."""
    _check_type(covariance_type)
    K, D = n_components, n_features
    return {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[covariance_type]


def n_parameters(covariance_type: str, n_components: int, n_features: int) -> int:
    """Free parameters of a mixture: its covariances, ``K D`` means and ``K - 1`` weights.

    The count of scikit-learn's ``GaussianMixture._n_parameters``.

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    n_components, n_features : int

    Returns
    -------
    int
    """
    _check_type(covariance_type)
    K, D = int(n_components), int(n_features)
    covariance = {
        "full": K * D * (D + 1) // 2,
        "tied": D * (D + 1) // 2,
        "diag": K * D,
        "spherical": K,
    }[covariance_type]
    return covariance + K * D + K - 1


def full_covariances(covariances, covariance_type: str, n_components: int, n_features: int):
    """Full matrices of shape (K, D, D) from one type's covariances (or precisions).

    Parameters
    ----------
    covariances : array-like of the type's shape
        (K, D, D) for 'full', (D, D) for 'tied', (K, D) for 'diag', (K,) for 'spherical'.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    n_components, n_features : int

    Returns
    -------
    full : ndarray of shape (n_components, n_features, n_features)
        A new array, in the dtype of ``covariances`` (float64 for integers).

    Raises
    ------
    ValueError
        For an unknown type or covariances of the wrong shape.
    """
    shape = _shape(covariance_type, n_components, n_features)
    typed = np.asarray(covariances)
    if typed.dtype.kind not in "fc":
        typed = typed.astype(np.float64)
    if typed.shape != shape:
        raise ValueError(
            f"{covariance_type!r} covariances of {n_components} components of {n_features} "
            f"features have shape {shape}, got {typed.shape}."
        )
    K, D = n_components, n_features
    if covariance_type == "full":
        return typed.copy()
    if covariance_type == "tied":
        return np.broadcast_to(typed, (K, D, D)).copy()
    if covariance_type == "diag":
        full = np.zeros((K, D, D), dtype=typed.dtype)
        diagonal = np.arange(D)
        full[:, diagonal, diagonal] = typed
        return full
    return typed[:, None, None] * np.eye(D, dtype=typed.dtype)


def typed_covariances(full, covariance_type: str, weights):
    """One type's covariances from full per-component matrices (K, D, D).

    Parameters
    ----------
    full : array-like of shape (K, D, D)
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    weights : array-like of shape (K,)
        Each component's weight (or count); only 'tied' uses them: its matrix is the
        weights-weighted mean of the full ones.

    Returns
    -------
    typed : ndarray of the type's shape
        A copy of ``full`` for 'full'; the weighted mean (D, D) for 'tied'; the diagonals
        (K, D) for 'diag'; the mean of each diagonal (K,) for 'spherical'.
    """
    _check_type(covariance_type)
    full = np.asarray(full)
    if full.ndim != 3 or full.shape[1] != full.shape[2]:
        raise ValueError(f"full covariances must have shape (K, D, D), got {full.shape}.")
    if covariance_type == "full":
        return full.copy()
    if covariance_type == "tied":
        weights = np.asarray(weights, dtype=full.dtype)
        return (weights[:, None, None] * full).sum(0) / weights.sum()
    diagonals = np.diagonal(full, axis1=-2, axis2=-1).copy()  # [K, D]
    if covariance_type == "diag":
        return diagonals
    return diagonals.mean(-1)


def bic(total_log_likelihood: float, n_samples: int, n_parameters: int) -> float:
    """The Bayesian information criterion ``-2 LL + p log(n)`` (lower is better).

    Parameters
    ----------
    total_log_likelihood : float
        The log-likelihood summed over the samples (not their mean).
    n_samples : int
    n_parameters : int
        Free parameters (:func:`n_parameters`).
    """
    return float(-2.0 * total_log_likelihood + n_parameters * math.log(n_samples))


def aic(total_log_likelihood: float, n_parameters: int) -> float:
    """Akaike's information criterion ``-2 LL + 2 p`` (lower is better); see :func:`bic`."""
    return float(-2.0 * total_log_likelihood + 2.0 * n_parameters)


def log_sum_exp(values, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(values)))`` along ``axis``, without overflow.

    A slice whose values are all ``-inf`` gives ``-inf`` (an empty sum), without a
    warning; one that holds ``+inf`` gives ``+inf``.

    Parameters
    ----------
    values : array-like
    axis : int
    keepdims : bool

    Returns
    -------
    ndarray
    """
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        values = values.astype(np.float64)
    top = np.max(values, axis=axis, keepdims=True, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):  # log(0) of an all -inf slice is -inf
        total = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    return total if keepdims else np.squeeze(total, axis=axis)


def component_log_densities(X, weights, means, full_covariances) -> np.ndarray:
    """``log w_k + log N(x | mu_k, Sigma_k)`` for every point and component.

    Through each covariance's Cholesky factor (a closed form in two dimensions). A
    component whose covariance is not positive definite, or whose weight is 0, has
    ``-inf`` for every point.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    full_covariances : array-like of shape (n_components, n_features, n_features)
        Full matrices (:func:`full_covariances` turns any type's into these).

    Returns
    -------
    log_prob : ndarray of shape (n_samples, n_components)
        float64. ``log_sum_exp(log_prob, axis=1)`` is the mixture's log-density.
    """
    means = np.asarray(means, dtype=np.float64)
    covariances = np.asarray(full_covariances, dtype=np.float64)
    n_components, n_features = means.shape
    X = np.asarray(X, dtype=np.float64).reshape(-1, n_features)
    with np.errstate(divide="ignore"):
        log_weights = np.log(np.asarray(weights, dtype=np.float64))  # [K]
    if n_features == 2:
        return _log_densities_2d(X, log_weights, means, covariances)
    out = np.full((X.shape[0], n_components), -np.inf)  # [n, K]
    for k in range(n_components):
        try:
            lower = np.linalg.cholesky(covariances[k])  # [D, D]
        except np.linalg.LinAlgError:
            continue
        diagonal = np.diagonal(lower)
        if not (np.all(diagonal > 0) and np.all(np.isfinite(lower))):
            continue
        z = np.linalg.solve(lower, (X - means[k]).T)  # [D, n]
        log_det = 2.0 * np.log(diagonal).sum()
        out[:, k] = log_weights[k] - 0.5 * (n_features * _LOG_2PI + log_det + (z * z).sum(0))
    return out


def _log_densities_2d(X, log_weights, means, covariances) -> np.ndarray:
    """:func:`component_log_densities` for two features: ``Sigma = [[a, b], [b, c]]``."""
    a = covariances[:, 0, 0]  # [K]
    b = covariances[:, 0, 1]
    c = covariances[:, 1, 1]
    det = a * c - b * b  # [K]
    good = (a > 0) & (det > 0) & np.isfinite(det)  # [K] positive definite
    a, b, c = (np.where(good, v, 1.0) for v in (a, b, c))
    det = np.where(good, det, 1.0)
    dx = X[:, 0:1] - means[None, :, 0]  # [n, K]
    dy = X[:, 1:2] - means[None, :, 1]  # [n, K]
    maha = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det  # [n, K]
    log_prob = log_weights - _LOG_2PI - 0.5 * np.log(det) - 0.5 * maha
    return np.where(good, log_prob, -np.inf)

"""Collapse detection: which components of a fitted mixture have degenerated.

A component is *collapsed* when any of these falls below its threshold:

- its weight, below :data:`MIN_WEIGHT`;
- its effective number of points (weight times the number of points), below
  :data:`MIN_EFFECTIVE_POINTS`: a Gaussian fitted to fewer than two points has no shape;
- its smallest covariance eigenvalue relative to the data's spread (the mean of the
  per-axis variances of the points), below :data:`MIN_VARIANCE_RATIO`: its narrowest
  standard deviation is under 1% of the data's. Data with no spread at all (one point, or
  one point repeated) leave every component collapsed on it.

Pure numpy, no Qt, no torch: the worker calls it for every snapshot, and
:func:`worst_explained` picks where :class:`app.training.trainer.Trainer` re-seeds them.
"""

from __future__ import annotations

import numpy as np

#: A component lighter than this is collapsed.
MIN_WEIGHT = 1e-3

#: A component explaining fewer points than this (weight x points) is collapsed.
MIN_EFFECTIVE_POINTS = 2.0

#: A component whose smallest variance is below this fraction of the data's mean
#: per-axis variance is collapsed (its narrowest sd under 1% of the data's).
MIN_VARIANCE_RATIO = 1e-4


def data_spread(X: np.ndarray) -> float:
    """Mean of the per-axis variances of the points (0 for fewer than two)."""
    if X.shape[0] < 2:
        return 0.0
    # Column by column: no (n, D) temporary, and far faster on C-ordered points.
    return float(np.mean([X[:, j].var() for j in range(X.shape[1])]))


def smallest_eigenvalues(covariances: np.ndarray) -> np.ndarray:
    """Smallest eigenvalue of each symmetric (D, D) matrix, shape (K,) (closed form in 2-D)."""
    if covariances.shape[-1] != 2:
        if not np.isfinite(covariances).all():
            return np.full(covariances.shape[0], np.nan)
        return np.linalg.eigvalsh(covariances)[:, 0]
    a, b, c = covariances[:, 0, 0], covariances[:, 0, 1], covariances[:, 1, 1]
    return 0.5 * (a + c) - np.hypot(0.5 * (a - c), b)


def collapsed_components(
    weights: np.ndarray,
    covariances: np.ndarray,
    X: np.ndarray,
    reg_covar: float = 0.0,
    spread: float | None = None,
) -> tuple[int, ...]:
    """Indices of the collapsed components (see the module docstring).

    Parameters
    ----------
    weights : ndarray of shape (K,)
    covariances : ndarray of shape (K, D, D)
    X : ndarray of shape (n, D)
        The points the model learnt.
    reg_covar : float
        The regulariser the model was fitted with (unused by the test, kept so that a
        component exactly at the regulariser on data with no spread reads as collapsed).
    spread : float, optional
        ``data_spread(X)``, when the caller knows it already.

    Returns
    -------
    collapsed : tuple of int
    """
    n = X.shape[0]
    if n == 0 or weights.shape[0] == 0:
        return ()
    weights = np.asarray(weights, dtype=np.float64)
    spread = data_spread(X) if spread is None else spread
    with np.errstate(invalid="ignore"):
        flat = ~(smallest_eigenvalues(covariances) >= MIN_VARIANCE_RATIO * spread)
        if not spread > max(reg_covar, 0.0):
            flat[:] = True  # no spread at all: every component sits on the same place
    light = ~(weights >= MIN_WEIGHT)
    few = ~(weights * n >= MIN_EFFECTIVE_POINTS)
    return tuple(int(k) for k in np.flatnonzero(flat | light | few))


def worst_explained(log_density: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` points with the lowest log-density, lowest first, distinct."""
    count = min(count, log_density.shape[0])
    order = np.argsort(log_density, kind="stable")
    return order[:count]

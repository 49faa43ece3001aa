"""The priors of a Bayesian Gaussian mixture: hyper-parameters checked, defaults from the data.

scikit-learn's rules and messages (``sklearn/mixture/_bayesian_mixture.py``): a prior not
given is taken from the data (the weighted mean, the weighted unbiased covariance), and a
given one is checked for its shape and its sign.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array

from .._validation import check_choice, check_positive_int
from ._variational import PRIOR_TYPES


@dataclass(frozen=True)
class Priors:
    """The ``*_prior_`` values of a fit (scikit-learn's fitted attributes of those names)."""

    weight_concentration: float
    mean_precision: float
    mean: np.ndarray  # [D]
    degrees_of_freedom: float
    covariance: np.ndarray | float  # (D, D) full and tied, (D,) diag, a number spherical


def _check_positive_or_none(value, name: str) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be None or a finite number > 0, got {value!r}.")


def check_prior_hyper_parameters(estimator) -> None:
    """Check the hyper-parameters of the priors that need no data."""
    check_choice(
        estimator.weight_concentration_prior_type, "weight_concentration_prior_type", PRIOR_TYPES
    )
    for name in ("weight_concentration_prior", "mean_precision_prior", "degrees_of_freedom_prior"):
        _check_positive_or_none(getattr(estimator, name), name)
    prior = estimator.covariance_prior
    if isinstance(prior, numbers.Real) and not isinstance(prior, bool):
        _check_positive_or_none(prior, "covariance_prior")
    if estimator.memory is not None:
        check_positive_int(estimator.memory, "memory")


def _check_shape(param: np.ndarray, shape: tuple, name: str) -> None:
    if param.shape != shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {shape}, but got {param.shape}"
        )


def _weighted_moments(X: np.ndarray, weights: np.ndarray | None):
    """The (weighted) mean (D,) and unbiased covariance (D, D) of the rows of ``X``.

    Weights count repeated rows: integer weights give the moments of the repeated rows.
    """
    if weights is None:
        return X.mean(axis=0), np.atleast_2d(np.cov(X.T))
    total = weights.sum()
    mean = weights @ X / total  # [D]
    centred = X - mean  # [n, D]
    covariance = (weights[:, None] * centred).T @ centred / (total - 1)  # [D, D]
    return mean, covariance


def data_priors(estimator, X: np.ndarray, weights: np.ndarray | None = None) -> Priors:
    """The priors of a fit of ``estimator`` on ``X`` (n, D), with optional row ``weights``.

    Raises
    ------
    ValueError
        If a given prior has the wrong shape or sign, ``degrees_of_freedom_prior`` is not
        above ``n_features - 1``, or the data (total weight) are too few for the default
        covariance prior.
    """
    n_samples, n_features = X.shape
    total = n_samples if weights is None else float(weights.sum())
    covariance_type = estimator.covariance_type
    K = estimator.n_components
    concentration = (
        1.0 / K
        if estimator.weight_concentration_prior is None
        else estimator.weight_concentration_prior
    )
    mean_precision = (
        1.0 if estimator.mean_precision_prior is None else estimator.mean_precision_prior
    )
    need_moments = estimator.mean_prior is None or estimator.covariance_prior is None
    if need_moments and total <= 1:
        raise ValueError(
            "BayesianGaussianMixture takes its default mean_prior and covariance_prior from "
            f"the data and needs more than one sample for them, got n_samples={n_samples}"
            f"{'' if weights is None else f' of total weight {total:g}'}; add samples or give "
            "mean_prior and covariance_prior."
        )
    mean, covariance = _weighted_moments(X, weights) if need_moments else (None, None)
    if estimator.mean_prior is None:
        mean_prior = mean
    else:
        mean_prior = check_array(
            estimator.mean_prior, dtype=[np.float64, np.float32], ensure_2d=False
        )
        _check_shape(mean_prior, (n_features,), "means")
    if estimator.degrees_of_freedom_prior is None:
        degrees_of_freedom = n_features
    elif estimator.degrees_of_freedom_prior > n_features - 1.0:
        degrees_of_freedom = estimator.degrees_of_freedom_prior
    else:
        raise ValueError(
            "The parameter 'degrees_of_freedom_prior' should be greater than "
            f"{n_features - 1}, but got {estimator.degrees_of_freedom_prior:.3f}."
        )
    return Priors(
        concentration,
        mean_precision,
        mean_prior,
        degrees_of_freedom,
        _covariance_prior(estimator.covariance_prior, covariance_type, n_features, covariance),
    )


def _covariance_prior(given, covariance_type: str, n_features: int, covariance):
    """scikit-learn's ``covariance_prior_``: from the data's covariance, or checked."""
    if given is None:
        variances = np.diag(covariance).copy()
        return {
            "full": covariance,
            "tied": covariance,
            "diag": variances,
            "spherical": variances.mean(),
        }[covariance_type]
    if covariance_type == "spherical":
        if isinstance(given, bool) or not isinstance(given, numbers.Real):
            raise ValueError(
                f"spherical covariance_prior must be a number > 0, got {type(given).__name__}."
            )
        return given
    prior = check_array(given, dtype=[np.float64, np.float32], ensure_2d=False)
    if covariance_type in ("full", "tied"):
        _check_shape(prior, (n_features, n_features), f"{covariance_type} covariance_prior")
        if not (np.allclose(prior, prior.T) and np.all(np.linalg.eigvalsh(prior) > 0.0)):
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, positive-definite"
            )
    else:
        _check_shape(prior, (n_features,), f"{covariance_type} covariance_prior")
        if np.any(prior <= 0.0):
            raise ValueError(f"'{covariance_type} precision' should be positive")
    return prior

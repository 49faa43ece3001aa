"""Input checking: every public entry point turns user input into tensors here, or refuses it."""

from __future__ import annotations

import numbers

import numpy as np
import torch

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


def as_numpy_2d(X, *, name: str = "X", allow_single: bool = False) -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape (n_samples, n_features).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        The data. With ``allow_single``, a 1-D array of shape (n_features,) is one sample.
    name : str
        The argument's name, used in error messages.
    allow_single : bool
        Whether a 1-D input is read as a single sample.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        If the input is not numeric, has the wrong number of dimensions, holds no samples
        or no features, or contains NaN or infinite values.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a numeric array of shape (n_samples, n_features); "
            f"could not convert it to numbers ({error})."
        ) from None
    if array.ndim == 1 and allow_single:
        array = array[None, :]
    if array.ndim != 2:
        hint = (
            " For a single feature use X.reshape(-1, 1); for a single sample X.reshape(1, -1)."
            if array.ndim == 1
            else ""
        )
        raise ValueError(
            f"{name} must be 2-D of shape (n_samples, n_features), got an array with "
            f"{array.ndim} dimension(s) and shape {array.shape}.{hint}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {array.shape}); pass at least one row.")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no features (shape {array.shape}).")
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} contains NaN or infinite values (first at row {bad[0]}, column {bad[1]}); "
            "remove or impute them before fitting."
        )
    return array


def check_n_features(X: np.ndarray, n_features: int | None, *, name: str = "X") -> None:
    """Refuse data whose number of features differs from the fitted model's."""
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model was fitted with {n_features}."
        )


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer of at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_non_negative(value, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def check_choice(value, name: str, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_init_array(array, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return an initial-parameter array of exactly ``shape`` as finite float64, else raise."""
    values = as_numpy_nd(array, name)
    if values.shape != shape:
        raise ValueError(
            f"{name} must have shape {shape} for this covariance_type, n_components and data, "
            f"got {values.shape}."
        )
    return values


def as_numpy_nd(array, name: str) -> np.ndarray:
    """Return ``array`` as a finite float64 array of any shape, else raise."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    try:
        values = np.array(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array.") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return values


def check_weights(weights, n_components: int) -> np.ndarray:
    """Check initial mixture weights: shape (n_components,), non-negative, summing to 1."""
    weights = check_init_array(weights, "weights_init", (n_components,))
    if (weights < 0).any():
        raise ValueError(f"weights_init must be non-negative, got minimum {weights.min()}.")
    if not np.isclose(weights.sum(), 1.0, rtol=0.0, atol=1e-8):
        raise ValueError(
            f"weights_init must sum to 1, got {weights.sum():.10g}; divide it by its sum."
        )
    return weights

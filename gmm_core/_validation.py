"""Input checking: every public entry point turns user input into arrays here, or refuses it.

Data goes through scikit-learn's own ``validate_data`` (so that ``n_features_in_``,
feature names, sparse, complex and object input behave as in any scikit-learn estimator);
hyper-parameters and initial parameters are checked here with messages that say what to
change.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state as sklearn_check_random_state
from sklearn.utils.validation import validate_data

from .parts.covariance import COVARIANCE_TYPES, expand, is_positive_definite

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def check_data(estimator, X, *, reset: bool, allow_single: bool = False) -> np.ndarray:
    """Validate ``X`` for ``estimator`` and return it as a float64 or float32 array.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` (and ``feature_names_in_``) when ``reset``; otherwise
        ``X`` must have the number of features it was fitted with.
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        With ``allow_single``, a 1-D input of shape (n_features,) is one sample.
    reset : bool
    allow_single : bool

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float32 input stays float32; anything else becomes float64.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if allow_single and np.ndim(X) == 1:
        X = np.reshape(X, (1, -1))
    if not reset and _is_plain_array_for(estimator, X):
        return X
    return validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32])


def _is_plain_array_for(estimator, X) -> bool:
    """Whether ``X`` is a finite float array that a fitted ``estimator`` takes as it is.

    The common case of a click or a chunk, answered without scikit-learn's
    ``validate_data`` (about 100 microseconds a call, more than the update of one point);
    anything else (lists, frames, other dtypes, feature names) goes through it.
    """
    return (
        type(X) is np.ndarray
        and X.dtype in (np.float64, np.float32)
        and X.ndim == 2
        and X.shape[0] > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", None)
        and not hasattr(estimator, "feature_names_in_")
        and bool(np.isfinite(X).all())
    )


def data_tensor(array: np.ndarray, device=None) -> torch.Tensor:
    """``array`` as a tensor sharing its memory, read-only arrays included.

    torch warns that it may not write to a read-only array's memory; gmm_core never
    writes into the data, and a copy would double the memory of a fit (10,000,000 rows
    of two columns: 160 MB more).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.as_tensor(array, device=device)


def torch_dtype(dtype, data_dtype=np.float64) -> torch.dtype:
    """The torch dtype to work in: ``dtype`` when given, else the data's (float32 or 64)."""
    if dtype is None:
        return torch.float32 if np.dtype(data_dtype) == np.float32 else torch.float64
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    if dtype in (torch.float64, torch.float32):
        return dtype
    raise ValueError(
        f"dtype must be None (follow the data), torch.float64 or torch.float32, got {dtype!r}."
    )


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer of at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _finite(value: numbers.Real) -> bool:
    """Whether a real number is finite as a float (an int too large for one is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def check_non_negative(value, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not _finite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def check_random_state(value):
    """Return ``random_state`` if scikit-learn's ``check_random_state`` accepts it, else raise.

    None, an integer in [0, 2**32), a ``numpy.random.RandomState``, and (gmm_core's
    extension) a ``numpy.random.Generator``. Checked without building a generator, so the
    check costs nothing per ``partial_fit`` call. The message is scikit-learn's.
    """
    if value is None or isinstance(value, np.random.RandomState | np.random.Generator):
        return value
    if isinstance(value, numbers.Integral) and 0 <= value < 2**32:
        return value
    sklearn_check_random_state(value)  # raises scikit-learn's own error
    raise ValueError(f"{value!r} cannot be used to seed a numpy.random.RandomState instance")


def numpy_generator(random_state) -> np.random.Generator:
    """A numpy Generator from a checked ``random_state`` (None, int, RandomState, Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(None if random_state is None else int(random_state))


def check_choice(value, name: str, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_mixture_parameters(estimator) -> None:
    """Check the hyper-parameters every mixture estimator in gmm_core shares."""
    check_positive_int(estimator.n_components, "n_components")
    check_choice(estimator.covariance_type, "covariance_type", tuple(COVARIANCE_TYPES))
    check_non_negative(estimator.tol, "tol")
    check_non_negative(estimator.reg_covar, "reg_covar")
    check_positive_int(estimator.max_iter, "max_iter", minimum=0)
    check_positive_int(estimator.n_init, "n_init")
    check_choice(estimator.init_params, "init_params", INIT_PARAMS)
    check_positive_int(estimator.verbose, "verbose", minimum=0)
    check_positive_int(estimator.verbose_interval, "verbose_interval")
    torch_dtype(estimator.dtype)
    check_random_state(estimator.random_state)
    if estimator.precisions_init is not None and estimator.covariances_init is not None:
        raise ValueError("Give precisions_init or covariances_init, not both.")


def check_frozen_components(estimator) -> tuple[int, ...]:
    """``estimator.frozen_components`` as a sorted tuple of indices (empty: none), else raise.

    None or an empty sequence freeze nothing. Otherwise: distinct integers in
    ``[0, n_components)``, and a start to hold them at: ``means_init`` and one of
    ``precisions_init`` or ``covariances_init``.
    """
    value = estimator.frozen_components
    if value is None:
        return ()
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes) or np.ndim(value) != 1:
        raise ValueError(
            "frozen_components must be None or a sequence of component indices, such as "
            f"[0, 2]; got {value!r}."
        )
    K = estimator.n_components
    indices = []
    for index in value:
        if isinstance(index, bool | np.bool_) or not isinstance(index, numbers.Integral):
            raise ValueError(
                f"frozen_components must hold integer component indices; got {index!r} in "
                f"{value!r}."
            )
        if not 0 <= index < K:
            raise ValueError(
                f"frozen_components holds {int(index)}, out of range for n_components={K}: "
                f"give indices in [0, {K - 1}]."
            )
        indices.append(int(index))
    if len(set(indices)) != len(indices):
        raise ValueError(
            f"frozen_components holds repeated indices {sorted(indices)}: give each once."
        )
    if indices and (
        estimator.means_init is None
        or (estimator.precisions_init is None and estimator.covariances_init is None)
    ):
        raise ValueError(
            "frozen_components needs the start the frozen components are held at: give "
            "means_init and one of precisions_init or covariances_init (for every "
            "component; the others only start there)."
        )
    return tuple(sorted(indices))


def as_numpy_nd(array, name: str) -> np.ndarray:
    """Return ``array`` as a finite float array of any shape (float32 kept), else raise."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    try:
        values = np.asarray(array)
        values = np.array(values, dtype=np.float32 if values.dtype == np.float32 else np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array.") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return values


def check_init_array(array, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return an initial-parameter array of exactly ``shape`` as finite floats, else raise."""
    values = as_numpy_nd(array, name)
    if values.shape != shape:
        raise ValueError(
            f"{name} must have shape {shape} for this covariance_type, n_components and data, "
            f"got {values.shape}."
        )
    return values


def check_weights(weights, n_components: int) -> np.ndarray:
    """Check initial mixture weights: shape (n_components,), non-negative, summing to 1.

    The sum may miss 1 by the rounding of the weights' own dtype (float32 or float64).
    """
    weights = check_init_array(weights, "weights_init", (n_components,))
    if (weights < 0).any():
        raise ValueError(f"weights_init must be non-negative, got minimum {weights.min()}.")
    atol = max(1e-8, 4 * n_components * np.finfo(weights.dtype).eps)
    if abs(float(weights.sum(dtype=np.float64)) - 1.0) > atol:
        raise ValueError(
            f"weights_init must sum to 1, got {weights.sum():.10g}; divide it by its sum."
        )
    return weights


def check_initial_parameters(estimator, n_features: int) -> dict:
    """The user-given initial parameters of ``estimator`` as arrays (None where not given).

    Returns
    -------
    dict
        ``weights`` (K,), ``means`` (K, D), and ``covariances`` or ``precisions`` in the
        covariance type's shape.
    """
    K, D = estimator.n_components, n_features
    kind = estimator.covariance_type
    given = {"weights": None, "means": None, "covariances": None, "precisions": None}
    if estimator.weights_init is not None:
        given["weights"] = check_weights(estimator.weights_init, K)
    if estimator.means_init is not None:
        given["means"] = check_init_array(estimator.means_init, "means_init", (K, D))
    for name in ("precisions", "covariances"):
        value = getattr(estimator, f"{name}_init")
        if value is None:
            continue
        typed = check_init_array(value, f"{name}_init", COVARIANCE_TYPES[kind].shape(K, D))
        if not is_positive_definite(
            expand(kind, torch.as_tensor(typed, dtype=torch.float64), K, D)
        ):
            raise ValueError(
                f"{name}_init must be positive definite: symmetric matrices with positive "
                "eigenvalues, or positive variances for 'diag' and 'spherical'."
            )
        given[name] = typed
    return given


def check_finite_model(model) -> None:
    """Refuse a training step that left a non-finite parameter (overflow or underflow)."""
    names = ("weights_", "means_", "covariances_", "precisions_cholesky_")
    # One check of all four (3 us) on a click's path; the loop below names the culprit.
    if np.isfinite(np.concatenate([getattr(model, name).ravel() for name in names])).all():
        return
    for name in names:
        if not np.isfinite(getattr(model, name)).all():
            raise ValueError(
                f"Training gave non-finite {name} (the data's scale overflows "
                f"{getattr(model, name).dtype} in this computation); divide the data by its "
                "scale before fitting, and scale the model back."
            )


def check_enough_samples(X: np.ndarray, n_components: int) -> None:
    """Refuse fewer samples than components."""
    if X.shape[0] < n_components:
        raise ValueError(
            f"Expected n_samples >= n_components, got n_samples={X.shape[0]} and "
            f"n_components={n_components}; add points or lower n_components."
        )


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 array of shape (n_samples,), or None when not given.

    A weight counts its row that many times: integer weights train as the repeated rows,
    a zero weight as the row left out.

    Raises
    ------
    ValueError
        If there is not one weight per row, a weight is negative, NaN or infinite, or all
        weights are zero.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, torch.Tensor):
        sample_weight = sample_weight.detach().cpu().numpy()
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numbers, one per row of X.") from None
    if weights.ndim == 0:
        raise ValueError("sample_weight must be an array of one weight per row, not a number.")
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {weights.shape} for {n_samples} rows of X; give one "
            "weight per row."
        )
    bad = ~np.isfinite(weights)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"sample_weight must be finite; row {row} has {weights[row]}. Give every row a "
            "finite weight >= 0 (0 leaves it out)."
        )
    if (weights < 0).any():
        row = int(np.flatnonzero(weights < 0)[0])
        raise ValueError(
            f"sample_weight must be non-negative; row {row} has {weights[row]:g}. Give every "
            "row a weight >= 0 (0 leaves it out)."
        )
    if not (weights > 0).any():
        raise ValueError(
            "sample_weight is zero for every row, which leaves no data; give at least one "
            "row a positive weight."
        )
    return weights

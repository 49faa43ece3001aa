"""JSON-safe dictionaries for models: plain lists and numbers out, strict checks in.

Nothing here pickles: a dictionary is read key by key, every array is checked for its
shape and for finite values, and anything unexpected is a ``ValueError``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import torch

from .._initialization import parameters_from_covariances
from .._validation import DTYPES, as_numpy_nd
from ..parts.covariance import COVARIANCE_TYPES, expand, is_positive_definite

FORMAT_VERSION = 1
# Entries only a fitted model's dictionary has (besides 'parameters').
FITTED_ENTRIES = (
    "state",
    "statistics",
    "incremental",
    "module",
    "optimizer",
    "scaling",
    "internal",
    "variational",
)
INIT_ARRAYS = ("weights_init", "means_init", "precisions_init", "covariances_init")
# An optional entry the loader checks but the model does not keep: the names of the data
# columns the model was fitted on, one per feature, as ``gmm-core fit --out`` saves them.
COLUMNS = "columns"


def json_array(array) -> list | None:
    """A numpy array as nested lists of Python floats (None stays None)."""
    return None if array is None else np.asarray(array, dtype=np.float64).tolist()


def json_value(value):
    """A hyper-parameter as a JSON value: arrays become nested lists."""
    if isinstance(value, np.ndarray):
        return json_array(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def require_mapping(data, name: str) -> Mapping:
    """``data`` if it is a dictionary, else a ValueError naming it."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{name} must be a dictionary, got {type(data).__name__}.")
    return data


def require_key(data: Mapping, key: str, name: str):
    """``data[key]``, or a ValueError that says which key is missing."""
    if key not in data:
        raise ValueError(f"{name} has no {key!r} entry; it is not a saved model.")
    return data[key]


def read_array(data: Mapping, key: str, shape: tuple | None = None, *, name: str) -> np.ndarray:
    """A finite float64 array from ``data[key]``, of ``shape`` when given.

    Parameters
    ----------
    data : mapping
    key : str
    shape : tuple of int or None, optional
        Expected shape; ``None`` inside the tuple accepts any length on that axis.
    name : str
        Where the entry sits, for messages.

    Returns
    -------
    array : ndarray
    """
    value = require_key(data, key, name)
    if isinstance(value, bool | str) or value is None:
        raise ValueError(f"{name}[{key!r}] must be numbers, got {value!r}.")
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}[{key!r}] must be a (nested) list of numbers.") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name}[{key!r}] contains non-finite numbers.")
    if shape is not None and (
        array.ndim != len(shape)
        or any(
            want is not None and got != want for got, want in zip(array.shape, shape, strict=False)
        )
    ):
        raise ValueError(f"{name}[{key!r}] has shape {array.shape}, expected {shape}.")
    return array


def read_number(data: Mapping, key: str, *, name: str, integer: bool = False):
    """A finite number from ``data[key]``; an int when ``integer``."""
    value = require_key(data, key, name)
    kind = numbers.Integral if integer else numbers.Real
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or (integer and not -(2**63) < value < 2**63)
        or not np.isfinite(float(value))
    ):
        expected = "an integer" if integer else "a finite number"
        raise ValueError(f"{name}[{key!r}] must be {expected}, got {value!r}.")
    return int(value) if integer else float(value)


def check_matches(saved: np.ndarray, rebuilt, entry: str, source: str, dtype="float64") -> None:
    """Refuse a saved array that differs from what ``source`` rebuilds (beyond rounding).

    Parameters
    ----------
    saved : ndarray
        The array read from the dictionary.
    rebuilt : ndarray or Tensor
        The same quantity recomputed from other entries.
    entry, source : str
        Names for the message.
    dtype : str
        The model's dtype: float32 models are compared at float32's rounding.
    """
    if isinstance(rebuilt, torch.Tensor):
        rebuilt = rebuilt.detach().cpu().double().numpy()
    rebuilt = np.asarray(rebuilt, dtype=np.float64)
    tol = 1e-4 if dtype == "float32" else 1e-7
    with np.errstate(all="ignore"):
        size = float(np.max(np.abs(rebuilt), initial=0.0))
        close = (
            saved.shape == rebuilt.shape
            and np.isfinite(rebuilt).all()
            and bool(np.all(np.abs(saved - rebuilt) <= tol * np.abs(rebuilt) + 1e-3 * tol * size))
        )
    if not close:
        raise ValueError(f"{entry} does not match {source}; the dictionary was altered.")


def check_type(data: Mapping, expected: str) -> None:
    """Refuse a dictionary that describes another kind of model or format."""
    require_mapping(data, "the model dictionary")
    kind = require_key(data, "type", "the model dictionary")
    if kind != expected:
        raise ValueError(f"This dictionary describes a {kind!r}, not a {expected!r}.")
    version = require_key(data, "format_version", "the model dictionary")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"Unsupported format_version {version!r}; this gmm_core reads {FORMAT_VERSION}."
        )


def read_columns(data: Mapping, n_features: int | None = None) -> list[str] | None:
    """The column names saved beside a model (``data['columns']``), or None when absent.

    Parameters
    ----------
    data : mapping
        A model dictionary.
    n_features : int or None
        The model's number of features; None for an unfitted model.

    Returns
    -------
    columns : list of str or None
        Distinct non-empty names, one per feature.
    """
    columns = data.get(COLUMNS)
    if columns is None:
        return None
    if (
        not isinstance(columns, list)
        or not all(isinstance(name, str) and name for name in columns)
        or len(set(columns)) != len(columns)
    ):
        raise ValueError(f"data[{COLUMNS!r}] must be a list of distinct non-empty column names.")
    if n_features is not None and len(columns) != n_features:
        raise ValueError(
            f"data[{COLUMNS!r}] names {len(columns)} columns, but the model has "
            f"{n_features} features."
        )
    return list(columns)


def _finite_or_none(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def hyper_parameter_names(cls) -> list[str]:
    """What ``to_dict`` saves of an estimator's arguments: all but ``device`` and ``distributed``.

    Neither a device nor a process group belongs in a file: a model loads on the CPU, alone.
    """
    return [name for name in cls._get_param_names() if name not in ("device", "distributed")]


def describe_model(model) -> dict:
    """The part of ``to_dict`` every estimator shares: type, hyper-parameters, parameters.

    Returns
    -------
    dict
        ``type``, ``format_version``, ``hyper_parameters`` and ``parameters`` (None when
        unfitted), and for a fitted model ``state`` (convergence, counts, bounds, dtype).
    """
    hyper = {}
    for name in hyper_parameter_names(type(model)):
        value = getattr(model, name)
        if name in INIT_ARRAYS:
            value = None if value is None else json_array(as_numpy_nd(value, name))
        elif name == "dtype":
            value = None if value is None else str(value).removeprefix("torch.")
        elif name == "frozen_components" and value is not None:
            value = np.asarray(value).tolist()  # indices as Python ints, in the given order
        elif name == "random_state" and not isinstance(value, int | None):
            value = None  # a numpy Generator has no JSON form
        hyper[name] = json_value(value)
    described = {
        "type": type(model).__name__,
        "format_version": FORMAT_VERSION,
        "hyper_parameters": hyper,
        "parameters": None,
    }
    if not model.__sklearn_is_fitted__():
        return described
    described["parameters"] = {
        "weights": json_array(model.weights_),
        "means": json_array(model.means_),
        "covariances": json_array(model.covariances_),
        "precisions_cholesky": json_array(model.precisions_cholesky_),
    }
    described["state"] = {
        "converged": bool(getattr(model, "converged_", False)),
        "n_iter": int(getattr(model, "n_iter_", 0)),
        "lower_bound": _finite_or_none(getattr(model, "lower_bound_", None)),
        "lower_bounds": [float(v) for v in getattr(model, "lower_bounds_", [])],
        "n_samples_seen": int(getattr(model, "n_samples_seen_", 0)),
        "dtype": str(model.means_.dtype),
    }
    return described


def _read_hyper_parameters(cls, data: Mapping) -> dict:
    """Constructor arguments from ``data['hyper_parameters']``, with their types checked."""
    name = "data['hyper_parameters']"
    hyper = dict(require_mapping(require_key(data, "hyper_parameters", "data"), name))
    unknown = set(hyper) - set(hyper_parameter_names(cls))
    if unknown:
        raise ValueError(f"Unknown hyper-parameters {sorted(unknown)}.")
    dtype = hyper.get("dtype")
    if dtype is not None and (not isinstance(dtype, str) or dtype not in DTYPES):
        raise ValueError(f"dtype must be null, 'float64' or 'float32', got {dtype!r}.")
    hyper["dtype"] = None if dtype is None else DTYPES[dtype]
    for key in INIT_ARRAYS:
        if hyper.get(key) is not None:
            hyper[key] = read_array(hyper, key, name=name)
    if not isinstance(hyper.get("warm_start", False), bool):
        raise ValueError(f"{name}['warm_start'] must be true or false.")
    if hyper.get("random_state") is not None:
        read_number(hyper, "random_state", name=name, integer=True)
    return hyper


def load_model(cls, data):
    """The part of ``from_dict`` every estimator shares; checks every entry it reads.

    Returns
    -------
    model
        Constructed from the saved hyper-parameters and, when the dictionary holds a fitted
        model, with its fitted attributes set.
    """
    check_type(data, cls.__name__)
    model = cls(**_read_hyper_parameters(cls, data))
    model._check_parameters()
    parameters = require_key(data, "parameters", "data")
    if parameters is None:
        fitted = [key for key in FITTED_ENTRIES if data.get(key) is not None]
        if fitted:
            raise ValueError(
                f"data['parameters'] is null, but the dictionary holds a fitted model's {fitted}."
            )
        read_columns(data)
        return model
    name = "data['parameters']"
    require_mapping(parameters, name)
    means = read_array(parameters, "means", (None, None), name=name)
    K, D = means.shape
    if K < 1 or K > model.n_components or D < 1:
        raise ValueError(f"{name}['means'] has shape {means.shape}: K or D out of range.")
    typed_shape = COVARIANCE_TYPES[model.covariance_type].shape(K, D)
    weights = read_array(parameters, "weights", (K,), name=name)
    covariances = read_array(parameters, "covariances", typed_shape, name=name)
    factor = read_array(parameters, "precisions_cholesky", typed_shape, name=name)
    if (weights < 0).any() or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"{name}['weights'] must be non-negative and sum to 1.")
    where = "data['state']"
    dtype = require_mapping(require_key(data, "state", "data"), where).get("dtype", "float64")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ValueError(f"{where}['dtype'] must be 'float64' or 'float32', got {dtype!r}.")
    full = expand(model.covariance_type, torch.as_tensor(covariances), K, D)
    # float32 models were symmetric at float32's rounding.
    if not is_positive_definite(full, rtol=1e-5 if dtype == "float32" else 1e-10):
        raise ValueError(f"{name}['covariances'] must be symmetric positive definite.")
    try:
        rebuilt = parameters_from_covariances(
            model.covariance_type,
            torch.as_tensor(weights),
            torch.as_tensor(means),
            torch.as_tensor(covariances),
        ).precisions_cholesky
    except ValueError:
        raise ValueError(f"{name}['covariances'] must be symmetric positive definite.") from None
    check_matches(
        factor, rebuilt, f"{name}['precisions_cholesky']", f"{name}['covariances']", dtype
    )
    state = require_mapping(require_key(data, "state", "data"), where)
    converged = require_key(state, "converged", where)
    if not isinstance(converged, bool):
        raise ValueError(f"{where}['converged'] must be true or false, got {converged!r}.")
    bound = require_key(state, "lower_bound", where)
    bounds = (
        read_array(state, "lower_bounds", (None,), name=where) if "lower_bounds" in state else []
    )
    model.weights_, model.means_ = weights.astype(dtype), means.astype(dtype)
    model.covariances_, model.precisions_cholesky_ = covariances.astype(dtype), factor.astype(dtype)
    model.converged_ = converged
    model.n_iter_ = read_number(state, "n_iter", name=where, integer=True)
    model.n_samples_seen_ = read_number(state, "n_samples_seen", name=where, integer=True)
    for key in ("n_iter", "n_samples_seen"):
        if not 0 <= getattr(model, f"{key}_") < 2**63:
            raise ValueError(f"{where}[{key!r}] must be an integer in [0, 2**63).")
    model.lower_bound_ = -np.inf if bound is None else read_number(state, "lower_bound", name=where)
    model.lower_bounds_ = [float(value) for value in bounds]
    model.n_features_in_ = D
    read_columns(data, D)
    return model

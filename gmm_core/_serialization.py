"""JSON-safe dictionaries for models: plain lists and numbers out, strict checks in.

Nothing here pickles: a dictionary is read key by key, every array is checked for its
shape and for finite values, and anything unexpected is a ``ValueError``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

FORMAT_VERSION = 1


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
    if isinstance(value, bool) or not isinstance(value, kind) or not np.isfinite(value):
        expected = "an integer" if integer else "a finite number"
        raise ValueError(f"{name}[{key!r}] must be {expected}, got {value!r}.")
    return int(value) if integer else float(value)


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

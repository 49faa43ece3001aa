"""Strict loading of a saved incremental-EM state: shapes, types and finiteness checked."""

from __future__ import annotations

import numbers

import numpy as np

FORMAT = "gmm_core.IncrementalEM/1"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _array(d: dict, key: str, shape: tuple) -> np.ndarray:
    """``d[key]`` as a finite float64 array of exactly ``shape``."""
    if key not in d:
        raise ValueError(f"Incremental state is missing {key!r}.")
    try:
        array = np.array(d[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Incremental state {key!r} must be an array of numbers.") from None
    if array.size == 0 and int(np.prod(shape)) == 0:
        array = array.reshape(shape)
    if array.shape != shape:
        raise ValueError(f"Incremental state {key!r} has shape {array.shape}, expected {shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"Incremental state {key!r} contains NaN or infinite values.")
    return array


def _number(d: dict, key: str, kind=numbers.Real, minimum=None):
    """``d[key]`` as a finite number of ``kind``, at least ``minimum``."""
    if key not in d:
        raise ValueError(f"Incremental state is missing {key!r}.")
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"Incremental state {key!r} must be a number, got {value!r}.")
    if not np.isfinite(float(value)):
        raise ValueError(f"Incremental state {key!r} must be finite, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"Incremental state {key!r} must be at least {minimum}, got {value!r}.")
    return value


def _generator(state) -> np.random.Generator:
    if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
        raise ValueError(
            f"Incremental state 'random_state' must be a bit generator state, one of "
            f"{_BIT_GENERATORS}."
        )
    bit_generator = getattr(np.random, state["bit_generator"])()
    if state["bit_generator"] == "MT19937":
        inner = dict(state["state"])
        inner["key"] = np.asarray(inner["key"], dtype=np.uint32)
        state = {**state, "state": inner}
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"Incremental state 'random_state' is not valid ({error}).") from None
    return np.random.Generator(bit_generator)


def load_state(cls, d: dict):
    """An ``IncrementalEM`` of class ``cls`` from the dictionary of its ``to_dict``.

    Raises
    ------
    ValueError
        If a key is missing, an array has the wrong shape, or a number is not finite.
    """
    from ._online import COVARIANCE_TYPES

    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"Not a saved incremental state: expected format {FORMAT!r}.")
    n_components = _number(d, "n_components", numbers.Integral, 1)
    D = _number(d, "n_features", numbers.Integral, 1)
    if d.get("covariance_type") not in COVARIANCE_TYPES:
        raise ValueError(f"Incremental state 'covariance_type' must be one of {COVARIANCE_TYPES}.")
    memory = d.get("memory")
    if memory is not None:
        memory = _number(d, "memory", numbers.Integral, 1)
    state = cls(
        n_components,
        D,
        covariance_type=d["covariance_type"],
        reg_covar=float(_number(d, "reg_covar", minimum=0.0)),
        memory=memory,
        random_state=_generator(d.get("random_state")),
    )
    counts = _array(d, "counts", (len(d.get("counts", ())),))
    K = counts.shape[0]
    if K > n_components:
        raise ValueError(f"Incremental state has {K} components, more than n_components.")
    rows = len(d.get("buffer_points", ()))
    capacity = state._buffer_points.shape[0]
    if rows > capacity:
        raise ValueError(f"Incremental state buffer holds {rows} points, at most {capacity}.")
    state._counts = counts
    state._means = _array(d, "means", (K, D))
    state._covs = _array(d, "covariances", (K, D, D))
    state._frozen_counts = _array(d, "frozen_counts", (K,))
    state._frozen_means = _array(d, "frozen_means", (K, D))
    state._frozen_covs = _array(d, "frozen_covariances", (K, D, D))
    if (counts < 0).any() or (state._frozen_counts < 0).any():
        raise ValueError("Incremental state counts must not be negative.")
    state._buffer_points[:rows] = _array(d, "buffer_points", (rows, D))
    state._buffer_weights[:rows, :K] = _array(d, "buffer_weights", (rows, K))
    if memory is not None:
        state._buffer_decay[:rows, :K] = _array(d, "buffer_decay", (rows, K))
    state._buffer_size = rows
    state.n_seen = _number(d, "n_seen", numbers.Integral, 0)
    state._overall_count = float(_number(d, "overall_count", minimum=0.0))
    state._overall_mean = _array(d, "overall_mean", (D,))
    state._overall_scatter = _array(d, "overall_scatter", (D,))
    state._fallback_variance = float(_number(d, "fallback_variance", minimum=0.0))
    state._interval = _number(d, "interval", numbers.Integral, 1)
    state._next_sweep = _number(d, "next_sweep", numbers.Integral, 0)
    novel = d.get("novel")
    if not isinstance(novel, list) or not all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in novel
    ):
        raise ValueError("Incremental state 'novel' must be a list of integers.")
    state._novel = [int(n) for n in novel]
    state._last_sweep = _number(d, "last_sweep", numbers.Integral, 0)
    state._publish()
    return state


def dump_state(state) -> dict:
    """Every running statistic of an ``IncrementalEM`` as JSON-safe lists and numbers."""
    rows, K = state._buffer_size, state.n_active
    decay = state._buffer_decay
    return {
        "format": FORMAT,
        "n_components": state.n_components,
        "n_features": state.n_features,
        "covariance_type": state.covariance_type,
        "reg_covar": state.reg_covar,
        "memory": state.memory,
        "n_seen": state.n_seen,
        "counts": state._counts.tolist(),
        "means": state._means.tolist(),
        "covariances": state._covs.tolist(),
        "frozen_counts": state._frozen_counts.tolist(),
        "frozen_means": state._frozen_means.tolist(),
        "frozen_covariances": state._frozen_covs.tolist(),
        "buffer_points": state._buffer_points[:rows].tolist(),
        "buffer_weights": state._buffer_weights[:rows, :K].tolist(),
        "buffer_decay": None if decay is None else decay[:rows, :K].tolist(),
        "overall_count": state._overall_count,
        "overall_mean": state._overall_mean.tolist(),
        "overall_scatter": state._overall_scatter.tolist(),
        "fallback_variance": state._fallback_variance,
        "interval": state._interval,
        "next_sweep": state._next_sweep,
        "novel": list(state._novel),
        "last_sweep": state._last_sweep,
        "random_state": _json_safe(state.random_state.bit_generator.state),
    }


def _json_safe(value):
    """Nested dictionaries and lists of plain numbers, for a bit generator's state."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value

"""Saving and strictly loading an incremental-EM state: shapes, types and finiteness checked.

The dictionary format (``FORMAT``) is that of every model saved so far; it names each
running statistic of an :class:`~.state.OnlineState` and the random generator's state.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..parts.covariance import COVARIANCE_TYPES
from .buffer import RecentPoints
from .schedule import SweepSchedule
from .state import DataScale, OnlineState, Settings
from .statistics import Statistics

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


def _length(d: dict, key: str) -> int:
    """The length of the list ``d[key]`` (0 when missing, which :func:`_array` refuses)."""
    value = d.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"Incremental state {key!r} must be a list, got {type(value).__name__}.")
    return len(value)


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
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"Incremental state 'random_state' is not valid ({error}).") from None
    return np.random.Generator(bit_generator)


def load(d: dict) -> tuple[OnlineState, np.random.Generator]:
    """The state and random generator saved by :func:`dump`.

    Raises
    ------
    ValueError
        If a key is missing, an array has the wrong shape, or a number is not finite.
    """
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"Not a saved incremental state: expected format {FORMAT!r}.")
    n_components = _number(d, "n_components", numbers.Integral, 1)
    D = _number(d, "n_features", numbers.Integral, 1)
    if (
        not isinstance(d.get("covariance_type"), str)
        or d["covariance_type"] not in COVARIANCE_TYPES
    ):
        raise ValueError(
            f"Incremental state 'covariance_type' must be one of {tuple(COVARIANCE_TYPES)}."
        )
    memory = d.get("memory")
    if memory is not None:
        memory = _number(d, "memory", numbers.Integral, 1)
    settings = Settings(
        int(n_components),
        int(D),
        d["covariance_type"],
        float(_number(d, "reg_covar", minimum=0.0)),
        None if memory is None else int(memory),
    )
    random_state = _generator(d.get("random_state"))
    counts = _array(d, "counts", (_length(d, "counts"),))
    K = counts.shape[0]
    if K > n_components:
        raise ValueError(f"Incremental state has {K} components, more than n_components.")
    running = Statistics(counts, _array(d, "means", (K, D)), _array(d, "covariances", (K, D, D)))
    frozen = Statistics(
        _array(d, "frozen_counts", (K,)),
        _array(d, "frozen_means", (K, D)),
        _array(d, "frozen_covariances", (K, D, D)),
    )
    if (running.counts < 0).any() or (frozen.counts < 0).any():
        raise ValueError("Incremental state counts must not be negative.")
    rows = _length(d, "buffer_points")
    buffer = RecentPoints.from_arrays(
        _array(d, "buffer_points", (rows, D)),
        _array(d, "buffer_weights", (rows, K)),
        None if memory is None else _array(d, "buffer_decay", (rows, K)),
        n_components,
    )
    scale = DataScale(
        float(_number(d, "overall_count", minimum=0.0)),
        _array(d, "overall_mean", (D,)),
        _array(d, "overall_scatter", (D,)),
        float(_number(d, "fallback_variance", minimum=0.0)),
    )
    novel = d.get("novel")
    if not isinstance(novel, list) or not all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in novel
    ):
        raise ValueError("Incremental state 'novel' must be a list of integers.")
    schedule = SweepSchedule(
        int(_number(d, "interval", numbers.Integral, 1)),
        int(_number(d, "next_sweep", numbers.Integral, 0)),
        [int(n) for n in novel],
        int(_number(d, "last_sweep", numbers.Integral, 0)),
    )
    n_seen = int(_number(d, "n_seen", numbers.Integral, 0))
    state = OnlineState(settings, running, frozen, buffer, scale, schedule, n_seen)
    return state, random_state


def dump(state: OnlineState, random_state: np.random.Generator) -> dict:
    """Every running statistic of a state as JSON-safe lists and numbers.

    Parameters
    ----------
    state : OnlineState
    random_state : numpy.random.Generator

    Returns
    -------
    dict
        :func:`load` rebuilds exactly this state and generator from it.
    """
    s, K = state.settings, state.n_active
    decay = state.buffer.decay(K)
    return {
        "format": FORMAT,
        "n_components": s.n_components,
        "n_features": s.n_features,
        "covariance_type": s.covariance_type,
        "reg_covar": s.reg_covar,
        "memory": s.memory,
        "n_seen": state.n_seen,
        "counts": state.running.counts.tolist(),
        "means": state.running.means.tolist(),
        "covariances": state.running.covs.tolist(),
        "frozen_counts": state.frozen.counts.tolist(),
        "frozen_means": state.frozen.means.tolist(),
        "frozen_covariances": state.frozen.covs.tolist(),
        "buffer_points": state.buffer.points.tolist(),
        "buffer_weights": state.buffer.weights(K).tolist(),
        "buffer_decay": None if decay is None else decay.tolist(),
        "overall_count": state.scale.count,
        "overall_mean": state.scale.mean.tolist(),
        "overall_scatter": state.scale.scatter.tolist(),
        "fallback_variance": state.scale.fallback_variance,
        "interval": state.schedule.interval,
        "next_sweep": state.schedule.next_sweep,
        "novel": list(state.schedule.novel),
        "last_sweep": state.schedule.last_sweep,
        "random_state": _json_safe(random_state.bit_generator.state),
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


# Entries of the saved state that are points (or means), and second moments.
_POINTS = ("means", "frozen_means", "buffer_points", "overall_mean")
_SECOND_MOMENTS = ("covariances", "frozen_covariances", "overall_scatter")


def change_units(d: dict, change, reg_covar: float) -> dict:
    """A saved state (:func:`dump`'s dictionary) re-expressed in other units.

    Parameters
    ----------
    d : dict
    change : gmm_core.scaling.data_scaling.UnitChange
        ``x -> x * 2**exponent + offset``, applied to every point and mean; second
        moments and the fallback variance are scaled by ``4**exponent``.
    reg_covar : float
        The regulariser in the new units.

    Returns
    -------
    dict
        A new dictionary; counts, weights and the schedule are unchanged.
    """
    moved = dict(d)
    for key in _POINTS:
        moved[key] = (
            change.point(np.array(d[key], dtype=np.float64).reshape(-1, len(change.offset)))
            .reshape(np.shape(d[key]))
            .tolist()
        )
    for key in _SECOND_MOMENTS:
        moved[key] = change.covariance(np.array(d[key], dtype=np.float64)).tolist()
    moved["fallback_variance"] = float(change.covariance(d["fallback_variance"]))
    moved["reg_covar"] = float(reg_covar)
    return moved

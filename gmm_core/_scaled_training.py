"""Training on data far from unit size through an inner model of the scaled data.

When the first data an estimator trains on are not ordinary (:func:`._scaling.is_ordinary`:
coordinates or spread beyond about 1e-100..1e100, or offsets beyond 1e4 times the
spread), it keeps a
:class:`~._scaling.DataScaling` (``_scaling``) chosen from them and an estimator of its own
class (``_inner``) that trains on the centred, scaled data with ``reg_covar`` in internal
units; after every call (and every pass of ``iter_fit``) the inner model's parameters are
published mapped back to data units, or refused with a ``ValueError`` when the dtype
cannot hold them. The scaling stays fixed while new data fit in it; data that would be
far from unit size inside widen it, and the inner model's state (statistics, incremental
state, module) is re-expressed exactly in the new units (only the shift rounds).

Ordinary data never come here: :meth:`BaseMixture.fit` and
:meth:`GaussianMixture.partial_fit` ask once, for the first data, and a model trained on
ordinary data keeps training on the data as given.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from ._scaling import DataScaling, check_representable, is_ordinary, smallest_variance
from ._serialization import check_matches, read_array, read_number, require_mapping
from ._validation import check_initial_parameters, torch_dtype

# Fitted attributes copied from the inner model as they are (when it has them).
_COPIED = ("converged_", "n_iter_", "n_samples_seen_")


def _numpy_dtype(model, data_dtype) -> np.dtype:
    """The numpy dtype ``model`` trains in for data of ``data_dtype``."""
    if torch_dtype(model.dtype, data_dtype) == torch.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _prepare(model, array: np.ndarray, continuing: bool):
    """``(scaling, inner, dtype)`` to train ``model`` on ``array`` with, or None to train as is.

    A new scaling and inner model for a fresh start on data that are not ordinary; the
    current ones (widened if ``array`` falls far outside) when a scaled model continues.
    """
    if not model._may_rescale():
        return None
    scaling = getattr(model, "_scaling", None)
    fitted_dtype = model.means_.dtype if continuing else array.dtype
    dtype = _numpy_dtype(model, fitted_dtype)
    if continuing and scaling is not None:
        inner = model._inner
        if scaling.covers(scaling.internal(array), dtype):
            scaling = scaling.widened_bounds(array)
        else:
            widened = scaling.widened(array, model.reg_covar, dtype)
            inner, scaling = rescaled(inner, scaling, widened, model.reg_covar), widened
    elif continuing or is_ordinary(array, model.reg_covar, dtype):
        model._scaling = model._inner = None
        return None
    else:
        scaling = DataScaling.of_data(array, model.reg_covar, dtype)
        inner = _new_inner(model)
    _sync(inner, model, scaling, array.shape[1])
    return scaling, inner, dtype


def fit(model, array: np.ndarray, warm: bool) -> bool:
    """Train ``model`` on validated ``array`` as :meth:`BaseMixture.fit` would, if scaled.

    Returns
    -------
    bool
        False when ``model`` trains on ``array`` as it is (nothing was done).
    """
    prepared = _prepare(model, array, warm)
    if prepared is None:
        return False
    scaling, inner, dtype = prepared
    with _explained(model, scaling, dtype):
        # The inner model's own fit, less its convergence warning: the outer fit gives it.
        inner._check_parameters()
        inner_warm = bool(inner.warm_start) and inner._can_continue()
        inner_array, data = inner._training_data(scaling.internal(array), reset=not inner_warm)
        inner._fit_loop(inner_array, data, inner_warm)
        _adopt(model, inner, scaling)
    return True


def iter_fit(model, array: np.ndarray, continuing: bool, max_iter: int) -> Iterator | None:
    """The passes of :meth:`BaseMixture.iter_fit` through the inner model, or None."""
    prepared = _prepare(model, array, continuing)
    if prepared is None:
        return None
    scaling, inner, dtype = prepared
    return _passes(model, inner, scaling, dtype, scaling.internal(array), max_iter)


def _passes(model, inner, scaling: DataScaling, dtype, internal: np.ndarray, max_iter: int):
    passes = inner.iter_fit(internal, max_iter)
    while True:
        with _explained(model, scaling, dtype):
            if next(passes, None) is None:
                return
            _adopt(model, inner, scaling)
        yield model


def partial_fit(model, array: np.ndarray, fitted: bool) -> bool:
    """Learn validated ``array`` (n, D) incrementally through the inner model, if scaled.

    Returns
    -------
    bool
        False when ``model`` learns ``array`` as it is (nothing was done).
    """
    scaling = getattr(model, "_scaling", None)
    if fitted and scaling is None:
        return False
    if not model._may_rescale():
        return False
    dtype = _numpy_dtype(model, model.means_.dtype if fitted else array.dtype)
    checkpoint = None
    if not fitted:
        if is_ordinary(array, model.reg_covar, dtype):
            return False
        scaling = DataScaling.of_data(array, model.reg_covar, dtype)
        inner = _new_inner(model)
    elif scaling.covers(scaling.internal(array), dtype):
        inner = model._inner
        scaling = scaling.widened_bounds(array)
        checkpoint = {n: v for n, v in vars(inner).items() if n in inner._state_names()}
    else:
        widened = scaling.widened(array, model.reg_covar, dtype)
        inner, scaling = rescaled(model._inner, scaling, widened, model.reg_covar), widened
    _sync(inner, model, scaling, array.shape[1])
    try:
        with _explained(model, scaling, dtype):
            inner.partial_fit(scaling.internal(array))
            _adopt(model, inner, scaling)
    except ValueError:
        if checkpoint is not None:  # the inner model learned what the outer one refuses
            inner._restore_state(checkpoint | {"_incremental": None})
        raise
    return True


@contextmanager
def _explained(model, scaling: DataScaling, dtype):
    """Train the inner model quietly (the result is checked); say why when the scale is at fault.

    Over- and underflow inside are expected on the way to a refusal, so numpy's warnings
    are silenced. When ``reg_covar`` is below what the dtype resolves beside the data's
    span, a refused inner model (a singular covariance) is explained by the span. ``dtype``
    is the numpy dtype trained in.
    """
    try:
        with np.errstate(all="ignore"):
            yield
    except ValueError as error:
        reg = float(model.reg_covar)
        lost = reg > 0 and scaling.internal_reg(reg) < smallest_variance(dtype)
        if not lost or "can represent" in str(error):
            raise
        with np.errstate(over="ignore"):
            span = 2 * float(np.max(scaling.high / 2 - scaling.low / 2))
        raise ValueError(
            f"The data span about {span:.3g}, too wide beside reg_covar={reg:g}: their "
            f"squared ratio is beyond {np.dtype(dtype).name}'s range, and it can represent "
            "no model that holds both. Divide the data by a constant, or increase reg_covar "
            f"({error})"
        ) from None


def _new_inner(model):
    """An estimator of ``model``'s class that trains on data as given (never scales again)."""
    inner = type(model)()
    inner._rescalable = False
    return inner


def _sync(inner, model, scaling: DataScaling, n_features: int) -> None:
    """Give ``inner`` the hyper-parameters of ``model``, in internal units."""
    given = check_initial_parameters(model, n_features)
    params = model.get_params(deep=False)
    params["reg_covar"] = scaling.internal_reg(model.reg_covar)
    params["weights_init"] = given["weights"]
    params["means_init"] = None if given["means"] is None else scaling.internal(given["means"])
    for name, internal in (
        ("covariances", scaling.internal_covariances),
        ("precisions", scaling.internal_precisions),
    ):
        params[f"{name}_init"] = None if given[name] is None else internal(given[name])
    if "distributed" in params:
        params["distributed"] = False
    inner.set_params(**params)


def _adopt(model, inner, scaling: DataScaling) -> None:
    """Publish ``inner``'s parameters in data units on ``model``, or refuse them.

    Raises
    ------
    ValueError
        If a parameter in data units is beyond the dtype's range (nothing is changed).
    """
    dtype = inner.means_.dtype
    means = scaling.means(inner.means_)
    covariances = scaling.covariances(inner.covariances_)
    factor = scaling.precisions_cholesky(inner.precisions_cholesky_)
    internal = (inner.covariances_, model.covariance_type, scaling.exponent)
    check_representable(dtype, model.covariance_type, means, covariances, factor, internal=internal)
    n_features = means.shape[1]
    model.weights_ = np.array(inner.weights_, dtype=dtype)
    model.means_ = means.astype(dtype)
    model.covariances_ = covariances.astype(dtype)
    model.precisions_cholesky_ = factor.astype(dtype)
    for name in _COPIED:
        if hasattr(inner, name):
            setattr(model, name, getattr(inner, name))
    model.lower_bound_ = scaling.log_density(getattr(inner, "lower_bound_", -np.inf), n_features)
    model.lower_bounds_ = [
        scaling.log_density(value, n_features) for value in getattr(inner, "lower_bounds_", [])
    ]
    model.n_features_in_ = n_features
    model._scaling, model._inner = scaling, inner
    model._follow_inner(inner, scaling)


def rescaled(inner, old: DataScaling, new: DataScaling, reg_covar: float):
    """A copy of the inner model ``inner``, re-expressed from ``old``'s units in ``new``'s.

    Exact but for the rounding of the shift (and values that under- or overflow).
    """
    with np.errstate(over="ignore", under="ignore"):  # the result is checked when published
        return _rescaled(inner, old.change_to(new), new.internal_reg(reg_covar))


def _rescaled(inner, change, reg_covar: float):
    moved = copy.deepcopy(inner)
    dtype = inner.means_.dtype
    n_features = inner.means_.shape[1]
    moved.means_ = change.point(inner.means_).astype(dtype)
    moved.covariances_ = change.covariance(inner.covariances_).astype(dtype)
    moved.precisions_cholesky_ = change.precision_cholesky(inner.precisions_cholesky_).astype(dtype)
    moved.lower_bound_ = change.log_density(getattr(inner, "lower_bound_", -np.inf), n_features)
    moved.lower_bounds_ = [
        change.log_density(value, n_features) for value in getattr(inner, "lower_bounds_", [])
    ]
    moved.reg_covar = reg_covar
    moved._change_units(change, reg_covar)
    return moved


# -- saving --------------------------------------------------------------------------------


def saved(model) -> dict | None:
    """What ``to_dict`` saves of a scaled model instead of its own extras; None if not scaled."""
    scaling = getattr(model, "_scaling", None)
    if scaling is None:
        return None
    return {
        "scaling": {
            "shift": scaling.shift.tolist(),
            "exponent": int(scaling.exponent),
            "low": scaling.low.tolist(),
            "high": scaling.high.tolist(),
        },
        "internal": model._inner.to_dict(),
    }


def load(model, data) -> bool:
    """Restore a scaled model's scaling and inner model; False when ``data`` has none.

    Raises
    ------
    ValueError
        If the scaling or the inner model is not valid, or the inner model's parameters
        mapped to data units are not the saved parameters (to rounding).
    """
    entry = data.get("scaling")
    if entry is None:
        return False
    name = "data['scaling']"
    require_mapping(entry, name)
    n_features = model.means_.shape[1]
    shift, low, high = (
        read_array(entry, key, (n_features,), name=name) for key in ("shift", "low", "high")
    )
    exponent = read_number(entry, "exponent", name=name, integer=True)
    if not -2200 < exponent < 2200:
        raise ValueError(f"{name}['exponent'] must be an integer in (-2200, 2200).")
    scaling = DataScaling(shift, exponent, low, high)
    internal = require_mapping(data.get("internal"), "data['internal']")
    if internal.get("scaling") is not None:
        raise ValueError("data['internal'] must not be scaled itself.")
    inner = type(model).from_dict(internal)
    inner._rescalable = False
    if not inner.__sklearn_is_fitted__() or inner.means_.shape != model.means_.shape:
        raise ValueError("data['internal'] must be a fitted model of the same shape.")
    for key in ("n_components", "covariance_type", "memory", "lr"):
        if getattr(inner, key, None) != getattr(model, key, None):
            raise ValueError(f"data['internal'] has another {key} than the model.")
    if not np.isclose(inner.reg_covar, scaling.internal_reg(model.reg_covar), rtol=1e-12, atol=0):
        raise ValueError("data['internal'] has another reg_covar than the model's, scaled.")
    dtype = str(model.means_.dtype)
    with np.errstate(all="ignore"):
        rebuilt = (
            ("weights", inner.weights_),
            ("means", scaling.means(inner.means_)),
            ("covariances", scaling.covariances(inner.covariances_)),
            ("precisions_cholesky", scaling.precisions_cholesky(inner.precisions_cholesky_)),
        )
    for key, value in rebuilt:
        saved_value = getattr(model, f"{key}_")
        check_matches(saved_value, value, f"data['parameters'][{key!r}]", "data['internal']", dtype)
    model._scaling, model._inner = scaling, inner
    model._follow_inner(inner, scaling)
    return True

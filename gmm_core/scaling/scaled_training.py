"""Training on data far from unit size through an inner model of the scaled data.

When the first data an estimator trains on are not ordinary (:func:`.data_scaling.is_ordinary`:
coordinates or spread beyond about 1e-100..1e100, or offsets beyond 1e4 times the
spread), it holds a :class:`ScaledTraining` (``_scaled``): a
:class:`~.data_scaling.DataScaling` chosen from them and an estimator of its own class (the
inner model) that trains on the centred, scaled data with ``reg_covar`` in internal
units. After every call (and every pass of ``iter_fit``) the functions here return the
next ``ScaledTraining`` with the inner model's parameters mapped back to data units, or
refuse them with a ``ValueError`` when the dtype cannot hold them; the estimator sets
them (``BaseMixture._adopt``). The scaling stays fixed while new data fit in it; data
that would be far from unit size inside widen it, and a copy of the inner model is
re-expressed exactly in the new units (only the shift rounds).

Ordinary data never come here: :meth:`BaseMixture.fit` and
:meth:`GaussianMixture.partial_fit` ask once, for the first data, and a model trained on
ordinary data keeps training on the data as given.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import check_initial_parameters, torch_dtype
from ..fitted.serialization import check_matches, read_array, read_number, require_mapping
from .data_scaling import DataScaling, check_representable, is_ordinary, smallest_variance

# Fitted attributes copied from the inner model as they are (when it has them).
_COPIED = ("converged_", "n_iter_", "n_samples_seen_")


@dataclass(frozen=True)
class ScaledTraining:
    """The scaling of data far from unit size and the model that trains on them scaled.

    Never changed: training returns the next one. The inner model is trained in place
    while the scaling holds, and replaced by a re-expressed copy when it widens.

    Attributes
    ----------
    scaling : DataScaling
    inner : BaseMixture
        An estimator of the outer one's class that trains on the data as given
        (``_as_inner``), in internal units.
    """

    scaling: DataScaling
    inner: Any

    @classmethod
    def of_data(cls, model, array: np.ndarray, dtype) -> ScaledTraining:
        """A new scaling chosen from ``array`` (n, D) and a new inner model for ``model``."""
        return cls(DataScaling.of_data(array, model.reg_covar, dtype), type(model)()._as_inner())

    def extended(self, array: np.ndarray, reg_covar: float, dtype) -> ScaledTraining:
        """The training that counts ``array`` (n, D) among the data seen.

        The same shift and scale while ``array`` fits in them; else a widened scaling and
        a copy of the inner model re-expressed in its units (exact but for the rounding of
        the shift, and values that under- or overflow).
        """
        scaling = self.scaling
        if scaling.covers(scaling.internal(array), dtype):
            return ScaledTraining(scaling.widened_bounds(array), self.inner)
        widened = scaling.widened(array, reg_covar, dtype)
        with np.errstate(all="ignore"):  # the result is checked when published
            inner = _moved(self.inner, scaling.change_to(widened), widened.internal_reg(reg_covar))
        return ScaledTraining(widened, inner)

    def published(self, covariance_type: str) -> dict[str, Any]:
        """The outer model's fitted attributes: the inner model's, in data units.

        Raises
        ------
        ValueError
            If a parameter in data units is beyond the dtype's range.
        """
        inner, scaling = self.inner, self.scaling
        dtype = inner.means_.dtype
        means = scaling.means(inner.means_)
        covariances = scaling.covariances(inner.covariances_)
        factor = scaling.precisions_cholesky(inner.precisions_cholesky_)
        internal = (inner.covariances_, covariance_type, scaling.exponent)
        check_representable(dtype, covariance_type, means, covariances, factor, internal=internal)
        n_features = means.shape[1]
        fitted = {
            "weights_": np.array(inner.weights_, dtype=dtype),
            "means_": means.astype(dtype),
            "covariances_": covariances.astype(dtype),
            "precisions_cholesky_": factor.astype(dtype),
        }
        fitted.update((name, getattr(inner, name)) for name in _COPIED if hasattr(inner, name))
        fitted["lower_bound_"] = inner._bound_in_units(
            getattr(inner, "lower_bound_", -np.inf), scaling.log_density
        )
        fitted["lower_bounds_"] = [
            inner._bound_in_units(value, scaling.log_density)
            for value in getattr(inner, "lower_bounds_", [])
        ]
        fitted["n_features_in_"] = n_features
        return fitted

    # -- saving --------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """What ``to_dict`` saves of a scaled model instead of its own extras."""
        scaling = self.scaling
        return {
            "scaling": {
                "shift": scaling.shift.tolist(),
                "exponent": int(scaling.exponent),
                "low": scaling.low.tolist(),
                "high": scaling.high.tolist(),
            },
            "internal": self.inner.to_dict(),
        }

    @classmethod
    def from_dict(cls, model, data) -> ScaledTraining | None:
        """The scaled training saved in ``data`` for the loaded ``model``; None if it has none.

        Raises
        ------
        ValueError
            If the scaling or the inner model is not valid, or the inner model's parameters
            mapped to data units are not the saved parameters (to rounding).
        """
        entry = data.get("scaling")
        if entry is None:
            return None
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
        inner = type(model).from_dict(internal)._as_inner()
        if not inner.__sklearn_is_fitted__() or inner.means_.shape != model.means_.shape:
            raise ValueError("data['internal'] must be a fitted model of the same shape.")
        for key in ("n_components", "covariance_type", "memory", "lr"):
            if getattr(inner, key, None) != getattr(model, key, None):
                raise ValueError(f"data['internal'] has another {key} than the model.")
        internal_reg = scaling.internal_reg(model.reg_covar)
        if not np.isclose(inner.reg_covar, internal_reg, rtol=1e-12, atol=0):
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
            saved = getattr(model, f"{key}_")
            check_matches(saved, value, f"data['parameters'][{key!r}]", "data['internal']", dtype)
        return cls(scaling, inner)


def _moved(inner, change, reg_covar: float):
    """A copy of ``inner`` re-expressed in new units (a ``UnitChange``)."""
    dtype = inner.means_.dtype
    fitted = {
        "means_": change.point(inner.means_).astype(dtype),
        "covariances_": change.covariance(inner.covariances_).astype(dtype),
        "precisions_cholesky_": change.precision_cholesky(inner.precisions_cholesky_).astype(dtype),
        "lower_bound_": inner._bound_in_units(
            getattr(inner, "lower_bound_", -np.inf), change.log_density
        ),
        "lower_bounds_": [
            inner._bound_in_units(value, change.log_density)
            for value in getattr(inner, "lower_bounds_", [])
        ],
    }
    moved = copy.deepcopy(inner)
    moved._change_units(change, reg_covar, fitted)
    return moved


# -- training --------------------------------------------------------------------------------

Trained = tuple[ScaledTraining, dict[str, Any]]


def _numpy_dtype(model, data_dtype) -> np.dtype:
    """The numpy dtype ``model`` trains in for data of ``data_dtype``."""
    if torch_dtype(model.dtype, data_dtype) == torch.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _prepare(model, current: ScaledTraining | None, array: np.ndarray, continuing: bool):
    """``(scaled, dtype)`` to train ``model`` on ``array`` with, or None to train as is.

    A new scaling and inner model for a fresh start on data that are not ordinary; the
    ``current`` ones (widened if ``array`` falls far outside) when a scaled model continues.
    """
    if not model._may_rescale():
        return None
    dtype = _numpy_dtype(model, model.means_.dtype if continuing else array.dtype)
    if continuing and current is not None:
        # Re-expressing the inner model in wider units may under- or overflow: quietly,
        # and a refusal is explained by the span (as a refused training is).
        widened = current.scaling.widened(array, model.reg_covar, dtype)
        with _explained(model, widened, dtype):
            scaled = current.extended(array, model.reg_covar, dtype)
    elif continuing or is_ordinary(array, model.reg_covar, dtype):
        return None
    else:
        scaled = ScaledTraining.of_data(model, array, dtype)
    _sync(scaled, model, array.shape[1])
    return scaled, dtype


def fit(
    model, current: ScaledTraining | None, array: np.ndarray, warm: bool, sample_weight=None
) -> Trained | None:
    """Train on validated ``array`` as :meth:`BaseMixture.fit` would, if ``model`` scales it.

    ``current`` is the training ``model`` holds, if any; ``sample_weight`` the row
    weights :meth:`BaseMixture.fit` was given (checked here again by the inner model).

    Returns
    -------
    (ScaledTraining, dict) or None
        The training and the fitted attributes for ``model`` to set; None when ``model``
        trains on ``array`` as it is (nothing was done).
    """
    prepared = _prepare(model, current, array, warm)
    if prepared is None:
        return None
    scaled, dtype = prepared
    inner = scaled.inner
    with _explained(model, scaled.scaling, dtype):
        # The inner model's own fit, less its convergence warning: the outer fit gives it.
        inner._check_parameters()
        inner_warm = bool(inner.warm_start) and inner._can_continue()
        internal = scaled.scaling.internal(array)
        inner_array, data = inner._training_data(internal, reset=not inner_warm)
        weights = inner._training_weights(sample_weight, inner_array, data)
        inner._fit_loop(inner_array, data, inner_warm, weights)
        return scaled, scaled.published(model.covariance_type)


def iter_fit(
    model,
    current: ScaledTraining | None,
    array: np.ndarray,
    continuing: bool,
    max_iter: int,
    sample_weight=None,
) -> Iterator[Trained] | None:
    """The passes of :meth:`BaseMixture.iter_fit` through the inner model, or None.

    Each pass yields ``(ScaledTraining, dict)``, as :func:`fit` returns.
    """
    prepared = _prepare(model, current, array, continuing)
    if prepared is None:
        return None
    scaled, dtype = prepared
    internal = scaled.scaling.internal(array)
    return _passes(model, scaled, dtype, internal, max_iter, sample_weight)


def _passes(
    model, scaled: ScaledTraining, dtype, internal: np.ndarray, max_iter: int, sample_weight
):
    passes = scaled.inner.iter_fit(internal, max_iter, sample_weight=sample_weight)
    while True:
        with _explained(model, scaled.scaling, dtype):
            if next(passes, None) is None:
                return
            fitted = scaled.published(model.covariance_type)
        yield scaled, fitted


def partial_fit(
    model, current: ScaledTraining | None, array: np.ndarray, sample_weight=None
) -> Trained | None:
    """Learn validated ``array`` (n, D) incrementally through the inner model, if scaled.

    For an unfitted ``model`` (``current`` None) or the ``current`` training of a fitted one;
    ``sample_weight`` goes to the inner model's ``partial_fit``.

    Returns
    -------
    (ScaledTraining, dict) or None
        As :func:`fit`; None when ``model`` learns ``array`` as it is (nothing was done).
    """
    prepared = _prepare(model, current, array, current is not None)
    if prepared is None:
        return None
    scaled, dtype = prepared
    inner = scaled.inner
    checkpoint = None
    if current is not None and inner is current.inner:  # learns in place: keep what it was
        checkpoint = {n: v for n, v in vars(inner).items() if n in inner._state_names()}
    try:
        with _explained(model, scaled.scaling, dtype):
            inner.partial_fit(scaled.scaling.internal(array), sample_weight=sample_weight)
            return scaled, scaled.published(model.covariance_type)
    except ValueError:
        if checkpoint is not None:  # the inner model learned what the outer one refuses
            inner._restore_state(checkpoint | {"_incremental": None})
        raise


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


def _sync(scaled: ScaledTraining, model, n_features: int) -> None:
    """Give the inner model the hyper-parameters of ``model``, in internal units."""
    scaling = scaled.scaling
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
    scaled.inner.set_params(**model._in_internal_units(scaling, params))

"""What ``BayesianGaussianMixture.to_dict`` saves beyond the parameters, and loading it.

The variational posterior (weight concentrations, mean precisions, degrees of freedom)
and the priors in force are saved as ``variational``; loading refuses them unless they
give the saved weights (to rounding), so that an altered entry cannot load into a model
that scores as saved but trains on from something else.
"""

from __future__ import annotations

import numpy as np

from ..fitted.serialization import (
    check_matches,
    json_array,
    read_array,
    read_number,
    require_key,
    require_mapping,
)
from ._variational import mixture_weights

_WHERE = "data['variational']"


def saved_extras(model) -> dict:
    """The ``variational`` entry of a fitted model's dictionary (JSON-safe)."""
    concentration = model.weight_concentration_
    if isinstance(concentration, tuple):
        concentration = [json_array(part) for part in concentration]
    else:
        concentration = json_array(concentration)
    K = model.means_.shape[0]
    covariance = model.covariance_prior_
    return {
        "variational": {
            "weight_concentration": concentration,
            "mean_precision": json_array(model.mean_precision_),
            "degrees_of_freedom": json_array(
                np.broadcast_to(np.asarray(model.degrees_of_freedom_, dtype=np.float64), (K,))
            ),
            "priors": {
                "weight_concentration": float(model.weight_concentration_prior_),
                "mean_precision": float(model.mean_precision_prior_),
                "mean": json_array(model.mean_prior_),
                "degrees_of_freedom": float(model.degrees_of_freedom_prior_),
                "covariance": json_array(covariance) if np.ndim(covariance) else float(covariance),
            },
        }
    }


def _positive(array: np.ndarray, key: str) -> np.ndarray:
    if (array <= 0).any():
        raise ValueError(f"{_WHERE}[{key!r}] must be positive.")
    return array


def load_extras(model, data) -> None:
    """Set ``model``'s posterior and priors from ``data['variational']``, checked.

    Raises
    ------
    ValueError
        If the entry is missing, malformed, or its weight concentrations do not give the
        saved weights.
    """
    entry = require_mapping(require_key(data, "variational", "data"), _WHERE)
    K, D = model.means_.shape
    if model.weight_concentration_prior_type == "dirichlet_process":
        pair = require_key(entry, "weight_concentration", _WHERE)
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{_WHERE}['weight_concentration'] must be a pair of lists.")
        concentration = tuple(
            _positive(read_array({"part": part}, "part", (K,), name=_WHERE), "weight_concentration")
            for part in pair
        )
    else:
        concentration = _positive(
            read_array(entry, "weight_concentration", (K,), name=_WHERE), "weight_concentration"
        )
    mean_precision = _positive(
        read_array(entry, "mean_precision", (K,), name=_WHERE), "mean_precision"
    )
    nu = read_array(entry, "degrees_of_freedom", (K,), name=_WHERE)
    if (nu <= D - 1).any():
        raise ValueError(f"{_WHERE}['degrees_of_freedom'] must be above n_features - 1.")
    where = f"{_WHERE}['priors']"
    priors = require_mapping(require_key(entry, "priors", _WHERE), where)
    covariance_shape = {"full": (D, D), "tied": (D, D), "diag": (D,), "spherical": ()}[
        model.covariance_type
    ]
    covariance = read_array(priors, "covariance", covariance_shape, name=where)
    if model.covariance_type == "spherical":
        covariance = float(covariance)
    weights = mixture_weights(concentration, model.weight_concentration_prior_type)
    check_matches(
        model.weights_,
        weights,
        "data['parameters']['weights']",
        f"{_WHERE}['weight_concentration']",
        str(model.means_.dtype),
    )
    model.weight_concentration_ = concentration
    model.mean_precision_ = mean_precision
    model.degrees_of_freedom_ = float(nu[0]) if model.covariance_type == "tied" else nu
    model.weight_concentration_prior_ = read_number(priors, "weight_concentration", name=where)
    model.mean_precision_prior_ = read_number(priors, "mean_precision", name=where)
    model.mean_prior_ = read_array(priors, "mean", (D,), name=where)
    model.degrees_of_freedom_prior_ = read_number(priors, "degrees_of_freedom", name=where)
    model.covariance_prior_ = covariance

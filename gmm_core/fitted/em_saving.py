"""What ``GaussianMixture.to_dict`` saves beyond the parameters: EM's statistics, the engine.

Batch EM's sufficient statistics (``statistics``) and the incremental engine's state
(``incremental``) each determine the parameters, so loading refuses either unless the
parameters it gives are the saved ones (to rounding): an altered entry cannot load into a
model that scores as saved but trains on from something else.
"""

from __future__ import annotations

import numpy as np
import torch

from .._em import SufficientStatistics
from ..online import IncrementalEM
from ..parts.covariance import COVARIANCE_TYPES
from .serialization import (
    check_matches,
    json_array,
    read_array,
    read_number,
    require_mapping,
)


def saved_extras(statistics: SufficientStatistics | None, engine: IncrementalEM | None) -> dict:
    """The ``statistics`` and ``incremental`` entries of a fitted model's dictionary.

    Parameters
    ----------
    statistics : SufficientStatistics or None
        Batch EM's statistics of the last pass: counts (K,), means (K, D) and
        covariances (K, D, D).
    engine : IncrementalEM or None
        The incremental engine behind ``partial_fit``.

    Returns
    -------
    dict
        JSON-safe; an entry is None where there is nothing to save.
    """
    return {
        "statistics": None
        if statistics is None
        else {
            "counts": json_array(statistics.counts.cpu().numpy()),
            "means": json_array(statistics.means.cpu().numpy()),
            "covariances": json_array(statistics.covariances.cpu().numpy()),
            "log_likelihood": float(statistics.log_likelihood),
        },
        "incremental": None if engine is None else engine.to_dict(),
    }


def read_statistics(data, model, held=None) -> SufficientStatistics | None:
    """Batch EM's statistics from ``data['statistics']``, if any, checked against ``model``.

    Parameters
    ----------
    data : dict
        The whole dictionary being loaded.
    model : GaussianMixture
        Its published parameters, ``covariance_type`` and ``reg_covar`` already loaded.
    held : online.gaussian.Held, optional
        The model's frozen components: their means and covariances are the held ones,
        not the statistics' (their counts still give their weights).

    Returns
    -------
    SufficientStatistics or None
        Tensors in the parameters' dtype: counts (K,), means (K, D), covariances (K, D, D).

    Raises
    ------
    ValueError
        If an entry is missing or malformed, or the statistics do not give the saved
        weights, means and covariances.
    """
    statistics = data.get("statistics")
    if statistics is None:
        return None
    K, D = model.means_.shape
    dtype = str(model.means_.dtype)
    name = "data['statistics']"
    require_mapping(statistics, name)
    shapes = (("counts", (K,)), ("means", (K, D)), ("covariances", (K, D, D)))
    counts, means, covariances = (
        read_array(statistics, key, shape, name=name) for key, shape in shapes
    )
    if (counts < 0).any() or not counts.sum() > 0:
        raise ValueError(f"{name}['counts'] must be non-negative with a positive sum.")
    kind = COVARIANCE_TYPES[model.covariance_type]
    weighted = counts + 10 * np.finfo(model.means_.dtype).eps
    as_tensor = torch.as_tensor
    typed = kind.regularize(
        kind.reduce(as_tensor(covariances), as_tensor(weighted)), model.reg_covar
    )
    held_means = means
    if held is not None:
        held_means, typed = means.copy(), typed.numpy().copy()
        held_means[held.indices] = held.means[held.indices]
        rows = slice(None) if held.shared else held.indices
        typed[rows] = kind.select_precision_cholesky(held.covariances, K)[rows]
    for key, saved, rebuilt in (
        ("weights", model.weights_, weighted / weighted.sum()),
        ("means", model.means_, held_means),
        ("covariances", model.covariances_, typed),
    ):
        check_matches(saved, rebuilt, f"data['parameters'][{key!r}]", name, dtype)
    torch_type = torch.float32 if model.means_.dtype == np.float32 else torch.float64
    return SufficientStatistics(
        *(as_tensor(array, dtype=torch_type) for array in (counts, means, covariances)),
        read_number(statistics, "log_likelihood", name=name),
    )


def read_incremental(data, model, held=None) -> IncrementalEM | None:
    """The incremental engine from ``data['incremental']``, if any, checked against ``model``.

    Parameters
    ----------
    data : dict
        The whole dictionary being loaded.
    model : GaussianMixture
        Its published parameters, hyper-parameters and ``n_samples_seen_`` already loaded.
    held : online.gaussian.Held, optional
        The model's frozen components, which the engine holds (and publishes) again.

    Returns
    -------
    IncrementalEM or None

    Raises
    ------
    ValueError
        If the engine's state is not valid, its settings or count of points seen are not
        the model's, or the parameters it publishes are not the saved ones.
    """
    if data.get("incremental") is None:
        return None
    engine = IncrementalEM.from_dict(data["incremental"])
    name = "data['incremental']"
    if (
        engine.n_components != model.n_components
        or engine.n_features != model.means_.shape[1]
        or engine.covariance_type != model.covariance_type
        or engine.reg_covar != model.reg_covar
        or engine.memory != model.memory
    ):
        raise ValueError(
            f"{name} has other settings (n_components, n_features, covariance_type, "
            "reg_covar or memory) than the model."
        )
    if int(engine.n_seen) != model.n_samples_seen_:
        raise ValueError(f"{name}['n_seen'] does not match data['state'].")
    engine.hold(held)
    kind = COVARIANCE_TYPES[model.covariance_type]
    dtype = str(model.means_.dtype)
    with np.errstate(all="ignore"):
        published = (
            ("weights", model.weights_, engine.weights),
            ("means", model.means_, engine.means),
            ("covariances", model.covariances_, engine.covariances),
            ("precisions_cholesky", model.precisions_cholesky_, engine.precisions_cholesky),
        )
    for key, saved, rebuilt in published:
        rebuilt = np.asarray(rebuilt, dtype=np.float64)
        if key in ("covariances", "precisions_cholesky") and rebuilt.ndim == 3:
            rebuilt = kind.select_precision_cholesky(rebuilt, rebuilt.shape[0])
        check_matches(saved, rebuilt, f"data['parameters'][{key!r}]", name, dtype)
    return engine

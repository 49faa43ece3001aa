"""``GaussianMixture``: batch EM with scikit-learn's answers, and incremental EM."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator

import numpy as np
import torch

from . import _covariance
from ._base import MixtureBase, torch_generator
from ._covariance import COVARIANCE_TYPES
from ._em import SufficientStatistics, expectation_statistics, responsibility_statistics
from ._kmeans import initial_responsibilities
from ._serialization import (
    FORMAT_VERSION,
    check_type,
    json_array,
    json_value,
    read_array,
    read_number,
    require_key,
    require_mapping,
)
from ._validation import (
    COVARIANCE_TYPES as COVARIANCE_TYPE_NAMES,
)
from ._validation import (
    INIT_PARAMS,
    as_numpy_2d,
    check_choice,
    check_init_array,
    check_n_features,
    check_non_negative,
    check_positive_int,
    check_weights,
)


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the lower bound settled within ``tol``."""


# Everything ``fit`` and ``partial_fit`` may change; restored when a call is refused.
_FITTED_STATE = (
    "weights_",
    "means_",
    "covariances_",
    "precisions_cholesky_",
    "converged_",
    "n_iter_",
    "lower_bound_",
    "n_samples_seen_",
    "n_features_in_",
    "_statistics",
    "_incremental",
)


class GaussianMixture(MixtureBase):
    """Gaussian mixture model fitted by EM, in batch or incrementally.

    Shaped like :class:`sklearn.mixture.GaussianMixture`: from the same initial
    parameters it gives the same parameters, lower bound and scores, computed in
    float64 chunks with torch. It also learns incrementally with :meth:`partial_fit`
    and runs EM one pass at a time with :meth:`iter_fit`.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per sample changes by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, in squared data units.
    max_iter : int, default=100
        EM passes per initialisation.
    n_init : int, default=1
        Initialisations tried by :meth:`fit`; the one with the best lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        Shape (K, D, D) for 'full', (D, D) for 'tied', (K, D) for 'diag', (K,) for 'spherical'.
    covariances_init : array-like, optional
        Initial covariances in the same shapes; give this or ``precisions_init``, not both.
    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current parameters.
    random_state : int, numpy Generator or None
    device : str or torch.device, optional
        Where the computation runs (``"cuda"`` for a GPU); CPU by default.
    dtype : torch.dtype, default=torch.float64
    memory : int, optional
        Caps each component's running count in :meth:`partial_fit`, so that older points
        fade with a time constant of about ``memory`` points.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shaped by ``covariance_type`` as ``precisions_init``.
    precisions_cholesky_ : ndarray
        Cholesky factors of the precisions, in the same shapes.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample before the last M-step.
    n_samples_seen_ : int
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        covariances_init=None,
        warm_start=False,
        random_state=None,
        device=None,
        dtype=torch.float64,
        memory=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.covariances_init = covariances_init
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.memory = memory

    def __repr__(self) -> str:
        return (
            f"GaussianMixture(n_components={self.n_components}, "
            f"covariance_type={self.covariance_type!r})"
        )

    # -- checks -------------------------------------------------------------------------

    def _check_parameters(self) -> None:
        check_positive_int(self.n_components, "n_components")
        check_choice(self.covariance_type, "covariance_type", COVARIANCE_TYPE_NAMES)
        check_non_negative(self.tol, "tol")
        check_non_negative(self.reg_covar, "reg_covar")
        check_positive_int(self.max_iter, "max_iter")
        check_positive_int(self.n_init, "n_init")
        check_choice(self.init_params, "init_params", INIT_PARAMS)
        if self.memory is not None:
            check_positive_int(self.memory, "memory")
        if self.dtype not in (torch.float64, torch.float32):
            raise ValueError(f"dtype must be torch.float64 or torch.float32, got {self.dtype}.")
        if self.precisions_init is not None and self.covariances_init is not None:
            raise ValueError("Give precisions_init or covariances_init, not both.")

    def _check_initial_parameters(self, n_features: int) -> dict:
        """Validated user-given initial parameters as numpy arrays (None where not given)."""
        K, D = self.n_components, n_features
        kind = COVARIANCE_TYPES[self.covariance_type]
        given = {"weights": None, "means": None, "covariances": None, "precisions": None}
        if self.weights_init is not None:
            given["weights"] = check_weights(self.weights_init, K)
        if self.means_init is not None:
            given["means"] = check_init_array(self.means_init, "means_init", (K, D))
        for name in ("precisions", "covariances"):
            value = getattr(self, f"{name}_init")
            if value is None:
                continue
            typed = check_init_array(value, f"{name}_init", kind.shape(K, D))
            if self.covariance_type in ("diag", "spherical"):
                valid = bool((typed > 0).all())
            else:
                full = torch.as_tensor(typed.reshape(-1, D, D))
                valid = _covariance.is_positive_definite(full)
            if not valid:
                raise ValueError(
                    f"{name}_init must be positive definite"
                    + (
                        " (all values > 0)."
                        if self.covariance_type in ("diag", "spherical")
                        else " and symmetric."
                    )
                )
            given[name] = typed
        return given

    def _validated_data(self, X, *, allow_single: bool = False) -> np.ndarray:
        self._check_parameters()
        array = as_numpy_2d(X, allow_single=allow_single)
        if self._is_fitted():
            check_n_features(array, self.means_.shape[1])
        return array

    # -- parameters ---------------------------------------------------------------------

    def _set_parameters(
        self, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor
    ) -> None:
        """Publish parameters; ``covariances`` is typed and already regularised."""
        K, D = means.shape
        full = _covariance.expand(self.covariance_type, covariances, K, D)
        factor = _covariance.precision_cholesky_from_covariance(full)  # raises if singular
        kind = COVARIANCE_TYPES[self.covariance_type]
        self.weights_ = weights.cpu().numpy()
        self.means_ = means.cpu().numpy()
        self.covariances_ = covariances.cpu().numpy()
        self.precisions_cholesky_ = kind.select_precision_cholesky(factor, K).cpu().numpy()

    def _maximization(self, statistics: SufficientStatistics) -> None:
        """M-step: parameters from sufficient statistics."""
        kind = COVARIANCE_TYPES[self.covariance_type]
        counts = statistics.counts + 10 * torch.finfo(statistics.counts.dtype).eps
        covariances = kind.regularize(kind.reduce(statistics.covariances, counts), self.reg_covar)
        self._set_parameters(counts / counts.sum(), statistics.means, covariances)

    def _initialize(self, X: torch.Tensor, generator: torch.Generator) -> None:
        """Initial parameters from ``init_params`` and whatever the user gave."""
        K, D = self.n_components, X.shape[1]
        given = self._check_initial_parameters(D)
        kind = COVARIANCE_TYPES[self.covariance_type]
        statistics = None
        if any(given[name] is None for name in ("weights", "means")) or (
            given["covariances"] is None and given["precisions"] is None
        ):
            resp = initial_responsibilities(X, K, self.init_params, generator)  # [n, K]
            statistics = responsibility_statistics(X, resp)
        to_tensor = self._to_tensor
        weights = (
            to_tensor(given["weights"])
            if given["weights"] is not None
            else statistics.counts / X.shape[0]
        )
        means = to_tensor(given["means"]) if given["means"] is not None else statistics.means
        if given["precisions"] is not None:
            full_precisions = _covariance.expand(
                self.covariance_type, to_tensor(given["precisions"]), K, D
            )
            factor = _covariance.precision_cholesky_from_precision(full_precisions)
            full = _covariance.covariance_from_precision_cholesky(factor)
            covariances = kind.select_precision_cholesky(full, K)
        elif given["covariances"] is not None:
            covariances = to_tensor(given["covariances"])
        else:
            covariances = kind.regularize(
                kind.reduce(statistics.covariances, statistics.counts), self.reg_covar
            )
        self._set_parameters(weights, means, covariances)
        if given["precisions"] is not None:
            self.precisions_cholesky_ = kind.select_precision_cholesky(factor, K).cpu().numpy()
        self._statistics = None
        self._incremental = None

    # -- batch EM ------------------------------------------------------------------------

    def _em_passes(self, X: torch.Tensor, max_iter: int) -> Iterator[GaussianMixture]:
        """The one EM loop: E-step, M-step, convergence test; yields after every pass."""
        n_samples = X.shape[0]
        lower_bound = -np.inf
        self.converged_ = False
        for n_iter in range(1, max_iter + 1):
            statistics = expectation_statistics(X, self._gaussian_parameters())
            self._maximization(statistics)
            change = statistics.log_likelihood / n_samples - lower_bound
            lower_bound = statistics.log_likelihood / n_samples
            self.lower_bound_ = lower_bound
            self.n_iter_ = n_iter
            self.n_samples_seen_ = n_samples
            self.n_features_in_ = X.shape[1]
            self._statistics = statistics
            self._incremental = None
            if abs(change) < self.tol:
                self.converged_ = True
            yield self
            if self.converged_:
                return

    def iter_fit(self, X, max_iter: int | None = None) -> Iterator[GaussianMixture]:
        """Run EM over ``X`` one pass at a time, from the current parameters.

        A fitted model (by :meth:`fit` or :meth:`partial_fit`) is refined from where it
        is; an unfitted one is initialised first, as :meth:`fit` does. The model is valid
        at every yield, so a caller can stop between passes, draw each pass, or take
        exactly one step with ``next()``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        max_iter : int, optional
            At most this many passes (default ``self.max_iter``); stops earlier when the
            mean log-likelihood changes by less than ``tol``.

        Yields
        ------
        self : GaussianMixture
            After each pass, with ``n_iter_``, ``lower_bound_`` and ``converged_`` set.
        """
        array = self._validated_data(X)
        max_iter = self.max_iter if max_iter is None else check_positive_int(max_iter, "max_iter")
        data = self._to_tensor(array)
        if not self._is_fitted():
            self._check_enough_samples(array)
            self._initialize(data, torch_generator(self.random_state))
        saved = self._saved_state()
        try:
            yield from self._em_passes(data, max_iter)
        except ValueError:
            self._restore_state(saved)
            raise

    def _check_enough_samples(self, X: np.ndarray) -> None:
        if X.shape[0] < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components, got n_samples={X.shape[0]} and "
                f"n_components={self.n_components}; add points or lower n_components."
            )

    def fit(self, X, y=None) -> GaussianMixture:
        """Estimate the parameters with EM.

        With ``warm_start=True`` and a fitted model, EM continues from the current
        parameters (also after :meth:`partial_fit`); otherwise it runs ``n_init``
        initialisations and keeps the one with the best lower bound.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        self : GaussianMixture
        """
        array = self._validated_data(X)
        do_init = not (self.warm_start and self._is_fitted())
        if do_init:
            self._check_enough_samples(array)
            self._check_initial_parameters(array.shape[1])
        data = self._to_tensor(array)
        saved = self._saved_state()
        generator = torch_generator(self.random_state)
        best, best_lower_bound = None, -np.inf
        try:
            for _ in range(self.n_init if do_init else 1):
                if do_init:
                    self._initialize(data, generator)
                for _ in self._em_passes(data, self.max_iter):
                    pass
                if best is None or self.lower_bound_ > best_lower_bound:
                    best, best_lower_bound = self._saved_state(), self.lower_bound_
        except ValueError:
            self._restore_state(saved)
            raise
        self._restore_state(best)
        if not self.converged_ and self.tol > 0:
            warnings.warn(
                f"EM did not converge in {self.max_iter} iterations; try a larger max_iter, "
                "a larger tol, or check the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    # -- incremental EM ------------------------------------------------------------------

    def partial_fit(self, X, y=None) -> GaussianMixture:
        """Update the model with one point or a chunk of points (incremental EM).

        The chunk's responsibilities are computed with the current parameters and its
        weighted statistics are merged exactly into each component's running
        statistics. Works from nothing (components appear as far-away points arrive,
        up to ``n_components``) and after :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_features,) or (n_samples, n_features)

        Returns
        -------
        self : GaussianMixture
        """
        from .online import IncrementalEM

        array = self._validated_data(X, allow_single=True)
        # Published arrays are replaced, never changed in place: references are a checkpoint.
        saved = {name: self.__dict__[name] for name in _FITTED_STATE if name in self.__dict__}
        try:
            engine = getattr(self, "_incremental", None)
            if engine is None:
                engine = self._new_incremental_state(IncrementalEM, array.shape[1])
            engine.update(array)
            self._incremental = engine
            self._publish_incremental(engine)
        except Exception:
            # The engine may hold part of the refused update: the next call rebuilds it
            # from the restored parameters.
            self._restore_state(saved | {"_incremental": None})
            raise
        return self

    def _new_incremental_state(self, engine_type, n_features: int):
        options = dict(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            memory=self.memory,
            random_state=np.random.default_rng(self.random_state),
        )
        statistics = getattr(self, "_statistics", None)
        if self._is_fitted() and statistics is not None:
            return engine_type.from_statistics(
                statistics.counts.cpu().numpy(),
                statistics.means.cpu().numpy(),
                statistics.covariances.cpu().numpy(),
                self.n_samples_seen_,
                **options,
            )
        if self._is_fitted():  # parameters without statistics: given by hand or loaded
            K, D = self.means_.shape
            full = _covariance.expand(
                self.covariance_type, torch.as_tensor(self.covariances_), K, D
            ).numpy() - self.reg_covar * np.eye(D)
            counts = self.weights_ * max(getattr(self, "n_samples_seen_", 0), K)
            return engine_type.from_statistics(
                counts, self.means_, full, int(counts.sum()), **options
            )
        n_components = options.pop("n_components")
        return engine_type(n_components, n_features, **options)

    def _publish_incremental(self, engine) -> None:
        # numpy throughout: this runs on every click, where torch's per-call cost shows.
        full = np.array(engine.covariances, dtype=np.float64)  # [K, D, D]
        factor = np.array(engine.precisions_cholesky, dtype=np.float64)  # [K, D, D] upper
        kind = COVARIANCE_TYPES[self.covariance_type]
        K = full.shape[0]
        self.weights_ = np.array(engine.weights, dtype=np.float64)
        self.means_ = np.array(engine.means, dtype=np.float64)
        self.covariances_ = kind.select_precision_cholesky(full, K).copy()
        self.precisions_cholesky_ = kind.select_precision_cholesky(factor, K).copy()
        self.n_samples_seen_ = int(engine.n_seen)
        self.n_features_in_ = full.shape[1]
        self._statistics = None

    # -- saving ----------------------------------------------------------------------------

    _HYPER_PARAMETERS = (
        "n_components",
        "covariance_type",
        "tol",
        "reg_covar",
        "max_iter",
        "n_init",
        "init_params",
        "weights_init",
        "means_init",
        "precisions_init",
        "covariances_init",
        "warm_start",
        "random_state",
        "memory",
    )

    def to_dict(self) -> dict:
        """A JSON-safe description of the model: hyper-parameters, parameters, statistics.

        Numbers are JSON numbers and arrays nested lists, so ``json.dumps`` takes it as
        is; :meth:`from_dict` rebuilds a model that scores bit for bit the same and
        continues :meth:`partial_fit` identically.

        Returns
        -------
        dict
        """
        hyper = {name: json_value(getattr(self, name)) for name in self._HYPER_PARAMETERS}
        if not isinstance(hyper["random_state"], int | None):
            hyper["random_state"] = None
        hyper["dtype"] = str(self.dtype).removeprefix("torch.")
        described = {
            "type": type(self).__name__,
            "format_version": FORMAT_VERSION,
            "hyper_parameters": hyper,
            "parameters": None,
        }
        if not self._is_fitted():
            return described
        described["parameters"] = {
            "weights": json_array(self.weights_),
            "means": json_array(self.means_),
            "covariances": json_array(self.covariances_),
            "precisions_cholesky": json_array(self.precisions_cholesky_),
        }
        described["state"] = {
            "converged": bool(getattr(self, "converged_", False)),
            "n_iter": int(getattr(self, "n_iter_", 0)),
            "lower_bound": _finite_or_none(getattr(self, "lower_bound_", None)),
            "n_samples_seen": int(getattr(self, "n_samples_seen_", 0)),
        }
        statistics = getattr(self, "_statistics", None)
        described["statistics"] = (
            None
            if statistics is None
            else {
                "counts": json_array(statistics.counts.cpu().numpy()),
                "means": json_array(statistics.means.cpu().numpy()),
                "covariances": json_array(statistics.covariances.cpu().numpy()),
                "log_likelihood": float(statistics.log_likelihood),
            }
        )
        engine = getattr(self, "_incremental", None)
        described["incremental"] = None if engine is None else engine.to_dict()
        return described

    @classmethod
    def from_dict(cls, data: dict) -> GaussianMixture:
        """Rebuild a model from :meth:`to_dict`'s output, checking every entry.

        Parameters
        ----------
        data : dict

        Returns
        -------
        GaussianMixture

        Raises
        ------
        ValueError
            If the dictionary is not a saved ``GaussianMixture``, has entries of the
            wrong shape, or holds non-finite numbers.
        """
        check_type(data, cls.__name__)
        hyper = dict(require_mapping(require_key(data, "hyper_parameters", "data"), "hyper"))
        dtype_name = hyper.pop("dtype", "float64")
        if dtype_name not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype_name!r}.")
        unknown = set(hyper) - set(cls._HYPER_PARAMETERS)
        if unknown:
            raise ValueError(f"Unknown hyper-parameters {sorted(unknown)}.")
        model = cls(**hyper, dtype=getattr(torch, dtype_name))
        model._check_parameters()
        parameters = require_key(data, "parameters", "data")
        if parameters is None:
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
        if (weights <= 0).any() or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-9):
            raise ValueError(f"{name}['weights'] must be positive and sum to 1.")
        full = _covariance.expand(model.covariance_type, torch.as_tensor(covariances), K, D)
        if not _covariance.is_positive_definite(full):
            raise ValueError(f"{name}['covariances'] must be symmetric positive definite.")
        model.weights_, model.means_ = weights, means
        model.covariances_, model.precisions_cholesky_ = covariances, factor
        state = require_mapping(require_key(data, "state", "data"), "data['state']")
        model.converged_ = bool(require_key(state, "converged", "data['state']"))
        model.n_iter_ = read_number(state, "n_iter", name="data['state']", integer=True)
        bound = require_key(state, "lower_bound", "data['state']")
        model.lower_bound_ = (
            -np.inf if bound is None else read_number(state, "lower_bound", name="state")
        )
        model.n_samples_seen_ = read_number(
            state, "n_samples_seen", name="data['state']", integer=True
        )
        model.n_features_in_ = D
        model._statistics = None
        statistics = data.get("statistics")
        if statistics is not None:
            name = "data['statistics']"
            require_mapping(statistics, name)
            model._statistics = SufficientStatistics(
                torch.as_tensor(read_array(statistics, "counts", (K,), name=name)),
                torch.as_tensor(read_array(statistics, "means", (K, D), name=name)),
                torch.as_tensor(read_array(statistics, "covariances", (K, D, D), name=name)),
                read_number(statistics, "log_likelihood", name=name),
            )
        model._incremental = None
        if data.get("incremental") is not None:
            from .online import IncrementalEM

            model._incremental = IncrementalEM.from_dict(data["incremental"])
        return model

    # -- state ---------------------------------------------------------------------------

    def _saved_state(self) -> dict:
        return {
            name: copy.deepcopy(self.__dict__[name])
            for name in _FITTED_STATE
            if name in self.__dict__
        }

    def _restore_state(self, state: dict) -> None:
        for name in _FITTED_STATE:
            self.__dict__.pop(name, None)
        self.__dict__.update(state)


def _finite_or_none(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None

"""``GaussianMixture``: batch EM with scikit-learn's answers, and incremental EM."""

from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from . import distributed as _distributed
from ._base import BaseMixture
from ._em import (
    SufficientStatistics,
    expectation_sums,
    score_samples,
    statistics_from_sums,
)
from ._initialization import (
    MixtureParameters,
    estimator_initial_parameters,
    held_components,
    parameters_from_covariances,
)
from ._validation import (
    check_data,
    check_enough_samples,
    check_finite_model,
    check_frozen_components,
    check_initial_parameters,
    check_positive_int,
    check_sample_weight,
    numpy_generator,
    torch_dtype,
)
from .covariance_types import aic as _aic
from .covariance_types import bic as _bic
from .fitted.em_saving import read_incremental, read_statistics, saved_extras
from .online import IncrementalEM
from .online.gaussian import Held
from .online.serialization import change_units
from .parts import covariance as _covariance
from .parts.covariance import COVARIANCE_TYPES
from .parts.parameter_cache import check_parameters_cached
from .scaling import scaled_training as _scaled_training


@dataclass(eq=False, repr=False, kw_only=True)
class GaussianMixture(BaseMixture):
    """Gaussian mixture model fitted by EM, in batch or incrementally.

    A scikit-learn estimator (``clone``, ``GridSearchCV``, ``Pipeline`` take it) shaped
    like :class:`sklearn.mixture.GaussianMixture`: from the same initial parameters it
    gives the same parameters, lower bound and scores (to 1e-9), computed in chunks with
    torch. A random start (``init_params`` with a ``random_state``) is drawn by gmm_core's
    own generator, so it need not equal scikit-learn's start from the same seed. It also
    learns incrementally with :meth:`partial_fit` and runs EM one pass at a time with
    :meth:`iter_fit`.

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
        EM passes per initialisation; 0 keeps the initialisation.
    n_init : int, default=1
        Initialisations tried by :meth:`fit`; the one with the best lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        Shape (K, D, D) for 'full', (D, D) for 'tied', (K, D) for 'diag', (K,) for 'spherical'.
    random_state : int, RandomState, numpy Generator or None
        What scikit-learn's ``check_random_state`` accepts (an int in [0, 2**32)), or a
        numpy Generator; anything else is a ``ValueError`` with scikit-learn's message.
    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current parameters.
    verbose : int, default=0
        1 prints each initialisation and iteration, 2 also times and lower bounds.
    verbose_interval : int, default=10
        Iterations between messages.
    covariances_init : array-like, optional
        Initial covariances in the shapes of ``precisions_init``; give one of the two.
    device : str or torch.device, optional
        Where the computation runs (``"cuda"`` for a GPU); CPU by default.
    dtype : torch.dtype, optional
        torch.float64 or torch.float32; by default float32 data is fitted in float32 and
        anything else in float64, as scikit-learn does.
    memory : int, optional
        Caps each component's running count in :meth:`partial_fit`, so that older points
        fade with a time constant of about ``memory`` points.
    distributed : bool or torch.distributed ProcessGroup, default=False
        True (the default process group) or a process group: every process of the group
        calls :meth:`fit` with its own shard of the rows (possibly none) and they learn
        one model together, ending with bitwise-identical parameters on every process
        (see :mod:`gmm_core.distributed`). :meth:`score`, :meth:`bic` and :meth:`aic` then
        answer for all shards together and must be called on every process;
        :meth:`predict`, :meth:`score_samples` and :meth:`partial_fit` stay local.
    frozen_components : sequence of int, optional
        Indices of components held at their given start while EM learns the others
        (None or empty: none, today's EM bit for bit). Their means stay ``means_init``
        and their covariances those given by ``precisions_init`` or
        ``covariances_init`` (so both a mean and a covariance start are required), bit
        for bit in ``means_``, ``covariances_`` and ``precisions_cholesky_``, through
        :meth:`fit`, :meth:`iter_fit`, warm starts, :meth:`partial_fit` and distributed
        fitting; their weights are still learned. Each pass is the M-step with those
        parameters held fixed (weights from every component's responsibilities, means
        and covariances of the free components only), so the lower bound still never
        decreases. With ``covariance_type='tied'`` the frozen components keep their
        means and the one shared covariance is held at its start too (only the free
        means and the weights learn). :meth:`partial_fit` of an unfitted model starts
        from the given start (weights ``weights_init``, else equal) instead of founding
        components at far points, and its split and merge sweeps are off while
        components are frozen. Data far from unit size are trained as given, not
        scaled (a scaling would not map the frozen components back bit for bit). Stored
        as given; checked when training: distinct integers in ``[0, n_components)``,
        else a ``ValueError`` that says what to change, the model left as it was.
        Saved by :meth:`to_dict` (as a list). To hold a fitted model's components where
        they are, give its parameters as the start: ``means_init=model.means_``,
        ``precisions_init=model.precisions_``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shaped by ``covariance_type`` as ``precisions_init``.
    precisions_cholesky_ : ndarray
        Cholesky factors of the precisions, in the same shapes.
    precisions_ : ndarray
        Precisions, in the same shapes.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample before the last M-step of the best initialisation.
    lower_bounds_ : list of float
        The lower bound after each iteration of the best initialisation.
    n_samples_seen_ : int
    n_features_in_ : int
    """

    _PRIVATE_STATE: ClassVar[tuple[str, ...]] = ("_statistics", "_incremental")

    memory: int | None = None
    distributed: bool | object = False
    frozen_components: Any = None

    def _check_parameters(self) -> None:
        super()._check_parameters()
        if self.memory is not None:
            check_positive_int(self.memory, "memory")
        check_frozen_components(self)

    # -- batch EM: the two hooks of the base class's loop --------------------------------

    def _initialize(
        self, X: torch.Tensor, start: MixtureParameters, sample_weight: torch.Tensor | None = None
    ) -> None:
        """Publish the initial parameters; no statistics yet."""
        self._publish(start)
        self._statistics = None
        self._incremental = None

    def _one_pass(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> float:
        """One EM pass: E-step statistics, then the M-step; returns the mean log-likelihood.

        With ``sample_weight``, the weighted mean (per unit of weight).
        """
        params = self._gaussian_parameters()
        sums = expectation_sums(X, params, sample_weight)
        if self._shard_rows is not None:  # every process's sums, in one all-reduce
            sums = _distributed.shard_group(self.distributed).all_reduce_sums(sums)
        statistics = statistics_from_sums(sums, params)
        kind = COVARIANCE_TYPES[self.covariance_type]
        counts = statistics.counts + 10 * torch.finfo(statistics.counts.dtype).eps
        held = held_components(self, X.shape[1], statistics.means)
        if held is None:
            means = statistics.means
            covariances = kind.regularize(
                kind.reduce(statistics.covariances, counts), self.reg_covar
            )
        else:  # frozen components: only their weights are re-estimated
            covariances = None
            if not held.shared:
                covariances = kind.regularize(
                    kind.reduce(statistics.covariances, counts), self.reg_covar
                )
            means, covariances = held.hold(statistics.means, covariances)
        updated = parameters_from_covariances(
            self.covariance_type, counts / counts.sum(), means, covariances
        )
        self._publish(updated if held is None else held.hold_factors(updated))
        self._statistics = statistics
        self._incremental = None
        total = self._total_rows(X) if sample_weight is None else float(sample_weight.sum())
        return statistics.log_likelihood / total

    # -- training on shards held by several processes -------------------------------------

    _shard_rows = None  # rows of every process's shard during a distributed fit, else None

    def _training_data(self, X, *, reset: bool) -> tuple[np.ndarray, torch.Tensor]:
        group = _distributed.shard_group(self.distributed)
        if group is None:
            self._shard_rows = None
            return super()._training_data(X, reset=reset)
        array, rows = _distributed.check_shards(self, X, group, reset=reset)
        fitted = None if reset else getattr(self, "means_", None)
        dtype = torch_dtype(self.dtype, array.dtype if fitted is None else fitted.dtype)
        self._shard_rows = rows
        return array, self._to_tensor(array, dtype)

    def _training_weights(self, sample_weight, array, data):
        if self._shard_rows is None:
            return super()._training_weights(sample_weight, array, data)
        # A collective call: every process refuses if any was given weights.
        refused = None
        if sample_weight is not None:
            refused = (
                "sample_weight is not supported by a distributed fit; give each process's "
                "rows unweighted (repeat rows for integer weights)."
            )
        _distributed.agree_on_error(_distributed.shard_group(self.distributed), refused)
        return None

    def _total_rows(self, X: torch.Tensor) -> int:
        return X.shape[0] if self._shard_rows is None else sum(self._shard_rows)

    def _may_rescale(self) -> bool:
        # Not when distributed: every process would choose its own scaling. Not with frozen
        # components: mapped through a scaling and back they would not stay bit for bit.
        return (
            self._shard_rows is None
            and not check_frozen_components(self)
            and super()._may_rescale()
        )

    def _new_generator(self) -> torch.Generator:
        generator = super()._new_generator()
        if self._shard_rows is None:
            return generator
        return _distributed.shared_seed(_distributed.shard_group(self.distributed), generator)

    def _start(
        self,
        array: np.ndarray,
        data: torch.Tensor,
        generator,
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        if self._shard_rows is None:
            return super()._start(array, data, generator, sample_weight)
        check_enough_samples(np.empty((sum(self._shard_rows), 0)), self.n_components)
        given = check_initial_parameters(self, array.shape[1])
        group = _distributed.shard_group(self.distributed)
        sample = _distributed.shared_start_sample(data, self._shard_rows, group, given, generator)
        self._initialize(data, estimator_initial_parameters(self, sample, given, generator))
        self.n_features_in_ = array.shape[1]

    def _log_likelihood_and_rows(self, X) -> tuple[float, int]:
        """Summed log-likelihood and rows of ``X``, over all shards when distributed."""
        group = _distributed.shard_group(self.distributed)
        if group is None:
            data = self._fitted_data(X)
            return float(score_samples(data, self._gaussian_parameters()).sum()), data.shape[0]
        check_is_fitted(self)
        array, rows = _distributed.check_shards(self, X, group, reset=False)
        local = score_samples(self._to_tensor(array), self._gaussian_parameters()).sum()
        return group.sum([float(local)])[0], sum(rows)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample of ``X`` (of all shards when ``distributed``)."""
        if self.distributed is False:
            return super().score(X)
        total, rows = self._log_likelihood_and_rows(X)
        return total / rows

    def bic(self, X) -> float:
        """Bayesian information criterion on ``X`` (all shards when ``distributed``)."""
        if self.distributed is False:
            return super().bic(X)
        total, rows = self._log_likelihood_and_rows(X)
        return _bic(total, rows, self._n_parameters())

    def aic(self, X) -> float:
        """Akaike information criterion on ``X`` (all shards when ``distributed``)."""
        if self.distributed is False:
            return super().aic(X)
        total, _ = self._log_likelihood_and_rows(X)
        return _aic(total, self._n_parameters())

    def __sklearn_clone__(self):
        # A process group cannot be deep-copied: the clone shares it.
        if isinstance(self.distributed, bool):
            return super().__sklearn_clone__()
        group = self.distributed
        self.distributed = False
        try:
            clone = super().__sklearn_clone__()
        finally:
            self.distributed = group
        clone.distributed = group
        return clone

    # -- incremental EM ------------------------------------------------------------------

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one point or a chunk of points (incremental EM).

        The chunk's responsibilities are computed with the current parameters and its
        weighted statistics are merged exactly into each component's running
        statistics. Works from nothing (components appear as far-away points arrive,
        up to ``n_components``) and after :meth:`fit`. A refused call leaves the model
        as it was. When the first points are far from unit size (beyond about
        1e-100..1e100) the model learns them centred and scaled by a power of two, the
        scaling widened (and the statistics re-expressed) when later points fall far
        outside it; an update the dtype cannot hold (variances beyond its range, points
        whose spread overflows it) is refused with a ``ValueError``.

        ``sample_weight`` (one non-negative weight per row): rows of weight zero are left
        out; integer weights are learned as the repeated rows (exactly: ``np.repeat``);
        other weights, once every component is present, as one weighted chunk (one
        E-step and an exact merge of its weighted statistics).

        With ``frozen_components``, the engine holds those components' published means,
        covariances and precision factors at their given start while their statistics
        keep accumulating, so their weights adapt (see the class's parameters).

        Parameters
        ----------
        X : array-like of shape (n_features,) or (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : GaussianMixture
        """
        check_parameters_cached(self)
        fitted = self.__sklearn_is_fitted__()
        # Published arrays are replaced, never changed in place: references are a checkpoint.
        state = self.__dict__
        saved = {name: state[name] for name in self._state_names() if name in state}
        try:
            array = check_data(self, X, reset=not fitted, allow_single=True)
            weights = check_sample_weight(sample_weight, array.shape[0])
            if weights is not None:
                array, weights = _weighted_rows(array, weights)
        except ValueError:
            self._restore_state(saved)  # the engine has not seen the refused data
            raise
        try:
            scaled = getattr(self, "_scaled", None)
            if weights is not None and (scaled is not None or not fitted):
                # Scaled data (or a first chunk that may be): the inner model takes the rows.
                raise ValueError(
                    "Fractional sample_weight needs a fitted model of ordinary data; give "
                    "integer weights (learned as repeated rows)."
                )
            if scaled is not None or not fitted:
                trained = _scaled_training.partial_fit(self, scaled, array)
                if trained is not None:
                    self._adopt(*trained)
                    return self
            dtype = torch_dtype(self.dtype, array.dtype if not fitted else self.means_.dtype)
            held = self._engine_held(array.shape[1], dtype)
            engine = getattr(self, "_incremental", None)
            if held is not None and not fitted:
                self._publish_given_start(array.shape[1], dtype)
                engine = self._new_incremental_state(array.shape[1], n_seen=0)
            elif engine is None:
                engine = self._new_incremental_state(array.shape[1])
            engine.hold(held)
            # Points far beyond the model's scale (1e200 given to a model of unit data)
            # overflow inside the update; the check below refuses the result with a
            # message that says what to do, so numpy's warnings would only be noise.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if weights is None:
                    engine.update(array.astype(np.float64, copy=False))
                else:
                    engine.update_weighted(array.astype(np.float64, copy=False), weights)
                self._incremental = engine
                self._publish_incremental(
                    engine, np.float32 if dtype == torch.float32 else np.float64
                )
            check_finite_model(self)
        except Exception:
            # The engine may hold part of the refused update: the next call rebuilds it
            # from the restored parameters.
            self._restore_state(saved | {"_incremental": None})
            raise
        return self

    def _engine_held(self, n_features: int, dtype: torch.dtype) -> Held | None:
        """The frozen components as the incremental engine holds them, or None.

        Computed again only when a hyper-parameter it depends on is a new object (a
        click's ``partial_fit`` would otherwise check the starting arrays every time).
        """
        key = (
            self.frozen_components,
            self.means_init,
            self.precisions_init,
            self.covariances_init,
            self.covariance_type,
            self.n_components,
            dtype,
            n_features,
        )
        cached = _HELD.get(self)
        if cached is not None and all(map(operator.is_, cached[0], key)):
            return cached[1]
        held = held_components(self, n_features, torch.empty(0, dtype=dtype))
        engine_held = None if held is None else Held(*held.full_arrays(), shared=held.shared)
        _HELD[self] = (key, engine_held)
        return engine_held

    def _publish_given_start(self, n_features: int, dtype: torch.dtype) -> None:
        """Publish the given start of a model with frozen components, before any point.

        Incremental learning from nothing founds components at far points; frozen ones
        exist from the start, so the model starts from ``means_init`` and the given
        covariances (weights: ``weights_init``, else equal), as if fitted on no points.
        """
        start = held_components(self, n_features, torch.empty(0, dtype=dtype)).start
        weights = check_initial_parameters(self, n_features)["weights"]
        if weights is not None:
            start.weights = torch.as_tensor(weights).to(dtype)
        self._publish(start)
        self.n_samples_seen_ = 0
        self.converged_, self.n_iter_, self.lower_bounds_ = False, 0, []
        self._statistics = self._incremental = None

    def _new_incremental_state(self, n_features: int, n_seen: int | None = None) -> IncrementalEM:
        options = dict(
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            memory=self.memory,
            random_state=numpy_generator(self.random_state),
        )
        if not self.__sklearn_is_fitted__():
            return IncrementalEM(self.n_components, n_features, **options)
        options["n_components"] = self.n_components
        statistics = getattr(self, "_statistics", None)
        if statistics is not None:
            return IncrementalEM.from_statistics(
                statistics.counts.cpu().double().numpy(),
                statistics.means.cpu().double().numpy(),
                statistics.covariances.cpu().double().numpy(),
                self.n_samples_seen_,
                **options,
            )
        # Parameters without statistics: given by hand or loaded.
        K, D = self.means_.shape
        full = _covariance.expand(
            self.covariance_type, torch.as_tensor(self.covariances_, dtype=torch.float64), K, D
        ).numpy() - self.reg_covar * np.eye(D)
        counts = self.weights_.astype(np.float64) * max(getattr(self, "n_samples_seen_", 0), K)
        n_seen = int(counts.sum()) if n_seen is None else n_seen
        return IncrementalEM.from_statistics(
            counts, self.means_.astype(np.float64), full, n_seen, **options
        )

    def _publish_incremental(self, engine: IncrementalEM, dtype) -> None:
        # numpy throughout: this runs on every click, where torch's per-call cost shows.
        full = np.array(engine.covariances, dtype=dtype)  # [K, D, D]
        factor = np.array(engine.precisions_cholesky, dtype=dtype)  # [K, D, D] upper
        kind = COVARIANCE_TYPES[self.covariance_type]
        K = full.shape[0]
        self.weights_ = np.array(engine.weights, dtype=dtype)
        self.means_ = np.array(engine.means, dtype=dtype)
        self.covariances_ = kind.select_precision_cholesky(full, K).copy()
        self.precisions_cholesky_ = kind.select_precision_cholesky(factor, K).copy()
        self.n_samples_seen_ = int(engine.n_seen)
        self.n_features_in_ = full.shape[1]
        self.lower_bound_ = -np.inf  # a warm-started fit has no bound to compare with
        self._statistics = None

    # -- data far from unit size (see scaling.scaled_training) ------------------------------------

    def _adopt(self, scaled, fitted: dict) -> None:
        super()._adopt(scaled, fitted)
        # The inner model holds the statistics and the incremental state.
        self._statistics = self._incremental = None

    def _change_units(self, change, reg_covar: float, fitted: dict) -> None:
        """Also re-express the batch statistics and the incremental state in new units."""
        super()._change_units(change, reg_covar, fitted)
        statistics = getattr(self, "_statistics", None)
        if statistics is not None:
            counts = statistics.counts
            like = statistics.means
            self._statistics = SufficientStatistics(
                counts,
                torch.as_tensor(change.point(like.cpu().numpy())).to(like),
                torch.as_tensor(change.covariance(statistics.covariances.cpu().numpy())).to(like),
                change.log_density(statistics.log_likelihood, like.shape[1] * float(counts.sum())),
            )
        engine = getattr(self, "_incremental", None)
        if engine is not None:
            self._incremental = IncrementalEM.from_dict(
                change_units(engine.to_dict(), change, reg_covar)
            )

    # -- saving (see fitted.em_saving) ----------------------------------------------------------

    def _saved_extras(self) -> dict:
        """EM's sufficient statistics and the incremental engine's state."""
        return saved_extras(getattr(self, "_statistics", None), getattr(self, "_incremental", None))

    def _load_extras(self, data) -> None:
        """Restore the statistics and the incremental state, refusing any that disagree."""
        held = self._engine_held(self.means_.shape[1], torch_dtype(None, self.means_.dtype))
        self._statistics = read_statistics(data, self, held)
        self._incremental = read_incremental(data, self, held)


# Each model's frozen components as its engine holds them, and the hyper-parameters they
# came from; kept outside the estimators, so that the cache never shows among their
# attributes (as parts.parameter_cache keeps its own).
_HELD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# Integer weights up to this many repeated rows in all are learned as the repeated rows.
_MAX_REPEATED_ROWS = 10_000_000


def _weighted_rows(array: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``partial_fit``'s rows for checked ``weights``: repeated rows, or positive weights.

    Rows of weight zero are left out. Integer weights give the repeated rows and no
    weights (so that they train exactly as the repeated rows would); other weights give
    the rows of positive weight and their weights.
    """
    kept = weights > 0
    array, weights = array[kept], weights[kept]
    if np.all(weights == np.round(weights)) and weights.sum() <= _MAX_REPEATED_ROWS:
        return np.repeat(array, weights.astype(np.int64), axis=0), None
    return array, weights

"""The base class of gmm_core's mixture estimators: hyper-parameters, the one fit loop, saving.

As scikit-learn's ``BaseMixture``: the base class owns the loop (``n_init``
initialisations, warm starts, the convergence test, ``lower_bounds_``, verbose output,
refusals that leave the model as it was), and an estimator supplies only
``_initialize(X, start)`` and ``_one_pass(X) -> lower bound``. What a fitted model
answers (scores, prediction, sampling, criteria) is :mod:`gmm_core.fitted.scoring`'s.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from time import time
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._initialization import MixtureParameters, starting_parameters
from ._validation import (
    check_data,
    check_finite_model,
    check_mixture_parameters,
    check_positive_int,
    check_sample_weight,
    torch_dtype,
)
from .fitted.scoring import FittedMixture, torch_generator
from .fitted.serialization import describe_model, load_model
from .scaling import scaled_training as _scaled_training

CONVERGENCE_MESSAGE = (
    "Best performing initialization did not converge. Try different init parameters, or "
    "increase max_iter, tol, or check for degenerate data."
)

# Fitted state every estimator has; ``fit`` and ``partial_fit`` restore it when refused.
_FITTED_STATE = (
    "weights_",
    "means_",
    "covariances_",
    "precisions_cholesky_",
    "converged_",
    "n_iter_",
    "lower_bound_",
    "lower_bounds_",
    "n_samples_seen_",
    "n_features_in_",
    "feature_names_in_",
    "_scaled",  # data far from unit size: a ScaledTraining (else None or absent)
)


@dataclass(eq=False, repr=False)
class BaseMixture(FittedMixture):
    """The fit loop and the hyper-parameters of gmm_core's mixture estimators.

    The hyper-parameters both estimators share are declared once, here, as fields: the
    generated ``__init__`` stores its arguments and nothing else, and scikit-learn's
    ``get_params`` reads its signature. Subclasses add their own fields (keyword-only).

    Subclasses define ``_initialize(X, start, sample_weight)``, which takes the starting
    parameters, and ``_one_pass(X, sample_weight)``, which improves them once and returns
    the mean log-likelihood per sample before the update (or the estimator's lower
    bound); ``sample_weight`` is None or a tensor (n,) of checked row weights.
    ``_PRIVATE_STATE`` names their own fitted state.
    """

    n_components: int = 1
    _: KW_ONLY
    covariance_type: str = "full"
    tol: float = 1e-3
    reg_covar: float = 1e-6
    max_iter: int = 100
    n_init: int = 1
    init_params: str = "kmeans"
    weights_init: Any = None
    means_init: Any = None
    precisions_init: Any = None
    random_state: Any = None
    warm_start: bool = False
    verbose: int = 0
    verbose_interval: int = 10
    covariances_init: Any = None
    device: Any = None
    dtype: Any = None

    _PRIVATE_STATE: ClassVar[tuple[str, ...]] = ()
    # Whether training stops at the first pass that changes the bound by less than tol
    # (and warns when it never does), or always runs max_iter passes.
    _stop_at_convergence: ClassVar[bool] = True

    # -- hooks --------------------------------------------------------------------------

    def _initialize(
        self, X: torch.Tensor, start: MixtureParameters, sample_weight: torch.Tensor | None = None
    ) -> None:
        raise NotImplementedError

    def _one_pass(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> float:
        raise NotImplementedError

    def _check_parameters(self) -> None:
        check_mixture_parameters(self)

    def _new_generator(self) -> torch.Generator:
        """The generator of a fit's random starts (the same on every process, if several)."""
        return torch_generator(self.random_state)

    def _total_rows(self, X: torch.Tensor) -> int:
        """Rows trained on: ``X``'s, or all processes' together when training is shared."""
        return X.shape[0]

    def _saved_extras(self) -> dict:
        """What :meth:`to_dict` adds for a fitted model beyond the shared entries."""
        return {}

    def _load_extras(self, data) -> None:
        """Restore what :meth:`_saved_extras` saved; ``data`` is the whole dictionary."""

    def _can_continue(self) -> bool:
        """Whether the fitted model matches the hyper-parameters, so training can go on.

        Incremental learning may have found fewer components than ``n_components``.
        """
        return self.__sklearn_is_fitted__() and self.means_.shape[0] <= self.n_components

    def _may_rescale(self) -> bool:
        """Whether data far from unit size may be trained on scaled: not by an inner model."""
        return getattr(self, "_rescalable", True)

    def _as_inner(self) -> BaseMixture:
        """Mark this estimator as the inner model of a scaled one (it trains on data as given)."""
        self._rescalable = False
        return self

    def _adopt(self, scaled, fitted: dict) -> None:
        """Hold ``scaled`` (a ScaledTraining) and set the ``fitted`` attributes it published."""
        self.__dict__.update(fitted)
        self._scaled = scaled

    def _bound_in_units(self, value: float, log_density) -> float:
        """The lower bound of this inner model in other units.

        ``log_density(value, n_features)`` maps a log-density per point (a
        ``DataScaling``'s or a ``UnitChange``'s); the mean log-likelihood is one.
        """
        return log_density(value, self.means_.shape[1])

    def _in_internal_units(self, scaling, params: dict) -> dict:
        """The inner model's hyper-parameters ``params`` with this estimator's own in units.

        ``scaling`` is the ``DataScaling``; the shared ones (``reg_covar``, ``*_init``)
        are already converted.
        """
        return params

    def _change_units(self, change, reg_covar: float, fitted: dict) -> None:
        """As an inner model, take new units (a UnitChange): ``fitted`` and private state."""
        self.__dict__.update(fitted)
        self.reg_covar = reg_covar

    # -- plumbing -----------------------------------------------------------------------

    def _training_data(self, X, *, reset: bool) -> tuple[np.ndarray, torch.Tensor]:
        """Validated data as an array and as a tensor in the dtype to train in."""
        array = check_data(self, X, reset=reset)
        fitted = None if reset else getattr(self, "means_", None)
        dtype = torch_dtype(self.dtype, array.dtype if fitted is None else fitted.dtype)
        return array, self._to_tensor(array, dtype)

    def _training_weights(
        self, sample_weight, array: np.ndarray, data: torch.Tensor
    ) -> torch.Tensor | None:
        """Checked ``sample_weight`` as a tensor (n,) like ``data``, or None when not given."""
        weights = check_sample_weight(sample_weight, array.shape[0])
        if weights is None:
            return None
        return torch.as_tensor(weights, device=data.device).to(data.dtype)

    def _start(
        self,
        array: np.ndarray,
        data: torch.Tensor,
        generator,
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        """A new start: initial parameters from ``init_params`` and what the user gave."""
        start = starting_parameters(self, array, data, generator, sample_weight)
        self._initialize(data, start, sample_weight)
        self.n_features_in_ = array.shape[1]

    def _publish(self, parameters: MixtureParameters) -> None:
        """Set the fitted numpy attributes from tensors."""
        self.weights_ = parameters.weights.detach().cpu().numpy()
        self.means_ = parameters.means.detach().cpu().numpy()
        self.covariances_ = parameters.covariances.detach().cpu().numpy()
        self.precisions_cholesky_ = parameters.precisions_cholesky.detach().cpu().numpy()

    def _state_names(self) -> tuple[str, ...]:
        return _FITTED_STATE + self._PRIVATE_STATE

    def _saved_state(self) -> dict:
        # One deepcopy, so that objects referring to each other stay together.
        names = self._state_names()
        return copy.deepcopy({name: value for name, value in vars(self).items() if name in names})

    def _restore_state(self, state: dict) -> None:
        for name in self._state_names():
            self.__dict__.pop(name, None)
        self.__dict__.update(state)

    # -- the loop -----------------------------------------------------------------------

    def _passes(
        self,
        X: torch.Tensor,
        max_iter: int,
        lower_bound: float,
        sample_weight: torch.Tensor | None = None,
    ) -> Iterator:
        """The one training loop: a pass, the convergence test, a yield; ``max_iter`` times.

        ``lower_bound`` is the bound the first pass is compared with: minus infinity from a
        new start, the previous bound in a warm start.
        """
        self.converged_ = False
        self.n_iter_ = 0
        self.lower_bounds_ = []
        self.lower_bound_ = lower_bound
        self.n_samples_seen_ = self._total_rows(X)
        self._iter_time = time()  # verbose >= 2 prints each iteration's time lapse
        for n_iter in range(1, max_iter + 1):
            previous, lower_bound = lower_bound, self._one_pass(X, sample_weight)
            check_finite_model(self)
            self.lower_bounds_.append(lower_bound)
            self.lower_bound_, self.n_iter_ = lower_bound, n_iter
            change = lower_bound - previous
            self._verbose_iteration(n_iter, change)
            self.converged_ = bool(abs(change) < self.tol)
            yield self
            if self.converged_ and self._stop_at_convergence:
                return

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters from ``X``.

        With ``warm_start=True`` and a fitted model, training continues from the current
        parameters, and the convergence test compares with the previous ``lower_bound_``;
        otherwise ``n_init`` initialisations are trained and the one with the best lower
        bound is kept. ``max_iter=0`` returns the initialisation (``n_iter_ == 0``). A
        refused call (a ``ValueError``) leaves the model as it was. Data of any finite
        size are accepted: data far from unit size (beyond about 1e-100..1e100) are
        trained on centred and scaled by a power of two and the parameters mapped back,
        with ``reg_covar`` still in squared data units; a model the dtype cannot hold
        (variances beyond its range, such as 1e400 for data spanning 1e200) and a pass
        that would leave a non-finite parameter are refused. EM that stops at
        ``max_iter`` before converging warns with scikit-learn's ``ConvergenceWarning``
        (not with ``tol=0``, which asks for exactly ``max_iter`` passes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative finite weights, one per row, not all zero: a row of weight 3
            counts as three copies of it, a row of weight 0 as no row. The start is
            weighted too (see :func:`gmm_core.parts.kmeans.initial_responsibilities`). A
            wrong length, a negative, NaN or infinite weight, or all weights zero is a
            ``ValueError`` and leaves the model as it was.

        Returns
        -------
        self
        """
        self._check_parameters()
        warm = bool(self.warm_start) and self._can_continue()
        saved = self._saved_state()
        try:
            array, data = self._training_data(X, reset=not warm)
            weights = self._training_weights(sample_weight, array, data)
            scaled = getattr(self, "_scaled", None)
            trained = _scaled_training.fit(self, scaled, array, warm, sample_weight)
            if trained is None:
                self._scaled = None
                self._fit_loop(array, data, warm, weights)
            else:
                self._adopt(*trained)
        except ValueError:
            self._restore_state(saved)
            raise
        if self._stop_at_convergence and not self.converged_ and self.max_iter > 0 and self.tol > 0:
            warnings.warn(CONVERGENCE_MESSAGE, ConvergenceWarning, stacklevel=2)
        return self

    def _fit_loop(
        self,
        array: np.ndarray,
        data: torch.Tensor,
        warm: bool,
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        generator = self._new_generator()
        n_init = 1 if warm else self.n_init
        best = None
        for init in range(n_init):
            self._verbose_start(init)
            if not warm:
                self._start(array, data, generator, sample_weight)
            start = getattr(self, "lower_bound_", -np.inf) if warm else -np.inf
            for _ in self._passes(data, self.max_iter, start, sample_weight):
                pass
            self._verbose_end()
            # As scikit-learn: the best bound wins, and while no start has a bound
            # (max_iter=0) the last start is kept.
            if n_init > 1 and (
                best is None
                or self.lower_bound_ > best["lower_bound_"]
                or best["lower_bound_"] == -np.inf
            ):
                best = self._saved_state()
        if best is not None:
            self._restore_state(best)

    def fit_predict(self, X, y=None, sample_weight=None) -> np.ndarray:
        """Fit the model to ``X`` and return the component of each sample, (n_samples,)."""
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def iter_fit(self, X, max_iter: int | None = None, sample_weight=None) -> Iterator:
        """Train on ``X`` one pass at a time, from the current parameters.

        A fitted model is refined from where it is; an unfitted one is initialised first,
        as :meth:`fit` does. The model is valid at every yield, so a caller can stop
        between passes, draw each pass, or take exactly one step with ``next()``. The
        convergence test starts afresh with each call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        max_iter : int, optional
            At most this many passes (default ``self.max_iter``).
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, as :meth:`fit` takes them.

        Yields
        ------
        self
            After each pass, with ``n_iter_``, ``lower_bound_`` and ``converged_`` set.
        """
        self._check_parameters()
        max_iter = (
            self.max_iter if max_iter is None else check_positive_int(max_iter, "max_iter", 0)
        )
        continuing = self._can_continue()
        saved = self._saved_state()
        try:
            array, data = self._training_data(X, reset=not continuing)
            weights = self._training_weights(sample_weight, array, data)
            scaled = getattr(self, "_scaled", None)
            trained = _scaled_training.iter_fit(
                self, scaled, array, continuing, max_iter, sample_weight
            )
            if trained is None:
                self._scaled = None
                if not continuing:
                    self._start(array, data, self._new_generator(), weights)
                yield from self._passes(data, max_iter, -np.inf, weights)
            else:
                for scaled_pass in trained:
                    self._adopt(*scaled_pass)
                    yield self
        except ValueError:
            self._restore_state(saved)
            raise

    # -- verbose output, as scikit-learn prints it ----------------------------------------

    def _verbose_start(self, init: int) -> None:
        if self.verbose >= 1:
            print(f"Initialization {init}")
            self._init_time = time()

    def _verbose_iteration(self, n_iter: int, change: float) -> None:
        if self.verbose >= 1 and n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            else:
                now = time()
                print(
                    f"  Iteration {n_iter}\t time lapse {now - self._iter_time:.5f}s\t "
                    f"ll change {change:.5f}"
                )
                self._iter_time = now

    def _verbose_end(self) -> None:
        message = "converged" if self.converged_ else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            lapse = time() - self._init_time
            print(
                f"Initialization {message}. time lapse {lapse:.5f}s\t lower bound "
                f"{self.lower_bound_:.5f}."
            )

    # -- saving ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """A JSON-safe description of the model: hyper-parameters, parameters, state.

        Numbers are JSON numbers and arrays nested lists, so ``json.dumps`` takes it as
        is; :meth:`from_dict` rebuilds a model that scores bit for bit the same and
        trains on (``partial_fit``, warm starts) exactly as this one. ``device`` is not
        saved: a model loads on the CPU.

        Returns
        -------
        dict
            ``type``, ``format_version``, ``hyper_parameters``, ``parameters`` (None when
            unfitted) and ``state``, plus the estimator's own entries.
        """
        described = describe_model(self)
        if self.__sklearn_is_fitted__():
            scaled = getattr(self, "_scaled", None)
            described.update(self._saved_extras() if scaled is None else scaled.to_dict())
        return described

    @classmethod
    def from_dict(cls, data):
        """Rebuild a model from :meth:`to_dict`'s output, checking every entry; never pickles.

        Parameters
        ----------
        data : dict

        Returns
        -------
        model : an instance of this class

        Raises
        ------
        ValueError
            If the dictionary does not describe a saved model of this class, misses
            entries, has entries of the wrong type, shape or range, holds non-finite
            numbers, or has entries that disagree with each other: the precision factors
            must be those of the covariances, and the saved statistics, incremental state
            or gradient module must give the saved parameters (to rounding). An optional
            ``columns`` entry (the data's column names, one per feature, as
            ``gmm-core fit --out`` saves them) must be distinct strings; the model does not
            keep it (see :func:`gmm_core.fitted.serialization.read_columns`).
        """
        model = load_model(cls, data)
        if model.__sklearn_is_fitted__():
            scaled = _scaled_training.ScaledTraining.from_dict(model, data)
            if scaled is None:
                model._load_extras(data)
            else:
                model._adopt(scaled, {})
        return model

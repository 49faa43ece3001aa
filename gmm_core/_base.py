"""The base class of gmm_core's mixture estimators: the one fit loop, scoring, sampling.

As scikit-learn's ``BaseMixture``: the base class owns the loop (``n_init``
initialisations, warm starts, the convergence test, ``lower_bounds_``, verbose output,
refusals that leave the model as it was), and an estimator supplies only
``_initialize(X, generator)`` and ``_one_pass(X) -> lower bound``. Everything that needs
only the fitted parameters (scores, prediction, sampling, information criteria) lives
here too.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from time import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _covariance
from ._covariance import COVARIANCE_TYPES
from ._em import GaussianParameters, log_responsibilities, score_samples
from ._initialization import MixtureParameters
from ._validation import (
    check_data,
    check_enough_samples,
    check_initial_parameters,
    check_mixture_parameters,
    check_positive_int,
    torch_dtype,
)

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
)


def torch_generator(random_state) -> torch.Generator:
    """A CPU torch generator from ``random_state``: None, an int, a Generator or RandomState."""
    generator = torch.Generator(device="cpu")
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    elif isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(2**63 - 1))
    elif isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(2**31 - 1))
    else:
        seed = int(random_state)
    generator.manual_seed(seed)
    return generator


class BaseMixture(DensityMixin, BaseEstimator):
    """The fit loop and everything a fitted Gaussian mixture can answer.

    Subclasses define ``_initialize(X, generator)``, which sets the starting parameters,
    and ``_one_pass(X)``, which improves them once and returns the mean log-likelihood
    per sample before the update; ``_PRIVATE_STATE`` names their own fitted state.
    """

    _PRIVATE_STATE: tuple[str, ...] = ()
    # Whether training stops at the first pass that changes the bound by less than tol
    # (and warns when it never does), or always runs max_iter passes.
    _stop_at_convergence = True

    # -- hooks --------------------------------------------------------------------------

    def _initialize(self, X: torch.Tensor, generator: torch.Generator) -> None:
        raise NotImplementedError

    def _one_pass(self, X: torch.Tensor) -> float:
        raise NotImplementedError

    def _check_parameters(self) -> None:
        check_mixture_parameters(self)

    def _can_continue(self) -> bool:
        """Whether the fitted model matches the hyper-parameters, so training can go on.

        Incremental learning may have found fewer components than ``n_components``.
        """
        return self.__sklearn_is_fitted__() and self.means_.shape[0] <= self.n_components

    # -- plumbing -----------------------------------------------------------------------

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "means_", None) is not None

    def _device(self) -> torch.device:
        return torch.device(self.device if self.device is not None else "cpu")

    def _to_tensor(self, array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        """``array`` on the device, in ``dtype`` (default: the fitted parameters' dtype)."""
        if isinstance(array, np.ndarray) and not array.flags.writeable:
            array = array.copy()  # torch only shares memory it may write to
        if dtype is None:
            dtype = torch_dtype(None, self.means_.dtype)
        return torch.as_tensor(array, device=self._device()).to(dtype)

    def _fitted_data(self, X) -> torch.Tensor:
        """Validate ``X`` against the fitted model and return it as a tensor (n, D)."""
        check_is_fitted(self)
        return self._to_tensor(check_data(self, X, reset=False))

    def _training_data(self, X, *, reset: bool) -> tuple[np.ndarray, torch.Tensor]:
        """Validated data as an array and as a tensor in the dtype to train in."""
        array = check_data(self, X, reset=reset)
        fitted = None if reset else getattr(self, "means_", None)
        dtype = torch_dtype(self.dtype, array.dtype if fitted is None else fitted.dtype)
        return array, self._to_tensor(array, dtype)

    def _start(self, array: np.ndarray, data: torch.Tensor, generator) -> None:
        check_enough_samples(array, self.n_components)
        self._initialize(data, generator)
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

    def _passes(self, X: torch.Tensor, max_iter: int, lower_bound: float) -> Iterator:
        """The one training loop: a pass, the convergence test, a yield; ``max_iter`` times.

        ``lower_bound`` is the bound the first pass is compared with: minus infinity from a
        new start, the previous bound in a warm start.
        """
        self.converged_ = False
        self.n_iter_ = 0
        self.lower_bounds_ = []
        self.lower_bound_ = lower_bound
        self.n_samples_seen_ = X.shape[0]
        for n_iter in range(1, max_iter + 1):
            previous, lower_bound = lower_bound, self._one_pass(X)
            self.lower_bounds_.append(lower_bound)
            self.lower_bound_, self.n_iter_ = lower_bound, n_iter
            change = lower_bound - previous
            self._verbose_iteration(n_iter, change)
            self.converged_ = bool(abs(change) < self.tol)
            yield self
            if self.converged_ and self._stop_at_convergence:
                return

    def fit(self, X, y=None):
        """Estimate the parameters from ``X``.

        With ``warm_start=True`` and a fitted model, training continues from the current
        parameters, and the convergence test compares with the previous ``lower_bound_``;
        otherwise ``n_init`` initialisations are trained and the one with the best lower
        bound is kept. ``max_iter=0`` returns the initialisation (``n_iter_ == 0``). A
        refused call (a ``ValueError``) leaves the model as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._check_parameters()
        warm = bool(self.warm_start) and self._can_continue()
        saved = self._saved_state()
        try:
            array, data = self._training_data(X, reset=not warm)
            if not warm:
                check_initial_parameters(self, array.shape[1])
            self._fit_loop(array, data, warm)
        except ValueError:
            self._restore_state(saved)
            raise
        if self._stop_at_convergence and not self.converged_ and self.max_iter > 0 and self.tol > 0:
            warnings.warn(CONVERGENCE_MESSAGE, ConvergenceWarning, stacklevel=2)
        return self

    def _fit_loop(self, array: np.ndarray, data: torch.Tensor, warm: bool) -> None:
        generator = torch_generator(self.random_state)
        n_init = 1 if warm else self.n_init
        best = None
        for init in range(n_init):
            self._verbose_start(init)
            if not warm:
                self._start(array, data, generator)
            start = getattr(self, "lower_bound_", -np.inf) if warm else -np.inf
            for _ in self._passes(data, self.max_iter, start):
                pass
            self._verbose_end()
            if n_init > 1 and (best is None or self.lower_bound_ > best["lower_bound_"]):
                best = self._saved_state()
        if best is not None:
            self._restore_state(best)

    def fit_predict(self, X, y=None) -> np.ndarray:
        """Fit the model to ``X`` and return the component of each sample, (n_samples,)."""
        return self.fit(X).predict(X)

    def iter_fit(self, X, max_iter: int | None = None) -> Iterator:
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
            if not continuing:
                check_initial_parameters(self, array.shape[1])
                self._start(array, data, torch_generator(self.random_state))
            yield from self._passes(data, max_iter, -np.inf)
        except ValueError:
            self._restore_state(saved)
            raise

    # -- verbose output, as scikit-learn prints it ----------------------------------------

    def _verbose_start(self, init: int) -> None:
        if self.verbose >= 1:
            print(f"Initialization {init}")
            self._init_time = self._iter_time = time()

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

    # -- what a fitted model answers ------------------------------------------------------

    def _gaussian_parameters(self) -> GaussianParameters:
        n_components, n_features = self.means_.shape
        factor = _covariance.expand(
            self.covariance_type,
            self._to_tensor(self.precisions_cholesky_),
            n_components,
            n_features,
        )
        return GaussianParameters(
            torch.log(self._to_tensor(self.weights_)), self._to_tensor(self.means_), factor
        )

    @property
    def precisions_(self) -> np.ndarray:
        """Precision matrices in the shape of ``covariances_``."""
        check_is_fitted(self)
        K, D = self.means_.shape
        factor = _covariance.expand(
            self.covariance_type, torch.as_tensor(self.precisions_cholesky_), K, D
        )
        precisions = factor @ factor.transpose(-2, -1)  # [K, D, D]
        typed = COVARIANCE_TYPES[self.covariance_type].select_precision_cholesky(precisions, K)
        return typed.numpy()

    def score_samples(self, X) -> np.ndarray:
        """Log-density of the mixture at each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        data = self._fitted_data(X)
        return score_samples(data, self._gaussian_parameters()).cpu().numpy()

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample of ``X`` under the model."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X) -> np.ndarray:
        """Posterior probability of each component for each sample, shape (n_samples, K)."""
        data = self._fitted_data(X)
        return log_responsibilities(data, self._gaussian_parameters()).exp().cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable component of each sample, shape (n_samples,)."""
        data = self._fitted_data(X)
        return log_responsibilities(data, self._gaussian_parameters()).argmax(1).cpu().numpy()

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component each sample was drawn from; samples are grouped by component.
        """
        check_is_fitted(self)
        check_positive_int(n_samples, "n_samples")
        generator = torch_generator(self.random_state)
        n_components, n_features = self.means_.shape
        weights = torch.as_tensor(self.weights_, dtype=torch.float64)
        labels = torch.multinomial(weights, n_samples, replacement=True, generator=generator)
        labels = torch.sort(labels).values
        covariances = _covariance.expand(
            self.covariance_type,
            torch.as_tensor(self.covariances_, dtype=torch.float64),
            n_components,
            n_features,
        )
        lower = torch.linalg.cholesky(covariances)  # [K, D, D]
        noise = torch.randn(n_samples, n_features, generator=generator, dtype=torch.float64)
        means = torch.as_tensor(self.means_, dtype=torch.float64)
        X = means[labels] + (lower[labels] @ noise[:, :, None])[:, :, 0]  # [n, D]
        return X.numpy().astype(self.means_.dtype, copy=False), labels.numpy()

    def _n_parameters(self) -> int:
        n_components, n_features = self.means_.shape
        return _covariance.n_parameters(self.covariance_type, n_components, n_features)

    def bic(self, X) -> float:
        """Bayesian information criterion of the model on ``X`` (lower is better)."""
        n_samples = check_data(self, X, reset=False).shape[0]
        return -2 * self.score(X) * n_samples + self._n_parameters() * np.log(n_samples)

    def aic(self, X) -> float:
        """Akaike information criterion of the model on ``X`` (lower is better)."""
        n_samples = check_data(self, X, reset=False).shape[0]
        return -2 * self.score(X) * n_samples + 2 * self._n_parameters()

"""``BayesianGaussianMixture``: variational inference with scikit-learn's answers, and streaming."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils import check_random_state as sklearn_check_random_state

from .._base import BaseMixture
from .._em import GaussianParameters, expectation_sums, statistics_from_sums
from .._initialization import MixtureParameters
from .._validation import check_data, check_finite_model, check_sample_weight
from ..parts.covariance import COVARIANCE_TYPES
from ..parts.parameter_cache import check_parameters_cached
from ..scaling import scaled_training as _scaled_training
from ._priors import Priors, check_prior_hyper_parameters, data_priors
from ._saving import load_extras, saved_extras
from ._variational import (
    NormalWishart,
    faded,
    log_offsets,
    lower_bound,
    mixture_weights,
    posterior,
    precisions_cholesky,
    shared_prior,
)


@dataclass(eq=False, repr=False, kw_only=True)
class BayesianGaussianMixture(BaseMixture):
    """Variational Bayesian estimation of a Gaussian mixture, in batch or streaming.

    A scikit-learn estimator shaped like :class:`sklearn.mixture.BayesianGaussianMixture`
    (the same parameters, fitted attributes and lower bound): a Dirichlet-process (stick
    breaking) or Dirichlet prior on the weights lets unneeded components die out, so that
    ``n_components`` is an upper bound rather than a choice. With
    ``init_params="random_from_data"`` or ``"random"`` and an integer ``random_state`` the
    start is scikit-learn's own (drawn with numpy's ``RandomState`` as scikit-learn draws
    it), and every fitted attribute, the lower bound and the scores agree with
    scikit-learn's (to about 1e-12). The k-means starts are gmm_core's own k-means, as
    :class:`~gmm_core.GaussianMixture` does them. Data of any finite size work as for
    :class:`~gmm_core.GaussianMixture`: data far from unit size are trained centred and
    scaled by a power of two (the priors and ``reg_covar`` mapped to those units) and the
    posterior is published in data units, the lower bound with it; a model whose
    variances float64 cannot hold (data spanning 1e200) is refused with a ``ValueError``.
    The E-step is gmm_core's chunked one (torch, on ``device``); the variational M-step
    is a handful of (K, D, D) arrays.

    Parameters
    ----------
    n_components : int, default=1
        The largest number of components; the prior decides how many carry the data.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        Training stops when the lower bound changes by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every component's scatter, in squared data units.
    max_iter : int, default=100
        Variational passes per initialisation; 0 keeps the initialisation.
    n_init : int, default=1
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}
        Default 'dirichlet_process'.
    weight_concentration_prior : float, optional
        ``gamma`` of the weight prior (default ``1 / n_components``): smaller leaves more
        components empty.
    mean_precision_prior : float, optional
        ``beta_0`` (default 1): how many points the mean prior is worth.
    mean_prior : array-like of shape (n_features,), optional
        Default: the (weighted) mean of the data.
    degrees_of_freedom_prior : float, optional
        ``nu_0`` (default ``n_features``), above ``n_features - 1``.
    covariance_prior : float or array-like, optional
        The Wishart prior's covariance, (D, D) for 'full' and 'tied', (D,) for 'diag', a
        number for 'spherical'; default the (weighted, unbiased) covariance of the data.
    random_state : int, RandomState, numpy Generator or None
    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current posterior.
    verbose, verbose_interval : int
    weights_init, means_init, precisions_init, covariances_init : array-like, optional
        gmm_core's extension: the start's responsibility statistics (weights, means and
        covariances, as :class:`~gmm_core.GaussianMixture` takes them), which the first
        variational M-step turns into the starting posterior.
    device : str or torch.device, optional
    dtype : torch.dtype, optional
    memory : int, optional
        :meth:`partial_fit` on a drifting stream: the posterior counts at most about
        ``memory`` points of data, older batches fading as newer ones arrive.

    Attributes
    ----------
    weights_, means_, covariances_, precisions_cholesky_, precisions_ : ndarray
        As scikit-learn's (the posterior means; covariances are the Wishart scale over
        the degrees of freedom).
    weight_concentration_ : ndarray of shape (n_components,), or a pair of them
    mean_precision_ : ndarray of shape (n_components,)
    degrees_of_freedom_ : ndarray of shape (n_components,), or a float for 'tied'
    weight_concentration_prior_, mean_precision_prior_, mean_prior_,
    degrees_of_freedom_prior_, covariance_prior_ :
        The priors in force (given or taken from the data).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        scikit-learn's variational lower bound (a sum over the samples, constants left out).
    lower_bounds_ : list of float
    n_samples_seen_ : int
    n_features_in_ : int
    """

    _PRIVATE_STATE: ClassVar[tuple[str, ...]] = (
        "weight_concentration_",
        "mean_precision_",
        "degrees_of_freedom_",
        "weight_concentration_prior_",
        "mean_precision_prior_",
        "mean_prior_",
        "degrees_of_freedom_prior_",
        "covariance_prior_",
    )

    weight_concentration_prior_type: str = "dirichlet_process"
    weight_concentration_prior: float | None = None
    mean_precision_prior: float | None = None
    mean_prior: Any = None
    degrees_of_freedom_prior: float | None = None
    covariance_prior: Any = None
    memory: int | None = None

    def _check_parameters(self) -> None:
        super()._check_parameters()
        check_prior_hyper_parameters(self)

    def _new_generator(self) -> np.random.RandomState:
        """scikit-learn's generator, so that a random start draws scikit-learn's rows."""
        state = self.random_state
        if isinstance(state, np.random.Generator):
            state = int(state.integers(2**32))
        return sklearn_check_random_state(state)

    # -- the priors and the posterior as objects -----------------------------------------

    def _set_priors(self, priors: Priors) -> None:
        self.weight_concentration_prior_ = priors.weight_concentration
        self.mean_precision_prior_ = priors.mean_precision
        self.mean_prior_ = priors.mean
        self.degrees_of_freedom_prior_ = priors.degrees_of_freedom
        self.covariance_prior_ = priors.covariance

    def _shared_prior(self) -> NormalWishart:
        """The prior of a batch fit, the same for every component."""
        return shared_prior(
            self.n_components,
            self.covariance_type,
            self.weight_concentration_prior_,
            self.weight_concentration_prior_type,
            self.mean_precision_prior_,
            self.mean_prior_,
            self.degrees_of_freedom_prior_,
            self.covariance_prior_,
        )

    def _posterior(self) -> NormalWishart:
        """The fitted posterior, from the public attributes."""
        K = self.means_.shape[0]
        nu = np.broadcast_to(np.asarray(self.degrees_of_freedom_, dtype=np.float64), (K,)).copy()
        concentration = self.weight_concentration_
        if isinstance(concentration, tuple):
            concentration = tuple(np.asarray(c, dtype=np.float64) for c in concentration)
        covariances = np.asarray(self.covariances_, dtype=np.float64)
        scatter = covariances * (
            nu[0]
            if self.covariance_type == "tied"
            else nu.reshape((K,) + (1,) * (covariances.ndim - 1))
        )
        return NormalWishart(
            concentration,
            np.asarray(self.mean_precision_, dtype=np.float64),
            np.asarray(self.means_, dtype=np.float64),
            nu,
            scatter,
        )

    def _publish_posterior(self, state: NormalWishart, dtype) -> np.ndarray:
        """Set the fitted attributes from ``state``; return its precision factors (float64)."""
        K, D = state.means.shape
        covariances = state.covariances(self.covariance_type)
        factor = precisions_cholesky(covariances, self.covariance_type, K, D)
        self.weight_concentration_ = state.weight_concentration
        self.mean_precision_ = state.mean_precision
        nu = state.degrees_of_freedom
        self.degrees_of_freedom_ = float(nu[0]) if self.covariance_type == "tied" else nu
        weights = mixture_weights(state.weight_concentration, self.weight_concentration_prior_type)
        self.weights_ = weights.astype(dtype)
        self.means_ = state.means.astype(dtype)
        self.covariances_ = covariances.astype(dtype)
        self.precisions_cholesky_ = factor.astype(dtype)
        return factor

    def _gaussian_parameters(self) -> GaussianParameters:
        """The E-step's parameters: the variational log-offsets in place of log-weights."""
        params = super()._gaussian_parameters()
        offsets = log_offsets(
            self._posterior(), self.weight_concentration_prior_type, self.means_.shape[1]
        )
        return GaussianParameters(
            self._to_tensor(offsets), params.means, params.precisions_cholesky
        )

    # -- the base class's hooks ------------------------------------------------------------

    def _training_weights(self, sample_weight, array, data):
        """Checked weights, and the priors of these (weighted) data."""
        weights = super()._training_weights(sample_weight, array, data)
        rows = None if weights is None else weights.detach().cpu().double().numpy()
        # Data far from unit size overflow here; their inner model sets the priors.
        with np.errstate(over="ignore", invalid="ignore"):
            self._set_priors(data_priors(self, array, rows))
        return weights

    def _initialize(
        self, X: torch.Tensor, start: MixtureParameters, sample_weight: torch.Tensor | None = None
    ) -> None:
        """The posterior after one M-step from the start's responsibility statistics."""
        total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        nk = start.weights.detach().cpu().double().numpy() * total  # [K]
        xk = start.means.detach().cpu().double().numpy()  # [K, D]
        sk = start.covariances.detach().cpu().double().numpy()
        if self._pools_raw_moments():
            sk = _pooled_raw_scatter(X, nk, xk, self.reg_covar, sample_weight)
        state = posterior(self._shared_prior(), self.covariance_type, nk, xk, sk)
        self._publish_posterior(state, _numpy_dtype(X))

    def _pools_raw_moments(self) -> bool:
        """Whether the start is scikit-learn's 'tied' covariance of a one-hot start.

        scikit-learn's 'tied' estimate pools ``X.T @ X`` over all rows, which is the
        pooled covariance only when every row's responsibilities sum to one; a start on
        ``n_components`` chosen rows ('random_from_data', 'k-means++') thereby starts
        from the raw second moments of the other rows. That is scikit-learn's start, and
        so gmm_core's too (for the passes the two agree, responsibilities summing to one).
        """
        return (
            self.covariance_type == "tied"
            and self.init_params in ("random_from_data", "k-means++")
            and self.weights_init is None
            and self.means_init is None
            and self.covariances_init is None
            and self.precisions_init is None
        )

    def _one_pass(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> float:
        """One variational pass: E-step statistics, then the M-step; returns the lower bound."""
        params = self._gaussian_parameters()
        sums = expectation_sums(X, params, sample_weight, entropy=True)
        nk, xk, sk = self._statistics(statistics_from_sums(sums, params))
        state = posterior(self._shared_prior(), self.covariance_type, nk, xk, sk)
        factor = self._publish_posterior(state, _numpy_dtype(X))
        return lower_bound(
            state,
            factor,
            self.covariance_type,
            self.weight_concentration_prior_type,
            float(sums.entropy),
        )

    # -- streaming variational Bayes --------------------------------------------------------

    def partial_fit(self, X, y=None, sample_weight=None):
        """Learn one batch of a stream: the posterior so far is the prior of this batch.

        Streaming variational Bayes (Broderick et al., "Streaming Variational Bayes",
        2013): the batch's responsibilities are computed once, under the current
        posterior, and its sufficient statistics are added to the posterior's natural
        parameters, exactly as a batch fit's M-step adds all the data's to the prior. An
        unfitted model first fits its first batch (``max_iter`` passes from
        ``init_params``, the priors taken from that batch), which must hold at least
        ``n_components`` rows; after that a batch may be a single point. A model fitted
        with :meth:`fit` streams on from its posterior.

        What it is not: one pass over a stream is not the batch optimum. Each point is
        assigned once, under the posterior of the points before it, and never revisited,
        so the result depends on the order of the batches and is a little more spread
        than :meth:`fit` on all the data; it finds the same live components when the
        batches are large enough to be assigned well (a few hundred points), and
        :meth:`fit` with ``warm_start=True`` afterwards refines it to a batch optimum.
        A component that dies out early is seldom revived: new points are assigned under
        a posterior that already gives it almost no weight.

        With ``memory``, the posterior counts at most about ``memory`` points: after
        each batch the data's part of the natural parameters is scaled down to that many,
        so that old batches fade geometrically and the model follows a drifting stream.
        A refused call leaves the model as it was.

        Parameters
        ----------
        X : array-like of shape (n_features,) or (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, as :meth:`fit` takes them (for the first batch, its priors too).

        Returns
        -------
        self : BayesianGaussianMixture
        """
        check_parameters_cached(self)
        fitted = self.__sklearn_is_fitted__()
        saved = self._saved_state()
        try:
            scaled = getattr(self, "_scaled", None)
            if scaled is not None or not fitted:
                array = check_data(self, X, reset=not fitted, allow_single=True)
                trained = _scaled_training.partial_fit(self, scaled, array, sample_weight)
                if trained is not None:
                    self._adopt(*trained)
                    return self
            if not fitted:
                array, data = self._training_data(X, reset=True)
                weights = self._training_weights(sample_weight, array, data)
                self._fit_loop(array, data, False, weights)
            else:
                array = check_data(self, X, reset=False, allow_single=True)
                data = self._to_tensor(array)
                weights = check_sample_weight(sample_weight, array.shape[0])
                if weights is not None:
                    weights = torch.as_tensor(weights, device=data.device).to(data.dtype)
                self._stream(data, weights)
        except ValueError:
            self._restore_state(saved)
            raise
        return self

    def _stream(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> None:
        """Add the batch ``X`` (n, D) to the posterior, which is its prior."""
        params = self._gaussian_parameters()
        sums = expectation_sums(X, params, sample_weight)
        nk, xk, sk = self._statistics(statistics_from_sums(sums, params))
        state = posterior(self._posterior(), self.covariance_type, nk, xk, sk)
        if self.memory is not None:
            base = self._shared_prior()
            seen = float(np.sum(state.mean_precision - base.mean_precision))
            if seen > self.memory:
                state = faded(state, base, self.memory / seen, self.covariance_type)
        self._publish_posterior(state, _numpy_dtype(X))
        check_finite_model(self)
        self.n_samples_seen_ = int(getattr(self, "n_samples_seen_", 0)) + X.shape[0]
        self.lower_bound_ = -np.inf  # a warm-started fit has no bound to compare with

    def _statistics(self, statistics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """scikit-learn's ``nk, xk, sk`` (float64 numpy) from E-step statistics."""
        kind = COVARIANCE_TYPES[self.covariance_type]
        counts = statistics.counts + 10 * torch.finfo(statistics.counts.dtype).eps  # [K]
        sk = kind.regularize(kind.reduce(statistics.covariances, counts), self.reg_covar)
        return tuple(
            value.detach().cpu().double().numpy() for value in (counts, statistics.means, sk)
        )

    # -- data far from unit size (see scaling/scaled_training) ---------------------------

    def _bound_in_units(self, value: float, log_density) -> float:
        """The variational bound in other units: ``nu_k`` Wishart terms, each ``D log s``.

        ``log_density(0, D)`` is ``-D log s`` for a change of scale ``s``; the bound
        changes by that times the summed degrees of freedom (constant over a fit's passes).
        """
        K, D = self.means_.shape
        total = float(np.sum(np.broadcast_to(self.degrees_of_freedom_, (K,))))
        return float(value) + total * log_density(0.0, D)

    def _in_internal_units(self, scaling, params: dict) -> dict:
        """``mean_prior`` and ``covariance_prior`` in the scaling's internal units."""
        if params.get("mean_prior") is not None:
            mean = np.asarray(params["mean_prior"], dtype=np.float64)
            params["mean_prior"] = scaling.internal(mean.reshape(1, -1))[0]
        if params.get("covariance_prior") is not None:
            prior = scaling.internal_covariances(params["covariance_prior"])
            params["covariance_prior"] = float(prior) if prior.ndim == 0 else prior
        return params

    def _adopt(self, scaled, fitted: dict) -> None:
        """Also the inner model's posterior (unitless) and priors (in data units)."""
        super()._adopt(scaled, fitted)
        inner, scaling = scaled.inner, scaled.scaling
        for name in (
            "weight_concentration_",
            "mean_precision_",
            "degrees_of_freedom_",
            "weight_concentration_prior_",
            "mean_precision_prior_",
            "degrees_of_freedom_prior_",
        ):
            setattr(self, name, getattr(inner, name))
        self.mean_prior_ = scaling.means(inner.mean_prior_)
        prior = scaling.covariances(inner.covariance_prior_)
        self.covariance_prior_ = float(prior) if prior.ndim == 0 else prior

    def _change_units(self, change, reg_covar: float, fitted: dict) -> None:
        """Also the priors, in the new units."""
        super()._change_units(change, reg_covar, fitted)
        self.mean_prior_ = change.point(self.mean_prior_)
        prior = change.covariance(self.covariance_prior_)
        self.covariance_prior_ = float(prior) if prior.ndim == 0 else prior

    # -- saving (see _saving) ------------------------------------------------------------

    def _saved_extras(self) -> dict:
        """The variational posterior beyond the parameters, and the priors."""
        return saved_extras(self)

    def _load_extras(self, data) -> None:
        """Restore the posterior and the priors, refusing any that disagree."""
        load_extras(self, data)


def _pooled_raw_scatter(
    X: torch.Tensor, nk: np.ndarray, xk: np.ndarray, reg_covar: float, sample_weight=None
):
    """scikit-learn's 'tied' covariance, ``(X.T W X - sum_k nk m_k m_k^T) / sum nk + reg``."""
    weighted = X if sample_weight is None else X * sample_weight[:, None]  # [n, D]
    raw = (weighted.T @ X).detach().cpu().double().numpy()  # [D, D]
    covariance = (raw - np.dot(nk * xk.T, xk)) / nk.sum()
    covariance.flat[:: covariance.shape[0] + 1] += reg_covar
    return covariance


def _numpy_dtype(X: torch.Tensor):
    return np.float32 if X.dtype == torch.float32 else np.float64

"""``GaussianMixtureModule``: a Gaussian mixture as a torch module, trainable by any optimizer.

The parameters are unconstrained, so that every optimizer step gives a valid model:

- weights are ``softmax(logits)``;
- each covariance is ``S (L L^T + diag(reg_covar / s^2)) S`` with ``L`` lower triangular
  with a positive (exponentiated) diagonal and ``S = diag(s)`` the data scale, i.e.
  ``L L^T`` in standardised units plus ``reg_covar`` in squared data units;
- the module works on standardised data ``(X - data_shift) / data_scale``, so that one
  learning rate suits data at any coordinate scale; ``log_prob`` adds the Jacobian back
  and is the density of the original data.

``raw_scale`` has the shape of the covariance type's ``covariances_`` (the covariance
table's ``shape``); the table's ``expand`` makes it (K, D, D), whose lower triangle with
an exponentiated diagonal is ``L`` for every type. The log-density is ``_em``'s.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .._em import GaussianParameters, weighted_log_prob
from .._validation import check_choice, check_non_negative, check_positive_int
from ..parts import covariance as _covariance
from ..parts.covariance import COVARIANCE_TYPES


def _log_scale_min(dtype: torch.dtype) -> float:
    """Floor on the log of the scale factor's diagonal, in standardised units.

    ``eps ** 1.5``: far below the data's resolution, far above underflow (also when
    squared and inverted), so that with ``reg_covar=0`` a component collapsing on
    duplicate points stops there instead of reaching a zero variance.
    """
    return 1.5 * math.log(torch.finfo(dtype).eps)


def _vector(values, n_features: int) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    vector = torch.as_tensor(np.asarray(values, dtype=np.float64))
    if vector.shape != (n_features,) or not bool(torch.isfinite(vector).all()):
        raise ValueError(f"data_shift and data_scale must be {n_features} finite numbers.")
    return vector


class GaussianMixtureModule(nn.Module):
    """A Gaussian mixture as a torch module in which every parameter value is a valid model.

    Usable in any torch training loop: ``loss = module(X); loss.backward(); opt.step()``.

    Parameters
    ----------
    n_components : int
    n_features : int
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, in squared data units.
    data_shift : array-like of shape (n_features,), optional
        Subtracted from the data before the mixture sees it (default 0).
    data_scale : array-like of shape (n_features,), optional
        Positive; the data is divided by it after the shift (default 1). For
        'spherical' all entries must be equal, so that a spherical component in
        standardised units is spherical in data units.
    generator : torch.Generator, optional
        Draws the initial means, standard normal in standardised units.
    dtype : torch.dtype, default=torch.float64
    device : str or torch.device, optional

    Attributes
    ----------
    logits : Parameter of shape (n_components,)
        Unnormalised log-weights; the weights are their softmax.
    loc : Parameter of shape (n_components, n_features)
        Means in standardised units.
    raw_scale : Parameter
        In the covariance type's shape: (K, D, D) 'full', (D, D) 'tied', (K, D) 'diag',
        (K,) 'spherical'. Expanded to (K, D, D), its strict lower triangle is that of the
        scale factor ``L`` and its diagonal the log of ``L``'s diagonal (log standard
        deviations for 'diag' and 'spherical'); standardised units, before ``reg_covar``.
    data_shift, data_scale : buffers of shape (n_features,)
    """

    def __init__(
        self,
        n_components: int,
        n_features: int,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        *,
        data_shift=None,
        data_scale=None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
        device=None,
    ):
        super().__init__()
        K = check_positive_int(n_components, "n_components")
        D = check_positive_int(n_features, "n_features")
        self.covariance_type = check_choice(
            covariance_type, "covariance_type", tuple(COVARIANCE_TYPES)
        )
        self.reg_covar = check_non_negative(reg_covar, "reg_covar")
        options = dict(dtype=dtype, device=device)
        shift = torch.zeros(D, **options) if data_shift is None else _vector(data_shift, D)
        scale = torch.ones(D, **options) if data_scale is None else _vector(data_scale, D)
        if not bool((scale > 0).all()):
            raise ValueError("data_scale must be positive.")
        if covariance_type == "spherical" and not bool((scale == scale[0]).all()):
            raise ValueError("A spherical mixture needs the same data_scale for every feature.")
        self.register_buffer("data_shift", shift.to(**options))
        self.register_buffer("data_scale", scale.to(**options))
        loc = torch.randn(K, D, generator=generator, dtype=dtype).to(device)
        self.logits = nn.Parameter(torch.zeros(K, **options))
        self.loc = nn.Parameter(loc)
        # Zero is the identity factor for every type.
        shape = COVARIANCE_TYPES[covariance_type].shape(K, D)
        self.raw_scale = nn.Parameter(torch.zeros(shape, **options))

    def extra_repr(self) -> str:
        """The sizes and settings that ``repr(module)`` shows."""
        K, D = self.loc.shape
        return (
            f"n_components={K}, n_features={D}, covariance_type={self.covariance_type!r}, "
            f"reg_covar={self.reg_covar}"
        )

    # -- parameters in standardised units -----------------------------------------------

    def _reg(self) -> torch.Tensor:
        """``reg_covar`` in standardised units, per feature, shape (D,)."""
        return self.reg_covar / self.data_scale**2

    def scale_tril(self) -> torch.Tensor:
        """Lower Cholesky factor of every covariance in standardised units, (K, D, D).

        Includes ``reg_covar``. Raises ``torch.linalg.LinAlgError`` if a regularised
        covariance is numerically singular.
        """
        K, D = self.loc.shape
        raw = _covariance.expand(self.covariance_type, self.raw_scale, K, D)  # [K, D, D]
        diagonal = torch.diagonal(raw, dim1=-2, dim2=-1).clamp(min=_log_scale_min(raw.dtype))
        lower = torch.tril(raw, -1) + torch.diag_embed(diagonal.exp())  # [K, D, D]
        if self.reg_covar > 0:
            covariance = lower @ lower.transpose(-2, -1) + torch.diag_embed(self._reg())
            lower = torch.linalg.cholesky(covariance)
        return lower

    # -- the mixture in data units -----------------------------------------------------

    @property
    def weights(self) -> torch.Tensor:
        """Mixture weights, shape (K,)."""
        return torch.softmax(self.logits, dim=0)

    @property
    def means(self) -> torch.Tensor:
        """Component means in data units, shape (K, D)."""
        return self.data_shift + self.data_scale * self.loc

    @property
    def covariance_matrix(self) -> torch.Tensor:
        """Component covariances in data units, regularised, shape (K, D, D)."""
        lower = self.data_scale[:, None] * self.scale_tril()  # [K, D, D]
        return lower @ lower.transpose(-2, -1)

    def typed_covariances(self) -> torch.Tensor:
        """Covariances in scikit-learn's shape for the covariance type (see ``raw_scale``)."""
        kind = COVARIANCE_TYPES[self.covariance_type]
        return kind.select_precision_cholesky(self.covariance_matrix, self.loc.shape[0])

    def log_prob(self, X: torch.Tensor) -> torch.Tensor:
        """Log-density of the mixture at each sample, in data units.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)

        Returns
        -------
        log_prob : Tensor of shape (n_samples,)
        """
        Z = (X - self.data_shift) / self.data_scale  # [n, D]
        lower = self.scale_tril()  # [K, D, D]
        eye = torch.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
        inverse = torch.linalg.solve_triangular(lower, eye.expand_as(lower), upper=False)
        params = GaussianParameters(
            torch.log_softmax(self.logits, dim=0), self.loc, inverse.transpose(-2, -1)
        )
        log_prob = weighted_log_prob(Z, params)  # [n, K]
        return torch.logsumexp(log_prob, dim=1) - torch.log(self.data_scale).sum()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The loss: mean negative log-likelihood per sample of ``X`` (a scalar tensor)."""
        return -self.log_prob(X).mean()

    @torch.no_grad()
    def sample(self, n_samples: int = 1, generator: torch.Generator | None = None):
        """Draw samples from the mixture, in data units.

        Parameters
        ----------
        n_samples : int
        generator : torch.Generator, optional

        Returns
        -------
        X : Tensor of shape (n_samples, n_features)
        """
        check_positive_int(n_samples, "n_samples")
        K, D = self.loc.shape
        device = self.loc.device
        labels = torch.multinomial(
            self.weights.cpu(), n_samples, replacement=True, generator=generator
        ).to(device)  # [n]
        noise = torch.randn(n_samples, D, 1, generator=generator, dtype=self.loc.dtype)
        z = self.loc[labels] + (self.scale_tril()[labels] @ noise.to(device))[:, :, 0]  # [n, D]
        return self.data_shift + self.data_scale * z

    def distribution(self) -> torch.distributions.MixtureSameFamily:
        """The same mixture as a ``torch.distributions.MixtureSameFamily`` in data units."""
        lower = self.data_scale[:, None] * self.scale_tril()  # [K, D, D]
        components = torch.distributions.MultivariateNormal(
            self.means, scale_tril=lower, validate_args=False
        )
        mixing = torch.distributions.Categorical(logits=self.logits, validate_args=False)
        return torch.distributions.MixtureSameFamily(mixing, components, validate_args=False)

    # -- from given parameters -----------------------------------------------------------

    @classmethod
    def from_parameters(
        cls,
        weights,
        means,
        covariances,
        *,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        data_shift=None,
        data_scale=None,
        dtype: torch.dtype = torch.float64,
        device=None,
    ) -> GaussianMixtureModule:
        """A module holding the given mixture (covariances already regularised).

        ``L L^T`` is set to the covariance minus ``reg_covar`` (standardised), so that
        the module's covariances equal ``covariances``; where that difference is not
        positive definite the covariance itself is used instead.

        Parameters
        ----------
        weights : array-like of shape (n_components,)
        means : array-like of shape (n_components, n_features)
        covariances : array-like
            In scikit-learn's shape for ``covariance_type``.
        covariance_type, reg_covar, data_shift, data_scale, dtype, device
            As for the constructor.

        Returns
        -------
        module : GaussianMixtureModule
        """
        means = torch.as_tensor(np.asarray(means), dtype=dtype)
        K, D = means.shape
        module = cls(
            K,
            D,
            covariance_type,
            reg_covar,
            data_shift=data_shift,
            data_scale=data_scale,
            dtype=dtype,
            device=device,
        )
        weights = torch.as_tensor(np.asarray(weights), dtype=dtype)
        typed = torch.as_tensor(np.asarray(covariances), dtype=dtype)
        shift, scale = module.data_shift.cpu(), module.data_scale.cpu()
        full = _covariance.expand(covariance_type, typed, K, D)  # [K, D, D]
        standard = full / (scale[:, None] * scale[None, :])  # [K, D, D]
        lower, info = torch.linalg.cholesky_ex(standard - torch.diag_embed(module._reg().cpu()))
        fallback = torch.linalg.cholesky(standard)
        lower = torch.where((info == 0)[:, None, None], lower, fallback)  # [K, D, D]
        raw = torch.tril(lower, -1) + torch.diag_embed(
            torch.log(torch.diagonal(lower, dim1=-2, dim2=-1))
        )
        with torch.no_grad():
            module.logits.copy_(torch.log(weights.clamp(min=torch.finfo(dtype).tiny)))
            module.loc.copy_((means - shift) / scale)
            module.raw_scale.copy_(
                COVARIANCE_TYPES[covariance_type].select_precision_cholesky(raw, K)
            )
        return module

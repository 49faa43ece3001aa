"""``GradientGaussianMixture``: the mixture trained by Adam on the likelihood, to compare with EM.

The original design's way of learning. The estimator initialises exactly as
:class:`~gmm_core.GaussianMixture` does (the same initialisation function), then runs one
full-batch Adam step of a :class:`~gmm_core.GaussianMixtureModule` per pass of the base
class's loop. Everything that needs only the fitted parameters (scores, prediction,
sampling, BIC) comes from :class:`~gmm_core._base.BaseMixture`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._base import BaseMixture
from .._initialization import MixtureParameters, parameters_from_covariances
from .._validation import torch_dtype
from ..fitted.serialization import (
    check_matches,
    json_array,
    read_array,
    read_number,
    require_key,
    require_mapping,
)
from ..parts.covariance import COVARIANCE_TYPES, SINGULAR_MESSAGE
from ..scaling.data_scaling import REG_EXPONENT
from .module import GaussianMixtureModule


def _standardization(
    X: torch.Tensor, covariance_type: str, reg_covar: float, sample_weight=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift (D,) and positive scale (D,) that make ``X`` centred with unit spread.

    A feature without spread takes the mean spread of the others (1 if none has any);
    'spherical' uses one scale, the root mean variance, for all features. No scale is
    below ``sqrt(reg_covar) / 2**(REG_EXPONENT / 2)``, so that ``reg_covar`` stays finite
    in standardised units (data whose spread is that far below the regulariser's). With
    ``sample_weight`` (n,), the weighted mean and variance.
    """
    if sample_weight is None:
        shift = X.mean(0)  # [D]
        variances = X.var(0, correction=0) if X.shape[0] > 1 else torch.zeros_like(shift)
    else:
        share = sample_weight / sample_weight.sum()  # [n]
        shift = share @ X  # [D]
        variances = share @ (X - shift).square()  # [D]
    if covariance_type == "spherical":
        variances = variances.mean().expand_as(shift)
    positive = variances > 0
    fallback = variances[positive].mean() if bool(positive.any()) else torch.ones_like(shift[0])
    scale = torch.sqrt(torch.where(positive, variances, fallback))  # [D]
    floor = math.sqrt(reg_covar) * 2.0 ** (
        -REG_EXPONENT[np.dtype(str(X.dtype).removeprefix("torch."))] / 2
    )
    return shift, scale.clamp(min=floor)


@dataclass(eq=False, repr=False, kw_only=True)
class GradientGaussianMixture(BaseMixture):
    """Gaussian mixture fitted by Adam on the negative log-likelihood, for comparison with EM.

    Initialises exactly as :class:`GaussianMixture` does from the same arguments, then
    trains a :class:`GaussianMixtureModule` for ``max_iter`` epochs; one epoch is one
    full-batch Adam step on the mean negative log-likelihood of ``X``, so training is
    deterministic. The data's shift and scale are fixed when the model is initialised and
    kept by warm starts. Every epoch leaves a valid model (softmax weights, Cholesky
    covariances with a positive diagonal plus ``reg_covar``). A scikit-learn estimator;
    a random start need not equal scikit-learn's from the same ``random_state``.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        ``converged_`` is set when the last epoch changed the mean log-likelihood by less
        than ``tol``; training always runs ``max_iter`` epochs, as in the original design.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, in squared data units.
    max_iter : int, default=100
        Epochs (Adam steps) per call of :meth:`fit`; 0 keeps the initialisation.
    n_init : int, default=1
        Initialisations tried by a cold :meth:`fit`; the best final lower bound is kept.
    init_params, weights_init, means_init, precisions_init, covariances_init
        As for :class:`GaussianMixture`.
    random_state : int, RandomState, numpy Generator or None
    warm_start : bool, default=False
        Whether :meth:`fit` continues from the current module with the same Adam state.
    verbose, verbose_interval : int
        As for :class:`GaussianMixture`.
    device : str or torch.device, optional
    dtype : torch.dtype, optional
        By default float32 data trains in float32, anything else in float64.
    lr : float, default=0.05
        Adam's learning rate, in standardised units (about one data standard deviation).

    Attributes
    ----------
    weights_, means_, covariances_, precisions_cholesky_, precisions_ : ndarray
        As for :class:`GaussianMixture`.
    converged_ : bool
    n_iter_ : int
        Epochs run by the last call.
    lower_bound_ : float
        Mean log-likelihood per sample before the last Adam step.
    lower_bounds_ : list of float
    n_samples_seen_ : int
    n_features_in_ : int
    module_ : GaussianMixtureModule
        The trained module (read-only property).
    optimizer_ : torch.optim.Adam
        Its optimizer (read-only property).

    Notes
    -----
    From the same start it reaches EM's likelihood on well-separated clusters (within
    1e-4 nats per point after 100 epochs in the tests), but more slowly, and it differs
    where EM is at its best: Adam moves every parameter by up to about ``lr`` per epoch
    whatever the curvature, so a component much narrower than ``lr`` standardised units,
    such as one collapsed on repeated points (width ``sqrt(reg_covar)``), is knocked off
    them, where EM keeps it. The model stays valid and finite throughout.
    """

    _PRIVATE_STATE: ClassVar[tuple[str, ...]] = ("_module", "_optimizer")
    _stop_at_convergence: ClassVar[bool] = False

    lr: float = 0.05

    @property
    def module_(self) -> GaussianMixtureModule:
        """The trained :class:`GaussianMixtureModule`."""
        check_is_fitted(self)
        return self._module

    @property
    def optimizer_(self) -> torch.optim.Adam:
        """The Adam optimizer that a warm start continues with."""
        check_is_fitted(self)
        return self._optimizer

    def _check_parameters(self) -> None:
        super()._check_parameters()
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr):
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
        if lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")

    def _can_continue(self) -> bool:
        module = getattr(self, "_module", None)
        return (
            super()._can_continue()
            and module is not None
            and module.loc.shape[0] == self.n_components
            and module.covariance_type == self.covariance_type
            and module.loc.dtype == torch_dtype(self.dtype, self.means_.dtype)
            and module.loc.device.type == self._device().type
        )

    # -- the two hooks of the base class's loop ------------------------------------------

    def _initialize(
        self, X: torch.Tensor, start: MixtureParameters, sample_weight: torch.Tensor | None = None
    ) -> None:
        """A fresh module at the initial parameters (EM's start), and a fresh Adam."""
        shift, scale = _standardization(
            X, self.covariance_type, float(self.reg_covar), sample_weight
        )
        self._module = GaussianMixtureModule.from_parameters(
            start.weights.cpu(),
            start.means.cpu(),
            start.covariances.cpu(),
            covariance_type=self.covariance_type,
            reg_covar=float(self.reg_covar),
            data_shift=shift.cpu().numpy(),
            data_scale=scale.cpu().numpy(),
            dtype=X.dtype,
            device=self._device(),
        )
        self._optimizer = torch.optim.Adam(self._module.parameters(), lr=float(self.lr))
        self._publish_module()

    def _one_pass(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> float:
        """One full-batch Adam step; returns the mean log-likelihood before it.

        With ``sample_weight``, of the weighted mean log-likelihood (per unit of weight).
        """
        module, optimizer = self._module, self._optimizer
        module.reg_covar = float(self.reg_covar)
        for group in optimizer.param_groups:
            group["lr"] = float(self.lr)
        optimizer.zero_grad(set_to_none=True)
        try:
            if sample_weight is None:
                loss = module(X)
            else:
                loss = -(module.log_prob(X) * sample_weight).sum() / sample_weight.sum()
        except torch.linalg.LinAlgError:
            raise ValueError(SINGULAR_MESSAGE) from None
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ValueError(
                "The negative log-likelihood became non-finite; increase reg_covar or decrease lr."
            )
        loss.backward()
        optimizer.step()
        try:
            self._publish_module()
        except (ValueError, RuntimeError):  # torch.linalg.LinAlgError is a RuntimeError
            raise ValueError(
                "An Adam step made a covariance singular or non-finite; decrease lr or "
                "increase reg_covar."
            ) from None
        return -value

    def _publish_module(self) -> None:
        module = self._module
        with torch.no_grad():
            self._publish(
                parameters_from_covariances(
                    self.covariance_type,
                    module.weights,
                    module.means,
                    module.typed_covariances(),
                )
            )

    # -- data far from unit size (see scaling.scaled_training) ------------------------------------

    def _adopt(self, scaled, fitted: dict) -> None:
        """Also take the inner model's module, seen in data units, and its Adam."""
        super()._adopt(scaled, fitted)
        inner, scaling = scaled.inner, scaled.scaling
        module = inner._module
        K, D = module.loc.shape
        view = GaussianMixtureModule(
            K,
            D,
            self.covariance_type,
            float(self.reg_covar),
            data_shift=scaling.means(module.data_shift.detach().cpu().numpy()),
            data_scale=scaling.lengths(module.data_scale.detach().cpu().numpy()),
            dtype=module.loc.dtype,
            device=module.loc.device,
        )
        view.logits, view.loc, view.raw_scale = module.logits, module.loc, module.raw_scale
        self._module, self._optimizer = view, inner._optimizer

    def _change_units(self, change, reg_covar: float, fitted: dict) -> None:
        """Also re-express the module's standardisation in new units; its parameters stay."""
        super()._change_units(change, reg_covar, fitted)
        module = self._module
        with torch.no_grad():
            shift = change.point(module.data_shift.cpu().numpy())
            scale = change.length(module.data_scale.cpu().numpy())
            module.data_shift.copy_(torch.as_tensor(shift))
            module.data_scale.copy_(torch.as_tensor(scale))
        module.reg_covar = float(reg_covar)

    def reset(self) -> GradientGaussianMixture:
        """Forget the fitted model and the optimizer state (the original "clear").

        Returns
        -------
        self : GradientGaussianMixture
        """
        self._restore_state({})
        return self

    # -- saving --------------------------------------------------------------------------

    def _saved_extras(self) -> dict:
        """The module's tensors, and Adam's step count and moments per parameter."""
        module, optimizer = self._module, self._optimizer
        moments = {}
        for name, parameter in module.named_parameters():
            entry = optimizer.state.get(parameter)
            if entry:
                moments[name] = {
                    "step": int(float(entry["step"])),
                    "exp_avg": json_array(entry["exp_avg"].cpu().numpy()),
                    "exp_avg_sq": json_array(entry["exp_avg_sq"].cpu().numpy()),
                }
        module_state = {
            name: json_array(tensor.detach().cpu().numpy())
            for name, tensor in module.state_dict().items()
        }
        return {"module": module_state, "optimizer": moments}

    def _load_extras(self, data) -> None:
        K, D = self.means_.shape
        if K != self.n_components:
            raise ValueError(
                f"data['parameters']['means'] has {K} components, expected {self.n_components}."
            )
        module = _read_module(require_key(data, "module", "data"), self, K, D)
        # The module determines the parameters: they must be the saved ones (to rounding).
        with torch.no_grad():
            try:
                rebuilt = parameters_from_covariances(
                    self.covariance_type, module.weights, module.means, module.typed_covariances()
                )
            except (ValueError, RuntimeError):  # torch.linalg.LinAlgError is a RuntimeError
                raise ValueError("data['module'] gives singular covariances.") from None
        for key in ("weights", "means", "covariances", "precisions_cholesky"):
            check_matches(
                getattr(self, f"{key}_"),
                getattr(rebuilt, key),
                f"data['parameters'][{key!r}]",
                "data['module']",
                str(self.means_.dtype),
            )
        optimizer = torch.optim.Adam(module.parameters(), lr=float(self.lr))
        _read_optimizer(require_key(data, "optimizer", "data"), module, optimizer)
        self._module, self._optimizer = module, optimizer


def _read_module(state, model: GradientGaussianMixture, K: int, D: int) -> GaussianMixtureModule:
    name = "data['module']"
    require_mapping(state, name)
    shapes = {
        "logits": (K,),
        "loc": (K, D),
        "raw_scale": COVARIANCE_TYPES[model.covariance_type].shape(K, D),
        "data_shift": (D,),
        "data_scale": (D,),
    }
    unknown = set(state) - set(shapes)
    if unknown:
        raise ValueError(f"{name} has unknown entries {sorted(unknown)}.")
    arrays = {key: read_array(state, key, shape, name=name) for key, shape in shapes.items()}
    dtype = torch_dtype(model.dtype, model.means_.dtype)
    module = GaussianMixtureModule(
        K,
        D,
        model.covariance_type,
        float(model.reg_covar),
        data_shift=arrays["data_shift"],
        data_scale=arrays["data_scale"],  # checked: positive, and equal for spherical
        dtype=dtype,
        device=model._device(),
    )
    module.load_state_dict({key: model._to_tensor(array, dtype) for key, array in arrays.items()})
    return module


def _read_optimizer(state, module: GaussianMixtureModule, optimizer: torch.optim.Adam) -> None:
    name = "data['optimizer']"
    require_mapping(state, name)
    parameters = dict(module.named_parameters())
    unknown = set(state) - set(parameters)
    if unknown:
        raise ValueError(f"{name} has unknown entries {sorted(unknown)}.")
    # Adam's moments are averages of the same gradients: |m| <= bound * sqrt(v) always
    # (Cauchy-Schwarz over the two exponential weightings), so an altered first moment,
    # which would throw the next step anywhere, is refused.
    beta1, beta2 = optimizer.param_groups[0]["betas"]
    bound = (1 - beta1) / np.sqrt((1 - beta2) * (1 - beta1**2 / beta2))
    loaded = {}
    for index, (key, parameter) in enumerate(parameters.items()):
        if key not in state:
            continue
        where = f"{name}[{key!r}]"
        entry: Mapping = require_mapping(state[key], where)
        step = read_number(entry, "step", name=where, integer=True)
        if step < 1:
            raise ValueError(f"{where}['step'] must be >= 1, got {step}.")
        shape = tuple(parameter.shape)
        exp_avg = read_array(entry, "exp_avg", shape, name=where)
        exp_avg_sq = read_array(entry, "exp_avg_sq", shape, name=where)
        if (exp_avg_sq < 0).any():
            raise ValueError(f"{where}['exp_avg_sq'] must be non-negative.")
        if (np.abs(exp_avg) > bound * np.sqrt(exp_avg_sq) * (1 + 1e-6) + 1e-300).any():
            raise ValueError(
                f"{where}['exp_avg'] is larger than Adam's moments allow given 'exp_avg_sq'."
            )
        loaded[index] = {
            # As Adam makes it: a CPU scalar of the default dtype, read with .item().
            "step": torch.tensor(float(step)),
            "exp_avg": torch.as_tensor(exp_avg, dtype=parameter.dtype),
            "exp_avg_sq": torch.as_tensor(exp_avg_sq, dtype=parameter.dtype),
        }
    optimizer.load_state_dict(
        {"state": loaded, "param_groups": optimizer.state_dict()["param_groups"]}
    )

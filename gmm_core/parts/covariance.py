"""The four covariance types, in one table (torch and numpy).

Every type is handled internally as full matrices of shape (K, D, D); a type only says how
a full estimate is reduced to its own parameters and how those are expanded back. This is
the torch side of :mod:`gmm_core.covariance_types`, which holds the types' names,
parameter counts and numpy reductions and expansions (and imports no torch): batch EM
calls the table on torch tensors, incremental EM on numpy arrays, and every function
answers in the kind of array it was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..covariance_types import COVARIANCE_TYPES as TYPE_NAMES
from ..covariance_types import full_covariances, typed_covariances

# log(2 pi): the constant of every Gaussian log-density in gmm_core.
LOG_2PI = math.log(2.0 * math.pi)

# A numpy array or a torch tensor: the table's functions accept both.
Array = np.ndarray | torch.Tensor

SINGULAR_MESSAGE = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, or increase reg_covar."
)


@dataclass(frozen=True)
class CovarianceType:
    """How one covariance type stores, reduces and expands its parameters.

    Every function takes numpy arrays or torch tensors (``Array``) and returns the same kind.

    Attributes
    ----------
    name : str
    shape : callable (K, D) -> tuple
        Shape of ``covariances_`` (and of ``precisions_cholesky_``) for this type.
    reduce : callable (full (K, D, D), nk (K,)) -> typed
        Typed covariances from full per-component estimates (before regularisation).
    expand : callable (typed, K, D) -> full (K, D, D)
        Full per-component matrices from typed ones.
    regularize : callable (typed, reg) -> typed
        Adds ``reg`` to the variances.
    select_precision_cholesky : callable (full (K, D, D), K) -> typed
        Typed values (precision Cholesky factors, or covariances) from full matrices that
        already have the type's structure.
    """

    name: str
    shape: Callable[[int, int], tuple]
    reduce: Callable[[Array, Array], Array]
    expand: Callable[[Array, int, int], Array]
    regularize: Callable[[Array, float], Array]
    select_precision_cholesky: Callable[[Array, int], Array]


def _eye(like, n_features: int):
    """Identity matrix of ``like``'s library, dtype and device."""
    if isinstance(like, torch.Tensor):
        return torch.eye(n_features, dtype=like.dtype, device=like.device)
    return np.eye(n_features, dtype=like.dtype)


def _add_to_diagonal(matrices, value: float):
    return matrices + float(value) * _eye(matrices, matrices.shape[-1])


def _diagonal(matrices: torch.Tensor) -> torch.Tensor:
    """Diagonals of shape (..., D) of matrices (..., D, D)."""
    return torch.diagonal(matrices, dim1=-2, dim2=-1)


def _repeat(matrix: torch.Tensor, n_components: int) -> torch.Tensor:
    """``n_components`` copies of one (D, D) matrix, as a new (K, D, D) tensor."""
    return matrix.expand(n_components, *matrix.shape).clone()


# reduce and expand in torch; on numpy arrays they are covariance_types' (see _in_kind).
_TORCH = {
    "full": CovarianceType(
        name="full",
        shape=lambda K, D: (K, D, D),
        reduce=lambda full, nk: full,
        expand=lambda typed, K, D: typed,
        regularize=_add_to_diagonal,
        select_precision_cholesky=lambda full, K: full,
    ),
    "tied": CovarianceType(
        name="tied",
        shape=lambda K, D: (D, D),
        reduce=lambda full, nk: (nk[:, None, None] * full).sum(0) / nk.sum(),
        expand=lambda typed, K, D: _repeat(typed, K),
        regularize=_add_to_diagonal,
        select_precision_cholesky=lambda full, K: full[0],
    ),
    "diag": CovarianceType(
        name="diag",
        shape=lambda K, D: (K, D),
        reduce=lambda full, nk: _diagonal(full),
        expand=lambda typed, K, D: torch.diag_embed(typed),
        regularize=lambda typed, reg: typed + float(reg),
        select_precision_cholesky=lambda full, K: full.diagonal(0, -2, -1),
    ),
    "spherical": CovarianceType(
        name="spherical",
        shape=lambda K, D: (K,),
        reduce=lambda full, nk: _diagonal(full).mean(-1),
        expand=lambda typed, K, D: typed[:, None, None] * _eye(typed, D),
        regularize=lambda typed, reg: typed + float(reg),
        select_precision_cholesky=lambda full, K: full[:, 0, 0],
    ),
}


def _in_kind(kind: CovarianceType) -> CovarianceType:
    """``kind`` with numpy arrays reduced and expanded by :mod:`gmm_core.covariance_types`."""
    name, reduce, expand = kind.name, kind.reduce, kind.expand

    def reduce_in_kind(full, nk):
        if isinstance(full, np.ndarray):
            return typed_covariances(full, name, nk)
        return reduce(full, nk)

    def expand_in_kind(typed, K, D):
        if isinstance(typed, np.ndarray):
            return full_covariances(typed, name, K, D)
        return expand(typed, K, D)

    return replace(kind, reduce=reduce_in_kind, expand=expand_in_kind)


# Every function of every entry takes numpy arrays or torch tensors and answers in kind;
# the types are covariance_types.COVARIANCE_TYPES, in its order.
COVARIANCE_TYPES: dict[str, CovarianceType] = {name: _in_kind(_TORCH[name]) for name in TYPE_NAMES}


def expand(kind: str, typed: torch.Tensor, n_components: int, n_features: int) -> torch.Tensor:
    """Full per-component matrices of shape (K, D, D) from typed covariances or precisions.

    Parameters
    ----------
    kind : {'full', 'tied', 'diag', 'spherical'}
    typed : Tensor of the type's shape
    n_components, n_features : int

    Returns
    -------
    full : Tensor of shape (n_components, n_features, n_features)
    """
    return COVARIANCE_TYPES[kind].expand(typed, n_components, n_features)


def precision_cholesky_from_covariance(covariances: torch.Tensor) -> torch.Tensor:
    """Upper-triangular factors ``U`` with ``U @ U.T`` the inverse of each covariance.

    Parameters
    ----------
    covariances : Tensor of shape (K, D, D)

    Returns
    -------
    precisions_cholesky : Tensor of shape (K, D, D)

    Raises
    ------
    ValueError
        If a covariance is not positive definite.
    """
    # Tiny matrices: numpy on the CPU answers in microseconds where a torch call costs more.
    matrices = covariances.detach().cpu().numpy().astype(np.float64, copy=False)
    factor = precision_cholesky_numpy(matrices)
    return torch.as_tensor(factor, dtype=covariances.dtype, device=covariances.device)


def precision_cholesky_numpy(covariances: np.ndarray) -> np.ndarray:
    """:func:`precision_cholesky_from_covariance` for numpy arrays of shape (K, D, D)."""
    try:
        lower = np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        raise ValueError(SINGULAR_MESSAGE) from None
    factor = np.swapaxes(np.linalg.inv(lower), -1, -2)
    if not np.isfinite(factor).all():
        raise ValueError(SINGULAR_MESSAGE)
    return factor


def precision_cholesky_from_precision(precisions: torch.Tensor) -> torch.Tensor:
    """Upper-triangular factors ``U`` with ``U @ U.T`` equal to each precision matrix.

    Parameters
    ----------
    precisions : Tensor of shape (K, D, D)

    Returns
    -------
    precisions_cholesky : Tensor of shape (K, D, D)
    """
    flipped = torch.flip(precisions, dims=(-2, -1))
    lower, info = torch.linalg.cholesky_ex(flipped)
    if bool((info != 0).any()):
        raise ValueError("precisions_init must be symmetric positive definite.")
    return torch.flip(lower, dims=(-2, -1))


def covariance_from_precision_cholesky(precisions_cholesky: torch.Tensor) -> torch.Tensor:
    """Covariances ``inv(U @ U.T)`` from upper precision factors, shape (K, D, D)."""
    eye = torch.eye(
        precisions_cholesky.shape[-1],
        dtype=precisions_cholesky.dtype,
        device=precisions_cholesky.device,
    )
    inverse_upper = torch.linalg.solve_triangular(
        precisions_cholesky, eye.expand_as(precisions_cholesky), upper=True
    )
    return inverse_upper.transpose(-2, -1) @ inverse_upper


def log_det_precision_cholesky(precisions_cholesky: torch.Tensor) -> torch.Tensor:
    """Log-determinant of each factor, i.e. half the log-determinant of the precision, (K,)."""
    return torch.log(torch.diagonal(precisions_cholesky, dim1=-2, dim2=-1)).sum(-1)


def is_positive_definite(matrices: torch.Tensor, rtol: float = 1e-10) -> bool:
    """Whether every matrix of shape (..., D, D) is symmetric (to ``rtol``) positive definite."""
    symmetric = torch.allclose(matrices, matrices.transpose(-2, -1), rtol=rtol, atol=0.0)
    _, info = torch.linalg.cholesky_ex(matrices)
    return symmetric and not bool((info != 0).any())

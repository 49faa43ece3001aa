"""Data far from unit size: the shift and power-of-two scale that bring it to unit size.

Data whose coordinates or spread lie outside about 1e-100..1e100 (1e-12..1e12 in
float32) would over- or underflow somewhere in training (squared distances, k-means,
sums of squares), and data offset by more than 1e4 times their spread would lose digits
in running sums. gmm_core then trains on ``(X - shift) / 2**exponent``, centred and
about unit size, and maps the parameters back. The scale is a power of two, so that
scaling is exact in floating point: only the shift rounds, as the data itself does.
``reg_covar`` keeps its meaning in squared data units (scikit-learn's): it is
``reg_covar / 4**exponent`` inside. Ordinary data never come here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Data whose largest size and spread lie in this range are trained on as they are.
ORDINARY = {np.dtype(np.float64): (1e-100, 1e100), np.dtype(np.float32): (1e-12, 1e12)}
# Columns offset by more than this times their spread are centred first (for a column
# without spread, the second number times sqrt(reg_covar), the narrowest component).
OFFSET = {np.dtype(np.float64): (1e4, 1e8), np.dtype(np.float32): (1e2, 1e3)}
# Points beyond this size inside (a mean and covariances of unit size) widen the scaling.
FAR = {np.dtype(np.float64): 2.0**64, np.dtype(np.float32): 2.0**16}
# Inside, reg_covar is at most 2**this: far above any unit-size variance, far below overflow.
REG_EXPONENT = {np.dtype(np.float64): 600, np.dtype(np.float32): 60}
LOG_2 = math.log(2.0)


def column_bounds(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each column of ``X`` (n, D), each (D,).

    Column by column for a few columns: numpy reduces a tall, narrow array along its
    first axis about thirty times more slowly.
    """
    if X.shape[1] > 16:
        return X.min(0), X.max(0)
    low = np.array([column.min() for column in X.T], dtype=X.dtype)
    high = np.array([column.max() for column in X.T], dtype=X.dtype)
    return low, high


def is_ordinary(X: np.ndarray, reg_covar: float, dtype) -> bool:
    """Whether ``X`` (n, D), trained in ``dtype``, is trained on as it is.

    True when its largest absolute value is at most the dtype's ordinary bound, its
    widest column spans at least the lower bound (or all points coincide), and no column
    is offset by more than ``OFFSET`` times its spread (for a column without spread, its
    second number times ``sqrt(reg_covar)``): beyond that, sums about the origin lose
    the digits that the spread is made of, and training's results their rounding.
    """
    low_size, high_size = ORDINARY[np.dtype(dtype)]
    low, high = column_bounds(X)
    top = np.maximum(np.abs(high), np.abs(low))  # [D]
    largest = float(top.max())
    if not largest <= high_size:
        return False
    if largest == 0.0:
        return True
    spread = high - low  # [D]
    widest = float(spread.max())
    if (widest == 0.0 and largest < low_size) or 0.0 < widest < low_size:
        return False
    by_spread, by_reg = OFFSET[np.dtype(dtype)]
    limit = np.where(spread > 0, by_spread * spread, by_reg * math.sqrt(reg_covar))  # [D]
    return bool(np.all((top <= limit) | (limit == 0.0)))


def _exponent(value: float) -> int:
    """The ``e`` with ``2**(e-1) <= value < 2**e`` for a positive finite ``value``."""
    return int(np.frexp(value)[1])


@dataclass(frozen=True)
class DataScaling:
    """A shift and a power-of-two scale: data units to internal units and back.

    Internal coordinates are ``(x - shift) / 2**exponent``; internal covariances are
    data covariances divided by ``4**exponent``, precision factors multiplied by
    ``2**exponent``, and log-densities raised by ``n_features * exponent * log(2)``.

    Attributes
    ----------
    shift : ndarray of shape (n_features,)
    exponent : int
    low, high : ndarray of shape (n_features,)
        Smallest and largest value seen in each column, in data units.
    """

    shift: np.ndarray
    exponent: int
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of_bounds(cls, low, high, reg_covar: float, dtype) -> DataScaling:
        """The scaling that brings values between ``low`` and ``high`` (D,) to [-1/2, 1/2].

        With a positive ``reg_covar``, the scale is at least ``sqrt(reg_covar)`` divided
        by ``2**(REG_EXPONENT / 2)``, so that ``reg_covar`` stays finite inside. Points
        that all coincide take ``sqrt(reg_covar)`` as their scale (or, with no
        regulariser, their own size).
        """
        low = np.asarray(low, dtype=np.float64)
        high = np.asarray(high, dtype=np.float64)
        shift = low / 2 + high / 2  # the midpoint, without overflow
        half_span = float(np.max(high / 2 - low / 2))
        if half_span > 0:
            exponent = _exponent(half_span) + 1
        elif reg_covar > 0:
            exponent = _exponent(math.sqrt(reg_covar))
        else:  # not centred: the point's own size sets the variance assumed for it
            top = float(np.max(np.abs(shift)))
            exponent = _exponent(top) if top > 0 else 0
            shift = np.zeros_like(shift)
        if reg_covar > 0:
            floor = math.ceil((_exponent(reg_covar) - REG_EXPONENT[np.dtype(dtype)]) / 2)
            exponent = max(exponent, floor)
        return cls(shift, exponent, low, high)

    @classmethod
    def of_data(cls, X: np.ndarray, reg_covar: float, dtype) -> DataScaling:
        """The scaling of the data ``X`` (n, D)."""
        return cls.of_bounds(*column_bounds(X), reg_covar, dtype)

    def widened(self, X: np.ndarray, reg_covar: float, dtype) -> DataScaling:
        """The scaling of every value seen so far and of ``X`` (n, D)."""
        low, high = column_bounds(X)
        low, high = np.minimum(self.low, low), np.maximum(self.high, high)
        return DataScaling.of_bounds(low, high, reg_covar, dtype)

    def widened_bounds(self, X: np.ndarray) -> DataScaling:
        """The same shift and scale, with ``X`` (n, D) counted among the values seen."""
        low, high = column_bounds(X)
        low, high = np.minimum(self.low, low), np.maximum(self.high, high)
        return DataScaling(self.shift, self.exponent, low, high)

    # -- data and parameters into internal units ----------------------------------------

    def internal(self, X: np.ndarray) -> np.ndarray:
        """Points (n, D) in internal units, in ``X``'s dtype."""
        halves = np.asarray(X, dtype=np.float64) / 2 - self.shift / 2  # never overflows
        with np.errstate(over="ignore"):  # inf for points far beyond the scale: not covered
            values = np.ldexp(halves, 1 - self.exponent)
        return values.astype(X.dtype, copy=False)

    def covers(self, internal: np.ndarray, dtype) -> bool:
        """Whether points already in internal units (n, D) are near enough to unit size."""
        return bool(np.max(np.abs(internal)) <= FAR[np.dtype(dtype)])

    def internal_reg(self, reg_covar: float) -> float:
        """``reg_covar`` in internal units."""
        return float(np.ldexp(float(reg_covar), -2 * self.exponent))

    def internal_covariances(self, covariances: np.ndarray) -> np.ndarray:
        """Covariances (any covariance type's shape) in internal units."""
        return np.ldexp(np.asarray(covariances, dtype=np.float64), -2 * self.exponent)

    def internal_precisions(self, precisions: np.ndarray) -> np.ndarray:
        """Precisions (any covariance type's shape) in internal units."""
        return np.ldexp(np.asarray(precisions, dtype=np.float64), 2 * self.exponent)

    # -- back to data units ---------------------------------------------------------------

    def means(self, internal: np.ndarray) -> np.ndarray:
        """Points or means (..., D) from internal to data units, float64."""
        return np.ldexp(np.asarray(internal, dtype=np.float64), self.exponent) + self.shift

    def covariances(self, internal: np.ndarray) -> np.ndarray:
        """Covariances (any covariance type's shape) in data units, float64."""
        return np.ldexp(np.asarray(internal, dtype=np.float64), 2 * self.exponent)

    def lengths(self, internal: np.ndarray) -> np.ndarray:
        """Lengths such as standard deviations (any shape) in data units, float64."""
        return np.ldexp(np.asarray(internal, dtype=np.float64), self.exponent)

    def precisions_cholesky(self, internal: np.ndarray) -> np.ndarray:
        """Precision factors (any covariance type's shape) in data units, float64."""
        return np.ldexp(np.asarray(internal, dtype=np.float64), -self.exponent)

    def log_density(self, internal: float, n_features: int) -> float:
        """A log-density (per point) from internal to data units."""
        return float(internal) - n_features * self.exponent * LOG_2

    # -- from one scaling to another -------------------------------------------------------

    def change_to(self, other: DataScaling) -> UnitChange:
        """The map from this scaling's internal units to ``other``'s."""
        offset = np.ldexp(self.shift, -other.exponent) - np.ldexp(other.shift, -other.exponent)
        return UnitChange(self.exponent - other.exponent, offset)


@dataclass(frozen=True)
class UnitChange:
    """From one scaling's internal units to another's: ``x -> x * 2**exponent + offset``.

    Attributes
    ----------
    exponent : int
    offset : ndarray of shape (n_features,)
    """

    exponent: int
    offset: np.ndarray

    def point(self, values):
        """Points or means (..., D), float64."""
        return np.ldexp(np.asarray(values, dtype=np.float64), self.exponent) + self.offset

    def covariance(self, values):
        """Covariances, variances or scatters (any shape), float64."""
        return np.ldexp(np.asarray(values, dtype=np.float64), 2 * self.exponent)

    def length(self, values):
        """Lengths such as standard deviations (any shape), float64."""
        return np.ldexp(np.asarray(values, dtype=np.float64), self.exponent)

    def precision_cholesky(self, values):
        """Precision factors (any shape), float64."""
        return np.ldexp(np.asarray(values, dtype=np.float64), -self.exponent)

    def log_density(self, value: float, n_features: int) -> float:
        """A log-density per point."""
        return float(value) - n_features * self.exponent * LOG_2


def smallest_variance(dtype) -> float:
    """The least variance ``dtype`` holds to about seven digits (a subnormal number)."""
    return float(np.finfo(dtype).smallest_subnormal) * 2.0**24


def _variances(covariances, covariance_type: str):
    if covariance_type in ("full", "tied"):
        return np.diagonal(covariances, axis1=-2, axis2=-1)
    return covariances


def _size(value: float, internal=None, pick=np.max) -> str:
    """``value`` for a message, or its size from ``internal`` where it over- or underflowed.

    ``internal`` is ``(covariances, covariance_type, exponent)`` of the scaled model.
    """
    if (0.0 < value < np.inf) or internal is None:
        return f"{value:.3g}"
    covariances, covariance_type, exponent = internal
    variances = np.abs(_variances(np.asarray(covariances, dtype=np.float64), covariance_type))
    size = float(pick(variances[variances > 0], initial=1.0 if pick is np.max else 1e308))
    return f"1e{round(math.log10(size) + 2 * exponent * math.log10(2.0))}"


def check_representable(
    dtype, covariance_type: str, means, covariances, factor, *, internal=None
) -> None:
    """Refuse parameters (data units, float64) that ``dtype`` cannot hold.

    Means and covariances must be finite and every variance at least
    :func:`smallest_variance`; the message gives the size of the model's variances
    (from ``internal``, ``(covariances, covariance_type, exponent)`` of the scaled
    model, where they over- or underflow in data units).
    """
    info = np.finfo(dtype)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        variances = _variances(covariances, covariance_type)
        largest = float(np.max(np.abs(variances)))
        smallest = float(np.min(variances))
        cast = [np.asarray(a, dtype=dtype) for a in (means, covariances, factor)]
    if not (np.isfinite(largest) and all(np.isfinite(a).all() for a in cast)):
        raise ValueError(
            f"The model of these data has variances of about {_size(largest, internal)} (or "
            f"means beyond "
            f"{info.max:.3g}), more than {np.dtype(dtype).name} can represent (at most "
            f"{info.max:.3g}). Divide the data by a constant before fitting (then multiply "
            "the means by it and the covariances by its square)."
        )
    floor = smallest_variance(dtype)
    if not smallest >= floor:
        raise ValueError(
            f"The model of these data has variances of about "
            f"{_size(smallest, internal, np.min)}, less than "
            f"{np.dtype(dtype).name} can represent to seven digits (at least {floor:.3g}). "
            "Multiply the data by a constant before fitting, or increase reg_covar."
        )

"""How a fitted model becomes a snapshot ready to draw.

:class:`SnapshotBuilder` shapes a fitted model into a :class:`app.state.messages.ModelSnapshot`
(stable colours through :class:`PaletteSlots`, ellipse outlines, points grouped by
component in a :class:`PointsLayer`). It runs in the worker thread; nothing here imports
torch or gmm_core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gmm_core.covariance_types import bic as information_bic
from gmm_core.covariance_types import full_covariances, n_parameters

from ..state import messages
from ..state.geometry import (
    column_ranges,
    ellipse_outlines,
    group_by_label,
    match_slots,
)
from ..state.messages import TRAINERS, ModelSnapshot, TrainingRequest, frozen
from .collapse import collapsed_components, data_spread

#: The variational trainer, whose unneeded components are let die, not flagged.
VARIATIONAL = TRAINERS[3]

#: Above this many points, progress snapshots reuse the last points layer (one E-step
#: costs as much as an EM pass there); the last snapshot of a request recomputes it.
LARGE_N = 50_000


@dataclass(frozen=True, slots=True, eq=False)
class PointsLayer:
    """The points as last sent: labelled and grouped by component.

    Attributes
    ----------
    labels : ndarray of shape (m,), int16
        Component of each point, in the order of the snapshot that computed it (or of
        a later one, after :meth:`SnapshotBuilder.build` renumbered it).
    slot_labels : ndarray of shape (m,), int16
        Palette slot of each point: survives a renumbering of the components.
    slots : ndarray of shape (K,)
        Palette slot of each component in the order ``labels`` uses.
    grouped : ndarray of shape (m, D), or (0, D) above ``DENSITY_ABOVE`` points
        The points sorted by component; group ``g`` is ``grouped[starts[g]:starts[g + 1]]``
        and has palette slot ``group_colors[g]``. Above
        :data:`app.state.messages.DENSITY_ABOVE` points the canvas draws an image of the
        labelled points instead, and no sorted copy is made.
    starts : ndarray of shape (G + 1,)
    group_colors : ndarray of shape (G,)
    bounds : tuple of 4 floats or None
        (x_min, y_min, x_max, y_max) of the points' first two columns; None when there
        are none.
    mean_log_likelihood : float
        Of the ``m`` points under the model that labelled them.
    """

    labels: np.ndarray
    slot_labels: np.ndarray
    slots: np.ndarray
    grouped: np.ndarray
    starts: np.ndarray
    group_colors: np.ndarray
    bounds: tuple[float, float, float, float] | None
    mean_log_likelihood: float


#: ``label(X) -> (labels, log_likelihood)``: the model's most probable component of each
#: row of ``X`` (model order) and the summed log-density; may raise to abandon a snapshot.
LabelFunction = Callable[[np.ndarray], tuple[np.ndarray, float]]


class PaletteSlots:
    """Which palette slot each drawn component has: colours follow components.

    One object can serve several builders (the trainers of "Compare all"), so that the
    same cluster has the same colour in every model and after a change of trainer.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the slots: the next model takes the first colours."""
        self.slots = np.zeros(0, dtype=np.int64)  # palette slot per drawn component
        self.means = np.zeros((0, 2))  # [K, D] the drawn means, in slot order

    def assign(self, means: np.ndarray, scale: float) -> np.ndarray:
        """Slots for ``means`` (K, D), each keeping the colour of the nearest old mean.

        Means of another dimension (other columns) match nothing: the first colours.
        """
        if self.means.shape[1] != means.shape[1]:
            self.reset()
        return match_slots(self.means, self.slots, means, scale)

    def remember(self, means: np.ndarray, slots: np.ndarray) -> None:
        """The components now drawn, in slot order."""
        self.means, self.slots = means, slots


class SnapshotBuilder:
    """Turns fitted models into snapshots, one request after another.

    Keeps what must persist between snapshots: each component's palette slot (so colours
    follow components, matched by :func:`app.state.geometry.match_slots`) and the last
    :class:`PointsLayer` (reused by progress snapshots of large data).

    Parameters
    ----------
    large_n : int
        Above this many points, progress snapshots reuse the last points layer.
    palette : PaletteSlots, optional
        Shared with other builders to give their models the same colours.
    trainer : str
        Written into every snapshot.
    """

    def __init__(
        self,
        large_n: int = LARGE_N,
        palette: PaletteSlots | None = None,
        trainer: str = TRAINERS[0],
    ):
        self.large_n = large_n
        self.trainer = trainer
        self._layer: PointsLayer | None = None
        self.palette = palette if palette is not None else PaletteSlots()
        self._spans: tuple | None = None  # (points, n, extent, spread) of the last points

    def reset_colors(self) -> None:
        """Forget the palette slots: the next model takes the first colours."""
        self.palette.reset()

    def keep_colors(self, means: np.ndarray, slots: np.ndarray) -> None:
        """Match the next model's components to these drawn ``means`` (K, D) and ``slots``."""
        slots = np.array(slots, dtype=np.int64)
        means = np.array(means, dtype=np.float64).reshape(slots.shape[0], -1)
        self.palette.remember(means, slots)

    def forget_points(self) -> None:
        """Do not reuse the last points layer (the points or the model were replaced)."""
        self._layer = None

    def empty(self, request: TrainingRequest) -> ModelSnapshot:
        """The snapshot of no model at all (no points)."""
        self.reset_colors()
        self.forget_points()
        return ModelSnapshot(
            request.request_id,
            0,
            generation=request.generation,
            trainer=self.trainer,
            covariance_type=request.covariance_type,
        )

    def build(
        self,
        request: TrainingRequest,
        model,
        n_points: int,
        state: str,
        n_iter: int,
        *,
        final: bool,
        label: LabelFunction,
    ) -> ModelSnapshot:
        """A frozen, ready-to-draw snapshot of ``model``.

        Parameters
        ----------
        request : TrainingRequest
            The request being served.
        model : GaussianMixture
            Fitted: ``weights_``, ``means_``, ``covariances_``, ``lower_bound_`` are read;
            fitted in as many dimensions as ``request.points`` has columns.
        n_points : int
            The model has learnt ``request.points[:n_points]``.
        state : str
            See :attr:`ModelSnapshot.state`.
        n_iter : int
            EM passes run for this request so far.
        final : bool
            The last snapshot of its request: the points are always labelled afresh.
        label : callable
            Labels and summed log-likelihood of points under ``model`` (see
            :data:`LabelFunction`); called at most once.
        """
        X = request.points[:n_points]
        n, d = X.shape
        extent, spread = self._extent_and_spread(request.points, n)
        weights = np.array(model.weights_, dtype=np.float64)  # [K]
        means = np.array(model.means_, dtype=np.float64).reshape(-1, d)  # [K, D]
        covariance_type = getattr(model, "covariance_type", "full")
        covariances = full_covariances(  # [K, D, D]
            model.covariances_, covariance_type, weights.shape[0], d
        )
        # Stable colours: each component keeps the slot of the nearest old component;
        # the snapshot lists components in slot order.
        scale = max(extent, np.sqrt(request.reg_covar) * 1e3)
        slots = self.palette.assign(means, scale)
        order = np.argsort(slots)
        snapshot_index = np.empty_like(order)
        snapshot_index[order] = np.arange(order.shape[0])  # model component -> snapshot
        weights, means, covariances, slots = (
            weights[order],
            means[order],
            covariances[order],
            slots[order],
        )
        self.palette.remember(means, slots)
        layer = self._points_layer(X, slots, snapshot_index, exact=final, label=label)
        mean_ll = layer.mean_log_likelihood if layer.labels.shape[0] == n else float("nan")
        if not np.isfinite(mean_ll) and state in ("refining", "training"):
            # the bound of the last EM pass: the model's own figure for all the points
            mean_ll = float(getattr(model, "lower_bound_", np.nan))
        bic = float("nan")
        if n and np.isfinite(mean_ll):
            n_free = n_parameters(covariance_type, weights.shape[0], d)
            bic = information_bic(mean_ll * n, n, n_free)
        collapsed = (
            ()  # a variational fit lets the components it does not need die out
            if self.trainer == VARIATIONAL
            else collapsed_components(weights, covariances, X, request.reg_covar, spread)
        )
        x, y, connect, ring_component = ellipse_outlines(means[:, :2], covariances[:, :2, :2])
        return ModelSnapshot(
            request_id=request.request_id,
            generation=request.generation,
            n_points=n,
            weights=frozen(weights),
            means=frozen(means),
            covariances=frozen(covariances),
            colors=frozen(slots),
            outline_x=frozen(x),
            outline_y=frozen(y),
            outline_connect=frozen(connect),
            ring_component=frozen(ring_component),
            labels=layer.labels,
            grouped_points=layer.grouped,
            group_starts=layer.starts,
            group_colors=layer.group_colors,
            grouped_bounds=layer.bounds,
            mean_log_likelihood=float(mean_ll),
            bic=float(bic),
            n_iter=n_iter,
            state=state,
            final=final,
            trainer=self.trainer,
            covariance_type=covariance_type,
            collapsed=collapsed,
        )

    def _extent_and_spread(self, points: np.ndarray, n: int) -> tuple[float, float]:
        """Bounding-box extent and spread of ``points[:n]``, computed once per points array."""
        cached = self._spans
        if cached is None or cached[0] is not points or cached[1] != n:
            X = points[:n]
            low, high = column_ranges(X)
            extent = float(np.max(high - low)) if n >= 2 else 0.0
            cached = self._spans = (points, n, extent, data_spread(X))
        return cached[2], cached[3]

    def _points_layer(
        self,
        X: np.ndarray,
        slots: np.ndarray,
        snapshot_index: np.ndarray,
        *,
        exact: bool,
        label: LabelFunction,
    ) -> PointsLayer:
        """The points labelled and grouped, or the last layer again for large data.

        Small data is labelled in every snapshot; large data only in the last snapshot of
        a request. In between the previous layer is sent again (the same arrays, so the
        canvas skips redrawing them) and the points added since are drawn as pending.
        """
        n = X.shape[0]
        layer = self._layer
        if (
            not exact
            and n > self.large_n
            and layer is not None
            and layer.labels.shape[0] <= n
            and set(layer.group_colors.tolist()) <= set(slots.tolist())
        ):
            if not np.array_equal(layer.slots, slots):  # components renumbered
                index_of_slot = np.full(int(slots.max(initial=0)) + 1, -1, dtype=np.int64)
                index_of_slot[slots] = np.arange(slots.shape[0])
                labels = frozen(index_of_slot[layer.slot_labels], dtype=np.int16)
                layer = dataclasses.replace(layer, labels=labels, slots=slots)
                self._layer = layer
            return layer
        if n:
            model_labels, total = label(X)
            # int16 throughout: 10,000,000 labels are 20 MB, not 80
            labels = np.take(snapshot_index.astype(np.int16), model_labels)  # [n]
            mean_ll = float(total) / n
        else:
            labels, mean_ll = np.zeros(0, dtype=np.int16), float("nan")
        bounds = None
        if n and n <= messages.DENSITY_ABOVE:  # drawn as dots, grouped by component
            grouped, starts = group_by_label(X, labels, slots.shape[0])
            low, high = column_ranges(X)
            bounds = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
        else:  # drawn as an image of the labels (or nothing)
            grouped, starts = np.zeros((0, 2)), np.zeros(slots.shape[0] + 1, dtype=np.int64)
        labels.setflags(write=False)  # a fresh array: frozen without a copy
        self._layer = PointsLayer(
            labels=labels,
            slot_labels=np.take(slots.astype(np.int16), labels),
            slots=slots,
            grouped=frozen(grouped) if grouped.shape[0] else grouped,
            starts=frozen(starts),
            group_colors=frozen(slots),
            bounds=bounds,
            mean_log_likelihood=mean_ll,
        )
        return self._layer

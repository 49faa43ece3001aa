"""The messages between the GUI thread and the worker, and how a model becomes a snapshot.

:class:`TrainingRequest` goes to the worker, :class:`ModelSnapshot` comes back;
:class:`SnapshotBuilder` shapes a fitted model into a snapshot ready to draw (stable
colours, ellipse outlines, points grouped by component). Nothing here imports torch or
gmm_core: the window imports this module before the first frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .collapse import collapsed_components
from .geometry import (
    data_extent,
    ellipse_outlines,
    full_covariances,
    group_by_label,
    match_slots,
)

#: Above this many points, progress snapshots reuse the last points layer (one E-step
#: costs as much as an EM pass there); the last snapshot of a request recomputes it.
LARGE_N = 50_000


def frozen(array, dtype=None) -> np.ndarray:
    """A read-only copy of ``array`` (shared safely between threads)."""
    out = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class TrainingRequest:
    """What the controller asks the worker to do; the newest request wins.

    Attributes
    ----------
    request_id : int
        Increases with every request; snapshots carry it back.
    points : ndarray of shape (n, 2)
        All current points, read-only (the session never mutates an array it handed out).
    generation : int
        The session's edit generation: it changes on every edit that is not an append,
        so the worker knows whether its model saw a prefix of ``points``.
    n_components : int
    epochs : int
        Cap on the warm-started EM passes over all points after the incremental update.
    reg_covar : float
        Regulariser in squared data units, following the data's scale.
    train : bool
        Refit from scratch with ``n_init`` restarts (the Train button).
    n_init : int
    time_budget_s : float
        Wall-clock cap on the refinement of an ordinary update (not of Train).
    seed : int
    trainer : str
        How the model learns: one of :data:`TRAINERS` (``"Compare all"`` runs the three).
    covariance_type : str
        One of :data:`COVARIANCE_TYPES`.
    step : str
        ``""`` for live training; ``"e"`` or ``"m"`` for the halves of one step-by-step
        pass (see :meth:`app.training.Trainer.run`).
    repair : bool
        Re-seed the collapsed components at the worst-explained points first.
    start : ModelStart or None
        A model to continue from (an opened session's), instead of the worker's own.
    """

    request_id: int
    points: np.ndarray
    generation: int
    n_components: int
    epochs: int
    reg_covar: float
    train: bool = False
    n_init: int = 4
    time_budget_s: float = 5.0
    seed: int = 0
    trainer: str = "Online EM"
    covariance_type: str = "full"
    step: str = ""
    repair: bool = False
    start: ModelStart | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ModelStart:
    """A fitted model for the worker to continue from (an opened session's).

    Attributes
    ----------
    model : dict
        ``GaussianMixture.to_dict()`` output (checked again by ``from_dict``).
    generation : int
        The session generation of the points the model was fitted to.
    n_points : int
        The model has learnt the first ``n_points`` points of that generation.
    means : ndarray of shape (K, 2)
        The drawn means, in palette-slot order, and ``colors`` (K,) their slots: the
        next snapshot keeps each component's colour.
    colors : ndarray of shape (K,)
    """

    model: dict
    generation: int
    n_points: int
    means: np.ndarray
    colors: np.ndarray


#: How the model learns (``window.trainer_combo``), in the order shown.
TRAINERS: tuple[str, ...] = ("Online EM", "Batch EM", "Gradient (Adam)")

#: The combo's fourth choice: the three trainers learn the same points at once.
COMPARE_ALL = "Compare all"

#: Covariance types (``window.covariance_combo``), as gmm_core names them.
COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")

_EMPTY_F = frozen(np.zeros(0))


@dataclass(frozen=True, slots=True, eq=False)
class KScoresRequest:
    """Model selection asked of the background thread: score each K on ``points``."""

    request_id: int
    points: np.ndarray
    reg_covar: float
    covariance_type: str = "full"
    ks: tuple[int, ...] = tuple(range(1, 11))
    seed: int = 0
    train: bool = False  # never: a mailbox's Train flag does not apply
    start: None = None  # never: a mailbox's continued model does not apply either


@dataclass(frozen=True, slots=True)
class KScores:
    """BIC and AIC against the number of components (``window.k_scores_ready``).

    Attributes
    ----------
    request_id : int
    ks : tuple of int
    bic, aic : tuple of float
        One per K (nan where K exceeds the number of points); lower is better.
    best_k : int
        The K of the lowest BIC.
    """

    request_id: int
    ks: tuple[int, ...]
    bic: tuple[float, ...]
    aic: tuple[float, ...]
    best_k: int


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ModelSnapshot:
    """A drawn model: numpy copies and ready-to-draw geometry, never live tensors.

    Components are ordered by palette slot, so ``colors`` is increasing.

    Attributes
    ----------
    request_id : int
    n_points : int
        How many of the request's points (a prefix) the model has learnt.
    generation : int
        The session generation of those points.
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, 2)
    covariances : ndarray of shape (K, 2, 2)
    colors : ndarray of shape (K,)
        Palette slot of each component, stable from one snapshot to the next.
    outline_x, outline_y, outline_connect : ndarray of shape (M,)
        The 1, 2 and 3 standard-deviation ellipses of every component, end to end.
    ring_component : ndarray of shape (R,)
        Component of each ring in the outline (rings have equal vertex counts).
    labels : ndarray of shape (m,)
        Most responsible component of each of the first ``m`` points (``m == n_points``,
        except in progress snapshots of large data, which keep the last grouping and
        leave the points added since to be drawn as pending).
    grouped_points : ndarray of shape (m, 2)
        Those points sorted by label; ``group_starts`` (G + 1,) delimits each group and
        ``group_colors`` (G,) gives its palette slot; ``grouped_bounds`` is their
        (x_min, y_min, x_max, y_max), None when there are none.
    mean_log_likelihood : float
        Mean log-likelihood per point (nan when not known).
    bic : float
    n_iter : int
        EM passes run for this request so far.
    state : str
        ``"empty"``, ``"incremental"``, ``"refining"``, ``"training"``, ``"converged"``,
        or ``"stopped"`` (epochs or time budget spent).
    final : bool
        Whether this is the last snapshot of its request.
    trainer : str
        The trainer that made this model (one of :data:`TRAINERS`).
    covariance_type : str
        The model's covariance type; ``covariances`` are always full (K, 2, 2) matrices,
        of that type's form (one matrix for tied, diagonal for diag, multiples of the
        identity for spherical).
    log_likelihood : float
        Mean log-likelihood per point of this snapshot's model (nan when not known).
    collapsed : tuple of int
        Components flagged as collapsed (see :mod:`app.collapse`).
    model : dict or None
        ``GaussianMixture.to_dict()`` of the model, in final snapshots (exported and
        saved in sessions as is); None otherwise.
    """

    request_id: int
    n_points: int
    generation: int = 0
    weights: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    means: np.ndarray = field(default_factory=lambda: frozen(np.zeros((0, 2))))
    covariances: np.ndarray = field(default_factory=lambda: frozen(np.zeros((0, 2, 2))))
    colors: np.ndarray = field(default_factory=lambda: frozen(np.zeros(0, dtype=np.int64)))
    outline_x: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    outline_y: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    outline_connect: np.ndarray = field(default_factory=lambda: frozen(np.zeros(0, bool)))
    ring_component: np.ndarray = field(default_factory=lambda: frozen(np.zeros(0, np.int64)))
    labels: np.ndarray = field(default_factory=lambda: frozen(np.zeros(0, dtype=np.int16)))
    grouped_points: np.ndarray = field(default_factory=lambda: frozen(np.zeros((0, 2))))
    group_starts: np.ndarray = field(default_factory=lambda: frozen(np.zeros(1, np.int64)))
    group_colors: np.ndarray = field(default_factory=lambda: frozen(np.zeros(0, np.int64)))
    grouped_bounds: tuple[float, float, float, float] | None = None
    mean_log_likelihood: float = float("nan")
    bic: float = float("nan")
    n_iter: int = 0
    state: str = "empty"
    final: bool = True
    trainer: str = TRAINERS[0]
    covariance_type: str = "full"
    collapsed: tuple[int, ...] = ()

    model: dict | None = None

    @property
    def log_likelihood(self) -> float:
        """Mean log-likelihood per point of this snapshot's model (nan when not known)."""
        return self.mean_log_likelihood

    def __repr__(self) -> str:
        return (
            f"ModelSnapshot({self.trainer!r}, request_id={self.request_id}, "
            f"n_points={self.n_points}, "
            f"n_components={self.n_components}, state={self.state!r}, final={self.final})"
        )

    @property
    def n_components(self) -> int:
        """Number of components the model has now (may be fewer than asked for)."""
        return int(self.weights.shape[0])


def n_parameters(n_components: int, n_features: int = 2, covariance_type: str = "full") -> int:
    """Free parameters of a mixture (weights, means, covariances), as scikit-learn counts."""
    per_matrix = n_features * (n_features + 1) // 2
    covariance = {
        "full": n_components * per_matrix,
        "tied": per_matrix,
        "diag": n_components * n_features,
        "spherical": n_components,
    }[covariance_type]
    return n_components * (1 + n_features) - 1 + covariance


@dataclass(frozen=True, slots=True, eq=False)
class PointsLayer:
    """The points as last sent: labelled and grouped by component.

    Attributes
    ----------
    labels : ndarray of shape (m,), int16
        Component of each point, in the order of the snapshot that computed it (or of
        a later one, after :meth:`SnapshotBuilder.build` renumbered it).
    slot_labels : ndarray of shape (m,)
        Palette slot of each point: survives a renumbering of the components.
    slots : ndarray of shape (K,)
        Palette slot of each component in the order ``labels`` uses.
    grouped : ndarray of shape (m, 2)
        The points sorted by component; group ``g`` is ``grouped[starts[g]:starts[g + 1]]``
        and has palette slot ``group_colors[g]``.
    starts : ndarray of shape (G + 1,)
    group_colors : ndarray of shape (G,)
    bounds : tuple of 4 floats or None
        (x_min, y_min, x_max, y_max) of the points; None when there are none.
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
        self.means = np.zeros((0, 2))  # [K, 2] the drawn means, in slot order

    def assign(self, means: np.ndarray, scale: float) -> np.ndarray:
        """Slots for ``means`` (K, 2), each keeping the colour of the nearest old mean."""
        return match_slots(self.means, self.slots, means, scale)

    def remember(self, means: np.ndarray, slots: np.ndarray) -> None:
        """The components now drawn, in slot order."""
        self.means, self.slots = means, slots


class SnapshotBuilder:
    """Turns fitted models into snapshots, one request after another.

    Keeps what must persist between snapshots: each component's palette slot (so colours
    follow components, matched by :func:`app.geometry.match_slots`) and the last
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

    def reset_colors(self) -> None:
        """Forget the palette slots: the next model takes the first colours."""
        self.palette.reset()

    def keep_colors(self, means: np.ndarray, slots: np.ndarray) -> None:
        """Match the next model's components to these drawn ``means`` (K, 2) and ``slots``."""
        self._slot_means = np.array(means, dtype=np.float64).reshape(-1, 2)
        self._slots = np.array(slots, dtype=np.int64)

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
            Fitted: ``weights_``, ``means_``, ``covariances_``, ``lower_bound_`` are read.
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
        n = X.shape[0]
        weights = np.array(model.weights_, dtype=np.float64)  # [K]
        means = np.array(model.means_, dtype=np.float64).reshape(-1, 2)  # [K, 2]
        covariance_type = getattr(model, "covariance_type", "full")
        covariances = full_covariances(model.covariances_, covariance_type, weights.shape[0])
        # Stable colours: each component keeps the slot of the nearest old component;
        # the snapshot lists components in slot order.
        scale = max(data_extent(X), np.sqrt(request.reg_covar) * 1e3)
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
        mean_ll = layer.mean_log_likelihood if layer.grouped.shape[0] == n else float("nan")
        if not np.isfinite(mean_ll) and state in ("refining", "training"):
            # the bound of the last EM pass: the model's own figure for all the points
            mean_ll = float(getattr(model, "lower_bound_", np.nan))
        bic = float("nan")
        if n and np.isfinite(mean_ll):
            n_free = n_parameters(weights.shape[0], 2, covariance_type)
            bic = -2.0 * mean_ll * n + n_free * np.log(n)
        collapsed = collapsed_components(weights, covariances, X, request.reg_covar)
        x, y, connect, ring_component = ellipse_outlines(means, covariances)
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
            and layer.grouped.shape[0] <= n
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
            labels = snapshot_index[np.asarray(model_labels, dtype=np.int64)]  # [n]
            low, high = X.min(axis=0), X.max(axis=0)
            bounds = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
            mean_ll = float(total) / n
        else:
            labels, bounds, mean_ll = np.zeros(0, dtype=np.int64), None, float("nan")
        grouped, starts = group_by_label(X, labels, slots.shape[0])
        self._layer = PointsLayer(
            labels=frozen(labels, dtype=np.int16),
            slot_labels=slots[labels],
            slots=slots,
            grouped=frozen(grouped),
            starts=frozen(starts),
            group_colors=frozen(slots),
            bounds=bounds,
            mean_log_likelihood=mean_ll,
        )
        return self._layer

"""The messages between the GUI thread and the worker.

:class:`TrainingRequest` goes to the worker, :class:`ModelSnapshot` comes back
(:class:`app.training.snapshot_builder.SnapshotBuilder` shapes a fitted model into one). Nothing
here imports torch or gmm_core: the window imports this module before the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Above this many points the canvas draws an image of the points' labels, not dots:
#: from 50,000 points on, the image pans and zooms at least as fast as dots (p95 16 against
#: 23 ms at 50,000; 12 against 36 ms at 1,000,000), its longest stall is shorter (31
#: against 61 ms), and the worker no longer sorts a copy of the points for every model.
DENSITY_ABOVE = 50_000

#: The variational trainer's default prior on the weights (``weight_concentration_prior``):
#: below 1, a Dirichlet process favours few components.
DEFAULT_WEIGHT_PRIOR = 0.01


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
    points : ndarray of shape (n, D)
        All current points, read-only (the session never mutates an array it handed out);
        the model is fitted in all D dimensions.
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
        How the model learns: one of :data:`TRAINERS` (``"Compare all"`` runs them all).
    covariance_type : str
        One of :data:`gmm_core.covariance_types.COVARIANCE_TYPES`.
    step : str
        ``""`` for live training; ``"e"`` or ``"m"`` for the halves of one step-by-step
        pass (see :meth:`app.training.trainer.Trainer.run`).
    repair : bool
        Re-seed the collapsed components at the worst-explained points first.
    start : ModelStart or None
        A model to continue from (an opened session's), instead of the worker's own.
    weight_prior : float
        The variational trainer's ``weight_concentration_prior``: smaller keeps fewer
        components in use.
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
    weight_prior: float = DEFAULT_WEIGHT_PRIOR


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
    means : ndarray of shape (K, D)
        The drawn means, in palette-slot order, and ``colors`` (K,) their slots: the
        next snapshot keeps each component's colour.
    colors : ndarray of shape (K,)
    """

    model: dict
    generation: int
    n_points: int
    means: np.ndarray
    colors: np.ndarray


#: How the model learns (``window.trainer_combo``), in the order shown. The last is
#: variational Bayes (:class:`gmm_core.BayesianGaussianMixture`): Components is then the
#: most it may use, and those it does not need die out.
TRAINERS: tuple[str, ...] = ("Online EM", "Batch EM", "Gradient (Adam)", "Variational (auto K)")

#: A variational component with at least this weight carries the data ("in use").
IN_USE_WEIGHT = 0.01


#: The combo's fourth choice: the three trainers learn the same points at once.
COMPARE_ALL = "Compare all"


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
    weight_prior: float = DEFAULT_WEIGHT_PRIOR  # the variational fit's


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
    variational_k : int
        The components in use (weight at least :data:`IN_USE_WEIGHT`) of a variational fit
        of the largest K (:class:`gmm_core.BayesianGaussianMixture`): the K it chose
        itself; 0 when it was not fitted.
    """

    request_id: int
    ks: tuple[int, ...]
    bic: tuple[float, ...]
    aic: tuple[float, ...]
    best_k: int
    variational_k: int = 0


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
    means : ndarray of shape (K, D)
        In all D dimensions of the points.
    covariances : ndarray of shape (K, D, D)
    colors : ndarray of shape (K,)
        Palette slot of each component, stable from one snapshot to the next.
    outline_x, outline_y, outline_connect : ndarray of shape (M,)
        The 1, 2 and 3 standard-deviation ellipses of every component, end to end, in
        the first two columns (:func:`app.canvas.projection.marginal_snapshot` draws another
        pair).
    ring_component : ndarray of shape (R,)
        Component of each ring in the outline (rings have equal vertex counts).
    labels : ndarray of shape (m,)
        Most responsible component of each of the first ``m`` points (``m == n_points``,
        except in progress snapshots of large data, which keep the last grouping and
        leave the points added since to be drawn as pending).
    grouped_points : ndarray of shape (m, D)
        Those points sorted by label; ``group_starts`` (G + 1,) delimits each group and
        ``group_colors`` (G,) gives its palette slot; ``grouped_bounds`` is the
        (x_min, y_min, x_max, y_max) of their first two columns, None when there are none.
        Empty above :data:`DENSITY_ABOVE` points, which the canvas draws
        as an image of ``labels``.
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
        The model's covariance type; ``covariances`` are always full (K, D, D) matrices,
        of that type's form (one matrix for tied, diagonal for diag, multiples of the
        identity for spherical).
    log_likelihood : float
        Mean log-likelihood per point of this snapshot's model (nan when not known).
    collapsed : tuple of int
        Components flagged as collapsed (see :mod:`app.training.collapse`).
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
    def n_features(self) -> int:
        """D, the number of columns the model was fitted in."""
        return int(self.means.shape[1])

    @property
    def n_components(self) -> int:
        """Number of components the model has now (may be fewer than asked for)."""
        return int(self.weights.shape[0])

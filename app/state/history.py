"""The session's timeline: every drawn model, moment by moment, in bounded memory.

A :class:`Moment` is what the canvas drew at one time: the primary trainer's model and,
in "Compare all", the other trainers' models beside it, with the session's points as
they were then. Models are kept small (:func:`compact`): weights, means, covariances,
colours and scores; the ellipses' outlines and the points' grouping are rebuilt from
them when a moment is drawn again (:func:`restored`). Points are kept once per session
generation (edits that only append share one array: the earlier points are a prefix of
the later), so 5,000 clicks keep one array of 5,000 points.

Memory is bounded (see :class:`Timeline`): at most :data:`MAX_MOMENTS` moments and
:data:`MAX_POINT_BYTES` of points of earlier generations. Old passes go first: when the
timeline is full, the progress snapshots (passes) of its older three quarters are
dropped, the edits' answers (each request's final model) kept; when only answers are
left, every other one of the older half goes. Pure numpy: no Qt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .geometry import ellipse_outlines, group_by_label, responsibilities
from .messages import ModelSnapshot, frozen

#: The most moments a timeline keeps.
MAX_MOMENTS = 1000

#: The most bytes of points of generations other than the newest (the current points
#: are the session's own array and cost the timeline nothing).
MAX_POINT_BYTES = 64 * 2**20

#: Thinning keeps the newest quarter of the moments untouched.
KEEP_NEWEST = 0.25


@dataclass(frozen=True, slots=True, eq=False)
class Moment:
    """What was drawn at one time.

    Attributes
    ----------
    models : tuple of ModelSnapshot
        The primary trainer's model first, then the other trainers' (``compact`` ones).
    generation : int
        The session generation of the points then; ``n_shown`` of them were shown.
    n_shown : int
    final : bool
        Whether the primary model was its request's answer (else a pass in progress).
    """

    models: tuple[ModelSnapshot, ...]
    generation: int
    n_shown: int
    final: bool

    @property
    def model(self) -> ModelSnapshot:
        """The primary trainer's model."""
        return self.models[0]


def compact(snapshot: ModelSnapshot) -> ModelSnapshot:
    """``snapshot`` without what can be rebuilt: outlines, labels, grouped points, the dict.

    About ``K * (D * D + D + 2)`` floats remain.
    """
    return dataclasses.replace(
        snapshot,
        outline_x=frozen(np.zeros(0)),
        outline_y=frozen(np.zeros(0)),
        outline_connect=frozen(np.zeros(0, bool)),
        ring_component=frozen(np.zeros(0, np.int64)),
        labels=frozen(np.zeros(0, np.int16)),
        grouped_points=frozen(np.zeros((0, snapshot.n_features))),
        group_starts=frozen(np.zeros(1, np.int64)),
        group_colors=frozen(np.zeros(0, np.int64)),
        grouped_bounds=None,
        model=None,
    )


def restored(snapshot: ModelSnapshot, points: np.ndarray, group_above: int) -> ModelSnapshot:
    """A compact ``snapshot`` ready to draw over ``points`` (n, D), the points then.

    The ellipses' outlines (first two columns) and each learnt point's most responsible
    component are computed again from the parameters; the points are grouped by it up
    to ``group_above`` points (above, the canvas draws an image of the labels).
    """
    k = snapshot.n_components
    if k == 0:
        return snapshot
    x, y, connect, ring_component = ellipse_outlines(
        snapshot.means[:, :2], snapshot.covariances[:, :2, :2]
    )
    n = min(snapshot.n_points, points.shape[0])
    learnt = points[:n] if points.shape[1] == snapshot.n_features else points[:0]
    n = learnt.shape[0]
    labels = np.zeros(0, np.int16)
    if n:
        resp = responsibilities(learnt, snapshot.weights, snapshot.means, snapshot.covariances)
        labels = np.argmax(resp, axis=1).astype(np.int16)  # [n]
    fields = dict(
        outline_x=frozen(x),
        outline_y=frozen(y),
        outline_connect=frozen(connect),
        ring_component=frozen(ring_component),
        labels=frozen(labels),
        n_points=n,
    )
    if 0 < n <= group_above:
        grouped, starts = group_by_label(learnt, labels, k)
        low, high = grouped[:, :2].min(axis=0), grouped[:, :2].max(axis=0)
        fields.update(
            grouped_points=frozen(grouped),
            group_starts=frozen(starts),
            group_colors=frozen(snapshot.colors),
            grouped_bounds=(float(low[0]), float(low[1]), float(high[0]), float(high[1])),
        )
    return dataclasses.replace(snapshot, **fields)


class Timeline:
    """The drawn models of a session, oldest first, in bounded memory.

    Parameters
    ----------
    max_moments : int
        Moments kept at most; reaching it thins the timeline (old passes first).
    max_point_bytes : int
        Bytes of points of earlier generations kept at most; beyond, the oldest
        generations' moments go.
    """

    def __init__(self, max_moments: int = MAX_MOMENTS, max_point_bytes: int = MAX_POINT_BYTES):
        if max_moments < 4:
            raise ValueError(f"max_moments must be at least 4, got {max_moments}.")
        self.max_moments = max_moments
        self.max_point_bytes = max_point_bytes
        self._moments: list[Moment] = []
        self._points: dict[int, np.ndarray] = {}  # generation -> the longest points seen
        # trainer -> (the snapshot seen last, its compact copy)
        self._compacted: dict[str, tuple[ModelSnapshot, ModelSnapshot]] = {}

    def __len__(self) -> int:
        return len(self._moments)

    def __getitem__(self, index: int) -> Moment:
        return self._moments[index]

    def clear(self) -> None:
        """Forget every moment."""
        self._moments.clear()
        self._points.clear()
        self._compacted.clear()

    def record(self, models, points: np.ndarray, generation: int) -> Moment | None:
        """Keep a moment: ``models`` drawn (primary first) over ``points`` of ``generation``.

        Returns the moment, or None when there is no model to keep.
        """
        models = tuple(m for m in models if m is not None)
        if not models:
            return None
        kept = self._points.get(generation)
        if kept is None or kept.shape[0] < points.shape[0]:
            self._points[generation] = points  # appends: the earlier points are a prefix
        moment = Moment(
            models=tuple(self._compact(m) for m in models),
            generation=generation,
            n_shown=int(points.shape[0]),
            final=bool(models[0].final),
        )
        self._moments.append(moment)
        if len(self._moments) > self.max_moments:
            self._thin()
        self._bound_points()
        return moment

    def points(self, moment: Moment) -> np.ndarray:
        """The session's points when ``moment`` was drawn, shape (n, D)."""
        return self._points[moment.generation][: moment.n_shown]

    def nbytes(self) -> int:
        """Bytes held: the models' arrays and the points of every generation kept."""
        seen: set[int] = set()
        total = 0
        for moment in self._moments:
            for model in moment.models:
                if id(model) in seen:
                    continue
                seen.add(id(model))
                total += sum(
                    a.nbytes for a in (model.weights, model.means, model.covariances, model.colors)
                )
        return total + sum(p.nbytes for p in self._points.values())

    def passes(self) -> int:
        """How many of the moments are passes in progress (not an edit's answer)."""
        return sum(not m.final for m in self._moments)

    # -- bounds ---------------------------------------------------------------------------

    def _compact(self, snapshot: ModelSnapshot) -> ModelSnapshot:
        """The compact copy of ``snapshot``, made once however many moments show it."""
        seen = self._compacted.get(snapshot.trainer)
        if seen is None or seen[0] is not snapshot:
            seen = self._compacted[snapshot.trainer] = (snapshot, compact(snapshot))
        return seen[1]

    def _thin(self) -> None:
        """Make room: old passes go first, then every other old answer."""
        moments = self._moments
        target = (self.max_moments * 3) // 4
        newest = len(moments) - int(self.max_moments * KEEP_NEWEST)
        excess = len(moments) - target
        kept = []
        for index, moment in enumerate(moments):
            if excess > 0 and 0 < index < newest and not moment.final:
                excess -= 1  # an old pass: dropped
                continue
            kept.append(moment)
        if len(kept) > target:  # only answers left in the old part: every other one goes
            old = len(kept) // 2
            kept = [m for i, m in enumerate(kept[:old]) if i % 2 == 0] + kept[old:]
        self._moments = kept
        self._forget_unused_points()

    def _bound_points(self) -> None:
        """Drop the oldest generations' moments while their points exceed the budget."""
        newest = self._moments[-1].generation if self._moments else None
        while True:
            old = sum(p.nbytes for g, p in self._points.items() if g != newest)
            if old <= self.max_point_bytes:
                return
            oldest = self._moments[0].generation
            if oldest == newest:
                return
            self._moments = [m for m in self._moments if m.generation != oldest]
            self._forget_unused_points()

    def _forget_unused_points(self) -> None:
        used = {m.generation for m in self._moments}
        for generation in [g for g in self._points if g not in used]:
            del self._points[generation]

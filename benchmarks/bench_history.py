"""Memory of the history's timeline over 5,000 clicks and 1,000 passes.

Feeds :class:`app.state.history.Timeline` what the window records: after each of 5,000
clicks (one point appended, as clicks do) the answer of its request (a final model
with the points grouped, as the worker sends it), then 1,000 passes of a Train on all
5,000 points, then 200 brush strokes (edits that are not appends: a new points array
each). Prints the moments kept, the passes among them, the bytes the timeline holds
(``Timeline.nbytes``) and the Python heap it added (``tracemalloc``), against what
keeping every snapshot as sent would hold.

Run from the repository root: ``python benchmarks/bench_history.py`` (a few seconds).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.state.geometry import ellipse_outlines, group_by_label  # noqa: E402
from app.state.history import MAX_MOMENTS, MAX_POINT_BYTES, Timeline  # noqa: E402
from app.state.messages import ModelSnapshot, frozen  # noqa: E402

K = 5


def snapshot(points: np.ndarray, rng, final: bool, n_iter: int) -> ModelSnapshot:
    """A model of ``points`` shaped as the worker sends it (outlines, grouped points)."""
    n = points.shape[0]
    means = rng.normal(size=(K, 2)) * 5
    covariances = np.repeat(np.eye(2)[None], K, axis=0)
    labels = rng.integers(0, K, n).astype(np.int16)
    grouped, starts = group_by_label(points, labels, K)
    x, y, connect, rings = ellipse_outlines(means, covariances)
    return ModelSnapshot(
        request_id=0,
        n_points=n,
        weights=frozen(np.full(K, 1 / K)),
        means=frozen(means),
        covariances=frozen(covariances),
        colors=frozen(np.arange(K)),
        outline_x=frozen(x),
        outline_y=frozen(y),
        outline_connect=frozen(connect),
        ring_component=frozen(rings),
        labels=frozen(labels),
        grouped_points=frozen(grouped),
        group_starts=frozen(starts),
        group_colors=frozen(np.arange(K)),
        final=final,
        n_iter=n_iter,
    )


def sent_bytes(s: ModelSnapshot) -> int:
    arrays = (s.weights, s.means, s.covariances, s.outline_x, s.outline_y, s.labels)
    return sum(a.nbytes for a in arrays) + s.grouped_points.nbytes + s.outline_connect.nbytes


def main() -> None:
    rng = np.random.default_rng(0)
    tracemalloc.start()
    timeline = Timeline()
    points = np.zeros((0, 2))
    sent = 0
    start = time.perf_counter()
    for _ in range(5000):  # clicks: appends, one generation
        points = np.concatenate([points, rng.normal(size=(1, 2)) * 5])
        points.setflags(write=False)
        s = snapshot(points, rng, final=True, n_iter=1)
        sent += sent_bytes(s)
        timeline.record([s], points, generation=0)
    clicks_s = time.perf_counter() - start
    after_clicks = len(timeline), timeline.nbytes()
    for p in range(1000):  # a Train's passes
        s = snapshot(points, rng, final=p == 999, n_iter=p + 1)
        sent += sent_bytes(s)
        timeline.record([s], points, generation=0)
    generation = 0
    for _ in range(200):  # brush strokes: a new array each
        generation += 1
        points = frozen(points + rng.normal(size=points.shape) * 0.01)
        s = snapshot(points, rng, final=True, n_iter=1)
        sent += sent_bytes(s)
        timeline.record([s], points, generation=generation)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mb = 2**20
    print(f"limits: {MAX_MOMENTS} moments, {MAX_POINT_BYTES / mb:.0f} MB of earlier points")
    print(
        f"after 5,000 clicks: {after_clicks[0]} moments, {after_clicks[1] / mb:.2f} MB "
        f"({clicks_s * 1e6 / 5000:.0f} us per record)"
    )
    print(
        f"after 1,000 passes and 200 strokes: {len(timeline)} moments "
        f"({timeline.passes()} passes), timeline {timeline.nbytes() / mb:.2f} MB"
    )
    print(f"Python heap now {current / mb:.1f} MB (peak {peak / mb:.1f} MB, inputs included)")
    print(f"every snapshot as sent would hold {sent / mb:.0f} MB")


if __name__ == "__main__":
    main()

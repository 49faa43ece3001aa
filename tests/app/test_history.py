"""The history: a bounded timeline of drawn models, scrubbed with the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.state.history import Timeline, compact, restored
from app.state.messages import TRAINERS, ModelSnapshot, frozen

from .conftest import click, three_clusters, wait_for_model


def _model(n_points: int, mean: float, final: bool = True, n_iter: int = 1) -> ModelSnapshot:
    return ModelSnapshot(
        request_id=0,
        n_points=n_points,
        weights=frozen([1.0]),
        means=frozen([[mean, 0.0]]),
        covariances=frozen([np.eye(2)]),
        colors=frozen(np.zeros(1, np.int64)),
        final=final,
        n_iter=n_iter,
        state="converged" if final else "refining",
    )


# -- the timeline (no Qt) ------------------------------------------------------------------


def test_appended_points_are_kept_once_and_each_moment_sees_its_prefix():
    timeline = Timeline()
    rng = np.random.default_rng(0)
    points = np.zeros((0, 2))
    for i in range(50):
        points = np.concatenate([points, rng.normal(size=(1, 2))])
        timeline.record([_model(i + 1, float(i))], points, generation=0)
    assert len(timeline) == 50
    np.testing.assert_array_equal(timeline.points(timeline[9]), points[:10])
    assert timeline.nbytes() < points.nbytes + 50 * 200  # one array, small models


def test_old_passes_are_thinned_first_and_the_newest_moments_stay():
    timeline = Timeline(max_moments=40)
    points = np.zeros((5, 2))
    for i in range(200):
        final = i % 5 == 4  # four passes, then the answer
        timeline.record([_model(5, float(i), final=final)], points, generation=0)
    assert len(timeline) <= 40
    means = [m.model.means[0, 0] for m in timeline]
    assert means[-1] == 199.0 and means == sorted(means)
    old = [m for m in timeline][1 : len(timeline) // 3]
    assert old and all(m.final for m in old)  # old passes went, the answers stayed
    assert not timeline[-2].final  # new passes stay


def test_points_of_old_generations_are_bounded():
    timeline = Timeline(max_point_bytes=10 * 1000 * 16)
    for generation in range(100):
        timeline.record([_model(1000, 0.0)], np.ones((1000, 2)) * generation, generation)
    assert timeline.nbytes() <= 12 * 1000 * 16 + 100 * 200
    assert timeline[-1].generation == 99


def test_a_restored_model_groups_the_points_as_the_model_then_did():
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(-5, 0.5, (20, 2)), rng.normal(5, 0.5, (20, 2))])
    model = ModelSnapshot(
        request_id=0,
        n_points=40,
        weights=frozen([0.5, 0.5]),
        means=frozen([[-5.0, -5.0], [5.0, 5.0]]),
        covariances=frozen([np.eye(2) * 0.25] * 2),
        colors=frozen([0, 3]),
    )
    again = restored(compact(model), points, group_above=1000)
    assert list(again.group_starts) == [0, 20, 40]
    assert list(again.group_colors) == [0, 3]
    assert again.outline_x.shape[0] > 0


# -- the real window -----------------------------------------------------------------------


@pytest.fixture
def trained(qtbot, window, updates):
    """Clusters clicked in three batches, each answered: a history of several moments."""
    points, _ = three_clusters(np.random.default_rng(3), n_per=12, shuffle=False)
    for part in np.array_split(points, 3):
        window.add_points(part)
        wait_for_model(qtbot, window, updates, lambda s: s.n_points == len(window.session))
    for x, y in ((7.0, 7.0), (7.5, 6.5)):
        click(window, x, y)
        wait_for_model(qtbot, window, updates, lambda s: s.n_points == len(window.session))
    assert len(window.history.timeline) >= 5
    return window


def test_the_slider_start_is_an_earlier_model_and_its_end_the_live_one(qtbot, trained):
    window = trained
    slider = window.history_slider
    live = window.snapshot
    assert slider.value() == slider.maximum() and not window.history.scrubbed
    slider.setValue(0)
    early = window.snapshot
    assert window.history.scrubbed and early is not live
    assert early.n_points < live.n_points  # a model of fewer points: earlier
    assert window.canvas.snapshot is early  # drawn
    assert window.canvas.later_item.n_points == len(window.session) - early.n_points
    text = window.status.history_label.text()
    assert text == f"history: pass 1 of {slider.maximum() + 1} (not live)"
    assert window.likelihood_plot.marker == early.n_iter
    slider.setValue(slider.maximum())
    assert not window.history.scrubbed
    assert window.snapshot is live and window.canvas.snapshot is live
    assert window.status.history_label.text() == ""
    assert window.likelihood_plot.marker is None
    assert window.canvas.later_item.n_points == 0


def test_scrubbing_leaves_points_undo_and_training_alone(qtbot, trained):
    window = trained
    points, count = window.points(), window.undo_stack.count()
    index, requests = window.undo_stack.index(), window.controller.latest_request_id
    slider = window.history_slider
    slider.setFocus()
    for value in (0, 2, 1):
        slider.setValue(value)
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert slider.value() == 2 and window.history.index == 2
    window.history.back_button.click()
    assert window.history.index == 1
    np.testing.assert_array_equal(window.points(), points)
    assert window.undo_stack.count() == count and window.undo_stack.index() == index
    assert window.controller.latest_request_id == requests  # nothing retrained
    assert window.snapshot.n_points <= len(window.session)


def test_an_edit_while_scrubbed_returns_to_live(qtbot, trained, updates):
    window = trained
    window.history_slider.setValue(0)
    assert window.history.scrubbed
    click(window, -7.0, 7.0)
    assert not window.history.scrubbed
    assert window.status.history_label.text() == ""
    model = wait_for_model(qtbot, window, updates, lambda s: s.n_points == len(window.session))
    assert window.snapshot is model and window.canvas.snapshot is model
    assert window.history_slider.value() == window.history_slider.maximum()


def test_replay_runs_to_the_end_and_returns_to_live(qtbot, trained):
    window = trained
    history = window.history
    history.speed_spin.setValue(60)
    seen = []
    history.moved.connect(lambda: seen.append(history.index))
    history.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not history.play_button.isChecked(), timeout=10_000)
    assert seen[0] == 0 and seen[-1] is None
    assert [i for i in seen if i is not None] == sorted(i for i in seen if i is not None)
    assert not history.scrubbed


def test_compare_all_scrubs_every_trainer_together(qtbot, window, updates):
    points, _ = three_clusters(np.random.default_rng(0), n_per=25)
    window.add_points(points[:-2])
    wait_for_model(qtbot, window, updates)
    window.trainer_combo.setCurrentText("Compare all")
    for x, y in ((0.0, 5.0), (0.5, 5.5)):
        updates.clear()
        click(window, x, y)
        wait_for_model(qtbot, window, updates)
        n = len(window.session)
        qtbot.waitUntil(
            lambda n=n: {s.trainer for s in updates if s.n_points == n and s.final} == set(TRAINERS)
        )
    history = window.history
    together = [i for i, m in enumerate(history.timeline) if len(m.models) == len(TRAINERS)]
    assert len(together) >= 2
    window.history_slider.setValue(together[0])
    moment = history.timeline[together[0]]
    assert {m.trainer for m in moment.models} == set(TRAINERS)
    drawn = {t for t, item in window.canvas.trainer_ellipses.items() if item.isVisible()}
    assert drawn == set(TRAINERS[1:])
    for other in moment.models[1:]:  # each trainer's model of that moment
        item = window.canvas.trainer_ellipses[other.trainer]
        assert np.allclose(np.nanmean(item.xData), np.nanmean(restored_x(other)))
    window.history_slider.setValue(window.history_slider.maximum())
    for trainer in TRAINERS[1:]:
        live = window.canvas.trainer_snapshots[trainer]
        item = window.canvas.trainer_ellipses[trainer]
        assert item.isVisible() and np.allclose(item.xData, live.outline_x)


def restored_x(model):
    return restored(model, np.zeros((0, 2)), 0).outline_x


# -- the history as an animated GIF ------------------------------------------------------


def _export(qtbot, window, path) -> tuple[str, bool]:
    with qtbot.waitSignal(window.animation_finished, timeout=30_000) as blocker:
        assert window.export_animation(path)
    return tuple(blocker.args)


def test_the_exported_gif_has_one_frame_per_recorded_model(qtbot, trained, tmp_path):
    from PIL import Image

    window = trained
    window.history_slider.setValue(1)  # scrubbed: the export draws again what was drawn
    n = len(window.history.timeline)
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "history.gif"
    assert _export(qtbot, window, path) == (str(path), True)
    with Image.open(path) as gif:
        assert gif.n_frames == n
        assert gif.size == (window.canvas.width(), window.canvas.height())
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(n - 1)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the frames differ: the model moved
    assert window.history.index == 1 and not window.status.progress_bar.isVisible()
    assert [p.name for p in path.parent.iterdir()] == ["history.gif"]


def test_the_exported_mp4_has_one_frame_per_recorded_model(qtbot, trained, tmp_path):
    import imageio_ffmpeg

    window = trained
    n = len(window.history.timeline)
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "history.mp4"
    assert _export(qtbot, window, path) == (str(path), True)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = list(reader)
    assert len(frames) == n  # read back with the library that wrote it
    width, height = meta["size"]
    assert abs(width - window.canvas.width()) <= 1 and abs(height - window.canvas.height()) <= 1
    assert [p.name for p in path.parent.iterdir()] == ["history.mp4"]


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_failed_or_cancelled_export_leaves_no_file(qtbot, trained, tmp_path, suffix):
    window = trained
    errors = []
    window.show_error = errors.append
    assert not window.export_animation(tmp_path / "missing" / f"history{suffix}")
    assert errors and "does not exist" in errors[0]
    assert not (tmp_path / "missing").exists()
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / f"history{suffix}"
    cancel = window.status.cancel_button
    # Cancel as soon as the first frame is grabbed: the encoder then waits for the rest.
    window.status.progress_bar.valueChanged.connect(lambda v: v > 0 and cancel.click())
    with qtbot.waitSignal(window.animation_finished, timeout=30_000) as blocker:
        assert window.export_animation(path)
        assert cancel.isVisible()
    assert blocker.args == [str(path), False]
    assert not window.history.scrubbed  # live again, as before the export
    qtbot.waitUntil(lambda: not window.animation.busy)
    assert list(path.parent.iterdir()) == []  # no GIF, no temporary file

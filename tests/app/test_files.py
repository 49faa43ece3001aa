"""The window's files: sessions, presets, exports, unsaved changes, autosave."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from app.files.session.autosave import AUTOSAVE_DELAY_MS
from app.main_window import MainWindow
from app.state import presets

from .conftest import (
    WAIT_MS,
    click,
    drop_file,
    open_and_wait,
    set_view,
    three_clusters,
    wait_for_model,
    waiting_for_open,
)
from .test_tools import line, stroke


def new_window(qtbot, **kwargs) -> MainWindow:
    window = MainWindow(**kwargs)
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def trained_window(qtbot, window, updates, n_per=40):
    points, _ = three_clusters(np.random.default_rng(3), n_per=n_per)
    window.add_points(points)
    return wait_for_model(
        qtbot, window, updates, lambda s: s.n_points == points.shape[0] and s.final
    )


def test_saved_session_opens_with_the_same_points_and_model_before_any_training(
    qtbot, window, updates, tmp_path
):
    window.components_spin.setValue(3)
    window.epochs_spin.setValue(7)
    snapshot = trained_window(qtbot, window, updates)
    path = tmp_path / "three.gmmsession"
    assert window.save_session(path)
    assert window.undo_stack.isClean()
    assert not window.isWindowModified()

    other = new_window(qtbot)
    other.components_spin.setValue(5)
    shown = []
    other.model_updated.connect(shown.append)
    requests = other.controller.latest_request_id
    assert open_and_wait(qtbot, other, path)
    # shown at once, from the file: no request went to the worker
    assert other.controller.latest_request_id == requests
    assert len(shown) == 1
    drawn = shown[0]
    assert other.points().tobytes() == window.points().tobytes()
    for name in ("weights", "means", "covariances", "colors", "labels", "grouped_points"):
        assert getattr(drawn, name).tobytes() == getattr(snapshot, name).tobytes(), name
    assert drawn.mean_log_likelihood == snapshot.mean_log_likelihood
    assert drawn.bic == snapshot.bic
    assert drawn.model == snapshot.model
    assert other.components_spin.value() == 3 and other.controller.n_components == 3
    assert other.epochs_spin.value() == 7
    # the saved view is shown (the aspect lock may widen one side)
    shown_view = np.array(other.canvas.view_box.viewRange())
    saved_view = np.array(window.canvas.view_box.viewRange())
    np.testing.assert_allclose(shown_view.mean(axis=1), saved_view.mean(axis=1), atol=1e-9)
    assert np.all(shown_view[:, 0] <= saved_view[:, 0] + 1e-9)
    assert np.all(shown_view[:, 1] >= saved_view[:, 1] - 1e-9)
    assert other.canvas.points_item.n_points == window.points().shape[0]
    assert "three.gmmsession" in other.windowTitle()
    assert other.undo_stack.undoText() == "Open three.gmmsession"
    # the next edit trains again
    click(other, 0.0, 0.0)
    wait_for_model(qtbot, other, shown, lambda s: s.n_points == window.points().shape[0] + 1)
    other.close()


def test_open_decides_by_content_not_name(qtbot, window, updates, tmp_path):
    csv = tmp_path / "points.gmmsession"
    csv.write_text("x,y\n1,2\n3,4\n")
    assert open_and_wait(qtbot, window, csv)
    np.testing.assert_array_equal(window.points(), [[1, 2], [3, 4]])
    session = tmp_path / "session.csv"
    window.save_session(session)
    window.add_points([[5.0, 6.0]])
    assert open_and_wait(qtbot, window, session)
    np.testing.assert_array_equal(window.points(), [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\x02binary\xff",
        b'{"format": "gmm-playground-session", "version": 1, "points": {"dty',
        b'{"format": "another-program", "version": 1}',
        b'{"format": "gmm-playground-session", "version": 2}',
        b'{"format": "gmm-playground-session", "version": 1, "points": '
        b'{"dtype": "<f8", "shape": [1, 2], "base64": "AAAAAAAA+H8AAAAAAADwPw=="}}',
        b"x,y\n1,nan\n",
    ],
    ids=["empty", "binary", "truncated", "other format", "newer", "nan", "nan csv"],
)
def test_bad_files_show_a_message_and_change_nothing(qtbot, window, updates, tmp_path, content):
    window.add_points([[1.0, 2.0]])
    saved = tmp_path / "mine.gmmsession"
    window.save_session(saved)
    errors = []
    window.show_error = errors.append
    title, count = window.windowTitle(), window.undo_stack.count()
    path = tmp_path / "bad.gmmsession"
    path.write_bytes(content)
    assert open_and_wait(qtbot, window, path) is False
    assert len(errors) == 1 and "bad.gmmsession" in errors[0]
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0]])
    assert window.undo_stack.count() == count and window.windowTitle() == title


def test_save_failing_keeps_the_old_file_and_says_so(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "keep.gmmsession"
    window.add_points([[1.0, 1.0]])
    assert window.save_session(path)
    old = path.read_bytes()
    window.add_points([[2.0, 2.0]])
    errors = []
    window.show_error = errors.append
    import app.files.atomic

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(app.files.atomic.os, "fsync", full_disk)
    assert window.save_session(path) is False
    assert "unchanged" in errors[0]
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["keep.gmmsession"]
    assert not window.undo_stack.isClean()


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_presets_replace_fit_the_view_and_undo(qtbot, window, name):
    window.add_points([[50.0, 50.0]])
    window.load_preset(name, replace=True, seed=4)
    points = window.points()
    np.testing.assert_array_equal(points, presets.generate(name, 4))
    assert points.shape[0] >= 100
    assert window.undo_stack.undoText() == f"Load Preset: {presets.PRESETS[name].title}"
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    low, high = points.min(axis=0), points.max(axis=0)
    assert x0 <= low[0] and x1 >= high[0] and y0 <= low[1] and y1 >= high[1]
    assert x1 - x0 < 4 * np.ptp(points[:, 0]) + 1
    window.undo_stack.undo()
    np.testing.assert_array_equal(window.points(), [[50.0, 50.0]])


def test_presets_add_and_depend_on_the_seed(qtbot, window, updates):
    window.load_preset("moons", replace=True, seed=0)
    first = window.points()
    window.load_preset("ring", replace=False, seed=1)
    both = window.points()
    np.testing.assert_array_equal(both[: first.shape[0]], first)
    np.testing.assert_array_equal(both[first.shape[0] :], presets.generate("ring", 1))
    assert not np.array_equal(presets.generate("ring", 1), presets.generate("ring", 2))
    with pytest.raises(KeyError, match="blobs"):
        window.load_preset("nothing")
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == both.shape[0])


def test_every_kind_of_edit_undoes_and_redoes_exactly(qtbot, window, updates, tmp_path):
    csv = tmp_path / "table.csv"
    csv.write_text("x,y\n1,1\n2,2\n-3,4\n")
    states = [window.points()]

    def record():
        states.append(window.points())

    click(window, 1.0, 1.0)
    record()
    window.load_preset("blobs", seed=2)
    record()
    set_view(window, (-10, 10), (-10, 10))
    window.tool_actions["brush"].trigger()
    stroke(window, line((0.0, 0.0), (2.0, 0.0)))
    record()
    window.tool_actions["erase"].trigger()
    stroke(window, line((-5.0, -5.0), (-4.0, -5.0)))
    record()
    window.tool_actions["jitter"].trigger()
    stroke(window, line((5.0, 5.0), (5.5, 5.0)))
    record()
    window.tool_actions["move"].trigger()
    target = window.points()[0]
    stroke(window, line(tuple(target), tuple(target + 1.0)))
    record()
    window.tool_actions["add"].trigger()
    QGuiApplication.clipboard().setText("0.5\t0.25\n-1e-3\t7\n")
    assert window.paste_points()
    record()
    assert open_and_wait(qtbot, window, csv)
    record()
    window.confirm = lambda text: True
    assert window.clear()
    record()
    assert window.undo_stack.count() == len(states) - 1
    for before, after in zip(states, states[1:], strict=False):  # every edit changed something
        assert before.tobytes() != after.tobytes()
    for i in range(len(states) - 1, 0, -1):
        window.undo_stack.undo()
        assert window.points().tobytes() == states[i - 1].tobytes(), i
    for i in range(1, len(states)):
        window.undo_stack.redo()
        assert window.points().tobytes() == states[i].tobytes(), i
    window.undo_stack.undo()
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == states[-2].shape[0])


def test_paste_of_bad_text_changes_nothing(qtbot, window):
    errors = []
    window.show_error = errors.append
    QGuiApplication.clipboard().setText("hello world")
    assert window.paste_points() is False
    assert errors and window.undo_stack.count() == 0


@pytest.mark.parametrize("answer", ["cancel", "discard", "save"])
def test_close_with_unsaved_changes_asks(qtbot, window, tmp_path, answer):
    path = tmp_path / "s.gmmsession"
    window.add_points([[1.0, 2.0]])
    window.save_session(path)
    window.add_points([[3.0, 4.0]])
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or answer
    closed = window.close()
    assert asked == [1]
    if answer == "cancel":
        assert closed is False and window.isVisible()
        np.testing.assert_array_equal(window.points(), [[1.0, 2.0], [3.0, 4.0]])
        assert window.controller.thread.isRunning()
        window.ask_save_changes = lambda: "discard"
    else:
        assert closed is True and not window.isVisible()
        assert not window.controller.thread.isRunning()
    from app.files.session.format import read_session

    saved = read_session(path).points
    assert saved.shape[0] == (2 if answer == "save" else 1)


def test_close_without_changes_does_not_ask(qtbot, window, tmp_path):
    window.add_points([[1.0, 2.0]])
    window.save_session(tmp_path / "s.gmmsession")
    window.ask_save_changes = lambda: pytest.fail("asked")
    assert window.close()


def test_new_asks_and_cancel_keeps_the_points(qtbot, window):
    window.add_points([[1.0, 2.0]])
    window.ask_save_changes = lambda: "cancel"
    window.new_action.trigger()
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0]])
    window.ask_save_changes = lambda: "discard"
    window.new_action.trigger()
    assert window.points().shape == (0, 2)
    assert window.undo_stack.isClean()


def test_dropping_a_session_opens_it(qtbot, window, updates, tmp_path):
    window.add_points([[1.0, 2.0], [2.0, 1.0]])
    path = tmp_path / "drop.gmmsession"
    window.save_session(path)
    window.add_points([[9.0, 9.0]])
    window.ask_save_changes = lambda: "discard"
    with waiting_for_open(qtbot, window):
        drop_file(window, path)
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0], [2.0, 1.0]])


def test_export_model_points_and_images(qtbot, window, updates, tmp_path):
    snapshot = trained_window(qtbot, window, updates, n_per=20)
    assert window.export_model(tmp_path / "model.json")
    from gmm_core import GaussianMixture

    model = GaussianMixture.from_dict(json.loads((tmp_path / "model.json").read_text()))
    np.testing.assert_array_equal(np.sort(model.means_, axis=0), np.sort(snapshot.means, axis=0))
    assert window.export_points(tmp_path / "points.csv")
    from .test_io import read_points

    assert read_points(tmp_path / "points.csv").tobytes() == window.points().tobytes()
    assert window.export_image(tmp_path / "canvas.png")
    image = QImage(str(tmp_path / "canvas.png"))
    assert image.width() > 100 and image.height() > 100
    assert window.export_image(tmp_path / "canvas.svg")
    assert b"<svg" in (tmp_path / "canvas.svg").read_bytes()
    errors = []
    window.show_error = errors.append
    assert window.export_image(tmp_path / "canvas.bmp") is False and errors
    assert not (tmp_path / "canvas.bmp").exists()


def test_export_model_without_a_model_says_so(qtbot, window, tmp_path):
    errors = []
    window.show_error = errors.append
    assert window.export_model(tmp_path / "m.json") is False
    assert "no fitted model" in errors[0]
    assert not (tmp_path / "m.json").exists()


def crash(window):
    """Close ``window`` as a crash would leave things: the marker and the autosave stay."""
    window.autosaver.stop()
    window.autosaver.mark_clean_exit = lambda: None
    window.close()


def test_autosave_is_written_and_restored_after_a_crash(qtbot, window, private_data_dir):
    assert AUTOSAVE_DELAY_MS <= 2000
    window.load_preset("moons", seed=1)
    window.components_spin.setValue(4)
    with qtbot.waitSignal(window.autosaver.saved, timeout=WAIT_MS):
        pass
    if window.autosaver.pending:  # the spin box change came after the first write began
        with qtbot.waitSignal(window.autosaver.saved, timeout=WAIT_MS):
            pass
    assert (private_data_dir / "autosave.gmmsession").exists()
    points = window.points()
    crash(window)

    restored = new_window(qtbot, restore_autosave=True)
    assert restored.points().tobytes() == points.tobytes()
    assert restored.components_spin.value() == 4
    assert not restored.undo_stack.isClean()  # not saved anywhere yet
    restored.close()
    assert not (private_data_dir / "autosave.gmmsession").exists()  # a clean exit


@pytest.mark.parametrize("answer", [True, False])
def test_after_a_crash_the_window_asks_whether_to_restore(qtbot, window, monkeypatch, answer):
    window.add_points([[1.0, 2.0]])
    with qtbot.waitSignal(window.autosaver.saved, timeout=WAIT_MS):
        pass
    crash(window)
    asked = []
    monkeypatch.setattr(MainWindow, "confirm", lambda self, text: asked.append(text) or answer)
    again = new_window(qtbot)
    assert len(asked) == 1 and "Restore" in asked[0]
    assert again.points().shape == ((1, 2) if answer else (0, 2))
    again.close()


def test_restore_false_starts_empty_and_a_clean_exit_offers_nothing(qtbot, window, monkeypatch):
    window.add_points([[1.0, 2.0]])
    with qtbot.waitSignal(window.autosaver.saved, timeout=WAIT_MS):
        pass
    crash(window)
    empty = new_window(qtbot, restore_autosave=False)
    assert empty.points().shape == (0, 2)
    empty.close()  # a clean exit: the autosave goes
    monkeypatch.setattr(MainWindow, "confirm", lambda self, text: pytest.fail("asked"))
    again = new_window(qtbot)
    assert again.points().shape == (0, 2)
    again.close()


def test_the_first_edit_after_opening_continues_from_the_saved_model(
    qtbot, window, updates, tmp_path
):
    window.epochs_spin.setValue(0)  # the incremental update only: exactly predictable
    snapshot = trained_window(qtbot, window, updates)
    path = tmp_path / "continue.gmmsession"
    window.save_session(path)

    other = new_window(qtbot)
    shown = []
    other.model_updated.connect(shown.append)
    assert open_and_wait(qtbot, other, path)
    assert other.epochs_spin.value() == 0
    new_point = np.array([[0.5, -0.25]])
    other.add_points(new_point)
    after = wait_for_model(qtbot, other, shown, lambda s: s.n_points == 121 and s.final)

    from gmm_core import GaussianMixture

    expected = GaussianMixture.from_dict(snapshot.model).partial_fit(new_point)
    assert after.model == expected.to_dict()
    # the same components keep their colours
    np.testing.assert_array_equal(after.colors, snapshot.colors)
    order = np.argsort(np.argsort(after.colors))
    assert np.abs(after.means[order] - snapshot.means).max() < 0.5
    other.close()


def test_a_damaged_model_in_a_session_is_ignored_by_the_worker(qtbot, window, updates, tmp_path):
    snapshot = trained_window(qtbot, window, updates, n_per=15)
    from app.files.session.format import SavedModel, SessionData, write_session

    saved = SavedModel.from_snapshot(snapshot)
    damaged = SavedModel(**{**saved.__dict__, "gmm_core": {"type": "GaussianMixture"}})
    path = tmp_path / "damaged.gmmsession"
    write_session(path, SessionData(window.points(), {"n_components": 3}, damaged))
    other = new_window(qtbot)
    shown = []
    other.model_updated.connect(shown.append)
    assert open_and_wait(qtbot, other, path)
    other.add_points([[0.0, 0.0]])
    wait_for_model(qtbot, other, shown, lambda s: s.n_points == 46 and s.final)
    other.close()


def test_data_menu_generates_presets_and_opens_old_faithful(qtbot, window, updates):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Data")
    actions = {a.text(): a for a in menu.actions()}
    actions["Two Moons"].trigger()
    np.testing.assert_array_equal(window.points(), presets.generate("moons", 0))
    actions["Two Moons"].trigger()  # a new seed each time
    np.testing.assert_array_equal(window.points(), presets.generate("moons", 1))
    window.preset_adds_action.setChecked(True)
    actions["Uniform Noise"].trigger()
    assert window.points().shape[0] == 400 + 300
    with waiting_for_open(qtbot, window):
        actions["Old Faithful (eruptions, waiting)"].trigger()
    assert window.points().shape == (272, 2)
    assert window.undo_stack.count() == 4
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 272 and s.final)


def test_files_of_huge_and_tiny_points_give_a_model_or_say_why(qtbot, window, updates, tmp_path):
    """Issue 8: points of size 1e200 (variances of 1e400, beyond float64) are refused with
    a status message, and the model of the previous points is no longer drawn; points of
    size 1e-200 get a model; the program keeps working."""
    errors = []
    window.show_error = errors.append  # a dialog would wait for a person
    trained_window(qtbot, window, updates)
    assert window.canvas.snapshot.n_components > 0
    huge = tmp_path / "huge.csv"
    huge.write_text("1e200,2e200\n-1e200,3e200\n5e199,1e199\n")
    assert open_and_wait(qtbot, window, huge)
    np.testing.assert_array_equal(
        window.points(), [[1e200, 2e200], [-1e200, 3e200], [5e199, 1e199]]
    )
    # the message says why, and no model of other points stays drawn
    qtbot.waitUntil(
        lambda: (
            "can represent" in window.statusBar().currentMessage()
            and window.canvas.snapshot.n_components == 0
        ),
        timeout=WAIT_MS,
    )
    assert updates[-1].n_components == 0

    points = three_clusters(np.random.default_rng(5), n_per=10)[0] * 1e-200
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("x,y\n" + "\n".join(f"{x:.17g},{y:.17g}" for x, y in points) + "\n")
    assert open_and_wait(qtbot, window, tiny)
    snapshot = wait_for_model(
        qtbot, window, updates, lambda s: s.n_points == points.shape[0] and s.n_components > 0
    )
    for values in (snapshot.means, snapshot.covariances, snapshot.weights):
        assert np.isfinite(values).all()
    lo, hi = points.min(axis=0), points.max(axis=0)
    assert ((snapshot.means >= lo) & (snapshot.means <= hi)).all()

    window.undo_stack.undo()  # back to the huge points: refused again, nothing drawn
    qtbot.waitUntil(lambda: window.canvas.snapshot.n_components == 0, timeout=WAIT_MS)
    window.undo_stack.undo()  # back to the first points: a model again
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 120 and s.n_components > 0)
    assert errors == []

"""Tables of many columns: choose them, fit in all of them, show two at a time."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from app.files.session.format import read_session
from app.main_window import MainWindow
from app.panels.column_choice import ColumnChoiceDialog
from app.state.geometry import SIGMA_LEVELS

from .conftest import click, open_and_wait, wait_for_model

NAMES = ["alpha", "beta", "gamma", "delta"]

#: Clusters 0 and 1 coincide in the first two columns and are apart in the last two:
#: only a model of all four tells them apart.
CENTRES = np.array(
    [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 6.0, 6.0], [6.0, 1.0, 3.0, -3.0]], dtype=np.float64
)


def four_columns(n_per: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points of three round clusters in four columns, shuffled, and their true labels."""
    rng = np.random.default_rng(seed)
    points = np.concatenate([rng.normal(c, 0.5, size=(n_per, 4)) for c in CENTRES])
    labels = np.repeat(np.arange(3), n_per)
    order = rng.permutation(points.shape[0])
    return points[order], labels[order]


def write_parquet(path, points: np.ndarray, names=NAMES) -> None:
    """A Parquet file of ``points`` with a text column among the numeric ones."""
    columns = {name: points[:, i] for i, name in enumerate(names)}
    columns = {"site": [f"s{i % 7}" for i in range(points.shape[0])], **columns}
    pq.write_table(pa.table(columns), path)


def new_window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def matched(means: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``means`` reordered to face the nearest rows of ``reference``."""
    cost = np.linalg.norm(reference[:, None, :] - means[None, :, :], axis=-1)
    _, cols = linear_sum_assignment(cost)
    return means[cols]


def open_four_columns(qtbot, window, updates, tmp_path, monkeypatch, choice=NAMES):
    points, labels = four_columns()
    path = tmp_path / "four.parquet"
    write_parquet(path, points)
    asked = []

    def choose(names, file_name=""):
        asked.append(list(names))
        assert file_name == path.name  # the file asked about travels with the question
        return list(choice)

    monkeypatch.setattr(window, "choose_columns", choose)
    window.components_spin.setValue(3)
    assert open_and_wait(qtbot, window, path)
    assert asked == [NAMES]  # the numeric columns, in file order; the text one left out
    n = points.shape[0]
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == n and s.final)
    return points, labels, snapshot


def test_a_four_column_parquet_file_is_fitted_in_four_dimensions(
    qtbot, window, updates, tmp_path, monkeypatch
):
    from gmm_core import GaussianMixture

    points, labels, snapshot = open_four_columns(qtbot, window, updates, tmp_path, monkeypatch)
    assert window.session.columns == tuple(NAMES)
    np.testing.assert_array_equal(window.points(), points)
    assert snapshot.means.shape == (3, 4) and snapshot.covariances.shape == (3, 4, 4)
    assert snapshot.grouped_points.shape == (300, 4)
    # near the true centres, and where gmm_core's own fit of the same data ends
    np.testing.assert_allclose(matched(snapshot.means, CENTRES), CENTRES, atol=0.15)
    reference = GaussianMixture(3, n_init=3, random_state=0).fit(points).means_
    np.testing.assert_allclose(matched(snapshot.means, reference), reference, atol=1e-3)
    # each point's component comes from all four columns: the clusters that coincide in
    # the first two are told apart
    assert adjusted_rand_score(labels, snapshot_labels(snapshot, points)) == 1.0


def snapshot_labels(snapshot, points: np.ndarray) -> np.ndarray:
    """Each of ``points``' component in ``snapshot`` (its grouped points, matched back)."""
    starts = snapshot.group_starts
    group = {
        row.tobytes(): g
        for g in range(starts.shape[0] - 1)
        for row in snapshot.grouped_points[starts[g] : starts[g + 1]]
    }
    return np.array([group[row.tobytes()] for row in points])


def test_switching_the_shown_pair_redraws_the_marginal_without_refitting(
    qtbot, window, updates, tmp_path, monkeypatch
):
    points, _, snapshot = open_four_columns(qtbot, window, updates, tmp_path, monkeypatch)
    canvas = window.canvas
    assert [window.x_combo.itemText(i) for i in range(window.x_combo.count())] == NAMES
    assert window.x_combo.isEnabled() and window.axes.tool_bar.isVisible()
    assert (window.x_combo.currentIndex(), window.y_combo.currentIndex()) == (0, 1)
    assert_shows(window, snapshot, points, (0, 1))
    requests = window.controller.latest_request_id
    with qtbot.assertNotEmitted(window.controller.snapshot_ready, wait=300):
        # by the keyboard, as a person picks: y from beta to delta, x from alpha to gamma
        window.y_combo.setFocus()
        qtbot.keyClick(window.y_combo, Qt.Key.Key_Down)
        qtbot.keyClick(window.y_combo, Qt.Key.Key_Down)
        window.x_combo.setFocus()
        qtbot.keyClick(window.x_combo, Qt.Key.Key_Down)
        qtbot.keyClick(window.x_combo, Qt.Key.Key_Down)
    assert window.controller.latest_request_id == requests  # nothing refitted
    assert canvas.pair == (2, 3) and window.snapshot is snapshot
    assert_shows(window, snapshot, points, (2, 3))
    # the view follows the shown columns
    (x0, x1), (y0, y1) = canvas.view_box.viewRange()
    assert x0 < points[:, 2].min() and x1 > points[:, 2].max()
    assert y0 < points[:, 3].min() and y1 > points[:, 3].max()
    # the same column on both axes swaps them
    window.x_combo.setCurrentIndex(3)
    assert canvas.pair == (3, 2) and window.y_combo.currentIndex() == 2
    assert_shows(window, snapshot, points, (3, 2))
    assert window.controller.latest_request_id == requests


def assert_shows(window, snapshot, points: np.ndarray, pair: tuple[int, int]) -> None:
    """The canvas shows columns ``pair``: their names, the points there, and ellipses
    that are the 1, 2 and 3 sd contours of each component's marginal (its means' and
    covariance's entries for the pair, exactly)."""
    canvas = window.canvas
    names = window.session.columns
    assert canvas.plot_item.getAxis("bottom").labelText == names[pair[0]]
    assert canvas.plot_item.getAxis("left").labelText == names[pair[1]]
    shown = np.concatenate([g for g, _ in canvas.points_item._groups])
    np.testing.assert_array_equal(np.sort(shown, axis=0), np.sort(points[:, pair], axis=0))
    x, y = canvas.ellipses_item.getData()
    rings = np.column_stack([x, y]).reshape(3, len(SIGMA_LEVELS), -1, 2)  # [K, L, V, 2]
    for k in range(3):
        mean = snapshot.means[k, list(pair)]
        block = snapshot.covariances[k][np.ix_(pair, pair)]
        for level, ring in zip(SIGMA_LEVELS, rings[k], strict=True):
            d = ring - mean
            radius = np.sqrt(np.einsum("vi,ij,vj->v", d, np.linalg.inv(block), d))
            np.testing.assert_allclose(radius, level, rtol=1e-9)
    np.testing.assert_allclose(canvas.means_item.getData()[0], snapshot.means[:, pair[0]])
    np.testing.assert_allclose(canvas.means_item.getData()[1], snapshot.means[:, pair[1]])


def when_the_dialog_shows(window, act):
    """Call ``act`` once the column dialog is on screen (it opens when the file is read)."""
    timer = QTimer(window)
    timer.setInterval(10)

    def poll():
        dialog = window.findChild(ColumnChoiceDialog)
        if dialog is not None and dialog.isVisible():
            timer.stop()
            act()

    timer.timeout.connect(poll)
    timer.start()


def test_the_column_dialog_checks_all_and_needs_two(qtbot, window, updates, tmp_path):
    points, _ = four_columns(n_per=30)
    path = tmp_path / "four.parquet"
    write_parquet(path, points)
    seen = {}

    def answer():
        dialog = window.findChild(ColumnChoiceDialog)
        seen["visible"] = dialog is not None and dialog.isVisible()
        seen["checked"] = dialog.chosen()
        rows = dialog.list_widget
        rows.setFocus()
        for row in (0, 1, 3):  # uncheck alpha, beta and delta with the space bar
            rows.setCurrentRow(row)
            qtbot.keyClick(rows.viewport(), Qt.Key.Key_Space)
        seen["ok_with_one"] = dialog.ok_button.isEnabled()
        rows.setCurrentRow(3)
        qtbot.keyClick(rows.viewport(), Qt.Key.Key_Space)  # delta again: two columns
        seen["ok_with_two"] = dialog.ok_button.isEnabled()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    when_the_dialog_shows(window, answer)
    assert open_and_wait(qtbot, window, path)
    assert seen == {
        "visible": True,
        "checked": NAMES,
        "ok_with_one": False,
        "ok_with_two": True,
    }
    assert window.session.columns == ("gamma", "delta")
    np.testing.assert_array_equal(window.points(), points[:, [2, 3]])
    assert all(action.isEnabled() for action in window.tool_actions.values())


def test_cancelling_the_column_dialog_changes_nothing(qtbot, window, updates, tmp_path):
    window.add_points([[1.0, 2.0], [3.0, 4.0]])
    wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2)
    path = tmp_path / "four.parquet"
    write_parquet(path, four_columns(n_per=10)[0])

    def cancel():
        dialog = window.findChild(ColumnChoiceDialog)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    when_the_dialog_shows(window, cancel)
    requests, count = window.controller.latest_request_id, window.undo_stack.count()
    title = window.windowTitle()
    with qtbot.assertNotEmitted(window.model_updated, wait=200):
        assert open_and_wait(qtbot, window, path) is False
    np.testing.assert_array_equal(window.points(), [[1.0, 2.0], [3.0, 4.0]])
    assert window.session.columns == ("x", "y") and window.windowTitle() == title
    assert window.undo_stack.count() == count
    assert window.controller.latest_request_id == requests
    assert window.recent_files() == []
    # the same through the method, as scripts and tests replace it
    window.choose_columns = lambda names, file_name="": None
    assert open_and_wait(qtbot, window, path) is False
    assert window.undo_stack.count() == count


def test_columns_given_directly_ask_nothing(qtbot, window, updates, tmp_path):
    points, _ = four_columns(n_per=20)
    path = tmp_path / "four.parquet"
    write_parquet(path, points)
    window.choose_columns = lambda names, file_name="": pytest.fail("asked, columns given")
    assert open_and_wait(qtbot, window, path, columns=["delta", "alpha", "gamma"])
    assert window.session.columns == ("delta", "alpha", "gamma")
    np.testing.assert_array_equal(window.points(), points[:, [3, 0, 2]])
    wait_for_model(qtbot, window, updates, lambda s: s.means.shape == (3, 3) and s.final)
    # one column is not enough, and an unknown one is refused: a dialog, nothing changes
    errors = []
    window.show_error = errors.append
    count = window.undo_stack.count()
    assert open_and_wait(qtbot, window, path, columns=["alpha"]) is False
    assert open_and_wait(qtbot, window, path, columns=["alpha", "omega"]) is False
    assert len(errors) == 2 and all("four.parquet" in e for e in errors)
    assert window.undo_stack.count() == count and window.session.columns[0] == "delta"


def test_with_four_columns_clicks_and_tools_are_off_until_two_columns_return(
    qtbot, window, updates, tmp_path, monkeypatch
):
    window.add_points([[1.0, 1.0], [2.0, 3.0]])
    points, _, _ = open_four_columns(qtbot, window, updates, tmp_path, monkeypatch)
    canvas = window.canvas
    assert not any(action.isEnabled() for action in window.tool_actions.values())
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor
    assert window.axes.note.isVisible() and "Clicking is off" in window.axes.note.text()
    requests = window.controller.latest_request_id
    set_view_around(window, points)
    click(window, float(points[0, 0]), float(points[0, 1]))  # a real click on the plot
    assert window.points().shape == (300, 4)
    assert window.controller.latest_request_id == requests
    # Clear and Undo still work; two columns bring the tools back
    window.confirm = lambda text: True
    window.clear_action.trigger()
    assert window.points().shape == (0, 2) and window.session.columns == ("x", "y")
    assert all(action.isEnabled() for action in window.tool_actions.values())
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    assert not window.axes.note.isVisible() and not window.axes.tool_bar.isVisible()
    window.undo_action.trigger()  # the four columns again
    assert window.points().shape == (300, 4)
    assert not any(action.isEnabled() for action in window.tool_actions.values())
    window.undo_action.trigger()  # the two points from before the file
    np.testing.assert_array_equal(window.points(), [[1.0, 1.0], [2.0, 3.0]])
    assert all(action.isEnabled() for action in window.tool_actions.values())
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 2 and s.final)
    assert snapshot.means.shape[1] == 2
    set_view_around(window, np.array([[-10.0, -10.0], [10.0, 10.0]]))
    click(window, 5.0, 5.0)
    assert window.points().shape == (3, 2)


def set_view_around(window, points: np.ndarray) -> None:
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    window.canvas.view_box.setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]))
    QApplication.processEvents()


def test_a_four_column_session_round_trips(qtbot, window, updates, tmp_path, monkeypatch):
    points, _, _ = open_four_columns(qtbot, window, updates, tmp_path, monkeypatch)
    window.axes.set_pair(2, 3)
    snapshot = window.snapshot
    path = tmp_path / "four.gmmsession"
    assert window.save_session(path)
    assert json.loads(path.read_text())["version"] == 2  # older programs ask to update

    other = new_window(qtbot)
    shown = []
    other.model_updated.connect(shown.append)
    requests = other.controller.latest_request_id
    assert open_and_wait(qtbot, other, path)
    assert other.controller.latest_request_id == requests  # drawn from the file
    assert other.session.columns == tuple(NAMES)
    assert other.points().tobytes() == points.tobytes()
    assert shown[-1].means.tobytes() == snapshot.means.tobytes()
    assert shown[-1].covariances.tobytes() == snapshot.covariances.tobytes()
    assert other.canvas.pair == (2, 3)
    assert (other.x_combo.currentText(), other.y_combo.currentText()) == ("gamma", "delta")
    assert not any(action.isEnabled() for action in other.tool_actions.values())
    # the model goes on learning in four dimensions from where it was saved
    other.train_action.trigger()
    retrained = wait_for_model(qtbot, other, shown, lambda s: s.request_id > requests and s.final)
    np.testing.assert_allclose(matched(retrained.means, CENTRES), CENTRES, atol=0.15)
    other.close()


def test_an_old_two_column_session_file_still_opens(qtbot, window, tmp_path):
    import base64

    points = np.array([[1.0, 2.0], [3.0, 5.0], [-1.0, 0.5]])
    document = {  # as the program wrote it before columns had names
        "format": "gmm-playground-session",
        "version": 1,
        "points": {
            "dtype": "<f8",
            "shape": [3, 2],
            "base64": base64.b64encode(points.astype("<f8").tobytes()).decode(),
        },
        "settings": {"n_components": 2},
        "model": None,
    }
    path = tmp_path / "old.gmmsession"
    path.write_text(json.dumps(document))
    assert read_session(path).column_names() == ("x", "y")
    assert open_and_wait(qtbot, window, path)
    np.testing.assert_array_equal(window.points(), points)
    assert window.session.columns == ("x", "y")
    assert all(action.isEnabled() for action in window.tool_actions.values())


def test_skipped_rows_are_told(qtbot, window, updates, tmp_path):
    lines = ["a,b"] + [f"{i},{2 * i}" for i in range(2, 251)]  # line i holds row i
    lines[4 - 1] = "nan,8"
    lines[17 - 1] = "17,"
    lines[230 - 1] = "230,inf"
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(lines) + "\n")
    assert open_and_wait(qtbot, window, path)
    assert window.points().shape == (246, 2)
    assert window.session.columns == ("a", "b")
    assert window.statusBar().currentMessage() == "gaps.csv: 3 rows skipped: lines 4, 17, 230"


def test_iris_opens_with_its_four_measurements(qtbot, window, updates):
    from sklearn.datasets import load_iris

    iris = load_iris()
    window.components_spin.setValue(3)
    window.iris_action.trigger()
    assert window.points().tobytes() == iris.data.astype(np.float64).tobytes()
    assert window.session.columns == tuple(iris.feature_names)
    assert window.x_combo.count() == 4 and window.x_combo.currentText() == "sepal length (cm)"
    assert "Iris" in window.windowTitle()
    snapshot = wait_for_model(qtbot, window, updates, lambda s: s.n_points == 150 and s.final)
    assert snapshot.means.shape == (3, 4)
    assert adjusted_rand_score(iris.target, snapshot_labels(snapshot, window.points())) > 0.5
    # beside Old Faithful in File > Open Example
    titles = [action.text() for action in window.data_sets.example_menu.actions()]
    assert titles[0].startswith("Old Faithful") and titles[1].startswith("Iris")
    assert any(a.menu() is window.data_sets.example_menu for a in window.file_menu.actions())


def test_a_table_is_opened_once_even_when_it_asks_which_columns(
    qtbot, window, tmp_path, monkeypatch
):
    import gmm_core.tables as tables

    tables.read_table  # noqa: B018 (loads the reader, so that the counters wrap it)
    opened = []
    real_read, real_describe = tables.read_table, tables.describe_table

    def read_table(path, *args, **kwargs):
        opened.append(("read", str(path)))
        return real_read(path, *args, **kwargs)

    def describe_table(path, *args, **kwargs):
        opened.append(("describe", str(path)))
        return real_describe(path, *args, **kwargs)

    monkeypatch.setattr(tables, "read_table", read_table)
    monkeypatch.setattr(tables, "describe_table", describe_table)
    points, _ = four_columns(n_per=20)
    wide = tmp_path / "four.parquet"
    write_parquet(wide, points)
    window.choose_columns = lambda names, file_name="": ["gamma", "alpha"]
    assert open_and_wait(qtbot, window, wide)
    np.testing.assert_array_equal(window.points(), points[:, [2, 0]])
    narrow = tmp_path / "two.csv"
    narrow.write_text("x,y\n1,2\n3,4\n5,7\n")
    assert open_and_wait(qtbot, window, narrow)
    np.testing.assert_array_equal(window.points(), [[1, 2], [3, 4], [5, 7]])
    assert opened == [("read", str(wide)), ("read", str(narrow))]

"""The one thread owner: its mailbox, the training job, and every background kind at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import QThread

from app.state.geometry import reg_covar_for
from app.state.messages import ModelStart, TrainingRequest
from app.state.threads import BackgroundThread, JobContext, Mailbox
from app.training.worker import TrainingJob, merge_requests

from .conftest import WAIT_MS, three_clusters


def request(points, request_id=0, train=False, **kw):
    points = np.asarray(points, dtype=np.float64)
    return TrainingRequest(request_id, points, 0, 3, 20, reg_covar_for(20.0), train=train, **kw)


@pytest.fixture
def points():
    return three_clusters(np.random.default_rng(23), n_per=30)[0]


@dataclass(frozen=True)
class Echo:
    request_id: int
    value: int


def test_mailbox_newest_wins_and_the_merge_rule_keeps_train_and_start():
    box = Mailbox(merge_requests)
    pts = np.zeros((1, 2))
    start = ModelStart({}, 0, 1, np.zeros((1, 2)), np.zeros(1, dtype=int))
    box.post(request(pts, request_id=1, train=True, start=start))
    assert box.cancelled.is_set()
    box.post(request(pts, request_id=2))
    taken = box.take()
    assert taken.request_id == 2 and taken.train  # Train is not lost to a newer click
    assert taken.start is start  # nor an opened session's start
    assert not box.cancelled.is_set()
    assert box.take() is None
    box.post(request(pts, request_id=3))
    box.close()
    assert box.take() is None and box.cancelled.is_set()
    box.post(request(pts, request_id=4))
    assert box.take() is None


def test_a_mailbox_without_a_merge_rule_keeps_only_the_newest():
    box = Mailbox()
    box.post(Echo(0, 1))
    box.post(Echo(1, 2))
    assert box.take() == Echo(1, 2) and box.take() is None
    box.post(Echo(2, 3))
    box.discard()
    assert box.take() is None and box.cancelled.is_set()


def test_the_training_job_serves_what_waits_once_set_up(qtbot, points):
    box = Mailbox(merge_requests)
    sent = []
    context = JobContext(box.cancelled, lambda request_id, result: sent.append(result))
    job = TrainingJob()
    job.set_up(context)
    box.post(request(points[:10], request_id=1))
    box.post(request(points, request_id=2))
    job.serve(box.take(), box.cancelled)
    assert box.take() is None
    assert {s.request_id for s in sent} == {2}
    assert sent[-1].final and sent[-1].n_points == 90


def test_a_thread_sets_up_and_serves_in_its_own_thread_and_reports_failures(qtbot):
    where = {}

    def set_up(context):
        where["set_up"] = QThread.currentThread()

    def serve(request, cancelled):
        where["serve"] = QThread.currentThread()
        if request.value < 0:
            raise ValueError("negative")
        return request.value * 10

    runner = BackgroundThread("test-echo", serve, set_up=set_up)
    try:
        with qtbot.waitSignal(runner.result_ready, timeout=WAIT_MS) as blocker:
            request_id = runner.post(Echo(-1, 4))
        assert blocker.args == [request_id, 40]
        assert where["set_up"] is runner.thread and where["serve"] is runner.thread
        with qtbot.waitSignal(runner.failed, timeout=WAIT_MS) as failure:
            runner.post(Echo(-1, -1))
        assert "ValueError: negative" in failure.args[1]
        with qtbot.waitSignal(runner.result_ready, timeout=WAIT_MS) as blocker:
            runner.post(Echo(-1, 5))  # the thread lives on after a failure
        assert blocker.args[1] == 50
    finally:
        assert runner.shutdown(WAIT_MS)
    assert not runner.thread.isRunning()


def test_only_the_newest_request_is_answered_and_cancel_drops_all(qtbot):
    release = threading.Event()

    def serve(request, cancelled):
        if request.value == 0:
            release.wait(WAIT_MS / 1000)  # busy until the test lets it go
        return request.value

    runner = BackgroundThread("test-newest", serve)
    answers = []
    runner.result_ready.connect(lambda request_id, value: answers.append((request_id, value)))
    try:
        runner.post(Echo(-1, 0))
        for value in (1, 2, 3):  # while the first is busy
            runner.post(Echo(-1, value))
        with qtbot.waitSignal(runner.result_ready, timeout=WAIT_MS):
            release.set()
        assert answers == [(runner.latest_id, 3)]
        runner.post(Echo(-1, 7))
        runner.cancel()
        with qtbot.assertNotEmitted(runner.result_ready, wait=200):
            pass
    finally:
        runner.shutdown()
    assert answers == [(3, 3)]


# -- every background kind, three requests in a row, in the real window ---------------------


def test_three_requests_of_every_background_kind_in_a_row(qtbot, window, tmp_path, monkeypatch):
    from app.state import messages

    monkeypatch.setattr(messages, "DENSITY_ABOVE", 100)  # the point histogram draws 150
    rng = np.random.default_rng(5)
    window.add_points(rng.normal(size=(150, 2)) * 3)
    qtbot.waitUntil(lambda: window.snapshot is not None and window.snapshot.final, timeout=WAIT_MS)

    # training: three requests; the last one's final model is drawn
    ids = []
    for _ in range(3):
        window.request_model()
        ids.append(window.controller.latest_request_id)
    assert ids == sorted(set(ids))
    qtbot.waitUntil(
        lambda: window.snapshot.request_id == ids[-1] and window.snapshot.final,
        timeout=WAIT_MS,
    )

    # the density map: on, off, on in a row, then three refreshes (pan while computing)
    layer = window.density
    for on in (True, False, True):
        layer.density_action.setChecked(on)
    with qtbot.waitSignal(layer.runner.result_ready, timeout=WAIT_MS) as grid:
        for _ in range(3):
            layer.refresh()
    qtbot.waitUntil(
        lambda: layer.grid is not None and layer.grid.request_id == layer.runner.latest_id,
        timeout=WAIT_MS,
    )
    assert grid.args[0] == layer.runner.latest_id

    # choosing K: three refreshes, the newest answers
    selection = window.model_selection
    selection.model_selection_action.setChecked(True)
    for _ in range(3):
        selection.refresh()
    qtbot.waitUntil(lambda: selection.scores is not None, timeout=WAIT_MS)
    assert selection.scores.request_id == selection.runner.latest_id

    # the point histogram: three refreshes, the newest image drawn
    histogram = window.canvas.point_density
    qtbot.waitUntil(lambda: histogram.image is not None, timeout=WAIT_MS)
    for _ in range(3):
        histogram.refresh()
    qtbot.waitUntil(
        lambda: histogram.image.request_id == histogram.runner.latest_id, timeout=WAIT_MS
    )

    # reading files: three opens in a row, the last one opens
    paths = []
    for i in range(3):
        path = tmp_path / f"points{i}.csv"
        path.write_text("x,y\n" + "\n".join(f"{i + j},{j * 2}" for j in range(5)) + "\n")
        paths.append(path)
    opened = []
    window.file_opened.connect(opened.append)
    with qtbot.waitSignal(window.file_opened, timeout=WAIT_MS):
        for path in paths:
            window.open_file(path)
    qtbot.waitUntil(lambda: window.points().shape == (5, 2), timeout=WAIT_MS)
    assert [str(p) for p in opened] == [str(paths[-1])]
    assert window.points()[0, 0] == 2.0

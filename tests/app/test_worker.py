"""Thread plumbing: the mailbox, and the worker object with and without its thread."""

from __future__ import annotations

import numpy as np
import pytest

from app.controller import reg_covar_for
from app.snapshot import TrainingRequest
from app.worker import Mailbox, TrainingWorker

from .conftest import WAIT_MS, three_clusters


def request(points, request_id=0, train=False, **kw):
    points = np.asarray(points, dtype=np.float64)
    return TrainingRequest(request_id, points, 0, 3, 20, reg_covar_for(20.0), train=train, **kw)


@pytest.fixture
def points():
    return three_clusters(np.random.default_rng(23), n_per=30)[0]


def test_mailbox_newest_wins_and_keeps_train():
    box = Mailbox()
    pts = np.zeros((1, 2))
    box.post(request(pts, request_id=1, train=True))
    assert box.cancelled.is_set()
    box.post(request(pts, request_id=2))
    taken = box.take()
    assert taken.request_id == 2 and taken.train  # Train is not lost to a newer click
    assert not box.cancelled.is_set()
    assert box.take() is None
    box.post(request(pts, request_id=3))
    box.close()
    assert box.take() is None and box.cancelled.is_set()
    box.post(request(pts, request_id=4))
    assert box.take() is None


def test_a_request_before_loading_waits_in_the_mailbox(qtbot, points):
    box = Mailbox()
    worker = TrainingWorker(box)
    received = []
    worker.snapshot_ready.connect(received.append)
    box.post(request(points, request_id=1))
    worker.process()  # woken before the training code is loaded: nothing happens
    assert worker.trainer is None and received == []
    with qtbot.waitSignal(worker.loaded, timeout=WAIT_MS):
        worker.load()  # loads, then serves what waits
    assert received and received[-1].request_id == 1 and received[-1].final
    assert received[-1].n_points == 90


def test_worker_serves_the_newest_request(qtbot, points):
    box = Mailbox()
    worker = TrainingWorker(box)
    worker.load()
    received = []
    worker.snapshot_ready.connect(received.append)
    box.post(request(points[:10], request_id=1))
    box.post(request(points, request_id=2))
    worker.process()
    worker.process()  # a second wake-up finds nothing to do
    assert {s.request_id for s in received} == {2}
    assert received[-1].final and received[-1].n_points == 90


def test_worker_reports_failures_and_recovers(qtbot, monkeypatch, points):
    from gmm_core import GaussianMixture

    box = Mailbox()
    worker = TrainingWorker(box)
    worker.load()
    failures, received = [], []
    worker.failed.connect(lambda rid, msg: failures.append((rid, msg)))
    worker.snapshot_ready.connect(received.append)

    def broken(self, X):
        raise ValueError("singular covariance")

    with monkeypatch.context() as m:
        m.setattr(GaussianMixture, "partial_fit", broken)
        box.post(request(points[:2], request_id=1))  # fewer than K: incremental
        worker.process()
    assert failures and failures[0][0] == 1 and "singular" in failures[0][1]
    box.post(request(points, request_id=2))
    worker.process()
    assert received[-1].request_id == 2 and received[-1].final


def test_worker_in_its_thread_loads_serves_and_stops(qtbot, points):
    from PySide6.QtCore import QObject, QThread, Signal

    class Waker(QObject):
        wake = Signal()

    box = Mailbox()
    thread = QThread()
    worker = TrainingWorker(box)
    worker.moveToThread(thread)
    thread.started.connect(worker.load)
    waker = Waker()
    waker.wake.connect(worker.process)
    box.post(request(points, request_id=5))
    threads, loaded_in = [], []
    worker.loaded.connect(lambda: loaded_in.append(QThread.currentThread()))
    worker.snapshot_ready.connect(lambda s: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(
        worker.snapshot_ready, timeout=WAIT_MS, check_params_cb=lambda s: s.final
    ) as blocker:
        thread.start()
        waker.wake.emit()
    assert blocker.args[0].request_id == 5 and blocker.args[0].n_points == 90
    assert loaded_in == [thread]  # torch was imported in the worker thread
    assert threads and all(t is thread for t in threads)  # served there too
    box.close()
    thread.quit()
    assert thread.wait(WAIT_MS)

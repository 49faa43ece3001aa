"""The training controller: request ids, newest wins, coalescing, the worker thread."""

from __future__ import annotations

import numpy as np
import pytest

from app.state.geometry import reg_covar_for
from app.state.messages import ModelSnapshot
from app.training.controller import SETTINGS_DELAY_MS, TrainingController

from .conftest import WAIT_MS, three_clusters


@pytest.fixture
def controller(qtbot):
    controller = TrainingController()
    yield controller
    controller.shutdown()


def frozen_points(points):
    points = np.array(points, dtype=np.float64)
    points.setflags(write=False)
    return points


def test_regulariser_follows_the_scale():
    assert reg_covar_for(2e-3) == pytest.approx(1e-6 * (2e-3) ** 2)
    assert reg_covar_for(2e6) == pytest.approx(1e-6 * (2e6) ** 2)
    assert reg_covar_for(0.0) == reg_covar_for(np.nan) == pytest.approx(1e-6)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e150, 1e160, 1e200, 1e308])
def test_regulariser_is_finite_and_positive_at_any_scale(scale):
    """Issue 8: squaring 1e200 raised OverflowError and the program exited."""
    reg = reg_covar_for(scale)
    assert 0 < reg < np.inf
    if 1e-150 < scale < 1e150:
        assert reg == pytest.approx(1e-6 * scale * scale)


def test_request_carries_what_the_caller_passes(qtbot, controller):
    points = frozen_points(three_clusters(np.random.default_rng(24), n_per=10)[0])
    with qtbot.waitSignal(
        controller.snapshot_ready, timeout=WAIT_MS, check_params_cb=lambda s: s.final
    ) as blocker:
        request_id = controller.update(points, 7, 50.0)
    snapshot = blocker.args[0]
    assert snapshot.request_id == request_id == controller.latest_request_id == 0
    assert snapshot.generation == 7 and snapshot.n_points == 30
    qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)


def test_never_delivers_an_older_snapshot(qtbot, controller):
    delivered = []
    controller.snapshot_ready.connect(delivered.append)
    for request_id in (3, 5, 4, 5, 2):
        controller._on_snapshot(request_id, ModelSnapshot(request_id, 1, final=False))
        qtbot.waitUntil(lambda: not controller._pending, timeout=2000)
    assert [s.request_id for s in delivered] == [3, 5, 5]
    # snapshots queued while the GUI thread was busy are coalesced: the newest is drawn
    delivered.clear()
    for request_id in (6, 7, 8):
        controller._on_snapshot(request_id, ModelSnapshot(request_id, 1, final=False))
    qtbot.waitUntil(lambda: bool(delivered), timeout=2000)
    assert [s.request_id for s in delivered] == [8]


def test_settings_changes_are_coalesced_into_one_refit(qtbot, controller):
    with qtbot.waitSignal(controller.refit_wanted, timeout=WAIT_MS):
        for k in range(4, 12):
            controller.set_n_components(k)
    assert controller.n_components == 11
    # exactly one: no second refit_wanted arrives, however long we watch
    with qtbot.assertNotEmitted(controller.refit_wanted, wait=3 * SETTINGS_DELAY_MS):
        pass


def test_a_request_cancels_a_pending_refit(qtbot, controller):
    controller.set_n_components(5)
    with qtbot.assertNotEmitted(controller.refit_wanted, wait=3 * SETTINGS_DELAY_MS):
        controller.update(frozen_points([[0.0, 0.0]]), 0, 20.0)  # carries the settings
    qtbot.waitUntil(lambda: not controller.busy, timeout=WAIT_MS)


def test_start_is_idempotent_and_shutdown_stops_the_thread(qtbot, controller):
    controller.start()
    thread = controller.thread
    controller.start()
    assert controller.thread is thread and thread.isRunning()
    assert controller.shutdown()
    assert not thread.isRunning()
    controller.start()  # after shutdown: no new thread
    assert controller.thread is thread and not thread.isRunning()


def test_no_snapshot_arrives_after_shutdown(qtbot, controller):
    points = frozen_points(np.random.default_rng(25).normal(size=(3000, 2)))
    controller.epochs = 1000
    controller.update(points, 0, 5.0, train=True)
    controller.shutdown()
    with qtbot.assertNotEmitted(controller.snapshot_ready, wait=300):
        pass

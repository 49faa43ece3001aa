"""The sweep schedule: doubling while settled, restart on change, novel points."""

from gmm_core.online.schedule import FIRST_INTERVAL, NOVEL_POINTS, NOVEL_WINDOW, SweepSchedule


def test_interval_doubles_while_nothing_changes_and_restarts_on_change():
    schedule = SweepSchedule()
    assert schedule.due(FIRST_INTERVAL - 1) == (False, False)
    assert schedule.due(FIRST_INTERVAL) == (True, False)
    schedule.swept(FIRST_INTERVAL, changed=False, novel=False)
    assert schedule.interval == 2 * FIRST_INTERVAL
    schedule.swept(3 * FIRST_INTERVAL, changed=True, novel=False)
    assert schedule.interval == FIRST_INTERVAL
    assert schedule.next_sweep == 4 * FIRST_INTERVAL


def test_novel_points_close_together_call_a_sweep():
    schedule = SweepSchedule.settled(1000)
    for n in range(1010, 1010 + NOVEL_POINTS):
        schedule.note_novel(n)
    assert schedule.due(1010 + NOVEL_POINTS) == (True, True)


def test_novel_points_far_apart_do_not():
    schedule = SweepSchedule.settled(1000)
    for i in range(NOVEL_POINTS):
        schedule.note_novel(1001 + i * NOVEL_WINDOW)
    assert schedule.due(1001 + NOVEL_POINTS * NOVEL_WINDOW) == (False, False)

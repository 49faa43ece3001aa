"""The session: points, generations and undoable edits."""

from __future__ import annotations

import numpy as np
import pytest


def test_session_edits_and_generations(qtbot):
    from app.state.session import Session

    session = Session()
    changes = []
    session.changed.connect(lambda: changes.append(len(session)))
    session.add_points([1.0, 2.0])
    session.add_points([[3.0, 4.0], [5.0, 6.0]])
    assert len(session) == 3 and session.generation == 0 and changes == [1, 3]
    with pytest.raises(ValueError):
        session.points[0, 0] = 9.0  # handed-out arrays are read-only
    session.undo_stack.undo()
    assert len(session) == 1 and session.generation == 1 and changes[-1] == 1
    session.clear()
    assert len(session) == 0
    session.undo_stack.undo()
    assert len(session) == 1
    with pytest.raises(ValueError):
        session.add_points([[np.nan, 1.0]])
    with pytest.raises(ValueError):
        session.add_points([[1.0, 2.0, 3.0]])
    assert len(session) == 1


def test_extent_follows_every_edit(qtbot):
    from app.state.session import Session

    rng = np.random.default_rng(34)
    session = Session()
    for _ in range(4):
        session.add_points(rng.normal(size=(5, 2)) * rng.uniform(1, 10))
        assert session.extent == pytest.approx(np.ptp(session.points, axis=0).max())
    session.undo_stack.undo()
    assert session.extent == pytest.approx(np.ptp(session.points, axis=0).max())
    session.replace_points([[1.0, 1.0]])
    assert session.extent == 0.0

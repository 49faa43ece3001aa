"""Plot items: what they paint and what they mark for repainting."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.canvas.plot_items import EllipsesItem
from app.state.geometry import ellipse_outlines
from app.state.messages import ModelSnapshot


def one_ellipse(covariance):
    means, covariances = np.zeros((1, 2)), np.array([covariance], dtype=np.float64)
    x, y, connect, rings = ellipse_outlines(means, covariances)
    return ModelSnapshot(
        0,
        1,
        weights=np.ones(1),
        means=means,
        covariances=covariances,
        colors=np.zeros(1, dtype=np.int64),
        outline_x=x,
        outline_y=y,
        outline_connect=connect,
        ring_component=rings,
    )


def test_new_rings_mark_the_old_rings_area_for_repainting(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(400, 400)
    plot.show()
    qtbot.waitExposed(plot)
    item = EllipsesItem()
    plot.addItem(item)
    plot.setRange(xRange=(-10, 10), yRange=(-10, 10), padding=0)
    with qtbot.waitSignal(plot.scene().changed):  # drawn, nothing left to repaint
        item.set_snapshot(one_ellipse([[16.0, 0.0], [0.0, 0.05]]))  # long and thin
    old = item.sceneBoundingRect()
    changed = []
    plot.scene().changed.connect(changed.extend)
    item.set_snapshot(one_ellipse([[0.05, 0.0], [0.0, 0.05]]))  # small: the old must go
    qtbot.waitUntil(lambda: len(changed) > 0)
    assert any(rect.contains(old) for rect in changed)

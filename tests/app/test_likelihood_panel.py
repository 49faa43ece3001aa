"""LikelihoodPlot: one live curve per trainer, earlier fits kept faded."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from app.panels.likelihood_panel import KEPT_CURVES, MIN_Y_SPAN, LikelihoodPlot
from app.state.messages import TRAINERS, ModelSnapshot


def snapshot(request_id, n_iter, value, trainer=TRAINERS[0]):
    return ModelSnapshot(request_id, 10, mean_log_likelihood=value, n_iter=n_iter, trainer=trainer)


@pytest.fixture
def plot(qtbot):
    widget = LikelihoodPlot()
    qtbot.addWidget(widget)
    return widget


def fit(plot, request_id, values, trainer=TRAINERS[0]):
    for n_iter, value in enumerate(values):
        plot.add_snapshot(snapshot(request_id, n_iter, value, trainer))


def curves(plot):
    return [item for item in plot.getPlotItem().items if isinstance(item, pg.PlotDataItem)]


def test_passes_extend_the_curve_and_a_final_snapshot_replaces_its_pass(plot):
    fit(plot, 1, [-3.0, -2.5, -2.2])
    plot.add_snapshot(snapshot(1, 2, -2.1))
    xs, ys = plot.curve(TRAINERS[0])
    np.testing.assert_array_equal(xs, [0, 1, 2])
    np.testing.assert_array_equal(ys, [-3.0, -2.5, -2.1])


def test_new_fits_fade_the_old_ones_and_reuse_their_items(plot):
    fits = [[-3.0 - i, -2.0 - i, -1.5 - i] for i in range(KEPT_CURVES + 3)]
    for request_id, values in enumerate(fits):
        fit(plot, request_id, values)
    assert plot.n_curves(TRAINERS[0]) == 1 + KEPT_CURVES
    assert len(curves(plot)) == 1 + KEPT_CURVES
    np.testing.assert_array_equal(plot.curve(TRAINERS[0])[1], fits[-1])
    faded = sorted(
        (item for item in curves(plot) if item.opts["pen"].color().alpha() < 255),
        key=lambda item: -item.getData()[1][0],
    )
    assert [list(item.getData()[1]) for item in faded] == fits[-1 - KEPT_CURVES : -1]
    legend = plot.getPlotItem().legend
    assert [label.text for _, label in legend.items] == [TRAINERS[0]]


def test_each_trainer_has_its_own_curve_and_legend_entry(plot):
    fit(plot, 1, [-3.0, -2.0], TRAINERS[0])
    fit(plot, 1, [-4.0, -3.5, -3.0], TRAINERS[1])
    assert plot.curve(TRAINERS[0])[1].tolist() == [-3.0, -2.0]
    assert plot.curve(TRAINERS[1])[1].tolist() == [-4.0, -3.5, -3.0]
    assert len(plot.getPlotItem().legend.items) == 2


def test_clear_forgets_every_curve_and_nan_is_not_drawn(plot):
    fit(plot, 1, [-3.0, -2.0])
    fit(plot, 2, [-3.0, -2.0])
    plot.add_snapshot(snapshot(3, 5, float("nan")))
    assert plot.curve(TRAINERS[0])[0].tolist() == [0, 1]
    plot.clear_curves()
    assert plot.n_curves(TRAINERS[0]) == 0 and curves(plot) == []


def test_a_flat_curve_keeps_a_readable_y_span(plot, qtbot):
    fit(plot, 1, [-2.0, -2.0 + 1e-15, -2.0])
    view = plot.getPlotItem().getViewBox()
    view.autoRange()
    low, high = view.viewRange()[1]
    assert high - low >= MIN_Y_SPAN * (1 - 1e-9)


@pytest.mark.parametrize("passes", [2, 7, 150])
def test_the_pass_axis_ticks_whole_passes_only(plot, passes):
    axis = plot.getAxis("bottom")
    ticks = [value for _, values in axis.tickValues(0, passes, 400) for value in values]
    assert ticks and all(float(value).is_integer() for value in ticks)
    assert min(ticks) <= 1 and max(ticks) >= passes - passes / 4


def test_the_grid_is_drawn_opaque_under_the_curves(plot, qtbot):
    fit(plot, 1, [-3.0, -2.0, -1.5])
    plot.resize(400, 200)
    plot.show()
    qtbot.waitExposed(plot)
    assert plot.getAxis("left").grid is False and plot.getAxis("bottom").grid is False
    image = plot.grab().toImage()
    view = plot.getPlotItem().getViewBox()
    top_left = plot.mapFromScene(view.mapToScene(view.rect().topLeft()))
    bottom_right = plot.mapFromScene(view.mapToScene(view.rect().bottomRight()))
    greys = {
        image.pixelColor(x, (top_left.y() + bottom_right.y()) // 2).getRgb()[:3]
        for x in range(top_left.x() + 2, bottom_right.x() - 2)
    }
    # a row across the plot crosses vertical grid lines: light, opaque greys
    assert any(r == g == b and 200 < r < 255 for r, g, b in greys)

"""Choosing K: BIC and AIC for K = 1 to 10 on the current points, in the background.

:class:`ModelSelection` owns a panel (a dock with a plot of both criteria against K and a
marker at the best), the actions ``model_selection_action`` (shows the panel and keeps
the scores current) and ``apply_best_k_action`` (sets Components to the best K), and one
background thread (:class:`app.state.threads.BackgroundThread`) that imports
:mod:`app.training.k_scores` (torch, gmm_core) there. A change of the points cancels the
computation in flight and starts a new one (newest wins).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from ..state.geometry import reg_covar_for
from ..state.messages import KScores, KScoresRequest
from ..state.threads import BackgroundThread
from ..training.k_scores import k_scores


class ModelSelection(QObject):
    """The "Choose K" panel of ``window`` and its background computation."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.scores: KScores | None = None
        self.model_selection_action = QAction("&Choose K (BIC, AIC)", window)
        self.model_selection_action.setCheckable(True)
        self.model_selection_action.setToolTip("Score K = 1 to 10 on the current points")
        self.model_selection_action.toggled.connect(self._on_toggled)
        self.apply_best_k_action = QAction("Use &Best K", window)
        self.apply_best_k_action.setToolTip("Set Components to the K of the lowest BIC")
        self.apply_best_k_action.setEnabled(False)
        self.apply_best_k_action.triggered.connect(self.apply_best_k)

        panel = QWidget(window)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 4, 4, 4)
        self.plot = pg.PlotWidget(panel, background="w")
        self.plot.setLabel("bottom", "K")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getPlotItem().hideButtons()
        self.plot.addLegend(offset=(-10, 10))
        self.bic_curve = self.plot.plot(
            pen=pg.mkPen(0, 90, 160, width=2), symbol="o", symbolSize=6, name="BIC"
        )
        self.aic_curve = self.plot.plot(
            pen=pg.mkPen(190, 60, 0, width=2, style=Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=6,
            name="AIC",
        )
        self.best_item = pg.ScatterPlotItem(
            size=16, symbol="star", brush=pg.mkBrush(240, 200, 0), pen=pg.mkPen("k")
        )
        self.plot.addItem(self.best_item)
        self.summary = QLabel("", panel)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        panel.setMinimumWidth(330)
        self.dock = QDockWidget("Choose K", window)
        self.dock.setObjectName("model-selection-panel")
        self.dock.setWidget(panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()

        self.runner = BackgroundThread("gmm-model-selection", k_scores, parent=self)
        self.runner.result_ready.connect(self._on_done)
        window.session.changed.connect(self._on_points_changed)
        window.covariance_combo.currentTextChanged.connect(self._on_points_changed)

    # -- commands --------------------------------------------------------------------------

    @Slot()
    def apply_best_k(self) -> None:
        """Set Components to the best K found."""
        if self.scores is not None:
            self.window.components_spin.setValue(self.scores.best_k)

    def refresh(self) -> None:
        """Score the current points (cancels a computation in flight)."""
        points = self.window.session.points
        self.scores = None
        self.apply_best_k_action.setEnabled(False)
        if points.shape[0] == 0:
            self._show(None)
            return
        scale = self.window.session.extent
        if not scale > 0:
            scale = self.window.canvas.view_extent()
        request = KScoresRequest(
            request_id=-1,  # given by post
            points=points,
            reg_covar=reg_covar_for(scale),
            covariance_type=self.window.covariance_combo.currentText(),
            weight_prior=self.window.controller.weight_prior,
        )
        self.summary.setText("computing…")
        self.runner.post(request)

    def shutdown(self) -> None:
        """Stop the background thread (set the cancel flag, quit, wait)."""
        self.runner.shutdown()

    # -- internals -------------------------------------------------------------------------

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.dock.setVisible(on)
        if on:
            self.refresh()

    @Slot()
    def _on_points_changed(self) -> None:
        if self.model_selection_action.isChecked():
            self.refresh()

    @Slot(int, object)
    def _on_done(self, request_id: int, scores: KScores) -> None:
        self.scores = scores
        self._show(scores)
        self.apply_best_k_action.setEnabled(True)
        self.window.k_scores_ready.emit(scores)

    def _show(self, scores: KScores | None) -> None:
        if scores is None:
            self.bic_curve.setData([], [])
            self.aic_curve.setData([], [])
            self.best_item.setData(pos=np.zeros((0, 2)))
            self.summary.setText("")
            return
        ks = np.asarray(scores.ks, dtype=float)
        bic, aic = np.asarray(scores.bic), np.asarray(scores.aic)
        ok = np.isfinite(bic)
        self.bic_curve.setData(ks[ok], bic[ok])
        self.aic_curve.setData(ks[np.isfinite(aic)], aic[np.isfinite(aic)])
        best = scores.ks.index(scores.best_k)
        self.best_item.setData(pos=[(scores.best_k, bic[best])])
        best_aic = scores.ks[int(np.nanargmin(aic))]
        variational = (
            f"; variational: {scores.variational_k} in use" if scores.variational_k else ""
        )
        self.summary.setText(f"best K by BIC: {scores.best_k} (by AIC: {best_aic}{variational})")
        self.summary.setToolTip(
            "Variational: the components a Bayesian fit of the largest K keeps in use "
            "(its weight prior is the Model panel's)"
        )

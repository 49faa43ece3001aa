"""The window's Model panel: component and epoch spin boxes, Train and Clear, a short help.

:class:`app.panels.insight.Insight` adds its controls to :attr:`ModelPanel.form` and under the
buttons. Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ..state.actions import action_button

_HELP = (
    "<p><b>Tools</b> (tool bar): <b>A</b>dd, <b>B</b>rush, <b>M</b>ove, "
    "<b>E</b>rase, <b>J</b>itter<br><b>Middle drag</b> (or left drag with Add): "
    "pan<br><b>Wheel</b>: zoom<br><b>Ctrl+Z</b>: undo<br><b>Delete</b>: clear<br>"
    "<b>Data</b> menu: presets</p>"
    "<p>Ellipses: 1, 2 and 3 standard deviations; the percentage is each "
    "component's weight.</p>"
)


class ModelPanel(QWidget):
    """The side panel's widgets, started from ``controller``'s settings.

    Parameters
    ----------
    controller : TrainingController
        Its ``n_components`` and ``epochs`` are the spin boxes' first values.
    actions : sequence of QAction
        Shown as full-width buttons under the form (Train, Clear).
    """

    def __init__(self, controller, actions, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.components_spin = QSpinBox(self)
        self.components_spin.setRange(1, 20)
        self.components_spin.setValue(controller.n_components)
        self.components_spin.setToolTip("Number of mixture components (refits from scratch)")
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(0, 1000)
        self.epochs_spin.setValue(controller.epochs)
        self.epochs_spin.setToolTip(
            "Full EM passes over all points after each change (stops early when converged);"
            " 0: incremental update only"
        )
        self.form.addRow("Components", self.components_spin)
        self.form.addRow("Epochs", self.epochs_spin)
        layout.addLayout(self.form)
        for action in actions:
            layout.addWidget(action_button(action, self))
        help_text = QLabel(_HELP, self)
        help_text.setWordWrap(True)
        help_text.setStyleSheet("color: rgb(90, 90, 90);")
        layout.addWidget(help_text)
        layout.addStretch(1)
        self.setFixedWidth(240)  # "Variational (auto K)" fits the trainer box

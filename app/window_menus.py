"""The window's menu bar: which action sits in which menu, in one place.

File, Edit, Tools, Data, Model, View and Help, filled from the actions of the window
(:class:`app.window_actions.WindowActions`) and of its collaborators. The actions that
have shortcuts are also the window's own, so their shortcuts work without the menus.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QMenu


class WindowMenus:
    """The menus of ``window``'s menu bar, filled from its collaborators' actions.

    Parameters
    ----------
    window : QMainWindow
        Owner of the menu bar, and of the shortcuts of tools and documents.
    commands : WindowActions
        Quit, Undo, Redo, Train, Clear, Fit View and About.
    tools : CanvasTools
        The tool actions (the Tools menu).
    documents, data_sets, exports
        New, Open, Recent and Save; the examples, Paste and the Data menu; the exports.
    animation : AnimationExport
        File > Export Animation (the history as a GIF).
    insight, samples, density, model_selection
        The Model and View menus' learning, sampling, density and choose-K actions.
    """

    def __init__(
        self,
        window: QMainWindow,
        *,
        commands,
        tools,
        documents,
        data_sets,
        exports,
        animation,
        insight,
        samples,
        density,
        model_selection,
    ):
        bar = window.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.file_menu.addActions([documents.new_action, documents.open_action])
        self.file_menu.addMenu(documents.recent_menu)
        self.file_menu.addMenu(data_sets.example_menu)
        self.file_menu.addSeparator()
        self.file_menu.addActions([documents.save_action, documents.save_as_action])
        self.file_menu.addSeparator()
        self.file_menu.addActions(exports.actions)
        self.file_menu.addAction(animation.action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(commands.quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        self.edit_menu.addActions(
            [commands.undo_action, commands.redo_action, data_sets.paste_action]
        )
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(commands.clear_action)

        self.tools_menu = QMenu("&Tools", window)
        self.tools_menu.addActions(list(tools.actions.values()))
        bar.addMenu(self.tools_menu)
        bar.addMenu(data_sets.data_menu)

        self.model_menu = bar.addMenu("&Model")
        self.model_menu.addAction(commands.train_action)
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(commands.fit_view_action)
        insight.add_to_menu(self.model_menu, self.view_menu)
        self.view_menu.addAction(density.density_action)
        self.model_menu.addSeparator()
        self.model_menu.addActions([samples.sample_action, samples.keep_samples_action])
        self.model_menu.addSeparator()
        self.model_menu.addActions(
            [model_selection.model_selection_action, model_selection.apply_best_k_action]
        )

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(commands.about_action)

        for action in (
            *tools.actions.values(),
            documents.open_action,
            documents.save_action,
            data_sets.paste_action,
            documents.new_action,
            documents.save_as_action,
        ):
            window.addAction(action)  # shortcuts work without the menus too

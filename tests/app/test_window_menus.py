"""The window's menu bar (app.window_menus): every action in its menu, shortcuts too."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu


def menu_actions(menu: QMenu) -> list:
    """The actions of ``menu`` and of its submenus, separators left out."""
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            found.extend(menu_actions(action.menu()))
        elif not action.isSeparator():
            found.append(action)
    return found


def test_the_menus_in_their_order(window):
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&Tools", "&Data", "&Model", "&View", "&Help"]


def test_the_file_menu_from_new_to_quit(window):
    actions = [a for a in window.file_menu.actions() if not a.isSeparator()]
    assert actions[:2] == [window.new_action, window.open_action]
    assert [a.menu() for a in actions[2:4]] == [window.recent_menu, window.data_sets.example_menu]
    assert actions[4:6] == [window.save_action, window.save_as_action]
    exports = [window.export_points_action, window.export_model_action, window.export_image_action]
    assert actions[6:9] == exports
    assert actions[9:] == [window.export_animation_action, window.quit_action]


def test_the_edit_menu(window):
    actions = [a for a in window.edit_menu.actions() if not a.isSeparator()]
    assert actions == [
        window.undo_action,
        window.redo_action,
        window.paste_action,
        window.clear_action,
    ]


def test_every_action_of_the_menus_is_in_one(window):
    in_menus = [a for m in window.menuBar().actions() for a in menu_actions(m.menu())]
    for action in (
        window.train_action,
        window.live_action,
        window.step_action,
        window.play_action,
        window.repair_action,
        window.sample_action,
        window.keep_samples_action,
        window.model_selection_action,
        window.apply_best_k_action,
        window.fit_view_action,
        window.equal_aspect_action,
        window.soft_colors_action,
        window.density_action,
        window.preset_adds_action,
        window.about_action,
        *window.tool_actions.values(),
    ):
        assert in_menus.count(action) == 1, action.text()


def test_shortcuts_work_without_the_menus(qtbot, window):
    in_menus = [a for m in window.menuBar().actions() for a in menu_actions(m.menu())]
    with_shortcuts = {a for a in in_menus if not a.shortcut().isEmpty()}
    assert with_shortcuts <= set(window.actions())
    window.menuBar().hide()
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_B)
    assert window.tools.tool == "brush"

"""The recent files, their Open Recent menu and the last folder, kept in a real INI file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from app.files.recent_files import MAX_RECENT, RecentFiles


@pytest.fixture
def ini(tmp_path):
    return tmp_path / "settings.ini"


@pytest.fixture
def recent_files(qtbot, ini):
    """Makes RecentFiles kept in ``ini``, their menus owned by a widget of the test."""
    parent = QWidget()
    qtbot.addWidget(parent)

    def make() -> RecentFiles:
        return RecentFiles(QSettings(str(ini), QSettings.Format.IniFormat), parent)

    return make


def shown_entries(recent: RecentFiles) -> list[str]:
    recent.menu.aboutToShow.emit()  # as opening the menu does
    return [action.text() for action in recent.menu.actions()]


def test_files_come_newest_first_once_each_and_outlive_the_object(recent_files, tmp_path):
    recent = recent_files()
    assert recent.files() == []
    paths = [tmp_path / f"f{i}.csv" for i in range(MAX_RECENT + 2)]
    for path in paths:
        path.write_text("1,2\n")
        recent.add(path)
    recent.add(paths[3])
    expected = [str(paths[3].resolve())] + [
        str(p.resolve()) for p in reversed(paths) if p != paths[3]
    ][: MAX_RECENT - 1]
    assert recent.files() == expected
    recent.settings.sync()
    assert recent_files().files() == expected


def test_the_last_folder_is_the_last_files_and_at_first_home(recent_files, tmp_path):
    recent = recent_files()
    assert recent.last_dir() == str(Path.home())
    folder = tmp_path / "data"
    folder.mkdir()
    recent.add(folder / "points.csv")
    assert recent.last_dir() == str(folder.resolve())


def test_a_single_stored_file_reads_as_a_list(recent_files, ini):
    QSettings(str(ini), QSettings.Format.IniFormat).setValue("files/recent", "/only/one.csv")
    assert recent_files().files() == ["/only/one.csv"]


def test_the_menu_lists_the_files_and_a_pick_is_told(qtbot, recent_files, ini, tmp_path):
    recent = recent_files()
    assert shown_entries(recent) == ["(none)"]
    assert not recent.menu.actions()[0].isEnabled()
    a, b = tmp_path / "a.gmmsession", tmp_path / "b.csv"
    recent.add(a)
    recent.add(b)
    assert shown_entries(recent) == [str(b.resolve()), str(a.resolve())]
    with qtbot.waitSignal(recent.chosen) as chosen:
        recent.menu.actions()[1].trigger()
    assert chosen.args == [str(a.resolve())]

"""What the window remembers from one run to the next, in a real settings file."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.window_state import restore_window_settings, store_window_settings

from .test_files import new_window


def spin_values(window) -> tuple[int, int, int, int]:
    tools = window.tools
    return (
        window.components_spin.value(),
        window.epochs_spin.value(),
        tools.radius_spin.value(),
        tools.intensity_spin.value(),
    )


def set_spin_values(window, components, epochs, radius, intensity) -> None:
    window.components_spin.setValue(components)
    window.epochs_spin.setValue(epochs)
    window.tools.radius_spin.setValue(radius)
    window.tools.intensity_spin.setValue(intensity)


def test_stored_values_come_back_and_nothing_stored_gives_the_defaults(window, tmp_path):
    ini = str(tmp_path / "settings.ini")
    set_spin_values(window, 5, 7, 12, 4)
    restore_window_settings(QSettings(ini, QSettings.Format.IniFormat), window)
    assert spin_values(window) == (3, 20, 30, 10)
    set_spin_values(window, 5, 7, 12, 4)
    store_window_settings(QSettings(ini, QSettings.Format.IniFormat), window)
    stored = QSettings(ini, QSettings.Format.IniFormat)
    assert stored.value("window/geometry") == window.saveGeometry()
    set_spin_values(window, 2, 1, 50, 9)
    restore_window_settings(QSettings(ini, QSettings.Format.IniFormat), window)
    assert spin_values(window) == (5, 7, 12, 4)


def test_settings_and_recent_files_are_remembered(qtbot, window, tmp_path, private_data_dir):
    window.components_spin.setValue(6)
    window.tools.radius_spin.setValue(44)
    window.add_points([[1.0, 2.0]])
    path = tmp_path / "r.gmmsession"
    window.save_session(path)
    window.close()
    assert (private_data_dir / "settings.ini").exists()
    again = new_window(qtbot)
    assert again.components_spin.value() == 6
    assert again.tools.radius_spin.value() == 44
    assert again.recent_files()[0] == str(path.resolve())
    again.close()

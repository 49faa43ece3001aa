"""gmm_core's layout: a root of at most 11 modules, public names only, every package in the wheel.

No import cycle, no folder over 13 modules and a docstring for every package are checked
for the program and the library alike in tests/test_architecture.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gmm_core

PACKAGE = Path(gmm_core.__file__).parent


def test_the_root_holds_at_most_11_modules():
    counts = {
        str(folder.relative_to(PACKAGE.parent)): len(list(folder.glob("*.py")))
        for folder in [PACKAGE, *(p.parent for p in PACKAGE.rglob("__init__.py"))]
    }
    assert counts["gmm_core"] <= 11, counts
    assert max(counts.values()) <= 13, counts


def test_dir_shows_the_public_names_only():
    shown = subprocess.run(
        [sys.executable, "-c", "import gmm_core; print(' '.join(dir(gmm_core)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shown == sorted(gmm_core.__all__)
    # Imported subpackages show too, helpers never.
    assert "tables" in dir(gmm_core) or "tables" not in vars(gmm_core)
    for hidden in ("TYPE_CHECKING", "annotations", "import_module", "_HOMES"):
        assert hidden not in dir(gmm_core)
    for name in gmm_core.__all__:
        assert getattr(gmm_core, name) is not None


def test_every_package_reaches_the_wheel():
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]
    listed = setuptools["packages"]  # names, or [tool.setuptools.packages.find] patterns
    patterns = listed["find"]["include"] if isinstance(listed, dict) else listed
    packages = {
        ".".join(("gmm_core", *path.parent.relative_to(PACKAGE).parts))
        for path in PACKAGE.rglob("__init__.py")
    }
    missed = [p for p in packages if not any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    assert missed == []

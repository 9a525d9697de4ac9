"""The wheel carries screens.css and the licence catalogue, and the console script and `python -m hftui` answer."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_stylesheet_and_the_licence_catalogue(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("hftui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "hftui/screens.css" in names
    assert "hftui/app.py" in names
    packaged = zipfile.ZipFile(wheel).read("hftui/screens.css").decode()
    assert packaged == (ROOT / "screens.css").read_text()
    catalogue = "hftui/hub/cards/licenses.json"
    assert catalogue in names
    assert zipfile.ZipFile(wheel).read(catalogue) == (ROOT / catalogue).read_bytes()


def test_python_m_hftui_version() -> None:
    result = subprocess.run([sys.executable, "-m", "hftui", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("hftui ")


def test_stylesheet_parses() -> None:
    from textual.app import App
    from textual.css.stylesheet import Stylesheet

    from hftui.app import stylesheet_path

    # Theme variables ($primary, $boost, ...) come from an app's theme.
    sheet = Stylesheet(variables=App().get_css_variables())
    sheet.read(stylesheet_path())
    sheet.parse()

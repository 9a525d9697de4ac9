"""The architecture holds: the import-linter contracts in pyproject.toml are kept, a violation of them is caught,
and the domain packages pass the type check (mypy, configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the `hftui` package found under `root`, with `root`'s pyproject.toml."""
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PATH": str(BIN), "PYTHONPATH": str(root), "HOME": str(root), "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_layers_contract_is_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        # The Hub layer reaching up into the UI, from inside a function where a plain grep would miss it.
        ("hub/fit.py", "def _up():\n    from hftui.ui.base import HubScreen\n", "Layers"),
        # The data layer importing training, which sits above it.
        ("data/cells.py", "import hftui.train.spec\n", "Layers"),
        # The domain importing Textual directly.
        ("analyze/tasks.py", "def _ui():\n    import textual.widgets\n", "never imports Textual"),
    ],
)
def test_a_violation_breaks_the_contract(tmp_path: Path, module: str, violation: str, contract: str) -> None:
    shutil.copytree(ROOT / "hftui", tmp_path / "hftui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "hftui" / module
    target.write_text(target.read_text(encoding="utf-8") + "\n\n" + violation, encoding="utf-8")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout
    assert "hftui." + module.removesuffix(".py").replace("/", ".") in result.stdout


def _mypy(root: Path) -> subprocess.CompletedProcess[str]:
    """Run mypy with `root`'s pyproject.toml over the files it names, from `root`."""
    return subprocess.run(
        [str(BIN / "mypy"), "--config-file", str(root / "pyproject.toml"), "--cache-dir", "/dev/null"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_type_check_passes() -> None:
    result = _mypy(ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_a_type_error_fails_the_type_check(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "hftui", tmp_path / "hftui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "hftui" / "humanize.py"
    planted = "\n\ndef _planted() -> int:\n    return human_size(1)\n"  # a str where an int is promised
    target.write_text(target.read_text(encoding="utf-8") + planted, encoding="utf-8")

    result = _mypy(tmp_path)

    assert result.returncode == 1, result.stdout
    assert "hftui/humanize.py" in result.stdout and "return-value" in result.stdout

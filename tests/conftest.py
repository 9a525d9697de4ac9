"""Shared fixtures: every test gets its own HF home and hftui home, and never sees the user's config."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# huggingface_hub, datasets and transformers read their paths and flags when first imported, so the
# session-wide sandbox is set up here, before any test module imports them.
_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="hftui-tests-"))
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
    os.environ.pop(_name, None)
os.environ["HF_HOME"] = str(_SESSION_ROOT / "hf-home")
os.environ.pop("HF_HUB_CACHE", None)
os.environ["HFTUI_HOME"] = str(_SESSION_ROOT / "hftui-home")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

pytest_plugins = ["tests.hubfixtures"]

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"


@pytest.fixture
def realworld() -> Path:
    """The shared real-world data folder; tests that need it skip where a fresh clone has none."""
    if not REALWORLD.is_dir():
        pytest.skip("../shared/realworld is not present in this checkout")
    return REALWORLD


@pytest.fixture(autouse=True)
def hftui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private hftui state directory (settings, index, seen models) for every test."""
    home = tmp_path / "hftui-home"
    monkeypatch.setenv("HFTUI_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def restore_offline_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app switches huggingface_hub in and out of offline mode process-wide; undo that after each test."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield
    # datasets copies the flag when first imported, which may have happened inside a test that was offline;
    # later tests in this worker must not inherit that copy.
    datasets_config = sys.modules.get("datasets.config")
    if datasets_config is not None:
        datasets_config.HF_HUB_OFFLINE = datasets_config.HF_DATASETS_OFFLINE = False


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """Hub offline mode as the app's demo runs it, plus a socket guard proving nothing dials out."""
    import socket

    import huggingface_hub.constants

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        # huggingface_hub reads the variable once at import, so the constant has to follow it.
        mp.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        yield

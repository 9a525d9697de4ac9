"""Catalogue, through the real app (Pilot): damaged local state and hostile Hub text on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Markdown

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.browse.datasets import DatasetsScreen
from hftui.ui.browse.model_page import ModelPageScreen
from hftui.ui.browse.models import ModelsScreen
from tests.catalogue.test_untrusted_text import EVIL_MODEL, build_evil_hub
from tests.pilot import screen_text, settle, wait_for_text, wait_until


def _app(endpoint: str, cache: Path, *, offline: bool) -> HfTuiApp:
    return HfTuiApp(HubSettings(endpoint, cache.parent, cache, offline, read_token_status()))


def _assert_no_escapes(app: HfTuiApp) -> None:
    text, segments = screen_text(app)
    for char in ("\x1b", "\x07", "\x9b", "\x00"):
        assert char not in text
    assert all(segment.style is None or segment.style.link is None for segment in segments)


@pytest.mark.parametrize("damage", [b"this is not a database\n" * 40, b"\x00" * 4096], ids=["garbage", "nul"])
async def test_app_with_a_corrupt_index_opens_says_so_and_answers_keys(
    tmp_path: Path, hftui_home: Path, damage: bytes
) -> None:
    index_file = hftui_home / "index" / "models.sqlite"
    index_file.parent.mkdir(parents=True)
    index_file.write_bytes(damage)
    app = _app("http://127.0.0.1:9", tmp_path / "hub", offline=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_index is not None)
        notes = [n.message for n in app._notifications]
        assert any(note.startswith("The model index was rebuilt") for note in notes), notes
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DatasetsScreen)
    kept = [p for p in index_file.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert [p.read_bytes() for p in kept] == [damage], "the damaged index is kept beside the new one"


@pytest.mark.parametrize("damage", [b"{theme:", b"\xff\xfe"], ids=["garbage", "non-utf8"])
async def test_app_with_corrupt_settings_opens_with_the_defaults(
    tmp_path: Path, hftui_home: Path, damage: bytes
) -> None:
    hftui_home.mkdir(parents=True, exist_ok=True)
    (hftui_home / "settings.json").write_bytes(damage)
    app = _app("http://127.0.0.1:9", tmp_path / "hub", offline=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)


async def test_model_page_shows_card_escapes_as_text(tmp_path: Path) -> None:
    hub = build_evil_hub()
    url = hub.start()
    try:
        app = _app(url, tmp_path / "hub", offline=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_until(pilot, lambda: app.model_index is not None)
            app.push_screen(ModelPageScreen(EVIL_MODEL))
            await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
            await wait_for_text(pilot, "Model")
            source = app.screen.query_one(Markdown).source
            assert "\\x1b]52;c;" in source and "\\x1b[2J" in source
            assert "[link=https://evil.example]card[/link]" in source
            _assert_no_escapes(app)
            for tab in ("2", "3"):
                await pilot.press(tab)
                await settle(pilot)
                _assert_no_escapes(app)
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, ModelPageScreen), "the app still answers keys"
    finally:
        hub.stop()


async def test_models_list_shows_hostile_task_and_library_as_text(tmp_path: Path) -> None:
    hub = build_evil_hub()
    url = hub.start()
    try:
        app = _app(url, tmp_path / "hub", offline=False)
        async with app.run_test(size=(200, 40)) as pilot:
            await pilot.press("m")
            text = await wait_for_text(pilot, "escapes-model")
            assert "escapes-model" in text
            _assert_no_escapes(app)
    finally:
        hub.stop()


BAD_ANALYZER_FILES = {
    "empty.txt": b"",
    "latin1.txt": "un film g\xe9nial\n".encode("latin-1"),
    "picture.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG cut after its signature
    "speech.wav": b"this is text, not a RIFF file\n",
    "nul.txt": b"\x00" * 2048,
}


@pytest.mark.parametrize("name", sorted(BAD_ANALYZER_FILES))
async def test_analyzer_given_a_bad_file_says_why_and_answers_keys(
    tmp_path: Path, hftui_home: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from hftui.ui.analyzer.screen import AnalyzerScreen

    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(BAD_ANALYZER_FILES[name])
    app = _app("http://127.0.0.1:9", tmp_path / "hub", offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AnalyzerScreen))
        screen = app.screen
        assert isinstance(screen, AnalyzerScreen)
        await pilot.press("i", *f"./{name}", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        await pilot.press("escape")
        # Either the file gave inputs a model can be asked about (a decodable text), or it was not added and the
        # user was told which file and why; never an error notification from a failed worker.
        notes = [str(n.message) for n in app._notifications]
        assert not [n for n in app._notifications if n.severity == "error"], notes
        if not screen.inputs:
            assert any(name in note for note in notes), notes
        _assert_no_escapes(app)
        await pilot.press("m")  # the app still answers keys
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))

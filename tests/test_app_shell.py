"""Pilot tests of the app shell: screens by key and palette, status line, offline banner, plain text."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual import on, work
from textual.screen import Screen
from textual.widgets import DataTable, Markdown
from textual.worker import Worker, WorkerState

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.analyzer.screen import AnalyzerScreen
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.browse.cache import CacheScreen
from hftui.ui.browse.datasets import DatasetsScreen
from hftui.ui.browse.model_page import ModelPageScreen
from hftui.ui.browse.models import ModelsScreen
from hftui.ui.browse.repo_card import RepoCardScreen
from hftui.ui.dialogs.help import HelpScreen
from hftui.ui.training.runs import TrainingScreen
from hftui.ui.widgets.status_line import OfflineBanner, StatusLine
from tests.pilot import screen_text, settle, wait_for_text

if TYPE_CHECKING:
    from hftui.localhub import LocalHub

SCREENS = {
    "m": ("models", ModelsScreen),
    "d": ("datasets", DatasetsScreen),
    "a": ("analyzer", AnalyzerScreen),
    "t": ("training", TrainingScreen),
    "c": ("cache", CacheScreen),
}
INJECTIONS = ("[bold red]x[/]", "[link=file:///etc/passwd]x[/link]", "\x1b[2J")


def make_settings(endpoint: str, cache: Path, *, offline: bool = False) -> HubSettings:
    return HubSettings(endpoint, cache.parent, cache, offline, read_token_status())


async def test_each_screen_opens_by_key(tmp_path: Path) -> None:
    app = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, (mode, screen_type) in SCREENS.items():
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert isinstance(app.screen, screen_type)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_rows = [app.screen.query_one(DataTable).get_row_at(i) for i in range(3)]
        assert any("Models" in str(cell) for row in help_rows for cell in row)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("mode", ["datasets", "analyzer", "training", "cache", "models"])
async def test_each_screen_opens_by_palette(tmp_path: Path, mode: str) -> None:
    app = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    title = app.SCREEN_TITLES[mode][0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if mode == "models":
            await pilot.press("c")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*f"open: {title}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == mode


@pytest.mark.parametrize("read_at_start", [True, False], ids=["read-before", "read-in-a-worker"])
async def test_status_line_masks_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_at_start: bool
) -> None:
    token = "hf_secretsecretsecretWXYZ"
    monkeypatch.setenv("HF_TOKEN", token)
    settings = make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True)
    if not read_at_start:  # as `hftui` starts: the token is looked up after the first frame
        settings = dataclasses.replace(settings, token=None)
    app = HfTuiApp(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = str(app.screen.query_one(StatusLine).render())
        assert "****WXYZ" in status and "HF_TOKEN" in status
        text, _ = screen_text(app)
        assert "secret" not in text
        assert "OFFLINE" in status


async def test_offline_banner_when_local_hub_stops(tmp_path: Path, local_hub: LocalHub) -> None:
    app = HfTuiApp(make_settings(local_hub.url, tmp_path / "hub"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one(OfflineBanner)
        assert app.reachability is not None and app.reachability.online
        assert not banner.has_class("-offline")
        assert "ONLINE" in str(app.screen.query_one(StatusLine).render())

        local_hub.stop()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.offline
        assert banner.has_class("-offline") and banner.display
        assert "OFFLINE" in str(banner.render())
        assert "OFFLINE" in str(app.screen.query_one(StatusLine).render())
        assert os.environ.get("HF_HUB_OFFLINE") == "1"

        local_hub.start()
        app.settings = make_settings(local_hub.url, tmp_path / "hub")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not app.offline and not banner.has_class("-offline")
        assert "HF_HUB_OFFLINE" not in os.environ


def write_evil_cache(cache: Path) -> None:
    """A cache whose repo id, card metadata and body carry markup and terminal escapes."""
    commit = "0" * 40
    repo = cache / "models--evil--[bold red]x[" / "snapshots" / commit
    repo.mkdir(parents=True)
    (repo.parent.parent / "refs").mkdir()
    (repo.parent.parent / "refs" / "main").write_text(commit)
    (repo / "README.md").write_text(
        "---\n"
        "license: '[link=file:///etc/passwd]x[/link]'\n"
        "pipeline_tag: text-classification\n"
        'library_name: "\\e[2J"\n'
        "tags: ['[bold red]x[/]']\n"
        "---\n"
        "Body [bold red]x[/] and \x1b[2J here.\n"
    )


async def test_hub_strings_render_as_plain_text(tmp_path: Path, hftui_home: Path) -> None:
    cache = tmp_path / "hub"
    write_evil_cache(cache)
    evil_dataset = hftui_home / "demo" / "datasets" / "[bold red]x["
    evil_dataset.mkdir(parents=True)
    (evil_dataset / "rows\x1b[2J.jsonl").write_text('{"text": "[bold red]x[/]"}\n')
    (evil_dataset / "README.md").write_text("---\nlicense: '[link=file:///etc/passwd]x[/link]'\n---\n")
    app = HfTuiApp(make_settings("http://127.0.0.1:9", cache, offline=True))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        for key in ("m", "a", "c", "d"):
            await pilot.press(key)
            text = await wait_for_text(pilot, "[bold red]x[")
            assert "[bold red]x[" in text, key
            if key == "d":
                assert "[link=file:///etc/passwd]x[/link]" in text, key
            if key == "m":
                assert "\\x1b[2J" in text  # the library name, escaped
            assert_plain(app)

        # The model page: card body, metadata and licence tabs.
        await pilot.press("m", "enter")
        await wait_for_text(pilot, "Body [bold red]x[/] and")
        assert isinstance(app.screen, ModelPageScreen)
        assert "\\x1b[2J" in app.screen.query_one(Markdown).source
        assert_plain(app)
        for tab in ("2", "3"):
            await pilot.press(tab)
            text = await wait_for_text(pilot, "[link=file:///etc/passwd]x[/link]")
            assert "[link=file:///etc/passwd]x[/link]" in text, tab
            assert_plain(app)

        # The plain card view reached from the Cache screen.
        await pilot.press("escape", "c", "enter")
        text = await wait_for_text(pilot, "[link=file:///etc/passwd]x[/link]")
        assert isinstance(app.screen, RepoCardScreen)
        assert "[bold red]x[/]" in text and "[link=file:///etc/passwd]x[/link]" in text
        assert_plain(app)
        assert "\\x1b[2J" in app.screen.query_one(Markdown).source


def assert_plain(app: HfTuiApp) -> None:
    """No escape character reaches the terminal and nothing is styled as a link."""
    text, segments = screen_text(app)
    assert "\x1b" not in text
    assert all(segment.style is None or segment.style.link is None for segment in segments)


async def test_palette_runs_bound_actions_and_theme_is_remembered(tmp_path: Path, hftui_home: Path) -> None:
    app = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.current_theme.dark
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"key: Theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_theme.dark is not dark
    settings = (hftui_home / "settings.json").read_text()
    assert app.theme in settings
    again = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == app.theme


async def test_keymap_override_from_settings(tmp_path: Path, hftui_home: Path) -> None:
    hftui_home.mkdir(parents=True)
    (hftui_home / "settings.json").write_text('{"keymap": {"open.cache": "z"}}')
    app = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        await pilot.pause()
        assert app.current_mode == "cache"


class FailingScreen(ReportsWorkerFailures, Screen[None]):
    """A screen whose thread workers raise: one failure reported, one shown its own way."""

    @work(thread=True, exit_on_error=False, group="reported", description="A reported job")
    def reported(self) -> None:
        raise RuntimeError("boom, reported")

    @work(thread=True, exit_on_error=False, group="own-way", description="A job shown in place")
    def own_way(self) -> None:
        raise RuntimeError("boom, shown in place")

    @on(Worker.StateChanged)
    def show_in_place(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "own-way":
            event.prevent_default()
            self.shown = str(event.worker.error)


async def test_a_screens_failed_worker_is_reported_once_unless_the_screen_shows_it(tmp_path: Path) -> None:
    app = HfTuiApp(make_settings("http://127.0.0.1:9", tmp_path / "hub", offline=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FailingScreen()
        await app.push_screen(screen)
        screen.reported()
        screen.own_way()
        await pilot.pause()
        for _ in range(100):  # the workers' failures arrive as messages
            if getattr(screen, "shown", None) and any("boom" in n.message for n in app._notifications):
                break
            await pilot.pause(0.02)
        await pilot.pause(0.1)  # a second report, if any, would be in by now
        failures = [n.message for n in app._notifications if "boom" in n.message]
        assert failures == ["A reported job failed: RuntimeError: boom, reported"]  # once, not once per handler
        assert screen.shown == "boom, shown in place"

"""Pilot tests of the Account screen at 80x24 against the local Hub: log in by typing a token into the password
box, whoami, a second token and switching, a read-only token called out, offline from the files only, and the
token never on screen, in a notification or in the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.localhub import LocalHub
from hftui.ui.publish.account import AccountScreen
from tests.hubfixtures import HUB_ORG, HUB_TOKEN, HUB_USER
from tests.pilot import screen_text, wait_until

SECOND_TOKEN = "hf_secondTokenForTheScreen00000000"
READ_TOKEN = "hf_readTokenForTheAccountScreen000"
TOKENS = (HUB_TOKEN, SECOND_TOKEN, READ_TOKEN)


def make_app(endpoint: str, tmp_path: Path, *, offline: bool = False) -> HfTuiApp:
    cache = tmp_path / "hub"
    return HfTuiApp(HubSettings(endpoint, cache.parent, cache, offline, read_token_status()))


class TokenWatch:
    """Everything the run showed or said: screen dumps, notifications, log records; none may hold a token."""

    def __init__(self, app: HfTuiApp, caplog: pytest.LogCaptureFixture) -> None:
        self.app, self.caplog = app, caplog
        self.dumps: list[str] = []

    def check(self) -> str:
        """Dump the screen now; assert no token appears anywhere seen so far; return the screen's text."""
        painted = "\n".join(strip.text for strip in self.app.screen._compositor.render_strips())
        text = screen_text(self.app)[0] + "\n" + painted
        self.dumps += [text, self.app.export_screenshot()]
        self.dumps += [f"{note.title} {note.message}" for note in self.app._notifications]
        for token in TOKENS:
            for dump in (*self.dumps, self.caplog.text):
                assert token not in dump
                assert token[-12:] not in dump  # not even a longer tail than the mask's four characters
        return text


async def open_account(pilot: Pilot) -> AccountScreen:
    await pilot.press("u")
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen)
    await wait_until(pilot, lambda: screen.state is not None)
    return screen


async def log_in(pilot: Pilot, screen: AccountScreen, token: str) -> None:
    """l, type the token into the password box, enter; wait for the Hub's answer."""
    before = screen.state
    await pilot.press("l")
    box = screen.query_one("#account-login-input", Input)
    assert box.has_focus and box.password
    await pilot.press(*token)
    assert token not in screen_text(pilot.app)[0]  # typed, yet shown as dots
    await pilot.press("enter")
    assert box.value == ""  # forgotten at once
    await wait_until(pilot, lambda: not screen.busy and screen.state is not before)
    await wait_until(pilot, lambda: screen.who is not None or screen.who_problem is not None)


async def test_log_in_see_whoami_switch_and_read_only(
    local_hub: LocalHub, hub_endpoint: str, token_files: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local_hub.add_token(SECOND_TOKEN, user=HUB_USER, orgs=(HUB_ORG,), name="laptop")
    local_hub.add_token(READ_TOKEN, user="reader", role="read", name="read-only")
    app = make_app(hub_endpoint, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = TokenWatch(app, caplog)
        screen = await open_account(pilot)
        assert "No token: press l to log in" in watch.check()

        await log_in(pilot, screen, HUB_TOKEN)
        text = watch.check()
        assert f"Hub user: {HUB_USER}" in text and f"Organisations: {HUB_ORG}" in text
        assert f'Token "{HUB_USER}-token": write' in text
        assert "****" + HUB_TOKEN[-4:] in text  # the token line and the status line show the mask
        assert app.token is not None and app.token.present and app.token.masked == "****" + HUB_TOKEN[-4:]
        assert (token_files / "token").read_text() == HUB_TOKEN

        await log_in(pilot, screen, SECOND_TOKEN)
        assert screen.state is not None and screen.state.active_name == "laptop"
        assert [(t.name, t.active) for t in screen.state.stored] == [("laptop", True), (f"{HUB_USER}-token", False)]
        text = watch.check()
        assert "● active" in text and "laptop" in text
        assert app.token.masked == "****" + SECOND_TOKEN[-4:]

        # Down to the other stored token, enter makes it active; the status line follows.
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: screen.state.active_name == f"{HUB_USER}-token" and screen.who is not None)
        assert app.token.masked == "****" + HUB_TOKEN[-4:]
        assert (token_files / "token").read_text() == HUB_TOKEN
        assert '"tester-token" is now the active token.' in watch.check()
        await pilot.press("s")  # already active: says so, changes nothing
        assert "already the active token" in watch.check()

        await log_in(pilot, screen, READ_TOKEN)
        text = watch.check()
        assert "READ-ONLY TOKEN" in text and 'Token "read-only": read-only' in text
        assert screen.who is not None and screen.who.read_only

        await log_in(pilot, screen, "hf_notAKnownTokenAtAll0000000000")
        assert screen.state.active_name == "read-only"  # a refused token changes nothing
        text = watch.check()
        assert "Login failed" in text and "hf_notAKnown" not in text
        watch.check()


async def test_offline_shows_what_the_files_say_and_asks_nothing(
    local_hub: LocalHub, hub_endpoint: str, token_files: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token_files.mkdir()
    (token_files / "token").write_text(HUB_TOKEN)
    app = make_app(hub_endpoint, tmp_path, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = TokenWatch(app, caplog)
        screen = await open_account(pilot)
        text = watch.check()
        assert "Token: ****" + HUB_TOKEN[-4:] in text and "the token file" in text
        assert "Offline: who this token belongs to is not asked" in text
        await pilot.press("l", *SECOND_TOKEN, "enter")
        assert "Logging in needs the Hub" in watch.check()
        assert screen.query_one("#account-login-input", Input).value == ""
    assert not any("whoami" in path for _method, path in local_hub.requests)


async def test_an_environment_token_is_said_to_override_the_stored_ones(
    local_hub: LocalHub,
    hub_endpoint: str,
    token_files: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    app = make_app(hub_endpoint, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = TokenWatch(app, caplog)
        screen = await open_account(pilot)
        await wait_until(pilot, lambda: screen.who is not None)
        text = watch.check()
        assert "the HF_TOKEN environment variable" in text and "HF_TOKEN is set in the environment" in text
        assert f"Hub user: {HUB_USER}" in text

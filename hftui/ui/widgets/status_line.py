"""The status line and offline banner shown at the top of every screen."""

from __future__ import annotations

from urllib.parse import urlparse

from textual.content import Content
from textual.widgets import Static

from hftui.hub.plain_text import printable
from hftui.hub.settings import TokenStatus
from hftui.ui.app_state import hub_app


def _endpoint_host(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    return parsed.netloc or endpoint


def _token_text(token: TokenStatus | None) -> str:
    if token is None:
        return "token: checking…"
    return ("token " if token.present else "") + token.label


class StatusLine(Static):
    """Online/offline, endpoint, token (masked) and compute device, in words, not colour alone."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def on_mount(self) -> None:
        for attribute in ("reachability", "device", "token"):
            self.watch(self.app, attribute, lambda _value: self.show_status(), init=False)
        self.show_status()

    def show_status(self) -> None:
        """Rebuild the line from the app's current state."""
        app = hub_app(self)
        settings = app.settings
        if settings.offline_forced:
            connection = Content.styled("○ OFFLINE (forced)", "bold $warning")
        elif app.reachability is None:
            connection = Content.styled("◌ checking Hub…", "$text-muted")
        elif app.reachability.online:
            connection = Content.styled("● ONLINE", "bold $success")
        else:
            connection = Content.styled("○ OFFLINE", "bold $error")
        device = app.device
        parts = [
            connection,
            Content(printable(_endpoint_host(settings.endpoint), single_line=True)),
            Content(_token_text(app.token)),
            Content(device.label if device else "device: detecting…"),
        ]
        self.update(Content(" │ ").join(parts))


class OfflineBanner(Static):
    """Says plainly that the session is offline, why, and how to retry."""

    DEFAULT_CSS = """
    OfflineBanner { height: auto; background: $warning-muted; color: $text; padding: 0 1; display: none; }
    OfflineBanner.-offline { display: block; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "reachability", lambda _value: self.show_state(), init=False)
        self.show_state()

    def show_state(self) -> None:
        """Show or hide the banner for the app's current connectivity."""
        app = hub_app(self)
        settings = app.settings
        reachability = app.reachability
        if settings.offline_forced:
            text = "OFFLINE MODE: the Hub is not contacted; showing what is in the local cache."
        elif reachability is not None and not reachability.online:
            text = (
                f"OFFLINE: {printable(reachability.endpoint, single_line=True)} is unreachable "
                f"({printable(reachability.detail, single_line=True)}). "
                "Showing the local cache; press ctrl+r to retry."
            )
        else:
            text = ""
        self.set_class(bool(text), "-offline")
        self.update(Content("⚠ " + text) if text else Content(""))

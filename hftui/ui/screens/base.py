"""The frame every top-level screen shares: status line, offline banner, body, footer."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from hftui.ui.widgets.status_line import OfflineBanner, StatusLine


class HubScreen(Screen[None]):
    """A top-level screen (one per app mode) with the shared status line and footer."""

    HELP_TITLE = "Screen"

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield OfflineBanner()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> Iterable[Widget]:
        """The screen's own widgets, between the banner and the footer."""
        return ()

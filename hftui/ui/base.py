"""The frame every top-level screen shares: status line, offline banner, body, footer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from hftui.ui.widgets.status_line import OfflineBanner, StatusLine

if TYPE_CHECKING:
    from textual.dom import DOMNode


class ReportsWorkerFailures:
    """For screens: a worker of the screen that raised goes to the app's one reporter (a notification).

    Worker state changes are posted to the worker's screen and do not bubble, so without this a screen's
    failures would pass unseen. A screen that shows a failure its own way calls `event.prevent_default()` in
    its handler, which keeps this one from running too.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            # A mixin of screens: `self` is the screen, whose app may be a bare App in a test.
            report = getattr(cast("DOMNode", self).app, "report_worker_failure", None)
            if report is not None:
                report(event)


class HubScreen(ReportsWorkerFailures, Screen[None]):
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

"""Paste or type text to analyse: one input per non-empty line; ctrl+s adds them, escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from hftui.ui.untrusted import plain


class PasteTextScreen(ModalScreen[str | None]):
    """A plain text box (no syntax highlighting); dismisses with its text, or None."""

    BINDINGS = [
        Binding("ctrl+s", "add", "Add", id="paste.add"),
        Binding("escape", "cancel", "Cancel", id="paste.cancel"),
    ]

    def __init__(self, title: str = "Paste or type text: one input per line") -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box"):
            yield Static(plain(self.title_text), classes="screen-heading")
            yield TextArea(id="paste-text", soft_wrap=True, show_line_numbers=False, compact=True)
            yield Static("ctrl+s adds the lines · escape cancels", classes="empty-state")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_add(self) -> None:
        """Close with the text."""
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        """Close without adding anything."""
        self.dismiss(None)

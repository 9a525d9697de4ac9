"""Ask for a path (or a model id): one line with path completion; enter answers, escape cancels."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput


class PathPromptScreen(ModalScreen[str | None]):
    """Dismisses with the text typed (stripped), or None on escape or when nothing was typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="path-prompt.cancel")]

    def __init__(self, title: str, value: str = "", *, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="path-prompt-box"):
            yield Static(plain(self.title_text), classes="screen-heading")
            yield PathInput(self.value, id="path-prompt-input")
            yield Static(plain(self.hint or "tab completes · enter accepts · escape cancels"), classes="empty-state")

    def on_mount(self) -> None:
        box = self.query_one(PathInput)
        box.focus()
        box.cursor_position = len(box.value)

    @on(Input.Submitted)
    def answer(self, event: Input.Submitted) -> None:
        """Close with the text typed."""
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)

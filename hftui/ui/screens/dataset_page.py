"""The dataset page: card, metadata, preview and files of one dataset."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from hftui.ui.untrusted import plain


class DatasetPageScreen(Screen[None]):
    """One dataset, in tabs; escape goes back."""

    HELP_TITLE = "Dataset page"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="dataset.back")]

    def __init__(self, repo_id: str) -> None:
        super().__init__()
        self.repo_id = repo_id

    def compose(self) -> ComposeResult:
        yield Static(plain(self.repo_id, single_line=True), id="dataset-title", classes="screen-heading")
        yield Static("Loading…", id="dataset-problems", classes="empty-state")
        yield Footer(compact=True)

"""A repo's card: its metadata as plain text and its Markdown body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static

from hftui.hub.cache import CachedRepo
from hftui.hub.cards.text import CardText, read_card
from hftui.hub.plain_text import printable
from hftui.humanize import human_size
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain


def _metadata_lines(card: CardText) -> list[str]:
    lines = []
    for key, value in card.metadata.items():
        if key == "model-index":
            continue  # shown as a table by the model page
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"{key}: {shown}")
    return lines


@dataclass
class CardRead(Message):
    """The card file was read and parsed."""

    card: CardText


class RepoCardScreen(ReportsWorkerFailures, Screen[None]):
    """Shows one cached repo's card; the card is read in a worker, it may be large."""

    HELP_TITLE = "Card"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="card.back")]

    def __init__(self, title: str, card_path: Path | None) -> None:
        super().__init__()
        self.card_title = title
        self.card_path = card_path

    @classmethod
    def for_cached_repo(cls, repo: CachedRepo) -> RepoCardScreen:
        """The card of a repo's newest cached snapshot."""
        title = f"{repo.repo_type}: {repo.repo_id}  ({human_size(repo.size_on_disk)}, {repo.nb_files} files)"
        return cls(title, repo.snapshot_path / "README.md" if repo.snapshot_path else None)

    def compose(self) -> ComposeResult:
        yield Static(plain(self.card_title, single_line=True), id="card-title", classes="screen-heading")
        with VerticalScroll(id="card-scroll"):
            yield Static("", id="card-problem")
            yield Static("Reading the card…", id="card-metadata")
            # Links in a card are untrusted: they are shown, never opened on a click.
            yield Markdown("", id="card-body", open_links=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load_card()

    @work(thread=True, exclusive=True, exit_on_error=False, group="card-read", description="Read card")
    def load_card(self) -> None:
        """Read the card off the event loop and post it to the screen."""
        path = self.card_path
        card = read_card(path) if path else CardText({}, "", "No snapshot of this repo is cached.")
        self.post_message(CardRead(card))

    @on(CardRead)
    def show_card(self, event: CardRead) -> None:
        """Put the parsed card on screen."""
        card = event.card
        problem = self.query_one("#card-problem", Static)
        problem.update(plain(f"⚠ {card.problem}") if card.problem else "")
        problem.display = bool(card.problem)
        lines = _metadata_lines(card)
        self.query_one("#card-metadata", Static).update(plain("\n".join(lines) or "(no metadata)"))
        self.query_one("#card-body", Markdown).update(printable(card.body))

    @on(Markdown.LinkClicked)
    def show_link(self, event: Markdown.LinkClicked) -> None:
        """Say where a card link points instead of opening it."""
        self.notify(printable(f"Link (not opened): {event.href}", single_line=True), markup=False)

"""What the model page and the dataset page share: the heading with the problems line, the card tab, tab keys,
and tables filled with plain-text cells."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Markdown, Static

from hftui.hub.cards.licenses import LicenseTerms
from hftui.hub.cards.text import CardText
from hftui.hub.errors import HubProblem
from hftui.hub.plain_text import printable
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain, plain_cell


def tab_bindings(prefix: str, tabs: Sequence[str]) -> list[Binding]:
    """Number keys 1… for the tabs, in order (hidden from the footer; the tab titles carry the numbers)."""
    return [
        Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False, id=f"{prefix}.tab.{tab}")
        for number, tab in enumerate(tabs, start=1)
    ]


def license_lines(terms: LicenseTerms, gated: str | None, repo_url: str) -> list[str]:
    """The licence in the user's words: what it allows and requires, and how to get access when gated."""
    lines = [
        f"{terms.name}  [{terms.license_id}]",
        f"Family: {terms.family}",
        "",
        f"Commercial use allowed?       {terms.commercial_use}",
        f"Attribution required?         {terms.attribution_required}",
        f"Modifications must be shared? {terms.share_modifications}",
        f"Use restrictions?             {terms.use_restrictions}",
        "",
        terms.summary,
    ]
    if terms.link:
        lines.append(f"Licence text: {terms.link}")
    if gated:
        lines += [
            "",
            f"Gated ({gated}): you must accept the author's conditions on the Hub before downloading.",
            f"Request access at: {repo_url}",
            "Then log in with a token of the account that was granted access (hf auth login).",
        ]
    return lines


class RepoPageScreen(ReportsWorkerFailures, Screen[None]):
    """A repo page: a heading, the problems line (what failed online, what the page is shown from), then tabs."""

    TITLE_ID: ClassVar[str]
    PROBLEMS_ID: ClassVar[str]
    CARD_PROBLEM_ID: ClassVar[str]
    CARD_ID: ClassVar[str]

    def __init__(self, repo_id: str) -> None:
        super().__init__()
        self.repo_id = repo_id

    def compose_heading(self) -> ComposeResult:
        yield Static(plain(self.repo_id, single_line=True), id=self.TITLE_ID, classes="screen-heading")
        yield Static("Loading…", id=self.PROBLEMS_ID, classes="empty-state")

    def compose_card(self) -> ComposeResult:
        """The card tab's content: the card's own problem, then its body as Markdown that never opens links."""
        with VerticalScroll():
            yield Static("", id=self.CARD_PROBLEM_ID)
            yield Markdown("", id=self.CARD_ID, open_links=False)

    def show_problems(
        self,
        online_problem: HubProblem | None,
        problems: Iterable[HubProblem | str],
        *,
        source: str,
        known: bool = True,
    ) -> None:
        """Why the Hub failed (and that the page shows what is known locally), then the page's own problems."""
        notes = [f"⚠ {online_problem.message}"] if online_problem else []
        if online_problem and known:
            notes.append(f"Showing what is known locally (from {source}).")
        notes += [f"⚠ {problem if isinstance(problem, str) else problem.message}" for problem in problems]
        shown = self.query_one(f"#{self.PROBLEMS_ID}", Static)
        shown.update(plain("\n".join(notes)))
        shown.display = bool(notes)

    def show_card(self, card: CardText) -> None:
        """The card body, and its parse problem above it when it has one."""
        card_problem = self.query_one(f"#{self.CARD_PROBLEM_ID}", Static)
        card_problem.update(plain(f"⚠ {card.problem}" if card.problem else ""))
        card_problem.display = bool(card.problem)
        self.query_one(f"#{self.CARD_ID}", Markdown).update(printable(card.body) or "*(empty card)*")

    def fill_table(self, selector: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> None:
        """Replace a table's columns and rows; every cell is plain text, a missing value shows as '-'."""
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.add_columns(*columns)
        for row in rows:
            table.add_row(*(plain_cell("-" if value is None else value) for value in row))

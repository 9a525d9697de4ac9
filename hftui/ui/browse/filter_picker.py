"""Pick a filter value for the model or dataset browser from lists that show how many repos each value has."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.index import RepoIndex
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain

ANY = "\x00any"


@dataclass
class FacetValuesCounted(Message):
    """The values of one facet were counted."""

    facet: str
    values: list[tuple[str, int]]


class FilterPickerScreen(ReportsWorkerFailures, ModalScreen[ModelQuery | DatasetQuery | None]):
    """First a facet, then its values with counts (from the local index); typing narrows the list.

    Works on a `ModelQuery` or a `DatasetQuery`, offering the query type's facets; the index counts whichever
    kind the query is."""

    BINDINGS = [Binding("escape", "back", "Back", id="filter.back")]

    def __init__(
        self,
        query: ModelQuery | DatasetQuery,
        index: RepoIndex,
        *,
        noun: str = "models",
    ) -> None:
        super().__init__()
        self.query_value = query
        self.index = index
        self.facets = type(query).facets()
        self.noun = noun
        self.facet: str | None = None
        self.values: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-box"):
            yield Static("Filter by", id="filter-title", classes="screen-heading")
            yield Input(placeholder="type to narrow, or a value to use as is", id="filter-input")
            yield OptionList(id="filter-options")

    def on_mount(self) -> None:
        self.show_facets()

    def show_facets(self) -> None:
        """The list of facets with their current values."""
        self.facet = None
        self.query_one("#filter-title", Static).update("Filter by (enter chooses, escape closes)")
        self.query_one("#filter-input", Input).display = False
        options = self.query_one("#filter-options", OptionList)
        options.clear_options()
        for key, label in self.facets:
            current = getattr(self.query_value, key)
            options.add_option(Option(plain(f"{label}: {current or 'any'}", single_line=True), id=key))
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#filter-options")
    def choose(self, event: OptionList.OptionSelected) -> None:
        """A facet opens its values; a value applies the filter."""
        option_id = event.option.id or ""
        if self.facet is None:
            self.facet = option_id
            label = dict(self.facets)[option_id]
            self.query_one("#filter-title", Static).update(f"{label}: counts among the {self.noun} in the local index")
            search = self.query_one("#filter-input", Input)
            search.display = True
            search.value = ""
            search.focus()
            self.load_values(option_id)
            return
        value = None if option_id == ANY else option_id
        self.dismiss(self.query_value.replace(**{self.facet: value}))

    @work(thread=True, exclusive=True, exit_on_error=False, group="facet-counts", description="Count values")
    def load_values(self, facet: str) -> None:
        """Count the facet's values off the event loop."""
        without_own = self.query_value.replace(**{facet: None})
        counts = self.index.facet_counts(facet, without_own, limit=200)
        self.post_message(FacetValuesCounted(facet, counts))

    @on(FacetValuesCounted)
    def keep_values(self, event: FacetValuesCounted) -> None:
        """Show the counted values if that facet is still the one open."""
        if event.facet == self.facet:
            self.values = event.values
            self.show_values(self.query_one("#filter-input", Input).value)

    @on(Input.Changed, "#filter-input")
    def narrow(self, event: Input.Changed) -> None:
        """Narrow the value list to what contains the typed text."""
        self.show_values(event.value)

    @on(Input.Submitted, "#filter-input")
    def use_typed(self, event: Input.Submitted) -> None:
        """Enter in the box picks the highlighted value, or the typed text when nothing matches."""
        options = self.query_one("#filter-options", OptionList)
        typed = event.value.strip().lower()
        matches = [value for value, _count in self.values if typed in value.lower()]
        if options.highlighted is not None and (matches or not typed):
            options.action_select()
        elif typed and self.facet:
            self.dismiss(self.query_value.replace(**{self.facet: event.value.strip()}))

    def show_values(self, typed: str) -> None:
        """Fill the list with `any` and the matching values, most common first."""
        options = self.query_one("#filter-options", OptionList)
        options.clear_options()
        options.add_option(Option("any (no filter)", id=ANY))
        needle = typed.strip().lower()
        for value, count in self.values:
            if needle in value.lower():
                options.add_option(Option(plain(f"{value}  ({count:,})", single_line=True), id=value))
        options.highlighted = 1 if needle and options.option_count > 1 else 0

    def action_back(self) -> None:
        """From values back to facets; from facets, close."""
        if self.facet is None:
            self.dismiss(None)
        else:
            self.show_facets()

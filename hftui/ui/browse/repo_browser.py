"""What the Models and Datasets browsers share: a search box, the filters line, a results table fed page by page
by a `RepoSearch` in a worker, the remembered query, and the keys that move between them.

A subclass names its widgets' ids, its query type, how to start its search (`new_search`) and how to show a
page (`show_records`); everything about when searches start, stale pages, failures, the spinner and paging
lives here once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from hftui.hub.catalog.query import DatasetQuery, ModelQuery
from hftui.hub.catalog.search import Query, Record, RepoPage, RepoSearch
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.index import RepoIndex
from hftui.preferences import read_screen_state, write_screen_state
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

if TYPE_CHECKING:
    from huggingface_hub import HfApi

SEARCH_DEBOUNCE_S = 0.3
LOAD_MORE_MARGIN = 5
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass
class RepoPageArrived(Message):
    """A page of results for search number `search_id` of the browser that posted it."""

    search_id: int
    page: RepoPage[Any]
    first: bool


@dataclass
class RepoSearchFailed(Message):
    """Search number `search_id` failed."""

    search_id: int
    problem: HubProblem


def next_in(options: tuple[Any, ...], current: object) -> Any:
    """The option after `current`, wrapping around (the first when `current` is not an option)."""
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


def browser_bindings(noun: str, *own: Binding) -> list[Binding]:
    """The keys every browser has, with ids under `noun` ("models.search", …, for keymaps), then the screen's own."""
    return [
        Binding("slash", "focus_search", "Search", id=f"{noun}.search"),
        Binding("escape", "focus_results", "Results", show=False, id=f"{noun}.results"),
        Binding("f", "pick_filter", "Filter", id=f"{noun}.filter"),
        Binding("s", "cycle_sort", "Sort", id=f"{noun}.sort"),
        *own,
        Binding("l", "toggle_cached", "Cached only", show=False, id=f"{noun}.cached"),
        Binding("x", "clear_filters", "Clear filters", show=False, id=f"{noun}.clear"),
    ]


class RepoBrowserScreen(HubScreen, Generic[Query, Record]):
    """A Hub repo browser; subclasses name their query type, noun and columns, and implement the two hooks.

    The widget ids and the remembered state's name follow from the noun: "models" gives `#model-search`,
    `#model-filters`, `#models-table`, `#models-message` and `models-browser`.
    """

    QUERY_TYPE: ClassVar[type[ModelQuery] | type[DatasetQuery]]  # the class of Query
    NOUN: ClassVar[str]  # "models", "datasets": in ids, placeholders, messages and the worker's description
    COLUMNS: ClassVar[tuple[Any, ...]]
    STATE_NAME: ClassVar[str]
    SEARCH_ID: ClassVar[str]
    FILTERS_ID: ClassVar[str]
    TABLE_ID: ClassVar[str]
    MESSAGE_ID: ClassVar[str]
    SORTS: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        singular = cls.NOUN.removesuffix("s")
        cls.STATE_NAME = f"{cls.NOUN}-browser"
        cls.SEARCH_ID, cls.FILTERS_ID = f"{singular}-search", f"{singular}-filters"
        cls.TABLE_ID, cls.MESSAGE_ID = f"{cls.NOUN}-table", f"{cls.NOUN}-message"
        cls.SORTS = tuple(cls.QUERY_TYPE.SORTS)

    def __init__(self) -> None:
        super().__init__()
        self.saved_state = read_screen_state(self.STATE_NAME)
        last = self.saved_state.get("last")
        query = self.QUERY_TYPE.from_dict(last) if isinstance(last, dict) else self.QUERY_TYPE()
        self.query_value: Query = cast("Query", query)
        self.search: RepoSearch[Query, Record] | None = None
        self.search_ids = itertools.count(1)
        self.search_id = 0
        self.loading = False
        self.loading_since = 0.0
        self.has_more = False
        self.source = ""
        self.total: int | None = None
        self.records: list[Any] = []
        self.message = ""
        self._debounce: Timer | None = None
        self._spinner: Timer | None = None
        self._spin = itertools.cycle(SPINNER)

    # Hooks.

    def new_search(self, query: Query, index: RepoIndex, api: HfApi | None) -> RepoSearch[Query, Record]:
        """The paged search for `query` (ModelSearch, DatasetSearch)."""
        raise NotImplementedError

    def show_records(self, records: Iterable[Record], *, first: bool) -> None:
        """Put a page's records in the table: the first page replaces the search's rows, later ones append."""
        raise NotImplementedError

    def state_to_save(self) -> dict[str, Any]:
        """What `set_query` remembers between sessions (subclasses add to it, e.g. presets)."""
        return {"last": self.query_value.to_dict()}

    def status_suffix(self) -> str:
        """Extra words for the end of the filters line."""
        return ""

    # Layout.

    def compose_body(self) -> Iterable[Widget]:
        placeholder = f"/ search {self.NOUN}"
        yield Input(value=self.query_value.text, placeholder=placeholder, id=self.SEARCH_ID, compact=True)
        yield Static("", id=self.FILTERS_ID)
        yield RepoTable(id=self.TABLE_ID)
        yield Static("", id=self.MESSAGE_ID, classes="empty-state")

    def on_mount(self) -> None:
        self.results_table.show_rows(self.COLUMNS, [])
        self.watch(self.app, "index_generation", self._index_changed)
        self.watch(self.app, "reachability", lambda _value: self._connectivity_changed())
        self._spinner = self.set_interval(0.1, self.show_filters, pause=True)
        self.results_table.focus()

    @property
    def results_table(self) -> RepoTable:
        """The results table."""
        return self.query_one(f"#{self.TABLE_ID}", RepoTable)

    # Starting searches.

    def _index_changed(self, generation: int) -> None:
        if generation == 0:
            return
        if self.search is None or not self.search.online:
            self.start_search()  # offline results come from the index, which just changed

    def _connectivity_changed(self) -> None:
        if hub_app(self).model_index is not None:
            self.start_search()

    def set_query(self, query: Query) -> None:
        """Make `query` current, remember it, and search."""
        self.query_value = query
        try:
            write_screen_state(self.STATE_NAME, self.state_to_save())
        except OSError as error:
            self.notify(f"Could not remember the filters: {error}", severity="warning", markup=False)
        self.start_search()

    def start_search(self) -> None:
        """Start a new search for the current query; results of older searches are ignored."""
        index = hub_app(self).model_index
        if index is None:
            self.message = "Opening the local index…"
            self.show_filters()
            return
        self.search = self.new_search(self.query_value, index, hub_app(self).hub_api())
        self.search_id = next(self.search_ids)
        self.has_more = False
        self._fetch(first=True)

    def _fetch(self, *, first: bool) -> None:
        if self.search is None:
            return
        self.loading = True
        self.loading_since = time.monotonic()
        self.message = ""
        if self._spinner is not None:
            self._spinner.resume()
        search, search_id = self.search, self.search_id
        self.run_worker(
            lambda: self._fetch_page(search, search_id, first),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group=f"{self.NOUN}-search",
            description=f"Search {self.NOUN}",
        )

    def _fetch_page(self, search: RepoSearch[Query, Record], search_id: int, first: bool) -> None:
        """Fetch one page (in a thread worker); failures become a message, never an exception."""
        try:
            page = search.next_page()
        except Exception as error:
            endpoint = getattr(search.api, "endpoint", None)
            self.post_message(RepoSearchFailed(search_id, explain_hub_error(error, endpoint=endpoint)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(RepoPageArrived(search_id, page, first))

    # Results.

    @on(RepoPageArrived)
    def show_page(self, event: RepoPageArrived) -> None:
        """Show a page of the current search; pages of older searches are dropped."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        page = event.page
        self.has_more = page.has_more
        self.source = page.source
        self.total = page.total
        if event.first:
            self.records = []
        self.records.extend(page.records)
        self.show_records(page.records, first=event.first)
        if not self.records:
            hint = f" Try `hftui sync {self.NOUN}` while online." if page.source == "index" else ""
            self.message = f"No {self.NOUN} match {self.query_value.describe()}.{hint}"
        self.show_filters()

    @on(RepoSearchFailed)
    def show_failure(self, event: RepoSearchFailed) -> None:
        """Keep the last good results and say what went wrong."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        self.message = f"⚠ {event.problem.message}"
        if self.records:
            self.message += " The results below are from the last successful search."
        self.show_filters()

    def _stop_loading(self) -> None:
        self.loading = False
        if self._spinner is not None:
            self._spinner.pause()

    def show_filters(self) -> None:
        """The filters line (query, where results come from, how many, searching…) and the message."""
        where = {"hub": "Hub", "index": "local index"}.get(self.source, "")
        count = f"{self.total:,} in the {where}" if self.total is not None else f"{len(self.records)} from the {where}"
        waited = time.monotonic() - self.loading_since
        # The client retries slow or rate-limited requests on its own; say so rather than look stuck.
        slow = f" {waited:.0f} s, the Hub is slow or rate-limiting" if waited > 3 else ""
        state = f"{next(self._spin)} searching…{slow}" if self.loading else (count if where else "")
        more = " (more below)" if self.has_more and not self.loading else ""
        line = f"{self.query_value.describe()} │ {state}{more}{self.status_suffix()}"
        self.query_one(f"#{self.FILTERS_ID}", Static).update(plain(line))
        self.query_one(f"#{self.MESSAGE_ID}", Static).update(plain(self.message))

    @on(DataTable.RowHighlighted)
    def load_more(self, event: DataTable.RowHighlighted) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        if event.data_table.id != self.TABLE_ID:
            return
        if self.has_more and not self.loading and event.cursor_row >= event.data_table.row_count - LOAD_MORE_MARGIN:
            self._fetch(first=False)

    # Search box.

    @on(Input.Changed)
    def search_as_typed(self, event: Input.Changed) -> None:
        """Search shortly after typing pauses."""
        if event.input.id != self.SEARCH_ID:
            return
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value.strip()
        if text != self.query_value.text:
            self._debounce = self.set_timer(
                SEARCH_DEBOUNCE_S, lambda: self.set_query(self.query_value.replace(text=text))
            )

    @on(Input.Submitted)
    def back_to_results(self, event: Input.Submitted) -> None:
        """Enter in the search box moves to the results."""
        if event.input.id == self.SEARCH_ID:
            self.results_table.focus()

    def action_focus_results(self) -> None:
        """Escape from the search box returns to the results."""
        self.results_table.focus()

    def action_focus_search(self) -> None:
        """Move to the search box."""
        # Focus now, not after the next key: a fast typist's first letter must land in the box.
        self.set_focus(self.query_one(f"#{self.SEARCH_ID}", Input))

    def action_cycle_sort(self) -> None:
        """Next sort order."""
        self.set_query(self.query_value.replace(sort=next_in(self.SORTS, self.query_value.sort)))

    def action_toggle_cached(self) -> None:
        """Only repos in the local cache, or all."""
        self.set_query(self.query_value.replace(cached_only=not self.query_value.cached_only))

    def action_pick_filter(self) -> None:
        """Choose a value of one of the query's facets from lists with counts from the local index."""
        from hftui.ui.browse.filter_picker import FilterPickerScreen

        index = hub_app(self).model_index
        if index is None:
            return

        def chosen(query: ModelQuery | DatasetQuery | None) -> None:
            if isinstance(query, self.QUERY_TYPE) and query != self.query_value:
                self.set_query(cast("Query", query))

        self.app.push_screen(FilterPickerScreen(self.query_value, index, noun=self.NOUN), chosen)

    def action_clear_filters(self) -> None:
        """Back to no filters (the search text and sort stay)."""
        self.set_query(cast("Query", self.QUERY_TYPE(text=self.query_value.text, sort=self.query_value.sort)))

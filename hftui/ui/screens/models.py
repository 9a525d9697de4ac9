"""Models: search, filter and sort models on the Hub, or in the local index when offline."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.fit import fit_label, memory_fits
from hftui.hub.index import ModelRecord
from hftui.hub.licenses import license_terms
from hftui.hub.models import ModelPage, ModelSearch
from hftui.hub.query import SORTS, ModelQuery
from hftui.humanize import human_count, relative_time
from hftui.preferences import read_screen_state, write_screen_state
from hftui.ui.screens.base import HubScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = (
    ("Model", 28),
    ("Task", 16),
    "Licence",
    "Cached",
    "Params",
    "Fits",
    "Downloads",
    "Likes",
    "Updated",
    ("Library", 14),
)
PARAMETER_LIMITS = (None, 1_000_000_000, 3_000_000_000, 8_000_000_000, 15_000_000_000)
SEARCH_DEBOUNCE_S = 0.3
LOAD_MORE_MARGIN = 5
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATE_NAME = "models-browser"


@dataclass
class ModelPageArrived(Message):
    """A page of results for search number `search_id`."""

    search_id: int
    page: ModelPage
    first: bool


@dataclass
class ModelSearchFailed(Message):
    """Search number `search_id` failed."""

    search_id: int
    problem: HubProblem


def _next_in(options: tuple, current: object) -> object:
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


class ModelsScreen(HubScreen):
    """The model browser: a search box, the filters in force, and the results table."""

    HELP_TITLE = "Models"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="models.search"),
        Binding("escape", "focus_results", "Results", show=False, id="models.results"),
        Binding("f", "pick_filter", "Filter", id="models.filter"),
        Binding("s", "cycle_sort", "Sort", id="models.sort"),
        Binding("p", "cycle_parameters", "Params ≤", show=False, id="models.params"),
        Binding("g", "cycle_gated", "Gated", show=False, id="models.gated"),
        Binding("l", "toggle_cached", "Cached only", show=False, id="models.cached"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="models.clear"),
        *(
            Binding(str(slot), f"recall_preset({slot})", f"Preset {slot}", show=False, id=f"models.preset{slot}")
            for slot in range(1, 5)
        ),
        *(
            Binding(key, f"save_preset({slot})", f"Save preset {slot}", show=False, id=f"models.save{slot}")
            for slot, key in enumerate(("exclamation_mark", "at", "number_sign", "dollar_sign"), start=1)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        state = read_screen_state(STATE_NAME)
        last = state.get("last")
        self.query_value = ModelQuery.from_dict(last) if isinstance(last, dict) else ModelQuery()
        presets = state.get("presets")
        self.presets: dict[str, dict] = presets if isinstance(presets, dict) else {}
        self.search: ModelSearch | None = None
        self.search_ids = itertools.count(1)
        self.search_id = 0
        self.loading = False
        self.loading_since = 0.0
        self.has_more = False
        self.source = ""
        self.total: int | None = None
        self.records: list[ModelRecord] = []
        self.message = ""
        self._debounce: Timer | None = None
        self._spinner: Timer | None = None
        self._spin = itertools.cycle(SPINNER)

    def compose_body(self) -> Iterable[Widget]:
        yield Input(value=self.query_value.text, placeholder="/ search models", id="model-search", compact=True)
        yield Static("", id="model-filters")
        yield RepoTable(id="models-table")
        yield Static("", id="models-message", classes="empty-state")

    def on_mount(self) -> None:
        self.query_one("#models-table", RepoTable).show_rows(COLUMNS, [])
        self.watch(self.app, "index_generation", self._index_changed)
        self.watch(self.app, "reachability", lambda _value: self._connectivity_changed())
        self._spinner = self.set_interval(0.1, self._show_filters, pause=True)
        self.query_one("#models-table").focus()

    # Starting searches.

    def _index_changed(self, generation: int) -> None:
        if generation == 0:
            return
        if self.search is None or not self.search.online:
            self.start_search()  # offline results come from the index, which just changed

    def _connectivity_changed(self) -> None:
        if self.app.model_index is not None:  # type: ignore[attr-defined]
            self.start_search()

    def set_query(self, query: ModelQuery) -> None:
        """Make `query` current, remember it, and search."""
        self.query_value = query
        try:
            write_screen_state(STATE_NAME, {"last": query.to_dict(), "presets": self.presets})
        except OSError as error:
            self.notify(f"Could not remember the filters: {error}", severity="warning", markup=False)
        self.start_search()

    def start_search(self) -> None:
        """Start a new search for the current query; results of older searches are ignored."""
        index = self.app.model_index  # type: ignore[attr-defined]
        if index is None:
            self.message = "Opening the local index…"
            self._show_filters()
            return
        self.search = ModelSearch(self.query_value, index=index, api=self.app.hub_api())  # type: ignore[attr-defined]
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
        self.fetch_page(self.search, self.search_id, first)

    @work(thread=True, exclusive=True, exit_on_error=False, group="model-search", description="Search models")
    def fetch_page(self, search: ModelSearch, search_id: int, first: bool) -> None:
        """Fetch one page off the event loop; failures become a message, never an exception."""
        try:
            page = search.next_page()
        except Exception as error:
            endpoint = getattr(search.api, "endpoint", None)
            self.post_message(ModelSearchFailed(search_id, explain_hub_error(error, endpoint=endpoint)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ModelPageArrived(search_id, page, first))

    # Results.

    @on(ModelPageArrived)
    def show_page(self, event: ModelPageArrived) -> None:
        """Show a page: the first replaces the table, later ones are appended."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        page = event.page
        self.has_more = page.has_more
        self.source = page.source
        self.total = page.total
        table = self.query_one("#models-table", RepoTable)
        if event.first:
            self.records = []
            table.show_rows(COLUMNS, [])
        self.records.extend(page.records)
        for record in page.records:
            if record.repo_id not in table.rows:
                table.add_row(*self._cells(record), key=record.repo_id)
        if not self.records:
            hint = " Try `hftui sync models` while online." if page.source == "index" else ""
            self.message = f"No models match {self.query_value.describe()}.{hint}"
        self._show_filters()

    @on(ModelSearchFailed)
    def show_failure(self, event: ModelSearchFailed) -> None:
        """Keep the last good results and say what went wrong."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        self.message = f"⚠ {event.problem.message}"
        if self.records:
            self.message += " The results below are from the last successful search."
        self._show_filters()

    def _stop_loading(self) -> None:
        self.loading = False
        if self._spinner is not None:
            self._spinner.pause()

    def _cells(self, record: ModelRecord) -> list:
        from hftui.ui.untrusted import plain_cell

        fits = fit_label(memory_fits(record.parameters, self.app.device))  # type: ignore[attr-defined]
        values = (
            record.repo_id,
            record.pipeline_tag or "-",
            license_terms(record.license).badge,
            record.cache_state,
            human_count(record.parameters) if record.parameters else "?",
            fits,
            human_count(record.downloads),
            human_count(record.likes),
            relative_time(record.last_modified),
            record.library_name or "-",
        )
        return [plain_cell(value) for value in values]

    def _show_filters(self) -> None:
        where = {"hub": "Hub", "index": "local index"}.get(self.source, "")
        count = f"{self.total:,} in the {where}" if self.total is not None else f"{len(self.records)} from the {where}"
        waited = time.monotonic() - self.loading_since
        # The client retries slow or rate-limited requests on its own; say so rather than look stuck.
        slow = f" {waited:.0f} s, the Hub is slow or rate-limiting" if waited > 3 else ""
        state = f"{next(self._spin)} searching…{slow}" if self.loading else (count if where else "")
        more = " (more below)" if self.has_more and not self.loading else ""
        line = f"{self.query_value.describe()} │ {state}{more}"
        self.query_one("#model-filters", Static).update(plain(line))
        self.query_one("#models-message", Static).update(plain(self.message))

    @on(DataTable.RowHighlighted, "#models-table")
    def load_more(self, event: DataTable.RowHighlighted) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        if self.has_more and not self.loading and event.cursor_row >= event.data_table.row_count - LOAD_MORE_MARGIN:
            self._fetch(first=False)

    @on(DataTable.RowSelected, "#models-table")
    def open_model(self, event: DataTable.RowSelected) -> None:
        """Open the model page."""
        from hftui.ui.screens.model_page import ModelPageScreen

        if event.row_key.value is not None:
            self.app.push_screen(ModelPageScreen(str(event.row_key.value)))

    # Search box.

    @on(Input.Changed, "#model-search")
    def search_as_typed(self, event: Input.Changed) -> None:
        """Search shortly after typing pauses."""
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value.strip()
        if text != self.query_value.text:
            self._debounce = self.set_timer(
                SEARCH_DEBOUNCE_S, lambda: self.set_query(self.query_value.replace(text=text))
            )

    @on(Input.Submitted, "#model-search")
    def back_to_results(self) -> None:
        """Enter in the search box moves to the results."""
        self.query_one("#models-table").focus()

    def action_focus_results(self) -> None:
        """Escape from the search box returns to the results."""
        self.query_one("#models-table").focus()

    # Actions.

    def action_focus_search(self) -> None:
        """Move to the search box."""
        # Focus now, not after the next key: a fast typist's first letter must land in the box.
        self.set_focus(self.query_one("#model-search", Input))

    def action_pick_filter(self) -> None:
        """Choose a task, library, language, licence or author from lists with counts."""
        from hftui.ui.screens.filter_picker import FilterPickerScreen

        index = self.app.model_index  # type: ignore[attr-defined]
        if index is None:
            return

        def chosen(query: ModelQuery | None) -> None:
            if query is not None and query != self.query_value:
                self.set_query(query)

        self.app.push_screen(FilterPickerScreen(self.query_value, index), chosen)

    def action_cycle_sort(self) -> None:
        """Next sort order."""
        self.set_query(self.query_value.replace(sort=_next_in(tuple(SORTS), self.query_value.sort)))

    def action_cycle_parameters(self) -> None:
        """Next parameter-count limit: any, ≤1B, ≤3B, ≤8B, ≤15B."""
        limit = _next_in(PARAMETER_LIMITS, self.query_value.max_parameters)
        self.set_query(self.query_value.replace(max_parameters=limit))

    def action_cycle_gated(self) -> None:
        """Next gated filter: either, not gated, gated only."""
        self.set_query(self.query_value.replace(gated=_next_in((None, False, True), self.query_value.gated)))

    def action_toggle_cached(self) -> None:
        """Only models in the local cache, or all."""
        self.set_query(self.query_value.replace(cached_only=not self.query_value.cached_only))

    def action_clear_filters(self) -> None:
        """Back to no filters (the search text and sort stay)."""
        query = ModelQuery(text=self.query_value.text, sort=self.query_value.sort)
        self.set_query(query)

    def action_recall_preset(self, slot: int) -> None:
        """Apply saved preset `slot`."""
        saved = self.presets.get(str(slot))
        if not isinstance(saved, dict):
            self.notify(f"Preset {slot} is empty: save the current filters with shift+{slot}.", markup=False)
            return
        query = ModelQuery.from_dict(saved)
        self.query_one("#model-search", Input).value = query.text
        self.set_query(query)

    def action_save_preset(self, slot: int) -> None:
        """Save the current filters as preset `slot`."""
        self.presets[str(slot)] = self.query_value.to_dict()
        self.set_query(self.query_value)
        self.notify(f"Preset {slot}: {self.query_value.describe()}", markup=False)

"""Datasets: search, filter and sort Hub datasets (the Hub online, the local index offline), plus local folders."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from hftui.data.local import LocalDataset, find_local_datasets
from hftui.hub.cache import CachedRepo, CacheScan
from hftui.hub.datasets import DatasetPage, DatasetSearch
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.index import DatasetRecord
from hftui.hub.licenses import license_terms
from hftui.hub.query import DATASET_SORTS, DatasetQuery
from hftui.humanize import human_count, human_size, relative_time
from hftui.paths import demo_datasets_dir
from hftui.preferences import read_screen_state, write_screen_state
from hftui.ui.screens.base import HubScreen
from hftui.ui.screens.repo_card import RepoCardScreen
from hftui.ui.untrusted import plain, plain_cell
from hftui.ui.widgets.repo_table import RepoTable

# Licence and cache state early, as on the Models screen, so 80 columns show them.
COLUMNS = (
    ("Dataset", 26),
    ("Tasks", 16),
    "Licence",
    "Cached",
    ("Modality", 12),
    ("Size", 10),
    "Downloads",
    "Likes",
    "Updated",
)
SEARCH_DEBOUNCE_S = 0.3
LOAD_MORE_MARGIN = 5
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATE_NAME = "datasets-browser"
HUB_KEY, LOCAL_KEY = "hub:", "local:"
# What a local folder holds, by the datasets builder that reads it (see hftui.data.local.DATA_FORMATS).
_LOCAL_MODALITIES = {"imagefolder": "image", "audiofolder": "audio"}


@dataclass
class LocalDatasetsFound(Message):
    """The local dataset folders were listed."""

    datasets: tuple[LocalDataset, ...]


@dataclass
class DatasetPageArrived(Message):
    """A page of results for dataset search number `search_id`."""

    search_id: int
    page: DatasetPage
    first: bool


@dataclass
class DatasetSearchFailed(Message):
    """Dataset search number `search_id` failed."""

    search_id: int
    problem: HubProblem


def _next_in(options: tuple[str, ...], current: str) -> str:
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


def _local_cells(local: LocalDataset) -> tuple[object, ...]:
    modalities = sorted({_LOCAL_MODALITIES.get(fmt, "text") for fmt in local.formats})
    return (
        local.name,
        ", ".join(local.formats) or "-",
        local.license or "none",  # as the folder's card writes it: local folders are not in the catalogue
        "local",
        ", ".join(modalities) or "-",
        human_size(local.size_on_disk),
        "-",
        "-",
        relative_time(local.last_modified),
    )


def _hub_cells(record: DatasetRecord) -> tuple[object, ...]:
    return (
        record.repo_id,
        ", ".join(record.task_categories) or "-",
        license_terms(record.license).badge,
        record.cache_state,
        ", ".join(record.modalities) or "-",
        ", ".join(record.size_categories) or "-",
        human_count(record.downloads),
        human_count(record.likes),
        relative_time(record.last_modified),
    )


class DatasetsScreen(HubScreen):
    """The dataset browser: a search box, the filters in force, local folders and the Hub's (or index's) datasets."""

    HELP_TITLE = "Datasets"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="datasets.search"),
        Binding("escape", "focus_results", "Results", show=False, id="datasets.results"),
        Binding("f", "pick_filter", "Filter", id="datasets.filter"),
        Binding("s", "cycle_sort", "Sort", id="datasets.sort"),
        Binding("l", "toggle_cached", "Cached only", show=False, id="datasets.cached"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="datasets.clear"),
        Binding("i", "show_card", "Card", id="datasets.card"),
        Binding("C", "convert", "Convert files", id="datasets.convert"),
    ]

    def __init__(self) -> None:
        super().__init__()
        last = read_screen_state(STATE_NAME).get("last")
        self.query_value = DatasetQuery.from_dict(last) if isinstance(last, dict) else DatasetQuery()
        self.local_datasets: tuple[LocalDataset, ...] = ()
        self.search: DatasetSearch | None = None
        self.search_ids = itertools.count(1)
        self.search_id = 0
        self.loading = False
        self.loading_since = 0.0
        self.has_more = False
        self.source = ""
        self.total: int | None = None
        self.records: list[DatasetRecord] = []
        self.message = ""
        self._debounce: Timer | None = None
        self._spinner: Timer | None = None
        self._spin = itertools.cycle(SPINNER)

    def compose_body(self) -> Iterable[Widget]:
        yield Input(value=self.query_value.text, placeholder="/ search datasets", id="dataset-search", compact=True)
        yield Static("", id="dataset-filters")
        yield RepoTable(id="datasets-table")
        yield Static("", id="datasets-message", classes="empty-state")

    def on_mount(self) -> None:
        self.query_one("#datasets-table", RepoTable).show_rows(COLUMNS, [])
        self.watch(self.app, "index_generation", self._index_changed)
        self.watch(self.app, "reachability", lambda _value: self._connectivity_changed())
        self._spinner = self.set_interval(0.1, self._show_filters, pause=True)
        self.query_one("#datasets-table").focus()
        self.find_local()

    # Local folders.

    @work(thread=True, exclusive=True, exit_on_error=False, group="local-datasets", description="Find local datasets")
    def find_local(self) -> None:
        """Look for local dataset folders off the event loop."""
        self.post_message(LocalDatasetsFound(find_local_datasets(demo_datasets_dir())))

    @on(LocalDatasetsFound)
    def keep_local(self, event: LocalDatasetsFound) -> None:
        """Remember the local folders and show them above the Hub's datasets."""
        self.local_datasets = event.datasets
        self._rebuild_table()
        self._show_filters()

    def _shown_local(self) -> list[LocalDataset]:
        """Local folders have no Hub facets: they show while only text (matched in the name) narrows."""
        query = self.query_value
        if any(getattr(query, name) for name in DatasetQuery.TEXT_FIELDS):
            return []
        needle = query.text.strip().lower()
        return [local for local in self.local_datasets if needle in local.name.lower()]

    # Starting searches.

    def _index_changed(self, generation: int) -> None:
        if generation == 0:
            return
        if self.search is None or not self.search.online:
            self.start_search()  # offline results come from the index, which just changed

    def _connectivity_changed(self) -> None:
        if self.app.model_index is not None:  # type: ignore[attr-defined]
            self.start_search()

    def set_query(self, query: DatasetQuery) -> None:
        """Make `query` current, remember it, and search."""
        self.query_value = query
        try:
            write_screen_state(STATE_NAME, {"last": query.to_dict()})
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
        self.search = DatasetSearch(self.query_value, index=index, api=self.app.hub_api())  # type: ignore[attr-defined]
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset-search", description="Search datasets")
    def fetch_page(self, search: DatasetSearch, search_id: int, first: bool) -> None:
        """Fetch one page off the event loop; failures become a message, never an exception."""
        try:
            page = search.next_page()
        except Exception as error:
            endpoint = getattr(search.api, "endpoint", None)
            self.post_message(DatasetSearchFailed(search_id, explain_hub_error(error, endpoint=endpoint)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(DatasetPageArrived(search_id, page, first))

    # Results.

    @on(DatasetPageArrived)
    def show_page(self, event: DatasetPageArrived) -> None:
        """Show a page: the first replaces the Hub rows, later ones are appended."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        page = event.page
        self.has_more = page.has_more
        self.source = page.source
        self.total = page.total
        if event.first:
            self.records = list(page.records)
            self._rebuild_table()
        else:
            self.records.extend(page.records)
            table = self.query_one("#datasets-table", RepoTable)
            for record in page.records:
                if HUB_KEY + record.repo_id not in table.rows:
                    table.add_row(*(plain_cell(cell) for cell in _hub_cells(record)), key=HUB_KEY + record.repo_id)
        if not self.records:
            hint = " Try `hftui sync datasets` while online." if page.source == "index" else ""
            self.message = f"No Hub datasets match {self.query_value.describe()}.{hint}"
        self._show_filters()

    @on(DatasetSearchFailed)
    def show_failure(self, event: DatasetSearchFailed) -> None:
        """Keep the last good results and say what went wrong."""
        if event.search_id != self.search_id:
            return
        self._stop_loading()
        self.message = f"⚠ {event.problem.message}"
        if self.records:
            self.message += " The results below are from the last successful search."
        self._show_filters()

    def _rebuild_table(self) -> None:
        rows = [(LOCAL_KEY + str(local.path), _local_cells(local)) for local in self._shown_local()]
        seen: set[str] = set()
        for record in self.records:
            if record.repo_id not in seen:
                seen.add(record.repo_id)
                rows.append((HUB_KEY + record.repo_id, _hub_cells(record)))
        self.query_one("#datasets-table", RepoTable).show_rows(COLUMNS, rows)

    def _stop_loading(self) -> None:
        self.loading = False
        if self._spinner is not None:
            self._spinner.pause()

    def _show_filters(self) -> None:
        where = {"hub": "Hub", "index": "local index"}.get(self.source, "")
        count = f"{self.total:,} in the {where}" if self.total is not None else f"{len(self.records)} from the {where}"
        waited = time.monotonic() - self.loading_since
        # The client retries slow or rate-limited requests on its own; say so rather than look stuck.
        slow = f" {waited:.0f} s, the Hub is slow or rate-limiting" if waited > 3 else ""
        state = f"{next(self._spin)} searching…{slow}" if self.loading else (count if where else "")
        more = " (more below)" if self.has_more and not self.loading else ""
        local = len(self._shown_local())
        local_note = f" · {local} local folder{'s' if local != 1 else ''}" if local else ""
        line = f"{self.query_value.describe()} │ {state}{more}{local_note}"
        self.query_one("#dataset-filters", Static).update(plain(line))
        self.query_one("#datasets-message", Static).update(plain(self.message))

    @on(DataTable.RowHighlighted, "#datasets-table")
    def load_more(self, event: DataTable.RowHighlighted) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        if self.has_more and not self.loading and event.cursor_row >= event.data_table.row_count - LOAD_MORE_MARGIN:
            self._fetch(first=False)

    def _selected_key(self) -> str | None:
        table = self.query_one("#datasets-table", RepoTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _local(self, key: str) -> LocalDataset | None:
        return next((local for local in self.local_datasets if LOCAL_KEY + str(local.path) == key), None)

    @on(DataTable.RowSelected, "#datasets-table")
    def open_dataset(self) -> None:
        """A Hub dataset opens its page; a local folder opens a streamed preview of its files."""
        key = self._selected_key()
        if key is None:
            return
        if key.startswith(HUB_KEY):
            from hftui.ui.screens.dataset_page import DatasetPageScreen

            self.app.push_screen(DatasetPageScreen(key.removeprefix(HUB_KEY)))
        elif (local := self._local(key)) is not None:
            from hftui.data.sampler import SampleSource
            from hftui.ui.screens.dataset_preview import DatasetPreviewScreen

            title = f"local dataset: {local.name}  ({human_size(local.size_on_disk)}, {local.path})"
            self.app.push_screen(DatasetPreviewScreen(SampleSource("local", str(local.path)), title=title))

    def _card_of(self, key: str) -> tuple[str, Path | None] | None:
        """(title, card path) of a row: a local folder's README, else the cached snapshot's, if any."""
        if (local := self._local(key)) is not None:
            return f"local dataset: {local.name}  ({human_size(local.size_on_disk)}, {local.path})", local.card_path
        if not key.startswith(HUB_KEY):
            return None
        repo = self._cached_repo(key)
        if repo is not None:
            title = f"dataset: {repo.repo_id}  ({human_size(repo.size_on_disk)}, cached)"
            return title, repo.snapshot_path / "README.md" if repo.snapshot_path else None
        return f"dataset: {key.removeprefix(HUB_KEY)}", None

    def _cached_repo(self, key: str) -> CachedRepo | None:
        """The HF cache's entry for a Hub row's dataset, if it is cached."""
        scan: CacheScan | None = self.app.cache_scan  # type: ignore[attr-defined]
        if not key.startswith(HUB_KEY) or scan is None:
            return None
        return next((repo for repo in scan.of_type("dataset") if repo.repo_id == key.removeprefix(HUB_KEY)), None)

    def action_show_card(self) -> None:
        """Open the selected dataset's card (local folders and cached datasets)."""
        key = self._selected_key()
        card = self._card_of(key) if key else None
        if card is not None:
            self.app.push_screen(RepoCardScreen(*card))

    def action_convert(self) -> None:
        """Open the format converter, starting with the data files of the highlighted local folder or cached
        dataset (their snapshot in the HF cache)."""
        from hftui.ui.screens.convert import ConvertScreen

        key = self._selected_key() or ""
        cached = self._cached_repo(key)
        folder = local.path if (local := self._local(key)) is not None else cached.snapshot_path if cached else None
        self.app.push_screen(ConvertScreen((folder,) if folder is not None else ()))

    # Search box.

    @on(Input.Changed, "#dataset-search")
    def search_as_typed(self, event: Input.Changed) -> None:
        """Search shortly after typing pauses."""
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value.strip()
        if text != self.query_value.text:
            self._debounce = self.set_timer(
                SEARCH_DEBOUNCE_S, lambda: self.set_query(self.query_value.replace(text=text))
            )

    @on(Input.Submitted, "#dataset-search")
    def back_to_results(self) -> None:
        """Enter in the search box moves to the results."""
        self.query_one("#datasets-table").focus()

    def action_focus_results(self) -> None:
        """Escape from the search box returns to the results."""
        self.query_one("#datasets-table").focus()

    # Actions.

    def action_focus_search(self) -> None:
        """Move to the search box."""
        self.set_focus(self.query_one("#dataset-search", Input))

    def action_pick_filter(self) -> None:
        """Choose a task category, modality, size category, language, licence or author from lists with counts."""
        from hftui.ui.screens.filter_picker import DATASET_FACETS, FilterPickerScreen

        index = self.app.model_index  # type: ignore[attr-defined]
        if index is None:
            return

        def chosen(query: object) -> None:
            if isinstance(query, DatasetQuery) and query != self.query_value:
                self.set_query(query)

        picker = FilterPickerScreen(self.query_value, index, facets=DATASET_FACETS, noun="datasets")
        self.app.push_screen(picker, chosen)

    def action_cycle_sort(self) -> None:
        """Next sort order: trending, likes, downloads, recently updated."""
        self.set_query(self.query_value.replace(sort=_next_in(tuple(DATASET_SORTS), self.query_value.sort)))

    def action_toggle_cached(self) -> None:
        """Only datasets in the local cache, or all."""
        self.set_query(self.query_value.replace(cached_only=not self.query_value.cached_only))

    def action_clear_filters(self) -> None:
        """Back to no filters (the search text and sort stay)."""
        self.set_query(DatasetQuery(text=self.query_value.text, sort=self.query_value.sort))

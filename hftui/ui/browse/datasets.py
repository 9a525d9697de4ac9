"""Datasets: search, filter and sort Hub datasets (the Hub online, the local index offline), plus local folders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from hftui.data.local import LocalDataset, find_local_datasets
from hftui.hub.cache import CachedRepo, CacheScan
from hftui.hub.cards.licenses import license_terms
from hftui.hub.catalog.datasets import DatasetSearch
from hftui.hub.catalog.query import DatasetQuery
from hftui.hub.index import DatasetRecord, RepoIndex
from hftui.humanize import human_count, human_size, relative_time
from hftui.paths import demo_datasets_dir
from hftui.ui.app_state import hub_app
from hftui.ui.browse.repo_browser import RepoBrowserScreen, browser_bindings
from hftui.ui.browse.repo_card import RepoCardScreen
from hftui.ui.untrusted import plain_cell

if TYPE_CHECKING:
    from huggingface_hub import HfApi

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
HUB_KEY, LOCAL_KEY = "hub:", "local:"
# What a local folder holds, by the datasets builder that reads it (see hftui.data.local.DATA_FORMATS).
_LOCAL_MODALITIES = {"imagefolder": "image", "audiofolder": "audio"}


@dataclass
class LocalDatasetsFound(Message):
    """The local dataset folders were listed."""

    datasets: tuple[LocalDataset, ...]


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


class DatasetsScreen(RepoBrowserScreen[DatasetQuery, DatasetRecord]):
    """The dataset browser: a search box, the filters in force, local folders and the Hub's (or index's) datasets."""

    HELP_TITLE = "Datasets"
    BINDINGS = [
        *browser_bindings("datasets"),
        Binding("i", "show_card", "Card", id="datasets.card"),
        Binding("C", "convert", "Convert files", id="datasets.convert"),
    ]

    QUERY_TYPE = DatasetQuery
    NOUN = "datasets"
    COLUMNS = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.local_datasets: tuple[LocalDataset, ...] = ()

    def on_mount(self) -> None:
        super().on_mount()
        self.find_local()

    def new_search(self, query: DatasetQuery, index: RepoIndex, api: HfApi | None) -> DatasetSearch:
        return DatasetSearch(query, index=index, api=api)

    def show_records(self, records: Iterable[DatasetRecord], *, first: bool) -> None:
        if first:
            self._rebuild_table()
            return
        table = self.results_table
        for record in records:
            if HUB_KEY + record.repo_id not in table.rows:
                table.add_row(*(plain_cell(cell) for cell in _hub_cells(record)), key=HUB_KEY + record.repo_id)

    def status_suffix(self) -> str:
        local = len(self._shown_local())
        return f" · {local} local folder{'s' if local != 1 else ''}" if local else ""

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
        self.show_filters()

    def _shown_local(self) -> list[LocalDataset]:
        """Local folders have no Hub facets: they show while only text (matched in the name) narrows."""
        query = self.query_value
        if any(getattr(query, name) for name in DatasetQuery.TEXT_FIELDS):
            return []
        needle = query.text.strip().lower()
        return [local for local in self.local_datasets if needle in local.name.lower()]

    def _rebuild_table(self) -> None:
        rows = [(LOCAL_KEY + str(local.path), _local_cells(local)) for local in self._shown_local()]
        seen: set[str] = set()
        for record in self.records:
            if record.repo_id not in seen:
                seen.add(record.repo_id)
                rows.append((HUB_KEY + record.repo_id, _hub_cells(record)))
        self.results_table.show_rows(COLUMNS, rows)

    def _selected_key(self) -> str | None:
        table = self.results_table
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
            from hftui.ui.browse.dataset_page import DatasetPageScreen

            self.app.push_screen(DatasetPageScreen(key.removeprefix(HUB_KEY)))
        elif (local := self._local(key)) is not None:
            from hftui.data.sampler import SampleSource
            from hftui.ui.browse.dataset_preview import DatasetPreviewScreen

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
        scan: CacheScan | None = hub_app(self).cache_scan
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
        from hftui.ui.training.convert import ConvertScreen

        key = self._selected_key() or ""
        cached = self._cached_repo(key)
        folder = local.path if (local := self._local(key)) is not None else cached.snapshot_path if cached else None
        self.app.push_screen(ConvertScreen((folder,) if folder is not None else ()))

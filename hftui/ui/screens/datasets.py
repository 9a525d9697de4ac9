"""Datasets: datasets in the local HF cache and local dataset folders (the demo's among them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from hftui.data.local import LocalDataset, find_local_datasets
from hftui.hub.cache import CachedRepo, CacheScan
from hftui.humanize import human_size, relative_time
from hftui.paths import demo_datasets_dir
from hftui.ui.screens.base import HubScreen
from hftui.ui.screens.repo_card import RepoCardScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = (("Dataset", 28), "Format", "Licence", "Size", "Updated", ("Where", 40))


@dataclass
class LocalDatasetsFound(Message):
    """The local dataset folders were listed."""

    datasets: tuple[LocalDataset, ...]


class DatasetsScreen(HubScreen):
    """Cached Hub datasets and local dataset folders; Enter opens the card."""

    HELP_TITLE = "Datasets"
    BINDINGS = [Binding("i", "show_card", "Card", id="datasets.card")]

    def __init__(self) -> None:
        super().__init__()
        self.local_datasets: tuple[LocalDataset, ...] = ()

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Datasets", id="datasets-heading", classes="screen-heading")
        yield RepoTable(id="datasets-table")
        yield Static("", id="datasets-empty", classes="empty-state")

    def on_mount(self) -> None:
        self.watch(self.app, "cache_scan", lambda _scan: self.show_datasets())
        self.find_local()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="local-datasets",
        description="Find local datasets",
    )
    def find_local(self) -> None:
        """Look for local dataset folders off the event loop."""
        self.post_message(LocalDatasetsFound(find_local_datasets(demo_datasets_dir())))

    @on(LocalDatasetsFound)
    def keep_local(self, event: LocalDatasetsFound) -> None:
        """Remember the local folders and show them."""
        self.local_datasets = event.datasets
        self.show_datasets()

    def show_datasets(self) -> None:
        """Fill the table from the cache scan and the local folders."""
        scan: CacheScan | None = self.app.cache_scan  # type: ignore[attr-defined]
        cached: tuple[CachedRepo, ...] = scan.of_type("dataset") if scan else ()
        rows: list[tuple[str, tuple[object, ...]]] = [
            (
                f"hub:{repo.repo_id}",
                (
                    repo.repo_id,
                    "-",
                    repo.license or "none",
                    human_size(repo.size_on_disk),
                    relative_time(repo.last_modified),
                    "HF cache",
                ),
            )
            for repo in cached
        ]
        rows += [
            (
                f"local:{local.path}",
                (
                    local.name,
                    ", ".join(local.formats) or "-",
                    local.license or "none",
                    human_size(local.size_on_disk),
                    relative_time(local.last_modified),
                    str(local.path),
                ),
            )
            for local in self.local_datasets
        ]
        self.query_one("#datasets-table", RepoTable).show_rows(COLUMNS, rows)
        empty = "" if rows else "No datasets in the cache or the demo folder yet. Run `hftui demo`."
        self.query_one("#datasets-empty", Static).update(plain(empty))
        self.query_one("#datasets-heading", Static).update(
            plain(f"Datasets: {len(cached)} cached, {len(self.local_datasets)} local")
        )

    def _selected(self) -> tuple[str, Path | None, Path | None] | None:
        """(title, card path, data folder) of the highlighted row."""
        table = self.query_one("#datasets-table", RepoTable)
        if table.row_count == 0:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        scan: CacheScan | None = self.app.cache_scan  # type: ignore[attr-defined]
        if key.startswith("hub:") and scan:
            for repo in scan.of_type("dataset"):
                if repo.repo_id == key[4:]:
                    title = f"dataset: {repo.repo_id}  ({human_size(repo.size_on_disk)}, cached)"
                    snapshot = repo.snapshot_path
                    return title, snapshot / "README.md" if snapshot else None, snapshot
        elif key.startswith("local:"):
            for local in self.local_datasets:
                if str(local.path) == key[6:]:
                    title = f"local dataset: {local.name}  ({human_size(local.size_on_disk)}, {local.path})"
                    return title, local.card_path, local.path
        return None

    @on(DataTable.RowSelected, "#datasets-table")
    def preview_dataset(self) -> None:
        """Stream a sample of the selected dataset's files (they are on disk, so this works offline)."""
        from hftui.data.sampler import SampleSource
        from hftui.ui.screens.dataset_preview import DatasetPreviewScreen

        selected = self._selected()
        if selected is not None and selected[2] is not None:
            title, _card, folder = selected
            self.app.push_screen(DatasetPreviewScreen(SampleSource("local", str(folder)), title=title))

    def action_show_card(self) -> None:
        """Open the selected dataset's card."""
        selected = self._selected()
        if selected is not None:
            self.app.push_screen(RepoCardScreen(selected[0], selected[1]))

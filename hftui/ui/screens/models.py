"""Models: the models this machine has, from the local HF cache, and their cards."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.widget import Widget
from textual.widgets import DataTable, Static

from hftui.hub.cache import CacheScan
from hftui.humanize import human_size, relative_time
from hftui.ui.screens.base import HubScreen
from hftui.ui.screens.repo_card import RepoCardScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = (("Model", 30), ("Task", 18), "Licence", "Size", "Library", "Revs", "Updated")


class ModelsScreen(HubScreen):
    """Cached models with task, library, licence and size; Enter opens the card."""

    HELP_TITLE = "Models"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Models in the local cache", id="models-heading", classes="screen-heading")
        yield RepoTable(id="models-table")
        yield Static("", id="models-empty", classes="empty-state")

    def on_mount(self) -> None:
        self.watch(self.app, "cache_scan", self.show_models)

    def show_models(self, scan: CacheScan | None) -> None:
        """Fill the table from the latest cache scan."""
        table = self.query_one("#models-table", RepoTable)
        empty = self.query_one("#models-empty", Static)
        if scan is None:
            empty.update("Scanning the local cache…")
            return
        models = scan.of_type("model")
        table.show_rows(
            COLUMNS,
            [
                (
                    repo.repo_id,
                    (
                        repo.repo_id,
                        repo.pipeline_tag or "-",
                        repo.license or "none",
                        human_size(repo.size_on_disk),
                        repo.library_name or "-",
                        len(repo.revisions),
                        relative_time(repo.last_modified),
                    ),
                )
                for repo in models
            ],
        )
        heading = f"Models in the local cache: {len(models)} in {scan.cache_dir}"
        self.query_one("#models-heading", Static).update(plain(heading))
        empty.update(
            "" if models else plain(f"No models in {scan.cache_dir}. Run `hftui demo` for a demo cache.")
        )

    @on(DataTable.RowSelected, "#models-table")
    def open_model(self, event: DataTable.RowSelected) -> None:
        """Open the selected model's card."""
        scan: CacheScan | None = self.app.cache_scan  # type: ignore[attr-defined]
        if scan is None or event.row_key.value is None:
            return
        for repo in scan.of_type("model"):
            if repo.repo_id == event.row_key.value:
                self.app.push_screen(RepoCardScreen.for_cached_repo(repo))
                return

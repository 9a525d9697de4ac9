"""Cache: every repo in the local HF cache, largest first, as `hf cache scan` reports it."""

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

COLUMNS = ("Type", ("Repo", 32), "Size", "Files", "Revisions", "Refs", "Last used", "Updated")


class CacheScreen(HubScreen):
    """The local cache by repo, with sizes, revisions and last use."""

    HELP_TITLE = "Cache"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Local cache", id="cache-heading", classes="screen-heading")
        yield RepoTable(id="cache-table")
        yield Static("", id="cache-warnings", classes="empty-state")

    def on_mount(self) -> None:
        self.watch(self.app, "cache_scan", self.show_cache)

    def show_cache(self, scan: CacheScan | None) -> None:
        """Fill the table, largest repos first."""
        heading = self.query_one("#cache-heading", Static)
        if scan is None:
            heading.update("Scanning the local cache…")
            return
        repos = sorted(scan.repos, key=lambda repo: repo.size_on_disk, reverse=True)
        rows = [
            (
                f"{repo.repo_type}:{repo.repo_id}",
                (
                    repo.repo_type,
                    repo.repo_id,
                    human_size(repo.size_on_disk),
                    repo.nb_files,
                    len(repo.revisions),
                    ", ".join(sorted({ref for revision in repo.revisions for ref in revision.refs})) or "-",
                    relative_time(repo.last_accessed),
                    relative_time(repo.last_modified),
                ),
            )
            for repo in repos
        ]
        self.query_one("#cache-table", RepoTable).show_rows(COLUMNS, rows)
        heading.update(
            plain(f"Local cache {scan.cache_dir}: {len(repos)} repos, {human_size(scan.size_on_disk)}")
        )
        notes = [f"⚠ {warning}" for warning in scan.warnings]
        if not repos:
            notes.append("The cache is empty. Run `hftui demo` for a demo cache.")
        self.query_one("#cache-warnings", Static).update(plain("\n".join(notes)))

    @on(DataTable.RowSelected, "#cache-table")
    def open_repo(self, event: DataTable.RowSelected) -> None:
        """Open the selected repo's card."""
        scan: CacheScan | None = self.app.cache_scan  # type: ignore[attr-defined]
        if scan is None:
            return
        for repo in scan.repos:
            if f"{repo.repo_type}:{repo.repo_id}" == event.row_key.value:
                self.app.push_screen(RepoCardScreen.for_cached_repo(repo))
                return

"""Cache: every repo in the local HF cache, sortable and filterable; delete, prune and verify them.

The keyboard counterpart of `hf cache scan` / `hf cache delete`, on huggingface_hub's own cache API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from hftui.hub.cache import (
    CachedRepo,
    CacheScan,
    DeletionPlan,
    VerifyReport,
    execute_deletion,
    plan_deletion,
    plan_prune,
    verify_cached_repo,
)
from hftui.hub.plain_text import printable
from hftui.humanize import human_size, relative_time
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.browse.repo_card import RepoCardScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = ("✓", "Type", ("Repo", 32), "Size", "Files", "Revisions", "Refs", "Last used", "Updated")
SORTS = {"size": "largest first", "used": "least recently used first"}


def repo_key(repo: CachedRepo) -> str:
    """The table row key of a cached repo."""
    return f"{repo.repo_type}:{repo.repo_id}"


@dataclass
class DeletionPlanned(Message):
    """A deletion was planned and awaits confirmation."""

    plan: DeletionPlan
    what: str


@dataclass
class CacheChanged(Message):
    """Something was deleted; `text` says what."""

    text: str


@dataclass
class RepoVerified(Message):
    """A repo's blobs were re-hashed."""

    report: VerifyReport


class CacheScreen(HubScreen):
    """The local cache by repo; space marks, x deletes, P prunes old revisions, v verifies."""

    HELP_TITLE = "Cache"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="cache.filter"),
        Binding("escape", "focus_table", "Table", show=False, id="cache.table"),
        Binding("s", "toggle_sort", "Sort", id="cache.sort"),
        Binding("space", "toggle_mark", "Mark", id="cache.mark"),
        Binding("x,delete", "delete", "Delete", id="cache.delete"),
        Binding("P", "prune", "Prune", id="cache.prune"),
        Binding("v", "verify", "Verify", id="cache.verify"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "size"
        self.marked: set[str] = set()
        self.shown: list[CachedRepo] = []
        self.busy = False

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Local cache", id="cache-heading", classes="screen-heading")
        yield Input(placeholder="/ filter repos by name", id="cache-filter", compact=True)
        yield RepoTable(id="cache-table")
        yield Static("", id="cache-warnings", classes="empty-state")

    def on_mount(self) -> None:
        self.watch(self.app, "cache_scan", lambda _scan: self.show_cache())
        self.query_one("#cache-table").focus()

    @property
    def scan(self) -> CacheScan | None:
        """The app's newest cache scan."""
        return hub_app(self).cache_scan

    def show_cache(self) -> None:
        """Fill the table: filtered by the typed text, in the chosen order, marks kept."""
        heading = self.query_one("#cache-heading", Static)
        scan = self.scan
        if scan is None:
            heading.update("Scanning the local cache…")
            return
        needle = self.query_one("#cache-filter", Input).value.strip().lower()
        repos = [repo for repo in scan.repos if needle in repo.repo_id.lower()]
        if self.sort == "size":
            repos.sort(key=lambda repo: repo.size_on_disk, reverse=True)
        else:
            repos.sort(key=lambda repo: repo.last_accessed)
        present = {repo_key(repo) for repo in scan.repos}
        self.marked &= present
        self.shown = repos
        table = self.query_one("#cache-table", RepoTable)
        cursor = table.cursor_row
        table.show_rows(
            COLUMNS,
            [
                (
                    repo_key(repo),
                    (
                        "✓" if repo_key(repo) in self.marked else " ",
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
            ],
        )
        if repos:
            table.move_cursor(row=min(cursor, len(repos) - 1))
        marked = f", {len(self.marked)} marked" if self.marked else ""
        heading.update(
            plain(
                f"Local cache {scan.cache_dir}: {len(scan.repos)} repos, {human_size(scan.size_on_disk)} "
                f"(sorted {SORTS[self.sort]}{marked})"
            )
        )
        notes = [f"⚠ {warning}" for warning in scan.warnings]
        if not scan.repos:
            notes.append("The cache is empty. Run `hftui demo` for a demo cache.")
        self.query_one("#cache-warnings", Static).update(plain("\n".join(notes)))

    def _current(self) -> CachedRepo | None:
        table = self.query_one("#cache-table", RepoTable)
        if not self.shown or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @on(Input.Changed, "#cache-filter")
    def filter_as_typed(self) -> None:
        """Narrow the table while typing."""
        self.show_cache()

    @on(Input.Submitted, "#cache-filter")
    def action_focus_table(self) -> None:
        """Back to the table."""
        self.query_one("#cache-table").focus()

    def action_focus_filter(self) -> None:
        """Type to filter."""
        # Focus now, not after the next key: a fast typist's first letter must land in the box.
        self.set_focus(self.query_one("#cache-filter", Input))

    def action_toggle_sort(self) -> None:
        """Largest first, or least recently used first."""
        self.sort = "used" if self.sort == "size" else "size"
        self.show_cache()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the current repo for deletion, and move down."""
        repo = self._current()
        if repo is None:
            return
        key = repo_key(repo)
        self.marked.symmetric_difference_update({key})
        table = self.query_one("#cache-table", RepoTable)
        row = table.cursor_row
        self.show_cache()
        table.move_cursor(row=min(row + 1, table.row_count - 1))

    def action_delete(self) -> None:
        """Delete the marked repos (or the current one) after a confirmation showing the space freed."""
        targets = [repo for repo in self.scan.repos if repo_key(repo) in self.marked] if self.scan else []
        if not targets and (current := self._current()) is not None:
            targets = [current]
        if not targets or self.busy:
            return
        self.busy = True
        self.plan([(repo.repo_type, repo.repo_id) for repo in targets], None)

    def action_prune(self) -> None:
        """Delete revisions that no branch or tag points at any more."""
        if not self.busy:
            self.busy = True
            self.plan(None, "prune")

    @work(thread=True, exclusive=True, exit_on_error=False, group="cache-plan", description="Plan deletion")
    def plan(self, repos: list[tuple[str, str]] | None, mode: str | None) -> None:
        """Ask huggingface_hub what would be freed, off the event loop."""
        cache_dir = self.scan.cache_dir if self.scan else hub_app(self).settings.hub_cache
        if mode == "prune":
            self.post_message(DeletionPlanned(plan_prune(cache_dir), "superseded revisions"))
        else:
            self.post_message(DeletionPlanned(plan_deletion(cache_dir, repos or []), "repos"))

    @on(DeletionPlanned)
    def confirm(self, event: DeletionPlanned) -> None:
        """Ask before deleting."""
        plan = event.plan
        if not plan.commit_hashes:
            self.busy = False
            self.notify("Nothing to delete: no revision is superseded.", markup=False)
            return
        details = "\n".join(plan.repos[:12]) + (f"\n… and {len(plan.repos) - 12} more" if len(plan.repos) > 12 else "")
        title = f"Delete {len(plan.commit_hashes)} revision(s) of {len(plan.repos)} repo(s), freeing " + human_size(
            plan.freed_bytes
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(plan)
            else:
                self.busy = False

        self.app.push_screen(ConfirmScreen(title + "?", details), answered)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="cache-delete",
        description="Delete from cache",
    )
    def delete(self, plan: DeletionPlan) -> None:
        """Delete, then report."""
        freed = execute_deletion(plan)
        self.post_message(CacheChanged(f"Deleted {len(plan.repos)} repo(s)' revisions, freed {human_size(freed)}."))

    @on(CacheChanged)
    def rescan(self, event: CacheChanged) -> None:
        """Say what happened and rescan."""
        self.busy = False
        self.marked.clear()
        self.notify(event.text, markup=False)
        hub_app(self).scan_cache()

    def action_verify(self) -> None:
        """Re-hash the current repo's files against the hashes they are stored under."""
        repo = self._current()
        if repo is not None:
            self.notify(printable(f"Verifying {repo.repo_id}…", single_line=True), markup=False)
            self.verify(repo)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cache-verify", description="Verify repo")
    def verify(self, repo: CachedRepo) -> None:
        """Hash the blobs off the event loop."""
        cache_dir = self.scan.cache_dir if self.scan else hub_app(self).settings.hub_cache
        self.post_message(RepoVerified(verify_cached_repo(cache_dir, repo.repo_type, repo.repo_id)))

    @on(RepoVerified)
    def show_verification(self, event: RepoVerified) -> None:
        """OK, or which files do not match."""
        report = event.report
        if report.ok:
            text = f"{report.repo_id}: all {report.checked} files match their hashes."
            self.notify(printable(text, single_line=True), title="Verified", markup=False)
        else:
            text = f"{report.repo_id}: {len(report.mismatched)} file(s) do not match: {', '.join(report.mismatched)}"
            self.notify(printable(text, single_line=True), title="Verification failed", severity="error", markup=False)

    @on(DataTable.RowSelected, "#cache-table")
    def open_repo(self, event: DataTable.RowSelected) -> None:
        """Open the selected repo's card."""
        for repo in self.shown:
            if repo_key(repo) == event.row_key.value:
                self.app.push_screen(RepoCardScreen.for_cached_repo(repo))
                return

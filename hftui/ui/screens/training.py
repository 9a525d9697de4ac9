"""Training: the fine-tuning runs recorded under hftui's runs directory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from hftui.paths import runs_dir
from hftui.train.runs import RunRecord, list_runs
from hftui.ui.screens.base import HubScreen
from hftui.ui.untrusted import plain
from hftui.ui.widgets.repo_table import RepoTable

COLUMNS = ("Run", "State", "Started")


@dataclass
class RunsListed(Message):
    """The runs directory was read."""

    runs: tuple[RunRecord, ...]


class TrainingScreen(HubScreen):
    """Runs with their state; the run watcher opens from here."""

    HELP_TITLE = "Training"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Training runs", classes="screen-heading")
        yield RepoTable(id="runs-table")
        yield Static("", id="runs-empty", classes="empty-state")

    def on_mount(self) -> None:
        self.list_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list", description="List runs")
    def list_runs(self) -> None:
        """Read the runs directory off the event loop."""
        self.post_message(RunsListed(list_runs(runs_dir())))

    @on(RunsListed)
    def show_runs(self, event: RunsListed) -> None:
        """Fill the runs table."""
        rows = [(run.run_id, (run.run_id, run.state, run.started)) for run in event.runs]
        self.query_one("#runs-table", RepoTable).show_rows(COLUMNS, rows)
        empty = "" if rows else (f"No training runs yet in {runs_dir()}. Start one with `hftui train SPEC.json`.")
        self.query_one("#runs-empty", Static).update(plain(empty))

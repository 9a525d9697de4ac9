"""Preview a dataset by streaming a sample: rows as they arrive, a lazy filter, column statistics."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.style import Style
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from hftui.analyze.inputs import inputs_from_sample
from hftui.data.cells import describe_cell, full_value
from hftui.data.halfblocks import MAX_HEIGHT, MAX_WIDTH, UPPER_HALF, HalfBlockImage, half_blocks
from hftui.data.sampler import SampleBatch, SampleError, SampleOptions, SampleSource, stream_sample
from hftui.data.stats import bar, column_stats, save_sample, sort_rows, value_counts
from hftui.hub.plain_text import printable
from hftui.paths import hftui_home
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.messages import SendToAnalyzer
from hftui.ui.untrusted import plain, plain_cell

DEFAULT_ROWS = 100
STATS_INTERVAL_S = 0.5


def picture_content(picture: HalfBlockImage) -> Content:
    """Draw a thumbnail with `▀`: the upper pixel as foreground, the lower one as background."""
    lines = []
    for row in picture.rows:
        parts = [
            (UPPER_HALF, Style(foreground=Color(*upper), background=Color(*lower) if lower is not None else None))
            for upper, lower in row
        ]
        lines.append(Content.assemble(*parts))
    return Content("\n").join(lines)


@dataclass
class SampleBatchArrived(Message):
    """More rows of the sample."""

    batch: SampleBatch


@dataclass
class SampleEnded(Message):
    """The stream finished, failed or was cancelled."""

    outcome: str  # "done", "cancelled", "failed"
    text: str


@dataclass
class SampleSaved(Message):
    """The sample was written to `path`."""

    path: Path
    rows: int


class DatasetPreviewScreen(ReportsWorkerFailures, Screen[None]):
    """Streams `n` rows of one split; escape stops the stream (or goes back when none runs)."""

    HELP_TITLE = "Dataset preview"
    BINDINGS = [
        Binding("escape", "stop_or_back", "Stop/back", id="preview.back"),
        Binding("slash", "focus_filter", "Filter", id="preview.filter"),
        Binding("r", "restart", "Re-sample", id="preview.restart"),
        Binding("ctrl+s", "toggle_stats", "Stats", id="preview.stats"),
        Binding("v", "value_counts", "Value counts", id="preview.counts"),
        Binding("o", "sort_by", "Sort by", id="preview.sort"),
        Binding("w", "save_sample", "Save", id="preview.save"),
        Binding("A", "send_to_analyzer", "To Analyzer", id="preview.analyze"),
    ]

    def __init__(self, source: SampleSource, *, title: str | None = None, rows: int = DEFAULT_ROWS) -> None:
        super().__init__()
        self.source = source
        self.title_text = title or source.location
        self.default_rows = rows if rows > 0 else DEFAULT_ROWS
        self.rows: list[Mapping[str, Any]] = []
        self.columns: tuple[str, ...] = ()
        self.features: dict | None = None
        self.streaming = False
        self.stats_due = 0.0
        self.counts_column: str | None = None
        self.sorted_by: tuple[str, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(self.title_text, single_line=True), id="preview-title", classes="screen-heading")
        with Horizontal(id="preview-controls"):
            yield Static("rows", classes="field-caption")
            yield Input(str(self.default_rows), placeholder="rows", id="preview-n", compact=True, type="integer")
            yield Static("skip", classes="field-caption")
            yield Input("0", placeholder="skip", id="preview-skip", compact=True, type="integer")
            yield Static("shuffle buffer", classes="field-caption")
            yield Input("0", placeholder="shuffle", id="preview-shuffle", compact=True, type="integer")
            yield Input(placeholder="/ filter, e.g. label == 1 and len(text) > 20", id="preview-filter", compact=True)
        yield Static("", id="preview-status")
        with Horizontal(id="preview-body"):
            yield DataTable(id="preview-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="preview-stats-box"):
                yield Static("", id="preview-stats")
        with VerticalScroll(id="preview-detail", classes="cell-view"):
            yield Static("", id="preview-detail-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#preview-detail").display = False
        self.action_restart()

    def action_restart(self) -> None:
        """Start (or restart) the stream with the chosen row count and filter."""
        self.workers.cancel_group(self, "sample")
        n = self._number("#preview-n") or self.default_rows
        skip = self._number("#preview-skip")
        shuffle = self._number("#preview-shuffle") or None  # a buffer size; 0 means in file order
        row_filter = self.query_one("#preview-filter", Input).value.strip() or None
        self.rows = []
        self.stats_due = 0.0
        table = self.query_one("#preview-table", DataTable)
        table.clear(columns=True)
        self.streaming = True
        self.query_one("#preview-status", Static).update("Opening the stream…")
        self.counts_column = None
        self.sorted_by = None
        self.sample(SampleOptions(n=n, skip=skip, shuffle_buffer=shuffle, row_filter=row_filter))
        self.set_focus(table)

    def _number(self, selector: str) -> int:
        text = self.query_one(selector, Input).value.strip()
        return int(text) if text.isdigit() else 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="sample", description="Stream a sample")
    def sample(self, options: SampleOptions) -> None:
        """Stream batches off the event loop; cancellation is checked between rows."""
        worker = get_current_worker()
        try:
            for batch in stream_sample(self.source, options, is_cancelled=lambda: worker.is_cancelled):
                self.post_message(SampleBatchArrived(batch))
        except SampleError as error:
            self.post_message(SampleEnded("failed", str(error)))
            return
        if worker.is_cancelled:
            self.post_message(SampleEnded("cancelled", "Stopped."))
        else:
            self.post_message(SampleEnded("done", "Done."))

    @on(SampleBatchArrived)
    def add_rows(self, event: SampleBatchArrived) -> None:
        """Append a batch, then refresh the timing line and the statistics."""
        batch = event.batch
        table = self.query_one("#preview-table", DataTable)
        if not table.columns:
            self.columns = batch.columns
            self.features = batch.features
            table.add_columns(*(printable(column, single_line=True) for column in batch.columns))
        for row in batch.rows:
            self.rows.append(row)
            feature = self.features or {}
            table.add_row(*(plain_cell(describe_cell(row.get(column), feature.get(column))) for column in self.columns))
        first = f"first row after {batch.seconds_to_first_row:.2f} s" if batch.seconds_to_first_row else ""
        speed = f"{batch.rows_per_second:,.0f} rows/s" if batch.rows_per_second else ""
        status = " · ".join(part for part in (f"{batch.rows_so_far} rows", first, speed) if part)
        self.query_one("#preview-status", Static).update(plain(status + " · streaming (escape stops)"))
        # Statistics cover every row so far, so recomputing them per batch would grow quadratically on the
        # event loop; while streaming they refresh at most every STATS_INTERVAL_S, or rarer when they are slow.
        if time.monotonic() >= self.stats_due:
            self.show_stats()

    @on(SampleSaved)
    def say_saved(self, event: SampleSaved) -> None:
        """Tell the user where the file is."""
        self.notify(printable(f"Saved {event.rows} rows to {event.path}"), title="Sample saved", markup=False)

    @on(SampleEnded)
    def end_stream(self, event: SampleEnded) -> None:
        """Say how the stream ended."""
        self.streaming = False
        self.show_stats()
        status = self.query_one("#preview-status", Static)
        if event.outcome == "failed":
            status.update(plain(f"⚠ {event.text}"))
        else:
            status.update(plain(f"{len(self.rows)} rows · {event.text}"))

    def show_stats(self) -> None:
        """Column statistics over the rows so far, or the value counts of one column when asked for."""
        started = time.monotonic()
        try:
            self._show_stats()
        finally:
            spent = time.monotonic() - started
            self.stats_due = time.monotonic() + max(STATS_INTERVAL_S, 4 * spent)

    def _show_stats(self) -> None:
        lines: list[str] = []
        if self.counts_column:
            counts = value_counts(self.rows, self.counts_column)
            largest = max((count for _, count in counts), default=0)
            lines.append(f"Most frequent values of {self.counts_column} (v: back to statistics)")
            lines += [f"{bar(count, largest, 10)} {count:>5}  {value[:40]}" for value, count in counts]
            self.query_one("#preview-stats", Static).update(plain("\n".join(lines)))
            return
        for stats in column_stats(self.rows, self.features):
            lines.append(f"{stats.name} ({stats.kind}) nulls {stats.nulls}/{stats.count}")
            if stats.minimum is not None:
                lines.append(f"  min {stats.minimum:g} mean {stats.mean:.3g} max {stats.maximum:g}")
            if stats.length_mean is not None:
                lines.append(f"  length {stats.length_min} to {stats.length_max}, mean {stats.length_mean:.0f}")
            pairs = stats.classes or stats.length_histogram
            largest = max((count for _, count in pairs), default=0)
            for label, count in pairs[:8]:
                lines.append(f"  {label[:12]:12} {bar(count, largest, 10)} {count}")
        self.query_one("#preview-stats", Static).update(plain("\n".join(lines)))

    @on(DataTable.RowSelected, "#preview-table")
    def show_row(self, event: DataTable.RowSelected) -> None:
        """Enter shows the whole row, untruncated, with a small picture of each image (in colour terminals)."""
        if event.cursor_row >= len(self.rows):
            return
        row = self.rows[event.cursor_row]
        feature = self.features or {}
        parts = []
        for column in self.columns:
            value = row.get(column)
            parts.append(plain(f"{column}: {full_value(value, feature.get(column))}"))
            picture = self._picture(value)
            if picture is not None:
                parts.append(picture_content(picture))
        detail = self.query_one("#preview-detail", VerticalScroll)
        detail.query_one("#preview-detail-text", Static).update(Content("\n").join(parts))
        detail.display = True
        detail.scroll_home(animate=False)
        self.set_focus(detail)  # arrows and page keys scroll a long value; escape closes it

    def _picture(self, value: object) -> HalfBlockImage | None:
        """A thumbnail of an image cell; none without colour (NO_COLOR), where `▀` would only draw a grey block."""
        if self.app.no_color:
            return None
        width = max(min(MAX_WIDTH, self.size.width - 6), 4)
        return half_blocks(value, max_width=width, max_height=MAX_HEIGHT)

    @on(Input.Submitted)
    def apply_inputs(self) -> None:
        """Enter in either box re-samples with the new settings."""
        self.action_restart()

    def _pick_column(self, title: str, then: Callable[[str], None]) -> None:
        if not self.columns:
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                then(self.columns[index])

        self.app.push_screen(ChoiceScreen(title, self.columns), chosen)

    def action_value_counts(self) -> None:
        """Show the most frequent values of a column (again: back to the statistics)."""
        if self.counts_column:
            self.counts_column = None
            self.show_stats()
            return

        def show(column: str) -> None:
            self.counts_column = column
            self.query_one("#preview-stats-box").display = True
            self.show_stats()

        self._pick_column("Value counts of which column?", show)

    def action_sort_by(self) -> None:
        """Sort the sample by a column; choosing the same column again reverses the order."""

        def sort(column: str) -> None:
            descending = self.sorted_by == (column, False)
            self.sorted_by = (column, descending)
            self.rows = list(sort_rows(self.rows, column, descending=descending))
            self._refill()

        self._pick_column("Sort the sample by which column?", sort)

    def _refill(self) -> None:
        table = self.query_one("#preview-table", DataTable)
        table.clear()
        feature = self.features or {}
        for row in self.rows:
            table.add_row(*(plain_cell(describe_cell(row.get(column), feature.get(column))) for column in self.columns))

    def action_save_sample(self) -> None:
        """Save the sample as Parquet or JSON Lines under hftui's home, to reopen offline or analyse later."""
        if not self.rows or self.streaming:
            self.notify("Wait for the sample to finish streaming, then save it.", markup=False)
            return

        def save(index: int | None) -> None:
            if index is not None:
                suffix = (".parquet", ".jsonl")[index]
                name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in Path(self.source.location).name)
                target = hftui_home() / "samples" / f"{name or 'sample'}-{len(self.rows)}{suffix}"
                self.save(target)

        self.app.push_screen(ChoiceScreen("Save the sample as", ("Parquet", "JSON Lines")), save)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sample-save", description="Save the sample")
    def save(self, target: Path) -> None:
        """Write the file off the event loop (to a temporary name, then renamed)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        path = save_sample(self.rows, target, features=self.features)
        self.post_message(SampleSaved(path, len(self.rows)))

    def action_send_to_analyzer(self) -> None:
        """Send the highlighted row, or one column of the whole sample, to the Analyzer's inputs."""
        if not self.rows:
            return
        table = self.query_one("#preview-table", DataTable)
        row_number = min(max(table.cursor_row, 0), len(self.rows) - 1)
        choices = [f"row {row_number}: its text, image and audio cells"]
        choices += [f"column {column}: {len(self.rows)} rows" for column in self.columns]
        name = Path(self.source.location).name or self.source.location

        def send(index: int | None) -> None:
            if index is None:
                return
            if index == 0:
                rows, columns, numbers = self.rows[row_number : row_number + 1], self.columns, [row_number]
                origin = f"{name} row {row_number}"
            else:
                rows, columns, numbers = self.rows, (self.columns[index - 1],), None
                origin = f"{name} column {self.columns[index - 1]}"
            sent = inputs_from_sample(rows, columns=columns, features=self.features, source=name, row_numbers=numbers)
            if not sent.inputs:
                self.notify(f"Nothing there to analyse: {origin} holds no text, image or audio.", markup=False)
                return
            self.app.post_message(SendToAnalyzer(sent.inputs, sent.skipped, origin))

        self.app.push_screen(ChoiceScreen("Send to the Analyzer", choices), send)

    def action_focus_filter(self) -> None:
        """Type a filter."""
        self.set_focus(self.query_one("#preview-filter", Input))

    def action_toggle_stats(self) -> None:
        """Show or hide the statistics panel."""
        box = self.query_one("#preview-stats-box")
        box.display = not box.display

    def action_stop_or_back(self) -> None:
        """Escape: close the row detail, else stop the stream, else go back."""
        detail = self.query_one("#preview-detail")
        if detail.display:
            detail.display = False
            self.set_focus(self.query_one("#preview-table", DataTable))
        elif self.streaming:
            self.workers.cancel_group(self, "sample")
        else:
            self.app.pop_screen()

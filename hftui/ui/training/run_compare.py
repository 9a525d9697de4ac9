"""Compare runs: several runs' curves overlaid on one plot, their best and final metrics, what they did differently.

Any mix of folders works: hftui's own runs, Trainer output_dirs and TensorBoard log dirs (`follower_for`).
A thread worker reads them all through a `CompareReader` (train/compare.py; a finished run replays to its end
first), and again every POLL_S seconds while any of them can still change, posting a `ComparedRun` (curves,
summary, new events) for each that changed; the screen only draws those.
Keys pick the curve (1 loss, 2 eval loss, 3 the eval metric, m the next metric, g a log y axis); e exports the
highlighted run's metrics, E every run's, as CSV or JSON (by the file's extension), written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, get_current_worker

from hftui.hub.plain_text import printable
from hftui.humanize import human_metric
from hftui.paths import hftui_home
from hftui.train.compare import (
    METRICS,
    SETTLED_STATES,
    ComparedRun,
    CompareReader,
    differing,
    unique_labels,
    write_export,
)
from hftui.train.events import RunEvent
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain, plain_cell
from hftui.ui.widgets.curve_plot import CurvePlot

POLL_S = 2.0
CURVE_TITLES = {
    "loss": "training loss",
    "eval_loss": "eval loss",
    "eval_accuracy": "eval accuracy",
    "eval_f1_macro": "eval macro-F1",
    "learning_rate": "learning rate",
    "grad_norm": "grad norm",
}
# At most this many differing hyperparameters get a column.
MAX_PARAM_COLUMNS = 8


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


# --- messages ----------------------------------------------------------------------------------------------


@dataclass
class CompareRunRead(Message):
    """The worker read a run (first time or new data); `events` are the ones new since the last message."""

    run: ComparedRun
    events: tuple[RunEvent, ...]


@dataclass
class CompareLoaded(Message):
    """Every run was read once (finished ones to their end)."""

    count: int


@dataclass
class MetricsExported(Message):
    """An export was written to `path`."""

    path: Path
    runs: int


@dataclass
class MetricsExportFailed(Message):
    """An export could not be written."""

    message: str


class RunCompareScreen(ReportsWorkerFailures, Screen[None]):
    """Overlay the chosen runs' curves; a table of their best/final metrics and differing hyperparameters."""

    HELP_TITLE = "Compare runs"
    BINDINGS = [
        Binding("escape", "back", "Back", id="compare.back"),
        Binding("1", "curve('loss')", "Loss", id="compare.loss"),
        Binding("2", "curve('eval_loss')", "Eval loss", id="compare.eval-loss"),
        Binding("3", "curve('metric')", "Metric", id="compare.metric"),
        Binding("m", "next_metric", "Next metric", id="compare.next-metric"),
        Binding("g", "toggle_log_y", "Log-y", id="compare.log-y"),
        Binding("e", "export_one", "Export run", id="compare.export"),
        Binding("E", "export_all", "Export all", id="compare.export-all"),
    ]

    def __init__(self, run_paths: Sequence[Path]) -> None:
        super().__init__()
        self.run_paths = [Path(p) for p in run_paths]
        self.labels = unique_labels(self.run_paths)
        self.runs: dict[int, ComparedRun] = {}
        self.events: dict[int, list[RunEvent]] = {i: [] for i in range(len(self.run_paths))}
        self.curve = "loss"
        self.metric = METRICS[0]
        self.log_y = False
        self.loaded = False
        self.reading = False
        self.settled = False
        # Used only by the reading worker, one read at a time (a tick never starts a read while one is going).
        self.reader = CompareReader(self.run_paths, self.labels)
        self._columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        count = len(self.run_paths)
        heading = f"Compare {count} run{'s' if count != 1 else ''}"
        yield Static(plain(heading), id="compare-heading", classes="screen-heading")
        yield Static(plain("reading the runs…"), id="compare-status")
        yield CurvePlot(CURVE_TITLES[self.curve], id="compare-plot")
        table: DataTable[Any] = DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not self.run_paths:
            self.query_one("#compare-status", Static).update(plain("no runs chosen: mark runs in the list first"))
            return
        self.query_one(DataTable).focus()
        self.redraw_table()
        self.reading = True
        self.read_runs()
        self.set_interval(POLL_S, self.tick)

    # --- reading -------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Every POLL_S: read the runs again unless a read is under way or none of them can change any more."""
        if self.reading or self.settled:
            return
        self.reading = True
        self.read_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-compare-read", description="Read runs")
    def read_runs(self) -> None:
        """Read every run (a finished one to its end the first time), posting each that changed."""
        worker = get_current_worker()
        for run, events in self.reader.read(lambda: worker.is_cancelled):
            self.post_message(CompareRunRead(run, events))
        if not worker.is_cancelled:
            self.post_message(CompareLoaded(len(self.run_paths)))

    @on(CompareRunRead)
    def run_read(self, message: CompareRunRead) -> None:
        """Keep the run's latest picture and its events (for export); redraw."""
        run = message.run
        self.runs[run.index] = run
        self.events[run.index].extend(message.events)
        if run.error:
            self.notify(printable(run.error), title=f"Not compared: {run.label}", severity="warning", markup=False)
        self.redraw()

    @on(CompareLoaded)
    def all_loaded(self, message: CompareLoaded) -> None:
        """A read of every run ended; once none can change any more, the polling stops."""
        self.loaded = True
        self.reading = False
        self.settled = bool(self.runs) and all(
            run.error is not None or run.state in SETTLED_STATES for run in self.runs.values()
        )
        self.redraw_status()

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        """A read that ended (done, failed or cancelled) lets the next one start."""
        if event.worker.group == "run-compare-read" and event.worker.is_finished:
            self.reading = False

    # --- drawing --------------------------------------------------------------------------------------------

    @property
    def shown_curve(self) -> str:
        """The curve on the plot (the `metric` choice resolved)."""
        return self.metric if self.curve == "metric" else self.curve

    def redraw(self) -> None:
        """Plot, table and status line from the runs read so far."""
        self.redraw_plot()
        self.redraw_table()
        self.redraw_status()

    def redraw_plot(self) -> None:
        """The shown curve of every run, one line each, named by run."""
        name = self.shown_curve
        plot = self.query_one("#compare-plot", CurvePlot)
        plot.title = CURVE_TITLES.get(name, name) + (" (log)" if self.log_y else "")
        series = {
            self.labels[index]: run.curves.get(name, [])
            for index, run in sorted(self.runs.items())
            if run.curves.get(name)
        }
        plot.show(series, log_y=self.log_y)

    def redraw_status(self) -> None:
        """How many runs were read, which failed, and the keys' meaning."""
        read = sum(1 for run in self.runs.values() if run.error is None)
        failed = [run.label for run in self.runs.values() if run.error]
        count = len(self.run_paths)
        parts = [f"{read} of {count} run{'s' if count != 1 else ''} read" + ("" if self.loaded else "…")]
        if failed:
            parts.append("unreadable: " + ", ".join(failed))
        missing = [
            self.labels[i]
            for i, run in sorted(self.runs.items())
            if not run.error and not run.curves.get(self.shown_curve)
        ]
        if missing and self.runs:
            parts.append(f"no {CURVE_TITLES.get(self.shown_curve, self.shown_curve)}: " + ", ".join(missing))
        self.query_one("#compare-status", Static).update(plain(" · ".join(parts)))

    def redraw_table(self) -> None:
        """One row per run: source, state, last step, final loss, best eval loss and metric, differing params."""
        table = self.query_one("#compare-table", DataTable)
        ordered = [self.runs.get(i) for i in range(len(self.run_paths))]
        params = differing([run.hyperparameters for run in ordered if run is not None and not run.error])
        params = params[:MAX_PARAM_COLUMNS]
        metric = self.metric
        columns: tuple[str, ...] = (
            *("Run", "Src", "State", "Step", "Loss", "Best eval loss", f"Best {metric.removeprefix('eval_')}"),
            *params,
        )
        if columns != self._columns:
            cursor = table.cursor_row
            table.clear(columns=True)
            widths = (16, 7, 10, 6, 8, 14, 13)
            for i, column in enumerate(columns):
                table.add_column(Text(column), key=f"c{i}", width=widths[i] if i < len(widths) else max(8, len(column)))
            for i in range(len(self.run_paths)):
                table.add_row(*([""] * len(columns)), key=str(i))
            self._columns = columns
            if 0 <= cursor < len(self.run_paths):
                table.move_cursor(row=cursor)
        for i, run in enumerate(ordered):
            for col, value in enumerate(self._row(i, run, params, metric)):
                table.update_cell(str(i), f"c{col}", plain_cell(value))

    def _row(self, index: int, run: ComparedRun | None, params: list[str], metric: str) -> list[str]:
        label = self.labels[index]
        if run is None:
            return [label, "", "reading", "", "", "", "", *[""] * len(params)]
        if run.error:
            return [label, "-", "unreadable", "", "", "", "", *[""] * len(params)]
        summary = run.summary
        best_eval = summary.best.get("eval_loss")
        best_metric = summary.best.get(metric)
        return [
            label,
            run.kind,
            run.state,
            _value(summary.last_step),
            human_metric(summary.final_loss),
            f"{human_metric(best_eval[1])} @{int(best_eval[0])}" if best_eval else "-",
            f"{human_metric(best_metric[1])} @{int(best_metric[0])}" if best_metric else "-",
            *[_value(run.hyperparameters.get(name)) for name in params],
        ]

    # --- keys -----------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Leave the comparison (its worker is cancelled with the screen)."""
        self.workers.cancel_group(self, "run-compare-read")
        self.dismiss()

    def action_curve(self, name: str) -> None:
        """Plot loss, eval loss or the chosen metric."""
        self.curve = name
        self.redraw()

    def action_next_metric(self) -> None:
        """The next metric (accuracy, macro-F1, learning rate, grad norm), and show it."""
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self.curve = "metric"
        self.redraw()

    def action_toggle_log_y(self) -> None:
        """A logarithmic y axis on or off."""
        self.log_y = not self.log_y
        self.redraw_plot()

    def _highlighted(self) -> int | None:
        if not self.run_paths:
            return None
        row = self.query_one("#compare-table", DataTable).cursor_row
        return row if 0 <= row < len(self.run_paths) else 0

    def action_export_one(self) -> None:
        """Export the highlighted run's metrics (CSV or JSON by the extension typed)."""
        index = self._highlighted()
        if index is None:
            return
        self._ask_export([index], f"{self.labels[index].replace('/', '-')}-metrics.csv")

    def action_export_all(self) -> None:
        """Export every run's metrics into one file."""
        if not self.run_paths:
            return
        self._ask_export(list(range(len(self.run_paths))), f"compare-{len(self.run_paths)}-runs-metrics.csv")

    def _ask_export(self, indexes: list[int], name: str) -> None:
        from hftui.ui.dialogs.path_prompt import PathPromptScreen

        readable = [i for i in indexes if i in self.runs and not self.runs[i].error]
        if not readable:
            self.notify("Nothing to export yet: the run has not been read.", markup=False)
            return
        default = hftui_home() / "exports" / name
        what = self.labels[readable[0]] if len(indexes) == 1 else f"{len(readable)} runs"

        def chosen(path: str | None) -> None:
            if path:
                # A copy taken here: the reading worker's messages keep appending to the lists.
                runs = [(self.labels[i], tuple(self.events[i])) for i in readable]
                self.write_export(runs, Path(path).expanduser())

        hint = "the extension picks the format: .csv or .json · tab completes · escape cancels"
        self.app.push_screen(PathPromptScreen(f"Export the metrics of {what} to", str(default), hint=hint), chosen)

    @work(thread=True, exit_on_error=False, group="run-compare-export", description="Export metrics")
    def write_export(self, runs: list[tuple[str, tuple[RunEvent, ...]]], target: Path) -> None:
        """Write the export off the event loop, atomically."""
        try:
            path = write_export(runs, target)
        except (OSError, ValueError) as error:
            self.post_message(MetricsExportFailed(f"{target}: {error}"))
            return
        self.post_message(MetricsExported(path.resolve(), len(runs)))

    @on(MetricsExported)
    def exported(self, message: MetricsExported) -> None:
        """Say where the metrics went."""
        what = "1 run's metrics" if message.runs == 1 else f"{message.runs} runs' metrics"
        self.notify(printable(f"{what}: {message.path}"), title="Exported", markup=False, timeout=10)

    @on(MetricsExportFailed)
    def export_failed(self, message: MetricsExportFailed) -> None:
        """Say why the export was not written."""
        self.notify(printable(message.message), title="Not exported", severity="error", markup=False)

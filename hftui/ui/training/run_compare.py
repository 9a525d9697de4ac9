"""Compare runs: several runs' curves overlaid on one plot, their best and final metrics, what they did differently.

Any mix of folders works: hftui's own runs, Trainer output_dirs and TensorBoard log dirs (`follower_for`).
A thread worker reads them all (a finished run replays to its end first), and again every POLL_S seconds
while any of them can still change, posting a `ComparedRun` (curves, summary, new events) for each that
changed; the screen only draws those.
Keys pick the curve (1 loss, 2 eval loss, 3 the eval metric, m the next metric, g a log y axis); e exports the
highlighted run's metrics, E every run's, as CSV or JSON (by the file's extension), written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

from hftui.atomic_write import write_text_atomically
from hftui.hub.plain_text import printable
from hftui.humanize import human_metric
from hftui.paths import hftui_home
from hftui.train.events import RunEvent
from hftui.train.follow import RunFollower, TrainerOutputFollower, follower_for, run_hyperparameters
from hftui.train.series import EXPORT_FIELDS, metrics_csv, metrics_rows
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain, plain_cell
from hftui.ui.widgets.curve_plot import CurvePlot

Point = tuple[float, float]
POLL_S = 2.0
# States in which a run no longer changes (a foreign folder's `finished` comes from its end-of-training summary).
SETTLED_STATES = frozenset({"finished", "failed", "stopped"})
# The curves a comparison carries (the metric key cycles through the last ones).
CURVES = ("loss", "eval_loss", "eval_accuracy", "eval_f1_macro", "learning_rate", "grad_norm")
METRICS = ("eval_accuracy", "eval_f1_macro", "learning_rate", "grad_norm")
# Where the best value is the largest; for the others (losses) it is the smallest.
HIGHER_IS_BETTER = frozenset({"eval_accuracy", "eval_f1_macro"})
CURVE_TITLES = {
    "loss": "training loss",
    "eval_loss": "eval loss",
    "eval_accuracy": "eval accuracy",
    "eval_f1_macro": "eval macro-F1",
    "learning_rate": "learning rate",
    "grad_norm": "grad norm",
}
# Hyperparameters not worth a column even when they differ.
_IGNORED = frozenset({"logging_steps", "save_steps", "save_total_limit", "eval_batch_size"})
MAX_PARAM_COLUMNS = 8


# --- what the screen shows, without Textual ------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """A run's last step, final training loss and the best and final value of each eval curve."""

    last_step: int | None = None
    final_loss: float | None = None
    best: Mapping[str, Point] = field(default_factory=dict)
    final: Mapping[str, float] = field(default_factory=dict)


def summarize(curves: Mapping[str, Sequence[Point]]) -> RunSummary:
    """Best (max for accuracy and F1, min for losses) and final values of each curve."""
    best: dict[str, Point] = {}
    final: dict[str, float] = {}
    last_step: float | None = None
    for name, points in curves.items():
        if not points:
            continue
        final[name] = points[-1][1]
        pick = max if name in HIGHER_IS_BETTER else min
        best[name] = pick(points, key=lambda p: p[1])
        last_step = points[-1][0] if last_step is None else max(last_step, points[-1][0])
    return RunSummary(
        int(last_step) if last_step is not None else None,
        final.get("loss"),
        best,
        final,
    )


def differing(hyperparameters: Sequence[Mapping[str, Any]]) -> list[str]:
    """The hyperparameter names whose values differ between the runs (one missing counts as differing)."""
    if len(hyperparameters) < 2:
        return []
    names: dict[str, None] = {}
    for values in hyperparameters:
        for name in values:
            names.setdefault(name, None)
    out = []
    for name in names:
        if name in _IGNORED:
            continue
        seen = {json.dumps(values.get(name), sort_keys=True, default=str) for values in hyperparameters}
        if len(seen) > 1:
            out.append(name)
    return out


def _without_stamp(name: str) -> str:
    """A run id without its `YYYYMMDD-HHMMSS-` launch stamp (the part that tells runs apart at a glance)."""
    parts = name.split("-", 2)
    if len(parts) == 3 and len(parts[0]) == 8 and parts[0].isdigit() and parts[1].isdigit() and parts[2]:
        return parts[2]
    return name


def unique_labels(paths: Sequence[Path]) -> list[str]:
    """A short label per run: its folder name (a run id without its launch stamp), with its parent's name where
    two would read the same, and a number where even that does."""
    names = [_without_stamp(path.name) or str(path) for path in paths]
    labels = [
        f"{path.parent.name}/{name}" if names.count(name) > 1 else name for path, name in zip(paths, names, strict=True)
    ]
    return [f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)]


def export_text(runs: Sequence[tuple[str, Sequence[RunEvent]]], suffix: str) -> str:
    """The metrics of one or several runs as CSV (a `run` column first) or JSON ({run: rows})."""
    if suffix == ".json":
        return json.dumps({label: metrics_rows(events) for label, events in runs}, indent=2) + "\n"
    if suffix != ".csv":
        raise ValueError(f"export to .csv or .json, not {suffix or 'a file without an extension'}")
    if len(runs) == 1:
        return metrics_csv(runs[0][1])
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, ["run", "step", *EXPORT_FIELDS], lineterminator="\n")
    writer.writeheader()
    for label, events in runs:
        for row in metrics_rows(events):
            writer.writerow({"run": label, **row})
    return out.getvalue()


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


# --- messages ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedRun:
    """One run as the worker last read it: curves (downsampled), summary, hyperparameters, state."""

    index: int
    label: str
    path: Path
    kind: str
    state: str
    curves: Mapping[str, list[Point]]
    summary: RunSummary
    hyperparameters: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    error: str | None = None


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


def _kind(follower: Any) -> str:
    if isinstance(follower, RunFollower):
        return "hftui"
    if isinstance(follower, TrainerOutputFollower):
        return "trainer"
    return "tboard"


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
        # Touched only by the reading worker, one at a time (a tick never starts a read while one is going).
        self.followers: dict[int, Any] = {}
        self.unreadable: set[int] = set()
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
        first = not self.followers
        for index, path in enumerate(self.run_paths):
            if worker.is_cancelled:
                return
            if index in self.unreadable:
                continue
            follower = self.followers.get(index)
            if follower is None:
                try:
                    follower = self.followers[index] = follower_for(path)
                except ValueError as error:
                    self.unreadable.add(index)
                    self.post_message(CompareRunRead(self._failed(index, path, str(error)), ()))
                    continue
            run = self._poll(index, follower, worker, first)
            if run is not None:
                self.post_message(CompareRunRead(*run))
        self.post_message(CompareLoaded(len(self.run_paths)))

    def _failed(self, index: int, path: Path, message: str) -> ComparedRun:
        return ComparedRun(index, self.labels[index], path, "-", "unreadable", {}, RunSummary(), {}, (), message)

    def _poll(
        self, index: int, follower: Any, worker: Worker[None], first: bool
    ) -> tuple[ComparedRun, tuple[RunEvent, ...]] | None:
        """Poll one follower until it has nothing more; None when nothing changed (and this is not the first)."""
        events: list[RunEvent] = []
        warnings: list[str] = []
        state = "-"
        while not worker.is_cancelled:
            if isinstance(follower, RunFollower):
                update = follower.poll()
                events.extend(update.events)
                warnings.extend(update.warnings)
                state = update.state.state
                if not update.more:
                    break
            else:
                new, problems = follower.poll()
                events.extend(new)
                warnings.extend(problems)
                state = "finished" if follower.finished else "unknown"
                break
        if not events and not warnings and not first:
            return None
        path = self.run_paths[index]
        curves = {name: follower.curves.points(name) for name in CURVES}
        run = ComparedRun(
            index,
            self.labels[index],
            path,
            _kind(follower),
            state,
            curves,
            summarize(curves),
            run_hyperparameters(path, follower),
            tuple(warnings[-5:]),
        )
        return run, tuple(events)

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
        columns = ("Run", "Src", "State", "Step", "Loss", "Best eval loss", f"Best {metric.removeprefix('eval_')}")
        columns = (*columns, *params)
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
            text = export_text(runs, target.suffix.lower())
            target.parent.mkdir(parents=True, exist_ok=True)
            path = write_text_atomically(target, text)
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

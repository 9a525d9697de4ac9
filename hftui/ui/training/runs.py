"""Training: the fine-tuning runs under hftui's runs directory, live, with new run, watch, stop, resume, delete."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static

from hftui.humanize import human_duration
from hftui.paths import runs_dir
from hftui.train.runs import RunRecord, RunsReader, short_run_name
from hftui.train.spec import looks_like_path
from hftui.ui.base import HubScreen
from hftui.ui.untrusted import plain, plain_cell
from hftui.ui.widgets.repo_table import RepoTable

if TYPE_CHECKING:
    from hftui.train.spec import RunSpec

# (label, width): the first five fit 80 columns; the rest scroll into view.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("", 3),
    ("Run", 14),
    ("State", 19),
    ("Step", 9),
    ("Best eval", 10),
    ("Base model", 13),
    ("Dataset", 14),
    ("Type", 4),
    ("Duration", 8),
    ("Started", 11),
)
REFRESH_S = 2.0
# A listing that takes long (a huge live run) waits this many times its own duration before the next one.
SLOW_FACTOR = 5.0
_METRIC_SHORT = {"accuracy": "acc", "f1_macro": "f1", "loss": "loss"}


@dataclass
class RunsListed(Message):
    """The runs directory was read (`seconds`: how long it took)."""

    runs: tuple[RunRecord, ...]
    seconds: float


@dataclass
class RunLaunched(Message):
    """A run from the new-run form was started."""

    run_id: str


@dataclass
class RunActionFailed(Message):
    """Launching, stopping, resuming or deleting a run failed; `message` says why."""

    title: str
    message: str


@dataclass
class RunActionDone(Message):
    """A stop request, resume or delete went through; `message` says what happened."""

    message: str


def state_text(record: RunRecord) -> str:
    """`failed (killed)`, `stopped (requested)`, `running`, ..."""
    if record.reason and record.state in ("failed", "stopped"):
        return f"{record.state} ({record.reason})"
    return record.state


def model_name(model: str | None) -> str:
    """A base model as a list shows it: a Hub id whole, a local folder by its name."""
    if not model:
        return "-"
    return (Path(model).name or model) if looks_like_path(model) else model


def run_cells(record: RunRecord, marked: bool) -> tuple[str, ...]:
    """The table cells of one run."""
    if record.step is not None and record.max_steps:
        progress = f"{record.step}/{record.max_steps}"
    else:
        progress = str(record.step) if record.step is not None else "-"
    best = f"{_METRIC_SHORT.get(record.best.name, record.best.name)} {record.best.value:.3f}" if record.best else "-"
    started = time.strftime("%m-%d %H:%M", time.localtime(record.started_at)) if record.started_at else "-"
    return (
        "[x]" if marked else "",
        short_run_name(record.run_id),
        state_text(record),
        progress,
        best,
        model_name(record.base_model),
        record.dataset or "-",
        "LoRA" if record.lora else "full",
        human_duration(record.duration_s),
        started,
    )


def run_details(record: RunRecord) -> str:
    """The details panel of the highlighted run: id, path, what happened, metrics, where the model is."""
    lines = [f"{record.run_id}  ·  {state_text(record)}  ·  attempt {record.attempts or 1}"]
    if record.state in ("failed", "stopped") and record.message:
        lines.append(record.message)
    elif record.is_live and record.step is not None:
        lines.append(f"step {record.step} of {record.max_steps or '?'}  ·  pid {record.pid or '?'}")
    if record.final_metrics:
        shown = []
        for name in ("accuracy", "f1_macro", "loss"):
            value = record.final_metrics.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                shown.append(f"{name} {value:.4g}")
        if shown:
            lines.append("final: " + ", ".join(shown))
    if record.warnings:
        lines.append(f"warning: {record.warnings[0]}")
    kind = "LoRA" if record.lora else "full"
    lines.append(
        f"{record.base_model or '-'} on {record.dataset or '-'} ({record.task or '-'}, {kind})  ·  "
        f"started {record.started}  ·  ran {human_duration(record.duration_s)}"
    )
    if record.model_dir:
        lines.append(f"model: {record.model_dir}")
    elif record.last_checkpoint:
        lines.append(f"last checkpoint: {record.last_checkpoint}")
    lines.append(f"folder: {record.path}")
    return "\n".join(lines)


class TrainingScreen(HubScreen):
    """Every run with its state and best metric, refreshed live; new run, watch, stop, resume, delete, compare."""

    HELP_TITLE = "Training"
    BINDINGS = [
        Binding("n", "new_run", "New run", id="training.new"),
        Binding("enter", "watch", "Watch", id="training.watch"),
        Binding("s", "stop", "Stop", id="training.stop"),
        Binding("r", "resume", "Resume", id="training.resume"),
        Binding("x", "delete", "Delete", id="training.delete"),
        Binding("delete", "delete", "Delete", show=False, id="training.delete-key"),
        Binding("space", "mark", "Mark", show=False, id="training.mark"),
        Binding("C", "compare", "Compare", id="training.compare"),
        Binding("L", "lora_compare", "LoRA vs full", show=False, id="training.lora-compare"),
        Binding("o", "open_folder", "Open folder", id="training.open"),
        Binding("p", "publish", "Publish", id="training.publish"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: tuple[RunRecord, ...] = ()
        self.marked: set[str] = set()
        self.reader = RunsReader(runs_dir())
        self._shown: list[tuple[str, tuple[str, ...]]] = []
        self._highlight_next: str | None = None
        self._timer: Timer | None = None
        self._interval = REFRESH_S

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Training runs", id="runs-heading", classes="screen-heading")
        yield RepoTable(id="runs-table")
        yield Static("", id="runs-empty", classes="empty-state")
        yield Static("", id="runs-details")

    def on_mount(self) -> None:
        self.query_one("#runs-table", RepoTable).show_rows(COLUMNS, [])
        self.refresh_runs()
        self._timer = self.set_interval(REFRESH_S, self.refresh_runs)

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self) -> None:
        self.refresh_runs()
        if self._timer is not None:
            self._timer.resume()

    # Reading the runs.

    def refresh_runs(self) -> None:
        """Re-read the runs directory, unless a read is still under way."""
        listing = any(w.group == "runs-list" and w.node is self and not w.is_finished for w in self.app.workers)
        if not listing:
            self.list_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list", description="List runs")
    def list_runs(self) -> None:
        """Read the runs directory off the event loop."""
        started = time.perf_counter()
        runs = self.reader.read()
        self.post_message(RunsListed(runs, time.perf_counter() - started))

    @on(RunsListed)
    def show_runs(self, event: RunsListed) -> None:
        """Fill the runs table; the cursor stays on the run it was on."""
        self.runs = event.runs
        # A slow listing (a huge live run) must not keep a thread busy all the time.
        wanted = max(REFRESH_S, event.seconds * SLOW_FACTOR)
        if self._timer is not None and abs(self._interval - wanted) > 0.5:
            self._timer.stop()
            self._interval = wanted
            self._timer = self.set_interval(wanted, self.refresh_runs, pause=not self.is_current)
        self.show_table()

    def show_table(self) -> None:
        """Bring the table, the heading and the details up to date with `runs` and the marks."""
        table = self.query_one("#runs-table", RepoTable)
        present = {run.run_id for run in self.runs}
        self.marked &= present
        rows = [(run.run_id, run_cells(run, run.run_id in self.marked)) for run in self.runs]
        current = self.highlighted
        keep = self._highlight_next if self._highlight_next in present else (current.run_id if current else None)
        if self._highlight_next in present:
            self._highlight_next = None
        if [key for key, _ in rows] == [key for key, _ in self._shown]:
            for index, ((_, cells), (_, before)) in enumerate(zip(rows, self._shown, strict=True)):
                for column, (value, old) in enumerate(zip(cells, before, strict=True)):
                    if value != old:
                        table.update_cell_at(Coordinate(index, column), plain_cell(value))
        else:
            old_row = table.cursor_row
            table.show_rows(COLUMNS, rows)
            keys = [key for key, _ in rows]
            if keep in keys:
                table.move_cursor(row=keys.index(keep))
            elif rows:
                table.move_cursor(row=min(old_row, len(rows) - 1))
        self._shown = rows
        self.refresh_bindings()
        count = len(self.runs)
        live = sum(run.is_live for run in self.runs)
        heading = f"Training runs: {count}" + (f", {live} live" if live else "") if count else "Training runs"
        if self.marked:
            heading += f" · {len(self.marked)} marked"
        if count:
            heading += " · enter watch · space mark · ? keys"
        self.query_one("#runs-heading", Static).update(plain(heading))
        table.display = bool(rows)
        empty = self.query_one("#runs-empty", Static)
        empty.display = not rows
        empty.update(
            plain(
                f"No training runs yet in {runs_dir()}.\n\n"
                "n: a new run (a form for the model, the dataset and the settings)\n"
                "or from a spec file: hftui train SPEC.json\n"
                "o: watch a Trainer output_dir or a TensorBoard log dir"
            )
        )
        self.show_details()

    @property
    def highlighted(self) -> RunRecord | None:
        """The run under the cursor."""
        table = self.query_one("#runs-table", RepoTable)
        if not self.runs or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((run for run in self.runs if run.run_id == key), None)

    @on(DataTable.RowHighlighted, "#runs-table")
    def show_details(self) -> None:
        """Describe the highlighted run below the table."""
        details = self.query_one("#runs-details", Static)
        run = self.highlighted
        details.display = run is not None
        details.update(plain(run_details(run)) if run is not None else "")

    def _selected(self) -> RunRecord | None:
        run = self.highlighted
        if run is None:
            self.notify("No run here yet: n starts one.", markup=False)
        return run

    # Watching, comparing.

    @on(DataTable.RowSelected, "#runs-table")
    def watch_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its watcher."""
        event.stop()
        self.action_watch()

    def action_watch(self) -> None:
        """Watch the highlighted run live (or replay a finished one)."""
        run = self._selected()
        if run is not None:
            self._open_watcher(run.path)

    def action_publish(self) -> None:
        """Publish the highlighted run's saved model, with the card the run wrote (editable from there)."""
        run = self._selected()
        if run is not None:
            from hftui.ui.publish.navigation import publish_run_model

            publish_run_model(self, run.model_dir, run.state)

    def _open_watcher(self, path: Path) -> None:
        try:
            from hftui.ui.training.run_watcher import RunWatcherScreen
        except ImportError as error:
            self.notify(f"The run watcher is not available: {error}", severity="error", markup=False)
            return
        self.app.push_screen(RunWatcherScreen(path))

    def action_mark(self) -> None:
        """Mark or unmark the highlighted run for compare."""
        run = self.highlighted
        if run is None:
            return
        self.marked ^= {run.run_id}
        self.show_table()
        table = self.query_one("#runs-table", RepoTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_compare(self) -> None:
        """Overlay the curves of the marked runs (or of the highlighted one)."""
        paths = [run.path for run in self.runs if run.run_id in self.marked]
        if not paths:
            run = self._selected()
            if run is None:
                return
            paths = [run.path]
        try:
            from hftui.ui.training.run_compare import RunCompareScreen
        except ImportError as error:
            self.notify(f"Compare is not available: {error}", severity="error", markup=False)
            return
        self.app.push_screen(RunCompareScreen(paths))

    def action_lora_compare(self) -> None:
        """Full fine-tuning against LoRA for the highlighted run's base model (or one chosen there)."""
        run = self.highlighted
        try:
            from hftui.ui.training.lora_compare import LoraCompareScreen
        except ImportError as error:
            self.notify(f"The LoRA comparison is not available: {error}", severity="error", markup=False)
            return
        if run is None:
            self.app.push_screen(LoraCompareScreen())
            return
        data = run.dataset_ref or {}
        location = data.get("location") if isinstance(data.get("location"), str) else None
        if location and data.get("kind", "local") == "local" and not Path(location).expanduser().is_absolute():
            location = str(run.path / location)  # a spec's relative paths follow the spec file
        # The text dataset the run trained on; a config or an image task is not what the comparison trains.
        usable = location and not data.get("config") and run.task != "image-classification"
        self.app.push_screen(
            LoraCompareScreen(
                run.base_model,
                dataset=location if usable else None,
                text_column=data.get("text_column") or "text",
                label_column=data.get("label_column") or "label",
            )
        )

    def action_open_folder(self) -> None:
        """Watch a folder hftui did not start: a Trainer output_dir or a TensorBoard log dir."""
        from hftui.ui.dialogs.path_prompt import PathPromptScreen

        def chosen(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer).expanduser()
            if not path.is_dir():
                self.notify(f"{answer} is not a folder.", severity="warning", markup=False)
                return
            self._open_watcher(path)

        prompt = PathPromptScreen(
            "Watch a folder: a Trainer output_dir or a TensorBoard log dir",
            hint="tab completes · enter opens the watcher · escape cancels",
        )
        self.app.push_screen(prompt, chosen)

    # New run, stop, resume, delete.

    def action_new_run(self) -> None:
        """Fill in a run spec; the run starts when the form is sent."""
        from hftui.ui.training.run_form import RunFormScreen

        def sent(spec: RunSpec | None) -> None:
            if spec is not None:
                self.notify("Starting the run...", markup=False, timeout=3)
                self.launch_run(spec)

        self.app.push_screen(RunFormScreen(), sent)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-launch", description="Start a run")
    def launch_run(self, spec: RunSpec) -> None:
        """Start the run detached (the form has run the checks that read the dataset and the model)."""
        from hftui.train.launch import RunError, start_run

        try:
            run_id = start_run(spec, runs_dir(), check=False)
        except (RunError, OSError) as error:
            self.post_message(RunActionFailed("Run not started", str(error)))
            return
        self.post_message(RunLaunched(run_id))

    @on(RunLaunched)
    def highlight_launched(self, event: RunLaunched) -> None:
        """Show the new run, highlighted."""
        self._highlight_next = event.run_id
        self.notify(f"Run {event.run_id} started.", title="Training", markup=False)
        self.list_runs()

    def action_stop(self) -> None:
        """Ask the highlighted live run to stop: it saves a checkpoint, then ends."""
        run = self._selected()
        if run is None:
            return
        if not run.is_live:
            self.notify(f"Run {run.run_id} is {run.state}: there is nothing to stop.", markup=False)
            return
        self.control_run("stop", run.path)

    def action_resume(self) -> None:
        """Start the highlighted stopped or failed run again from its last checkpoint."""
        run = self._selected()
        if run is None:
            return
        if run.state not in ("stopped", "failed"):
            why = "is still running" if run.is_live else f"is {run.state}"
            self.notify(f"Run {run.run_id} {why}: only stopped or failed runs resume.", markup=False)
            return
        self.control_run("resume", run.path)

    def action_delete(self) -> None:
        """Delete the highlighted run's folder after a confirmation (never a live run)."""
        run = self._selected()
        if run is None:
            return
        if run.is_live:
            self.notify(
                f"Run {run.run_id} is {run.state}: stop it first (s), then delete it.",
                severity="warning",
                markup=False,
            )
            return
        from hftui.ui.dialogs.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.control_run("delete", run.path)

        details = f"{run.path}\n{state_text(run)}; its checkpoints and saved model go too. This cannot be undone."
        self.app.push_screen(ConfirmScreen(f"Delete run {run.run_id}?", details), answered)

    # Not exclusive: a stop of one run must not be cancelled by a delete of another.
    @work(thread=True, exclusive=False, exit_on_error=False, group="runs-control", description="Run control")
    def control_run(self, what: str, run_dir: Path) -> None:
        """Stop, resume or delete a run (each touches the run's files or starts a process)."""
        from hftui.train.launch import RunError, request_stop, resume_run
        from hftui.train.runs import delete_run

        name = run_dir.name
        try:
            if what == "stop":
                if request_stop(run_dir):
                    message = f"Stop requested for {name}: it saves a checkpoint and ends (r resumes it)."
                else:
                    message = f"Run {name} has already ended."
            elif what == "resume":
                attempt = resume_run(run_dir)
                message = f"Run {name} resumed from its last checkpoint (attempt {attempt})."
            else:
                delete_run(run_dir)
                message = f"Run {name} deleted."
        except (RunError, RuntimeError, OSError) as error:
            self.post_message(RunActionFailed(f"Could not {what} the run", str(error)))
            return
        self.post_message(RunActionDone(message))

    @on(RunActionDone)
    def report_done(self, event: RunActionDone) -> None:
        """Say what happened and show it in the list."""
        self.notify(event.message, title="Training", markup=False)
        self.list_runs()

    @on(RunActionFailed)
    def report_failure(self, event: RunActionFailed) -> None:
        """Say why a launch, stop, resume or delete did not happen."""
        self.notify(event.message, title=event.title, severity="error", markup=False, timeout=10)

    def marked_paths(self) -> Sequence[Path]:
        """The folders of the runs marked for compare, in list order."""
        return [run.path for run in self.runs if run.run_id in self.marked]

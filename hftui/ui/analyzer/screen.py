"""Analyzer: gather inputs, choose tasks, models, device and batch size, and run queued jobs and benchmarks.

A job flows like this: typed paths (collected in a worker), pasted text and the app's `analyzer_inbox` (sent
from the Datasets screen) become the pending inputs; `r` turns them and the settings into a `JobSpec` and
queues an `AnalyzerJob`. One job at a time runs in the "analyzer-job" thread worker; its engine events come
back as messages (rows coalesced to a few messages a second) and the handlers here own every bit of UI state:
the job list, the rows appended to the results table, the summary. Cancelling sets the job's
`threading.Event`, which the engine reads between batches and after each model load.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from hftui.analyze.benchmark import BenchmarkResult, BenchmarkRow, ModelBenchmarked, run_benchmark
from hftui.analyze.engine import (
    AnalyzerEvent,
    ItemResult,
    ItemsAnalysed,
    JobResult,
    JobSpec,
    JobStarted,
    JobWarned,
    ModelLoadPhased,
    MultiModalAnalyzer,
)
from hftui.analyze.inputs import AnalysisInput, count_by_modality
from hftui.analyze.pipelines import DEFAULT_MODELS, ModelChoice, ModelRefused, check_model, resolve_model
from hftui.analyze.reports import format_for, write_report
from hftui.analyze.sources import CollectedInputs, InputProblem, collect_inputs
from hftui.analyze.tasks import ANALYZER_TASKS, analyzer_task, tag_fits
from hftui.device import GIB, ComputeDevice
from hftui.hub.cache import CacheScan
from hftui.hub.plain_text import printable
from hftui.humanize import human_size
from hftui.paths import hftui_home
from hftui.ui.analyzer.benchmark import BenchmarkSetupScreen
from hftui.ui.analyzer.result import ResultDetailScreen
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.dialogs.text_paste import PasteTextScreen
from hftui.ui.untrusted import plain, plain_cell
from hftui.ui.widgets.path_input import PathInput
from hftui.ui.widgets.repo_table import RepoTable
from hftui.ui.widgets.result_rows import ResultRows

JOB_GROUP = "analyzer-job"
# Rows reach the screen at most this often (the first batch at once): a fast model finishes hundreds of
# batches a second, and one message per batch would keep the event loop busy drawing.
RELAY_INTERVAL_S = 0.1
# The results table takes at most this many new rows per feed, one feed every ROW_FEED_S while it is behind
# (showing a job of 100,000 rows fills the table in steps instead of one long stall).
ROWS_PER_FEED = 1000
ROW_FEED_S = 0.05
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
ACTIVE_STATES = frozenset({"starting", "loading", "running", "cancelling"})
ENDED_STATES = frozenset({"finished", "cancelled", "failed"})
STATE_WORDS = {
    "queued": "… queued",
    "starting": "▶ starting",
    "loading": "▶ loading",
    "running": "▶ running",
    "cancelling": "⊘ stopping",
    "finished": "✓ finished",
    "cancelled": "⊘ cancelled",
    "failed": "✗ failed",
}
SHORT_TASKS = {
    "text-classification": "sentiment",
    "image-classification": "classify",
    "image-text-to-text": "caption",
    "automatic-speech-recognition": "speech",
}
# A width of 0: the column takes what the terminal has left (so 80 columns need no horizontal scrolling).
TASK_COLUMNS = (("On", 2), ("Task", 28), ("Input", 5), ("Model", 0), ("Source", 10))
JOB_COLUMNS = (("#", 2), ("Job", 17), ("State", 11), ("Progress", 13), ("Items/s", 7), ("ETA", 5), ("Model", 0))
RESULT_COLUMNS = (("Input", 22), ("Task", 9), ("Output", 0), ("ms", 5))
BENCHMARK_COLUMNS = (
    ("Model", 0), ("State", 7), ("Load s", 6), ("p50 ms", 6), ("p95 ms", 6), ("Items/s", 7),
    ("Memory", 8), ("Acc", 6), ("F1", 5),
)  # fmt: skip
BENCHMARK_STATES = {"finished": "✓ done", "failed": "✗ fail", "cancelled": "⊘ stop"}


def describe_device(device: ComputeDevice | None) -> str:
    """The compute device on one line: kind, name, capability, free GPU memory."""
    if device is None:
        return "Detecting the compute device…"
    parts = [device.label]
    if device.capability:
        parts.append(f"compute capability {device.capability}")
    if device.kind == "cuda" and device.total_memory and device.used_memory is not None:
        parts.append(f"{(device.total_memory - device.used_memory) / GIB:.1f} GiB free")
    return " · ".join(parts)


def device_choices(device: ComputeDevice | None) -> tuple[str, ...]:
    """The devices a job can be asked to run on here: auto and the CPU always, CUDA or MPS when detected."""
    choices = ["auto", "cpu"]
    if device is not None and device.kind == "cuda":
        choices += ["cuda"] if device.count <= 1 else [f"cuda:{index}" for index in range(device.count)]
    if device is not None and device.kind == "mps":
        choices.append("mps")
    return tuple(choices)


def fit_columns(columns: Sequence[tuple[str, int]], width: int) -> list[tuple[str, int]]:
    """The columns with the one of width 0 given the room left in `width` cells (cell padding and scrollbar
    counted), at least 10."""
    used = sum(size for _, size in columns) + 2 * len(columns) + 2
    return [(label, size or max(width - used, 10)) for label, size in columns]


def progress_cell(done: int, total: int, width: int = 8) -> str:
    """A progress bar in text (readable without colour): eight cells and the percentage."""
    if total <= 0:
        return "░" * width
    fraction = min(max(done / total, 0.0), 1.0)
    filled = int(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction:4.0%}"


def duration(seconds: float | None) -> str:
    """Seconds as 0:07, 3:05 or 1:02:09; '' when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate(items_per_s: float) -> str:
    """Items per second, short."""
    if items_per_s <= 0:
        return ""
    return f"{items_per_s:.1f}" if items_per_s < 10 else f"{items_per_s:,.0f}"


def short_model(model: str) -> str:
    """A model's last path component: a long local path fits a table cell."""
    return model.rstrip("/").rsplit("/", 1)[-1] if model.startswith(("/", ".", "~")) else model


def input_cell(item: AnalysisInput | None, result: ItemResult) -> str:
    """What the results table shows of an input: the text itself, else the file name."""
    if item is not None and item.modality == "text" and isinstance(item.value, str):
        return " ".join(item.value.split())
    return os.path.basename(result.origin) or result.origin


@dataclass(frozen=True)
class BenchmarkPlan:
    """A benchmark: the models compared for one task, and labels aligned with the inputs (None: speed only)."""

    task: str
    models: tuple[str, ...]
    labels: tuple[object | None, ...] | None = None


@dataclass(eq=False)
class AnalyzerJob:
    """One job as the screen shows it; owned by the event loop (its worker sees only the spec and the event)."""

    number: int
    spec: JobSpec
    cached_models: tuple[tuple[str, str | None], ...]
    benchmark: BenchmarkPlan | None = None
    state: str = "queued"
    done: int = 0
    total: int = 0
    items_per_s: float = 0.0
    eta_s: float | None = None
    phase: str = ""
    device: str = ""
    rows: list[ItemResult] = field(default_factory=list)
    bench_rows: list[BenchmarkRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    result: JobResult | None = None
    benchmark_result: BenchmarkResult | None = None
    error: str | None = None
    remote_code_model: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    models_done: int = 0
    per_model: int = 0

    @property
    def title(self) -> str:
        """What the job does, short: "sentiment+caption", "bench sentiment x3"."""
        if self.benchmark is not None:
            return f"bench {SHORT_TASKS.get(self.benchmark.task, self.benchmark.task)} x{len(self.benchmark.models)}"
        return "+".join(SHORT_TASKS.get(task, task) for task in self.spec.tasks) or "analysis"

    @property
    def ended(self) -> bool:
        """Whether the job is over (finished, cancelled or failed)."""
        return self.state in ENDED_STATES

    @property
    def report(self) -> JobResult | BenchmarkResult | None:
        """What an export writes: the job's result or the benchmark's."""
        return self.benchmark_result if self.benchmark is not None else self.result


# --- messages from the workers --------------------------------------------------------------------------------


@dataclass
class InputsCollected(Message):
    """A typed path was read: the inputs found there and the problems."""

    path: str
    collected: CollectedInputs


@dataclass
class AnalysisStarted(Message):
    """A job (or one model of a benchmark) is planned: how many items, on which device."""

    number: int
    total: int
    device: str
    dtype: str


@dataclass
class AnalysisModelPhased(Message):
    """A job's model moved to a load phase ("checking", "loading", "ready", "cached")."""

    number: int
    task: str
    model: str
    phase: str


@dataclass
class AnalysisRowsArrived(Message):
    """Rows of one or more batches, and the job's progress after them."""

    number: int
    rows: tuple[ItemResult, ...]
    done: int
    total: int
    items_per_s: float
    eta_s: float | None


@dataclass
class AnalysisWarned(Message):
    """Something about the job the user should know; it goes on."""

    number: int
    message: str


@dataclass
class AnalysisModelCompared(Message):
    """One model of a benchmark finished."""

    number: int
    row: BenchmarkRow


@dataclass
class AnalysisEnded(Message):
    """A job ended; `remote_code_model` names a model it refused that would load with trust_remote_code."""

    number: int
    result: JobResult | None
    benchmark: BenchmarkResult | None = None
    remote_code_model: str | None = None


@dataclass
class ReportWritten(Message):
    """A job's report was written."""

    number: int
    path: Path


@dataclass
class ReportFailed(Message):
    """A report could not be written."""

    number: int
    text: str


_frozen = threading.Event()


def freeze_loaded_objects() -> None:
    """Once per process, after the first model load: move every object alive now (torch, transformers, the
    model) out of the cyclic garbage collector's reach. Otherwise each full collection walks those millions of
    objects while holding the GIL, a stall of several hundred ms that the event loop feels as a frozen UI."""
    if not _frozen.is_set():
        _frozen.set()
        gc.freeze()


class EventRelay:
    """Turns the engine's events into screen messages, in the worker thread.

    Load phases, warnings and benchmark rows go at once; result rows are gathered and sent at most every
    `interval` seconds (the first batch at once), so a fast model costs the event loop a few messages a second.
    """

    def __init__(
        self,
        post: Callable[[Message], object],
        number: int,
        *,
        keep_rows: bool = True,
        interval: float = RELAY_INTERVAL_S,
    ) -> None:
        self.post = post
        self.number = number
        self.keep_rows = keep_rows
        self.interval = interval
        self.rows: list[ItemResult] = []
        self.latest: ItemsAnalysed | None = None
        self.sent_at = 0.0

    def __call__(self, event: AnalyzerEvent | ModelBenchmarked) -> None:
        if isinstance(event, ItemsAnalysed):
            if self.keep_rows:
                self.rows.extend(event.results)
            self.latest = event
            if time.monotonic() - self.sent_at >= self.interval:
                self.flush()
        elif isinstance(event, JobStarted):
            self.flush()
            self.post(AnalysisStarted(self.number, event.total, event.device, event.dtype))
        elif isinstance(event, ModelLoadPhased):
            if event.phase == "ready":
                freeze_loaded_objects()
            self.flush()
            self.post(AnalysisModelPhased(self.number, event.task, event.model, event.phase))
        elif isinstance(event, JobWarned):
            self.post(AnalysisWarned(self.number, event.message))
        elif isinstance(event, ModelBenchmarked):
            self.flush()
            self.post(AnalysisModelCompared(self.number, event.row))
        # JobEnded: the worker sends AnalysisEnded itself once run() has returned.

    def flush(self) -> None:
        """Send the rows gathered so far with the newest progress."""
        latest = self.latest
        if latest is None:
            return
        rows, self.rows, self.latest = tuple(self.rows), [], None
        self.post(AnalysisRowsArrived(self.number, rows, latest.done, latest.total, latest.items_per_s, latest.eta_s))
        self.sent_at = time.monotonic()


def remote_code_needed(choices: Iterable[ModelChoice], allowed: frozenset[str]) -> str | None:
    """The first model among `choices` that loads only with trust_remote_code and was not allowed (reads files)."""
    for choice in choices:
        if choice.model in allowed:
            continue
        try:
            check = check_model(choice, allow_remote_code=frozenset({choice.model}))
        except ModelRefused:
            continue  # refused for another reason, which allowing its code would not change
        except Exception:  # an unreadable folder: the job's own error says enough
            continue
        if check.trust_remote_code:
            return choice.model
    return None


class AnalyzerScreen(HubScreen):
    """Inputs, tasks and models, a queue of jobs with live progress, and the rows of the selected job."""

    HELP_TITLE = "Analyzer"
    BINDINGS = [
        Binding("i", "add_path", "Add path", id="analyzer.add-path"),
        Binding("p", "paste_text", "Paste", id="analyzer.paste"),
        Binding("r", "run_job", "Run", id="analyzer.run"),
        Binding("c", "cancel_job", "Cancel", id="analyzer.cancel"),
        Binding("escape", "back_or_cancel", "Back/cancel", show=False, id="analyzer.escape"),
        Binding("e", "export", "Export", id="analyzer.export"),
        Binding("b", "benchmark", "Benchmark", id="analyzer.benchmark"),
        Binding("space", "toggle_task", "Task on/off", id="analyzer.toggle-task"),
        Binding("M", "choose_model", "Model", show=False, id="analyzer.model"),
        Binding("D", "choose_device", "Device", show=False, id="analyzer.device"),
        Binding("N", "choose_batch_size", "Batch size", show=False, id="analyzer.batch"),
        Binding("x", "clear_inputs", "Clear inputs", show=False, id="analyzer.clear"),
        Binding("R", "rerun", "Rerun job", show=False, id="analyzer.rerun"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.inputs: tuple[AnalysisInput, ...] = ()
        self.sources: list[str] = []
        self.problems: list[InputProblem] = []
        self.collecting = 0
        self.pasted = 0
        self.inbox_taken = 0
        self.enabled_tasks = {task.pipeline_tag for task in ANALYZER_TASKS}
        self.models: dict[str, str] = {}
        self.device_choice = "auto"
        self.batch_size = 8
        self.allowed_remote_code: set[str] = set()
        self.jobs: list[AnalyzerJob] = []
        self.selected: AnalyzerJob | None = None
        self.shown_rows = 0
        self.feed_due = False
        self.job_workers: dict[Worker[None], int] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="analyzer-device")
        yield PathInput(placeholder="i: a file or folder to analyse (tab completes, enter adds)", id="analyzer-path")
        yield Static("", id="analyzer-inbox")
        yield RepoTable(id="analyzer-tasks")
        yield RepoTable(id="analyzer-jobs")
        yield Static("", id="analyzer-summary")
        yield ResultRows(id="analyzer-results")

    def on_mount(self) -> None:
        jobs = self.query_one("#analyzer-jobs", RepoTable)
        for label, width in fit_columns(JOB_COLUMNS, self.app.size.width):
            jobs.add_column(label, width=width, key=label)
        jobs.display = False
        self.query_one("#analyzer-summary").display = False
        self.query_one("#analyzer-results").display = False
        self.watch(self.app, "device", self.show_device)
        self.watch(self.app, "cache_scan", lambda _scan: self.show_tasks())
        self.watch(self.app, "analyzer_inbox", self.take_inbox)
        self.show_inputs()
        self.set_focus(self.query_one("#analyzer-tasks"))

    def on_unmount(self) -> None:
        for job in self.jobs:  # a running engine stops at its next batch instead of outliving the app
            job.cancel.set()

    # --- settings -------------------------------------------------------------------------------------------

    @property
    def cached_models(self) -> tuple[tuple[str, str | None], ...]:
        """(repo id, pipeline tag) of every cached model, from the app's cache scan."""
        scan: CacheScan | None = hub_app(self).cache_scan
        return tuple((repo.repo_id, repo.pipeline_tag) for repo in scan.of_type("model")) if scan else ()

    def show_device(self, device: ComputeDevice | None = None) -> None:
        """The device line: what was detected and what jobs will run on."""
        device = hub_app(self).device
        choice = self.device_choice
        if choice == "auto" and device is not None:
            choice = f"auto ({'cuda' if device.kind == 'cuda' else device.kind})"
        allowed = (
            f" · remote code allowed: {', '.join(sorted(self.allowed_remote_code))}" if self.allowed_remote_code else ""
        )
        line = f"{describe_device(device)} · run on {choice} (D) · batch {self.batch_size} (N){allowed}"
        self.query_one("#analyzer-device", Static).update(plain(line, single_line=True))

    def show_tasks(self) -> None:
        """Each task: on or off, what it takes, the model it will run and why (chosen, cached, default), and how
        many other cached models fit (enter lists them)."""
        table = self.query_one("#analyzer-tasks", RepoTable)
        cursor = table.cursor_row
        cached = self.cached_models
        rows = []
        for task in ANALYZER_TASKS:
            tag = task.pipeline_tag
            choice = resolve_model(tag, self.models.get(tag), cached)
            fitting = [repo_id for repo_id, pipeline_tag in cached if tag_fits(tag, pipeline_tag)]
            on_off = "✓" if tag in self.enabled_tasks else "·"
            source = {"requested": "chosen"}.get(choice.source, choice.source)
            others = len([repo_id for repo_id in fitting if repo_id != choice.model])
            source += f" +{others}" if others else ""
            rows.append((tag, (on_off, tag, task.modality, short_model(choice.model), source)))
        table.show_rows(fit_columns(TASK_COLUMNS, self.app.size.width), rows)
        if 0 <= cursor < len(rows):
            table.move_cursor(row=cursor, animate=False)

    def current_task(self) -> str | None:
        """The task under the tasks table's cursor."""
        table = self.query_one("#analyzer-tasks", RepoTable)
        if table.row_count == 0:
            return None
        return ANALYZER_TASKS[min(max(table.cursor_row, 0), len(ANALYZER_TASKS) - 1)].pipeline_tag

    def action_toggle_task(self) -> None:
        """Turn the highlighted task on or off for the next jobs."""
        task = self.current_task()
        if task is None:
            return
        self.enabled_tasks ^= {task}
        self.show_tasks()

    @on(DataTable.RowSelected, "#analyzer-tasks")
    def choose_model_for_row(self) -> None:
        """Enter on a task chooses its model."""
        self.action_choose_model()

    def action_choose_model(self) -> None:
        """Pick the highlighted task's model: automatic, a cached one that fits, the default, or a typed one."""
        task = self.current_task()
        if task is None:
            return
        fitting = [repo_id for repo_id, tag in self.cached_models if tag_fits(task, tag)]
        automatic = resolve_model(task, None, self.cached_models).model
        items = [f"automatic: {automatic} (the first cached model that fits, else the default)"]
        items += [f"cached: {repo_id}" for repo_id in fitting]
        items += [f"default: {DEFAULT_MODELS[task]}", "type a Hub id or a local model folder…"]
        models: list[str | None] = [None, *fitting, DEFAULT_MODELS[task]]

        def typed(model: str | None) -> None:
            if model:
                self.models[task] = model
                self.show_tasks()

        def chosen(index: int | None) -> None:
            if index is None:
                return
            if index == len(models):
                current = self.models.get(task, "")
                hint = "a Hub id (org/name) or a local folder; tab completes paths · escape cancels"
                self.app.push_screen(PathPromptScreen(f"Model for {task}", current, hint=hint), typed)
                return
            model = models[index]
            if model is None:
                self.models.pop(task, None)
            else:
                self.models[task] = model
            self.show_tasks()

        self.app.push_screen(ChoiceScreen(f"Model for {task}", items), chosen)

    def action_choose_device(self) -> None:
        """Pick the device jobs run on (auto picks CUDA, else MPS, else the CPU)."""
        choices = device_choices(hub_app(self).device)

        def chosen(index: int | None) -> None:
            if index is not None:
                self.device_choice = choices[index]
                self.show_device()

        self.app.push_screen(ChoiceScreen("Run the next jobs on", choices), chosen)

    def action_choose_batch_size(self) -> None:
        """Pick how many items go through the model at once."""
        labels = [f"{size}" + (" (current)" if size == self.batch_size else "") for size in BATCH_SIZES]

        def chosen(index: int | None) -> None:
            if index is not None:
                self.batch_size = BATCH_SIZES[index]
                self.show_device()

        self.app.push_screen(ChoiceScreen("Batch size (lower it after an out-of-memory error)", labels), chosen)

    # --- inputs ---------------------------------------------------------------------------------------------

    def action_add_path(self) -> None:
        """Type a file or folder to add."""
        self.set_focus(self.query_one("#analyzer-path", PathInput))

    @on(Input.Submitted, "#analyzer-path")
    def add_path(self, event: Input.Submitted) -> None:
        """Enter in the path box collects that path's inputs in a worker; the box clears for the next one."""
        text = event.value.strip()
        if not text:
            self.set_focus(self.query_one("#analyzer-tasks"))
            return
        event.input.value = ""
        self.collecting += 1
        self.show_inputs()
        self.collect(text)

    @work(thread=True, exit_on_error=False, group="analyzer-collect", description="Read analysis inputs")
    def collect(self, path: str) -> None:
        """Read one path (a folder recursively) off the event loop; not exclusive, each path is its own request."""
        self.post_message(InputsCollected(path, collect_inputs([path])))

    @on(InputsCollected)
    def add_collected(self, event: InputsCollected) -> None:
        """Add what the path gave; say what it did not."""
        self.collecting = max(self.collecting - 1, 0)
        self.problems.extend(event.collected.problems)
        for problem in event.collected.problems:
            self.notify(
                printable(f"{problem.path} {problem.message}."), title="Not added", severity="warning", markup=False
            )
        self.add_inputs(event.collected.inputs, event.path)

    def action_paste_text(self) -> None:
        """Paste or type text; each non-empty line becomes a text input."""

        def pasted(text: str | None) -> None:
            if not text:
                return
            items = []
            for line in text.splitlines():
                if line.strip():
                    self.pasted += 1
                    items.append(AnalysisInput("text", f"pasted {self.pasted}", line))
            self.add_inputs(tuple(items), "pasted text")

        self.app.push_screen(PasteTextScreen(), pasted)

    def take_inbox(self, inbox: tuple[AnalysisInput, ...]) -> None:
        """Adopt what the Datasets screen sent since last time (the app keeps the inbox until inputs are cleared)."""
        if len(inbox) < self.inbox_taken:
            self.inbox_taken = 0
        new = inbox[self.inbox_taken :]
        self.inbox_taken = len(inbox)
        if new:
            origins = dict.fromkeys(item.origin.rsplit(" row ", 1)[0] for item in new)
            self.add_inputs(new, *origins)

    def add_inputs(self, items: Sequence[AnalysisInput], *sources: str) -> None:
        """Add inputs to the pending ones."""
        if items:
            self.inputs = (*self.inputs, *items)
            for source in sources:
                if source not in self.sources:
                    self.sources.append(source)
        self.show_inputs()

    def action_clear_inputs(self) -> None:
        """Forget the pending inputs (and the Datasets screen's inbox); queued jobs keep theirs."""
        self.inputs = ()
        self.sources = []
        self.problems = []
        hub_app(self).analyzer_inbox = ()
        hub_app(self).analyzer_labels.clear()
        self.show_inputs()

    def show_inputs(self) -> None:
        """Say what waits to be analysed, by modality and origin, and which paths gave nothing."""
        panel = self.query_one("#analyzer-inbox", Static)
        if self.inputs:
            counts = ", ".join(f"{count} {modality}" for modality, count in count_by_modality(self.inputs).items())
            shown = ", ".join(self.sources[:3]) + (
                f" and {len(self.sources) - 3} more" if len(self.sources) > 3 else ""
            )
            text = f"Waiting for analysis: {counts} (from {shown}) · r runs, x clears"
        else:
            text = "No inputs yet: i adds a file or folder, p pastes text, A in a dataset preview sends a column."
        if self.collecting:
            text += f" · reading {self.collecting} path(s)…"
        if self.problems:
            first = self.problems[-1]
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            text += f"\n⚠ {first.path} {first.message}{more}"
        panel.update(plain(text))
        panel.set_class(bool(self.problems), "-problem")

    # --- jobs ---------------------------------------------------------------------------------------------

    def job(self, number: int) -> AnalyzerJob | None:
        """The job with this number."""
        return self.jobs[number - 1] if 0 < number <= len(self.jobs) else None

    def running_job(self) -> AnalyzerJob | None:
        """The job being run, if any."""
        return next((job for job in self.jobs if job.state in ACTIVE_STATES), None)

    def action_run_job(self) -> None:
        """Queue a job for the pending inputs with the chosen tasks, models, device and batch size."""
        if not self.inputs:
            self.notify("Add inputs first: i types a path, p pastes text.", markup=False)
            return
        modalities = {item.modality for item in self.inputs}
        tasks = tuple(
            task.pipeline_tag
            for task in ANALYZER_TASKS
            if task.pipeline_tag in self.enabled_tasks and task.modality in modalities
        )
        if not tasks:
            self.notify("No task that is switched on takes these inputs (space switches a task on).", markup=False)
            return
        self.queue(self.job_spec(tasks, self.inputs))

    def job_spec(self, tasks: tuple[str, ...], inputs: tuple[AnalysisInput, ...]) -> JobSpec:
        """The spec for the screen's current settings."""
        return JobSpec(
            inputs=inputs,
            tasks=tasks,
            models={task: self.models[task] for task in tasks if task in self.models},
            device=None if self.device_choice == "auto" else self.device_choice,
            batch_size=self.batch_size,
            allow_remote_code=frozenset(self.allowed_remote_code),
            notes=tuple(f"{problem.path} {problem.message}." for problem in self.problems),
        )

    def queue(self, spec: JobSpec, benchmark: BenchmarkPlan | None = None) -> AnalyzerJob:
        """Add a job to the queue and the job list, select it, and start it when nothing else runs."""
        job = AnalyzerJob(len(self.jobs) + 1, spec, self.cached_models, benchmark)
        self.jobs.append(job)
        table = self.query_one("#analyzer-jobs", RepoTable)
        table.display = True
        table.add_row(*self.job_cells(job), key=str(job.number))
        table.move_cursor(row=table.row_count - 1, animate=False)
        self.select_job(job)
        self.start_next_job()
        return job

    def start_next_job(self) -> None:
        """Run the oldest queued job, unless one is running."""
        if self.running_job() is not None:
            return
        job = next((job for job in self.jobs if job.state == "queued"), None)
        if job is None:
            return
        job.state = "starting"
        worker = self.run_job(job.number, job.spec, job.cached_models, job.benchmark, job.cancel)
        self.job_workers[worker] = job.number
        self.show_job(job)

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB_GROUP, description="Run an analysis job")
    def run_job(
        self,
        number: int,
        spec: JobSpec,
        cached_models: tuple[tuple[str, str | None], ...],
        benchmark: BenchmarkPlan | None,
        cancel: threading.Event,
    ) -> None:
        """Run the engine off the event loop; everything it reports comes back as messages."""
        worker = get_current_worker()

        def cancelled() -> bool:
            return cancel.is_set() or worker.is_cancelled

        relay = EventRelay(self.post_message, number, keep_rows=benchmark is None)
        if benchmark is not None:
            outcome = run_benchmark(
                benchmark.task,
                benchmark.models,
                spec.inputs,
                labels=benchmark.labels,
                device=spec.device,
                batch_size=spec.batch_size,
                on_event=relay,
                cancelled=cancelled,
                allow_remote_code=spec.allow_remote_code,
            )
            relay.flush()
            failed = [
                ModelChoice(benchmark.task, row.model, "requested") for row in outcome.rows if row.state == "failed"
            ]
            needs = remote_code_needed(failed, spec.allow_remote_code)
            self.post_message(AnalysisEnded(number, None, outcome, needs))
            return
        analyzer = MultiModalAnalyzer(hub_app(self).analyzer_pipelines, cached_models=cached_models)
        result = analyzer.run(spec, relay, cancelled)
        relay.flush()
        needs = None
        if result.state == "failed":
            tasks = result.tasks or spec.tasks
            choices = [resolve_model(task, spec.models.get(task), cached_models) for task in tasks]
            needs = remote_code_needed(choices, spec.allow_remote_code)
        self.post_message(AnalysisEnded(number, result, None, needs))

    @on(AnalysisStarted)
    def job_started(self, event: AnalysisStarted) -> None:
        """The job knows its size and device."""
        job = self.job(event.number)
        if job is None:
            return
        job.device = f"{event.device} {event.dtype}"
        if job.benchmark is not None:
            job.per_model = event.total
            job.total = event.total * len(job.benchmark.models)
        else:
            job.total = event.total
        self.show_job(job)

    @on(AnalysisModelPhased)
    def model_phased(self, event: AnalysisModelPhased) -> None:
        """Show the model load phase; loading and checking mean the job waits for its model."""
        job = self.job(event.number)
        if job is None:
            return
        job.phase = f"{event.phase} {event.model.rstrip('/').rsplit('/', 1)[-1]}"
        if job.state != "cancelling":
            job.state = "loading" if event.phase in ("checking", "loading") else "running"
        self.show_job(job)

    @on(AnalysisRowsArrived)
    def rows_arrived(self, event: AnalysisRowsArrived) -> None:
        """Keep the rows, move the progress, and append the rows if the job is the one shown."""
        job = self.job(event.number)
        if job is None:
            return
        job.rows.extend(event.rows)
        job.done = job.models_done * job.per_model + event.done if job.benchmark is not None else event.done
        job.total = max(job.total, job.done)
        job.items_per_s = event.items_per_s
        job.eta_s = event.eta_s
        if job.state not in ("cancelling",) and not job.ended:
            job.state = "running"
        self.show_job(job)
        if job is self.selected and job.benchmark is None:
            self.append_rows(job)

    @on(AnalysisWarned)
    def job_warned(self, event: AnalysisWarned) -> None:
        """Show a warning (pickle weights, skipped inputs, remote code) beside the job and as a notification."""
        job = self.job(event.number)
        if job is None or event.message in job.warnings:
            return
        job.warnings.append(event.message)
        self.notify(printable(event.message), title=f"Job {job.number}", severity="warning", markup=False, timeout=8)
        if job is self.selected:
            self.show_summary()

    @on(AnalysisModelCompared)
    def model_compared(self, event: AnalysisModelCompared) -> None:
        """A benchmark's model finished: its row in the comparison."""
        job = self.job(event.number)
        if job is None:
            return
        job.bench_rows.append(event.row)
        job.models_done += 1
        job.done = job.models_done * job.per_model
        self.show_job(job)
        if job is self.selected:
            self.append_rows(job)

    @on(AnalysisEnded)
    def job_ended(self, event: AnalysisEnded) -> None:
        """Record how the job ended, say so, and offer remote code where that is what stopped it."""
        job = self.job(event.number)
        if job is None:
            return
        ended = event.benchmark if event.benchmark is not None else event.result
        job.result = event.result
        job.benchmark_result = event.benchmark
        job.state = ended.state if ended is not None else "failed"
        job.error = event.result.error if event.result is not None else None
        job.remote_code_model = event.remote_code_model
        job.eta_s = None
        if event.result is not None:
            job.items_per_s = event.result.summary.items_per_s or job.items_per_s
            if event.result.state == "finished":
                job.done = job.total = event.result.summary.total
        elif event.benchmark is not None:
            if event.benchmark.state == "finished":
                job.done = job.total
            job.phase = ""
        self.show_job(job)
        self.refresh_bindings()
        self.announce_end(job)
        if job.remote_code_model:
            if self.app.screen is self:
                self.ask_remote_code(job)
            else:
                self.notify(
                    printable(
                        f"{job.remote_code_model} needs trust_remote_code: R on job {job.number} asks to allow it."
                    ),
                    severity="warning",
                    markup=False,
                )

    def announce_end(self, job: AnalyzerJob) -> None:
        """One notification per ended job: an error for failures, with the engine's advice."""
        if job.state == "failed":
            why = job.error or "; ".join(f"{row.model}: {row.error}" for row in job.bench_rows if row.error)
            self.notify(
                printable(why or "see the job list"),
                title=f"Job {job.number} failed",
                severity="error",
                markup=False,
                timeout=10,
            )
        elif job.state == "cancelled":
            self.notify(f"Job {job.number} cancelled after {job.done} of {job.total} items.", markup=False)
        elif job.benchmark_result is not None:
            self.notify(printable(job.benchmark_result.recommendation), title=f"Benchmark {job.number}", markup=False)
        else:
            self.notify(f"Job {job.number} finished: {job.done} items.", markup=False)

    @on(Worker.StateChanged)
    def job_worker_changed(self, event: Worker.StateChanged) -> None:
        """When a job's worker stops, start the next job; a worker that raised fails its job (and is reported
        by `ReportsWorkerFailures`)."""
        number = self.job_workers.get(event.worker)
        if number is None or not event.worker.is_finished:
            return
        del self.job_workers[event.worker]
        job = self.job(number)
        if job is not None and not job.ended and event.state is WorkerState.ERROR:
            error = event.worker.error
            job.state = "failed"
            job.error = f"{type(error).__name__}: {error}"
            self.show_job(job)
            self.refresh_bindings()
        self.start_next_job()

    # --- cancelling and re-running ---

    def cancellable_job(self) -> AnalyzerJob | None:
        """The highlighted job if it is queued or running, else the running one."""
        selected = self.selected
        if selected is not None and not selected.ended:
            return selected
        return self.running_job()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without a job to cancel, c is the app's (Cache) again; space only means something on the tasks.
        if action == "cancel_job":
            return self.cancellable_job() is not None
        if action == "back_or_cancel":
            return isinstance(self.focused, Input) or self.cancellable_job() is not None
        if action == "toggle_task":
            return self.focused is self.query_one("#analyzer-tasks")
        return True

    def action_cancel_job(self) -> None:
        """Cancel the highlighted (or the running) job: a queued one never starts, a running one stops soon."""
        job = self.cancellable_job()
        if job is None:
            return
        if job.state == "queued":
            job.state = "cancelled"
            self.notify(f"Job {job.number} cancelled before it started.", markup=False)
        elif job.state != "cancelling":
            job.cancel.set()
            job.state = "cancelling"
            when = "after its model has loaded" if job.phase.startswith(("loading", "checking")) else "after this batch"
            self.notify(f"Cancelling job {job.number} {when}…", markup=False)
        self.show_job(job)
        self.refresh_bindings()

    def action_back_or_cancel(self) -> None:
        """Escape: leave the path box, else cancel the highlighted or running job."""
        if isinstance(self.focused, Input):
            self.set_focus(self.query_one("#analyzer-tasks"))
        else:
            self.action_cancel_job()

    def action_rerun(self) -> None:
        """Run the highlighted job again (asking first to allow a model's remote code if that stopped it)."""
        job = self.selected
        if job is None or not job.ended:
            self.notify("Highlight a job that has ended to run it again.", markup=False)
            return
        if job.remote_code_model and job.remote_code_model not in job.spec.allow_remote_code:
            self.ask_remote_code(job)
        else:
            self.queue(job.spec, job.benchmark)

    def ask_remote_code(self, job: AnalyzerJob) -> None:
        """Ask before allowing a model to run its repository's code; yes re-runs the job with it allowed."""
        model = job.remote_code_model
        if model is None:
            return
        details = (
            f"{model} needs trust_remote_code: loading it runs Python code from the model's repository on this "
            "machine, with your permissions, and hftui cannot check what that code does. Allow it only if you "
            f"trust its author.\n\ny: allow {model} for this session and run job {job.number} again\nn: keep it refused"
        )

        def answered(allow: bool | None) -> None:
            if not allow:
                return
            self.allowed_remote_code.add(model)
            self.show_device()
            allowed = job.spec.allow_remote_code | {model}
            self.queue(replace(job.spec, allow_remote_code=allowed), job.benchmark)

        self.app.push_screen(ConfirmScreen(f"Run {model}'s own code?", details), answered)

    # --- the job list and the results -----------------------------------------------------------------------

    def job_cells(self, job: AnalyzerJob) -> tuple[object, ...]:
        """The job's row in the job list."""
        return tuple(
            plain_cell(value)
            for value in (
                str(job.number),
                job.title,
                STATE_WORDS.get(job.state, job.state),
                progress_cell(job.done, job.total),
                rate(job.items_per_s),
                duration(job.eta_s),
                job.phase,
            )
        )

    def show_job(self, job: AnalyzerJob) -> None:
        """Update the job's row (and the summary when it is the one shown)."""
        table = self.query_one("#analyzer-jobs", RepoTable)
        for (label, _width), cell in zip(JOB_COLUMNS, self.job_cells(job), strict=True):
            table.update_cell(str(job.number), label, cell)
        if job is self.selected:
            self.show_summary()

    @on(DataTable.RowHighlighted, "#analyzer-jobs")
    def highlight_job(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted job's rows fill the results table."""
        if event.row_key.value is None:
            return
        job = self.job(int(event.row_key.value))
        if job is not None and job is not self.selected:
            self.select_job(job)

    def select_job(self, job: AnalyzerJob) -> None:
        """Show `job`'s rows (rebuilding the results table once; later rows are appended)."""
        self.selected = job
        table = self.query_one("#analyzer-results", ResultRows)
        table.display = True
        columns = BENCHMARK_COLUMNS if job.benchmark is not None else RESULT_COLUMNS
        table.set_columns(fit_columns(columns, self.app.size.width))
        self.shown_rows = 0
        self.append_rows(job)
        self.show_summary()
        self.refresh_bindings()

    def append_rows(self, job: AnalyzerJob) -> None:
        """Add the rows the results table does not show yet (never rebuilding it), at most ROWS_PER_FEED now and
        the rest in later feeds."""
        table = self.query_one("#analyzer-results", ResultRows)
        if job.benchmark is not None:
            table.add_rows(self.benchmark_cells(row) for row in job.bench_rows[self.shown_rows :])
            self.shown_rows = len(job.bench_rows)
            return
        inputs = job.spec.inputs
        end = min(len(job.rows), self.shown_rows + ROWS_PER_FEED)
        table.add_rows(
            (
                input_cell(inputs[result.index] if 0 <= result.index < len(inputs) else None, result),
                SHORT_TASKS.get(result.task, result.task),
                f"⚠ {result.error}" if result.error is not None else result.output,
                f"{result.latency_s * 1000:.0f}",
            )
            for result in job.rows[self.shown_rows : end]
        )
        self.shown_rows = end
        if end < len(job.rows) and not self.feed_due:
            self.feed_due = True
            self.set_timer(ROW_FEED_S, self.feed_rows)

    def feed_rows(self) -> None:
        """The next rows of the job shown, if the results table is behind."""
        self.feed_due = False
        if self.selected is not None:
            self.append_rows(self.selected)

    @staticmethod
    def benchmark_cells(row: BenchmarkRow) -> tuple[object, ...]:
        """One model's line of the speed-versus-accuracy table."""

        def number(value: float | None, fmt: str, scale: float = 1.0) -> str:
            return "" if value is None else format(value * scale, fmt)

        return (
            row.model.rstrip("/").rsplit("/", 1)[-1],
            BENCHMARK_STATES.get(row.state, row.state),
            number(row.load_s, ".2f"),
            number(row.latency_p50_s, ".1f", 1000),
            number(row.latency_p95_s, ".1f", 1000),
            rate(row.items_per_s),
            human_size(row.peak_memory_bytes) if row.peak_memory_bytes else "",
            number(row.accuracy, ".1%"),
            number(row.macro_f1, ".3f"),
        )

    def show_summary(self) -> None:
        """The highlighted job in words: progress or outcome, the error, warnings, the recommendation."""
        job = self.selected
        panel = self.query_one("#analyzer-summary", Static)
        panel.display = job is not None
        if job is None:
            return
        lines = [self.job_headline(job)]
        if job.error:
            lines.append(f"✗ {job.error}")
        if job.remote_code_model and job.remote_code_model not in job.spec.allow_remote_code:
            lines.append(f"R asks to allow {job.remote_code_model}'s own code (trust_remote_code) and runs it again.")
        if job.benchmark_result is not None:
            lines.append(f"Recommendation: {job.benchmark_result.recommendation}")
            for row in job.bench_rows:
                if row.error:
                    lines.append(f"✗ {row.model}: {row.error}")
        if job.warnings:
            lines.append(
                f"⚠ {job.warnings[-1]}"
                + (f" (+{len(job.warnings) - 1} more warnings)" if len(job.warnings) > 1 else "")
            )
        panel.update(plain("\n".join(lines)))
        panel.set_class(job.state == "failed", "-failed")
        panel.set_class(job.state != "failed" and bool(job.warnings), "-warned")

    def job_headline(self, job: AnalyzerJob) -> str:
        """One line about the job: its size and speed while it runs, its outcome when it ended."""
        where = f" on {job.device}" if job.device else ""
        if job.state == "queued":
            return f"Job {job.number} queued: {len(job.spec.inputs)} inputs, batch {job.spec.batch_size}."
        if not job.ended:
            eta = f", {duration(job.eta_s)} left" if job.eta_s is not None else ""
            speed = f" at {rate(job.items_per_s)} items/s" if job.items_per_s else ""
            return f"Job {job.number} {job.state}: {job.done}/{job.total or '?'}{speed}{eta}{where} · c cancels"
        summary = job.result.summary if job.result is not None else None
        if summary is None:
            return f"Job {job.number} {job.state}{where}" + (" · e exports" if job.report is not None else "")
        labels = "; ".join(
            ", ".join(f"{label} {count}" for label, count in list(counts.items())[:4])
            for counts in summary.label_counts.values()
        )
        memory = f", peak {human_size(summary.peak_memory_bytes)}" if summary.peak_memory_bytes else ""
        return (
            f"Job {job.number} {job.state}: {summary.succeeded} analysed, {summary.failed} errors, "
            f"{rate(summary.items_per_s) or 0} items/s{where}{memory}"
            + (f" · {labels}" if labels else "")
            + " · e exports"
        )

    @on(ResultRows.RowChosen, "#analyzer-results")
    def open_result(self, event: ResultRows.RowChosen) -> None:
        """Enter on a row shows its full output (and the picture of an image input)."""
        job = self.selected
        if job is None:
            return
        if job.benchmark is not None:
            if 0 <= event.index < len(job.bench_rows):
                row = job.bench_rows[event.index]
                self.notify(
                    printable(f"{row.model}: {row.state}" + (f" ({row.error})" if row.error else "")), markup=False
                )
            return
        if not 0 <= event.index < len(job.rows):
            return
        result = job.rows[event.index]
        inputs = job.spec.inputs
        item = inputs[result.index] if 0 <= result.index < len(inputs) else None
        self.app.push_screen(ResultDetailScreen(result, item))

    # --- benchmark --------------------------------------------------------------------------------------

    def action_benchmark(self) -> None:
        """Compare several models for one task on the pending inputs: speed, and accuracy where labelled."""
        if not self.inputs:
            self.notify("Add inputs first: a benchmark runs every model on the same inputs.", markup=False)
            return
        modalities = {item.modality for item in self.inputs}
        tasks = [task.pipeline_tag for task in ANALYZER_TASKS if task.modality in modalities]
        if len(tasks) == 1:
            self.setup_benchmark(tasks[0])
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.setup_benchmark(tasks[index])

        self.app.push_screen(ChoiceScreen("Benchmark which task?", tasks), chosen)

    def setup_benchmark(self, task: str) -> None:
        """Offer the models that could run `task` and queue the benchmark of those ticked."""
        modality = analyzer_task(task).modality
        inputs = tuple(item for item in self.inputs if item.modality == modality)
        known: dict[str, object] = hub_app(self).analyzer_labels
        labels = tuple(known.get(item.origin) for item in inputs)
        labelled = sum(label is not None for label in labels)
        candidates: dict[str, tuple[str, bool]] = {}
        if task in self.models:
            candidates[self.models[task]] = ("chosen", True)
        for repo_id, tag in self.cached_models:
            if tag_fits(task, tag):
                candidates.setdefault(repo_id, ("cached", True))
        candidates.setdefault(DEFAULT_MODELS[task], ("default", not candidates))
        offered = [(model, why, ticked) for model, (why, ticked) in candidates.items()]

        def chosen(models: tuple[str, ...] | None) -> None:
            if not models:
                return
            plan = BenchmarkPlan(task, models, labels if labelled else None)
            self.queue(self.job_spec((task,), inputs), plan)

        self.app.push_screen(BenchmarkSetupScreen(task, offered, len(inputs), labelled), chosen)

    # --- export -----------------------------------------------------------------------------------------

    def action_export(self) -> None:
        """Write the highlighted job's report (Markdown, JSON or CSV by the file's extension)."""
        job = self.selected
        if job is None:
            self.notify("Run a job first; e exports the highlighted job's report.", markup=False)
            return
        report = job.report
        if report is None:
            why = "was cancelled before it ran" if job.ended else "has not ended yet; export it when it has"
            self.notify(f"Job {job.number} {why}: there is no report.", markup=False)
            return
        stamp = "".join(ch for ch in report.started_at[:19] if ch.isdigit()) or time.strftime("%Y%m%d%H%M%S")
        kind = "benchmark" if job.benchmark is not None else "analysis"
        default = hftui_home() / "reports" / f"{kind}-{stamp}-job{job.number}.md"

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                format_for(target)
            except ValueError as problem:
                self.notify(str(problem), title="Not exported", severity="error", markup=False)
                return
            self.write_job_report(job.number, report, target)

        hint = "the extension picks the format: .md, .json or .csv · tab completes · escape cancels"
        self.app.push_screen(PathPromptScreen(f"Export job {job.number}'s report to", str(default), hint=hint), chosen)

    @work(thread=True, exit_on_error=False, group="analyzer-export", description="Write an analysis report")
    def write_job_report(self, number: int, report: JobResult | BenchmarkResult, target: Path) -> None:
        """Write the report off the event loop (atomically, creating its folder)."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            path = write_report(report, target)
        except (OSError, ValueError) as error:
            self.post_message(ReportFailed(number, f"{target}: {error}"))
            return
        self.post_message(ReportWritten(number, path.resolve()))

    @on(ReportWritten)
    def report_written(self, event: ReportWritten) -> None:
        """Say where the report went."""
        self.notify(
            printable(f"Job {event.number}'s report: {event.path}"), title="Report written", markup=False, timeout=10
        )

    @on(ReportFailed)
    def report_failed(self, event: ReportFailed) -> None:
        """Say why the report could not be written."""
        self.notify(printable(event.text), title="Report not written", severity="error", markup=False)

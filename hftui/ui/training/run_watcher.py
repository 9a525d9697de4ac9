"""Watch one training run live: progress and ETA, loss/eval/learning-rate curves, metrics, GPU, log, LoRA.

A thread worker polls the run's follower every POLL_S seconds and folds what it finds (curves, latest
events, health alerts, log tail, LoRA facts) into a `WatchSnapshot`, a complete picture posted as one
coalescing message: when the screen falls behind, a newer snapshot replaces an older one and nothing is
lost. The screen only draws snapshots. A finished run replays the same way (the follower reads its file in
slices until nothing is left). Folders hftui did not start (a Trainer output_dir, a TensorBoard log dir)
show the same curves, read-only: there is no process to stop or resume.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Log, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from hftui.atomic_write import write_text_atomically
from hftui.hub.plain_text import printable
from hftui.humanize import human_count, human_duration, human_metric, human_size
from hftui.train.events import RunEvent
from hftui.train.follow import RunFollower, TrainerOutputFollower, follower_for
from hftui.train.health import HealthAlert, HealthMonitor
from hftui.train.runs import LOG_FILE, MODEL_DIR, checkpoints_of, folder_size, read_log_tail
from hftui.train.series import EXPORT_FIELDS, DecimatedSeries, metrics_csv, metrics_rows
from hftui.train.spec import SPEC_FILE
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.untrusted import plain
from hftui.ui.widgets.curve_plot import CurvePlot

POLL_S = 0.2
LOG_LINES = 200
MAX_WARNINGS = 20
# A replay of a long run posts a snapshot at most this often, so the screen shows it advancing.
REPLAY_POST_S = 0.1
EXPORT_CSV = "metrics_history.csv"
EXPORT_JSON = "metrics_history.json"
CURVE_NAMES = ("loss", "eval_loss", "learning_rate", "grad_norm", "eval_accuracy", "eval_f1_macro", "samples_per_s")
GIB = 1024**3

Point = tuple[float, float]


def follower_kind(follower: Any) -> str:
    """run (hftui's own, with a process), trainer (an output_dir) or tensorboard."""
    if isinstance(follower, RunFollower):
        return "run"
    if isinstance(follower, TrainerOutputFollower):
        return "trainer"
    return "tensorboard"


@dataclass(frozen=True)
class LoraFacts:
    """What the LoRA panel shows: the adapter's settings, parameters and size on disk."""

    r: Any = None
    alpha: Any = None
    dropout: Any = None
    target_modules: tuple[str, ...] = ()
    trainable: int | None = None
    total: int | None = None
    adapter_bytes: int | None = None
    adapter_path: str | None = None
    merge: bool = False


@dataclass(frozen=True)
class WatchSnapshot:
    """Everything the watcher draws at one moment (built in the worker; the screen only reads it)."""

    kind: str
    state: str
    reason: str | None
    message: str | None
    alive: bool
    replaying: bool
    events_seen: int
    curves: Mapping[str, list[Point]]
    latest: Mapping[str, RunEvent]
    alerts: tuple[HealthAlert, ...]
    warnings: tuple[str, ...]
    warning_count: int
    log_lines: tuple[str, ...] | None
    gpu: Mapping[str, list[Point]]
    lora: LoraFacts | None
    checkpoints: int
    polled_at: float
    # The run had ended when the watcher opened: what it shows is a replay.
    replayed: bool = False


def _lora_from_spec(spec: Any) -> dict[str, Any] | None:
    lora = spec.get("lora") if isinstance(spec, dict) else None
    return lora if isinstance(lora, dict) else None


def _files_size(folder: Path, pattern: str) -> int:
    """Bytes of the files in `folder` matching `pattern` (a checkpoint's adapter weights, not its optimizer)."""
    total = 0
    for file in folder.glob(pattern):
        try:
            total += file.stat().st_size if file.is_file() else 0
        except OSError:
            continue
    return total


class RunWatch:
    """The worker's side of the watcher: polls a follower and folds it into snapshots (no Textual here)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.follower = follower_for(self.path)
        self.kind = follower_kind(self.follower)
        self.monitor = HealthMonitor()
        self.latest: dict[str, RunEvent] = {}
        self.events_seen = 0
        self.warnings: list[str] = []
        self.warning_count = 0
        self.gpu = {"utilization %": DecimatedSeries(250), "memory GiB": DecimatedSeries(250)}
        self.log_signature: tuple[int, int] | None = None
        self.log_lines: tuple[str, ...] | None = None
        self.spec: dict[str, Any] | None = self._read_spec()
        self.lora = self._lora_facts()
        self.checkpoints = len(checkpoints_of(self.path)) if self.kind == "run" else 0
        self.state = ("unknown", None, None)
        self.alive = False
        self.first = True
        self.opened_ended: bool | None = None

    def _read_spec(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / SPEC_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _adapter_config(self) -> tuple[Path, dict[str, Any]] | None:
        """A foreign folder's adapter_config.json (its own, else the newest checkpoint's)."""
        folders = [self.path, *sorted(self.path.glob("checkpoint-*"), key=lambda p: p.stat().st_mtime, reverse=True)]
        for folder in folders:
            try:
                config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(config, dict):
                return folder, config
        return None

    def _lora_facts(self) -> LoraFacts | None:
        """The LoRA panel's facts, from the spec and the started event (hftui runs) or adapter_config.json."""
        if self.kind != "run":
            found = self._adapter_config()
            if found is None:
                return None
            folder, config = found
            targets = config.get("target_modules") or ()
            size = _files_size(folder, "adapter_model.*")
            return LoraFacts(
                config.get("r"),
                config.get("lora_alpha"),
                config.get("lora_dropout"),
                tuple(str(t) for t in (targets if isinstance(targets, list) else [targets])),
                adapter_bytes=size or None,
                adapter_path=str(folder),
            )
        started = self.latest.get("started")
        spec = started.get("spec") if started is not None else self.spec
        lora = _lora_from_spec(spec)
        if lora is None:
            return None
        targets = (started.get("target_modules") if started is not None else None) or lora.get("target_modules") or ()
        model_dir = self.path / MODEL_DIR
        size: int | None = folder_size(model_dir) if model_dir.is_dir() else None
        where = str(model_dir) if size else None
        if not size:
            saved = checkpoints_of(self.path)
            if saved:
                size = _files_size(saved[-1], "adapter_model.*") or None
                where = str(saved[-1]) if size else None
        return LoraFacts(
            lora.get("r"),
            lora.get("alpha"),
            lora.get("dropout"),
            tuple(str(t) for t in targets),
            started.get("trainable_params") if started is not None else None,
            started.get("total_params") if started is not None else None,
            size,
            where,
            bool(lora.get("merge")),
        )

    def _read_log(self) -> bool:
        """Read the log tail again when train.log changed; returns whether it did."""
        if self.kind != "run":
            return False
        try:
            stat = (self.path / LOG_FILE).stat()
        except OSError:
            return False
        signature = (stat.st_size, stat.st_mtime_ns)
        if signature == self.log_signature:
            return False
        self.log_signature = signature
        self.log_lines = tuple(printable(line, single_line=True) for line in read_log_tail(self.path, LOG_LINES))
        return True

    def _fold(self, events: tuple[RunEvent, ...], warnings: tuple[str, ...]) -> None:
        self.events_seen += len(events)
        refresh_lora = False
        for event in events:
            # The Trainer's end-of-training summary is a log without a loss: kept apart, so the latest
            # training values stay on screen after it.
            summary = event.kind == "log" and "train_runtime" in event.data
            self.latest["train_summary" if summary else event.kind] = event
            if event.kind == "gpu":
                devices = event.get("devices")
                first = devices[0] if isinstance(devices, list) and devices and isinstance(devices[0], dict) else {}
                x = float(event.step if event.step is not None else event.time)
                utilization, used = first.get("utilization"), first.get("memory_used")
                if isinstance(utilization, int | float):
                    self.gpu["utilization %"].add(x, float(utilization))
                if isinstance(used, int | float):
                    self.gpu["memory GiB"].add(x, used / GIB)
            elif event.kind in ("started", "checkpoint", "finished", "stopped"):
                refresh_lora = True
        if refresh_lora and self.kind == "run":
            self.checkpoints = len(checkpoints_of(self.path))
        if refresh_lora or (self.first and self.lora is None):
            self.lora = self._lora_facts()
        self.monitor.feed(events)
        self.warning_count += len(warnings)
        self.warnings = (self.warnings + list(warnings))[-MAX_WARNINGS:]

    def poll(self) -> WatchSnapshot | None:
        """One poll of the follower; a snapshot when anything changed (always the first time), else None."""
        more = False
        if self.kind == "run":
            update = self.follower.poll()
            events, warnings, more = update.events, update.warnings, update.more
            state = (update.state.state, update.state.reason, update.state.message)
            if more:
                # Part of the file is still unread: the state of what was read so far (a run that seems to
                # have ended without a final event) would be wrong.
                state = ("replaying", None, None)
            alive = update.alive
        else:
            events, warnings = self.follower.poll()
            state = ("finished" if self.follower.finished else "watching", None, None)
            alive = False
        log_changed = self._read_log()
        changed = bool(events or warnings) or state != self.state or alive != self.alive or log_changed
        self.state, self.alive = state, alive
        if events or warnings:
            self._fold(events, warnings)
        if not changed and not self.first:
            return None
        self.first = False
        if self.opened_ended is None and not more:
            self.opened_ended = self.state[0] in ("finished", "failed", "stopped")
        return self.snapshot(replaying=more)

    def snapshot(self, *, replaying: bool = False) -> WatchSnapshot:
        """The picture as of now."""
        curves = self.follower.curves
        return WatchSnapshot(
            kind=self.kind,
            state=self.state[0],
            reason=self.state[1],
            message=self.state[2],
            alive=self.alive,
            replaying=replaying,
            events_seen=self.events_seen,
            curves={name: curves.points(name) for name in CURVE_NAMES},
            latest=dict(self.latest),
            alerts=tuple(self.monitor.alerts),
            warnings=tuple(self.warnings),
            warning_count=self.warning_count,
            log_lines=self.log_lines,
            gpu={name: series.points() for name, series in self.gpu.items() if len(series)},
            lora=self.lora,
            checkpoints=self.checkpoints,
            polled_at=time.monotonic(),
            replayed=bool(self.opened_ended),
        )


def all_events(path: Path) -> list[RunEvent]:
    """Every event of a watched folder, read afresh (for the export)."""
    follower = follower_for(path)
    events: list[RunEvent] = []
    if isinstance(follower, RunFollower):
        while True:
            update = follower.poll()
            events += update.events
            if not update.more:
                return events
    found, _ = follower.poll()
    return list(found)


def export_metrics(path: Path, target: Path) -> list[Path]:
    """Write the metrics of the run at `path` as CSV and JSON into folder `target` (or one file named so)."""
    events = all_events(path)
    written = []
    if target.suffix.lower() in (".csv", ".json"):
        targets = {target.suffix.lower(): target}
    else:
        targets = {".csv": target / EXPORT_CSV, ".json": target / EXPORT_JSON}
    for suffix, file in targets.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            text = metrics_csv(events)
        else:
            text = json.dumps({"fields": ["step", *EXPORT_FIELDS], "rows": metrics_rows(events)}, indent=1) + "\n"
        written.append(write_text_atomically(file, text))
    return written


# --- formatting ----------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Step, max steps, epoch, ETA and pace as the progress bar shows them."""

    step: int | None = None
    max_steps: int | None = None
    epoch: float | None = None
    eta_s: float | None = None
    steps_per_s: float | None = None
    samples_per_s: float | None = None


def progress_of(snapshot: WatchSnapshot) -> Progress:
    """The progress fields, from the latest progress event, else the started and log events."""
    latest = snapshot.latest
    out = Progress()
    progress, started, log = latest.get("progress"), latest.get("started"), latest.get("log")
    summary = latest.get("train_summary")
    steps = [e.step for e in latest.values() if e.step is not None and e.kind in ("log", "eval", "progress", "gpu")]
    out.step = max(steps) if steps else None
    if progress is not None:
        out.max_steps = progress.get("max_steps") if isinstance(progress.get("max_steps"), int) else None
        out.epoch = progress.number("epoch")
        out.eta_s = progress.number("eta_s")
        out.steps_per_s = progress.number("steps_per_s")
        out.samples_per_s = progress.number("samples_per_s")
    if out.max_steps is None and started is not None and isinstance(started.get("max_steps"), int):
        out.max_steps = started.get("max_steps")
    # Progress events come every few seconds, logs more often: the newer of the two says the epoch.
    if log is not None and log.number("epoch") is not None:
        if out.epoch is None or progress is None or (log.step or 0) > (progress.step or 0):
            out.epoch = log.number("epoch")
    if summary is not None and out.samples_per_s is None:
        out.samples_per_s = summary.number("train_samples_per_second")
        out.steps_per_s = out.steps_per_s or summary.number("train_steps_per_second")
    # The ETA from the pace at the last progress event, counted from the newest step seen.
    if out.steps_per_s and out.max_steps and out.step is not None:
        out.eta_s = max(0.0, (out.max_steps - out.step) / out.steps_per_s)
    final = latest.get(snapshot.state) if snapshot.state in ("finished", "stopped", "failed") else None
    if final is not None and final.step is not None:
        out.step = final.step
    return out


KIND_NAMES = {"run": "hftui run", "trainer": "Trainer output folder", "tensorboard": "TensorBoard log dir"}


def state_text(snapshot: WatchSnapshot) -> Text:
    """The state line: state, reason and message; read-only and replay notes."""
    style = {"failed": "bold red", "stopped": "bold yellow", "finished": "bold green", "running": "bold"}.get(
        snapshot.state, ""
    )
    text = Text(no_wrap=False)
    text.append(snapshot.state, style=style)
    if snapshot.reason:
        text.append(f" ({snapshot.reason})", style=style)
    if snapshot.message:
        text.append(": " + printable(snapshot.message, single_line=True))
    if snapshot.replaying:
        text.append(f" · replaying… {snapshot.events_seen:,} events read")
    elif snapshot.state == "finished":
        text.append(" · the run has finished")
    if snapshot.replayed and not snapshot.replaying:
        text.append(f" · replayed {snapshot.events_seen:,} events")
    if snapshot.kind != "run":
        text.append(f" · {KIND_NAMES[snapshot.kind]}: read-only, refreshes as it grows (no stop/resume)")
    elif snapshot.state == "stopped" or (snapshot.state == "failed" and snapshot.checkpoints):
        text.append(" · r resumes from the last checkpoint" if snapshot.checkpoints else "")
    if snapshot.warning_count:
        text.append(f" · {snapshot.warning_count} line(s) skipped", style="yellow")
    return text


def metrics_text(snapshot: WatchSnapshot) -> Text:
    """Latest log and eval values, throughput, GPU, checkpoints, final metrics and confusion matrix."""
    latest = snapshot.latest
    out = Text()
    log = latest.get("log")
    if log is not None:
        fields = [("loss", "loss"), ("grad_norm", "grad_norm"), ("lr", "learning_rate"), ("epoch", "epoch")]
        parts = [f"{label} {human_metric(log.get(name))}" for label, name in fields if log.get(name) is not None]
        if log.get("nonfinite"):
            parts.append("non-finite: " + ", ".join(f"{k}={v}" for k, v in dict(log.get("nonfinite")).items()))
        out.append("train  ", style="bold")
        out.append(f"@{log.step}  " + "  ".join(parts) + "\n")
    evaluation = latest.get("eval")
    if evaluation is not None and isinstance(evaluation.get("metrics"), dict):
        metrics = evaluation.get("metrics")
        parts = [
            f"{name.removeprefix('eval_')} {human_metric(metrics.get(name))}"
            for name in ("eval_loss", "eval_accuracy", "eval_f1_macro")
            if name in metrics
        ]
        out.append("eval   ", style="bold")
        out.append(f"@{evaluation.step}  " + "  ".join(parts) + "\n")
    progress = progress_of(snapshot)
    pace = []
    if progress.steps_per_s is not None:
        pace.append(f"{progress.steps_per_s:.3g} steps/s")
    if progress.samples_per_s is not None:
        pace.append(f"{progress.samples_per_s:.3g} samples/s")
    out.append("speed  ", style="bold")
    out.append((" · ".join(pace) or "-") + "\n")
    out.append("GPU    ", style="bold")
    out.append(gpu_text(snapshot) + "\n")
    if snapshot.kind == "run":
        out.append("saved  ", style="bold")
        out.append(f"{snapshot.checkpoints} checkpoint(s)\n")
    finished = latest.get("finished")
    final = finished.get("metrics") if finished is not None else None
    if isinstance(final, dict):
        out.append("final  ", style="bold")
        names = ("accuracy", "f1_macro", "loss")
        out.append("  ".join(f"{n} {human_metric(final.get(n))}" for n in names if n in final) + "\n")
        out.append(confusion_text(final))
    if snapshot.warnings:
        out.append("\nskipped lines:\n", style="bold")
        for warning in snapshot.warnings[-5:]:
            out.append(printable(warning, single_line=True) + "\n", style="yellow")
    return out


def gpu_text(snapshot: WatchSnapshot) -> str:
    """The latest GPU sample, or why there is none."""
    sample = snapshot.latest.get("gpu")
    devices = sample.get("devices") if sample is not None else None
    if isinstance(devices, list) and devices:
        parts = []
        for device in devices:
            if not isinstance(device, dict):
                continue
            used, total = device.get("memory_used"), device.get("memory_total")
            memory = (
                f"{used / GIB:.1f}/{total / GIB:.0f} GiB" if isinstance(used, int) and isinstance(total, int) else ""
            )
            parts.append(f"{device.get('index', '?')}: {human_metric(device.get('utilization'))}% {memory}".strip())
        return " · ".join(parts)
    started = snapshot.latest.get("started")
    device = started.get("device") if started is not None else None
    progress = snapshot.latest.get("progress")
    allocated = progress.number("cuda_memory_allocated") if progress is not None else None
    if isinstance(device, dict) and device.get("kind") == "cuda":
        note = f" · {allocated / GIB:.2f} GiB allocated" if allocated is not None else ""
        return f"{printable(device.get('name'), single_line=True)} (no nvidia-smi samples yet){note}"
    if isinstance(device, dict):
        return f"no GPU (training on {printable(device.get('kind'), single_line=True)})"
    return "no GPU samples"


def confusion_text(final: Mapping[str, Any]) -> Text:
    """The final confusion matrix (rows: true label, columns: predicted), or nothing."""
    matrix, labels = final.get("confusion_matrix"), final.get("labels")
    if not isinstance(matrix, list) or not isinstance(labels, list) or len(matrix) != len(labels):
        return Text()
    names = [printable(label, single_line=True)[:10] for label in labels]
    width = max([len(n) for n in names] + [max((len(str(c)) for row in matrix for c in row), default=1)]) + 1
    out = Text("confusion matrix (rows: true, columns: predicted)\n", style="bold")
    out.append(" " * width + "".join(n.rjust(width) for n in names) + "\n")
    for name, row in zip(names, matrix, strict=False):
        out.append(name.rjust(width) + "".join(str(c).rjust(width) for c in row) + "\n")
    return out


def lora_text(snapshot: WatchSnapshot) -> Text:
    """The LoRA panel: parameters trained, r, alpha, dropout, target modules, adapter size."""
    facts = snapshot.lora
    if facts is None:
        return Text("Not a LoRA run: every parameter of the model is trained.")
    out = Text()
    if facts.trainable is not None and facts.total:
        share = 100 * facts.trainable / facts.total
        out.append("trainable  ", style="bold")
        out.append(f"{human_count(facts.trainable)} of {human_count(facts.total)} parameters ({share:.2f}%)\n")
    out.append("r          ", style="bold")
    out.append(f"{facts.r}    alpha {facts.alpha}    dropout {facts.dropout}\n")
    out.append("targets    ", style="bold")
    out.append((", ".join(facts.target_modules) or "suggested from the architecture when it starts") + "\n")
    out.append("adapter    ", style="bold")
    if facts.adapter_bytes:
        out.append(f"{human_size(facts.adapter_bytes)} on disk ({printable(facts.adapter_path, single_line=True)})\n")
    else:
        out.append("not saved yet\n")
    if facts.merge:
        out.append("merge      ", style="bold")
        out.append("the merged model is saved too at the end\n")
    return out


def alerts_text(alerts: tuple[HealthAlert, ...]) -> Text:
    """The alerts strip: the latest two, and how many more."""
    out = Text()
    for alert in alerts[-2:]:
        out.append("⚠ ", style="bold red" if alert.severity == "error" else "bold yellow")
        out.append(printable(alert.message, single_line=True) + "  ")
    if len(alerts) > 2:
        out.append(f"(+{len(alerts) - 2} earlier)")
    return out


# --- messages ------------------------------------------------------------------------------------------


@dataclass
class WatchUpdated(Message):
    """A new picture of the run; it replaces one still waiting (each snapshot is complete)."""

    snapshot: WatchSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WatchUpdated)


@dataclass
class WatchFailed(Message):
    """The folder could not be watched (it is not a run, nor a Trainer or TensorBoard folder)."""

    text: str


@dataclass
class RunControlled(Message):
    """A stop, resume or export finished: what to tell the user."""

    text: str
    severity: str = "information"


# --- the screen ----------------------------------------------------------------------------------------


class RunWatcherScreen(ReportsWorkerFailures, Screen[None]):
    """One run, live: progress, curves, metrics, GPU, log tail, LoRA facts; stop, resume and export keys."""

    HELP_TITLE = "Run watcher"
    BINDINGS = [
        Binding("escape", "back", "Back", id="watcher.back"),
        Binding("s", "stop", "Stop", id="watcher.stop"),
        Binding("r", "resume", "Resume", id="watcher.resume"),
        Binding("e", "export", "Export", id="watcher.export"),
        Binding("p", "publish", "Publish", id="watcher.publish"),
        Binding("l", "toggle_log", "Log", id="watcher.log"),
        Binding("g", "toggle_log_y", "Log-y", id="watcher.log-y"),
        Binding("1", "tab('watch-curves')", "Curves", show=False, id="watcher.tab-curves"),
        Binding("2", "tab('watch-metrics')", "Metrics", show=False, id="watcher.tab-metrics"),
        Binding("3", "tab('watch-log')", "Log tab", show=False, id="watcher.tab-log"),
        Binding("4", "tab('watch-lora')", "LoRA", show=False, id="watcher.tab-lora"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path).expanduser()
        self.snapshot: WatchSnapshot | None = None
        self.log_y = False
        self.notified_alerts = 0
        self.notified_warnings = 0
        self.shown_log: tuple[str, ...] | None = None
        self.previous_tab = "watch-curves"
        self.shown_text: dict[str, tuple[Text, tuple[int, int]]] = {}
        # When the latest snapshot was drawn (time.monotonic): the latency bench reads it.
        self.shown_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Run {self.path.name}", single_line=True), id="watch-title", classes="screen-heading")
        yield Static("opening…", id="watch-state")
        with Horizontal(id="watch-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="watch-progress")
            yield Static("", id="watch-progress-text")
        alerts = Static("", id="watch-alerts")
        alerts.display = False
        yield alerts
        with TabbedContent(id="watch-tabs", initial="watch-curves"):
            with TabPane("Curves", id="watch-curves"):
                yield CurvePlot("Loss", id="plot-loss")
                yield CurvePlot("Learning rate", id="plot-lr")
            with TabPane("Metrics", id="watch-metrics"):
                with VerticalScroll(id="watch-metrics-scroll"):
                    yield Static("", id="watch-metrics-text")
                    gpu = CurvePlot("GPU", id="plot-gpu")
                    gpu.display = False
                    yield gpu
            with TabPane("Log", id="watch-log"):
                yield Log(id="watch-log-text", highlight=False, max_lines=LOG_LINES * 2)
            with TabPane("LoRA", id="watch-lora"):
                yield Static("", id="watch-lora-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.follow_run()

    # --- the worker ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-watch", description="Follow the run")
    def follow_run(self) -> None:
        """Poll the run every POLL_S seconds (at once while replaying) and post each change as a snapshot."""
        worker = get_current_worker()
        try:
            watch = RunWatch(self.path)
        except (ValueError, OSError) as error:
            self.post_message(WatchFailed(str(error)))
            return
        last_post = 0.0
        while not worker.is_cancelled:
            snapshot = watch.poll()
            if snapshot is not None and snapshot.replaying:
                # Many slices of a long file: post now and then, the screen would only redraw them anyway.
                now = time.monotonic()
                if now - last_post >= REPLAY_POST_S:
                    last_post = now
                    self.post_message(WatchUpdated(snapshot))
                continue
            if snapshot is not None:
                last_post = time.monotonic()
                self.post_message(WatchUpdated(snapshot))
            worker.cancelled_event.wait(POLL_S)

    # --- drawing -------------------------------------------------------------------------------------

    @on(WatchFailed)
    def show_failure(self, event: WatchFailed) -> None:
        """The folder cannot be watched: say why."""
        self.query_one("#watch-state", Static).update(Text(printable(event.text), style="bold red"))
        self.notify(printable(event.text), title="Cannot watch", severity="error", markup=False)

    @on(WatchUpdated)
    def show_snapshot(self, event: WatchUpdated) -> None:
        """Draw the newest picture of the run."""
        snapshot = event.snapshot
        previous = self.snapshot
        self.snapshot = snapshot
        self.set_text("#watch-state", state_text(snapshot))
        self.show_progress(snapshot)
        self.show_curves()
        self.set_text("#watch-metrics-text", metrics_text(snapshot))
        gpu_plot = self.query_one("#plot-gpu", CurvePlot)
        gpu_plot.display = bool(snapshot.gpu)
        if snapshot.gpu:
            gpu_plot.show(snapshot.gpu)
        self.set_text("#watch-lora-text", lora_text(snapshot))
        if snapshot.log_lines is not None and snapshot.log_lines != self.shown_log:
            self.shown_log = snapshot.log_lines
            log = self.query_one("#watch-log-text", Log)
            log.clear()
            log.write_lines(snapshot.log_lines)
        elif snapshot.log_lines is None and snapshot.kind != "run" and self.shown_log is None:
            self.shown_log = ()
            self.query_one("#watch-log-text", Log).write_line(f"no log: this is a {KIND_NAMES[snapshot.kind]}")
        self.show_alerts(snapshot)
        if snapshot.warning_count > self.notified_warnings:
            fresh = snapshot.warning_count - self.notified_warnings
            self.notified_warnings = snapshot.warning_count
            text = (
                snapshot.warnings[-1]
                if fresh == 1
                else f"{fresh} corrupt lines skipped; the last: {snapshot.warnings[-1]}"
            )
            self.notify(printable(text), title="events.jsonl", severity="warning", markup=False)
        if previous is None or (previous.state, previous.checkpoints) != (snapshot.state, snapshot.checkpoints):
            self.refresh_bindings()
        self.shown_at = time.monotonic()

    def set_text(self, selector: str, text: Text) -> None:
        """Update a Static only when its text changed, and lay the screen out again only when its shape did
        (a relayout of the whole screen is most of a frame's cost while a long run replays)."""
        shown = self.shown_text.get(selector)
        if shown is not None and shown[0] == text:
            return
        shape = (len(text.plain) // max(1, self.size.width), text.plain.count("\n"))
        self.shown_text[selector] = (text, shape)
        self.query_one(selector, Static).update(text, layout=shown is None or shown[1] != shape)

    def show_progress(self, snapshot: WatchSnapshot) -> None:
        """The progress bar and its line: step/max, epoch, ETA, pace."""
        progress = progress_of(snapshot)
        bar = self.query_one("#watch-progress", ProgressBar)
        if progress.max_steps:
            done = progress.max_steps if snapshot.state == "finished" else (progress.step or 0)
            bar.update(total=progress.max_steps, progress=min(done, progress.max_steps))
        parts = [f"step {progress.step if progress.step is not None else '-'}/{progress.max_steps or '?'}"]
        if progress.epoch is not None:
            parts.append(f"epoch {progress.epoch:.2f}")
        if snapshot.state in ("running", "starting", "watching"):
            parts.append(f"ETA {human_duration(progress.eta_s)}")
        if progress.steps_per_s is not None:
            parts.append(f"{progress.steps_per_s:.3g} it/s")
        self.set_text("#watch-progress-text", Text(" · ".join(parts), no_wrap=True))

    def show_curves(self) -> None:
        """Loss and eval loss on one plot, the learning rate on the other."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        curves = snapshot.curves
        losses = {name: curves[name] for name in ("loss", "eval_loss") if curves.get(name)}
        self.query_one("#plot-loss", CurvePlot).show(losses, log_y=self.log_y)
        rate = {"learning_rate": curves["learning_rate"]} if curves.get("learning_rate") else {}
        self.query_one("#plot-lr", CurvePlot).show(rate)

    def show_alerts(self, snapshot: WatchSnapshot) -> None:
        """The alerts strip, and a notification for each alert not yet announced (a few at a time)."""
        strip = self.query_one("#watch-alerts", Static)
        strip.display = bool(snapshot.alerts)
        if snapshot.alerts:
            self.set_text("#watch-alerts", alerts_text(snapshot.alerts))
        fresh = snapshot.alerts[self.notified_alerts :]
        self.notified_alerts = len(snapshot.alerts)
        for alert in fresh[:3]:
            self.notify(printable(alert.message), title="Run health", severity="warning", markup=False)
        if len(fresh) > 3:
            self.notify(f"{len(fresh) - 3} more health alerts (see the alerts strip)", severity="warning")

    # --- keys ----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop and resume only for hftui's own runs, and only when they make sense (else shown disabled)."""
        snapshot = self.snapshot
        if action in ("stop", "resume"):
            if snapshot is not None and snapshot.kind != "run":
                return False
            if snapshot is None:
                return None
            if action == "stop":
                return True if snapshot.state in ("running", "starting") else None
            resumable = snapshot.state == "stopped" or (snapshot.state == "failed" and snapshot.checkpoints > 0)
            return True if resumable else None
        return True

    def action_publish(self) -> None:
        """Publish the run's saved model once it has finished (hftui's own runs; foreign folders say so)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        if snapshot.kind != "run":
            self.notify("This folder was not trained by hftui: publish it with publish: FOLDER (ctrl+p).", markup=False)
            return
        from hftui.ui.publish.publish import publish_run_model

        finished = snapshot.latest.get("finished")
        publish_run_model(self, finished.get("model_dir") if finished is not None else None, snapshot.state)

    def action_back(self) -> None:
        """Back to where the watcher was opened from (the run goes on)."""
        self.app.pop_screen()

    def action_stop(self) -> None:
        """Ask the run to stop gracefully (it saves a checkpoint and ends)."""
        self.control_run("stop")

    def action_resume(self) -> None:
        """Start the run again from its last checkpoint."""
        self.control_run("resume")

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-control", description="Stop or resume")
    def control_run(self, what: str) -> None:
        """request_stop or resume_run, off the event loop (resume starts a process)."""
        from hftui.train.launch import RunError, request_stop, resume_run

        if what == "stop":
            if request_stop(self.path):
                self.post_message(RunControlled("Stop requested: the run saves a checkpoint, then ends"))
            else:
                self.post_message(RunControlled("The run is not running: nothing to stop", "warning"))
            return
        try:
            attempt = resume_run(self.path)
        except (RunError, OSError, ValueError) as error:
            self.post_message(RunControlled(str(error), "warning"))
            return
        self.post_message(RunControlled(f"Resumed from the last checkpoint (attempt {attempt})"))

    @on(RunControlled)
    def tell(self, event: RunControlled) -> None:
        """Say what a stop, resume or export did."""
        self.notify(printable(event.text), severity=event.severity, markup=False)  # type: ignore[arg-type]

    def action_export(self) -> None:
        """Ask where to write the metrics (a folder gets CSV and JSON; a .csv or .json path just that file)."""
        from hftui.ui.dialogs.path_prompt import PathPromptScreen

        def chosen(answer: str | None) -> None:
            if answer:
                self.export(Path(answer).expanduser())

        prompt = PathPromptScreen(
            "Export the metrics to (a folder, or a .csv or .json file)",
            str(self.path),
            hint=f"a folder gets {EXPORT_CSV} and {EXPORT_JSON} · enter exports · escape cancels",
        )
        self.app.push_screen(prompt, chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-export", description="Export the metrics")
    def export(self, target: Path) -> None:
        """Write the metrics files and say where."""
        try:
            written = export_metrics(self.path, target)
        except (OSError, ValueError) as error:
            self.post_message(RunControlled(f"Export failed: {error}", "error"))
            return
        self.post_message(RunControlled("Metrics written to " + ", ".join(str(p) for p in written)))

    def action_toggle_log(self) -> None:
        """Show the log tail, or go back to the tab shown before."""
        tabs = self.query_one(TabbedContent)
        if tabs.active == "watch-log":
            tabs.active = self.previous_tab
        else:
            self.previous_tab = tabs.active or "watch-curves"
            tabs.active = "watch-log"

    def action_toggle_log_y(self) -> None:
        """Loss on a logarithmic axis, or back to linear."""
        self.log_y = not self.log_y
        self.show_curves()
        self.notify("loss on a log axis" if self.log_y else "loss on a linear axis", timeout=2)

    def action_tab(self, pane: str) -> None:
        """Show one tab."""
        self.query_one(TabbedContent).active = pane

"""Watching one run: a `RunWatch` polls the folder's follower and folds each poll into a `WatchSnapshot`
(polled when `folder_changes.FolderChanges` says the folder changed, with a slow safety poll).

The snapshot is a complete picture (curves, latest event of each kind, health alerts, GPU samples, the log
tail, LoRA facts), so a watcher that falls behind can drop an older one and lose nothing; the run watcher
screen only draws them. `follow_to_end` is the headless side (`hftui runs watch`): an hftui run's updates until
it has ended. `export_metrics` writes a run's metric history as CSV and JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.atomic_write import write_text_atomically
from hftui.hub.plain_text import printable
from hftui.train.events import TERMINAL_KINDS, RunEvent
from hftui.train.folder_changes import FolderChanges
from hftui.train.follow import RunFollower, RunUpdate, follower_for, follower_kind, poll_through
from hftui.train.health import HealthAlert, HealthMonitor
from hftui.train.runs import LOG_FILE, MODEL_DIR, checkpoints_of, folder_size, read_log_tail
from hftui.train.series import EXPORT_FIELDS, DecimatedSeries, metrics_csv, metrics_rows
from hftui.train.spec import SPEC_FILE

LOG_LINES = 200
MAX_WARNINGS = 20
EXPORT_CSV = "metrics_history.csv"
EXPORT_JSON = "metrics_history.json"
CURVE_NAMES = ("loss", "eval_loss", "learning_rate", "grad_norm", "eval_accuracy", "eval_f1_macro", "samples_per_s")
GIB = 1024**3

Point = tuple[float, float]


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
    """The worker's side of the watcher: polls a folder's follower and folds each poll into a snapshot."""

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
        self.state: tuple[str, str | None, str | None] = ("unknown", None, None)
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

    def _adapter_facts(self) -> LoraFacts | None:
        """A foreign folder's LoRA facts, from its adapter_config.json."""
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

    def _lora_facts(self) -> LoraFacts | None:
        """The LoRA panel's facts, from the spec and the started event (hftui runs) or adapter_config.json."""
        if self.kind != "run":
            return self._adapter_facts()
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
        if isinstance(self.follower, RunFollower):
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
    return list(poll_through(follower_for(path)).events)


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


def run_has_ended(follower: RunFollower, update: RunUpdate) -> bool:
    """Whether following an hftui run can stop: all of it was read and it wrote its last event, or its process is
    gone (a launch not yet confirmed by process.json still counts as starting)."""
    if update.more:
        return False
    last = follower.last_lifecycle
    if last is not None and last.kind in TERMINAL_KINDS:
        return True
    return not update.alive and update.state.state != "starting"


def follow_to_end(follower: RunFollower, *, changes: FolderChanges) -> Iterator[RunUpdate]:
    """Each poll's update of an hftui run until it has ended (a finished run is replayed); the last update's state
    says how. After a poll that reached the end of events.jsonl it waits for `changes` (the run folder changing,
    its safety poll, or its poll interval where there are no notifications)."""
    while True:
        update = follower.poll()
        yield update
        if run_has_ended(follower, update):
            return
        if not update.more:
            changes.wait()

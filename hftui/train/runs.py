"""Training runs on disk: one folder per run under hftui's runs directory, and what state each is in.

A run directory holds `spec.json`, `events.jsonl` (the record), `train.log` (the process's own output),
`process.json` (the pid of the last launch) and `worker.lock` (held by a live worker), plus `checkpoints/`
and, when finished, `model/` with its card. Reading a run never writes to it, so any number of apps and
terminals can watch the same run.

The state comes from the last lifecycle event (launched, started, finished, failed, stopped) and whether
the worker is alive (`process.py`): a run whose last word is `started` but whose worker is gone was killed (or
its machine restarted), and is reported failed with reason `killed`. `RunsReader` keeps a listing up to date
without reading ended, unchanged runs again.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.train.events import EVENTS_FILE, TERMINAL_KINDS, EventTail, RunEvent, read_all_events
from hftui.train.process import PROCESS_FILE, ProcessInfo, read_process_info, worker_alive
from hftui.train.spec import SPEC_FILE

LOG_FILE = "train.log"
CHECKPOINTS_DIR = "checkpoints"
MODEL_DIR = "model"
MERGED_DIR = "merged"
METRICS_FILE = "metrics.json"

RUN_STATES = ("starting", "running", "finished", "failed", "stopped", "unknown")
LIFECYCLE_KINDS = frozenset({"launched", "started", *TERMINAL_KINDS})
# A launch not yet confirmed by process.json counts as starting for this long.
LAUNCH_GRACE_S = 60.0

# The events a summary needs: everything but the many log and GPU lines.
_SUMMARY_KINDS = (*sorted(LIFECYCLE_KINDS), "eval", "progress", "checkpoint")


class RunNotFound(LookupError):
    """No run, or more than one, matches the id given."""


@dataclass(frozen=True)
class BestMetric:
    """The best value an evaluation reached: metric name (accuracy, f1_macro or loss), value, step."""

    name: str
    value: float
    step: int | None

    @property
    def label(self) -> str:
        """Short text such as `accuracy 0.875`."""
        return f"{self.name} {self.value:.4g}"


@dataclass(frozen=True)
class RunState:
    """A run's state and, for failed and stopped runs, the reason (nan_loss, oom, disk_full, killed, ...)."""

    state: str
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """What a runs list shows of one run folder (and what `hftui runs` prints)."""

    run_id: str
    path: Path
    state: str
    started: str
    reason: str | None = None
    message: str | None = None
    base_model: str | None = None
    dataset: str | None = None
    # The spec's dataset as given (location, text and label columns), for screens that train on it again.
    dataset_ref: dict[str, Any] | None = None
    task: str | None = None
    lora: bool = False
    started_at: float | None = None
    ended_at: float | None = None
    duration_s: float | None = None
    step: int | None = None
    max_steps: int | None = None
    best: BestMetric | None = None
    final_metrics: dict[str, Any] | None = None
    model_dir: str | None = None
    last_checkpoint: str | None = None
    pid: int | None = None
    attempts: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def is_live(self) -> bool:
        """Whether a worker is (about to be) running it."""
        return self.state in ("starting", "running")


# --- state ----------------------------------------------------------------------------------------------


def derive_state(
    last: RunEvent | None,
    *,
    alive: bool,
    process: ProcessInfo | None = None,
    now: float | None = None,
    last_step: int | None = None,
) -> RunState:
    """A run's state from its last lifecycle event and whether its worker is alive (pure)."""
    now = time.time() if now is None else now
    if last is None:
        if alive:
            return RunState("starting")
        if process is not None:
            return RunState("failed", "killed", "the process ended before writing any event; see train.log")
        return RunState("unknown", None, "no events yet")
    if last.kind in TERMINAL_KINDS:
        reason = last.get("reason")
        message = last.get("message")
        return RunState(
            last.kind, reason if isinstance(reason, str) else None, message if isinstance(message, str) else None
        )
    if alive:
        return RunState("starting" if last.kind == "launched" else "running")
    if last.kind == "launched":
        attempt = last.get("attempt")
        confirmed = process is not None and isinstance(attempt, int) and process.attempt >= attempt
        if not confirmed and now - last.time < LAUNCH_GRACE_S:
            return RunState("starting")  # the launcher has not written process.json yet
        return RunState("failed", "killed", "the worker ended before it started training; see train.log")
    at = f" at step {last_step}" if last_step is not None else ""
    return RunState(
        "failed",
        "killed",
        f"the process ended{at} without a final event (killed, out of memory, or the machine restarted)",
    )


def last_lifecycle(events: Iterable[RunEvent]) -> RunEvent | None:
    """The last launched/started/finished/failed/stopped event."""
    last = None
    for event in events:
        if event.kind in LIFECYCLE_KINDS:
            last = event
    return last


def _best(evals: list[RunEvent]) -> BestMetric | None:
    for name, better in (("accuracy", max), ("f1_macro", max), ("loss", min)):
        found = []
        for event in evals:
            metrics = event.get("metrics")
            if isinstance(metrics, dict):
                value = metrics.get(f"eval_{name}", metrics.get(name))
                if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
                    found.append((float(value), event.step))
        if found:
            value, step = better(found, key=lambda item: item[0])
            return BestMetric(name, value, step)
    return None


def _duration(events: list[RunEvent], now: float, live: bool) -> tuple[float | None, float | None, float | None]:
    """(first start, end, seconds spent running): attempts add up, the pauses between them do not."""
    first: float | None = None
    end: float | None = None
    began: float | None = None
    previous: float | None = None
    total = 0.0
    for event in events:
        if event.kind == "started":
            if began is not None:  # the attempt before was killed: it ran until its last event
                total += (previous or began) - began
            began = event.time
            first = event.time if first is None else first
            end = None
        elif event.kind in TERMINAL_KINDS:
            if began is not None:
                total += event.time - began
                began = None
            end = event.time
        previous = event.time
    if began is not None:
        stop = now if live else (previous or began)
        total += stop - began
        end = None if live else stop
    return first, end, (total if first is not None else None)


def _display_time(moment: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment)) if moment else "-"


def _spec_facts(run_dir: Path) -> tuple[dict[str, Any], str | None]:
    try:
        data = json.loads((run_dir / SPEC_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, "spec.json is missing"
    except (OSError, ValueError) as error:
        return {}, f"spec.json could not be read: {error}"
    return (data, None) if isinstance(data, dict) else ({}, "spec.json is not an object")


class RunSummaryEvents:
    """The events a run's summary needs, read incrementally: every lifecycle, eval and checkpoint event, and
    only the newest progress event (in its place). Kept between refreshes, a live run's next read costs what
    was appended since, not the whole file (0.7 s for 100,000 events)."""

    MAX_WARNINGS = 20

    def __init__(self, run_dir: Path) -> None:
        self.tail = EventTail(Path(run_dir) / EVENTS_FILE, kinds=_SUMMARY_KINDS, max_bytes=None)
        self._reset()

    def _reset(self) -> None:
        self.kept: list[RunEvent] = []
        self.progress: tuple[int, RunEvent] | None = None  # (how many kept events came before it, the event)
        self.warnings: list[str] = []

    def read(self, *, final: bool) -> list[RunEvent]:
        """The summary's events so far, after reading what was appended (`final`: the writer is gone)."""
        batch = self.tail.read(final=final)
        if batch.restarted:
            self._reset()
        self.warnings = (self.warnings + list(batch.warnings))[-self.MAX_WARNINGS :]
        for event in batch.events:
            if event.kind == "progress":
                self.progress = (len(self.kept), event)
            else:
                self.kept.append(event)
        events = list(self.kept)
        if self.progress is not None:
            events.insert(*self.progress)
        return events


def read_run(run_dir: Path, *, now: float | None = None, summary: RunSummaryEvents | None = None) -> RunRecord:
    """Everything a runs list or `hftui runs` shows of one run; never raises (problems become warnings).

    `summary`, kept by the caller between calls for the same folder, makes a re-read incremental."""
    run_dir = Path(run_dir)
    now = time.time() if now is None else now
    spec, spec_warning = _spec_facts(run_dir)
    warnings = [spec_warning] if spec_warning else []
    process = read_process_info(run_dir)
    alive = worker_alive(run_dir, process)
    summary = summary if summary is not None else RunSummaryEvents(run_dir)
    # A live writer may be in the middle of its last line; a dead one left whatever it left.
    events = summary.read(final=not alive)
    warnings += summary.warnings
    last = last_lifecycle(events)
    step = max_steps = None
    for event in events:
        if event.step is not None and event.kind in ("progress", "eval", "checkpoint", *TERMINAL_KINDS):
            step = event.step
        if event.kind in ("progress", "started") and isinstance(event.get("max_steps"), int):
            max_steps = event.get("max_steps")
    state = derive_state(last, alive=alive, process=process, now=now, last_step=step)
    started_at, ended_at, duration = _duration(events, now, state.state in ("starting", "running"))
    given = spec.get("dataset")
    dataset: dict[str, Any] = given if isinstance(given, dict) else {}
    final = next((e for e in reversed(events) if e.kind == "finished"), None)
    checkpoints = [e for e in events if e.kind == "checkpoint"]
    metrics = final.get("metrics") if final is not None else None
    return RunRecord(
        run_id=run_dir.name,
        path=run_dir,
        state=state.state,
        started=_display_time(started_at),
        reason=state.reason,
        message=state.message,
        base_model=spec.get("base_model") if isinstance(spec.get("base_model"), str) else None,
        dataset=_dataset_name(dataset),
        dataset_ref=dataset or None,
        task=spec.get("task") if isinstance(spec.get("task"), str) else None,
        lora=isinstance(spec.get("lora"), dict),
        started_at=started_at,
        ended_at=ended_at,
        duration_s=duration,
        step=step,
        max_steps=max_steps,
        best=_best([e for e in events if e.kind == "eval"]),
        final_metrics=metrics if isinstance(metrics, dict) else None,
        model_dir=final.get("model_dir") if final is not None else None,
        last_checkpoint=checkpoints[-1].get("path") if checkpoints else None,
        pid=process.pid if process is not None else None,
        attempts=sum(1 for e in events if e.kind == "launched"),
        warnings=tuple(warnings),
    )


def _dataset_name(dataset: dict[str, Any]) -> str | None:
    location = dataset.get("location")
    if not isinstance(location, str):
        return None
    return location if dataset.get("kind") == "hub" else (Path(location).name or location)


def run_state(run_dir: Path) -> RunState:
    """Only the state of a run (reads its lifecycle events)."""
    run_dir = Path(run_dir)
    process = read_process_info(run_dir)
    alive = worker_alive(run_dir, process)
    batch = read_all_events(run_dir / EVENTS_FILE, kinds=(*LIFECYCLE_KINDS, "progress"))
    step = next((e.step for e in reversed(batch.events) if e.step is not None), None)
    return derive_state(last_lifecycle(batch.events), alive=alive, process=process, last_step=step)


def list_runs(root: Path) -> tuple[RunRecord, ...]:
    """Each run folder under `root`, newest first (ids begin with the launch time)."""
    if not Path(root).is_dir():
        return ()
    folders = sorted((folder for folder in Path(root).iterdir() if folder.is_dir()), reverse=True)
    return tuple(read_run(folder) for folder in folders if not folder.name.startswith("."))


class RunsReader:
    """Reads the runs directory; a run that is not live and whose files did not change is not read again.

    A finished 100,000-event run takes most of a second to summarise, so re-reading it every refresh would
    keep a thread busy for nothing.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._kept: dict[Path, tuple[tuple[int, ...], RunRecord]] = {}
        self._summaries: dict[Path, RunSummaryEvents] = {}  # a live run is re-read from where the last read ended
        self._lock = threading.Lock()  # a replaced (cancelled) listing may still be reading

    @staticmethod
    def _stamp(folder: Path) -> tuple[int, ...]:
        stamp: list[int] = []
        for name in (EVENTS_FILE, PROCESS_FILE, SPEC_FILE):
            try:
                info = os.stat(folder / name)
            except OSError:
                stamp += [-1, -1]
            else:
                stamp += [info.st_size, info.st_mtime_ns]
        return tuple(stamp)

    def read(self) -> tuple[RunRecord, ...]:
        """Each run folder, newest first (ids begin with the launch time), as `list_runs` gives them."""
        with self._lock:
            return self._read()

    def _read(self) -> tuple[RunRecord, ...]:
        try:
            folders = sorted(
                (f for f in self.root.iterdir() if f.is_dir() and not f.name.startswith(".")), reverse=True
            )
        except OSError:
            self._kept.clear()
            self._summaries.clear()
            return ()
        records = []
        kept: dict[Path, tuple[tuple[int, ...], RunRecord]] = {}
        summaries: dict[Path, RunSummaryEvents] = {}
        for folder in folders:
            stamp = self._stamp(folder)
            previous = self._kept.get(folder)
            summary = self._summaries.get(folder)
            if previous is not None and previous[0] == stamp and not previous[1].is_live:
                record = previous[1]
            else:
                summary = summary or RunSummaryEvents(folder)
                record = read_run(folder, summary=summary)
            kept[folder] = (stamp, record)
            if summary is not None:
                summaries[folder] = summary
            records.append(record)
        self._kept = kept
        self._summaries = summaries
        return tuple(records)


def short_run_name(run_id: str) -> str:
    """A run id without its `YYYYMMDD-HHMMSS-` launch stamp (the part that tells runs apart at a glance)."""
    parts = run_id.split("-", 2)
    if len(parts) == 3 and len(parts[0]) == 8 and parts[0].isdigit() and parts[1].isdigit() and parts[2]:
        return parts[2]
    return run_id


def find_run(root: Path, wanted: str) -> Path:
    """The run folder an id, a unique id prefix or a path names; raises RunNotFound."""
    as_path = Path(wanted).expanduser()
    if as_path.is_dir() and (as_path / SPEC_FILE).exists():
        return as_path
    root = Path(root)
    exact = root / wanted
    if wanted and "/" not in wanted and exact.is_dir():
        return exact
    matches = sorted(f for f in root.iterdir() if f.is_dir() and f.name.startswith(wanted)) if root.is_dir() else []
    if not wanted or not matches:
        raise RunNotFound(f"no run {wanted!r} under {root}")
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches[:5])
        raise RunNotFound(f"{wanted!r} matches {len(matches)} runs ({names}); give more of the id")
    return matches[0]


def checkpoints_of(run_dir: Path) -> list[Path]:
    """The run's checkpoint folders, oldest step first."""
    folder = Path(run_dir) / CHECKPOINTS_DIR
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        prefix, _, number = child.name.partition("-")
        if child.is_dir() and prefix == "checkpoint" and number.isdigit():
            found.append((int(number), child))
    return [path for _, path in sorted(found)]


def folder_size(path: Path) -> int:
    """Bytes of the files under a folder (0 when missing): the adapter or model size on disk."""
    total = 0
    try:
        for file in Path(path).rglob("*"):
            try:
                if file.is_file():
                    total += file.stat().st_size
            except OSError:
                continue
    except OSError:
        return total
    return total


def read_log_tail(run_dir: Path, max_lines: int = 200, max_bytes: int = 65_536) -> list[str]:
    """The last lines of the run's train.log (never raises; an unreadable log gives [])."""
    try:
        with open(Path(run_dir) / LOG_FILE, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - max_bytes))
            raw = handle.read()
    except OSError:
        return []
    lines = raw.decode("utf-8", "replace").replace("\r", "\n").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first one is cut
    return lines[-max_lines:]


def delete_run(run_dir: Path) -> None:
    """Remove a run that is not running (its folder and everything in it); raises RuntimeError if it runs."""
    run_dir = Path(run_dir)
    if worker_alive(run_dir):
        raise RuntimeError(f"run {run_dir.name} is running; stop it first")
    shutil.rmtree(run_dir)

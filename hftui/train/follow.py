"""Following one run for a watcher: the events appended since the last poll, the curves so far, the state.

`RunFollower.poll()` is what a screen's thread worker calls every few hundred milliseconds (and a
finished run's watcher calls until `more` is false, which replays it). It only reads, never raises, and
costs one `stat` plus a lock probe when nothing changed. `TrainerOutputFollower` does the same for a Trainer
output folder hftui did not start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hftui.train.events import EVENTS_FILE, EventTail, RunEvent
from hftui.train.foreign import read_trainer_output, signature
from hftui.train.runs import LIFECYCLE_KINDS, RunState, derive_state, read_process_info, worker_alive
from hftui.train.series import RunCurves


@dataclass(frozen=True)
class RunUpdate:
    """What one poll found: new events, skipped lines, the run's state, and whether more is waiting."""

    events: tuple[RunEvent, ...]
    warnings: tuple[str, ...]
    state: RunState
    alive: bool
    more: bool = False


@dataclass
class RunFollower:
    """Follows a run directory: new events, the curves (downsampled as they grow) and the latest of each kind."""

    run_dir: Path
    max_buckets: int = 500
    max_bytes: int = 4 * 1024 * 1024
    latest: dict[str, RunEvent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.tail = EventTail(self.run_dir / EVENTS_FILE, max_bytes=self.max_bytes)
        self.curves = RunCurves(self.max_buckets)
        self.last_lifecycle: RunEvent | None = None
        self.last_step: int | None = None
        self.event_count = 0

    def poll(self) -> RunUpdate:
        """Read what was appended since the last poll (at most `max_bytes`; `more` says to call again)."""
        process = read_process_info(self.run_dir)
        alive = worker_alive(self.run_dir, process)
        batch = self.tail.read(final=not alive)
        if batch.restarted:
            self.curves = RunCurves(self.max_buckets)
            self.latest.clear()
            self.last_lifecycle = None
            self.event_count = 0
        self.curves.add_events(batch.events)
        for event in batch.events:
            self.latest[event.kind] = event
            if event.kind in LIFECYCLE_KINDS:
                self.last_lifecycle = event
            if event.step is not None:
                self.last_step = event.step
        self.event_count += len(batch.events)
        state = derive_state(self.last_lifecycle, alive=alive, process=process, last_step=self.last_step)
        return RunUpdate(batch.events, batch.warnings, state, alive, self.tail.more)


@dataclass
class TrainerOutputFollower:
    """Follows a Trainer output_dir: reads it again when a trainer_state.json changes, returns the new events."""

    output_dir: Path
    max_buckets: int = 500

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        self.curves = RunCurves(self.max_buckets)
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._seen = 0
        self.finished = False

    def poll(self) -> tuple[tuple[RunEvent, ...], tuple[str, ...]]:
        """(new events, warnings); nothing new when no state file changed since the last poll."""
        current = signature(self.output_dir)
        if current == self._signature:
            return (), ()
        self._signature = current
        run = read_trainer_output(self.output_dir)
        # The history only grows; a shorter one means another run wrote the folder: start over.
        history = [event for event in run.events if event.kind in ("log", "eval", "finished")]
        if len(history) < self._seen:
            self.curves = RunCurves(self.max_buckets)
            self._seen = 0
        new = history[self._seen :]
        self._seen = len(history)
        self.curves.add_events(new)
        self.finished = run.finished
        extra = [event for event in run.events if event.kind in ("checkpoint", "progress")]
        return tuple(new) + tuple(extra), run.warnings

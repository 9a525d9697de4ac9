"""Following one run for a watcher: the events appended since the last poll, the curves so far, the state.

`RunFollower.poll()` is what a screen's thread worker calls every few hundred milliseconds (and a
finished run's watcher calls until `more` is false, which replays it). It only reads, never raises, and
costs one `stat` plus a lock probe when nothing changed. `TrainerOutputFollower` does the same for a Trainer
output folder hftui did not start, `TensorBoardFollower` (tensorboard.py) a TensorBoard log dir; `follower_for`
picks the right one for a folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hftui.train.events import EVENTS_FILE, EventTail, RunEvent
from hftui.train.foreign import is_trainer_output_dir, read_trainer_output, signature
from hftui.train.runs import LIFECYCLE_KINDS, RunState, derive_state, read_process_info, worker_alive
from hftui.train.series import RunCurves
from hftui.train.spec import SPEC_FILE
from hftui.train.tensorboard import TensorBoardFollower, is_tensorboard_dir


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


Follower = RunFollower | TrainerOutputFollower | TensorBoardFollower


def is_run_dir(path: Path) -> bool:
    """Whether a folder is an hftui run folder (it has events.jsonl or spec.json)."""
    path = Path(path)
    return (path / EVENTS_FILE).is_file() or (path / SPEC_FILE).is_file()


def follower_for(path: Path) -> Follower:
    """The follower for a folder: an hftui run folder, a Trainer output_dir or a TensorBoard log dir.

    Checked in that order, so a Trainer output_dir that also holds TensorBoard logs (runs/...) is read from
    its trainer_state.json. Raises ValueError, with a message naming what was looked for, for anything else.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder: pick a run folder, a Trainer output_dir or a log dir")
    if is_run_dir(path):
        return RunFollower(path)
    if is_trainer_output_dir(path):
        return TrainerOutputFollower(path)
    if is_tensorboard_dir(path):
        return TensorBoardFollower(path)
    raise ValueError(
        f"{path} is not a run: it has no events.jsonl or spec.json (an hftui run), no trainer_state.json or "
        "checkpoint-N/ (a Trainer output_dir) and no events.out.tfevents.* file (a TensorBoard log dir)"
    )

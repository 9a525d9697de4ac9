"""Following one run for a watcher: the events appended since the last poll, the curves so far, the state.

`RunFollower.poll()` is what a screen's thread worker calls every few hundred milliseconds (and a
finished run's watcher calls until `more` is false, which replays it). It only reads, never raises, and
costs one `stat` plus a lock probe when nothing changed. `TrainerOutputFollower` does the same for a Trainer
output folder hftui did not start, `TensorBoardFollower` (tensorboard.py) a TensorBoard log dir; `follower_for`
picks the right one for a folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hftui.train.events import EVENTS_FILE, EventTail, RunEvent
from hftui.train.foreign import is_trainer_output_dir, read_trainer_output, signature
from hftui.train.process import read_process_info, worker_alive
from hftui.train.runs import LIFECYCLE_KINDS, RunState, derive_state
from hftui.train.series import RunCurves
from hftui.train.spec import SPEC_FILE, SpecError, load_spec
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


def follower_kind(follower: Follower) -> str:
    """run (hftui's own, with a process), trainer (an output_dir) or tensorboard."""
    if isinstance(follower, RunFollower):
        return "run"
    if isinstance(follower, TrainerOutputFollower):
        return "trainer"
    return "tensorboard"


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


@dataclass(frozen=True)
class FollowerRead:
    """All that a follower had to read at one go: its events and skipped lines, and the state it leaves the run in
    (a foreign folder is `finished` once it has its end-of-training summary, else `unknown`)."""

    events: tuple[RunEvent, ...]
    warnings: tuple[str, ...]
    state: str


def poll_through(follower: Follower, cancelled: Callable[[], bool] = lambda: False) -> FollowerRead:
    """Poll `follower` until it has nothing more waiting (a finished run is read to its end), or until `cancelled`."""
    events: list[RunEvent] = []
    warnings: list[str] = []
    state = "-"
    while not cancelled():
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
    return FollowerRead(tuple(events), tuple(warnings), state)


# TrainingArguments names (a TensorBoard log dir's `args`, a trainer_state.json) -> the spec's names.
_TRAINER_NAMES = {
    "learning_rate": "learning_rate",
    "per_device_train_batch_size": "batch_size",
    "train_batch_size": "batch_size",
    "num_train_epochs": "epochs",
    "max_steps": "max_steps",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "warmup_steps": "warmup",
    "warmup_ratio": "warmup",
    "weight_decay": "weight_decay",
    "lr_scheduler_type": "scheduler",
    "seed": "seed",
    "logging_steps": "logging_steps",
    "eval_steps": "eval_steps",
    "save_steps": "save_steps",
}


def _from_trainer_names(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, ours in _TRAINER_NAMES.items():
        value = values.get(name)
        if value is None or (name == "max_steps" and value == -1) or (name.startswith("warmup") and not value):
            continue
        out.setdefault(ours, value)
    return out


def run_hyperparameters(path: Path, follower: Follower | None = None) -> dict[str, Any]:
    """What a run was asked to do, flat and in the spec's names (base_model, dataset, learning_rate, lora_r, ...).

    An hftui run says it in spec.json; a Trainer output_dir in its trainer_state.json (batch size, epochs,
    steps); a TensorBoard log dir in the TrainingArguments the Trainer wrote there (needs a poll first).
    Never raises: what cannot be read is left out.
    """
    path = Path(path)
    if follower is None or isinstance(follower, RunFollower):
        if (path / SPEC_FILE).is_file():
            try:
                spec = load_spec(path)
            except (SpecError, OSError):
                return {}
            values: dict[str, Any] = {
                "base_model": spec.base_model_id or spec.base_model,
                "dataset": spec.dataset.name,
                "task": spec.task,
                **{k: v for k, v in asdict(spec.hyperparameters).items() if v is not None},
                "lora": spec.lora is not None,
            }
            if spec.lora is not None:
                values.update(lora_r=spec.lora.r, lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout)
                targets = spec.lora.target_modules
                values["lora_targets"] = ",".join(targets) if targets else "suggested"
            return values
        if follower is None and not is_trainer_output_dir(path):
            return {}
    if isinstance(follower, TensorBoardFollower):
        return _from_trainer_names(follower.hyperparameters)
    run = read_trainer_output(path)
    if run.state_file is None:
        return {}
    try:
        state = json.loads(run.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return _from_trainer_names(state) if isinstance(state, dict) else {}

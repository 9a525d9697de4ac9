"""TensorBoard log dirs, read into the same events as hftui's own runs, so the watcher draws the same curves.

The Trainer's `report_to=["tensorboard"]` writes `events.out.tfevents.*` files (under `runs/<name>/` of its
output_dir by default) with scalar tags `train/loss`, `train/learning_rate`, `train/grad_norm`, `train/epoch`,
`eval/loss`, `eval/<metric>` and, at the end, `train/train_runtime` and friends. Each step's scalars become a
`log` event (the `train/` ones) and an `eval` event (the `eval/` ones, as `eval_<metric>`), like foreign.py
does with trainer_state.json; the end-of-training summary adds a `finished` event. The `args` text the Trainer
writes becomes the run's hyperparameters.

Records are read with TensorBoard's own reader (its record reader and read-time compat layers), never a
home-made parser; the `tensorboard` package is imported only when a log dir is read. A truncated or corrupt
record gives a warning and stops that file there, never an exception.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.train.events import RunEvent
from hftui.train.foreign import Signature, file_signature
from hftui.train.series import RunCurves

EVENT_FILE_PREFIX = "events.out.tfevents."
# How deep under a log dir event files are looked for (log_dir/runs/<name>/file is depth 3).
MAX_DEPTH = 4


class TensorBoardMissing(RuntimeError):
    """The `tensorboard` package, which reads event files, is not installed."""


def tensorboard_available() -> bool:
    """Whether the `tensorboard` package can be imported (reading event files needs it)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def _walk(folder: Path, depth: int) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name.startswith(EVENT_FILE_PREFIX) and entry.is_file():
                yield Path(entry.path)
            elif depth > 0 and entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                yield from _walk(Path(entry.path), depth - 1)
        except OSError:
            continue


_NUMBERS = re.compile(r"(\d+)")


def event_files(log_dir: Path) -> list[Path]:
    """Every TensorBoard event file under `log_dir` (a few levels deep), in folder then name (time) order."""
    return sorted(_walk(Path(log_dir), MAX_DEPTH), key=lambda p: (str(p.parent), _natural(p.name)))


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """A name's sort key with its numbers compared as numbers. Writers name files
    `events.out.tfevents.<time>.<host>.<pid>.<n>`, where n counts the writers a process opened, so the tenth
    writer of one second (`.10`) must come after the ninth (`.9`)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _NUMBERS.split(name) if part)


def is_tensorboard_dir(path: Path) -> bool:
    """Whether a folder holds TensorBoard event files (itself or a few levels below)."""
    path = Path(path)
    return path.is_dir() and next(_walk(path, MAX_DEPTH), None) is not None


def tensorboard_runs(log_dir: Path) -> list[Path]:
    """The folders under `log_dir` that hold event files (TensorBoard's runs), the newest written first."""
    newest: dict[Path, float] = {}
    for file in event_files(log_dir):
        try:
            moment = file.stat().st_mtime
        except OSError:
            continue
        newest[file.parent] = max(newest.get(file.parent, 0.0), moment)
    return sorted(newest, key=lambda folder: (-newest[folder], str(folder)))


@dataclass(frozen=True)
class Scalar:
    """One scalar of an event file: tag, step, wall-clock time and value."""

    tag: str
    step: int
    wall_time: float
    value: float


class _EventFileReader:
    """Reads one event file incrementally with TensorBoard's loader; problems become warnings, once each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dead = False
        self._iterator: Any = None
        self._plugins: dict[str, str] = {}
        self._warned_at: int | None = None
        self.texts: dict[str, str] = {}

    def _open(self) -> None:
        from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

        loader = RawEventFileLoader(str(self.path))
        # The loader's record iterator keeps the offset (a truncated record is retried on the next read) and,
        # unlike `Load()`, which swallows them, tells a truncated record from a corrupt one.
        self._iterator = getattr(loader, "_iterator", None) or _Reloading(loader)

    def read(self) -> tuple[list[Scalar], list[str]]:
        """The scalars appended since the last read, and warnings."""
        if self.dead:
            return [], []
        from tensorboard import data_compat
        from tensorboard.compat import tf
        from tensorboard.compat.proto import event_pb2

        warnings: list[str] = []
        scalars: list[Scalar] = []
        try:
            if self._iterator is None:
                self._open()
        except Exception as error:  # the reader raises its own error types (NotFoundError, IOError, ...)
            self.dead = True
            return [], [f"{self.path.name} could not be opened: {error}"]
        while True:
            try:
                record = next(self._iterator)
            except StopIteration:
                break
            except tf.errors.DataLossError as error:
                # The message starts with the file's path, which may hold any word: look at its end only.
                message = str(getattr(error, "message", "") or error).rsplit(" ", 4)
                reason = " ".join(message[-4:])
                if "crc32" not in reason and "truncated" in " ".join(message[-5:]):
                    # The writer may be in the middle of a record: read on next time, warn once per size.
                    size = _size(self.path)
                    if self._warned_at != size:
                        self._warned_at = size
                        warnings.append(f"{self.path.name} ends in an incomplete record; read up to it")
                else:
                    self.dead = True
                    warnings.append(f"{self.path.name} has a corrupt record ({reason}); the rest of it is skipped")
                break
            except Exception as error:
                self.dead = True
                warnings.append(f"{self.path.name} could not be read: {error}")
                break
            try:
                event = data_compat.migrate_event(event_pb2.Event.FromString(record))
            except Exception as error:  # a record with a valid checksum that is not an Event
                warnings.append(f"{self.path.name}: skipped a record that is not an event ({error})")
                continue
            scalars.extend(self._scalars(event))
        return scalars, warnings

    def _scalars(self, event: Any) -> Iterator[Scalar]:
        if not event.HasField("summary"):
            return
        from tensorboard.util import tensor_util

        for value in event.summary.value:
            if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
                self._plugins[value.tag] = value.metadata.plugin_data.plugin_name
            plugin = self._plugins.get(value.tag, "")
            if value.HasField("simple_value"):
                number: Any = value.simple_value
            elif value.HasField("tensor"):
                try:
                    array = tensor_util.make_ndarray(value.tensor)
                except Exception:
                    continue
                if plugin == "text" and array.size:
                    item = array.reshape(-1)[0]
                    self.texts[value.tag] = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                    continue
                if array.size != 1 or array.dtype.kind not in "biuf" or plugin not in ("", "scalars"):
                    continue
                number = array.reshape(-1)[0].item()
            else:
                continue
            yield Scalar(value.tag, int(event.step), float(event.wall_time), float(number))


class _Reloading:
    """An iterator over a loader's `Load()` that can be resumed after it ran dry (no warnings, though)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.current: Iterator[bytes] | None = None

    def __iter__(self) -> _Reloading:
        return self

    def __next__(self) -> bytes:
        if self.current is None:
            self.current = iter(self.loader.Load())
        try:
            return next(self.current)
        except StopIteration:
            self.current = None
            raise


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _field(tag: str) -> tuple[str, str] | None:
    """(event kind, field) of a scalar tag: train/x -> (log, x), eval/x -> (eval, eval_x); None to skip."""
    prefix, slash, name = tag.partition("/")
    if not slash:
        # Bare tags (another trainer's, or the Trainer's own keys written without the prefix).
        return ("eval", tag) if tag.startswith("eval_") else ("log", tag)
    if prefix == "train" and name:
        return ("log", name)
    if prefix == "eval" and name:
        return ("eval", f"eval_{name}")
    return None


def scalars_to_events(scalars: Iterable[Scalar], *, last_step: int | None = None) -> list[RunEvent]:
    """Scalars (in file order) as log, eval and finished events, one of each kind per step at most.

    A step lower than the one before (`last_step` carries it over from an earlier call) means the run was
    resumed from a checkpoint and logs those steps again: a `started` event with `resumed_from_step` says so,
    so the curves drop what it supersedes, as TensorBoard does.
    """
    events: list[RunEvent] = []
    group: list[Scalar] = []

    def flush() -> None:
        if not group:
            return
        step, moment = group[0].step, group[0].wall_time
        logs: dict[str, Any] = {}
        evals: dict[str, Any] = {}
        for scalar in group:
            where = _field(scalar.tag)
            if where is None:
                continue
            value: float | None = scalar.value if math.isfinite(scalar.value) else None
            (evals if where[0] == "eval" else logs)[where[1]] = value
        epoch = logs.get("epoch")
        if evals:
            events.append(RunEvent("eval", moment, step, {"epoch": epoch, "metrics": evals, "final": False}))
        # An evaluation's own epoch comes as train/epoch beside it: not a log of its own.
        if logs and not (evals and set(logs) == {"epoch"}):
            events.append(RunEvent("log", moment, step, logs))
        if "train_runtime" in logs:
            events.append(
                RunEvent(
                    "finished", moment, step, {"runtime_s": logs["train_runtime"], "train_loss": logs.get("train_loss")}
                )
            )
        group.clear()

    for scalar in scalars:
        if group and scalar.step != group[0].step:
            flush()
        if not group and last_step is not None and scalar.step < last_step:
            events.append(RunEvent("started", scalar.wall_time, None, {"resumed_from_step": scalar.step - 1}))
        last_step = scalar.step
        group.append(scalar)
    flush()
    return events


def _hyperparameters(texts: dict[str, str]) -> dict[str, Any]:
    """The Trainer's `args` text (its TrainingArguments as JSON), or nothing."""
    for tag in ("args/text_summary", "args"):
        text = texts.get(tag)
        if not text:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


@dataclass
class TensorBoardFollower:
    """Follows a TensorBoard log dir: reads its event files again when one changed, returns the new events.

    A log dir that holds several runs (sub-folders with event files) is followed in its newest run; the
    first poll's warnings name the others. Same shape as TrainerOutputFollower: `poll()`, `.curves`,
    `.finished`.
    """

    log_dir: Path
    max_buckets: int = 500
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_dir = Path(self.log_dir)
        self.curves = RunCurves(self.max_buckets)
        self.finished = False
        self.run_dir: Path | None = None
        self._readers: dict[Path, _EventFileReader] = {}
        self._signature: Signature | None = None
        self._last_step: int | None = None
        self._missing_warned = False

    def _files(self) -> list[Path]:
        if self.run_dir is not None:
            return [p for p in event_files(self.run_dir) if p.parent == self.run_dir]
        return []

    def poll(self) -> tuple[tuple[RunEvent, ...], tuple[str, ...]]:
        """(new events, warnings); one stat per event file and nothing else when no file changed."""
        warnings: list[str] = []
        if self.run_dir is None:
            runs = tensorboard_runs(self.log_dir)
            if not runs:
                return (), ()
            self.run_dir = runs[0]
            if len(runs) > 1:
                names = ", ".join(str(run.relative_to(self.log_dir)) for run in runs[1:4])
                more = f" and {len(runs) - 4} more" if len(runs) > 4 else ""
                shown = self.run_dir.relative_to(self.log_dir) if self.run_dir != self.log_dir else "."
                warnings.append(
                    f"this log dir holds {len(runs)} runs; showing the newest, {shown} (others: {names}{more})"
                )
        files = self._files()
        current = file_signature(files)
        if current == self._signature:
            return (), tuple(warnings)
        if not tensorboard_available():
            if not self._missing_warned:
                self._missing_warned = True
                warnings.append(
                    "reading TensorBoard event files needs the tensorboard package (pip install tensorboard)"
                )
            return (), tuple(warnings)
        self._signature = current
        scalars: list[Scalar] = []
        for file in files:
            reader = self._readers.get(file)
            if reader is None:
                reader = self._readers[file] = _EventFileReader(file)
            found, problems = reader.read()
            scalars.extend(found)
            warnings.extend(problems)
            if reader.texts and not self.hyperparameters:
                self.hyperparameters.update(_hyperparameters(reader.texts))
        events = scalars_to_events(scalars, last_step=self._last_step)
        if scalars:
            self._last_step = scalars[-1].step
        self.curves.add_events(events)
        if any(event.kind == "finished" for event in events):
            self.finished = True
        return tuple(events), tuple(warnings)


@dataclass(frozen=True)
class TensorBoardRun:
    """A TensorBoard log dir read to its end: events, the run folder shown, hyperparameters, warnings."""

    path: Path
    run_dir: Path | None
    events: tuple[RunEvent, ...]
    hyperparameters: dict[str, Any]
    finished: bool
    warnings: tuple[str, ...] = ()


def read_tensorboard(log_dir: Path) -> TensorBoardRun:
    """Read a TensorBoard log dir (its newest run) once; never raises."""
    follower = TensorBoardFollower(Path(log_dir))
    events, warnings = follower.poll()
    return TensorBoardRun(
        Path(log_dir), follower.run_dir, events, dict(follower.hyperparameters), follower.finished, warnings
    )

"""A run's events.jsonl: one JSON object per line, appended by the run and read incrementally by anyone.

The writer appends each event with a single `write` on an `O_APPEND` descriptor, so readers (the app, the
command line, several at once) see whole lines or an unfinished last line, never interleaved ones. The reader
keeps a byte offset, consumes only complete lines and skips a corrupt one with a warning; it never raises,
so a truncated file, a half-written line or a disk error cannot crash a screen.

Every line is `{"event": KIND, "time": UNIX_SECONDS, "step": N | null, ...fields}`; see `EVENT_KINDS`.
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS_FILE = "events.jsonl"
SCHEMA_VERSION = 1

EVENT_KINDS = (
    "launched",  # the launcher: attempt, resume, argv (written before the process starts)
    "started",  # the worker: spec, trainable/total parameters, max_steps, labels, device, resumed_from
    "log",  # a Trainer log: loss, grad_norm, learning_rate, epoch (and the final train_* summary)
    "eval",  # an evaluation: metrics {eval_loss, eval_accuracy, eval_f1_macro, ...}, final
    "progress",  # step, max_steps, epoch, elapsed_s, steps_per_s, samples_per_s, eta_s, cuda memory
    "checkpoint",  # a checkpoint was saved: path
    "gpu",  # nvidia-smi sample: devices [{index, utilization, memory_used, memory_total}]
    "note",  # something the user should know: level, message
    "finished",  # the end: metrics, model_dir, card, runtime_s
    "failed",  # reason (nan_loss, oom, disk_full, bad_input, already_running, error), message
    "stopped",  # reason (requested, signal), checkpoint
)
TERMINAL_KINDS = frozenset({"finished", "failed", "stopped"})

_MAX_LINE_WARNING = 80


@dataclass(frozen=True)
class RunEvent:
    """One line of events.jsonl: its kind, wall-clock time, optimizer step and the other fields."""

    kind: str
    time: float
    step: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the event (`data[name]`), or `default`."""
        return self.data.get(name, default)

    def number(self, name: str) -> float | None:
        """A numeric field as a float, or None when missing, not a number or not finite."""
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        value = float(value)
        return value if math.isfinite(value) else None

    def to_json(self) -> dict[str, Any]:
        """The event as the JSON object written on its line."""
        return {"event": self.kind, "time": self.time, "step": self.step, **self.data}


@dataclass(frozen=True)
class EventBatch:
    """What one read found: the new events, the offset to read from next time, and any skipped lines."""

    events: tuple[RunEvent, ...]
    offset: int
    warnings: tuple[str, ...] = ()
    # The file became shorter than the offset (replaced or truncated): reading started again from 0.
    restarted: bool = False
    # How many lines were consumed (complete ones, plus a truncated last one when final).
    lines: int = 0


def event_from_json(obj: Any) -> RunEvent | None:
    """A RunEvent from a decoded line, or None when it is not an object with a string `event`."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("event")
    if not isinstance(kind, str) or not kind:
        return None
    moment = obj.get("time")
    step = obj.get("step")
    data = {key: value for key, value in obj.items() if key not in ("event", "time", "step")}
    return RunEvent(
        kind,
        float(moment) if isinstance(moment, int | float) and not isinstance(moment, bool) else 0.0,
        step if isinstance(step, int) and not isinstance(step, bool) else None,
        data,
    )


def _kind_of_line(line: bytes) -> str | None:
    """The kind of a line this module wrote (`{"event":"KIND",...`), read without decoding the JSON."""
    prefix = b'{"event":"'
    if not line.startswith(prefix):
        return None
    end = line.find(b'"', len(prefix))
    return line[len(prefix) : end].decode("ascii", "replace") if end > 0 else None


def _describe(line: bytes) -> str:
    text = line[:_MAX_LINE_WARNING].decode("utf-8", "replace")
    return text + ("…" if len(line) > _MAX_LINE_WARNING else "")


def parse_lines(
    chunk: bytes, *, start_line: int = 1, kinds: Iterable[str] | None = None
) -> tuple[list[RunEvent], list[str]]:
    """Decode complete lines of events.jsonl; corrupt ones become warnings. `kinds` keeps only those kinds."""
    wanted = frozenset(kinds) if kinds is not None else None
    events: list[RunEvent] = []
    warnings: list[str] = []
    for number, line in enumerate(chunk.split(b"\n"), start=start_line):
        line = line.strip()
        if not line:
            continue
        if wanted is not None:
            # Lines this module wrote name their kind first, so unwanted ones are skipped undecoded.
            kind = _kind_of_line(line)
            if kind is not None and kind not in wanted:
                continue
        try:
            decoded = json.loads(line)
        except ValueError as error:
            warnings.append(f"line {number}: skipped a corrupt event ({error.__class__.__name__}: {_describe(line)})")
            continue
        event = event_from_json(decoded)
        if event is None:
            warnings.append(f"line {number}: skipped a line that is not an event ({_describe(line)})")
            continue
        if wanted is None or event.kind in wanted:
            events.append(event)
    return events, warnings


def read_events_since(
    path: Path,
    offset: int = 0,
    *,
    final: bool = False,
    kinds: Iterable[str] | None = None,
    max_bytes: int | None = None,
    start_line: int = 1,
) -> EventBatch:
    """The complete lines of `path` from byte `offset` on, as events; never raises.

    An unfinished last line is left for the next read (the writer may be in the middle of it) unless `final`
    says the writer is gone, in which case it is reported as truncated and consumed. `max_bytes` bounds one
    read so a huge file can be taken in slices. `start_line` numbers warnings when the caller counts lines.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            restarted = False
            if size < offset:
                offset, restarted, start_line = 0, True, 1
            handle.seek(offset)
            chunk = handle.read(max_bytes if max_bytes is not None else -1)
            # One line longer than max_bytes is still read whole, or the reader would never get past it.
            while max_bytes is not None and b"\n" not in chunk and offset + len(chunk) < size:
                more = handle.read(max_bytes)
                if not more:
                    break
                chunk += more
    except FileNotFoundError:
        return EventBatch((), offset)
    except OSError as error:
        return EventBatch((), offset, (f"{path.name} could not be read: {error.strerror or error}",))
    end = chunk.rfind(b"\n")
    warnings: list[str] = []
    if restarted:
        warnings.append(f"{path.name} became shorter than what was read; reading it again from the start")
    complete = chunk[: end + 1] if end >= 0 else b""
    rest = chunk[end + 1 :]
    events, line_warnings = parse_lines(complete, start_line=start_line, kinds=kinds)
    warnings += line_warnings
    consumed = len(complete)
    lines = complete.count(b"\n")
    at_end = max_bytes is None or offset + len(chunk) >= size
    if rest and final and at_end:
        line_number = start_line + lines
        tail_events, _ = parse_lines(rest, start_line=line_number, kinds=kinds)
        if tail_events:
            events += tail_events
        else:
            warnings.append(f"line {line_number}: skipped a truncated last event ({_describe(rest.strip())})")
        consumed += len(rest)
        lines += 1
    return EventBatch(tuple(events), offset + consumed, tuple(warnings), restarted, lines)


def read_all_events(path: Path, *, kinds: Iterable[str] | None = None) -> EventBatch:
    """Every event of a file whose writer may be gone: a truncated last line is reported, not waited for."""
    return read_events_since(path, 0, final=True, kinds=kinds)


class EventTail:
    """Follows one events.jsonl: each `read()` returns the events appended since the last one.

    Keeps the byte offset and the line count, so warnings name line numbers. Cheap when nothing changed
    (one `stat`), safe to call from a thread worker at any rate, and never raises.
    """

    def __init__(self, path: Path, *, kinds: Iterable[str] | None = None, max_bytes: int | None = 8 * 1024 * 1024):
        self.path = Path(path)
        self.offset = 0
        self.lines_read = 0
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.max_bytes = max_bytes

    def read(self, *, final: bool = False) -> EventBatch:
        """The events appended since the last read (at most `max_bytes` of them; call again while `more`)."""
        try:
            size = self._file_size()
        except OSError:
            return EventBatch((), self.offset)
        if size == self.offset and not final:
            return EventBatch((), self.offset)
        batch = read_events_since(
            self.path,
            self.offset,
            final=final,
            kinds=self.kinds,
            max_bytes=self.max_bytes,
            start_line=self.lines_read + 1,
        )
        self.lines_read = (0 if batch.restarted else self.lines_read) + batch.lines
        self.offset = batch.offset
        return batch

    @property
    def more(self) -> bool:
        """Whether the file holds bytes beyond what was read (a read was cut at `max_bytes`)."""
        try:
            return self._file_size() > self.offset
        except OSError:
            return False

    def _file_size(self) -> int:
        """The file's size; a folder in its place (whose size is its directory entry's) counts as no file."""
        status = self.path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(str(self.path))
        return status.st_size


def _finite(value: Any, nonfinite: dict[str, str], name: str) -> Any:
    """JSON has no NaN or infinity: such a number is written as null and named in `nonfinite`."""
    if isinstance(value, float) and not math.isfinite(value):
        nonfinite[name] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    return value


def encode_event(kind: str, step: int | None, fields: Mapping[str, Any], moment: float | None = None) -> bytes:
    """One events.jsonl line (with its newline): `event` first, so readers can filter lines undecoded."""
    nonfinite: dict[str, str] = {}
    clean = {name: _finite(value, nonfinite, name) for name, value in fields.items()}
    if nonfinite:
        clean["nonfinite"] = nonfinite
    obj = {"event": kind, "time": round(time.time() if moment is None else moment, 3), "step": step, **clean}
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return text.encode("utf-8") + b"\n"


def _json_default(value: Any) -> Any:
    """Numbers from numpy or torch, paths and sets become plain JSON values."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(value)


class EventWriter:
    """Appends events to events.jsonl, one `write` per event (visible to readers at once), thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        # A writer that died mid-line left an unfinished last line; end it so the next event is its own line.
        size = os.fstat(self._fd).st_size
        if size:
            with open(self.path, "rb") as handle:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def write(self, kind: str, step: int | None = None, **fields: Any) -> None:
        """Append one event; raises OSError when the disk refuses (the caller decides what that means)."""
        line = encode_event(kind, step, fields)
        with self._lock:
            if self._fd < 0:
                return
            os.write(self._fd, line)

    def sync(self) -> None:
        """Flush the file to the disk (used after the final event)."""
        with self._lock:
            if self._fd >= 0:
                try:
                    os.fsync(self._fd)
                except OSError:
                    pass

    def close(self) -> None:
        """Close the file; later writes are dropped."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_event(path: Path, kind: str, step: int | None = None, **fields: Any) -> None:
    """Append one event to a file with a short-lived writer (the launcher's `launched` line)."""
    with EventWriter(path) as writer:
        writer.write(kind, step, **fields)


def iter_kind(events: Iterable[RunEvent], *kinds: str) -> Iterator[RunEvent]:
    """The events of the given kinds, in order."""
    wanted = frozenset(kinds)
    return (event for event in events if event.kind in wanted)

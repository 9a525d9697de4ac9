"""Runs hftui did not start: any Trainer `output_dir`, read into the same events as hftui's own runs.

The Trainer writes `trainer_state.json` (its `log_history`: losses, learning rates, evaluations) into each
`checkpoint-N/` folder and, when asked, into the output folder itself. The newest one holds the whole
history so far; its entries become `log`, `eval`, `checkpoint`, `progress` and (once training has ended)
`finished` events, so the watcher draws the same curves. Those entries carry no wall-clock time, so the
events' `time` is the state file's modification time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftui.train.events import RunEvent

STATE_FILE = "trainer_state.json"
Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class ForeignRun:
    """What a Trainer output folder says: its events, checkpoints, and which state file they came from."""

    path: Path
    events: tuple[RunEvent, ...]
    checkpoints: tuple[Path, ...]
    state_file: Path | None
    global_step: int | None
    max_steps: int | None
    finished: bool
    warnings: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        """finished when the history has the Trainer's end-of-training summary, else unknown (no pid to ask)."""
        return "finished" if self.finished else "unknown"


def _checkpoints(folder: Path) -> list[tuple[int, Path]]:
    found = []
    try:
        children = list(folder.iterdir())
    except OSError:
        return []
    for child in children:
        prefix, _, number = child.name.partition("-")
        if prefix == "checkpoint" and number.isdigit() and child.is_dir():
            found.append((int(number), child))
    return sorted(found)


def is_trainer_output_dir(path: Path) -> bool:
    """Whether a folder looks like a Trainer output_dir (a trainer_state.json or checkpoint-N folders)."""
    path = Path(path)
    return (path / STATE_FILE).is_file() or any((p / STATE_FILE).is_file() for _, p in _checkpoints(path))


def file_signature(files: Iterable[Path]) -> Signature:
    """(name, size, mtime) of each file: compare two to know whether anything was written."""
    out = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        out.append((str(file), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def signature(path: Path) -> Signature:
    """(name, size, mtime) of every state file: compare two to know whether to read the folder again."""
    path = Path(path)
    return file_signature([path / STATE_FILE] + [p / STATE_FILE for _, p in _checkpoints(path)])


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def history_events(state: dict[str, Any], *, moment: float = 0.0) -> list[RunEvent]:
    """A trainer_state.json's `log_history` as events (log, eval, finished), in order."""
    events: list[RunEvent] = []
    history = state.get("log_history")
    if not isinstance(history, list):
        return events
    for entry in history:
        if not isinstance(entry, dict):
            continue
        step = entry.get("step")
        step = step if isinstance(step, int) and not isinstance(step, bool) else None
        epoch = entry.get("epoch")
        evals = {k: _clean(v) for k, v in entry.items() if k.startswith("eval_")}
        if evals:
            events.append(RunEvent("eval", moment, step, {"epoch": epoch, "metrics": evals, "final": False}))
            continue
        fields = {k: _clean(v) for k, v in entry.items() if k != "step"}
        if "train_runtime" in entry:
            events.append(RunEvent("log", moment, step, fields))
            events.append(
                RunEvent(
                    "finished",
                    moment,
                    step,
                    {"runtime_s": entry.get("train_runtime"), "train_loss": _clean(entry.get("train_loss"))},
                )
            )
            continue
        events.append(RunEvent("log", moment, step, fields))
    return events


def read_trainer_output(output_dir: Path) -> ForeignRun:
    """Read a Trainer output folder (the newest trainer_state.json there); never raises."""
    output_dir = Path(output_dir)
    checkpoints = _checkpoints(output_dir)
    candidates = [output_dir / STATE_FILE] + [p / STATE_FILE for _, p in checkpoints]
    warnings: list[str] = []
    best: tuple[int, float, Path, dict[str, Any]] | None = None
    for candidate in candidates:
        try:
            text = candidate.read_text(encoding="utf-8")
            moment = candidate.stat().st_mtime
        except FileNotFoundError:
            continue
        except OSError as error:
            warnings.append(f"{candidate} could not be read: {error.strerror or error}")
            continue
        try:
            state = json.loads(text)
        except ValueError as error:
            # The Trainer may be writing it right now; the next refresh reads it whole.
            warnings.append(f"{candidate.relative_to(output_dir)} is not valid JSON ({error}); skipped")
            continue
        if not isinstance(state, dict):
            continue
        global_step = state.get("global_step")
        step = global_step if isinstance(global_step, int) else -1
        history = state.get("log_history")
        length = len(history) if isinstance(history, list) else 0
        key = (step, length)
        if best is None or key > (best[0], len(best[3].get("log_history") or [])):
            best = (step, moment, candidate, state)
    if best is None:
        return ForeignRun(output_dir, (), tuple(p for _, p in checkpoints), None, None, None, False, tuple(warnings))
    step, moment, state_file, state = best
    events = history_events(state, moment=moment)
    for number, path in checkpoints:
        events.append(RunEvent("checkpoint", moment, number, {"path": str(path)}))
    max_steps = state.get("max_steps") if isinstance(state.get("max_steps"), int) else None
    if step >= 0:
        events.append(
            RunEvent("progress", moment, step, {"max_steps": max_steps, "epoch": state.get("epoch"), "eta_s": None})
        )
    # History first in its own order at each step, then that step's checkpoint and progress; the end last.
    order = {"checkpoint": 1, "progress": 2, "finished": 3}
    events.sort(key=lambda e: (e.step if e.step is not None else -1, order.get(e.kind, 0)))
    finished = any(event.kind == "finished" for event in events)
    return ForeignRun(
        output_dir,
        tuple(events),
        tuple(p for _, p in checkpoints),
        state_file,
        step if step >= 0 else None,
        max_steps,
        finished,
        tuple(warnings),
    )

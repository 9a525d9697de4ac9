"""Comparing runs: each chosen folder read to its end (and again while it can change), its best and final
metrics, the hyperparameters that differ between the runs, and their metrics exported side by side.

Any mix of folders works: hftui's own runs, Trainer output_dirs and TensorBoard log dirs (`follower_for`).
`CompareReader` is the compare screen's worker side: it keeps one follower per folder and gives back a
`ComparedRun` (downsampled curves, summary, hyperparameters, state) for each run that changed since its last read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hftui.atomic_write import write_text_atomically
from hftui.train.events import RunEvent
from hftui.train.follow import Follower, follower_for, follower_kind, poll_through, run_hyperparameters
from hftui.train.runs import short_run_name
from hftui.train.series import EXPORT_FIELDS, metrics_csv, metrics_rows

Point = tuple[float, float]
# States in which a run no longer changes (a foreign folder's `finished` comes from its end-of-training summary).
SETTLED_STATES = frozenset({"finished", "failed", "stopped"})
# The curves a comparison carries (the metric key cycles through the last ones).
CURVES = ("loss", "eval_loss", "eval_accuracy", "eval_f1_macro", "learning_rate", "grad_norm")
METRICS = ("eval_accuracy", "eval_f1_macro", "learning_rate", "grad_norm")
# Where the best value is the largest; for the others (losses) it is the smallest.
HIGHER_IS_BETTER = frozenset({"eval_accuracy", "eval_f1_macro"})
# Hyperparameters not worth a column even when they differ.
_IGNORED = frozenset({"logging_steps", "save_steps", "save_total_limit", "eval_batch_size"})
# How the Src column names each kind of folder (`follower_kind`'s names).
SOURCE_NAMES = {"run": "hftui", "trainer": "trainer", "tensorboard": "tboard"}


@dataclass(frozen=True)
class RunSummary:
    """A run's last step, final training loss and the best and final value of each eval curve."""

    last_step: int | None = None
    final_loss: float | None = None
    best: Mapping[str, Point] = field(default_factory=dict)
    final: Mapping[str, float] = field(default_factory=dict)


def summarize(curves: Mapping[str, Sequence[Point]]) -> RunSummary:
    """Best (max for accuracy and F1, min for losses) and final values of each curve."""
    best: dict[str, Point] = {}
    final: dict[str, float] = {}
    last_step: float | None = None
    for name, points in curves.items():
        if not points:
            continue
        final[name] = points[-1][1]
        pick = max if name in HIGHER_IS_BETTER else min
        best[name] = pick(points, key=lambda p: p[1])
        last_step = points[-1][0] if last_step is None else max(last_step, points[-1][0])
    return RunSummary(
        int(last_step) if last_step is not None else None,
        final.get("loss"),
        best,
        final,
    )


def differing(hyperparameters: Sequence[Mapping[str, Any]]) -> list[str]:
    """The hyperparameter names whose values differ between the runs (one missing counts as differing)."""
    if len(hyperparameters) < 2:
        return []
    names: dict[str, None] = {}
    for values in hyperparameters:
        for name in values:
            names.setdefault(name, None)
    out = []
    for name in names:
        if name in _IGNORED:
            continue
        seen = {json.dumps(values.get(name), sort_keys=True, default=str) for values in hyperparameters}
        if len(seen) > 1:
            out.append(name)
    return out


def unique_labels(paths: Sequence[Path]) -> list[str]:
    """A short label per run: its folder name (a run id without its launch stamp), with its parent's name where
    two would read the same, and a number where even that does."""
    names = [short_run_name(path.name) or str(path) for path in paths]
    labels = [
        f"{path.parent.name}/{name}" if names.count(name) > 1 else name for path, name in zip(paths, names, strict=True)
    ]
    return [f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)]


def export_text(runs: Sequence[tuple[str, Sequence[RunEvent]]], suffix: str) -> str:
    """The metrics of one or several runs as CSV (a `run` column first) or JSON ({run: rows})."""
    if suffix == ".json":
        return json.dumps({label: metrics_rows(events) for label, events in runs}, indent=2) + "\n"
    if suffix != ".csv":
        raise ValueError(f"export to .csv or .json, not {suffix or 'a file without an extension'}")
    if len(runs) == 1:
        return metrics_csv(runs[0][1])
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, ["run", "step", *EXPORT_FIELDS], lineterminator="\n")
    writer.writeheader()
    for label, events in runs:
        for row in metrics_rows(events):
            writer.writerow({"run": label, **row})
    return out.getvalue()


def write_export(runs: Sequence[tuple[str, Sequence[RunEvent]]], target: Path) -> Path:
    """Write `export_text` of the runs to `target` (its extension picks CSV or JSON) atomically; returns the path."""
    text = export_text(runs, target.suffix.lower())
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(target, text)


@dataclass(frozen=True)
class ComparedRun:
    """One run as the worker last read it: curves (downsampled), summary, hyperparameters, state."""

    index: int
    label: str
    path: Path
    kind: str
    state: str
    curves: Mapping[str, list[Point]]
    summary: RunSummary
    hyperparameters: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    error: str | None = None


class CompareReader:
    """Reads the compared folders for a worker, one follower each, kept between reads so a re-read costs only what
    was appended; a folder that is not a run is reported once and not tried again."""

    def __init__(self, paths: Sequence[Path], labels: Sequence[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.labels = list(labels)
        self.followers: dict[int, Follower] = {}
        self.unreadable: set[int] = set()

    def read(self, cancelled: Callable[[], bool] = lambda: False) -> Iterator[tuple[ComparedRun, tuple[RunEvent, ...]]]:
        """Each run that changed since the last read (every run, the first time) with its new events."""
        first = not self.followers
        for index, path in enumerate(self.paths):
            if cancelled():
                return
            if index in self.unreadable:
                continue
            follower = self.followers.get(index)
            if follower is None:
                try:
                    follower = self.followers[index] = follower_for(path)
                except ValueError as error:
                    self.unreadable.add(index)
                    yield self._failed(index, str(error)), ()
                    continue
            found = poll_through(follower, cancelled)
            if not found.events and not found.warnings and not first:
                continue
            curves = {name: follower.curves.points(name) for name in CURVES}
            run = ComparedRun(
                index,
                self.labels[index],
                path,
                SOURCE_NAMES[follower_kind(follower)],
                found.state,
                curves,
                summarize(curves),
                run_hyperparameters(path, follower),
                found.warnings[-5:],
            )
            yield run, found.events

    def _failed(self, index: int, message: str) -> ComparedRun:
        path = self.paths[index]
        return ComparedRun(index, self.labels[index], path, "-", "unreadable", {}, RunSummary(), {}, (), message)

"""Curves out of run events, and downsampling so a plot of a million points costs what one of a thousand does.

`downsample` is a pure function (min and max of each bucket, so a spike or a NaN-free dip is never smoothed
away); `DecimatedSeries` does the same incrementally, O(1) per new point, for a watcher that follows a live
run. A resumed attempt restarts from its checkpoint's step: points logged after that step by the attempt
that was stopped or killed are superseded, as TensorBoard does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hftui.train.events import RunEvent

Point = tuple[float, float]

# Curve name -> (event kind, field). Eval metrics are the Trainer's names (eval_ + the metric).
CURVES: dict[str, tuple[str, str]] = {
    "loss": ("log", "loss"),
    "learning_rate": ("log", "learning_rate"),
    "grad_norm": ("log", "grad_norm"),
    "eval_loss": ("eval", "eval_loss"),
    "eval_accuracy": ("eval", "eval_accuracy"),
    "eval_f1_macro": ("eval", "eval_f1_macro"),
    "samples_per_s": ("progress", "samples_per_s"),
    "cuda_memory_allocated": ("progress", "cuda_memory_allocated"),
}


def _value(event: RunEvent, name: str) -> float | None:
    if event.kind == "eval":
        metrics = event.get("metrics")
        if isinstance(metrics, dict):
            value = metrics.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
            return None
    return event.number(name)


def resume_step(event: RunEvent) -> int | None:
    """The step a `started` event resumes from (None for a fresh start)."""
    if event.kind != "started":
        return None
    step = event.get("resumed_from_step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def series_from_events(events: Iterable[RunEvent], names: Sequence[str] | None = None) -> dict[str, list[Point]]:
    """Each curve as (step, value) points in step order; a resumed attempt supersedes later points."""
    wanted = list(names) if names is not None else list(CURVES)
    out: dict[str, list[Point]] = {name: [] for name in wanted}
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for name in wanted:
        kind, field_name = CURVES.get(name, ("log", name))
        by_kind.setdefault(kind, []).append((name, field_name))
    for event in events:
        restart = resume_step(event)
        if restart is not None:
            for points in out.values():
                while points and points[-1][0] > restart:
                    points.pop()
            continue
        if event.step is None:
            continue
        for name, field_name in by_kind.get(event.kind, ()):
            value = _value(event, field_name)
            if value is not None:
                out[name].append((float(event.step), value))
    return out


def downsample(points: Sequence[Point], max_points: int) -> list[Point]:
    """At most `max_points` points keeping each bucket's minimum and maximum (in x order), first and last."""
    n = len(points)
    if max_points <= 0:
        return []
    if n <= max_points:
        return list(points)
    if max_points < 4:
        return [points[0], points[-1]][:max_points]
    buckets = (max_points - 2) // 2
    inner = points[1:-1]
    size = len(inner) / buckets
    out: list[Point] = [points[0]]
    for b in range(buckets):
        chunk = inner[int(b * size) : int((b + 1) * size)]
        if not chunk:
            continue
        low = min(chunk, key=lambda p: p[1])
        high = max(chunk, key=lambda p: p[1])
        if low is high:
            out.append(low)
        else:
            out.extend(sorted((low, high)))
    out.append(points[-1])
    return out


class _Bucket:
    __slots__ = ("count", "high", "last", "low")

    def __init__(self, point: Point) -> None:
        self.count = 1
        self.low = point
        self.high = point
        self.last = point

    def add(self, point: Point) -> None:
        self.count += 1
        if point[1] < self.low[1]:
            self.low = point
        if point[1] > self.high[1]:
            self.high = point
        self.last = point

    def merge(self, other: _Bucket) -> None:
        self.count += other.count
        if other.low[1] < self.low[1]:
            self.low = other.low
        if other.high[1] > self.high[1]:
            self.high = other.high
        self.last = other.last


class DecimatedSeries:
    """A growing curve kept as at most ~2 x `max_buckets` min/max buckets: adding a point is O(1) amortised.

    When the buckets fill up, neighbours are merged and each bucket then holds twice as many points, so the
    curve's shape (its extremes) stays exact while its resolution halves. The raw points are kept too, so a
    resumed attempt can take back what it supersedes.
    """

    def __init__(self, max_buckets: int = 500) -> None:
        self.max_buckets = max(2, max_buckets)
        self.raw: list[Point] = []
        self._buckets: list[_Bucket] = []
        self._width = 1

    def __len__(self) -> int:
        return len(self.raw)

    def add(self, x: float, y: float) -> None:
        """Append one point (x in increasing order)."""
        point = (float(x), float(y))
        self.raw.append(point)
        self._place(point)

    def _place(self, point: Point) -> None:
        buckets = self._buckets
        if buckets and buckets[-1].count < self._width:
            buckets[-1].add(point)
            return
        buckets.append(_Bucket(point))
        if len(buckets) >= 2 * self.max_buckets:
            merged = []
            for i in range(0, len(buckets) - 1, 2):
                buckets[i].merge(buckets[i + 1])
                merged.append(buckets[i])
            if len(buckets) % 2:
                merged.append(buckets[-1])
            self._buckets = merged
            self._width *= 2

    def truncate_after(self, x: float) -> None:
        """Drop the points after `x` (a resumed attempt supersedes them) and rebuild the buckets."""
        if not self.raw or self.raw[-1][0] <= x:
            return
        kept = [point for point in self.raw if point[0] <= x]
        self.raw = []
        self._buckets = []
        self._width = 1
        for point in kept:
            self.add(*point)

    def points(self) -> list[Point]:
        """The curve to draw: each bucket's minimum and maximum in x order, and the latest point."""
        out: list[Point] = []
        for bucket in self._buckets:
            if bucket.count == 1:
                out.append(bucket.low)
                continue
            pair = sorted({bucket.low, bucket.high})
            out.extend(pair)
        if self.raw and (not out or out[-1] != self.raw[-1]):
            out.append(self.raw[-1])
        return out

    @property
    def last(self) -> Point | None:
        """The newest point, or None."""
        return self.raw[-1] if self.raw else None


@dataclass
class RunCurves:
    """Every curve of one run, fed incrementally with the events a tail returns."""

    max_buckets: int = 500

    def __post_init__(self) -> None:
        self.series: dict[str, DecimatedSeries] = {name: DecimatedSeries(self.max_buckets) for name in CURVES}

    def add_events(self, events: Iterable[RunEvent]) -> None:
        """Fold new events into the curves (a resumed start truncates what it supersedes)."""
        for event in events:
            restart = resume_step(event)
            if restart is not None:
                for series in self.series.values():
                    series.truncate_after(restart)
                continue
            if event.step is None:
                continue
            for name, (kind, field_name) in CURVES.items():
                if kind == event.kind:
                    value = _value(event, field_name)
                    if value is not None:
                        self.series[name].add(event.step, value)

    def points(self, name: str) -> list[Point]:
        """The drawable points of one curve."""
        series = self.series.get(name)
        return series.points() if series is not None else []


EXPORT_FIELDS = ("loss", "learning_rate", "grad_norm", "epoch", "eval_loss", "eval_accuracy", "eval_f1_macro")


def metrics_rows(events: Iterable[RunEvent]) -> list[dict[str, float | int | None]]:
    """One row per step that logged or evaluated: step plus EXPORT_FIELDS (None where that step has no value).

    A resumed attempt supersedes the rows after its checkpoint, as in the curves.
    """
    rows: dict[int, dict[str, float | int | None]] = {}
    for event in events:
        restart = resume_step(event)
        if restart is not None:
            for step in [s for s in rows if s > restart]:
                del rows[step]
            continue
        if event.step is None or event.kind not in ("log", "eval"):
            continue
        row = rows.setdefault(event.step, {"step": event.step, **dict.fromkeys(EXPORT_FIELDS)})
        for name in EXPORT_FIELDS:
            value = _value(event, name) if event.kind == "eval" or not name.startswith("eval_") else None
            if value is None and event.kind == "eval" and name == "epoch":
                value = event.number("epoch")
            if value is not None:
                row[name] = value
    return [rows[step] for step in sorted(rows)]


def metrics_csv(events: Iterable[RunEvent]) -> str:
    """The run's metrics as CSV text (header: step and EXPORT_FIELDS)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, ["step", *EXPORT_FIELDS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(metrics_rows(events))
    return out.getvalue()

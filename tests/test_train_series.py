"""Curves from events and their downsampling: extremes kept, bounded size, resumed attempts superseding."""

from __future__ import annotations

import math
import random

from hftui.train.events import RunEvent
from hftui.train.series import DecimatedSeries, RunCurves, downsample, series_from_events


def _log(step: int, loss: float, lr: float = 1e-3) -> RunEvent:
    return RunEvent("log", 0.0, step, {"loss": loss, "learning_rate": lr})


def test_downsample_keeps_first_last_and_every_extreme() -> None:
    rng = random.Random(1)
    points = [(float(i), rng.random()) for i in range(10_000)]
    points[5_000] = (5_000.0, 50.0)  # a spike
    points[7_777] = (7_777.0, -50.0)  # a dip
    out = downsample(points, 200)
    assert len(out) <= 200
    assert out[0] == points[0] and out[-1] == points[-1]
    assert (5_000.0, 50.0) in out and (7_777.0, -50.0) in out
    assert [x for x, _ in out] == sorted(x for x, _ in out)


def test_downsample_leaves_short_series_alone_and_handles_tiny_budgets() -> None:
    points = [(float(i), float(i)) for i in range(10)]
    assert downsample(points, 50) == points
    assert downsample(points, 2) == [points[0], points[-1]]
    assert downsample(points, 0) == []
    assert downsample([], 10) == []


def test_decimated_series_stays_bounded_and_exact_at_the_extremes() -> None:
    series = DecimatedSeries(max_buckets=50)
    for i in range(100_000):
        series.add(i, math.sin(i / 1000) + (10.0 if i == 61_234 else 0.0))
    points = series.points()
    assert len(points) <= 2 * 2 * 50 + 1
    assert max(y for _, y in points) == max(y for _, y in series.raw)
    assert points[-1] == (99_999.0, math.sin(99.999))
    assert [x for x, _ in points] == sorted(x for x, _ in points)


def test_series_from_events_per_curve_and_eval_metrics() -> None:
    events = [
        _log(1, 0.9),
        _log(2, 0.8),
        RunEvent("eval", 0.0, 2, {"metrics": {"eval_loss": 0.7, "eval_accuracy": 0.6}}),
        RunEvent("log", 0.0, 3, {"loss": None, "nonfinite": {"loss": "nan"}}),
        RunEvent("progress", 0.0, 3, {"samples_per_s": 100.0}),
    ]
    curves = series_from_events(events)
    assert curves["loss"] == [(1.0, 0.9), (2.0, 0.8)]
    assert curves["eval_loss"] == [(2.0, 0.7)] and curves["eval_accuracy"] == [(2.0, 0.6)]
    assert curves["learning_rate"] == [(1.0, 1e-3), (2.0, 1e-3)]
    assert curves["samples_per_s"] == [(3.0, 100.0)]


def test_a_resumed_attempt_supersedes_points_after_its_checkpoint() -> None:
    first = [_log(step, 1.0) for step in range(1, 9)]  # killed after step 8, last checkpoint at 5
    resumed = [RunEvent("started", 0.0, 5, {"resumed_from_step": 5})] + [_log(step, 0.5) for step in range(6, 11)]
    curve = series_from_events(first + resumed)["loss"]
    assert [x for x, _ in curve] == [float(s) for s in range(1, 11)]
    assert dict(curve)[7.0] == 0.5

    live = RunCurves(max_buckets=10)
    live.add_events(first)
    live.add_events(resumed)
    assert live.points("loss") == curve

"""What the Analyzer's workers tell the screen, and the relay that turns the engine's events into those messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from hftui.analyze.benchmark import BenchmarkResult, BenchmarkRow, ModelBenchmarked
from hftui.analyze.events import (
    AnalyzerEvent,
    ItemResult,
    ItemsAnalysed,
    JobResult,
    JobStarted,
    JobWarned,
    ModelLoadPhased,
)
from hftui.analyze.jobs import AnalyzerJob, freeze_loaded_objects

# Rows reach the screen at most this often (the first batch at once): a fast model finishes hundreds of
# batches a second, and one message per batch would keep the event loop busy drawing.
RELAY_INTERVAL_S = 0.25


@dataclass
class AnalysisStarted(Message):
    """A job (or one model of a benchmark) is planned: how many items, on which device."""

    number: int
    total: int
    device: str
    dtype: str


@dataclass
class AnalysisModelPhased(Message):
    """A job's model moved to a load phase ("checking", "loading", "ready", "cached")."""

    number: int
    task: str
    model: str
    phase: str


@dataclass
class AnalysisRowsArrived(Message):
    """Rows of one or more batches, and the job's progress after them."""

    number: int
    rows: tuple[ItemResult, ...]
    done: int
    total: int
    items_per_s: float
    eta_s: float | None


@dataclass
class AnalysisWarned(Message):
    """Something about the job the user should know; it goes on."""

    number: int
    message: str


@dataclass
class AnalysisModelCompared(Message):
    """One model of a benchmark finished."""

    number: int
    row: BenchmarkRow


@dataclass
class AnalysisEnded(Message):
    """A job ended: the analysis's result or the benchmark's."""

    number: int
    outcome: JobResult | BenchmarkResult


@dataclass
class RemoteCodeRefused(Message):
    """A job ended because its model needs trust_remote_code, which it was not allowed (the screen may ask)."""

    job: AnalyzerJob


@dataclass
class ReportWritten(Message):
    """A job's report was written."""

    number: int
    path: Path


@dataclass
class ReportFailed(Message):
    """A report could not be written."""

    number: int
    text: str


class EventRelay:
    """Turns the engine's events into screen messages, in the worker thread.

    Load phases, warnings and benchmark rows go at once; result rows are gathered and sent at most every
    `interval` seconds (the first batch at once), so a fast model costs the event loop a few messages a second.
    """

    def __init__(
        self,
        post: Callable[[Message], object],
        number: int,
        *,
        keep_rows: bool = True,
        interval: float = RELAY_INTERVAL_S,
    ) -> None:
        self.post = post
        self.number = number
        self.keep_rows = keep_rows
        self.interval = interval
        self.rows: list[ItemResult] = []
        self.latest: ItemsAnalysed | None = None
        self.sent_at = 0.0

    def __call__(self, event: AnalyzerEvent | ModelBenchmarked) -> None:
        if isinstance(event, ItemsAnalysed):
            if self.keep_rows:
                self.rows.extend(event.results)
            self.latest = event
            if time.monotonic() - self.sent_at >= self.interval:
                self.flush()
        elif isinstance(event, JobStarted):
            self.flush()
            self.post(AnalysisStarted(self.number, event.total, event.device, event.dtype))
        elif isinstance(event, ModelLoadPhased):
            if event.phase == "ready":
                freeze_loaded_objects()
            self.flush()
            self.post(AnalysisModelPhased(self.number, event.task, event.model, event.phase))
        elif isinstance(event, JobWarned):
            self.post(AnalysisWarned(self.number, event.message))
        elif isinstance(event, ModelBenchmarked):
            self.flush()
            self.post(AnalysisModelCompared(self.number, event.row))
        # JobEnded: the worker sends AnalysisEnded itself once run() has returned.

    def flush(self) -> None:
        """Send the rows gathered so far with the newest progress."""
        latest = self.latest
        if latest is None:
            return
        rows, self.rows, self.latest = tuple(self.rows), [], None
        self.post(AnalysisRowsArrived(self.number, rows, latest.done, latest.total, latest.items_per_s, latest.eta_s))
        self.sent_at = time.monotonic()

"""Running one task's inputs through its loaded pipeline in batches, with progress, retries and cancellation.

Each task's items reach the pipeline as one generator, so transformers' DataLoader batches them and the
device stays busy; media are decoded inside that generator, once per item. When a batch raises, only the
items of that batch are retried one by one, so the bad one becomes an error row and the job goes on.

Texts are fed shortest first within windows of `SORT_WINDOW_BATCHES` batches (`FeedOrder`): a batch is padded
to its longest text, so mixing a 10-token review with a 500-token one wastes most of the compute. Rows still
reach the job and its events in input order: `_Batcher` holds each row until every earlier one is done, and a
window is a run of consecutive inputs, so rows wait at most one window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from hftui.analyze.adapters import TaskAdapter
from hftui.analyze.device_facts import release_device_memory
from hftui.analyze.events import EventSink, ItemResult, ItemsAnalysed, JobSpec
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.media import MediaError
from hftui.analyze.pipelines import ModelChoice, is_out_of_memory


class JobFailed(Exception):
    """The job cannot go on; the message says why in a sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JobCancelled(Exception):
    """The job was asked to stop; raised between batches and after a model load."""


class RunningJob(Protocol):
    """What batches need of the job they belong to: its spec and device, where rows go, and the tallies."""

    spec: JobSpec
    device: str
    emit: EventSink
    cancelled: Callable[[], bool]
    results: list[ItemResult]
    done: int
    total: int
    inference_s: float


def describe_error(error: BaseException) -> str:
    """An error on one line with its type: "ValueError: bad input"."""
    return f"{type(error).__name__}: {first_line(error)}"


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def out_of_memory(job: RunningJob, choice: ModelChoice) -> JobFailed:
    """The failure for running out of memory mid-inference, after giving the device's cached memory back."""
    release_device_memory()
    return JobFailed(
        f"Out of memory on {job.device} running {choice.model} with batch size {job.spec.batch_size}: "
        "lower the batch size or choose the CPU."
    )


# How many batches of texts are sorted by length together. More sorts better (less padding) but holds rows
# back longer: they are emitted in input order, so the first rows of a window wait for its longest text.
SORT_WINDOW_BATCHES = 8


class FeedOrder:
    """The order in which one task's items are fed to its pipeline: input order, or, where the adapter can
    measure its inputs (texts), shortest first within each window of consecutive items.

    Windows are sorted as the feed reaches them; sorting is stable, so equal lengths keep their input order.
    """

    def __init__(self, items: list[tuple[int, AnalysisInput]], adapter: TaskAdapter, window: int) -> None:
        self.items = items
        self.adapter = adapter
        self.window = max(1, window)
        self.sorts = adapter.measures_length
        self.positions: list[int] = []

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, rank: int) -> int:
        """The position (in `items`) of the item fed `rank`-th."""
        if not self.sorts:
            return rank
        while rank >= len(self.positions):
            first = len(self.positions)
            window = range(first, min(first + self.window, len(self.items)))
            lengths = self.adapter.lengths([self.items[position][1].value for position in window])
            self.positions.extend(sorted(window, key=lambda position: lengths[position - first]))
        return self.positions[rank]


def run_batches(
    job: RunningJob, task: str, choice: ModelChoice, pipe: Any, items: list[tuple[int, AnalysisInput]]
) -> None:
    """Analyse one task's `items` with its loaded pipeline, emitting rows into `job` in input order.

    A batch that raises is retried item by item, so only the bad item becomes an error row; running out of
    memory fails the job (`JobFailed`), and a cancel seen between batches raises `JobCancelled` once the rows
    done so far are emitted.
    """
    adapter = TaskAdapter(task, pipe, job.spec)
    prepare = adapter.prepare_for(task)
    batch = _Batcher(job, task, choice.model, items)
    size = job.spec.batch_size
    order = FeedOrder(items, adapter, size * SORT_WINDOW_BATCHES)
    count = len(items)
    start = 0  # ranks in `order`: the feed's cursor, not input positions
    try:
        while start < count:
            # (position, decoded value) given to the pipeline whose output has not come back: this batch's
            # items, kept for a one-by-one retry should the batch fail.
            fed: deque[tuple[int, Any]] = deque()
            cursor = [start]

            def feed(fed: deque[tuple[int, Any]] = fed, cursor: list[int] = cursor) -> Iterator[Any]:
                while cursor[0] < count:
                    position = order[cursor[0]]
                    cursor[0] += 1
                    try:
                        value = prepare(items[position][1].value)
                    except MediaError as problem:
                        batch.failed(position, problem.message)
                        continue
                    except Exception as problem:  # a decoder bug or an odd file: this item only
                        batch.failed(position, describe_error(problem))
                        continue
                    fed.append((position, value))
                    yield value

            try:
                outputs = 0
                last = time.perf_counter()
                latency = 0.0
                for out in pipe(feed(), batch_size=size, **adapter.kwargs):
                    if outputs % size == 0:
                        # The first output of a model batch: the DataLoader took exactly this batch's items
                        # (no prefetch with num_workers=0), so they are what `fed` holds now.
                        now = time.perf_counter()
                        latency = (now - last) / min(size, len(fed))
                        last = now
                    outputs += 1
                    position = fed.popleft()[0]
                    batch.parsed(position, adapter, out, latency)
                    if outputs % size == 0:
                        batch.checkpoint()  # a model batch is done: before the next one is computed
                start = count
            except (JobCancelled, JobFailed):
                raise
            except Exception as error:
                if is_out_of_memory(error):
                    raise out_of_memory(job, choice) from None
                # Only this batch's items are suspects: retry each alone, so one bad item is one error row.
                suspects = list(fed)
                if not suspects and cursor[0] == start:  # nothing was taken: blame the next item
                    batch.failed(order[start], describe_error(error))
                    cursor[0] = start + 1
                for position, value in suspects:
                    _retry(job, adapter, pipe, choice, batch, position, value)
                    batch.checkpoint()
                start = cursor[0]
        batch.flush(final=True)
    finally:
        job.inference_s += batch.elapsed()


def _retry(
    job: RunningJob, adapter: TaskAdapter, pipe: Any, choice: ModelChoice, batch: _Batcher, position: int, value: Any
) -> None:
    began = time.perf_counter()
    try:
        outputs = list(pipe(_one(value), batch_size=1, **adapter.kwargs))
        if len(outputs) != 1:
            raise RuntimeError(f"the pipeline gave {len(outputs)} outputs for one input")
    except Exception as error:
        if is_out_of_memory(error):
            raise out_of_memory(job, choice) from None
        batch.failed(position, describe_error(error), time.perf_counter() - began)
        return
    batch.parsed(position, adapter, outputs[0], time.perf_counter() - began)


def _one(value: Any) -> Iterator[Any]:
    # A generator, not a list: pipelines read a list of dicts as a chat.
    yield value


class _Batcher:
    """Collects one task's rows and emits them in input order as `ItemsAnalysed`, a batch's worth per event.

    Rows may come in any order (texts are fed shortest first); each waits until every earlier item has its
    row, so the events, the job's results and the UI's table all run in input order.
    """

    def __init__(self, job: RunningJob, task: str, model: str, items: list[tuple[int, AnalysisInput]]) -> None:
        self.job = job
        self.task = task
        self.model = model
        self.items = items
        self.early: dict[int, ItemResult] = {}  # rows done before some earlier item, by position
        self.pending: list[ItemResult] = []  # rows in input order, not yet emitted
        self.next_position = 0  # the first position with no row yet
        self.started = time.perf_counter()
        self.size = job.spec.batch_size

    def _add(self, position: int, row: ItemResult) -> None:
        if position != self.next_position:
            self.early[position] = row
            return
        self.pending.append(row)
        self.next_position += 1
        while self.next_position in self.early:
            self.pending.append(self.early.pop(self.next_position))
            self.next_position += 1

    def parsed(self, position: int, adapter: TaskAdapter, out: Any, latency_s: float) -> None:
        """A row from the pipeline's output for the item at `position` (an error row if it makes no sense)."""
        index, item = self.items[position]
        try:
            label, score, top_k, text = adapter.parse(out)
        except Exception as error:  # an output shape this adapter does not know
            self.failed(position, f"unexpected pipeline output ({describe_error(error)})", latency_s)
            return
        self._add(
            position,
            ItemResult(
                index, item.origin, item.modality, self.task, self.model, label, score, top_k, text, None, latency_s
            ),
        )

    def failed(self, position: int, message: str, latency_s: float = 0.0) -> None:
        """An error row for the item at `position`."""
        index, item = self.items[position]
        self._add(
            position,
            ItemResult(index, item.origin, item.modality, self.task, self.model, error=message, latency_s=latency_s),
        )

    def elapsed(self) -> float:
        """Seconds since this task's inference began."""
        return time.perf_counter() - self.started

    def checkpoint(self) -> None:
        """Between batches: emit every full batch of rows in order, then stop if asked to, keeping every row
        done so far (those still waiting for an earlier item included) in one last event."""
        self.flush()
        if self.job.cancelled():
            self.flush(final=True)
            raise JobCancelled

    def flush(self, final: bool = False) -> None:
        """Emit every full batch of rows that are in order (and, when `final`, every row done, in input order)."""
        if final and self.early:
            self.pending.extend(self.early[position] for position in sorted(self.early))
            self.early.clear()
        job = self.job
        while len(self.pending) >= self.size or (final and self.pending):
            rows, self.pending = tuple(self.pending[: self.size]), self.pending[self.size :]
            job.results.extend(rows)
            job.done += len(rows)
            inference_s = job.inference_s + self.elapsed()
            rate = job.done / inference_s if inference_s > 0 else 0.0
            eta = (job.total - job.done) / rate if rate > 0 else None
            job.emit(ItemsAnalysed(rows, job.done, job.total, rate, eta))

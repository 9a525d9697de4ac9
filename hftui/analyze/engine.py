"""Analysis jobs: every input routed to the tasks of its modality, batched through one pipeline per task.

`MultiModalAnalyzer.run(spec)` runs in the caller's thread (a worker, in the app) and reports through
`on_event`: model load phases, one `ItemsAnalysed` per batch, warnings, and `JobEnded` last. It never raises
for a bad item (an error row) or a bad model (a failed job with a sentence saying why), and checks
`cancelled()` between batches and after each model load.

Each task's items reach the pipeline as one generator, so transformers' DataLoader batches them and the
device stays busy; media are decoded inside that generator, once per item. When a batch raises, only the
items of that batch are retried one by one, so the bad one becomes an error row and the job goes on.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.media import MediaError, load_audio, load_image
from hftui.analyze.pipelines import (
    DeviceUnavailable,
    ModelChoice,
    ModelRefused,
    PipelineCache,
    check_model,
    dtype_name,
    is_out_of_memory,
    resolve_device,
    resolve_dtype,
    resolve_model,
)
from hftui.analyze.sources import collect_inputs, modality_of_path
from hftui.analyze.tasks import ANALYZER_TASKS, analyzer_task

JOB_STATES = ("finished", "cancelled", "failed")
CLASSIFICATION_TASKS = frozenset({"text-classification", "image-classification"})
# Chat-style vision-language models need an instruction; BLIP-style captioners continue the prompt instead.
DEFAULT_CHAT_PROMPT = "Describe this image in one sentence."


# --- what a job is and what it reports ------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """What to analyse and how: the inputs, the tasks (empty: every task some input's modality has), one model
    per task (Hub id or local path; unset tasks use a cached or default model), device, dtype and batch size.

    `notes` are warnings carried into the result as they are (for example, paths that gave no inputs).
    """

    inputs: tuple[AnalysisInput, ...]
    tasks: tuple[str, ...] = ()
    models: Mapping[str, str] = field(default_factory=dict)
    device: str | None = None
    dtype: str | None = None
    batch_size: int = 8
    allow_remote_code: frozenset[str] = frozenset()
    caption_prompt: str = ""
    max_new_tokens: int = 30
    top_k: int = 3
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """One input analysed by one task: the label and score (with the top k) or the text, or the error."""

    index: int
    origin: str
    modality: str
    task: str
    model: str
    label: str | None = None
    score: float | None = None
    top_k: tuple[tuple[str, float], ...] = ()
    text: str | None = None
    error: str | None = None
    latency_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the item was analysed (no error)."""
        return self.error is None

    @property
    def output(self) -> str:
        """The result on one line: "POSITIVE 0.98", the caption or transcript, or "error: ..."."""
        if self.error is not None:
            return f"error: {self.error}"
        if self.label is not None:
            return f"{self.label} {self.score:.2f}" if self.score is not None else self.label
        return " ".join((self.text or "").split())


@dataclass(frozen=True)
class UsedModel:
    """A model a job ran: for which task, why it was chosen, its licence and how long it took to load.

    `load_s` is near zero when the pipeline was already loaded (`cached`).
    """

    task: str
    model: str
    source: str
    license: str | None
    load_s: float
    cached: bool = False


@dataclass(frozen=True)
class JobSummary:
    """The job in numbers: items, errors, labels per task, latency, throughput, device and peak memory.

    `items_per_s` counts inference time only (model loads excluded); `duration_s` is the whole job.
    `peak_memory_bytes` is torch's peak allocation on CUDA, else the process's peak resident size.
    """

    total: int
    succeeded: int
    failed: int
    label_counts: dict[str, dict[str, int]]
    mean_latency_s: float
    items_per_s: float
    duration_s: float
    device: str
    peak_memory_bytes: int | None
    device_name: str | None = None
    dtype: str | None = None
    batch_size: int = 0


@dataclass(frozen=True)
class JobResult:
    """How a job ended ("finished", "cancelled" or "failed", with the error), its rows, summary and models."""

    state: str
    error: str | None
    results: tuple[ItemResult, ...]
    summary: JobSummary
    models: tuple[UsedModel, ...]
    inputs: tuple[AnalysisInput, ...]
    warnings: tuple[str, ...]
    tasks: tuple[str, ...] = ()
    started_at: str = ""

    @property
    def analysed_any(self) -> bool:
        """Whether at least one item was analysed without error (the CLI's exit status)."""
        return self.summary.succeeded > 0


@dataclass(frozen=True)
class JobStarted:
    """The job has been planned: how many (item, task) pairs it will analyse, for which tasks, where."""

    total: int
    tasks: tuple[str, ...]
    device: str
    dtype: str


@dataclass(frozen=True)
class ModelLoadPhased:
    """A task's model moved to a load phase: "checking", "loading", "ready" or "cached"."""

    task: str
    model: str
    phase: str


@dataclass(frozen=True)
class ItemsAnalysed:
    """A batch finished: its rows, the job's progress, throughput so far and the time left (None: unknown)."""

    results: tuple[ItemResult, ...]
    done: int
    total: int
    items_per_s: float
    eta_s: float | None


@dataclass(frozen=True)
class JobWarned:
    """Something the user should know that does not stop the job (pickle weights, inputs skipped)."""

    message: str


@dataclass(frozen=True)
class JobEnded:
    """The job is over; the last event of every run."""

    result: JobResult


AnalyzerEvent = JobStarted | ModelLoadPhased | ItemsAnalysed | JobWarned | JobEnded
EventSink = Callable[[AnalyzerEvent], None]


def _never() -> bool:
    return False


def _ignore(event: AnalyzerEvent) -> None:
    return None


class _JobFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Cancelled(Exception):
    pass


# --- per-task adapters: what the pipeline takes and what its output means -------------------------------


# What one item's output means: (label, score, top k, text). A plain tuple: built once per item, so cheap.
_Output = tuple[str | None, float | None, tuple[tuple[str, float], ...], str | None]
_NOTHING: _Output = (None, None, (), None)


class _Adapter:
    """Turns inputs into pipeline inputs and pipeline outputs into `_Output`s for one task."""

    def __init__(self, task: str, pipe: Any, spec: JobSpec) -> None:
        self.task = task
        self.classifies = task in CLASSIFICATION_TASKS
        self.kwargs: dict[str, Any] = {}
        self.chat = False
        if task in CLASSIFICATION_TASKS:
            self.kwargs["top_k"] = max(1, spec.top_k)
        if task == "text-classification":
            self.kwargs["truncation"] = True
            tokenizer = getattr(pipe, "tokenizer", None)
            limit = getattr(tokenizer, "model_max_length", None)
            positions = getattr(getattr(getattr(pipe, "model", None), "config", None), "max_position_embeddings", None)
            # Some tokenizers carry no length (a huge sentinel); truncate to what the model can embed instead.
            if isinstance(positions, int) and (not isinstance(limit, int) or limit > 1_000_000):
                self.kwargs["max_length"] = positions
        elif task == "image-text-to-text":
            self.kwargs["max_new_tokens"] = spec.max_new_tokens
            processor = getattr(pipe, "processor", None)
            self.chat = getattr(processor, "chat_template", None) is not None
            self.prompt = spec.caption_prompt or (DEFAULT_CHAT_PROMPT if self.chat else "")
            if self.chat:
                self.kwargs["return_full_text"] = False
        elif task == "automatic-speech-recognition":
            extractor = getattr(pipe, "feature_extractor", None)
            self.sampling_rate = int(getattr(extractor, "sampling_rate", None) or 16_000)

    def prepare_for(self, task: str) -> Callable[[Any], Any]:
        """The function that turns an input's value into what the pipeline takes (chosen once, called per item);
        it raises MediaError for an item that cannot be analysed."""
        return {
            "text-classification": self.prepare_text,
            "image-classification": self.prepare_image,
            "image-text-to-text": self.prepare_caption,
            "automatic-speech-recognition": self.prepare_audio,
        }[task]

    @staticmethod
    def prepare_text(value: Any) -> Any:
        if not isinstance(value, str):
            raise MediaError(f"is not text (got {type(value).__name__})")
        if not value or value.isspace():
            raise MediaError("the text is empty")
        return value

    @staticmethod
    def prepare_image(value: Any) -> Any:
        # Pipelines apply EXIF orientation and convert to RGB themselves (see load_image's `normalize`).
        return load_image(value, normalize=False)

    def prepare_caption(self, value: Any) -> Any:
        image = load_image(value, normalize=False)
        if self.chat:
            content = [{"type": "image", "image": image}, {"type": "text", "text": self.prompt}]
            return [{"role": "user", "content": content}]
        return {"images": image, "text": self.prompt}

    def prepare_audio(self, value: Any) -> Any:
        return load_audio(value, self.sampling_rate)

    def parse(self, out: Any) -> _Output:
        """The meaning of one item's pipeline output."""
        if self.classifies:
            predictions = out if isinstance(out, list) else [out]
            if predictions and isinstance(predictions[0], list):  # a nested single-item batch
                predictions = predictions[0]
            top = tuple([(str(p["label"]), float(p["score"])) for p in predictions])
            if not top:
                return _NOTHING
            return (top[0][0], top[0][1], top, None)
        if isinstance(out, list):
            out = out[0] if out else {}
        text = out.get("generated_text", out.get("text", "")) if isinstance(out, Mapping) else out
        if isinstance(text, list):  # a chat: the answer is the last message
            last = text[-1] if text else {}
            text = last.get("content", "") if isinstance(last, Mapping) else str(last)
        return (None, None, (), str(text).strip())


# --- the analyzer -------------------------------------------------------------------------------------------


class MultiModalAnalyzer:
    """Runs analysis jobs, reusing loaded pipelines across jobs through its `PipelineCache`.

    `cached_models` are (repo id, pipeline tag) pairs from the cache scan; a task without a requested model
    uses the first whose tag fits. Run one job at a time per analyzer (a queue); pipelines are not re-entrant.
    """

    def __init__(
        self, pipelines: PipelineCache | None = None, cached_models: Iterable[tuple[str, str | None]] = ()
    ) -> None:
        self.pipelines = pipelines if pipelines is not None else PipelineCache()
        self.cached_models = tuple(cached_models)

    def run(
        self, spec: JobSpec, on_event: EventSink | None = None, cancelled: Callable[[], bool] = _never
    ) -> JobResult:
        """Run `spec` to the end (or cancellation or failure) and return what it found; emits `JobEnded` last."""
        return _Job(self, spec, on_event or _ignore, cancelled).run()


class _Job:
    def __init__(
        self, analyzer: MultiModalAnalyzer, spec: JobSpec, emit: EventSink, cancelled: Callable[[], bool]
    ) -> None:
        self.analyzer = analyzer
        self.spec = spec
        self.emit = emit
        self.cancelled = cancelled
        self.results: list[ItemResult] = []
        self.warnings: list[str] = []
        self.models: list[UsedModel] = []
        self.tasks: tuple[str, ...] = ()
        self.total = 0
        self.done = 0
        self.inference_s = 0.0
        self.device = spec.device or "auto"
        self.dtype: Any = None
        self.resolved = False  # whether device and dtype are known (torch was asked)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.emit(JobWarned(message))

    def run(self) -> JobResult:
        started = time.perf_counter()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        state, error = "finished", None
        try:
            for note in self.spec.notes:
                self.warn(note)
            plan = self._plan()
            try:
                self.device = resolve_device(self.spec.device)
                self.dtype = resolve_dtype(self.spec.dtype, self.device)
                self.resolved = True
            except DeviceUnavailable as problem:
                raise _JobFailed(str(problem)) from None
            self.emit(JobStarted(self.total, self.tasks, self.device, dtype_name(self.dtype)))
            _reset_peak_memory(self.device)
            for task, items in plan:
                if self.cancelled():
                    raise _Cancelled
                self._run_task(task, items)
        except _Cancelled:
            state = "cancelled"
        except _JobFailed as failure:
            state, error = "failed", failure.message
        except Exception as unexpected:  # a bug or an unforeseen library error: the job fails, the app goes on
            state, error = "failed", f"Unexpected error: {type(unexpected).__name__}: {_first_line(unexpected)}"
        order = {task: position for position, task in enumerate(self.tasks)}
        results = tuple(sorted(self.results, key=lambda r: (order.get(r.task, 0), r.index)))
        result = JobResult(
            state=state,
            error=error,
            results=results,
            summary=self._summary(results, time.perf_counter() - started),
            models=tuple(self.models),
            inputs=self.spec.inputs,
            warnings=tuple(self.warnings),
            tasks=self.tasks,
            started_at=started_at,
        )
        self.emit(JobEnded(result))
        return result

    def _plan(self) -> list[tuple[str, list[tuple[int, AnalysisInput]]]]:
        spec = self.spec
        if spec.batch_size < 1:
            raise _JobFailed(f"The batch size must be at least 1, not {spec.batch_size}.")
        if not spec.inputs:
            raise _JobFailed("There is nothing to analyse: no inputs were given.")
        modalities = {item.modality for item in spec.inputs}
        if spec.tasks:
            try:
                tasks = tuple(analyzer_task(name).pipeline_tag for name in dict.fromkeys(spec.tasks))
            except KeyError as unknown:
                raise _JobFailed(str(unknown.args[0])) from None
        else:
            tasks = tuple(task.pipeline_tag for task in ANALYZER_TASKS if task.modality in modalities)
        self.tasks = tasks
        served = {analyzer_task(name).modality for name in tasks}
        for modality, count in Counter(item.modality for item in spec.inputs).items():
            if modality not in served:
                self.warn(f"{count} {modality} input(s) skipped: no chosen task analyses {modality}.")
        plan = []
        for name in tasks:
            modality = analyzer_task(name).modality
            items = [(index, item) for index, item in enumerate(spec.inputs) if item.modality == modality]
            if not items:
                self.warn(f"No {modality} inputs for {name}; it was skipped.")
                continue
            plan.append((name, items))
            self.total += len(items)
        if not plan:
            raise _JobFailed("There is nothing to analyse: no input fits the chosen tasks.")
        return plan

    # --- one task ---

    def _run_task(self, task: str, items: list[tuple[int, AnalysisInput]]) -> None:
        spec = self.spec
        choice = resolve_model(task, spec.models.get(task), self.analyzer.cached_models)
        self.emit(ModelLoadPhased(task, choice.model, "checking"))
        try:
            check = check_model(choice, allow_remote_code=spec.allow_remote_code)
        except ModelRefused as refused:
            raise _JobFailed(refused.message) from None
        for warning in check.warnings:
            self.warn(warning)
        phases: list[str] = []

        def phased(phase: str) -> None:
            phases.append(phase)
            self.emit(ModelLoadPhased(task, choice.model, phase))

        loading = time.perf_counter()
        try:
            pipe = self.analyzer.pipelines.get(
                choice, self.device, self.dtype, on_phase=phased, trust_remote_code=check.trust_remote_code
            )
        except Exception as error:
            raise _JobFailed(self._load_error(choice, error)) from None
        load_s = time.perf_counter() - loading
        self.models.append(UsedModel(task, choice.model, choice.source, check.license, load_s, "cached" in phases))
        if self.cancelled():
            raise _Cancelled
        self._infer(task, choice, pipe, items)

    def _load_error(self, choice: ModelChoice, error: BaseException) -> str:
        if is_out_of_memory(error):
            _release_device_memory()
            return (
                f"Out of memory loading {choice.model} on {self.device}: choose the CPU or a smaller model "
                "(and a smaller batch size)."
            )
        text = _first_line(error)
        if isinstance(error, OSError) and _offline():
            return f"Could not load {choice.model}: it is not in the HF cache and hftui is offline ({text})"
        return f"Could not load {choice.model} for {choice.task}: {text}"

    def _oom_error(self, choice: ModelChoice) -> _JobFailed:
        _release_device_memory()
        return _JobFailed(
            f"Out of memory on {self.device} running {choice.model} with batch size {self.spec.batch_size}: "
            "lower the batch size or choose the CPU."
        )

    def _infer(self, task: str, choice: ModelChoice, pipe: Any, items: list[tuple[int, AnalysisInput]]) -> None:
        adapter = _Adapter(task, pipe, self.spec)
        prepare = adapter.prepare_for(task)
        batch = _Batcher(self, task, choice.model, items)
        size = self.spec.batch_size
        count = len(items)
        start = 0
        try:
            while start < count:
                # (position, decoded value) given to the pipeline whose output has not come back: this batch's
                # items, kept for a one-by-one retry should the batch fail.
                fed: deque[tuple[int, Any]] = deque()
                cursor = [start]

                def feed(fed: deque[tuple[int, Any]] = fed, cursor: list[int] = cursor) -> Iterator[Any]:
                    while cursor[0] < count:
                        position = cursor[0]
                        cursor[0] += 1
                        try:
                            value = prepare(items[position][1].value)
                        except MediaError as problem:
                            batch.failed(position, problem.message)
                            continue
                        except Exception as problem:  # a decoder bug or an odd file: this item only
                            batch.failed(position, _describe(problem))
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
                        if len(batch.pending) >= size:
                            batch.flush()
                    start = count
                except (_Cancelled, _JobFailed):
                    raise
                except Exception as error:
                    if is_out_of_memory(error):
                        raise self._oom_error(choice) from None
                    # Only this batch's items are suspects: retry each alone, so one bad item is one error row.
                    suspects = list(fed)
                    if not suspects and cursor[0] == start:  # nothing was taken: blame the next item
                        batch.failed(start, _describe(error))
                        cursor[0] = start + 1
                    for position, value in suspects:
                        self._retry(adapter, pipe, choice, batch, position, value)
                        if len(batch.pending) >= size:
                            batch.flush()
                    start = cursor[0]
            batch.flush(final=True)
        finally:
            self.inference_s += batch.elapsed()

    def _retry(
        self, adapter: _Adapter, pipe: Any, choice: ModelChoice, batch: _Batcher, position: int, value: Any
    ) -> None:
        began = time.perf_counter()
        try:
            outputs = list(pipe(_one(value), batch_size=1, **adapter.kwargs))
            if len(outputs) != 1:
                raise RuntimeError(f"the pipeline gave {len(outputs)} outputs for one input")
        except Exception as error:
            if is_out_of_memory(error):
                raise self._oom_error(choice) from None
            batch.failed(position, _describe(error), time.perf_counter() - began)
            return
        batch.parsed(position, adapter, outputs[0], time.perf_counter() - began)

    # --- the summary ---

    def _summary(self, results: tuple[ItemResult, ...], duration_s: float) -> JobSummary:
        ok = [r for r in results if r.ok]
        labels: dict[str, dict[str, int]] = {}
        for task in self.tasks:
            if task in CLASSIFICATION_TASKS:
                counts = Counter(r.label for r in ok if r.task == task and r.label is not None)
                if counts:
                    labels[task] = dict(counts.most_common())
        return JobSummary(
            total=self.total,
            succeeded=len(ok),
            failed=len(results) - len(ok),
            label_counts=labels,
            mean_latency_s=sum(r.latency_s for r in ok) / len(ok) if ok else 0.0,
            items_per_s=len(results) / self.inference_s if self.inference_s > 0 else 0.0,
            duration_s=duration_s,
            device=self.device,
            peak_memory_bytes=_peak_memory(self.device) if self.resolved else None,
            device_name=_device_name(self.device) if self.resolved else None,
            dtype=dtype_name(self.dtype) if self.resolved else None,
            batch_size=self.spec.batch_size,
        )


def _one(value: Any) -> Iterator[Any]:
    # A generator, not a list: pipelines read a list of dicts as a chat.
    yield value


_new_object = object.__new__
_by_index = attrgetter("index")


def _row(
    index: int,
    origin: str,
    modality: str,
    task: str,
    model: str,
    label: str | None,
    score: float | None,
    top_k: tuple[tuple[str, float], ...],
    text: str | None,
    error: str | None,
    latency_s: float,
) -> ItemResult:
    """An ItemResult built without the frozen dataclass's per-field `object.__setattr__` calls.

    One is built per item on the hot path, where the generated __init__ alone cost ~2 µs (a few percent of a
    small model's per-item time on a GPU); the object is the same as ItemResult(...) gives.
    """
    row: ItemResult = _new_object(ItemResult)
    row.__dict__.update(
        index=index, origin=origin, modality=modality, task=task, model=model, label=label, score=score,
        top_k=top_k, text=text, error=error, latency_s=latency_s,
    )  # fmt: skip
    return row


class _Batcher:
    """Collects one task's rows and emits them as `ItemsAnalysed`, one event per batch, checking cancellation."""

    def __init__(self, job: _Job, task: str, model: str, items: list[tuple[int, AnalysisInput]]) -> None:
        self.job = job
        self.task = task
        self.model = model
        self.items = items
        self.pending: list[ItemResult] = []
        self.started = time.perf_counter()
        self.size = job.spec.batch_size

    def parsed(self, position: int, adapter: _Adapter, out: Any, latency_s: float) -> None:
        """A row from the pipeline's output for the item at `position` (an error row if it makes no sense)."""
        index, item = self.items[position]
        try:
            label, score, top_k, text = adapter.parse(out)
        except Exception as error:  # an output shape this adapter does not know
            self.failed(position, f"unexpected pipeline output ({_describe(error)})", latency_s)
            return
        self.pending.append(
            ItemResult(
                index, item.origin, item.modality, self.task, self.model, label, score, top_k, text, None, latency_s
            )
        )

    def failed(self, position: int, message: str, latency_s: float = 0.0) -> None:
        """An error row for the item at `position`."""
        index, item = self.items[position]
        self.pending.append(
            ItemResult(index, item.origin, item.modality, self.task, self.model, error=message, latency_s=latency_s)
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def flush(self, final: bool = False) -> None:
        """Emit every full batch of rows (and, when `final`, the rest); raises `_Cancelled` when asked to stop."""
        job = self.job
        while len(self.pending) >= self.size or (final and self.pending):
            chunk, self.pending = self.pending[: self.size], self.pending[self.size :]
            rows = tuple(sorted(chunk, key=_by_index))
            job.results.extend(rows)
            job.done += len(rows)
            inference_s = job.inference_s + self.elapsed()
            rate = job.done / inference_s if inference_s > 0 else 0.0
            eta = (job.total - job.done) / rate if rate > 0 else None
            job.emit(ItemsAnalysed(rows, job.done, job.total, rate, eta))
            if job.cancelled():
                raise _Cancelled


# --- device facts -----------------------------------------------------------------------------------------


def _reset_peak_memory(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def _peak_memory(device: str) -> int | None:
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if platform.system() == "Darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def _device_name(device: str) -> str | None:
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return str(torch.cuda.get_device_name(device))
    if device == "mps":
        return "Apple MPS"
    if device == "cpu":
        threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else os.cpu_count()
        return f"CPU, {threads} threads"
    return None


def _release_device_memory() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return False


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- the one-call API -------------------------------------------------------------------------------------

_SHARED: MultiModalAnalyzer | None = None
_SHARED_LOCK = threading.Lock()


def shared_analyzer() -> MultiModalAnalyzer:
    """The process-wide analyzer `analyze_content` uses, so models load once across calls."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MultiModalAnalyzer()
        return _SHARED


def _is_path_like(text: str) -> bool:
    """Whether a str names a path: an existing one, or a missing one that is surely meant as a file name (one
    word ending in an extension hftui reads), so a typo is reported as missing instead of analysed as text."""
    if "\n" in text or not text.strip():
        return False
    if os.path.exists(os.path.expanduser(text)):
        return True
    if any(c.isspace() for c in text):
        return False
    return text.startswith(("/", "./", "../", "~/")) or modality_of_path(text) is not None


def analyze_content(
    items: Iterable[str | os.PathLike[str] | AnalysisInput],
    *,
    tasks: Iterable[str] = (),
    models: Mapping[str, str] | None = None,
    device: str | None = None,
    batch_size: int = 8,
    on_event: EventSink | None = None,
    cancelled: Callable[[], bool] = _never,
    dtype: str | None = None,
    text_mode: str = "lines",
    analyzer: MultiModalAnalyzer | None = None,
) -> JobResult:
    """Analyse text, files and folders in one call: a str naming an existing path is read from disk (folders
    recursively), any other str is text to analyse; `AnalysisInput`s pass through. Paths that give nothing
    (missing, empty folders) become warnings in the result; a missing "photo.jpg" is reported, not analysed
    as text."""
    inputs: list[AnalysisInput] = []
    notes: list[str] = []
    typed = 0
    for item in items:
        if isinstance(item, AnalysisInput):
            inputs.append(item)
        elif isinstance(item, Path) or isinstance(item, os.PathLike) or (isinstance(item, str) and _is_path_like(item)):
            collected = collect_inputs([item], text_mode=text_mode)
            inputs.extend(collected.inputs)
            notes.extend(f"{problem.path} {problem.message}." for problem in collected.problems)
        elif isinstance(item, str):
            if item.strip():
                typed += 1
                inputs.append(AnalysisInput("text", f"text {typed}", item))
            else:
                notes.append("An empty text was skipped.")
        else:
            notes.append(f"An item of type {type(item).__name__} was skipped: give text, a path or an AnalysisInput.")
    spec = JobSpec(
        inputs=tuple(inputs),
        tasks=tuple(tasks),
        models=dict(models or {}),
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        notes=tuple(notes),
    )
    return (analyzer or shared_analyzer()).run(spec, on_event, cancelled)

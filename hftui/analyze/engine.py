"""Analysis jobs: every input routed to the tasks of its modality, one pipeline per task, run in batches.

`MultiModalAnalyzer.run(spec)` runs in the caller's thread (a worker, in the app) and reports through
`on_event`: model load phases, `ItemsAnalysed` a batch's worth of rows at a time in input order (texts run
shortest first, see `batches.py`; each row waits for the earlier ones), warnings, and `JobEnded` last. It
never raises for a bad item (an error row) or a bad model (a failed job with a sentence saying why), and
checks `cancelled()` between batches and after each model load. `analyze_content` is the one-call form for text,
files and folders. The job's values live in `events.py`, each task's batches run in `batches.py`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hftui.analyze.batches import JobCancelled, JobFailed, first_line, run_batches
from hftui.analyze.device_facts import device_name, peak_memory, release_device_memory, reset_peak_memory
from hftui.analyze.events import (
    AnalyzerEvent,
    EventSink,
    ItemResult,
    JobEnded,
    JobResult,
    JobSpec,
    JobStarted,
    JobSummary,
    JobWarned,
    ModelLoadPhased,
    UsedModel,
)
from hftui.analyze.inputs import AnalysisInput
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
from hftui.analyze.tasks import ANALYZER_TASKS, CLASSIFICATION_TASKS, analyzer_task


def _never() -> bool:
    return False


def _ignore(event: AnalyzerEvent) -> None:
    return None


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
        self.remote_code_model: str | None = None

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
                raise JobFailed(str(problem)) from None
            self.emit(JobStarted(self.total, self.tasks, self.device, dtype_name(self.dtype)))
            reset_peak_memory(self.device)
            for task, items in plan:
                if self.cancelled():
                    raise JobCancelled
                self._run_task(task, items)
        except JobCancelled:
            state = "cancelled"
        except JobFailed as failure:
            state, error = "failed", failure.message
        except Exception as unexpected:  # a bug or an unforeseen library error: the job fails, the app goes on
            state, error = "failed", f"Unexpected error: {type(unexpected).__name__}: {first_line(unexpected)}"
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
            remote_code_model=self.remote_code_model,
        )
        self.emit(JobEnded(result))
        return result

    def _plan(self) -> list[tuple[str, list[tuple[int, AnalysisInput]]]]:
        spec = self.spec
        if spec.batch_size < 1:
            raise JobFailed(f"The batch size must be at least 1, not {spec.batch_size}.")
        if not spec.inputs:
            raise JobFailed("There is nothing to analyse: no inputs were given.")
        modalities = {item.modality for item in spec.inputs}
        if spec.tasks:
            try:
                tasks = tuple(analyzer_task(name).pipeline_tag for name in dict.fromkeys(spec.tasks))
            except KeyError as unknown:
                raise JobFailed(str(unknown.args[0])) from None
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
            raise JobFailed("There is nothing to analyse: no input fits the chosen tasks.")
        return plan

    # --- one task ---

    def _run_task(self, task: str, items: list[tuple[int, AnalysisInput]]) -> None:
        spec = self.spec
        choice = resolve_model(task, spec.models.get(task), self.analyzer.cached_models)
        self.emit(ModelLoadPhased(task, choice.model, "checking"))
        try:
            check = check_model(choice, allow_remote_code=spec.allow_remote_code)
        except ModelRefused as refused:
            if refused.needs_remote_code:
                self.remote_code_model = choice.model
            raise JobFailed(refused.message) from None
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
            raise JobFailed(self._load_error(choice, error)) from None
        load_s = time.perf_counter() - loading
        self.models.append(UsedModel(task, choice.model, choice.source, check.license, load_s, "cached" in phases))
        if self.cancelled():
            raise JobCancelled
        run_batches(self, task, choice, pipe, items)

    def _load_error(self, choice: ModelChoice, error: BaseException) -> str:
        if is_out_of_memory(error):
            release_device_memory()
            return (
                f"Out of memory loading {choice.model} on {self.device}: choose the CPU or a smaller model "
                "(and a smaller batch size)."
            )
        text = first_line(error)
        if isinstance(error, OSError) and _offline():
            return f"Could not load {choice.model}: it is not in the HF cache and hftui is offline ({text})"
        return f"Could not load {choice.model} for {choice.task}: {text}"

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
            peak_memory_bytes=peak_memory(self.device) if self.resolved else None,
            device_name=device_name(self.device) if self.resolved else None,
            dtype=dtype_name(self.dtype) if self.resolved else None,
            batch_size=self.spec.batch_size,
        )


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return False


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

"""The Analyzer's jobs: what one queued job is and how far it got, and running it (an analysis or a benchmark).

An `AnalyzerJob` belongs to whoever queues it (the Analyzer screen, on its event loop): the engine's events
reach it as calls (`started`, `phased`, `rows_arrived`, ...) that fold them into its state. The thread that
runs a job sees only its spec, its plan and a cancel flag, through `run_job`.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hftui.analyze.benchmark import BenchmarkResult, BenchmarkRow, ModelBenchmarked, run_benchmark
from hftui.analyze.engine import MultiModalAnalyzer
from hftui.analyze.events import AnalyzerEvent, ItemResult, JobResult, JobSpec
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.pipelines import DEFAULT_MODELS, PipelineCache
from hftui.analyze.tasks import ANALYZER_TASKS, tag_fits
from hftui.device import ComputeDevice

ACTIVE_STATES = frozenset({"starting", "loading", "running", "cancelling"})
ENDED_STATES = frozenset({"finished", "cancelled", "failed"})
SHORT_TASKS = {
    "text-classification": "sentiment",
    "image-classification": "classify",
    "image-text-to-text": "caption",
    "automatic-speech-recognition": "speech",
}


@dataclass(frozen=True)
class BenchmarkPlan:
    """A benchmark: the models compared for one task, and labels aligned with the inputs (None: speed only)."""

    task: str
    models: tuple[str, ...]
    labels: tuple[object | None, ...] | None = None


@dataclass(eq=False)
class AnalyzerJob:
    """One queued job and how far it got; owned by the event loop (its worker sees only the spec and the event)."""

    number: int
    spec: JobSpec
    cached_models: tuple[tuple[str, str | None], ...]
    benchmark: BenchmarkPlan | None = None
    state: str = "queued"
    done: int = 0
    total: int = 0
    items_per_s: float = 0.0
    eta_s: float | None = None
    phase: str = ""
    device: str = ""
    rows: list[ItemResult] = field(default_factory=list)
    bench_rows: list[BenchmarkRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    result: JobResult | None = None
    benchmark_result: BenchmarkResult | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    models_done: int = 0
    per_model: int = 0

    @property
    def title(self) -> str:
        """What the job does, short: "sentiment+caption", "bench sentiment x3"."""
        if self.benchmark is not None:
            return f"bench {SHORT_TASKS.get(self.benchmark.task, self.benchmark.task)} x{len(self.benchmark.models)}"
        return "+".join(SHORT_TASKS.get(task, task) for task in self.spec.tasks) or "analysis"

    @property
    def ended(self) -> bool:
        """Whether the job is over (finished, cancelled or failed)."""
        return self.state in ENDED_STATES

    @property
    def report(self) -> JobResult | BenchmarkResult | None:
        """What an export writes: the job's result or the benchmark's."""
        return self.benchmark_result if self.benchmark is not None else self.result

    @property
    def remote_code_model(self) -> str | None:
        """The model the engine refused only because it needs trust_remote_code (allowing it would run it)."""
        report = self.report
        return report.remote_code_model if report is not None else None

    def started(self, total: int, device: str, dtype: str) -> None:
        """The job (or one model of a benchmark) knows its size and device."""
        self.device = f"{device} {dtype}"
        if self.benchmark is not None:
            self.per_model = total
            self.total = total * len(self.benchmark.models)
        else:
            self.total = total

    def phased(self, model: str, phase: str) -> None:
        """A model moved to a load phase; loading and checking mean the job waits for its model."""
        self.phase = f"{phase} {model.rstrip('/').rsplit('/', 1)[-1]}"
        if self.state != "cancelling":
            self.state = "loading" if phase in ("checking", "loading") else "running"

    def rows_arrived(self, rows: Sequence[ItemResult], done: int, items_per_s: float, eta_s: float | None) -> None:
        """Keep the rows of one or more batches and move the progress (a benchmark counts every model's items)."""
        self.rows.extend(rows)
        self.done = self.models_done * self.per_model + done if self.benchmark is not None else done
        self.total = max(self.total, self.done)
        self.items_per_s = items_per_s
        self.eta_s = eta_s
        if self.state not in ("cancelling",) and not self.ended:
            self.state = "running"

    def warned(self, message: str) -> bool:
        """Keep a warning; False when the job already had it (it is not shown twice)."""
        if message in self.warnings:
            return False
        self.warnings.append(message)
        return True

    def model_compared(self, row: BenchmarkRow) -> None:
        """One model of a benchmark finished: its row, and the progress of the whole comparison."""
        self.bench_rows.append(row)
        self.models_done += 1
        self.done = self.models_done * self.per_model

    def ended_with(self, outcome: JobResult | BenchmarkResult) -> None:
        """Record how the job ended: its state, error, final progress and what an export writes."""
        result = outcome if isinstance(outcome, JobResult) else None
        benchmark = outcome if isinstance(outcome, BenchmarkResult) else None
        self.result = result
        self.benchmark_result = benchmark
        self.state = outcome.state
        self.error = result.error if result is not None else None
        self.eta_s = None
        if result is not None:
            self.items_per_s = result.summary.items_per_s or self.items_per_s
            if result.state == "finished":
                self.done = self.total = result.summary.total
        elif benchmark is not None:
            if benchmark.state == "finished":
                self.done = self.total
            self.phase = ""

    def worker_failed(self, error: BaseException | None) -> None:
        """The thread running the job raised (a bug, not a refusal): the job failed with that error."""
        self.state = "failed"
        self.error = f"{type(error).__name__}: {error}"


def device_choices(device: ComputeDevice | None) -> tuple[str, ...]:
    """The devices a job can be asked to run on here: auto and the CPU always, CUDA or MPS when detected."""
    choices = ["auto", "cpu"]
    if device is not None and device.kind == "cuda":
        choices += ["cuda"] if device.count <= 1 else [f"cuda:{index}" for index in range(device.count)]
    if device is not None and device.kind == "mps":
        choices.append("mps")
    return tuple(choices)


def tasks_for_inputs(inputs: Sequence[AnalysisInput], enabled: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The tasks a job runs on `inputs`: those switched on whose modality some input has, in table order."""
    modalities = {item.modality for item in inputs}
    return tuple(
        task.pipeline_tag for task in ANALYZER_TASKS if task.pipeline_tag in enabled and task.modality in modalities
    )


def benchmark_candidates(
    task: str, chosen: str | None, cached_models: Sequence[tuple[str, str | None]]
) -> list[tuple[str, str, bool]]:
    """The models a benchmark of `task` offers: (model, why offered, ticked at first): the chosen one, every
    cached one that fits, and the default (ticked only when nothing else is offered)."""
    candidates: dict[str, tuple[str, bool]] = {}
    if chosen is not None:
        candidates[chosen] = ("chosen", True)
    for repo_id, tag in cached_models:
        if tag_fits(task, tag):
            candidates.setdefault(repo_id, ("cached", True))
    candidates.setdefault(DEFAULT_MODELS[task], ("default", not candidates))
    return [(model, why, ticked) for model, (why, ticked) in candidates.items()]


_frozen = threading.Event()


def freeze_loaded_objects() -> None:
    """Once per process, after the first model load: move every object alive now (torch, transformers, the
    model) out of the cyclic garbage collector's reach. Otherwise each full collection walks those millions of
    objects while holding the GIL, a stall of several hundred ms that the event loop feels as a frozen UI."""
    if not _frozen.is_set():
        _frozen.set()
        gc.freeze()


def threads_beside_event_loop(cores: int | None = None) -> int:
    """How many intra-op threads torch gets when it runs beside an interactive event loop: one core fewer than
    the machine has (at least one). With a thread per core, torch's threads spin between operations on every
    core and the loop, the tokenizer and the result handling (all under the GIL) wait for a core; on 2 cores
    the app ran a job at about half the items/s of the engine alone (bench/analyzer_lag.py)."""
    return max(1, (cores if cores is not None else os.cpu_count() or 1) - 1)


def set_inference_threads(threads: int) -> None:
    """Give torch's intra-op pool `threads` threads for the calling thread's work (torch's OpenMP setting is the
    calling thread's own, so a job thread sets it for itself; imports torch, as the job will)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def run_job(
    spec: JobSpec,
    benchmark: BenchmarkPlan | None,
    *,
    cached_models: tuple[tuple[str, str | None], ...],
    pipelines: PipelineCache,
    on_event: Callable[[AnalyzerEvent | ModelBenchmarked], None],
    cancelled: Callable[[], bool],
    intra_op_threads: int | None = None,
) -> JobResult | BenchmarkResult:
    """Run one job in the calling thread: the benchmark of `benchmark` (with its own one-model cache), else an
    analysis through `pipelines` (shared with other jobs, so a loaded model serves the next one). With
    `intra_op_threads`, torch computes on that many threads (None leaves torch's own choice)."""
    if intra_op_threads is not None:
        set_inference_threads(intra_op_threads)
    if benchmark is not None:
        return run_benchmark(
            benchmark.task,
            benchmark.models,
            spec.inputs,
            labels=benchmark.labels,
            device=spec.device,
            batch_size=spec.batch_size,
            on_event=on_event,
            cancelled=cancelled,
            allow_remote_code=spec.allow_remote_code,
        )
    return MultiModalAnalyzer(pipelines, cached_models=cached_models).run(spec, on_event, cancelled)

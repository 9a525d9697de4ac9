"""Benchmark mode: several models for one task on the same inputs, speed against accuracy, and a pick.

Each model runs through the same engine as any job (so the numbers are what a job would see): a warm-up
on the first input loads it and is timed as the load, then the whole input set is timed. Where the inputs
carry labels (a labelled dataset sample) and the task is a classification, accuracy and macro-F1 are
computed. Models are loaded one at a time and released after their run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hftui.analyze.engine import MultiModalAnalyzer
from hftui.analyze.events import AnalyzerEvent, EventSink, JobResult, JobSpec, JobWarned, ModelLoadPhased
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.pipelines import PipelineCache
from hftui.analyze.tasks import CLASSIFICATION_TASKS, analyzer_task

ACCURACY_TOLERANCE = 0.01  # "within 1 point of the best accuracy"


@dataclass(frozen=True)
class BenchmarkRow:
    """One model's run: how it ended, load time, per-item latency p50/p95, throughput, memory, accuracy/F1.

    `accuracy` and `macro_f1` are None without labels (or for captioning and speech recognition);
    `labelled` is how many items with a label they were computed over.
    """

    model: str
    source: str
    license: str | None
    state: str
    error: str | None
    load_s: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    items_per_s: float
    peak_memory_bytes: int | None
    accuracy: float | None
    macro_f1: float | None
    labelled: int
    succeeded: int
    failed: int


@dataclass(frozen=True)
class BenchmarkResult:
    """Every model's row for `task`, the recommendation, and how the comparison was run.

    `remote_code_model` names the first model refused only because it needs trust_remote_code (see
    `JobResult.remote_code_model`); it is not part of the benchmark's report.
    """

    task: str
    rows: tuple[BenchmarkRow, ...]
    recommendation: str
    inputs: int
    labelled: bool
    device: str | None
    batch_size: int
    state: str
    warnings: tuple[str, ...] = ()
    started_at: str = ""
    remote_code_model: str | None = None


@dataclass(frozen=True)
class ModelBenchmarked:
    """One model of a benchmark finished (`index` of `total`, from 0)."""

    row: BenchmarkRow
    index: int
    total: int


def _never() -> bool:
    return False


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile of `values`, interpolated linearly as numpy's default; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _norm(label: object) -> str:
    return str(label).strip().lower()


def accuracy_and_f1(truth: Sequence[object], predicted: Sequence[object | None]) -> tuple[float, float]:
    """Accuracy and macro-F1 over the classes in `truth` and `predicted` (compared case-insensitively).

    A None prediction (an item that failed) is wrong for its true class without adding a class.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    if not truth:
        return 0.0, 0.0
    true = [_norm(t) for t in truth]
    pred = [None if p is None else _norm(p) for p in predicted]
    correct = sum(t == p for t, p in zip(true, pred, strict=True))
    classes = set(true) | {p for p in pred if p is not None}
    scores = []
    for cls in classes:
        tp = sum(t == cls and p == cls for t, p in zip(true, pred, strict=True))
        fp = sum(t != cls and p == cls for t, p in zip(true, pred, strict=True))
        fn = sum(t == cls and p != cls for t, p in zip(true, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return correct / len(true), sum(scores) / len(scores)


def run_benchmark(
    task: str,
    models: Sequence[str],
    inputs: Sequence[AnalysisInput],
    *,
    labels: Sequence[object | None] | None = None,
    device: str | None = None,
    batch_size: int = 8,
    on_event: Callable[[AnalyzerEvent | ModelBenchmarked], None] | None = None,
    cancelled: Callable[[], bool] = _never,
    dtype: str | None = None,
    warmup: bool = True,
    allow_remote_code: frozenset[str] = frozenset(),
    pipelines: PipelineCache | None = None,
) -> BenchmarkResult:
    """Run every model of `models` for `task` on `inputs` and compare them; `labels` align with `inputs`.

    Never raises for a model problem: that model's row says "failed" and the next one runs. `pipelines`
    replaces the private one-model cache (tests inject a fake loader through it).
    """
    kind = analyzer_task(task)
    if labels is not None and len(labels) != len(inputs):
        raise ValueError(f"{len(labels)} labels for {len(inputs)} inputs")
    emit = on_event or (lambda event: None)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    own_cache = pipelines is None
    cache = pipelines if pipelines is not None else PipelineCache(max_models=1)
    analyzer = MultiModalAnalyzer(cache)
    items = tuple(inputs)
    usable = [i for i, item in enumerate(items) if item.modality == kind.modality]
    scored = task in CLASSIFICATION_TASKS and labels is not None and any(labels[i] is not None for i in usable)
    warnings: list[str] = []
    if labels is not None and task not in CLASSIFICATION_TASKS:
        warnings.append(f"Labels are not scored for {task}; only speed is compared.")
    rows: list[BenchmarkRow] = []
    state = "finished"
    resolved_device: str | None = None
    remote_code_model: str | None = None
    unique = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
    try:
        for position, model in enumerate(unique):
            if cancelled():
                state = "cancelled"
                break
            spec = JobSpec(
                inputs=items,
                tasks=(task,),
                models={task: model},
                device=device,
                dtype=dtype,
                batch_size=batch_size,
                allow_remote_code=allow_remote_code,
            )
            load_s: float | None = None
            warm: JobResult | None = None
            if warmup and usable:
                warm = analyzer.run(replace(spec, inputs=(items[usable[0]],)), _load_events(emit), cancelled)
                load_s = warm.models[0].load_s if warm.models else None
            if warm is not None and warm.state != "finished":
                result = warm
            else:
                result = analyzer.run(spec, emit, cancelled)
                if load_s is None and result.models:
                    load_s = result.models[0].load_s
            resolved_device = resolved_device or (result.summary.device if result.summary.dtype else None)
            for warning in result.warnings:
                if warning not in warnings:
                    warnings.append(warning)
            remote_code_model = remote_code_model or result.remote_code_model
            row = _row(model, result, load_s, labels if scored else None)
            rows.append(row)
            emit(ModelBenchmarked(row, position, len(unique)))
            if own_cache:
                cache.clear()  # the next model gets the memory
            if result.state == "cancelled":
                state = "cancelled"
                break
    finally:
        if own_cache:
            cache.clear()
    return BenchmarkResult(
        task=task,
        rows=tuple(rows),
        recommendation=recommend(rows, scored),
        inputs=len(usable),
        labelled=scored,
        device=resolved_device,
        batch_size=batch_size,
        state=state,
        warnings=tuple(warnings),
        started_at=started_at,
        remote_code_model=remote_code_model,
    )


def _load_events(emit: Callable[[Any], None]) -> EventSink:
    """Pass on the warm-up's load phases and warnings only; its one-item progress would confuse a progress bar."""

    def forward(event: AnalyzerEvent) -> None:
        if isinstance(event, (ModelLoadPhased, JobWarned)):
            emit(event)

    return forward


def _row(model: str, result: JobResult, load_s: float | None, labels: Sequence[object | None] | None) -> BenchmarkRow:
    used = result.models[0] if result.models else None
    ok = [r for r in result.results if r.ok]
    latencies = [r.latency_s for r in ok]
    accuracy = f1 = None
    labelled = 0
    if labels is not None and result.state == "finished":
        pairs = [(labels[r.index], r.label if r.ok else None) for r in result.results if labels[r.index] is not None]
        labelled = len(pairs)
        if pairs:
            accuracy, f1 = accuracy_and_f1([t for t, _ in pairs], [p for _, p in pairs])
    return BenchmarkRow(
        model=model,
        source=used.source if used else "requested",
        license=used.license if used else None,
        state=result.state,
        error=result.error,
        load_s=load_s,
        latency_p50_s=percentile(latencies, 0.5),
        latency_p95_s=percentile(latencies, 0.95),
        items_per_s=result.summary.items_per_s,
        peak_memory_bytes=result.summary.peak_memory_bytes,
        accuracy=accuracy,
        macro_f1=f1,
        labelled=labelled,
        succeeded=result.summary.succeeded,
        failed=result.summary.failed,
    )


def recommend(rows: Sequence[BenchmarkRow], scored: bool) -> str:
    """The pick: the fastest model within 1 point of the best accuracy, or the fastest without labels."""
    done = [row for row in rows if row.state == "finished" and row.succeeded > 0]
    if not done:
        return "No model analysed the inputs; see each model's error."
    rated = [row for row in done if row.accuracy is not None]
    if scored and rated:
        best = max(row.accuracy or 0.0 for row in rated)
        near = [row for row in rated if (row.accuracy or 0.0) >= best - ACCURACY_TOLERANCE]
        pick = max(near, key=lambda row: row.items_per_s)
        if len(rated) == 1:
            return f"Only {pick.model} finished: {pick.accuracy:.1%} accurate at {pick.items_per_s:.1f} items/s."
        most = max(rated, key=lambda row: (row.accuracy or 0.0, row.items_per_s))
        if pick is most:
            return (
                f"Use {pick.model}: the most accurate ({pick.accuracy:.1%}) and the fastest of those within "
                f"1 point of it ({pick.items_per_s:.1f} items/s)."
            )
        return (
            f"Use {pick.model}: the fastest ({pick.items_per_s:.1f} items/s) within 1 point of the best accuracy "
            f"({best:.1%}, {most.model}); it scores {pick.accuracy:.1%}."
        )
    pick = max(done, key=lambda row: row.items_per_s)
    if len(done) == 1:
        return f"Only {pick.model} finished ({pick.items_per_s:.1f} items/s)."
    return f"Use {pick.model}: the fastest ({pick.items_per_s:.1f} items/s); without labels, accuracy was not compared."

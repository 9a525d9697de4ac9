"""The Analyzer's jobs without the screen: how engine events fold into a job, the job's choices, and running it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hftui.analyze.benchmark import BenchmarkResult, BenchmarkRow
from hftui.analyze.events import ItemResult, JobResult, JobSpec
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.jobs import (
    AnalyzerJob,
    BenchmarkPlan,
    benchmark_candidates,
    device_choices,
    run_job,
    tasks_for_inputs,
)
from hftui.analyze.pipelines import DEFAULT_MODELS, PipelineCache
from hftui.device import ComputeDevice

TEXT = "text-classification"
TEXTS = (AnalysisInput("text", "t1", "good"), AnalysisInput("text", "t2", "bad"))


class Sentiment:
    """A stand-in text classifier: "good" is POSITIVE, anything else NEGATIVE."""

    def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
        for text in inputs:
            yield [{"label": "POSITIVE" if text == "good" else "NEGATIVE", "score": 0.9}]


def _cache() -> PipelineCache:
    return PipelineCache(loader=lambda *args: Sentiment())


def _row(index: int) -> ItemResult:
    return ItemResult(index, f"t{index}", "text", TEXT, "m", label="POSITIVE", score=0.9)


def test_events_fold_into_the_job() -> None:
    job = AnalyzerJob(1, JobSpec(TEXTS, tasks=(TEXT,)), ())
    assert job.title == "sentiment" and job.state == "queued" and not job.ended
    job.started(2, "cpu", "float32")
    job.phased("./models/bert/", "loading")
    assert job.device == "cpu float32" and job.total == 2 and job.state == "loading" and job.phase == "loading bert"
    job.rows_arrived([_row(0)], 1, 50.0, 0.02)
    assert job.state == "running" and job.done == 1 and job.items_per_s == 50.0 and len(job.rows) == 1
    assert job.warned("careful") and not job.warned("careful") and job.warnings == ["careful"]
    job.state = "cancelling"
    job.phased("m", "ready")
    job.rows_arrived([_row(1)], 2, 40.0, None)
    assert job.state == "cancelling"  # a cancel asked for stays asked for

    result = run_job(job.spec, None, cached_models=(), pipelines=_cache(), on_event=lambda e: None, cancelled=bool)
    assert isinstance(result, JobResult)
    job.ended_with(result)
    assert job.ended and job.state == "finished" and job.report is result and job.remote_code_model is None
    assert job.done == job.total == 2 and job.eta_s is None


def test_a_benchmark_job_counts_every_model() -> None:
    plan = BenchmarkPlan(TEXT, ("./missing-a", "./missing-b"))  # refused before any load
    job = AnalyzerJob(2, JobSpec(TEXTS, tasks=(TEXT,)), (), plan)
    assert job.title == "bench sentiment x2"
    job.started(2, "cpu", "float32")
    assert job.per_model == 2 and job.total == 4
    row = BenchmarkRow(
        "./missing-a", "requested", None, "finished", None, 0.1, 0.01, 0.02, 9.0, None, None, None, 0, 2, 0
    )
    job.model_compared(row)
    job.rows_arrived([], 1, 9.0, None)
    assert job.done == 3 and job.bench_rows == [row]

    outcome = run_job(job.spec, plan, cached_models=(), pipelines=_cache(), on_event=lambda e: None, cancelled=bool)
    assert isinstance(outcome, BenchmarkResult) and [row.state for row in outcome.rows] == ["failed", "failed"]
    job.ended_with(outcome)
    assert job.result is None and job.report is outcome and job.phase == "" and job.state == "finished"


def test_a_worker_failure_fails_the_job() -> None:
    job = AnalyzerJob(3, JobSpec(TEXTS), ())
    job.worker_failed(RuntimeError("the engine broke"))
    assert job.state == "failed" and job.error == "RuntimeError: the engine broke"


def test_choices_for_the_next_job() -> None:
    assert device_choices(None) == ("auto", "cpu")
    two = ComputeDevice("cuda", "2x GPU", count=2)
    assert device_choices(two) == ("auto", "cpu", "cuda:0", "cuda:1")
    image = AnalysisInput("image", "i", {"path": "x.png"})
    assert tasks_for_inputs((*TEXTS, image), {TEXT, "image-text-to-text"}) == (TEXT, "image-text-to-text")
    assert tasks_for_inputs(TEXTS, {"image-classification"}) == ()

    cached = (("org/sst", "text-classification"), ("org/vit", "image-classification"))
    assert benchmark_candidates(TEXT, "mine", cached) == [
        ("mine", "chosen", True),
        ("org/sst", "cached", True),
        (DEFAULT_MODELS[TEXT], "default", False),
    ]
    assert benchmark_candidates(TEXT, None, ()) == [(DEFAULT_MODELS[TEXT], "default", True)]


def test_jobs_beside_the_event_loop_leave_it_a_core() -> None:
    from hftui.analyze.jobs import threads_beside_event_loop

    assert threads_beside_event_loop(1) == 1
    assert threads_beside_event_loop(2) == 1
    assert threads_beside_event_loop(16) == 15


def test_run_job_sets_the_threads_it_is_given_in_its_own_thread() -> None:
    import threading

    import torch

    from hftui.analyze.events import JobSpec
    from hftui.analyze.jobs import run_job
    from hftui.analyze.pipelines import PipelineCache

    seen: list[int] = []

    def job() -> None:
        run_job(
            JobSpec(()), None, cached_models=(), pipelines=PipelineCache(), on_event=lambda event: None,
            cancelled=lambda: False, intra_op_threads=1,
        )
        seen.append(torch.get_num_threads())

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen == [1]

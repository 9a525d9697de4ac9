"""Benchmark mode: per-model speed and accuracy, the recommendation, failures as rows, and the reports."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from hftui.analyze.benchmark import (
    BenchmarkRow,
    ModelBenchmarked,
    accuracy_and_f1,
    percentile,
    recommend,
    run_benchmark,
)
from hftui.analyze.events import ItemsAnalysed, JobEnded, ModelLoadPhased
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.pipelines import PipelineCache
from hftui.analyze.reports import (
    BENCHMARK_CSV_COLUMNS,
    render_benchmark_csv,
    render_benchmark_json,
    render_benchmark_markdown,
    write_report,
)

TEXT = "text-classification"


def test_percentiles_and_scores() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(i) for i in range(1, 101)], 0.95) == pytest.approx(95.05)
    truth = ["pos", "pos", "neg", "neg", "neu", "pos"]
    predicted = ["POS", "neg", "neg", None, "neu", "pos"]
    accuracy, f1 = accuracy_and_f1(truth, predicted)
    assert accuracy == pytest.approx(4 / 6)
    # pos: tp 2, fp 0, fn 1 -> 0.8; neg: tp 1, fp 1, fn 1 -> 0.5; neu: 1.0
    assert f1 == pytest.approx((0.8 + 0.5 + 1.0) / 3)
    # As sklearn's f1_score(average="macro"): a 0.8, b 2/5, c 2/4.
    y_true = ["a", "b", "c", "a", "b", "c", "a"]
    y_pred = ["a", "c", "c", "a", "b", "b", "b"]
    assert accuracy_and_f1(y_true, y_pred) == pytest.approx((4 / 7, (0.8 + 0.4 + 0.5) / 3))


def _row(model: str, items_per_s: float, accuracy: float | None, state: str = "finished") -> BenchmarkRow:
    return BenchmarkRow(
        model, "requested", None, state, None, 0.1, 0.01, 0.02, items_per_s, None, accuracy, accuracy, 10, 10, 0
    )


def test_recommendation_rules() -> None:
    rows = [_row("big", 10, 0.92), _row("small", 100, 0.915), _row("tiny", 500, 0.80)]
    assert recommend(rows, True).startswith("Use small: the fastest (100.0 items/s) within 1 point")
    assert recommend([_row("big", 10, 0.92), _row("tiny", 500, 0.80)], True).startswith("Use big: the most accurate")
    assert recommend(rows, False).startswith("Use tiny: the fastest (500.0 items/s); without labels")
    assert recommend([_row("x", 0, None, "failed")], True).startswith("No model analysed")
    assert recommend([_row("one", 5, 0.5), _row("x", 0, None, "failed")], True).startswith("Only one finished")


class FakeClassifier:
    """A text classifier that is right except on the inputs it is told to miss, and takes `delay` per batch."""

    def __init__(self, misses: int, delay: float) -> None:
        self.misses = misses
        self.delay = delay
        self.seen = 0

    def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
        items = iter(inputs)
        while batch := list(islice(items, batch_size)):
            time.sleep(self.delay)
            for text in batch:
                self.seen += 1
                label = "POSITIVE" if text.startswith("pos") else "NEGATIVE"
                if text.endswith(tuple(str(i) for i in range(self.misses))):
                    label = "NEGATIVE" if label == "POSITIVE" else "POSITIVE"
                yield [{"label": label, "score": 0.8}, {"label": "OTHER", "score": 0.2}]


def _inputs(count: int = 12) -> tuple[tuple[AnalysisInput, ...], list[str]]:
    inputs = tuple(AnalysisInput("text", f"t{i}", f"{'pos' if i % 2 else 'neg'} review {i}") for i in range(count))
    labels = ["positive" if i % 2 else "negative" for i in range(count)]
    return inputs, labels


def _fake_cache(pipes: dict[str, Any]) -> PipelineCache:
    return PipelineCache(max_models=1, loader=lambda task, model, *rest: pipes[model])


def test_benchmark_picks_the_fastest_of_the_accurate() -> None:
    inputs, labels = _inputs()
    # "close" misses nothing either and is fast; "sloppy" is fastest but misses review 1 (ends in 1): 11/12.
    pipes = {
        "fake/careful": FakeClassifier(misses=0, delay=0.03),
        "fake/close": FakeClassifier(misses=0, delay=0.0),
        "fake/sloppy": FakeClassifier(misses=2, delay=0.0),
    }
    seen: list[Any] = []
    result = run_benchmark(
        TEXT, list(pipes), inputs, labels=labels, batch_size=4, on_event=seen.append, pipelines=_fake_cache(pipes)
    )
    assert result.state == "finished" and result.labelled and result.inputs == 12 and result.device == "cpu"
    by_model = {row.model: row for row in result.rows}
    assert by_model["fake/careful"].accuracy == 1.0 and by_model["fake/careful"].macro_f1 == 1.0
    assert by_model["fake/sloppy"].accuracy is not None and by_model["fake/sloppy"].accuracy < 0.99
    assert by_model["fake/careful"].items_per_s < by_model["fake/close"].items_per_s
    for row in result.rows:
        assert row.labelled == 12 and row.succeeded == 12 and row.load_s is not None
        assert row.latency_p50_s is not None and row.latency_p95_s is not None
        assert row.latency_p50_s <= row.latency_p95_s
    assert result.recommendation.startswith("Use fake/close")
    assert pipes["fake/careful"].seen == 13  # the warm-up item, then all twelve
    done = [e for e in seen if isinstance(e, ModelBenchmarked)]
    assert [(e.row.model, e.index, e.total) for e in done] == [(m, i, 3) for i, m in enumerate(pipes)]
    # The warm-up shows its load phases, but only the timed run reports progress.
    assert sum(isinstance(e, ItemsAnalysed) for e in seen) == 3 * 3 and sum(isinstance(e, JobEnded) for e in seen) == 3
    assert sum(isinstance(e, ModelLoadPhased) for e in seen) == 3 * 5  # checking, loading, ready; checking, cached


def test_benchmark_without_labels_failures_and_cancel() -> None:
    inputs, _ = _inputs(6)

    def broken(task: str, model: str, *rest: Any) -> Any:
        if model == "fake/broken":
            raise OSError("no weights")
        return FakeClassifier(0, 0.0)

    result = run_benchmark(
        TEXT, ["fake/broken", "fake/ok", "fake/ok"], inputs, batch_size=2, pipelines=PipelineCache(loader=broken)
    )
    assert [row.model for row in result.rows] == ["fake/broken", "fake/ok"]  # duplicates run once
    broken_row = result.rows[0]
    assert broken_row.state == "failed" and "no weights" in (broken_row.error or "") and broken_row.accuracy is None
    assert result.rows[1].accuracy is None and not result.labelled
    assert result.recommendation == f"Only fake/ok finished ({result.rows[1].items_per_s:.1f} items/s)."

    stop = {"now": False}

    def on_event(event: Any) -> None:
        if isinstance(event, ModelBenchmarked):
            stop["now"] = True

    cancelled = run_benchmark(
        TEXT,
        ["fake/a", "fake/b"],
        inputs,
        on_event=on_event,
        cancelled=lambda: stop["now"],
        pipelines=_fake_cache({"fake/a": FakeClassifier(0, 0.0), "fake/b": FakeClassifier(0, 0.0)}),
    )
    assert cancelled.state == "cancelled" and [row.model for row in cancelled.rows] == ["fake/a"]
    with pytest.raises(ValueError, match="labels for"):
        run_benchmark(TEXT, ["x"], inputs, labels=["a"])


def test_labels_are_not_scored_for_captions() -> None:
    from PIL import Image

    class Captioner:
        def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
            for _ in inputs:
                yield [{"generated_text": "a cat"}]

    inputs = (AnalysisInput("image", "i", Image.new("RGB", (4, 4))),)
    result = run_benchmark(
        "image-text-to-text", ["fake/cap"], inputs, labels=["cat"], pipelines=_fake_cache({"fake/cap": Captioner()})
    )
    assert result.rows[0].accuracy is None and not result.labelled
    assert result.warnings == ("Labels are not scored for image-text-to-text; only speed is compared.",)


def test_benchmark_reports(tmp_path: Path) -> None:
    inputs, labels = _inputs(4)
    pipes = {"fake/a|b": FakeClassifier(0, 0.0)}
    result = run_benchmark(TEXT, list(pipes), inputs, labels=labels, pipelines=_fake_cache(pipes))
    markdown = render_benchmark_markdown(result)
    assert markdown.startswith("# hftui benchmark: text-classification")
    assert "| fake/a\\|b | unknown |" in markdown and "| 100.0% | 1.000 | 0 |" in markdown
    assert f"**Recommendation:** {result.recommendation}" in markdown  # prose: a pipe needs no escape
    data = json.loads(render_benchmark_json(result))
    assert data["kind"] == "benchmark" and data["rows"][0]["accuracy"] == 1.0
    rows = list(csv.reader(io.StringIO(render_benchmark_csv(result))))
    assert tuple(rows[0]) == BENCHMARK_CSV_COLUMNS and rows[1][0] == "fake/a|b"
    path = write_report(result, tmp_path / "bench.md")
    assert path.read_text(encoding="utf-8") == markdown
    assert json.loads(write_report(result, tmp_path / "bench.json").read_text(encoding="utf-8"))["task"] == TEXT


def test_a_model_refused_for_its_remote_code_is_named(tmp_path: Path) -> None:
    coded = tmp_path / "coded"
    coded.mkdir()
    (coded / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling.Custom"}}))
    inputs, _ = _inputs(2)
    pipes = {"fake/ok": FakeClassifier(0, 0.0)}
    result = run_benchmark(TEXT, [str(coded), "fake/ok"], inputs, pipelines=_fake_cache(pipes))
    assert result.rows[0].state == "failed" and "trust_remote_code" in (result.rows[0].error or "")
    assert result.remote_code_model == str(coded)
    assert "remote_code_model" not in json.loads(render_benchmark_json(result))  # the report keeps its keys
    allowed = run_benchmark(TEXT, ["fake/ok"], inputs, pipelines=_fake_cache(pipes))
    assert allowed.remote_code_model is None


@pytest.mark.slow
def test_benchmark_on_the_tiny_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    from hftui.demo.tiny_models import build_tiny_model

    root = tmp_path_factory.mktemp("bench-models")
    bert = str(build_tiny_model(TEXT, root / "bert"))
    vit = str(build_tiny_model("image-classification", root / "vit"))
    inputs, labels = _inputs(8)
    result = run_benchmark(TEXT, [bert, vit], inputs, labels=[label.upper() for label in labels], batch_size=4)
    ok, refused = result.rows
    assert ok.state == "finished" and ok.succeeded == 8 and ok.license == "apache-2.0"
    assert ok.accuracy is not None and 0 <= ok.accuracy <= 1 and ok.macro_f1 is not None
    assert ok.load_s is not None and ok.load_s > 0 and ok.items_per_s > 0 and ok.peak_memory_bytes
    assert refused.state == "failed" and "image-classification model" in (refused.error or "")
    assert result.recommendation.startswith(f"Only {bert} finished")

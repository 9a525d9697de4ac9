"""Texts fed shortest first (issue 17): rows, results and events still in input order, and the same rows as
feeding the texts in input order, with failing items and a cancel mid-job; other modalities keep their order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from hftui.analyze import batches
from hftui.analyze.adapters import TaskAdapter
from hftui.analyze.batches import FeedOrder
from hftui.analyze.engine import MultiModalAnalyzer
from hftui.analyze.events import ItemResult, ItemsAnalysed, JobResult, JobSpec
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.pipelines import PipelineCache, load_pipeline
from hftui.demo.tiny_models import COMMON_WORDS, build_tiny_model

TEXT = "text-classification"


def mixed_texts(count: int, seed: int = 0) -> list[str]:
    """`count` texts of 1-300 words in random order, so batches in input order mix short and long ones."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(COMMON_WORDS, k=rng.choice((1, 3, 8, 40, 120, 300)))) for _ in range(count)]


def text_inputs(values: list[Any]) -> tuple[AnalysisInput, ...]:
    return tuple(AnalysisInput("text", f"t{i}", value) for i, value in enumerate(values))


def rows_of(events: list[Any]) -> list[ItemResult]:
    return [row for event in events if isinstance(event, ItemsAnalysed) for row in event.results]


def assert_in_input_order(result: JobResult, events: list[Any]) -> None:
    """What the Analyzer's table shows (rows in the order the events bring them) and the result agree, in
    input order, each item once; progress only moves forward and counts the rows."""
    shown = rows_of(events)
    assert [row.index for row in shown] == sorted({row.index for row in shown})
    assert shown == list(result.results)
    progress = [event for event in events if isinstance(event, ItemsAnalysed)]
    assert [event.done for event in progress] == sorted(event.done for event in progress)
    assert progress[-1].done == len(shown) if progress else not shown


# --- a fake pipeline with a tokenizer, to see the batches ---


class WordTokenizer:
    """A stand-in tokenizer: one token per word (texts are sorted only for a pipeline that has a tokenizer)."""

    def __call__(self, texts: list[str], **kwargs: Any) -> dict[str, list[list[int]]]:
        return {"input_ids": [[0] * len(text.split()) for text in texts]}


class FakeTextPipe:
    """A text-classification pipeline stand-in that batches its generator like transformers' DataLoader,
    records each batch, and fails a batch holding "BAD"; the label says whether the text has an odd number
    of words, so a row shows which input it came from."""

    def __init__(self) -> None:
        self.tokenizer = WordTokenizer()
        self.batches: list[list[str]] = []

    def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
        return self._run(iter(inputs), batch_size)

    def _run(self, items: Iterator[str], batch_size: int) -> Iterator[Any]:
        while batch := list(islice(items, batch_size)):
            self.batches.append(batch)
            if any("BAD" in text for text in batch):
                raise ValueError("cannot classify BAD")
            for text in batch:
                odd = len(text.split()) % 2 / 2 + 0.25
                scores = [{"label": "ODD", "score": odd}, {"label": "EVEN", "score": 1 - odd}]
                yield sorted(scores, key=lambda p: -p["score"])


def fake_analyzer(pipe: Any) -> MultiModalAnalyzer:
    return MultiModalAnalyzer(PipelineCache(loader=lambda *args: pipe))


def words(*counts: int) -> list[str]:
    return [" ".join(["w"] * count) for count in counts]


def test_texts_are_fed_shortest_first_within_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "SORT_WINDOW_BATCHES", 2)
    pipe = FakeTextPipe()
    texts = words(9, 1, 5, 3, 8, 2, 7)  # windows of 2 batches of 2: the first four, then the rest
    events: list[Any] = []
    result = fake_analyzer(pipe).run(JobSpec(text_inputs(texts), models={TEXT: "fake/s"}, batch_size=2), events.append)
    assert result.state == "finished"
    assert pipe.batches == [words(1, 3), words(5, 9), words(2, 7), words(8)]
    assert [row.index for row in result.results] == list(range(7))
    assert [row.label for row in result.results] == ["ODD", "ODD", "ODD", "ODD", "EVEN", "EVEN", "ODD"]
    assert_in_input_order(result, events)
    # The first window's rows wait for its longest text, then come a batch's worth per event.
    assert [[row.index for row in event.results] for event in events if isinstance(event, ItemsAnalysed)] == [
        [0, 1],
        [2, 3],
        [4, 5],
        [6],
    ]


def test_a_failing_batch_and_bad_items_in_a_sorted_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "SORT_WINDOW_BATCHES", 4)
    pipe = FakeTextPipe()
    values: list[Any] = [*words(6, 2), "BAD one two", "", *words(4), 17, *words(1, 5)]
    events: list[Any] = []
    result = fake_analyzer(pipe).run(JobSpec(text_inputs(values), models={TEXT: "fake/s"}, batch_size=2), events.append)
    assert result.state == "finished"
    rows = {row.index: row for row in result.results}
    assert sorted(rows) == list(range(8))
    assert rows[2].error == "ValueError: cannot classify BAD"
    assert rows[3].error == "the text is empty" and rows[5].error == "is not text (got int)"
    assert [index for index, row in rows.items() if row.ok] == [0, 1, 4, 6, 7]
    assert [rows[i].label for i in (0, 1, 4, 6, 7)] == ["EVEN", "EVEN", "EVEN", "ODD", "ODD"]
    # Shortest first: the empty text and the number (length 0) become error rows without reaching the model;
    # the batch with BAD is retried one item at a time, and only BAD fails.
    assert pipe.batches == [words(1, 2), words(4, 5), [*words(6), "BAD one two"], words(6), ["BAD one two"]]
    assert_in_input_order(result, events)


def test_cancelled_mid_window_keeps_every_row_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "SORT_WINDOW_BATCHES", 4)
    pipe = FakeTextPipe()
    texts = words(9, 1, 5, 3, 8, 2, 7, 4, 6, 10)
    events: list[Any] = []
    spec = JobSpec(text_inputs(texts), models={TEXT: "fake/s"}, batch_size=2)
    result = fake_analyzer(pipe).run(spec, events.append, lambda: len(pipe.batches) >= 2)
    assert result.state == "cancelled" and result.error is None
    # Two batches ran (the four shortest of the first window of eight); none of their inputs came first, so
    # no row had been emitted yet: the cancel emits the four in input order, and nothing else runs.
    assert pipe.batches == [words(1, 2), words(3, 4)]
    assert [row.index for row in result.results] == [1, 3, 5, 7]
    assert all(row.ok for row in result.results)
    assert result.summary.total == 10 and result.summary.succeeded == 4
    assert_in_input_order(result, events)


def test_other_modalities_keep_input_order() -> None:
    spec = JobSpec(())
    images = [(i, AnalysisInput("image", f"i{i}", f"/no/such/{i}.png")) for i in range(5)]
    order = FeedOrder(images, TaskAdapter("image-classification", object(), spec), window=4)
    assert [order[rank] for rank in range(5)] == list(range(5))
    no_tokenizer = TaskAdapter(TEXT, object(), spec)
    texts = [(i, AnalysisInput("text", f"t{i}", text)) for i, text in enumerate(words(3, 1, 2))]
    assert [FeedOrder(texts, no_tokenizer, window=4)[rank] for rank in range(3)] == [0, 1, 2]


# --- the tiny real model: the same rows sorted or not ---


class RecordingPipe:
    """A real pipeline, watched: records what the engine feeds it and can fail texts holding "BAD"."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.tokenizer = pipe.tokenizer
        self.model = pipe.model
        self.fed: list[str] = []

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        return self.pipe(self._watch(inputs), **kwargs)

    def _watch(self, inputs: Any) -> Iterator[Any]:
        for value in inputs:
            self.fed.append(value)
            if "BAD" in value:
                raise ValueError("cannot classify BAD")
            yield value


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = build_tiny_model(TEXT, tmp_path_factory.mktemp("tiny") / "text")
    return load_pipeline(TEXT, str(folder), "cpu")


def run_watched(
    tiny_pipe: Any, values: list[Any], *, sort: bool, cancelled: Callable[[RecordingPipe], bool] | None = None
) -> tuple[JobResult, list[Any], RecordingPipe]:
    pipe = RecordingPipe(tiny_pipe)
    if not sort:
        pipe.tokenizer = None  # nothing to measure texts with: they go in input order
    events: list[Any] = []
    spec = JobSpec(text_inputs(values), models={TEXT: "tiny/text"}, batch_size=4)
    stop = (lambda: cancelled(pipe)) if cancelled else (lambda: False)
    return fake_analyzer(pipe).run(spec, events.append, stop), events, pipe


def assert_same_rows(sorted_rows: tuple[ItemResult, ...], plain_rows: dict[int, ItemResult]) -> None:
    for row in sorted_rows:
        plain = plain_rows[row.index]
        assert (row.origin, row.label, row.error) == (plain.origin, plain.label, plain.error)
        assert [label for label, _ in row.top_k] == [label for label, _ in plain.top_k]
        for (_, score), (_, plain_score) in zip(row.top_k, plain.top_k, strict=True):
            assert score == pytest.approx(plain_score, abs=1e-4)


@pytest.mark.slow
def test_sorted_batches_give_the_rows_of_input_order(tiny_pipe: Any) -> None:
    values: list[Any] = mixed_texts(70)
    values[5], values[33] = "", " ".join(["BAD", *COMMON_WORDS[:50]])
    unsorted, _, plain_pipe = run_watched(tiny_pipe, values, sort=False)
    result, events, pipe = run_watched(tiny_pipe, values, sort=True)
    assert unsorted.state == result.state == "finished"
    assert plain_pipe.fed[:8] == [v for v in values[:9] if v]  # input order, the empty text left out
    assert pipe.fed != plain_pipe.fed  # shortest first: another order...
    assert [row.index for row in result.results] == list(range(70))  # ...but the rows in input order
    assert_same_rows(result.results, {row.index: row for row in unsorted.results})
    assert result.results[5].error == "the text is empty"
    assert result.results[33].error == "ValueError: cannot classify BAD"
    assert sum(row.ok for row in result.results) == 68
    assert_in_input_order(result, events)


@pytest.mark.slow
def test_sorted_batches_cancelled_mid_job(tiny_pipe: Any) -> None:
    values = mixed_texts(70, seed=1)
    unsorted, _, _ = run_watched(tiny_pipe, values, sort=False)
    result, events, pipe = run_watched(tiny_pipe, values, sort=True, cancelled=lambda pipe: len(pipe.fed) >= 44)
    assert result.state == "cancelled"
    # The cancel is seen between batches: every row done is kept, those of the first window (32 texts) and
    # the shortest of the second, in input order, as they would be unsorted; nothing else was fed.
    assert 44 <= len(result.results) <= 48 and len(pipe.fed) == len(result.results)
    assert [row.index for row in result.results][:32] == list(range(32))
    assert {values[row.index] for row in result.results} == set(pipe.fed)
    assert_same_rows(result.results, {row.index: row for row in unsorted.results})
    assert result.summary.total == 70 and result.summary.succeeded == len(result.results)
    assert_in_input_order(result, events)


def test_the_bench_mixes_real_lengths(realworld: Path) -> None:
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "bench" / "analyzer_speed.py"
    spec = importlib.util.spec_from_file_location("analyzer_speed_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, bench)
    spec.loader.exec_module(bench)
    sentences = bench.prose_sentences(realworld / "dataset_cards")
    assert len(sentences) > 200 and all(not s.startswith(("#", "|", "-")) for s in sentences)
    texts = bench.mixed_reviews(sentences, 200, 5, 500)
    counts = [len(text.split()) for text in texts]
    assert min(counts) >= 5 and max(counts) <= 500 and min(counts) < 15 and max(counts) > 300
    assert texts == bench.mixed_reviews(sentences, 200, 5, 500)  # seeded: the same texts every run

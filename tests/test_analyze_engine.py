"""Analysis jobs end to end on the tiny models, and the engine's failure paths with injected fake pipelines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from hftui.analyze.engine import MultiModalAnalyzer, analyze_content
from hftui.analyze.events import ItemResult, ItemsAnalysed, JobEnded, JobSpec, JobStarted, JobWarned, ModelLoadPhased
from hftui.analyze.inputs import AnalysisInput
from hftui.analyze.pipelines import PipelineCache, load_pipeline
from hftui.demo.tiny_models import IMAGE_LABELS, SAMPLING_RATE, SENTIMENT_LABELS, build_all

REPO_ROOT = Path(__file__).resolve().parents[1]
TEXT = "text-classification"
ALL_TASKS = ("text-classification", "image-classification", "image-text-to-text", "automatic-speech-recognition")


def test_engine_modules_import_light() -> None:
    modules = ["sources", "media", "pipelines", "events", "adapters", "batches", "device_facts", "engine", "reports"]
    modules += ["benchmark", "inputs", "tasks", "jobs"]
    code = (
        "import sys\n"
        + "".join(f"import hftui.analyze.{name}\n" for name in modules)
        + "heavy = ('textual', 'torch', 'transformers', 'PIL', 'numpy', 'soundfile', 'huggingface_hub')\n"
        + "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# --- fixtures ---


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The analyzer's four tiny models, built once for the module, by task (the playground's are left out)."""
    built = build_all(tmp_path_factory.mktemp("tiny-models"))
    return {task: str(built[task]) for task in ALL_TASKS}


class CountingLoader:
    """The real loader, counting loads, so tests can prove a model loads once."""

    def __init__(self) -> None:
        self.loads: list[str] = []

    def __call__(self, task: str, model: str, device: str, dtype: Any, trust: bool) -> Any:
        self.loads.append(model)
        return load_pipeline(task, model, device, dtype, trust)


@pytest.fixture(scope="module")
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture(scope="module")
def analyzer(loader: CountingLoader) -> MultiModalAnalyzer:
    """One analyzer for the module, so each tiny model loads once across tests."""
    return MultiModalAnalyzer(PipelineCache(max_models=4, loader=loader))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of every input kind hftui reads, good and bad."""
    root = tmp_path_factory.mktemp("media")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(root / "photo.png")
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "photo.jpg")
    frames = [Image.new("RGB", (32, 32), (255, 0, 0)), Image.new("RGB", (32, 32), (0, 0, 255))]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:])
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n but then garbage")
    sound = root / "sound"
    sound.mkdir()
    sf.write(sound / "speech.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 8000)
    sf.write(sound / "speech.flac", (0.1 * rng.standard_normal(SAMPLING_RATE)).astype(np.float32), SAMPLING_RATE)
    (sound / "empty.wav").write_bytes(b"")
    (sound / "notaudio.wav").write_text("just some words, not a RIFF header\n" * 10, encoding="utf-8")
    (root / "reviews.txt").write_text("I loved this movie\n\nterrible and boring\n", encoding="utf-8")
    return root


def _events() -> tuple[list[Any], Any]:
    seen: list[Any] = []
    return seen, seen.append


def _models(built: dict[str, str]) -> dict[str, str]:
    return dict(built)


# --- every task end to end ---


@pytest.mark.slow
def test_every_task_through_the_analyzer(
    built: dict[str, str], analyzer: MultiModalAnalyzer, media: Path, offline: None
) -> None:
    inputs = (
        AnalysisInput("text", "typed 1", "I loved this movie, great fun"),
        AnalysisInput("image", "photo", str(media / "photo.png")),
        AnalysisInput("image", "sample row 0 image", Image.new("L", (20, 20), 90)),
        AnalysisInput("audio", "clip", str(media / "sound" / "speech.wav")),
        AnalysisInput("audio", "sample row 1 audio", {"array": np.zeros(4000, np.float32), "sampling_rate": 8000}),
        AnalysisInput("text", "typed 2", "awful, a waste of time"),
    )
    seen, sink = _events()
    spec = JobSpec(inputs, models=_models(built), batch_size=2, caption_prompt="a picture of", max_new_tokens=5)
    result = analyzer.run(spec, sink)
    assert result.state == "finished" and result.error is None
    assert result.tasks == ALL_TASKS
    by_task: dict[str, list[ItemResult]] = {}
    for row in result.results:
        by_task.setdefault(row.task, []).append(row)
    assert [r.index for r in by_task[TEXT]] == [0, 5]
    assert [r.index for r in by_task["image-classification"]] == [1, 2]
    assert [r.index for r in by_task["image-text-to-text"]] == [1, 2]
    assert [r.index for r in by_task["automatic-speech-recognition"]] == [3, 4]
    for row in result.results:
        assert row.ok and row.latency_s >= 0 and row.model == built[row.task]
    for row in by_task[TEXT]:
        assert row.label in SENTIMENT_LABELS and 0 <= (row.score or -1) <= 1
        assert [label for label, _ in row.top_k] == sorted(SENTIMENT_LABELS, key=lambda x: -dict(row.top_k)[x])
    for row in by_task["image-classification"]:
        assert row.label in IMAGE_LABELS and len(row.top_k) == 3
    for row in by_task["image-text-to-text"]:
        assert row.text is not None and row.text.startswith("a picture of") and row.label is None
    for row in by_task["automatic-speech-recognition"]:
        assert isinstance(row.text, str)
    summary = result.summary
    assert (summary.total, summary.succeeded, summary.failed) == (8, 8, 0)
    assert sum(summary.label_counts[TEXT].values()) == 2 and sum(summary.label_counts["image-classification"].values())
    assert set(summary.label_counts) == {TEXT, "image-classification"}
    assert summary.device == "cpu" and summary.dtype == "float32" and summary.items_per_s > 0
    assert summary.peak_memory_bytes and summary.peak_memory_bytes > 0
    assert [(m.task, m.source, m.license) for m in result.models] == [(t, "requested", "apache-2.0") for t in ALL_TASKS]
    assert isinstance(seen[0], JobStarted) and seen[0].total == 8 and isinstance(seen[-1], JobEnded)
    assert seen[-1].result is result
    progress = [e for e in seen if isinstance(e, ItemsAnalysed)]
    assert [e.done for e in progress] == [2, 4, 6, 8] and progress[-1].eta_s == 0


@pytest.mark.slow
def test_analyze_content_with_folders_and_bad_files(
    built: dict[str, str], analyzer: MultiModalAnalyzer, media: Path, offline: None
) -> None:
    missing = str(media / "gone.png")
    result = analyze_content(
        [str(media), "what a wonderful day", missing, media / "nothing-here"],
        models=_models(built),
        batch_size=4,
        analyzer=analyzer,
    )
    assert result.state == "finished"
    assert f"{missing} does not exist." in result.warnings
    assert f"{media / 'nothing-here'} does not exist." in result.warnings
    origins = [item.origin for item in result.inputs]
    assert "text 1" in origins and missing not in origins
    errors = {(Path(r.origin).name, r.task): r.error for r in result.results if not r.ok}
    assert set(errors) == {
        ("corrupt.png", "image-classification"),
        ("corrupt.png", "image-text-to-text"),
        ("empty.wav", "automatic-speech-recognition"),
        ("notaudio.wav", "automatic-speech-recognition"),
    }
    assert "not an image" in errors[("corrupt.png", "image-classification")]
    assert "empty" in errors[("empty.wav", "automatic-speech-recognition")]
    assert "not an audio file" in errors[("notaudio.wav", "automatic-speech-recognition")]
    good = {(Path(r.origin.split(":")[0]).name, r.task) for r in result.results if r.ok}
    for name in ("photo.png", "photo.jpg", "anim.gif"):
        assert {(name, "image-classification"), (name, "image-text-to-text")} <= good
    assert {("speech.wav", "automatic-speech-recognition"), ("speech.flac", "automatic-speech-recognition")} <= good
    assert sum(1 for r in result.results if r.task == TEXT) == 3  # two lines and the typed text
    assert result.summary.failed == 4 and result.analysed_any


@pytest.mark.slow
def test_models_load_once_and_are_reused(
    built: dict[str, str], analyzer: MultiModalAnalyzer, loader: CountingLoader, offline: None
) -> None:
    spec = JobSpec((AnalysisInput("text", "t", "good"),), models={TEXT: built[TEXT]})
    analyzer.run(spec)
    before = loader.loads.count(built[TEXT])
    seen, sink = _events()
    result = analyzer.run(spec, sink)
    assert loader.loads.count(built[TEXT]) == before == 1
    phases = [e.phase for e in seen if isinstance(e, ModelLoadPhased)]
    assert phases == ["checking", "cached"] and result.models[0].cached


@pytest.mark.slow
def test_progress_events_in_order(built: dict[str, str], offline: None) -> None:
    fresh = MultiModalAnalyzer()
    inputs = tuple(AnalysisInput("text", f"t{i}", f"good film number {i}") for i in range(10))
    seen, sink = _events()
    result = fresh.run(JobSpec(inputs, models={TEXT: built[TEXT]}, batch_size=4), sink)
    kinds = [type(e).__name__ for e in seen]
    assert kinds == [
        "JobStarted",
        "ModelLoadPhased",
        "ModelLoadPhased",
        "ModelLoadPhased",
        "ItemsAnalysed",
        "ItemsAnalysed",
        "ItemsAnalysed",
        "JobEnded",
    ]
    assert [e.phase for e in seen if isinstance(e, ModelLoadPhased)] == ["checking", "loading", "ready"]
    progress = [e for e in seen if isinstance(e, ItemsAnalysed)]
    assert [(len(e.results), e.done, e.total) for e in progress] == [(4, 4, 10), (4, 8, 10), (2, 10, 10)]
    assert all(e.items_per_s > 0 for e in progress) and progress[0].eta_s is not None and progress[0].eta_s > 0
    assert [r.index for e in progress for r in e.results] == list(range(10))
    assert len(result.results) == 10 and result.summary.succeeded == 10


@pytest.mark.slow
def test_long_text_is_truncated_not_an_error(
    built: dict[str, str], analyzer: MultiModalAnalyzer, offline: None
) -> None:
    long_text = " ".join(["wonderful"] * 3000)  # far over the model's 512 positions
    result = analyzer.run(JobSpec((AnalysisInput("text", "long", long_text),), models={TEXT: built[TEXT]}))
    assert result.state == "finished" and result.results[0].ok


@pytest.mark.slow
def test_cancelled_after_the_first_batch_keeps_partial_results(
    built: dict[str, str], analyzer: MultiModalAnalyzer, offline: None
) -> None:
    inputs = tuple(AnalysisInput("text", f"t{i}", "good") for i in range(12))
    seen: list[Any] = []
    stop = {"now": False}

    def sink(event: Any) -> None:
        seen.append(event)
        if isinstance(event, ItemsAnalysed):
            stop["now"] = True

    result = analyzer.run(JobSpec(inputs, models={TEXT: built[TEXT]}, batch_size=4), sink, lambda: stop["now"])
    assert result.state == "cancelled" and result.error is None
    assert [r.index for r in result.results] == [0, 1, 2, 3]
    assert sum(isinstance(e, ItemsAnalysed) for e in seen) == 1 and isinstance(seen[-1], JobEnded)
    assert result.summary.total == 12 and result.summary.succeeded == 4


@pytest.mark.slow
def test_cancelled_during_model_load(built: dict[str, str], offline: None) -> None:
    stop = {"now": False}

    def sink(event: Any) -> None:
        if isinstance(event, ModelLoadPhased) and event.phase == "loading":
            stop["now"] = True  # the user pressed Escape while the weights were loading

    inputs = (AnalysisInput("text", "t", "good"), AnalysisInput("image", "i", Image.new("RGB", (8, 8))))
    result = MultiModalAnalyzer().run(JobSpec(inputs, models=_models(built)), sink, lambda: stop["now"])
    assert result.state == "cancelled" and result.results == ()
    assert [m.task for m in result.models] == [TEXT]  # the load finished; nothing ran after it


@pytest.mark.slow
def test_a_model_for_another_task_fails_the_job(
    built: dict[str, str], analyzer: MultiModalAnalyzer, offline: None
) -> None:
    seen, sink = _events()
    spec = JobSpec((AnalysisInput("text", "t", "good"),), models={TEXT: built["image-classification"]})
    result = analyzer.run(spec, sink)
    assert result.state == "failed"
    assert result.error == f"{built['image-classification']} is an image-classification model, not {TEXT}"
    assert [e.phase for e in seen if isinstance(e, ModelLoadPhased)] == ["checking"]


@pytest.mark.slow
def test_remote_code_refused_unless_allowed(built: dict[str, str], tmp_path: Path, offline: None) -> None:
    custom = tmp_path / "custom"
    shutil.copytree(built[TEXT], custom)
    config = json.loads((custom / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_custom.CustomModel"}
    (custom / "config.json").write_text(json.dumps(config))
    spec = JobSpec((AnalysisInput("text", "t", "good"),), models={TEXT: str(custom)})
    refused = MultiModalAnalyzer().run(spec)
    assert refused.state == "failed" and "trust_remote_code" in (refused.error or "") and not refused.models
    assert refused.remote_code_model == str(custom)  # the result says what allowing would change

    trusted: list[bool] = []

    def fake_loader(task: str, model: str, device: str, dtype: Any, trust: bool) -> Any:
        trusted.append(trust)
        return FakeTextPipe()

    allowed = MultiModalAnalyzer(PipelineCache(loader=fake_loader)).run(
        JobSpec(spec.inputs, models=spec.models, allow_remote_code=frozenset({str(custom)}))
    )
    assert allowed.state == "finished" and trusted == [True] and allowed.remote_code_model is None
    assert any("own Python code" in warning for warning in allowed.warnings)


@pytest.mark.slow
def test_pickle_only_weights_warn_before_loading(built: dict[str, str], tmp_path: Path, offline: None) -> None:
    import torch
    from safetensors.torch import load_file

    legacy = tmp_path / "legacy"
    shutil.copytree(built[TEXT], legacy)
    torch.save(load_file(str(legacy / "model.safetensors")), legacy / "pytorch_model.bin")
    (legacy / "model.safetensors").unlink()
    seen, sink = _events()
    result = MultiModalAnalyzer().run(JobSpec((AnalysisInput("text", "t", "good"),), models={TEXT: str(legacy)}), sink)
    assert result.state == "finished", result.error
    assert any("loading pickle weights can run code" in warning for warning in result.warnings)
    warned = next(i for i, e in enumerate(seen) if isinstance(e, JobWarned) and "pickle" in e.message)
    loading = next(i for i, e in enumerate(seen) if isinstance(e, ModelLoadPhased) and e.phase == "loading")
    assert warned < loading


@pytest.mark.slow
def test_a_model_that_is_not_there_fails_clearly_offline(offline: None) -> None:
    spec = JobSpec((AnalysisInput("text", "t", "good"),), models={TEXT: "hftui-test/no-such-model"})
    result = MultiModalAnalyzer().run(spec)
    assert result.state == "failed"
    assert (result.error or "").startswith("Could not load hftui-test/no-such-model")
    assert "offline" in (result.error or "")


# --- failure paths with fake pipelines ---


class FakeTextPipe:
    """A stand-in text-classification pipeline: batches its generator input like transformers' DataLoader."""

    def __init__(self, fail_on: str = "BAD", error: BaseException | None = None) -> None:
        self.fail_on = fail_on
        self.error = error
        self.calls: list[tuple[int, dict[str, Any]]] = []
        self.batches: list[list[str]] = []

    def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
        self.calls.append((batch_size, kwargs))
        return self._run(iter(inputs), batch_size)

    def _run(self, items: Iterator[str], batch_size: int) -> Iterator[Any]:
        while batch := list(islice(items, batch_size)):
            self.batches.append(batch)
            if self.error is not None:
                raise self.error
            if any(self.fail_on in text for text in batch):
                raise ValueError(f"cannot classify {self.fail_on}")
            for text in batch:
                positive = 0.9 if "good" in text else 0.2
                scores = [{"label": "POSITIVE", "score": positive}, {"label": "NEGATIVE", "score": 1 - positive}]
                yield sorted(scores, key=lambda p: -p["score"])


def _fake_analyzer(pipe: Any) -> MultiModalAnalyzer:
    return MultiModalAnalyzer(PipelineCache(loader=lambda *args: pipe))


def _texts(*texts: str) -> tuple[AnalysisInput, ...]:
    return tuple(AnalysisInput("text", f"t{i}", text) for i, text in enumerate(texts))


def test_a_bad_item_in_a_batch_is_isolated() -> None:
    pipe = FakeTextPipe()
    inputs = _texts("good", "meh", "BAD one", "good again", "", "fine", "good", "last")
    result = _fake_analyzer(pipe).run(JobSpec(inputs, models={TEXT: "fake/sentiment"}, batch_size=3))
    assert result.state == "finished"
    rows = {r.index: r for r in result.results}
    assert sorted(rows) == list(range(8))
    assert rows[2].error == "ValueError: cannot classify BAD" and not rows[2].ok
    assert rows[4].error == "the text is empty"
    assert [i for i, r in rows.items() if r.ok] == [0, 1, 3, 5, 6, 7]
    assert rows[0].label == "POSITIVE" and rows[1].label == "NEGATIVE"
    assert [label for label, _ in rows[0].top_k] == ["POSITIVE", "NEGATIVE"] and rows[0].score == 0.9
    # The first batch failed and was retried one item at a time; the rest went on in batches of three.
    assert pipe.batches[0] == ["good", "meh", "BAD one"]
    assert pipe.batches[1:4] == [["good"], ["meh"], ["BAD one"]]
    assert pipe.batches[4:] == [["good again", "fine", "good"], ["last"]]
    assert pipe.calls[0] == (3, {"top_k": 3, "truncation": True})
    assert result.summary.failed == 2 and result.summary.label_counts == {TEXT: {"POSITIVE": 3, "NEGATIVE": 3}}


@pytest.mark.parametrize(
    "error",
    [
        pytest.param("cuda-oom", id="torch.cuda.OutOfMemoryError"),
        pytest.param(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), id="RuntimeError"),
    ],
)
def test_out_of_memory_fails_the_job_with_advice(error: Any) -> None:
    if error == "cuda-oom":
        import torch

        error = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    pipe = FakeTextPipe(error=error)
    result = _fake_analyzer(pipe).run(JobSpec(_texts("good", "bad"), models={TEXT: "fake/sentiment"}, batch_size=4))
    assert result.state == "failed"
    assert "Out of memory" in (result.error or "") and "batch size (now" not in (result.error or "")
    assert "batch size 4" in (result.error or "") and "lower the batch size or choose the CPU" in (result.error or "")
    assert len(pipe.batches) == 1  # no one-by-one retry after running out of memory
    assert result.results == ()


def test_out_of_memory_while_loading() -> None:
    def loader(*args: Any) -> Any:
        raise RuntimeError("CUDA out of memory. Tried to allocate 9.00 GiB")

    result = MultiModalAnalyzer(PipelineCache(loader=loader)).run(JobSpec(_texts("good"), models={TEXT: "fake/huge"}))
    assert result.state == "failed" and (result.error or "").startswith("Out of memory loading fake/huge")
    assert "CPU" in (result.error or "")


def test_load_failure_and_bad_specs_fail_without_raising() -> None:
    def loader(*args: Any) -> Any:
        raise ValueError("Unrecognized model in fake/broken.\nMore lines of detail")

    failed = MultiModalAnalyzer(PipelineCache(loader=loader)).run(JobSpec(_texts("x"), models={TEXT: "fake/broken"}))
    assert failed.state == "failed"
    assert failed.error == "Could not load fake/broken for text-classification: Unrecognized model in fake/broken."
    analyzer = _fake_analyzer(FakeTextPipe())
    assert analyzer.run(JobSpec(())).error == "There is nothing to analyse: no inputs were given."
    unknown = analyzer.run(JobSpec(_texts("x"), tasks=("summarization",)))
    assert unknown.state == "failed" and "unknown analysis task 'summarization'" in (unknown.error or "")
    assert analyzer.run(JobSpec(_texts("x"), batch_size=0)).state == "failed"
    nothing = analyzer.run(JobSpec(_texts("x"), tasks=("automatic-speech-recognition",)))
    assert nothing.state == "failed" and "No audio inputs" in nothing.warnings[-1]
    assert "1 text input(s) skipped" in nothing.warnings[0]
    bad_device = analyzer.run(JobSpec(_texts("x"), models={TEXT: "fake/s"}, device="tpu"))
    assert bad_device.state == "failed" and "unknown device" in (bad_device.error or "")


def test_an_unexpected_output_is_an_error_row() -> None:
    class Odd:
        def __call__(self, inputs: Any, batch_size: int = 1, **kwargs: Any) -> Iterator[Any]:
            for _ in inputs:
                yield [{"no label": True}]

    result = _fake_analyzer(Odd()).run(JobSpec(_texts("a", "b"), models={TEXT: "fake/odd"}))
    assert result.state == "finished" and [r.ok for r in result.results] == [False, False]
    assert (result.results[0].error or "").startswith("unexpected pipeline output")


def test_item_result_output() -> None:
    row = ItemResult(0, "o", "text", TEXT, "m", label="POSITIVE", score=0.987)
    assert row.ok and row.output == "POSITIVE 0.99"
    caption = ItemResult(1, "o", "image", "image-text-to-text", "m", text="a cat\non a mat")
    assert caption.output == "a cat on a mat"
    error = ItemResult(2, "o", "audio", "automatic-speech-recognition", "m", error="the audio is empty")
    assert not error.ok and error.output == "error: the audio is empty"

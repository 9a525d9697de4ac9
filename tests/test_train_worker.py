"""The worker run in this process on the tiny BERT: bad input, NaN loss and a full disk end as `failed` events."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from hftui.train.events import EVENTS_FILE, RunEvent, read_all_events
from hftui.train.runs import read_run
from hftui.train.spec import DatasetRef, save_spec
from hftui.train.worker import run_worker
from tests.test_train_support import review_rows, reviews, small_spec, tiny_bert, write_csv, write_jsonl

__all__ = ["reviews", "tiny_bert"]

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _run(run_dir: Path, spec: object) -> tuple[int, list[RunEvent]]:
    run_dir.mkdir()
    save_spec(spec, run_dir)  # type: ignore[arg-type]
    status = run_worker(run_dir)
    batch = read_all_events(run_dir / EVENTS_FILE)
    assert batch.warnings == ()
    return status, list(batch.events)


def test_nan_loss_fails_the_run_with_the_step(tmp_path: Path, tiny_bert: Path, reviews: Path) -> None:
    spec = small_spec(
        tiny_bert, reviews, learning_rate=1e38, logging_steps=1, max_steps=8, eval_strategy="no", save_strategy="no"
    )
    status, events = _run(tmp_path / "run", spec)
    assert status == 1
    failed = events[-1]
    assert failed.kind == "failed" and failed.get("reason") == "nan_loss"
    assert f"at step {failed.step}" in failed.get("message") and failed.step is not None and failed.step < 8
    record = read_run(tmp_path / "run")
    assert (record.state, record.reason) == ("failed", "nan_loss")
    assert not (tmp_path / "run" / "model").exists()


def test_a_full_disk_at_checkpoint_fails_with_a_clear_reason(
    tmp_path: Path, tiny_bert: Path, reviews: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    real_save = torch.save

    def full_disk(obj: object, f: object, *args: object, **kwargs: object) -> None:
        if "checkpoint-" in str(f):
            raise OSError(errno.ENOSPC, "No space left on device", str(f))
        real_save(obj, f, *args, **kwargs)

    # The Trainer writes the optimizer state of a checkpoint with torch.save: that write finds the disk full.
    monkeypatch.setattr(torch, "save", full_disk)
    status, events = _run(tmp_path / "run", small_spec(tiny_bert, reviews, eval_strategy="no", save_steps=2))
    assert status == 1
    failed = events[-1]
    assert (failed.kind, failed.get("reason"), failed.step) == ("failed", "disk_full", 2)
    assert "the disk is full (while saving a checkpoint at step 2" in failed.get("message")


def test_a_missing_column_fails_before_training_naming_the_columns(tmp_path: Path, tiny_bert: Path) -> None:
    data = write_csv(tmp_path / "other.csv", [{"review": r["text"], "label": r["label"]} for r in review_rows(8)])
    status, events = _run(tmp_path / "run", small_spec(tiny_bert, data))
    assert status == 1
    assert [e.kind for e in events if e.kind != "note"] == ["failed"]
    assert events[-1].get("reason") == "bad_input"
    assert "no text column `text`; its columns are review, label" in events[-1].get("message")


def test_numeric_labels_and_a_separate_eval_file(tmp_path: Path, tiny_bert: Path) -> None:
    rows = [{"text": r["text"], "label": 10 if r["label"] == "pos" else 2} for r in review_rows(48)]
    train = write_jsonl(tmp_path / "train.jsonl", rows[:40])  # type: ignore[arg-type]
    held = write_jsonl(tmp_path / "eval.jsonl", rows[40:])  # type: ignore[arg-type]
    spec = small_spec(tiny_bert, train, max_steps=3, eval_steps=3, save_steps=3)
    spec = spec.replace(dataset=DatasetRef(str(train), eval_location=str(held)))
    status, events = _run(tmp_path / "run", spec)
    assert status == 0, events[-1]
    labels = json.loads((tmp_path / "run" / "labels.json").read_text())
    assert labels == {"labels": ["2", "10"], "label2id": {"2": 0, "10": 1}}  # numeric order, not text order
    finished = events[-1]
    assert finished.kind == "finished" and finished.get("metrics")["count"] == 8
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert config["id2label"] == {"0": "2", "1": "10"}


def test_image_classification_from_an_image_folder(tmp_path: Path) -> None:
    from PIL import Image

    from hftui.demo.tiny_models import build_tiny_model
    from hftui.train.spec import Hyperparameters, RunSpec

    for label, colour in (("red", (250, 10, 10)), ("blue", (10, 10, 250))):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(10):
            Image.new("RGB", (32, 32), tuple(max(0, c - 8 * i) for c in colour)).save(
                tmp_path / "images" / label / f"{i}.png"
            )
    vit = build_tiny_model("image-classification", tmp_path / "vit")
    spec = RunSpec(
        str(vit),
        DatasetRef(str(tmp_path / "images")),
        task="image-classification",
        hyperparameters=Hyperparameters(max_steps=2, batch_size=4, logging_steps=1, eval_strategy="no", save_steps=2),
    )
    status, events = _run(tmp_path / "run", spec)
    assert status == 0, events[-1]
    started = next(e for e in events if e.kind == "started")
    assert started.get("labels") == ["blue", "red"]
    assert events[-1].kind == "finished" and events[-1].get("metrics")["count"] == 4
    assert (tmp_path / "run" / "model" / "preprocessor_config.json").is_file()
    from hftui.hub.cards.text import read_card

    assert read_card(tmp_path / "run" / "model" / "README.md").metadata["pipeline_tag"] == "image-classification"


def test_progress_events_carry_torch_cuda_memory_when_there_is_a_gpu(
    tmp_path: Path, tiny_bert: Path, reviews: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No GPU here: stand in for torch's CUDA counters. The recorder was once built without them, so the watcher's
    # fallback GPU line (no nvidia-smi samples) never had anything to show.
    from hftui.train import trainer

    monkeypatch.setattr(trainer, "_cuda_memory", lambda: lambda: {"cuda_memory_allocated": 7 * 2**20})
    spec = small_spec(tiny_bert, reviews, max_steps=3, logging_steps=1, eval_strategy="no", save_strategy="no")
    status, events = _run(tmp_path / "run", spec)
    assert status == 0, events[-1]
    progress = [event for event in events if event.kind == "progress"]
    assert progress and all(event.get("cuda_memory_allocated") == 7 * 2**20 for event in progress)

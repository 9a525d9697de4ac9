"""TensorBoard log dirs as runs (real event files written by the SummaryWriter the Trainer uses), and follower_for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hftui.train.events import EVENTS_FILE, append_event
from hftui.train.follow import RunFollower, TrainerOutputFollower, follower_for
from hftui.train.spec import DatasetRef, RunSpec, save_spec
from hftui.train.tensorboard import (
    TensorBoardFollower,
    _EventFileReader,
    event_files,
    is_tensorboard_dir,
    read_tensorboard,
    tensorboard_runs,
)
from tests.test_train_support import review_rows, tiny_bert

__all__ = ["tiny_bert"]

pytest.importorskip("tensorboard")
SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter


def _trainer_like(log_dir: Path, *, steps: range = range(1, 7), evals: tuple[int, ...] = (3, 6), end: bool = True):
    """Scalars as the Trainer's TensorBoardCallback writes them (rewrite_logs names, one on_log call per step)."""
    writer = SummaryWriter(str(log_dir))
    writer.add_text("args", json.dumps({"learning_rate": 0.001, "per_device_train_batch_size": 8}))
    for step in steps:
        writer.add_scalar("train/loss", 1.0 / step, step)
        writer.add_scalar("train/grad_norm", 2.0, step)
        writer.add_scalar("train/learning_rate", 0.001 * (1 - step / 10), step)
        writer.add_scalar("train/epoch", step / 6, step)
        if step in evals:
            writer.add_scalar("eval/loss", 0.9 / step, step)
            writer.add_scalar("eval/accuracy", 0.5 + step / 20, step)
            writer.add_scalar("eval/runtime", 0.1, step)
            writer.add_scalar("train/epoch", step / 6, step)
    if end:
        last = steps[-1]
        for tag, value in (("train_runtime", 3.5), ("train_samples_per_second", 10.0), ("train_loss", 0.4)):
            writer.add_scalar(f"train/{tag}", value, last)
    writer.close()
    return writer


def test_follower_for_picks_the_kind_of_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    save_spec(RunSpec("org/model", DatasetRef("data.csv")), run)
    assert isinstance(follower_for(run), RunFollower)
    events_only = tmp_path / "events-only"
    events_only.mkdir()
    append_event(events_only / EVENTS_FILE, "launched", None, attempt=1)
    assert isinstance(follower_for(events_only), RunFollower)

    output = tmp_path / "output"
    (output / "checkpoint-2").mkdir(parents=True)
    (output / "checkpoint-2" / "trainer_state.json").write_text(json.dumps({"global_step": 2, "log_history": []}))
    _trainer_like(output / "runs" / "Dec01_host")  # a Trainer output_dir with TensorBoard logs too
    assert isinstance(follower_for(output), TrainerOutputFollower)
    assert isinstance(follower_for(output / "runs"), TensorBoardFollower)

    logs = tmp_path / "logs"
    _trainer_like(logs)
    follower = follower_for(logs)
    assert isinstance(follower, TensorBoardFollower) and follower.log_dir == logs

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"not a run.*events\.jsonl.*trainer_state\.json.*tfevents"):
        follower_for(empty)
    with pytest.raises(ValueError, match="does not exist"):
        follower_for(tmp_path / "missing")
    with pytest.raises(ValueError, match="is a file"):
        follower_for(empty / "notes.txt")


def test_trainer_tags_become_the_same_curves_and_events(tmp_path: Path) -> None:
    _trainer_like(tmp_path / "runs" / "Dec01_host")
    assert is_tensorboard_dir(tmp_path) and not is_tensorboard_dir(tmp_path / "nowhere")
    follower = TensorBoardFollower(tmp_path)
    events, warnings = follower.poll()
    assert warnings == ()
    assert follower.run_dir == tmp_path / "runs" / "Dec01_host"
    loss = follower.curves.points("loss")
    assert [x for x, _ in loss] == [1, 2, 3, 4, 5, 6]
    assert loss[0][1] == pytest.approx(1.0) and loss[-1][1] == pytest.approx(1 / 6)
    assert [x for x, _ in follower.curves.points("eval_loss")] == [3, 6]
    assert follower.curves.points("eval_accuracy")[-1][1] == pytest.approx(0.8)
    assert follower.curves.points("learning_rate")[0][1] == pytest.approx(0.0009)
    evals = [e for e in events if e.kind == "eval"]
    assert evals[0].step == 3 and evals[0].get("epoch") == pytest.approx(0.5)
    assert set(evals[0].get("metrics")) == {"eval_loss", "eval_accuracy", "eval_runtime"}
    # The evaluation's epoch is not a log event of its own: one log per step.
    assert [e.step for e in events if e.kind == "log"] == [1, 2, 3, 4, 5, 6]
    finished = [e for e in events if e.kind == "finished"]
    assert follower.finished and len(finished) == 1
    assert finished[0].get("runtime_s") == pytest.approx(3.5) and finished[0].get("train_loss") == pytest.approx(0.4)
    assert follower.hyperparameters == {"learning_rate": 0.001, "per_device_train_batch_size": 8}


def test_new_data_is_read_as_it_is_appended_and_nothing_is_read_when_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SummaryWriter(str(tmp_path))
    for step in (1, 2):
        writer.add_scalar("train/loss", 1.0, step)
    writer.flush()
    follower = TensorBoardFollower(tmp_path)
    first, _ = follower.poll()
    assert [e.step for e in first] == [1, 2] and not follower.finished

    reads = []
    original = _EventFileReader.read

    def counting(self: _EventFileReader) -> tuple[list, list]:
        reads.append(self.path)
        return original(self)

    monkeypatch.setattr(_EventFileReader, "read", counting)
    assert follower.poll() == ((), ())
    assert reads == []  # unchanged files: a stat each, no read
    writer.add_scalar("train/loss", 0.5, 3)
    writer.add_scalar("eval/loss", 0.7, 3)
    writer.flush()
    more, _ = follower.poll()
    assert [(e.kind, e.step) for e in more] == [("eval", 3), ("log", 3)]
    assert len(reads) == 1
    assert [x for x, _ in follower.curves.points("loss")] == [1, 2, 3]
    writer.close()


def test_a_truncated_or_corrupt_event_file_gives_a_warning_not_a_crash(tmp_path: Path) -> None:
    good = tmp_path / "good"
    _trainer_like(good, end=False)
    (file,) = event_files(good)
    data = file.read_bytes()

    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / file.name).write_bytes(data[:-7])
    follower = TensorBoardFollower(truncated)
    _, warnings = follower.poll()
    assert any("incomplete record" in w for w in warnings)
    assert [x for x, _ in follower.curves.points("loss")] == [1, 2, 3, 4, 5, 6][: len(follower.curves.points("loss"))]
    assert 4 <= len(follower.curves.points("loss")) <= 6
    # The writer finishes the record: the next poll reads on from where it stopped.
    (truncated / file.name).write_bytes(data)
    os.utime(truncated / file.name, ns=(1, 1))
    follower.poll()
    assert [x for x, _ in follower.curves.points("loss")] == [1, 2, 3, 4, 5, 6]

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    middle = len(data) // 2
    (corrupt / file.name).write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    run = read_tensorboard(corrupt)
    assert any("corrupt record" in w for w in run.warnings), run
    assert 0 < len([e for e in run.events if e.kind == "log"]) < 6

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "events.out.tfevents.1.host").write_bytes(b"not a tfrecord at all, just text\n" * 3)
    run = read_tensorboard(garbage)
    assert run.events == () and run.warnings


def test_a_log_dir_of_several_runs_follows_the_newest_and_names_the_others(tmp_path: Path) -> None:
    _trainer_like(tmp_path / "runs" / "old", steps=range(1, 3), end=False)
    _trainer_like(tmp_path / "runs" / "new", steps=range(1, 5), end=False)
    (old,) = event_files(tmp_path / "runs" / "old")
    os.utime(old, (1_000_000, 1_000_000))
    assert tensorboard_runs(tmp_path)[0] == tmp_path / "runs" / "new"
    follower = TensorBoardFollower(tmp_path)
    _, warnings = follower.poll()
    assert follower.run_dir == tmp_path / "runs" / "new"
    assert len(follower.curves.points("loss")) == 4
    assert any("2 runs" in w and "runs/old" in w for w in warnings)


def test_a_resumed_run_supersedes_the_steps_it_logs_again(tmp_path: Path) -> None:
    _trainer_like(tmp_path, steps=range(1, 7), evals=(), end=False)
    second = SummaryWriter(str(tmp_path))  # a new file in the same run folder, steps from the checkpoint on
    for step in (5, 6, 7, 8):
        second.add_scalar("train/loss", 10.0 + step, step)
    second.close()
    assert len(event_files(tmp_path)) == 2
    follower = TensorBoardFollower(tmp_path)
    events, _ = follower.poll()
    assert any(e.kind == "started" and e.get("resumed_from_step") == 4 for e in events)
    loss = follower.curves.points("loss")
    assert [x for x, _ in loss] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert loss[4][1] == pytest.approx(15.0)


@pytest.mark.slow
def test_a_real_trainer_run_with_tensorboard_reporting_is_read(tmp_path: Path, tiny_bert: Path) -> None:
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    rows = review_rows(32)
    data = Dataset.from_dict({"text": [r["text"] for r in rows], "label": [int(r["label"] == "pos") for r in rows]})
    data = data.map(lambda b: tokenizer(b["text"], truncation=True, padding="max_length", max_length=16), batched=True)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=4,
        per_device_train_batch_size=8,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="no",
        report_to=["tensorboard"],
        use_cpu=True,
        disable_tqdm=True,
    )
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert)
    Trainer(model=model, args=args, train_dataset=data, eval_dataset=data.select(range(8))).train()
    follower = follower_for(tmp_path / "out")
    assert isinstance(follower, TensorBoardFollower)
    follower.poll()
    assert [x for x, _ in follower.curves.points("loss")] == [1, 2, 3, 4]
    assert [x for x, _ in follower.curves.points("eval_loss")] == [2, 4]
    assert len(follower.curves.points("learning_rate")) == 4
    assert follower.finished
    assert follower.hyperparameters.get("max_steps") == 4


def test_without_the_tensorboard_package_the_follower_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hftui.train import tensorboard

    _trainer_like(tmp_path, steps=range(1, 3), end=False)
    monkeypatch.setattr(tensorboard, "tensorboard_available", lambda: False)
    follower = follower_for(tmp_path)
    events, warnings = follower.poll()
    assert events == () and len(warnings) == 1 and "pip install tensorboard" in warnings[0]
    assert follower.poll() == ((), ())
    monkeypatch.setattr(tensorboard, "tensorboard_available", lambda: True)
    events, _ = follower.poll()
    assert [e.step for e in events] == [1, 2]


def test_event_files_are_ordered_by_their_numbers_not_their_text(tmp_path: Path) -> None:
    # A process's tenth writer (`.10`) was opened after its ninth (`.9`); text order says otherwise.
    names = [f"events.out.tfevents.1700000000.host.example.42.{n}" for n in (10, 9, 2)]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "events.out.tfevents.1699999999.host.example.42.11").write_bytes(b"")
    assert [p.name.rsplit(".", 2)[-2:] for p in event_files(tmp_path)] == [
        ["42", "11"],
        ["42", "2"],
        ["42", "9"],
        ["42", "10"],
    ]

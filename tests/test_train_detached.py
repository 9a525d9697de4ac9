"""Detached runs of the tiny BERT: full and LoRA to the end, stop then resume, killed, launcher gone.

Each test starts real worker processes (python -m hftui.train.worker) and polls their events.jsonl with a
timeout; any process still alive at teardown is killed with its process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hftui.train.events import EVENTS_FILE, EventTail, RunEvent
from hftui.train.follow import RunFollower
from hftui.train.launch import RunError, request_stop, resume_run, start_run
from hftui.train.process import read_process_info
from hftui.train.runs import read_run, run_state
from hftui.train.spec import DatasetRef, LoraSettings, save_spec, spec_to_json
from tests.test_train_support import (
    count_kind,
    has_kind,
    quiet_workers,
    reap_runs,
    review_rows,
    reviews,
    small_spec,
    tiny_bert,
    wait_for,
    write_jsonl,
)

__all__ = ["quiet_workers", "reap_runs", "reviews", "tiny_bert"]

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("quiet_workers")]
REPO = Path(__file__).resolve().parents[1]


def _finished(events: list[RunEvent]) -> bool:
    return any(event.kind in ("finished", "failed") for event in events)


def test_a_detached_full_run_outlives_its_launcher_and_writes_its_card(
    tmp_path: Path, hftui_home: Path, tiny_bert: Path, reviews: Path, reap_runs: list[Path]
) -> None:
    # The dataset is named relative to the spec file, and hftui runs from elsewhere: the path follows the file.
    (tmp_path / "reviews.csv").write_bytes(reviews.read_bytes())
    spec = small_spec(tiny_bert, Path("reviews.csv"), max_steps=8, eval_steps=4, save_steps=4)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec_to_json(spec))
    # The launcher is its own process and exits at once; the run must carry on without it.
    # --no-check: the launcher would import transformers only to validate (covered by the refusal test below).
    launcher = subprocess.run(
        [sys.executable, "-m", "hftui", "train", str(spec_file), "--detach", "--no-check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert launcher.returncode == 0, launcher.stderr
    run_id = launcher.stdout.strip()
    run_dir = hftui_home / "runs" / run_id
    reap_runs.append(run_dir)
    events = wait_for(run_dir, _finished)
    assert events[-1].kind == "finished", events[-1]

    kinds = [event.kind for event in events]
    assert kinds[0] == "launched" and "started" in kinds and kinds.count("checkpoint") == 2
    started = next(event for event in events if event.kind == "started")
    assert started.get("trainable_params") == started.get("total_params") > 0
    assert started.get("labels") == ["neg", "pos"] and started.get("max_steps") == 8
    assert [event.step for event in events if event.kind == "log" and event.get("loss") is not None] == [1, 2, 4, 6, 8]
    assert json.loads((run_dir / "labels.json").read_text())["label2id"] == {"neg": 0, "pos": 1}
    log = (run_dir / "train.log").read_text()
    assert "\r" not in log and "\x1b" not in log and "'loss'" in log

    from huggingface_hub import ModelCard

    from hftui.hub.cards.text import read_card

    model_dir = run_dir / "model"
    card = ModelCard.load(model_dir / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == "hftui-demo/tiny-bert-sentiment" and data["license"] == "apache-2.0"
    assert data["pipeline_tag"] == "text-classification" and data["library_name"] == "transformers"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    scores = {result.metric_type: result.metric_value for result in card.data.eval_results}
    assert scores == {"accuracy": round(metrics["accuracy"], 4), "f1": round(metrics["f1_macro"], 4)}
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["count"] == 13
    parsed = read_card(model_dir / "README.md")
    assert parsed.problem is None and "## Evaluation results" in parsed.body

    record = read_run(run_dir)
    assert (record.state, record.step, record.attempts) == ("finished", 8, 1)
    assert record.best is not None and record.best.name == "accuracy"

    from transformers import pipeline

    classify = pipeline("text-classification", model=str(model_dir))
    assert classify("great fun")[0]["label"] in ("neg", "pos")

    # `hftui runs` lists it (in this process: it only reads the folder).
    listing = subprocess.run(
        [sys.executable, "-m", "hftui", "runs", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    (row,) = [json.loads(line) for line in listing.stdout.splitlines()]
    assert row["run_id"] == run_id and row["state"] == "finished" and row["best"]["name"] == "accuracy"


def test_a_detached_lora_run_saves_the_adapter_and_the_merged_model(
    tmp_path: Path, tiny_bert: Path, reap_runs: list[Path]
) -> None:
    data = write_jsonl(tmp_path / "reviews.jsonl", review_rows(64, seed=1))
    spec = small_spec(tiny_bert, data, lora=True).replace(
        lora=LoraSettings(r=4, alpha=8, dropout=0.0, merge=True), dataset=DatasetRef(str(data))
    )
    run_id = start_run(spec, tmp_path / "runs")
    run_dir = tmp_path / "runs" / run_id
    reap_runs.append(run_dir)
    # Two watchers at once, as two apps would: each sees every event, in the same order.
    follower, tail = RunFollower(run_dir), EventTail(run_dir / EVENTS_FILE)
    seen_follower: list[RunEvent] = []
    seen_tail: list[RunEvent] = []

    def watch(events: list[RunEvent]) -> bool:
        seen_follower.extend(follower.poll().events)
        seen_tail.extend(tail.read().events)
        return _finished(events)

    events = wait_for(run_dir, watch)
    assert events[-1].kind == "finished", events[-1]
    seen_follower.extend(follower.poll().events)
    seen_tail.extend(tail.read().events)
    assert [e.to_json() for e in seen_follower] == [e.to_json() for e in seen_tail] == [e.to_json() for e in events]
    assert follower.curves.points("loss") and follower.curves.points("eval_loss")

    started = next(event for event in events if event.kind == "started")
    assert started.get("target_modules") == ["query", "value"]
    assert 0 < started.get("trainable_params") < started.get("total_params")
    model_dir, merged_dir = run_dir / "model", run_dir / "merged"
    assert (model_dir / "adapter_config.json").is_file() and (model_dir / "adapter_model.safetensors").is_file()
    assert (merged_dir / "model.safetensors").is_file() and not (merged_dir / "adapter_config.json").exists()

    from huggingface_hub import ModelCard

    adapter_card = ModelCard.load(model_dir / "README.md").data.to_dict()
    assert adapter_card["library_name"] == "peft" and {"lora", "peft"} <= set(adapter_card["tags"])
    assert ModelCard.load(merged_dir / "README.md").data.to_dict()["library_name"] == "transformers"


def test_stop_then_resume_continues_from_the_checkpoint(
    tmp_path: Path, tiny_bert: Path, reviews: Path, reap_runs: list[Path]
) -> None:
    spec = small_spec(
        tiny_bert, reviews, max_steps=200, logging_steps=10, eval_strategy="no", save_strategy="no", learning_rate=1e-4
    )
    run_id = start_run(spec, tmp_path / "runs", check=False)
    run_dir = tmp_path / "runs" / run_id
    reap_runs.append(run_dir)
    wait_for(run_dir, has_kind("started", "failed"))
    assert run_state(run_dir).state == "running"
    assert request_stop(run_dir)
    events = wait_for(run_dir, has_kind("stopped", "finished", "failed"))
    stopped = events[-1]
    assert stopped.kind == "stopped", stopped
    assert stopped.get("reason") == "requested" and 0 < stopped.step < 200
    assert stopped.get("checkpoint") == str(run_dir / "checkpoints" / f"checkpoint-{stopped.step}")
    assert read_run(run_dir).state == "stopped"

    assert resume_run(run_dir) == 2
    events = wait_for(run_dir, lambda evs: count_kind("started", 2)(evs) and _finished(evs))
    assert events[-1].kind == "finished", events[-1]
    second = [event for event in events if event.kind == "started"][-1]
    assert second.get("resumed_from_step") == stopped.step
    logged = [event.step for event in events if event.kind == "log" and event.get("loss") is not None]
    assert logged == sorted(set(logged)) and logged[-1] == 200  # no step trained twice, none lost
    record = read_run(run_dir)
    assert (record.state, record.step, record.attempts) == ("finished", 200, 2)
    assert (run_dir / "model" / "README.md").is_file()
    with pytest.raises(RunError, match="has finished"):
        resume_run(run_dir)


def test_a_killed_run_is_detected_and_cannot_resume_without_a_checkpoint(
    tmp_path: Path, tiny_bert: Path, reviews: Path, reap_runs: list[Path]
) -> None:
    spec = small_spec(tiny_bert, reviews, max_steps=100_000, eval_strategy="no", save_strategy="no")
    run_id = start_run(spec, tmp_path / "runs", check=False)
    run_dir = tmp_path / "runs" / run_id
    reap_runs.append(run_dir)
    wait_for(run_dir, has_kind("started", "failed"))
    info = read_process_info(run_dir)
    assert info is not None
    os.killpg(info.pid, signal.SIGKILL)
    os.waitpid(info.pid, 0)
    state = run_state(run_dir)
    assert (state.state, state.reason) == ("failed", "killed")
    assert "without a final event" in (state.message or "")
    assert not request_stop(run_dir)
    with pytest.raises(RunError, match="no checkpoint"):
        resume_run(run_dir)


def test_a_spec_with_problems_is_refused_before_launch(tmp_path: Path, tiny_bert: Path, hftui_home: Path) -> None:
    spec = small_spec(tiny_bert, tmp_path / "missing.csv")
    spec_file = tmp_path / "spec.json"
    save_spec(spec, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "hftui", "train", str(spec_file)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "dataset.location" in result.stderr and "does not exist" in result.stderr
    assert not (hftui_home / "runs").exists()

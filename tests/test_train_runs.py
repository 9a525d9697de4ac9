"""Run folders on disk: states (killed detected), listing, ids, the lock, log tails, foreign Trainer folders."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hftui.train.events import EVENTS_FILE, RunEvent, append_event
from hftui.train.follow import RunFollower, TrainerOutputFollower
from hftui.train.foreign import is_trainer_output_dir, read_trainer_output
from hftui.train.process import LOCK_FILE, PROCESS_FILE, pid_alive, process_start_ticks, worker_lock_held
from hftui.train.runs import (
    RunNotFound,
    RunSummaryEvents,
    delete_run,
    derive_state,
    find_run,
    list_runs,
    read_log_tail,
    read_run,
)
from hftui.train.spec import DatasetRef, RunSpec, save_spec


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _make_run(root: Path, run_id: str, *, pid: int | None = None, ticks: int | None = None) -> Path:
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    save_spec(RunSpec("org/model", DatasetRef("data.csv")), run_dir)
    if pid is not None:
        record = {"pid": pid, "start_ticks": ticks, "attempt": 1, "launched_at": time.time()}
        (run_dir / PROCESS_FILE).write_text(json.dumps(record))
    return run_dir


def test_states_from_the_last_lifecycle_event() -> None:
    now = 1000.0
    started = RunEvent("started", 990.0, 0)
    assert derive_state(None, alive=False).state == "unknown"
    assert derive_state(None, alive=True).state == "starting"
    assert derive_state(started, alive=True).state == "running"
    failed = RunEvent("failed", 995.0, 4, {"reason": "nan_loss", "message": "NaN at step 4"})
    assert derive_state(failed, alive=False) == derive_state(failed, alive=True)
    assert derive_state(failed, alive=False).reason == "nan_loss"
    assert derive_state(RunEvent("stopped", 1.0, 3, {"reason": "requested"}), alive=False).state == "stopped"
    killed = derive_state(started, alive=False, now=now, last_step=7)
    assert (killed.state, killed.reason) == ("failed", "killed") and "step 7" in (killed.message or "")
    launched = RunEvent("launched", now - 1, None, {"attempt": 1})
    assert derive_state(launched, alive=False, now=now).state == "starting"  # process.json not written yet
    assert derive_state(launched, alive=False, now=now + 600).state == "failed"


def test_a_run_whose_process_is_gone_without_a_final_event_is_killed(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "20250101-000000-a", pid=_dead_pid())
    append_event(run_dir / EVENTS_FILE, "launched", None, attempt=1)
    append_event(run_dir / EVENTS_FILE, "started", 0, max_steps=10)
    append_event(run_dir / EVENTS_FILE, "progress", 4, max_steps=10)
    with (run_dir / EVENTS_FILE).open("ab") as handle:
        handle.write(b'{"event":"log","step":5,"lo')  # killed mid-write
    record = read_run(run_dir)
    assert (record.state, record.reason) == ("failed", "killed")
    assert record.step == 4 and record.max_steps == 10
    assert any("truncated" in warning for warning in record.warnings)


def test_pid_reuse_is_not_mistaken_for_the_run(tmp_path: Path) -> None:
    me = os.getpid()
    ticks = process_start_ticks(me)
    assert pid_alive(me, ticks)
    if ticks is not None:
        assert not pid_alive(me, ticks + 1)  # same pid, another start time: another process
    assert not pid_alive(_dead_pid())


def test_the_worker_lock_tells_a_live_worker(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "r")
    assert worker_lock_held(run_dir) is None
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        assert worker_lock_held(run_dir) is False
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert worker_lock_held(run_dir) is True
        append_event(run_dir / EVENTS_FILE, "started", 0)
        assert read_run(run_dir).state == "running"
        # Two readers at once: shared probes never block each other.
        assert worker_lock_held(run_dir) and worker_lock_held(run_dir)
    finally:
        os.close(fd)
    assert worker_lock_held(run_dir) is False
    assert read_run(run_dir).state == "failed"


def test_list_runs_newest_first_with_best_metric_and_duration(tmp_path: Path) -> None:
    old = _make_run(tmp_path, "20250101-000000-old")
    new = _make_run(tmp_path, "20250202-000000-new")
    (tmp_path / "stray-file").write_text("")
    for run_dir, accuracy in ((old, 0.5), (new, 0.9)):
        path = run_dir / EVENTS_FILE
        append_event(path, "launched", None, attempt=1)
        append_event(path, "started", 0, max_steps=4)
        append_event(path, "eval", 2, metrics={"eval_accuracy": accuracy - 0.1, "eval_loss": 0.5})
        append_event(path, "eval", 4, metrics={"eval_accuracy": accuracy, "eval_loss": 0.6})
        append_event(path, "finished", 4, metrics={"accuracy": accuracy}, model_dir=str(run_dir / "model"))
    records = list_runs(tmp_path)
    assert [r.run_id for r in records] == ["20250202-000000-new", "20250101-000000-old"]
    best = records[0].best
    assert best is not None and (best.name, best.value, best.step) == ("accuracy", 0.9, 4)
    assert records[0].state == "finished" and records[0].duration_s is not None and records[0].duration_s >= 0
    assert records[0].base_model == "org/model" and records[0].dataset == "data.csv"
    assert records[0].started != "-" and records[0].attempts == 1
    assert list_runs(tmp_path / "missing") == ()


def test_duration_counts_attempts_not_the_pause_between_them(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "r")
    lines = [
        ("started", 100.0),
        ("stopped", 110.0),
        ("started", 1000.0),
        ("finished", 1005.0),
    ]
    with (run_dir / EVENTS_FILE).open("w") as handle:
        for kind, moment in lines:
            handle.write(json.dumps({"event": kind, "time": moment, "step": 1}) + "\n")
    record = read_run(run_dir)
    assert record.duration_s == pytest.approx(15.0) and record.ended_at == 1005.0


def test_a_folder_without_spec_or_events_is_listed_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "spec.json").write_text("{not json")
    (record,) = list_runs(tmp_path)
    assert record.state == "unknown" and record.warnings


def test_find_run_by_id_prefix_or_path(tmp_path: Path) -> None:
    one = _make_run(tmp_path, "20250101-000000-alpha")
    _make_run(tmp_path, "20250101-000001-beta")
    assert find_run(tmp_path, "20250101-000000-alpha") == one
    assert find_run(tmp_path, "20250101-000000") == one
    assert find_run(tmp_path, str(one)) == one
    with pytest.raises(RunNotFound, match="matches 2 runs"):
        find_run(tmp_path, "20250101")
    with pytest.raises(RunNotFound):
        find_run(tmp_path, "nope")


def test_log_tail_and_delete(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "r")
    (run_dir / "train.log").write_text("".join(f"line {i}\n" for i in range(1000)))
    assert read_log_tail(run_dir, max_lines=3) == ["line 997", "line 998", "line 999"]
    assert read_log_tail(run_dir, max_bytes=30)[-1] == "line 999"
    assert read_log_tail(tmp_path / "missing") == []
    delete_run(run_dir)
    assert not run_dir.exists()


def test_follower_replays_a_run_then_follows_it(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "r")
    path = run_dir / EVENTS_FILE
    append_event(path, "launched", None, attempt=1)
    append_event(path, "started", 0, max_steps=100)
    for step in range(1, 51):
        append_event(path, "log", step, loss=1 / step)
    follower = RunFollower(run_dir, max_bytes=1024)
    polls = 0
    while True:
        update = follower.poll()
        polls += 1
        if not update.more:
            break
    assert polls > 1 and follower.event_count == 52
    assert len(follower.curves.series["loss"]) == 50
    append_event(path, "finished", 50)
    update = follower.poll()
    assert [e.kind for e in update.events] == ["finished"] and update.state.state == "finished"
    assert follower.latest["log"].step == 50


def _trainer_state(step: int, history: list[dict[str, object]], max_steps: int = 10) -> dict[str, object]:
    return {"global_step": step, "max_steps": max_steps, "epoch": step / max_steps, "log_history": history}


def test_a_foreign_trainer_output_dir_becomes_the_same_events(tmp_path: Path) -> None:
    out = tmp_path / "output"
    history = [
        {"loss": 0.9, "grad_norm": 1.0, "learning_rate": 1e-4, "epoch": 0.2, "step": 2},
        {"eval_loss": 0.8, "eval_accuracy": 0.7, "epoch": 0.4, "step": 4},
        {"loss": 0.7, "grad_norm": 0.5, "learning_rate": 5e-5, "epoch": 0.4, "step": 4},
    ]
    for step, upto in ((2, 1), (4, 3)):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        (out / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(_trainer_state(step, history[:upto])))
    assert is_trainer_output_dir(out) and not is_trainer_output_dir(tmp_path)
    run = read_trainer_output(out)
    assert run.global_step == 4 and run.max_steps == 10 and not run.finished
    assert [(e.kind, e.step) for e in run.events if e.kind in ("log", "eval")] == [("log", 2), ("eval", 4), ("log", 4)]
    assert [e.get("path") for e in run.events if e.kind == "checkpoint"] == [
        str(out / "checkpoint-2"),
        str(out / "checkpoint-4"),
    ]
    assert run.events[-1].kind == "progress" and run.events[-1].get("max_steps") == 10

    follower = TrainerOutputFollower(out)
    first, _ = follower.poll()
    assert sum(e.kind in ("log", "eval") for e in first) == 3
    assert follower.poll() == ((), ())  # nothing changed
    done = [*history, {"train_runtime": 3.0, "train_loss": 0.8, "epoch": 1.0, "step": 10}]
    (out / "trainer_state.json").write_text(json.dumps(_trainer_state(10, done)))
    new, _ = follower.poll()
    assert [e.kind for e in new if e.kind in ("log", "finished")] == ["log", "finished"]
    assert follower.finished and len(follower.curves.series["loss"]) == 2


def test_a_half_written_trainer_state_is_skipped_with_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "output"
    (out / "checkpoint-2").mkdir(parents=True)
    (out / "checkpoint-2" / "trainer_state.json").write_text(json.dumps(_trainer_state(2, [{"loss": 1.0, "step": 2}])))
    (out / "trainer_state.json").write_text('{"global_step": 4, "log_hist')
    run = read_trainer_output(out)
    assert run.global_step == 2 and run.warnings


def test_a_kept_summary_reads_only_what_was_appended_and_agrees_with_a_fresh_read(tmp_path: Path) -> None:
    run_dir = _make_run(tmp_path, "20250101-000000-live")
    path = run_dir / EVENTS_FILE
    append_event(path, "launched", None, attempt=1)
    append_event(path, "started", 0, max_steps=300)
    for step in range(1, 201):
        append_event(path, "log", step, loss=1.0 / step)
        append_event(path, "progress", step, max_steps=300)
        if step % 50 == 0:
            append_event(path, "eval", step, metrics={"eval_accuracy": step / 400})
    summary = RunSummaryEvents(run_dir)
    now = time.time()
    first = read_run(run_dir, now=now, summary=summary)
    assert first.step == 200 and first.max_steps == 300 and first.best is not None and first.best.value == 0.5
    # Only the newest progress event is kept, in its place among the others.
    assert sum(1 for e in summary.kept if e.kind == "progress") == 0 and summary.progress is not None
    read_so_far = summary.tail.offset

    append_event(path, "progress", 250, max_steps=300)
    append_event(path, "eval", 250, metrics={"eval_accuracy": 0.9})
    checkpoint = {"event": "checkpoint", "time": time.time(), "step": 250, "path": "checkpoints/checkpoint-250"}
    with path.open("a") as handle:  # append_event's own first argument is called path
        handle.write(json.dumps(checkpoint) + "\n")
    appended = path.stat().st_size - read_so_far
    again = read_run(run_dir, now=now, summary=summary)
    assert summary.tail.offset - read_so_far == appended  # the earlier 200 steps were not read again
    fresh = read_run(run_dir, now=now)
    assert again == fresh
    assert again.step == 250 and again.best is not None and (again.best.value, again.best.step) == (0.9, 250)
    assert again.last_checkpoint is not None and again.last_checkpoint.endswith("checkpoint-250")

    # A replaced (shorter) file starts the summary again.
    path.write_text("")
    append_event(path, "launched", None, attempt=1)
    append_event(path, "failed", None, reason="killed", message="gone")
    assert read_run(run_dir, now=now, summary=summary).step is None

"""The run recorder behind the TrainerCallback: progress and ETA, the stop request, NaN loss, failure wording."""

from __future__ import annotations

import errno
import math
from pathlib import Path

from hftui.train.callback import STOP_FILE, RunRecorder, event_callback
from hftui.train.events import EVENTS_FILE, EventWriter, read_all_events
from hftui.train.failures import WorkerContext, explain_failure


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _recorder(tmp_path: Path, clock: Clock) -> RunRecorder:
    return RunRecorder(EventWriter(tmp_path / EVENTS_FILE), tmp_path, samples_per_step=8, clock=clock)


def test_progress_is_throttled_and_has_an_eta(tmp_path: Path) -> None:
    clock = Clock()
    recorder = _recorder(tmp_path, clock)
    recorder.started_fields = {"trainable_params": 10, "total_params": 20}
    recorder.train_began(0, 100)
    for step in range(1, 101):
        clock.now = step * 0.1  # 10 steps a second
        assert recorder.step_ended(step, step / 50) is False
    events = read_all_events(tmp_path / EVENTS_FILE).events
    started = events[0]
    assert started.kind == "started" and started.get("max_steps") == 100 and started.get("trainable_params") == 10
    progress = [e for e in events if e.kind == "progress"]
    assert [e.step for e in progress] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert progress[4].number("eta_s") == 5.0 and progress[4].number("steps_per_s") == 10.0
    assert progress[4].number("samples_per_s") == 80.0 and progress[-1].number("eta_s") == 0.0


def test_a_stop_file_stops_at_the_next_step(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, Clock())
    recorder.train_began(0, 10)
    assert recorder.step_ended(1, None) is False
    (tmp_path / STOP_FILE).write_text("{}")
    assert recorder.step_ended(2, None) is True
    assert recorder.state.stop_reason == "requested"


def test_nan_loss_fails_the_run_with_its_step(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, Clock())
    recorder.train_began(0, 10)
    assert recorder.logged(3, {"loss": 0.5, "learning_rate": 1e-3}) is False
    assert recorder.logged(4, {"loss": math.nan, "learning_rate": 1e-3}) is True
    reason, message = recorder.state.failure or ("", "")
    assert reason == "nan_loss" and "NaN at step 4" in message
    log = read_all_events(tmp_path / EVENTS_FILE).events[-1]
    assert log.kind == "log" and log.get("loss") is None and log.get("nonfinite") == {"loss": "nan"}


def test_the_trainer_callback_sets_the_controls(tmp_path: Path) -> None:
    from transformers import TrainerControl, TrainerState, TrainingArguments

    recorder = _recorder(tmp_path, Clock())
    callback = event_callback(recorder)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True)
    state, control = TrainerState(max_steps=10), TrainerControl()
    callback.on_train_begin(args, state, control)
    state.global_step = 1
    callback.on_step_end(args, state, control)
    assert not control.should_training_stop
    (tmp_path / STOP_FILE).write_text("{}")
    state.global_step = 2
    callback.on_step_end(args, state, control)
    assert control.should_save and control.should_training_stop
    control = TrainerControl(should_save=True)
    callback.on_log(args, state, control, logs={"loss": math.inf})
    assert control.should_training_stop and not control.should_save
    callback.on_save(args, state, control)
    kinds = [e.kind for e in read_all_events(tmp_path / EVENTS_FILE).events]
    assert kinds[-1] == "checkpoint"


def test_failures_are_explained(tmp_path: Path) -> None:
    context = WorkerContext(phase="training", step=12)
    oom = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert explain_failure(oom, spec=None, run_dir=tmp_path, context=context)[0] == "oom"
    reason, message = explain_failure(
        OSError(errno.ENOSPC, "No space left on device"), spec=None, run_dir=tmp_path, context=context
    )
    assert reason == "disk_full" and "step 12" in message and "free under" in message
    wrapped = RuntimeError("Error while serializing: IoError(Os { code: 28, kind: StorageFull })")
    assert explain_failure(wrapped, spec=None, run_dir=tmp_path, context=context)[0] == "disk_full"
    reason, message = explain_failure(ValueError("bad"), spec=None, run_dir=tmp_path, context=context)
    assert (reason, message) == ("error", "ValueError while training at step 12: bad")

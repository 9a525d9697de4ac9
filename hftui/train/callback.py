"""The run's TrainerCallback: every log, evaluation, checkpoint and progress step as a line of events.jsonl.

`RunRecorder` holds the logic in plain Python (progress and ETA, the stop request, NaN detection) so it is
tested without transformers; `event_callback` wraps it in a `transformers.TrainerCallback`, built on first
use because this module must import without transformers.

A stop request is the `STOP` file in the run directory (or SIGTERM, through `request_stop`): the callback
sets `control.should_save` and `control.should_training_stop`, so the Trainer writes a checkpoint at the
step it is on and ends; `resume_run` continues from that checkpoint.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hftui.train.events import EventWriter

STOP_FILE = "STOP"
PROGRESS_INTERVAL_S = 1.0


@dataclass
class RecorderState:
    """What the recorder has seen of the attempt so far."""

    max_steps: int = 0
    first_step: int = 0
    began: float = 0.0
    last_progress: float = 0.0
    last_step: int = 0
    stop_reason: str | None = None
    failure: tuple[str, str] | None = None  # (reason, message)
    checkpoints: list[str] = field(default_factory=list)
    best: dict[str, float] = field(default_factory=dict)


class RunRecorder:
    """Turns Trainer callbacks into events; also decides when the run must stop (request, NaN loss)."""

    def __init__(
        self,
        writer: EventWriter,
        run_dir: Path,
        *,
        samples_per_step: int = 1,
        progress_interval: float = PROGRESS_INTERVAL_S,
        cuda_memory: Callable[[], dict[str, int]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.writer = writer
        self.stop_file = Path(run_dir) / STOP_FILE
        self._stop_path = str(self.stop_file)
        self.samples_per_step = max(1, samples_per_step)
        self.progress_interval = progress_interval
        self.cuda_memory = cuda_memory
        self.clock = clock
        self.state = RecorderState()
        self.signalled = False  # set from a SIGTERM handler
        # The worker's facts for the `started` event (spec, parameters, labels, device), written at train begin.
        self.started_fields: dict[str, Any] | None = None

    # --- the stop request -------------------------------------------------------------------------------

    def stop_requested(self) -> bool:
        """Whether a stop was asked for: the STOP file exists or the process got SIGTERM."""
        return self.signalled or os.path.exists(self._stop_path)

    # --- Trainer hooks, in plain values ----------------------------------------------------------------

    def train_began(self, step: int, max_steps: int) -> None:
        """Training (re)starts at `step` of `max_steps`."""
        now = self.clock()
        self.state.max_steps = max_steps
        self.state.first_step = step
        self.state.last_step = step
        self.state.began = now
        self.state.last_progress = now
        if self.started_fields is not None:
            self.writer.write("started", step, max_steps=max_steps, **self.started_fields)

    def step_ended(self, step: int, epoch: float | None) -> bool:
        """After an optimizer step; returns True when training must stop now (saving a checkpoint)."""
        self.state.last_step = step
        now = self.clock()
        if step >= self.state.max_steps or now - self.state.last_progress >= self.progress_interval:
            self.state.last_progress = now
            self.write_progress(step, epoch, now)
        if self.state.stop_reason is None and self.stop_requested():
            self.state.stop_reason = "signal" if self.signalled else "requested"
            return True
        return False

    def progress(self, step: int, epoch: float | None, now: float | None = None) -> dict[str, Any]:
        """The progress fields at `step`: elapsed time, pace and ETA of this attempt."""
        now = self.clock() if now is None else now
        done = step - self.state.first_step
        elapsed = max(0.0, now - self.state.began)
        rate = done / elapsed if done > 0 and elapsed > 0 else None
        remaining = max(0, self.state.max_steps - step)
        fields: dict[str, Any] = {
            "max_steps": self.state.max_steps,
            "epoch": _round(epoch),
            "elapsed_s": round(elapsed, 3),
            "steps_per_s": _round(rate),
            "samples_per_s": _round(rate * self.samples_per_step if rate else None),
            "eta_s": round(remaining / rate, 1) if rate else None,
        }
        if self.cuda_memory is not None:
            try:
                fields.update(self.cuda_memory())
            except Exception:  # a memory query must never stop training
                pass
        return fields

    def write_progress(self, step: int, epoch: float | None, now: float | None = None) -> None:
        """Append a progress event."""
        self.writer.write("progress", step, **self.progress(step, epoch, now))

    def logged(self, step: int, logs: Mapping[str, Any]) -> bool:
        """A Trainer log; returns True when the loss is NaN or infinite (the run must fail)."""
        if any(key.startswith("eval_") for key in logs):
            return False  # evaluations arrive through `evaluated`
        fields = {key: _plain(value) for key, value in logs.items()}
        self.writer.write("log", step, **fields)
        loss = logs.get("loss")
        if isinstance(loss, int | float) and not math.isfinite(loss) and self.state.failure is None:
            what = "NaN" if math.isnan(loss) else "infinite"
            self.state.failure = (
                "nan_loss",
                f"the training loss became {what} at step {step}: lower the learning rate, check the labels "
                "and inputs (in fp16, bf16 or fp32 may hold)",
            )
            return True
        return False

    def evaluated(self, step: int, epoch: float | None, metrics: Mapping[str, Any], *, final: bool = False) -> None:
        """An evaluation's metrics."""
        clean = {key: _plain(value) for key, value in metrics.items()}
        for key, value in clean.items():
            if isinstance(value, float) and math.isfinite(value):
                better = min if key.endswith("loss") else max
                self.state.best[key] = better(self.state.best.get(key, value), value)
        self.writer.write("eval", step, epoch=_round(epoch), metrics=clean, final=final)

    def saved(self, step: int, path: Path) -> None:
        """A checkpoint was written."""
        self.state.checkpoints.append(str(path))
        self.writer.write("checkpoint", step, path=str(path))


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _plain(value: Any) -> Any:
    """A log value as a JSON-friendly number (tensors and numpy scalars become floats)."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return str(value)
    return value


@cache
def _callback_class() -> type:
    from transformers import TrainerCallback

    class EventCallback(TrainerCallback):
        """Feeds a RunRecorder from the Trainer (main process only) and acts on its stop decisions."""

        def __init__(self, recorder: RunRecorder, *, world_size: int = 1) -> None:
            self.recorder = recorder
            self.world_size = world_size

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.recorder.train_began(state.global_step, state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            stop = self.recorder.step_ended(state.global_step, state.epoch) if state.is_world_process_zero else False
            if self.world_size > 1:
                stop = _agree(stop)
            if stop:
                control.should_save = True
                control.should_training_stop = True

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if not logs:
                return
            failed = self.recorder.logged(state.global_step, logs) if state.is_world_process_zero else False
            if not failed and "loss" in logs:
                # Every process sees the same gathered loss, so all of them stop at the same step.
                loss = logs["loss"]
                failed = isinstance(loss, float) and not math.isfinite(loss)
            if failed:
                control.should_training_stop = True
                control.should_save = False

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
            if metrics and state.is_world_process_zero:
                self.recorder.evaluated(state.global_step, state.epoch, metrics)

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                self.recorder.saved(state.global_step, Path(args.output_dir) / f"checkpoint-{state.global_step}")

    return EventCallback


def _agree(stop: bool) -> bool:
    """With several processes, stop when any of them must (one tiny all-reduce per step)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return stop
    device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    flag = torch.tensor([1 if stop else 0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def event_callback(recorder: RunRecorder, *, world_size: int = 1) -> Any:
    """A `transformers.TrainerCallback` that records the run through `recorder`."""
    return _callback_class()(recorder, world_size=world_size)

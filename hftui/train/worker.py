"""The process of one run: `python -m hftui.train.worker RUN_DIR [--resume]`.

It takes the run's lock, makes its output plain lines for train.log, turns SIGTERM/SIGINT into a graceful
stop, reads spec.json and hands the run to `trainer.train_run` (the dataset with string labels mapped to ids,
the model plus a LoRA adapter through PEFT when asked, the transformers Trainer), recording everything in
events.jsonl through the event callback. Every way it can end is an event: `finished` (with the final metrics,
the saved model and its card), `stopped` (a stop request; a checkpoint was saved) or `failed` with a reason
(`failures.py`): nan_loss, oom, disk_full, bad_input, or error.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hftui.train.callback import RunRecorder
from hftui.train.events import EVENTS_FILE, EventWriter
from hftui.train.failures import WorkerContext, explain_failure
from hftui.train.process import LOCK_FILE
from hftui.train.spec import RunSpec, load_spec
from hftui.train.trainer import train_run


class _NoWriter:
    """The events writer of a non-main process under accelerate: only process 0 records."""

    def write(self, kind: str, step: int | None = None, **fields: Any) -> None:
        return None

    def sync(self) -> None:
        return None

    def close(self) -> None:
        return None


def run_worker(
    run_dir: Path, *, resume: bool = False, recorder_hook: Callable[[RunRecorder], None] | None = None
) -> int:
    """Run one attempt of the run in this process; every outcome is written to events.jsonl. Returns 0 or 1."""
    run_dir = Path(run_dir).resolve()
    main_process = int(os.environ.get("RANK", "0")) == 0
    writer: Any = EventWriter(run_dir / EVENTS_FILE) if main_process else _NoWriter()
    context = WorkerContext()
    recorder = RunRecorder(writer, run_dir)
    recorder.started_fields = None
    if recorder_hook is not None:
        recorder_hook(recorder)
    spec: RunSpec | None = None
    try:
        spec = load_spec(run_dir)
        return train_run(run_dir, spec, writer, recorder, context, resume=resume)
    except KeyboardInterrupt:
        writer.write("stopped", context.step, reason="signal", message=f"interrupted while {context.phase}")
        return 1
    except BaseException as error:  # every failure must become the run's final event
        context.step = recorder.state.last_step or context.step
        reason, message = explain_failure(error, spec=spec, run_dir=run_dir, context=context)
        traceback.print_exc()
        try:
            writer.write("failed", context.step, reason=reason, message=message, error=type(error).__name__)
        except OSError:
            # The disk may be too full even for one line; say it where it can still be seen.
            print(f"hftui: run failed ({reason}): {message}", file=sys.stderr)
        return 1
    finally:
        writer.sync()
        writer.close()


def _take_lock(run_dir: Path, wait_s: float = 3.0) -> int | None:
    """The run's exclusive lock (held until this process ends), or None when another worker holds it."""
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # A reader's shared lock lasts microseconds; another worker's lasts until it ends.
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class PlainLog(io.TextIOBase):
    """A stdout/stderr for train.log: colour codes dropped, carriage returns made newlines, so grep finds lines."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        plain = _TERMINAL_CODES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        self.stream.write(plain)
        if "\n" in plain:
            # Watchers tail train.log: a finished line reaches the file now, whatever buffering the stream has
            # (PYTHONUNBUFFERED is set by hftui's launcher, not by accelerate launch or a user's own command).
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self.stream.fileno())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the run process."""
    # Before transformers is imported, so its log handler writes through the filter too.
    sys.stdout = PlainLog(sys.stdout)
    sys.stderr = PlainLog(sys.stderr)
    parser = argparse.ArgumentParser(prog="python -m hftui.train.worker", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    args = parser.parse_args(argv)
    run_dir = args.run_dir.resolve()
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process and _take_lock(run_dir) is None:
        print(f"hftui: another worker is running {run_dir.name}; not starting a second one", file=sys.stderr)
        return 3
    recorders: list[RunRecorder] = []

    def stop_gracefully(signum: int, frame: Any) -> None:
        # The Trainer checks at the next step end; a second signal interrupts at once.
        if any(r.signalled for r in recorders):
            raise KeyboardInterrupt
        for recorder in recorders:
            recorder.signalled = True

    signal.signal(signal.SIGTERM, stop_gracefully)
    signal.signal(signal.SIGINT, stop_gracefully)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return run_worker(run_dir, resume=args.resume, recorder_hook=recorders.append)


if __name__ == "__main__":
    sys.exit(main())

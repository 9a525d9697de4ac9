"""Starting, stopping and resuming runs as processes detached from whoever launched them.

A run is `python -m hftui.train.worker RUN_DIR` (or `accelerate launch --num_processes N -m ...`) in a new
session, with its output going to the run's train.log and no terminal: closing the app, the shell or the SSH
connection does not stop it. The launcher writes `spec.json`, a `launched` event and `process.json`, and
returns at once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from hftui.atomic_write import write_text_atomically
from hftui.train.callback import STOP_FILE
from hftui.train.events import EVENTS_FILE, append_event
from hftui.train.process import PROCESS_FILE, process_start_ticks, read_process_info, worker_alive
from hftui.train.runs import LOG_FILE, checkpoints_of, run_state
from hftui.train.spec import RunSpec, load_spec, resolve_paths, save_spec
from hftui.train.validate import SpecProblem, errors_of, validate

_LAUNCHED: list[subprocess.Popen[bytes]] = []


class RunError(RuntimeError):
    """A run cannot be started, resumed or stopped as asked."""


class SpecInvalid(RunError):
    """The spec has problems that block a launch; `problems` lists them."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def _slug(text: str) -> str:
    name = Path(text.rstrip("/")).name or text
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "run"


def new_run_id(spec: RunSpec, *, moment: float | None = None) -> str:
    """A run id that sorts by launch time: `20250101-120000-tiny-bert-sentiment-3fa1`."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if moment is None else moment))
    return f"{stamp}-{_slug(spec.name or spec.base_model)}-{secrets.token_hex(2)}"


def worker_command(run_dir: Path, num_processes: int = 1, *, resume: bool = False) -> list[str]:
    """The command line of a run's process: the worker itself, or accelerate launching N of them."""
    tail = [str(run_dir)] + (["--resume"] if resume else [])
    if num_processes > 1:
        return [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--num_processes",
            str(num_processes),
            "-m",
            "hftui.train.worker",
            *tail,
        ]
    return [sys.executable, "-m", "hftui.train.worker", *tail]


def worker_environment() -> dict[str, str]:
    """The run's environment: the caller's, with progress bars off (the log stays plain lines) and hftui importable."""
    env = dict(os.environ)
    env.update(
        {
            "TQDM_DISABLE": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
            "PYTHONUNBUFFERED": "1",
            "TOKENIZERS_PARALLELISM": env.get("TOKENIZERS_PARALLELISM", "false"),
        }
    )
    package_parent = str(Path(__file__).resolve().parents[2])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
    return env


def _spawn(run_dir: Path, spec: RunSpec, *, resume: bool) -> int:
    """Write the `launched` event, start the detached process, record its pid; returns the attempt number."""
    info = read_process_info(run_dir)
    attempt = (info.attempt + 1) if info is not None else 1
    command = worker_command(run_dir, spec.num_processes, resume=resume)
    append_event(run_dir / EVENTS_FILE, "launched", None, attempt=attempt, resume=resume, argv=command)
    with open(run_dir / LOG_FILE, "ab") as log:
        log.write(f"\n=== attempt {attempt} ({'resume' if resume else 'start'}) {time.ctime()} ===\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=worker_environment(),
            start_new_session=True,  # no controlling terminal: a closed terminal or SSH session does not hang it up
            close_fds=True,
        )
    record = {
        "pid": process.pid,
        "start_ticks": process_start_ticks(process.pid),
        "attempt": attempt,
        "launched_at": time.time(),
        "argv": command,
    }
    write_text_atomically(run_dir / PROCESS_FILE, json.dumps(record, indent=2) + "\n")
    # Kept so the child is not reported as leaked; the run outlives us, and `pid_alive` reaps it if it ends first.
    _LAUNCHED.append(process)
    return attempt


def start_run(
    spec: RunSpec,
    root: Path | None = None,
    *,
    run_id: str | None = None,
    check: bool = True,
) -> str:
    """Validate the spec, create `root/<id>/` and start the run detached; returns the run id.

    Relative paths in the spec are taken from the current directory (see `resolve_paths`).

    Raises SpecInvalid when validation finds an error (warnings do not block). `check=False` skips the
    checks that read the dataset and the model (the worker fails the run with the same messages).
    """
    if root is None:
        from hftui.paths import runs_dir

        root = runs_dir()
    spec = resolve_paths(spec, Path.cwd())
    problems = validate(spec, check_sources=check)
    if errors_of(problems):
        raise SpecInvalid(errors_of(problems))
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id(spec)
    run_dir = root / run_id
    run_dir.mkdir()
    save_spec(spec, run_dir)
    _spawn(run_dir, spec, resume=False)
    return run_id


def resume_run(run_dir: Path) -> int:
    """Start the run again from its last checkpoint (stopped, or failed/killed with a checkpoint).

    Returns the attempt number; raises RunError when it runs, has finished, or has no checkpoint.
    """
    run_dir = Path(run_dir)
    state = run_state(run_dir)
    if state.state in ("starting", "running"):
        raise RunError(f"run {run_dir.name} is {state.state}; nothing to resume")
    if state.state == "finished":
        raise RunError(f"run {run_dir.name} has finished; start a new run to train further")
    if not checkpoints_of(run_dir):
        raise RunError(f"run {run_dir.name} has no checkpoint to resume from; start it again as a new run")
    spec = load_spec(run_dir)
    try:
        (run_dir / STOP_FILE).unlink()
    except FileNotFoundError:
        pass
    return _spawn(run_dir, spec, resume=True)


def request_stop(run_dir: Path) -> bool:
    """Ask a run to stop gracefully (it saves a checkpoint at the step it is on, then ends).

    Writes the STOP file the run's callback checks at every step; returns False when the run is not live.
    """
    run_dir = Path(run_dir)
    if not worker_alive(run_dir):
        return False
    (run_dir / STOP_FILE).write_text(json.dumps({"requested_at": time.time(), "by_pid": os.getpid()}) + "\n")
    return True


def kill_run(run_dir: Path, sig: int = signal.SIGTERM) -> bool:
    """Send a signal to the run's whole process group (SIGTERM makes the worker stop as for a STOP file)."""
    info = read_process_info(Path(run_dir))
    if info is None or not worker_alive(Path(run_dir), info):
        return False
    try:
        os.killpg(info.pid, sig)
    except ProcessLookupError:
        return False
    return True

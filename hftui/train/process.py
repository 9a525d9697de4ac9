"""Whether a run's worker is alive: its lock, the process of its latest launch (process.json), and that pid.

The worker holds `worker.lock` exclusively while it runs; before it takes the lock (or where the lock cannot
tell), the pid in process.json counts, checked against its start time so that a reused pid is not mistaken
for the run. Reading never writes to the run and never blocks.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

PROCESS_FILE = "process.json"
LOCK_FILE = "worker.lock"


@dataclass(frozen=True)
class ProcessInfo:
    """The process of a run's latest launch: pid, its start time in clock ticks (against pid reuse), attempt."""

    pid: int
    start_ticks: int | None
    attempt: int
    launched_at: float
    argv: tuple[str, ...] = ()


def process_start_ticks(pid: int) -> int | None:
    """The start time of a process in clock ticks since boot (Linux /proc), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; fields after the last ')' are fixed.
    rest = stat.rsplit(")", 1)[-1].split()
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return None


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    rest = stat.rsplit(")", 1)[-1].split()
    return bool(rest) and rest[0] in ("Z", "X")


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Whether process `pid` runs (and is the same process: its start time matches `start_ticks`)."""
    if pid <= 0:
        return False
    if start_ticks is not None:
        now_ticks = process_start_ticks(pid)
        if now_ticks is not None and now_ticks != start_ticks:
            return False  # the pid was reused by another process (checked first: never reap someone else's child)
    try:
        # Our own finished child stays a zombie until reaped, and a zombie answers kill(0).
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, someone else's
    return not _zombie(pid)


def worker_lock_held(run_dir: Path) -> bool | None:
    """Whether a live worker holds the run's lock (None: no lock file, so nobody ever took it)."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    try:
        # A shared lock never conflicts with another reader's, only with the worker's exclusive one.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        return error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_process_info(run_dir: Path) -> ProcessInfo | None:
    """process.json of a run, or None when missing or unreadable."""
    try:
        data = json.loads((Path(run_dir) / PROCESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    ticks = data.get("start_ticks")
    return ProcessInfo(
        pid=data["pid"],
        start_ticks=ticks if isinstance(ticks, int) else None,
        attempt=int(data.get("attempt") or 1),
        launched_at=float(data.get("launched_at") or 0.0),
        argv=tuple(str(a) for a in data.get("argv") or ()),
    )


def worker_alive(run_dir: Path, process: ProcessInfo | None = None) -> bool:
    """Whether the run's worker (or its launcher, before the worker locks) is still running."""
    if worker_lock_held(run_dir):
        return True
    process = process if process is not None else read_process_info(run_dir)
    return process is not None and pid_alive(process.pid, process.start_ticks)

"""Waiting for a watched folder to change: file change notifications (watchfiles) where the filesystem gives
them, else a plain timed wait, so a follower is polled as soon as something is written instead of on a timer.

`FolderChanges.wait()` blocks until the folder (or anything under it) changes, a timeout, or the stop event is
set. With notifications the timeout is a slow safety poll (SAFETY_POLL_S), so a change the notifications
missed is still read; without them (watchfiles missing or failing to start, a network or FUSE filesystem
whose changes made elsewhere are never notified, or HFTUI_WATCH_POLLING=1 in the environment) it is the
caller's poll interval, which is how watching worked before. Bursts of changes within DEBOUNCE_MS wake the
waiter once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

# Set to 1 (or anything but 0/empty) to watch by polling only: the bench compares both, and it is the way
# out should notifications misbehave somewhere.
POLLING_ENV = "HFTUI_WATCH_POLLING"
SAFETY_POLL_S = 1.0
# A change is reported once nothing more arrived for STEP_MS, and after at most DEBOUNCE_MS of a burst.
STEP_MS = 10
DEBOUNCE_MS = 40
# Filesystems where a change made on another machine raises no notification here: poll them.
REMOTE_FILESYSTEMS = (
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "afs",
    "sshfs",
    "fuse",
    "ceph",
    "glusterfs",
    "lustre",
)

Woke = Literal["changed", "timeout", "stopped"]


def polling_forced() -> bool:
    """Whether the environment asks for polling instead of notifications."""
    return os.environ.get(POLLING_ENV, "").strip() not in ("", "0")


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding `path` (Linux /proc/self/mounts), None where it cannot be told."""
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
        target = os.path.realpath(path)
    except OSError:
        return None
    best, kind = "", None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def notifications_reliable(path: Path) -> bool:
    """Whether change notifications can be trusted for `path` (not a network or FUSE filesystem)."""
    kind = filesystem_type(path)
    return kind is None or not kind.lower().startswith(REMOTE_FILESYSTEMS)


def _start_notifications(folder: Path) -> Any:
    """A started watchfiles notifier on `folder` (raises ImportError or OSError when there is none)."""
    from watchfiles._rust_notify import RustNotify

    return RustNotify([str(folder)], False, False, 50, True, True)


class FolderChanges:
    """Wakes a follower when its folder changes: notifications with a slow safety poll, else plain polling."""

    def __init__(
        self,
        folder: Path,
        *,
        poll_s: float,
        stop: threading.Event | None = None,
        notifications: bool | None = None,
        safety_s: float = SAFETY_POLL_S,
    ) -> None:
        self.folder = Path(folder)
        self.poll_s = poll_s
        self.safety_s = max(safety_s, poll_s)
        self.stop = stop if stop is not None else threading.Event()
        self._closed = threading.Event()
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None
        # Why notifications are off, for the bench and the curious; None while they are on.
        self.polling_reason: str | None = None
        if notifications is None:
            notifications = not polling_forced()
            if not notifications:
                self.polling_reason = f"{POLLING_ENV} is set"
            elif not notifications_reliable(self.folder):
                notifications = False
                self.polling_reason = f"{filesystem_type(self.folder)} filesystem"
        elif not notifications:
            self.polling_reason = "asked for polling"
        if notifications:
            self._start()

    @property
    def mode(self) -> str:
        """notifications or polling."""
        return "polling" if self.polling_reason is not None else "notifications"

    def _start(self) -> None:
        try:
            # Registered here, before the caller's first poll, so nothing written after that poll is missed.
            notify = _start_notifications(self.folder)
        except Exception as error:  # ImportError, OSError (watch limit reached), anything the backend raises
            self.polling_reason = f"no notifications: {error or type(error).__name__}"
            return
        self._thread = threading.Thread(target=self._listen, args=(notify,), name="folder-changes", daemon=True)
        self._thread.start()

    def _listen(self, notify: Any) -> None:
        """The notifier's thread: sets the changed flag on each batch until stopped or closed."""
        either = _Either(self.stop, self._closed)
        try:
            while not either.is_set():
                result = notify.watch(DEBOUNCE_MS, STEP_MS, 0, either)
                if isinstance(result, set):
                    self._changed.set()
                elif result == "stop":
                    break
        except Exception as error:  # the folder went away, the backend failed: carry on by polling
            self.polling_reason = f"notifications failed: {error or type(error).__name__}"
        finally:
            try:
                notify.close()
            except Exception:
                pass
            # Wakes a waiter: it stops, or (notifications failed) goes on polling.
            self._changed.set()

    def wait(self) -> Woke:
        """Block until the folder changes, the safety poll (polling: the poll interval) is due, or stop is set."""
        if self.stop.is_set():
            return "stopped"
        if self.polling_reason is not None:
            return "stopped" if self.stop.wait(self.poll_s) else "timeout"
        changed = self._changed.wait(self.safety_s)
        # Cleared before the caller polls: a change after this sets it again, one before it is read by the poll.
        self._changed.clear()
        if self.stop.is_set():
            return "stopped"
        return "changed" if changed and self.polling_reason is None else "timeout"

    def close(self) -> None:
        """Stop listening (the notifier's thread ends within a step)."""
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def __enter__(self) -> FolderChanges:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class _Either:
    """Set when either event is: the notifier's stop event, ending on the caller's stop or on close."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()

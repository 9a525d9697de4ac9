"""The wait for a run folder to change: wakes on an append and on a new file, falls back to polling, ends on stop."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from hftui.train import folder_changes
from hftui.train.events import EVENTS_FILE, encode_event
from hftui.train.folder_changes import POLLING_ENV, FolderChanges
from hftui.train.follow import RunFollower
from hftui.train.process import LOCK_FILE
from hftui.train.watch import follow_to_end

# Only a bound so a broken wait cannot hang the suite; the waits below return long before it.
LONG_S = 30.0


def wait_for(changes: FolderChanges) -> str:
    """The first wake that is not the safety poll (a change, or the stop)."""
    while True:
        woke = changes.wait()
        if woke != "timeout":
            return woke


def write_soon(action: object) -> threading.Thread:
    """Run `action` on a thread once the caller starts waiting (a change made while it waits)."""
    thread = threading.Thread(target=action, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_wait_returns_on_append(tmp_path: Path) -> None:
    events = tmp_path / EVENTS_FILE
    events.write_bytes(encode_event("launched", None, {"attempt": 1}))
    with FolderChanges(tmp_path, poll_s=0.2, safety_s=LONG_S, notifications=True) as changes:
        assert changes.mode == "notifications"

        def append() -> None:
            with open(events, "ab") as handle:
                handle.write(encode_event("log", 1, {"loss": 1.0}))

        write_soon(append).join()
        assert wait_for(changes) == "changed"


def test_wait_returns_on_a_new_file(tmp_path: Path) -> None:
    with FolderChanges(tmp_path, poll_s=0.2, safety_s=LONG_S, notifications=True) as changes:
        write_soon(lambda: (tmp_path / EVENTS_FILE).write_bytes(encode_event("launched", None, {}))).join()
        assert wait_for(changes) == "changed"


def test_falls_back_to_polling_when_notifications_cannot_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_notifications(folder: Path) -> object:
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr(folder_changes, "_start_notifications", no_notifications)
    changes = FolderChanges(tmp_path, poll_s=0.01, notifications=True)
    assert changes.mode == "polling"
    assert "watch limit" in (changes.polling_reason or "")
    assert changes.wait() == "timeout"
    changes.close()


def test_polling_when_the_environment_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POLLING_ENV, "1")
    with FolderChanges(tmp_path, poll_s=0.01) as changes:
        assert changes.mode == "polling"
        assert changes.wait() == "timeout"


def test_remote_filesystems_are_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folder_changes, "filesystem_type", lambda path: "nfs4")
    with FolderChanges(tmp_path, poll_s=0.01) as changes:
        assert changes.mode == "polling"
        assert "nfs4" in (changes.polling_reason or "")


@pytest.mark.parametrize("notifications", [True, False])
def test_stop_ends_the_wait(tmp_path: Path, notifications: bool) -> None:
    stop = threading.Event()
    with FolderChanges(tmp_path, poll_s=LONG_S, safety_s=LONG_S, stop=stop, notifications=notifications) as changes:
        write_soon(stop.set)
        assert changes.wait() == "stopped"


def test_follow_to_end_reads_what_the_wait_woke_for(tmp_path: Path) -> None:
    events = tmp_path / EVENTS_FILE
    events.write_bytes(encode_event("launched", None, {"attempt": 1}) + encode_event("started", 0, {}))
    lock = os.open(tmp_path / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # the run counts as running while this test holds its lock, as a worker does
    follower = RunFollower(tmp_path)
    with FolderChanges(tmp_path, poll_s=0.01, notifications=False) as changes:
        updates = follow_to_end(follower, changes=changes)
        first = next(updates)
        assert [e.kind for e in first.events] == ["launched", "started"]
        with open(events, "ab") as handle:
            handle.write(encode_event("finished", 1, {"message": "done"}))
        kinds = [e.kind for update in updates for e in update.events]
    os.close(lock)
    assert kinds == ["finished"]

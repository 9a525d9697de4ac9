"""events.jsonl: written one line per event, read incrementally, corrupt or unfinished lines never crash a reader."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hftui.train.events import (
    EventTail,
    EventWriter,
    append_event,
    encode_event,
    read_all_events,
    read_events_since,
)


def _append(path: Path, raw: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(raw)


def test_written_lines_read_back_with_kind_step_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventWriter(path) as writer:
        writer.write("log", 3, loss=0.5, learning_rate=1e-4, epoch=0.25)
        writer.write("eval", 4, metrics={"eval_loss": 0.4})
    lines = path.read_bytes().splitlines()
    assert lines[0].startswith(b'{"event":"log","time":')
    events = read_all_events(path).events
    assert [(e.kind, e.step) for e in events] == [("log", 3), ("eval", 4)]
    assert events[0].number("loss") == 0.5 and events[0].get("epoch") == 0.25
    assert events[1].get("metrics") == {"eval_loss": 0.4}
    assert events[0].time > 0


def test_non_finite_numbers_become_null_and_are_named(tmp_path: Path) -> None:
    line = encode_event("log", 7, {"loss": math.nan, "grad_norm": math.inf, "lr": 1.0})
    decoded = json.loads(line)  # strict JSON: no NaN literal
    assert decoded["loss"] is None and decoded["grad_norm"] is None
    assert decoded["nonfinite"] == {"loss": "nan", "grad_norm": "inf"}
    assert b"NaN" not in line and b"Infinity" not in line


def test_tail_returns_only_new_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read().events == ()  # no file yet: nothing, no error
    append_event(path, "started", 0, max_steps=10)
    first = tail.read()
    assert [e.kind for e in first.events] == ["started"]
    assert tail.read().events == ()
    # Half a line: the writer may be in the middle of it, so it waits for the rest.
    _append(path, b'{"event":"log","time":1,"step":1,"lo')
    assert tail.read().events == ()
    _append(path, b'ss":0.7}\n')
    second = tail.read()
    assert [(e.kind, e.number("loss")) for e in second.events] == [("log", 0.7)]
    assert second.offset == path.stat().st_size


def test_corrupt_lines_are_skipped_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_event(path, "started", 0)
    _append(path, b'{"event":"log","step":1,"loss":\n')  # truncated JSON
    _append(path, b"[1, 2, 3]\n")  # JSON but not an event
    _append(path, b"\xff\xfe garbage\n")
    append_event(path, "log", 2, loss=0.5)
    batch = EventTail(path).read()
    assert [(e.kind, e.step) for e in batch.events] == [("started", 0), ("log", 2)]
    assert len(batch.warnings) == 3
    assert batch.warnings[0].startswith("line 2:") and "corrupt" in batch.warnings[0]
    assert batch.warnings[1].startswith("line 3:") and "not an event" in batch.warnings[1]


def test_a_dead_writers_unfinished_line_is_reported_once_final(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_event(path, "started", 0)
    _append(path, b'{"event":"log","step":5,"loss":0.')
    live = read_events_since(path, 0)
    assert [e.kind for e in live.events] == ["started"] and not live.warnings
    final = read_events_since(path, live.offset, final=True, start_line=2)
    assert final.events == () and final.offset == path.stat().st_size
    assert final.warnings and "truncated" in final.warnings[0] and final.warnings[0].startswith("line 2:")


def test_a_new_writer_ends_the_dangling_line_so_its_events_are_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_event(path, "started", 0)
    _append(path, b'{"event":"log","step":5,"lo')  # a killed worker's last write
    append_event(path, "launched", None, attempt=2)  # the next attempt appends after it
    batch = read_all_events(path)
    assert [e.kind for e in batch.events] == ["started", "launched"]
    assert len(batch.warnings) == 1


def test_a_file_that_shrank_is_read_again_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    for step in range(5):
        append_event(path, "log", step, loss=1.0)
    tail = EventTail(path)
    assert len(tail.read().events) == 5
    path.write_bytes(b"")
    append_event(path, "started", 0)
    batch = tail.read()
    assert batch.restarted and [e.kind for e in batch.events] == ["started"]
    assert tail.lines_read == 1


def test_kinds_filter_skips_other_lines_without_decoding_them(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_event(path, "log", 1, loss=1.0)
    append_event(path, "eval", 1, metrics={})
    _append(path, b'{"event":"log", broken\n')  # a log line: skipped undecoded, so no warning
    append_event(path, "finished", 1)
    batch = read_all_events(path, kinds=("eval", "finished"))
    assert [e.kind for e in batch.events] == ["eval", "finished"]
    assert batch.warnings == ()


def test_slices_of_max_bytes_read_a_big_file_in_pieces(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventWriter(path) as writer:
        for step in range(1000):
            writer.write("log", step, loss=step / 1000)
    tail = EventTail(path, max_bytes=4096)
    steps: list[int | None] = []
    reads = 0
    while True:
        batch = tail.read()
        steps += [e.step for e in batch.events]
        reads += 1
        if not tail.more:
            break
    assert steps == list(range(1000)) and reads > 5
    assert tail.lines_read == 1000


def test_a_line_longer_than_max_bytes_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    append_event(path, "note", None, message="x" * 10_000)
    append_event(path, "log", 1)
    batch = read_events_since(path, 0, max_bytes=100)
    assert [e.kind for e in batch.events] == ["note"]
    assert [e.kind for e in read_events_since(path, batch.offset, max_bytes=100).events] == ["log"]


def test_two_readers_of_one_file_see_the_same_events(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    one, two = EventTail(path), EventTail(path)
    with EventWriter(path) as writer:
        seen_one, seen_two = [], []
        for step in range(20):
            writer.write("log", step, loss=1.0)
            seen_one += one.read().events
            if step % 3 == 0:
                seen_two += two.read().events
        seen_two += two.read().events
    assert [e.step for e in seen_one] == [e.step for e in seen_two] == list(range(20))


def test_unreadable_file_gives_a_warning_not_an_exception(tmp_path: Path) -> None:
    folder = tmp_path / "events.jsonl"
    folder.mkdir()  # reading a directory fails with IsADirectoryError
    batch = read_events_since(folder, 0)
    assert batch.events == () and batch.warnings


def test_a_folder_named_events_jsonl_is_no_events_and_no_more_to_read(tmp_path: Path) -> None:
    # A folder's size is its directory entry's (4096): `more` said yes for ever and `hftui runs watch` spun.
    from hftui.train.events import EventTail

    (tmp_path / "events.jsonl").mkdir()
    tail = EventTail(tmp_path / "events.jsonl")
    assert tail.read().events == ()
    assert tail.more is False

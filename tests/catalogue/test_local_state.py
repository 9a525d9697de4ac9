"""Catalogue: hftui's own files on disk, damaged: the index, a run's events.jsonl, settings and screen state,
the stored token files. Each opens with what can be kept and says what was set aside; none stops the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hftui.hub.index import ModelRecord, RepoIndex
from hftui.preferences import Preferences, load_preferences, read_screen_state
from hftui.train.events import read_all_events

INDEX_DAMAGE = {
    "garbage": b"this is not a database\n" * 50,
    "empty": b"",
    "nul": b"\x00" * 8192,
    "truncated-sqlite": b"SQLite format 3\x00" + b"\x10\x00\x02\x02" + b"\x00" * 80,
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
}


@pytest.mark.parametrize("damage", INDEX_DAMAGE, ids=str)
def test_corrupt_index_is_moved_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "index" / "models.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(INDEX_DAMAGE[damage])
    index = RepoIndex(path)
    with index:
        index.upsert([ModelRecord(repo_id="a/b")])
        assert index.get("a/b") is not None and len(index) == 1
    kept = [p for p in path.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    if damage == "empty":
        assert index.rebuilt_reason is None or kept  # an empty file is a new database to SQLite
    else:
        assert index.rebuilt_reason, "the user is told the index was rebuilt"
        assert [p.read_bytes() for p in kept] == [INDEX_DAMAGE[damage]], "the damaged file is kept for a look"


GOOD_EVENT = {"event": "log", "time": 1.0, "step": 1, "loss": 0.5}
BAD_LINES = {
    "garbage": b"not json at all",
    "truncated": b'{"event": "log", "step": 2, "lo',
    "non-utf8": b'{"event": "log", "note": "\xff\xfe"}',
    "nul": b'{"event": "log"\x00, "step": 3}',
    "array": b"[1, 2, 3]",
    "no-kind": b'{"step": 4}',
    "huge": b'{"event": "log", "x": "' + b"y" * 5_000_000,
}


@pytest.mark.parametrize("bad", BAD_LINES, ids=str)
def test_corrupt_events_line_is_skipped_counted_and_named(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "events.jsonl"
    good = json.dumps(GOOD_EVENT).encode()
    path.write_bytes(good + b"\n" + BAD_LINES[bad] + b"\n" + good + b"\n")
    batch = read_all_events(path)
    assert len(batch.events) == 2, "the good events around the bad line are kept"
    assert len(batch.warnings) == 1 and batch.warnings[0].startswith("line 2: skipped")
    assert len(batch.warnings[0]) < 1000, "a huge line is not copied whole into the message"


def test_events_file_cut_mid_line_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps(GOOD_EVENT).encode() + b'\n{"event": "log", "st')
    batch = read_all_events(path)
    assert len(batch.events) == 1
    assert [w.split(":")[0] for w in batch.warnings] == ["line 2"]


SETTINGS_DAMAGE = {
    "garbage": b"{theme: dark",
    "empty": b"",
    "non-utf8": b'{"theme": "\xff"}',
    "list": b"[1, 2]",
    "wrong-types": b'{"theme": 7, "keymap": ["q"]}',
    "nul": b"\x00\x00\x00",
}


@pytest.mark.parametrize("damage", SETTINGS_DAMAGE, ids=str)
def test_corrupt_settings_give_the_defaults(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(SETTINGS_DAMAGE[damage])
    assert load_preferences(path) == Preferences()
    assert path.read_bytes() == SETTINGS_DAMAGE[damage], "reading never rewrites the user's file"


def test_settings_keymap_values_are_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "nord", "keymap": {"quit": 5}}')
    assert load_preferences(path) == Preferences(theme="nord", keymap={"quit": "5"})


@pytest.mark.parametrize("damage", SETTINGS_DAMAGE, ids=str)
def test_corrupt_screen_state_and_presets_give_nothing(hftui_home: Path, damage: str) -> None:
    (hftui_home / "state").mkdir(parents=True)
    (hftui_home / "state" / "models.json").write_bytes(SETTINGS_DAMAGE[damage])
    state = read_screen_state("models")
    assert isinstance(state, dict)
    if damage != "wrong-types":
        assert state == {}


TOKEN_DAMAGE = {
    "non-utf8": b"\xff\xfehf_\x00\x00",
    "nul": b"\x00" * 40,
    "blank": b"\n\n",
    "two-lines": b"hf_one\nhf_two\n",
}


@pytest.mark.parametrize("damage", TOKEN_DAMAGE, ids=str)
def test_corrupt_token_file_reads_as_an_account_state(
    token_files: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from hftui.hub.account import read_account

    token_files.mkdir(parents=True, exist_ok=True)
    (token_files / "token").write_bytes(TOKEN_DAMAGE[damage])
    state = read_account()
    if damage in ("non-utf8", "nul"):
        # Failed before: a non-UTF-8 file raised UnicodeDecodeError (the app could not start), a file of NULs
        # was taken as a token and masked as '****\x00\x00\x00\x00'.
        assert not state.status.present and state.status.label == "token file damaged"
        assert state.status.problem and str(token_files / "token") in state.status.problem
        assert "hf auth login" in state.status.problem
    assert "\x00" not in state.status.masked
    assert (token_files / "token").read_bytes() == TOKEN_DAMAGE[damage], "the file is left for the user"


@pytest.mark.parametrize("damage", ["non-utf8", "nul"])
def test_corrupt_token_file_leaves_the_settings_readable(token_files: Path, damage: str) -> None:
    """The app and every command read the token status first; a damaged file must not stop them."""
    from hftui.hub.settings import read_token_status

    token_files.mkdir(parents=True, exist_ok=True)
    (token_files / "token").write_bytes(TOKEN_DAMAGE[damage])
    status = read_token_status()
    assert not status.present and status.label == "token file damaged"


STORED_DAMAGE = {
    "garbage": b"no section header here\n",
    "non-utf8": b"[work]\nhf_token = \xff\xfe\n",
    "duplicate": b"[a]\nhf_token = hf_x\n[a]\nhf_token = hf_y\n",
    "no-token-key": b"[a]\nother = 1\n",
}


@pytest.mark.parametrize("damage", STORED_DAMAGE, ids=str)
def test_corrupt_stored_tokens_file_reads_as_an_account_state(token_files: Path, damage: str) -> None:
    from hftui.hub.account import read_account

    token_files.mkdir(parents=True, exist_ok=True)
    (token_files / "stored_tokens").write_bytes(STORED_DAMAGE[damage])
    state = read_account()
    assert isinstance(state.stored, tuple)

"""Every command's failure as a user meets it: `error: <message>` and exit 1, usage and exit 2 for bad arguments,
exit 130 for Ctrl+C, and a traceback only for a bug, followed by a line asking for a report.

The bad inputs are what a new user has on disk: empty and non-UTF-8 files, missing paths, a corrupt index, token,
settings or events file. Each command runs as a real `hftui` process with its own HF and hftui homes, offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hftui.cli import main
from hftui.localhub import LocalHub

BAD_TOKEN = "hf_thisIsNotARealToken0123456789"


def hftui(tmp_path: Path, *args: str, stdout: int | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `hftui ARGS` in `tmp_path` with fresh homes under it, offline unless `env` says otherwise."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HFTUI_"))}
    clean.update(HF_HOME=str(tmp_path / "hf"), HFTUI_HOME=str(tmp_path / "hftui"), HF_HUB_OFFLINE="1")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hftui", *args],
        cwd=tmp_path,
        env=clean,
        stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=180,
    )


def assert_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The process exited `code` with an `error:` line holding `words`, and no traceback; the stderr, flattened."""
    err = " ".join(result.stderr.split())
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "error:" in err
    for word in words:
        assert word in err
    return err


# --- models, datasets, sync: the index, the token file, hftui's home --------------------------------------------


def test_models_offline_with_a_corrupt_token_file_still_answers(tmp_path: Path) -> None:
    # A binary token file (a failed copy, a wrong file) made reading the token status raise UnicodeDecodeError.
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_bytes(b"\xff\xfe\x00garbage")
    result = hftui(tmp_path, "models", "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    sync = hftui(tmp_path, "sync", "models")
    assert sync.returncode == 1 and "Traceback" not in sync.stderr
    assert "sync needs the Hub, and offline mode is on" in sync.stderr


def test_an_index_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    # A folder where the SQLite file should be: sqlite3.OperationalError "unable to open database file".
    (tmp_path / "hftui" / "index" / "models.sqlite").mkdir(parents=True)
    result = hftui(tmp_path, "models")
    index = tmp_path / "hftui" / "index" / "models.sqlite"
    assert_error(result, 1, f"the local index {index} cannot be used", "unable to open database file")
    datasets = hftui(tmp_path, "datasets", "--json")
    assert_error(datasets, 1, "the local index")
    assert datasets.stdout == ""


def test_a_corrupt_index_file_is_rebuilt_and_said(tmp_path: Path) -> None:
    index = tmp_path / "hftui" / "index" / "models.sqlite"
    index.parent.mkdir(parents=True)
    index.write_bytes(b"not a database at all\n" * 10)
    result = hftui(tmp_path, "datasets")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "the local index was rebuilt" in " ".join(result.stderr.split())
    assert any(path.name.startswith("models.sqlite.corrupt-") for path in index.parent.iterdir())


def test_hftui_home_that_is_a_file_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    result = hftui(tmp_path, "datasets", HFTUI_HOME=str(home))
    assert_error(result, 1, f"{home / 'index'}: Not a directory")


def test_a_corrupt_settings_file_does_not_stop_a_command(tmp_path: Path) -> None:
    (tmp_path / "hftui").mkdir()
    (tmp_path / "hftui" / "settings.json").write_text('{"theme": ')
    (tmp_path / "hftui" / "state").mkdir()
    (tmp_path / "hftui" / "state" / "models-browser.json").write_bytes(b"\xff[")
    for command in (["models"], ["datasets", "--json"], ["runs"]):
        result = hftui(tmp_path, *command)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


# --- bad arguments: exit 2 with the command's usage ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "usage", "words"),
    [
        (["models", "--limit", "abc"], "usage: hftui models", "invalid int value: 'abc'"),
        (["models", "--filter", "colour=blue"], "usage: hftui models", "unknown key 'colour'"),
        (["sync", "datasets", "--sort", "created"], "usage: hftui sync datasets", "unknown sort 'created'"),
        (["analyze", "--text", "hi", "--task", "poetry"], "usage: hftui analyze", "unknown task 'poetry'"),
        (["analyze", "--text", "hi", "--out", "gone/report.md"], "usage: hftui analyze", "does not exist"),
        (["runs", "watch", "nothing-like-it"], "", "no run 'nothing-like-it'"),
        (["frobnicate"], "usage: hftui", "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_2_with_usage(tmp_path: Path, args: list[str], usage: str, words: str) -> None:
    result = hftui(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    err = " ".join(result.stderr.split())
    assert usage in err and words in err


def test_usage_errors_raised_by_commands_are_reported_in_one_place(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["datasets", "--filter", "colour=blue"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: hftui datasets" in err and "hftui datasets: error: --filter 'colour=blue': unknown key" in err


# --- analyze ---------------------------------------------------------------------------------------------------


def test_analyze_empty_and_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    result = hftui(tmp_path, "analyze", "empty.txt", "latin1.txt", "missing.txt")
    err = assert_error(result, 1, "nothing to analyse")
    assert "empty.txt has no text" in err and "latin1.txt is not UTF-8 text" in err
    assert "missing.txt does not exist" in err


# --- train and runs ---------------------------------------------------------------------------------------------


def test_train_with_a_spec_that_is_not_utf8(tmp_path: Path) -> None:
    # Was UnicodeDecodeError with a traceback.
    (tmp_path / "spec.json").write_bytes('{"base_model": "café"}'.encode("latin-1"))
    result = hftui(tmp_path, "train", "spec.json", "--detach", "--no-check")
    assert_error(result, 2, "spec.json is not UTF-8 text: byte 0xe9 at offset 19")
    assert not (tmp_path / "hftui" / "runs").exists() or not any((tmp_path / "hftui" / "runs").iterdir())


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty.json is not valid JSON"), (b"[1, 2]", "expected an object, got a list")],
)
def test_train_with_an_empty_or_wrong_spec(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "empty.json").write_bytes(content)
    assert_error(hftui(tmp_path, "train", "empty.json", "--detach", "--no-check"), 2, words)


def _damaged_run(tmp_path: Path) -> Path:
    """A run whose events.jsonl has a broken line and events with fields of the wrong types (edited by hand)."""
    run = tmp_path / "hftui" / "runs" / "20260101-000000-bert"
    run.mkdir(parents=True)
    events: list[dict[str, object] | str] = [
        {"event": "launched", "time": 1},
        "{broken json",
        {"event": "started", "time": 2, "trainable_params": "many", "device": "cpu", "max_steps": 5},
        {"event": "log", "time": 3, "step": 1, "loss": "nan"},
        {"event": "eval", "time": 4, "step": 1, "metrics": [1]},
        {"event": "finished", "time": 6, "metrics": "none"},
    ]
    lines = [line if isinstance(line, str) else json.dumps(line) for line in events]
    (run / "events.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    (run / "spec.json").write_text("{not json")
    (run / "process.json").write_text("garbage")
    return run


def test_runs_with_a_corrupt_events_file(tmp_path: Path) -> None:
    run = _damaged_run(tmp_path)
    listed = hftui(tmp_path, "runs")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert run.name in listed.stdout
    as_json = hftui(tmp_path, "runs", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["run_id"] == run.name
    # Was ValueError ("Cannot specify ',' with 's'") from the started event's text parameter count.
    watched = hftui(tmp_path, "runs", "watch", run.name)
    assert watched.returncode == 0, watched.stderr
    assert "Traceback" not in watched.stderr
    err = " ".join(watched.stderr.split())
    assert "skipped a corrupt event" in err and "finished" in err


# --- card and push ----------------------------------------------------------------------------------------------


def test_card_write_where_readme_is_a_folder(tmp_path: Path) -> None:
    # Was IsADirectoryError with a traceback, naming only the temporary file.
    (tmp_path / "model" / "README.md").mkdir(parents=True)
    result = hftui(tmp_path, "card", "model", "--write")
    assert_error(result, 1, "model/README.md: Is a directory")
    assert list((tmp_path / "model").iterdir()) == [tmp_path / "model" / "README.md"]


def test_card_and_push_of_missing_or_odd_folders(tmp_path: Path) -> None:
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "README.md").write_bytes(b"\xff\xfe\x00\x01")
    card = hftui(tmp_path, "card", "binary", "--check")
    assert_error(card, 1, "no YAML metadata block")
    missing = hftui(tmp_path, "push", "gone", "me/model", "--dry-run")
    assert_error(missing, 1, "gone is not a folder")
    (tmp_path / "empty").mkdir()
    assert_error(hftui(tmp_path, "push", "empty", "me/model", "--dry-run"), 1, "Nothing to publish")


# --- convert ----------------------------------------------------------------------------------------------------


def test_convert_an_empty_csv(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    result = hftui(tmp_path, "convert", "empty.csv", "--label", "label", "--out", "out")
    assert_error(result, 1, "empty.csv is empty")
    assert not (tmp_path / "out").exists()


# --- the one handler: known errors, the Hub, bugs, Ctrl+C, a closed pipe -----------------------------------------


def _raising(error: BaseException) -> Callable[..., int]:
    def run(*args: object) -> int:
        raise error

    return run


def test_an_unexpected_exception_shows_the_traceback_and_asks_for_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hftui.commands.models as models_command

    monkeypatch.setattr(models_command, "run_models", _raising(RuntimeError("something nobody expected")))
    assert main(["models"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: something nobody expected" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("hftui: unexpected error; please report it with the traceback above:")
    assert "`hftui models`" in last


def test_a_domain_error_is_one_error_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import hftui.commands.datasets as datasets_command
    from hftui.data.sampler import SampleError

    monkeypatch.setattr(datasets_command, "run_datasets", _raising(SampleError("rows.csv line 3: \x1b[2Jbad", "x")))
    assert main(["datasets"]) == 1
    err = capsys.readouterr().err
    assert err == "error: rows.csv line 3: \\x1b[2Jbad\n"  # the escape is shown, not sent to the terminal


def test_a_hub_error_is_explained_without_the_token(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import HfApi

    import hftui.commands.models as models_command

    def whoami(*args: object) -> int:
        HfApi(endpoint=local_hub.url, token=BAD_TOKEN).whoami()
        return 0

    monkeypatch.setattr(models_command, "run_sync_models", whoami)
    assert main(["sync", "models"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The Hub rejected the token: it is invalid or expired.")
    assert BAD_TOKEN not in err and "Traceback" not in err


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import hftui.commands.publish as publish_command

    monkeypatch.setattr(publish_command, "run_card", _raising(KeyboardInterrupt()))
    assert main(["card", "."]) == 130
    assert capsys.readouterr().err == "hftui: interrupted\n"


def test_a_reader_that_goes_away_is_not_a_crash(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        result = hftui(tmp_path, "train", "--example", stdout=write)
    finally:
        os.close(write)
    assert result.returncode == 141
    assert result.stderr == ""


def test_resume_a_run_whose_spec_is_damaged(tmp_path: Path) -> None:
    # Was SpecError with a traceback, naming only "spec.json".
    run = tmp_path / "hftui" / "runs" / "20260101-000000-bert"
    (run / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (run / "spec.json").write_text("{not json")
    (run / "events.jsonl").write_text('{"event": "launched", "time": 1}\n{"event": "failed", "time": 2}\n')
    result = hftui(tmp_path, "runs", "resume", run.name, "--detach")
    assert_error(result, 1, f"{run.name}: spec.json is not valid JSON")
    assert not (run / "process.json").exists()


def test_demo_with_a_home_that_is_a_file(tmp_path: Path) -> None:
    # Was NotADirectoryError with a traceback.
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    result = hftui(tmp_path, "demo", "--seed-only", HFTUI_HOME=str(home))
    assert_error(result, 1, f"{home}/demo/", "Not a directory")

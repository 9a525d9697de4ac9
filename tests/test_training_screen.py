"""Pilot tests of the Training screen's runs list at 80x24, on run folders written by hand.

A run is live while the test holds its worker.lock (as a running worker does); the others are finished,
failed or stopped by their last event.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from hftui.app import HfTuiApp
from hftui.train.callback import STOP_FILE
from hftui.train.events import EVENTS_FILE, append_event
from hftui.train.process import LOCK_FILE
from hftui.train.spec import DatasetRef, LoraSettings, RunSpec, save_spec
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.training.runs import TrainingScreen
from hftui.ui.widgets.repo_table import RepoTable
from tests.pilot import screen_text, wait_for_text, wait_until
from tests.test_dataset_preview import make_app


def make_run(root: Path, run_id: str, *, lora: bool = False, model: str = "org/tiny-bert") -> Path:
    """A run folder with its spec, launched and started (6 steps)."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    spec = RunSpec(model, DatasetRef("/data/reviews.csv"), lora=LoraSettings() if lora else None)
    save_spec(spec, run_dir)
    append_event(run_dir / EVENTS_FILE, "launched", None, attempt=1)
    append_event(run_dir / EVENTS_FILE, "started", 0, max_steps=6)
    return run_dir


def event(run_dir: Path, kind: str, step: int | None, **fields: Any) -> None:
    append_event(run_dir / EVENTS_FILE, kind, step, **fields)


def finished_run(root: Path, run_id: str, accuracies: tuple[float, ...] = (0.75, 0.875)) -> Path:
    run_dir = make_run(root, run_id)
    for step, accuracy in zip((3, 6), accuracies, strict=False):
        event(run_dir, "progress", step, max_steps=6)
        event(run_dir, "eval", step, metrics={"eval_loss": 0.5, "eval_accuracy": accuracy})
    event(
        run_dir, "finished", 6, metrics={"accuracy": accuracies[-1], "f1_macro": 0.8}, model_dir=str(run_dir / "model")
    )
    return run_dir


@pytest.fixture
def runs_root(hftui_home: Path) -> Path:
    return hftui_home / "runs"


@pytest.fixture
def live_lock() -> Iterator[list[int]]:
    """Locks taken on runs' worker.lock (making them live); released at teardown."""
    fds: list[int] = []
    yield fds
    for fd in fds:
        os.close(fd)


def make_live(run_dir: Path, fds: list[int]) -> None:
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)


async def open_training(pilot: Pilot) -> TrainingScreen:
    await pilot.press("t")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainingScreen)
    return screen


def cells(screen: TrainingScreen) -> list[list[str]]:
    table = screen.query_one("#runs-table", RepoTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


def notes(app: HfTuiApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_an_empty_list_says_how_to_start_a_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_training(pilot)
        text = await wait_for_text(pilot, "No training runs yet")
        assert "n: a new run" in text and "hftui train SPEC.json" in text


async def test_the_list_shows_states_progress_and_best_metric(tmp_path: Path, runs_root: Path) -> None:
    finished_run(runs_root, "20250101-000000-done")
    failed = make_run(runs_root, "20250102-000000-nan", lora=True)
    event(failed, "progress", 4, max_steps=6)
    event(failed, "failed", 4, reason="nan_loss", message="the loss became NaN at step 4")
    stopped = make_run(runs_root, "20250103-000000-halt")
    event(stopped, "progress", 2, max_steps=6)
    event(stopped, "eval", 2, metrics={"eval_loss": 0.25})  # no accuracy: the best is the lowest loss
    event(stopped, "stopped", 2, reason="requested", message="stopped at step 2 of 6")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 3)
        rows = cells(screen)
        # Newest first; (mark, run, state, step, best, base model, dataset, type, ...).
        assert [row[1] for row in rows] == ["halt", "nan", "done"]
        assert rows[0][2:5] == ["stopped (requested)", "2/6", "loss 0.250"]
        assert rows[1][2:4] == ["failed (nan_loss)", "4/6"] and rows[1][4] == "-" and rows[1][7] == "LoRA"
        assert rows[2][2:5] == ["finished", "6/6", "acc 0.875"] and rows[2][5:8] == [
            "org/tiny-bert",
            "reviews.csv",
            "full",
        ]
        assert "Training runs: 3" in screen_text(app)[0]

        await pilot.press("j")  # the failed run: its message in the details
        text = await wait_for_text(pilot, "became NaN")
        assert "the loss became NaN at step 4" in text and "20250102-000000-nan" in text
        await pilot.press("j")
        text = await wait_for_text(pilot, "final:")
        assert "final: accuracy 0.875, f1_macro 0.8" in text and "model: " in text


async def test_refresh_picks_up_a_new_run_and_live_progress_keeping_the_cursor(
    tmp_path: Path, runs_root: Path, live_lock: list[int]
) -> None:
    finished_run(runs_root, "20250101-000000-first")
    live = make_run(runs_root, "20250102-000000-live")
    make_live(live, live_lock)
    event(live, "progress", 1, max_steps=6)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        assert cells(screen)[0][2:4] == ["running", "1/6"]
        await pilot.press("j")
        assert screen.highlighted is not None and screen.highlighted.run_id == "20250101-000000-first"

        event(live, "progress", 4, max_steps=6)
        await wait_until(pilot, lambda: cells(screen)[0][3] == "4/6", timeout=8)
        finished_run(runs_root, "20250103-000000-newest")  # sorts first: the rows move under the cursor
        await wait_until(pilot, lambda: len(screen.runs) == 3, timeout=8)
        assert [row[1] for row in cells(screen)] == ["newest", "live", "first"]
        assert screen.highlighted is not None and screen.highlighted.run_id == "20250101-000000-first"


async def test_delete_asks_first_and_refuses_a_live_run(tmp_path: Path, runs_root: Path, live_lock: list[int]) -> None:
    done = finished_run(runs_root, "20250101-000000-done")
    live = make_run(runs_root, "20250102-000000-live")
    make_live(live, live_lock)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        await pilot.press("x")  # the live run is highlighted
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("stop it first" in note for note in notes(app)) and live.is_dir()

        await pilot.press("j", "x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and done.is_dir()

        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.runs) == 1)
        assert not done.exists() and live.is_dir()
        assert any("deleted" in note for note in notes(app))


async def test_stop_writes_the_stop_request_of_a_live_run_only(
    tmp_path: Path, runs_root: Path, live_lock: list[int]
) -> None:
    done = finished_run(runs_root, "20250101-000000-done")
    live = make_run(runs_root, "20250102-000000-live")
    make_live(live, live_lock)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        await pilot.press("s")
        await wait_until(pilot, lambda: (live / STOP_FILE).exists())
        assert any("Stop requested" in note for note in notes(app))

        await pilot.press("j", "s", "r")  # a finished run neither stops nor resumes
        await pilot.pause()
        assert not (done / STOP_FILE).exists()
        assert any("nothing to stop" in note for note in notes(app))
        assert any("only stopped or failed runs resume" in note for note in notes(app))


async def test_resume_without_a_checkpoint_says_so(tmp_path: Path, runs_root: Path) -> None:
    stopped = make_run(runs_root, "20250101-000000-halt")
    event(stopped, "stopped", 2, reason="requested")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: any("no checkpoint" in note for note in notes(app)))


async def test_space_marks_runs_for_compare(tmp_path: Path, runs_root: Path) -> None:
    finished_run(runs_root, "20250101-000000-a")
    finished_run(runs_root, "20250102-000000-b")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        await pilot.press("space")  # marks b and moves down to a
        await pilot.pause()
        assert [row[0] for row in cells(screen)] == ["[x]", ""]
        assert screen.highlighted is not None and screen.highlighted.run_id == "20250101-000000-a"
        assert [path.name for path in screen.marked_paths()] == ["20250102-000000-b"]
        assert "1 marked" in screen_text(app)[0]


def test_the_reader_does_not_read_an_ended_unchanged_run_again(
    runs_root: Path, live_lock: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hftui.train.runs as runs

    done = finished_run(runs_root, "20250101-000000-done")
    live = make_run(runs_root, "20250102-000000-live")
    make_live(live, live_lock)
    read: list[str] = []
    original = runs.read_run

    def counting(run_dir: Path, **options: Any) -> Any:
        read.append(run_dir.name)
        return original(run_dir, **options)

    monkeypatch.setattr(runs, "read_run", counting)
    reader = runs.RunsReader(runs_root)
    assert [run.state for run in reader.read()] == ["running", "finished"]
    assert [run.state for run in reader.read()] == ["running", "finished"]
    assert read == [live.name, done.name, live.name]  # the live run every time, the ended one once
    event(done, "note", None, level="info", message="touched")  # its events changed: read again
    reader.read()
    assert read[-2:] == [live.name, done.name]


async def test_a_launch_that_fails_is_reported_not_raised(tmp_path: Path, runs_root: Path) -> None:
    runs_root.parent.mkdir(parents=True, exist_ok=True)
    runs_root.write_text("not a folder")  # the runs directory cannot be made
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\ngood,pos\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_for_text(pilot, "No training runs yet")
        screen.launch_run(RunSpec("org/model", DatasetRef(str(data))))
        await wait_until(pilot, lambda: any(n.title == "Run not started" for n in app._notifications))
        assert app.screen is screen and screen.runs == ()


async def test_c_compares_the_marked_runs_or_else_the_highlighted_one(tmp_path: Path, runs_root: Path) -> None:
    from hftui.ui.training.run_compare import RunCompareScreen

    older = finished_run(runs_root, "20250101-000000-a")
    newer = finished_run(runs_root, "20250102-000000-b", accuracies=(0.5, 0.625))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        await pilot.press("j", "C")  # nothing marked: the highlighted run
        await wait_until(pilot, lambda: isinstance(app.screen, RunCompareScreen))
        assert app.screen.run_paths == [older]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("k", "space", "space", "C")
        await wait_until(pilot, lambda: isinstance(app.screen, RunCompareScreen))
        assert app.screen.run_paths == [newer, older]  # type: ignore[attr-defined]


async def test_enter_watches_the_run_and_o_watches_a_trainer_output_dir(tmp_path: Path, runs_root: Path) -> None:
    from hftui.ui.dialogs.path_prompt import PathPromptScreen
    from hftui.ui.training.run_watcher import RunWatcherScreen

    done = finished_run(runs_root, "20250101-000000-done")
    output_dir = tmp_path / "trainer-out"
    output_dir.mkdir()
    history = [{"step": 2, "loss": 0.7, "learning_rate": 1e-3, "epoch": 0.5}]
    (output_dir / "trainer_state.json").write_text(
        json.dumps({"global_step": 2, "max_steps": 4, "log_history": history})
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunWatcherScreen))
        assert app.screen.path == done  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPromptScreen))
        app.screen.query_one(Input).value = str(tmp_path / "nowhere")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        assert any("is not a folder" in note for note in notes(app))
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPromptScreen))
        app.screen.query_one(Input).value = str(output_dir)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunWatcherScreen))
        assert app.screen.path == output_dir  # type: ignore[attr-defined]


async def test_L_opens_the_lora_comparison_for_the_highlighted_base_model(tmp_path: Path, runs_root: Path) -> None:
    from hftui.ui.training.lora_compare import LoraCompareScreen

    run_dir = runs_root / "20250101-000000-done"
    run_dir.mkdir(parents=True)
    data = DatasetRef("reviews.csv", text_column="review", label_column="stars")  # relative: next to the spec
    save_spec(RunSpec("org/small-encoder", data), run_dir)
    append_event(run_dir / EVENTS_FILE, "launched", None, attempt=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 1)
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, LoraCompareScreen))
        compare = app.screen
        assert isinstance(compare, LoraCompareScreen) and compare.base_model == "org/small-encoder"
        # The comparison trains on the run's own data and columns.
        assert compare.query_one("#lora-compare-dataset", Input).value == str(run_dir / "reviews.csv")
        settings = compare.settings()
        assert settings is not None and (settings.text_column, settings.label_column) == ("review", "stars")


async def test_p_publishes_a_finished_runs_model_and_says_why_a_running_one_cannot(
    tmp_path: Path, runs_root: Path, live_lock: list[int]
) -> None:
    done = finished_run(runs_root, "20250101-000000-done")
    (done / "model").mkdir()
    (done / "model" / "config.json").write_text('{"model_type": "bert"}')
    make_live(make_run(runs_root, "20250102-000000-live"), live_lock)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        from hftui.ui.publish.publish import PublishScreen

        screen = await open_training(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 2)
        await pilot.press("p")  # the newest, live run: nothing saved yet
        await wait_until(pilot, lambda: any("no saved model to publish" in note for note in notes(app)))
        assert app.screen is screen
        await pilot.press("j", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen))
        assert app.screen.folder == (done / "model").resolve() and app.screen.kind == "model"

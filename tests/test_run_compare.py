"""Compare runs: summaries, differing hyperparameters, export text, and the screen at 80x24 (hand-written runs)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from textual.widgets import DataTable

from hftui.train.compare import differing, export_text, summarize, unique_labels
from hftui.train.events import EVENTS_FILE, RunEvent, append_event
from hftui.train.follow import follower_for, run_hyperparameters
from hftui.train.spec import DatasetRef, Hyperparameters, LoraSettings, RunSpec, save_spec
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.training.run_compare import RunCompareScreen
from hftui.ui.widgets.curve_plot import CurvePlot
from tests.pilot import screen_text, wait_until
from tests.test_dataset_preview import make_app

SIZE = (80, 24)


def hand_run(root: Path, run_id: str, *, lr: float, accuracy: list[float], lora: bool = False) -> Path:
    """A finished hftui run folder written by hand: spec, logs every step, evals every 2 steps, finished."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    spec = RunSpec(
        "org/base",
        DatasetRef("reviews.csv"),
        hyperparameters=Hyperparameters(max_steps=2 * len(accuracy), learning_rate=lr, batch_size=8),
        lora=LoraSettings(r=4) if lora else None,
    )
    save_spec(spec, run_dir)
    path = run_dir / EVENTS_FILE
    append_event(path, "launched", None, attempt=1)
    append_event(path, "started", 0, max_steps=2 * len(accuracy), trainable_params=10, total_params=20)
    for step in range(1, 2 * len(accuracy) + 1):
        append_event(path, "log", step, loss=2.0 / step, learning_rate=lr, epoch=step / 4)
        if step % 2 == 0:
            metrics = {"eval_loss": 1.5 / step, "eval_accuracy": accuracy[step // 2 - 1]}
            append_event(path, "eval", step, metrics=metrics, final=False)
    append_event(path, "finished", 2 * len(accuracy), metrics={"accuracy": accuracy[-1]}, model_dir="model")
    return run_dir


def test_summaries_pick_the_best_by_direction_and_the_final_values() -> None:
    curves = {
        "loss": [(1.0, 2.0), (2.0, 1.0), (3.0, 1.5)],
        "eval_accuracy": [(2.0, 0.6), (4.0, 0.8), (6.0, 0.7)],
        "eval_loss": [(2.0, 0.9), (4.0, 0.5), (6.0, 0.6)],
        "grad_norm": [],
    }
    summary = summarize(curves)
    assert summary.last_step == 6 and summary.final_loss == 1.5
    assert summary.best["eval_accuracy"] == (4.0, 0.8) and summary.best["eval_loss"] == (4.0, 0.5)
    assert summary.final["eval_accuracy"] == 0.7 and "grad_norm" not in summary.best
    assert summarize({}).last_step is None


def test_only_the_hyperparameters_that_differ_are_columns() -> None:
    a = {"learning_rate": 1e-3, "batch_size": 8, "lora": False, "logging_steps": 10}
    b = {"learning_rate": 5e-4, "batch_size": 8, "lora": True, "lora_r": 4, "logging_steps": 20}
    assert differing([a, b]) == ["learning_rate", "lora", "lora_r"]
    assert differing([a]) == [] and differing([a, dict(a)]) == []
    paths = [Path("/x/runs/a/logs"), Path("/y/runs/b/logs"), Path("/z/c")]
    assert unique_labels(paths) == ["a/logs", "b/logs", "c"]
    assert unique_labels([Path("/p/a/x"), Path("/q/a/x")]) == ["a/x#1", "a/x#2"]
    assert unique_labels([Path("/r/20250101-000000-alpha"), Path("/r/20250101-000000-x")]) == ["alpha", "x"]


def test_export_text_as_csv_and_json() -> None:
    one = [RunEvent("log", 0, 1, {"loss": 1.0}), RunEvent("eval", 0, 2, {"metrics": {"eval_accuracy": 0.5}})]
    two = [RunEvent("log", 0, 1, {"loss": 3.0})]
    single = list(csv.DictReader(io.StringIO(export_text([("a", one)], ".csv"))))
    assert [row["step"] for row in single] == ["1", "2"] and single[1]["eval_accuracy"] == "0.5"
    both = list(csv.DictReader(io.StringIO(export_text([("a", one), ("b", two)], ".csv"))))
    assert [(row["run"], row["step"], row["loss"]) for row in both] == [
        ("a", "1", "1.0"),
        ("a", "2", ""),
        ("b", "1", "3.0"),
    ]
    data = json.loads(export_text([("a", one), ("b", two)], ".json"))
    assert set(data) == {"a", "b"} and data["b"][0]["loss"] == 3.0
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        export_text([("a", one)], ".txt")


def test_hyperparameters_of_each_kind_of_folder(tmp_path: Path) -> None:
    run = hand_run(tmp_path, "r1", lr=1e-3, accuracy=[0.5], lora=True)
    values = run_hyperparameters(run)
    assert values["learning_rate"] == 1e-3 and values["lora"] is True and values["lora_r"] == 4
    assert values["base_model"] == "org/base" and values["dataset"] == "reviews.csv"
    output = tmp_path / "out"
    output.mkdir()
    state = {"global_step": 4, "max_steps": 4, "train_batch_size": 16, "num_train_epochs": 1, "log_history": []}
    (output / "trainer_state.json").write_text(json.dumps(state))
    assert run_hyperparameters(output, follower_for(output)) == {"batch_size": 16, "epochs": 1, "max_steps": 4}
    assert run_hyperparameters(tmp_path / "nothing") == {}


async def test_the_screen_overlays_runs_tabulates_them_and_exports(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = hand_run(runs, "20250101-000000-alpha", lr=1e-3, accuracy=[0.6, 0.9, 0.8])
    second = hand_run(runs, "20250102-000000-beta", lr=5e-4, accuracy=[0.5, 0.55, 0.7], lora=True)
    junk = tmp_path / "junk"
    junk.mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = RunCompareScreen([first, second, junk])
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.loaded and len(screen.runs) == 3)
        text = screen_text(app)[0]
        assert "Compare 3 runs" in text and "2 of 3 runs read" in text and "unreadable: junk" in text
        plot = screen.query_one(CurvePlot)
        assert plot.has_data and "training loss" in text
        assert "━ alpha" in text and "━ beta" in text  # the legend, run ids without their launch stamp
        table = screen.query_one(DataTable)
        row = [str(cell) for cell in table.get_row("0")]
        assert row[:4] == ["alpha", "hftui", "finished", "6"]
        assert row[6] == "0.9 @4"  # best accuracy at step 4, not the final one
        labels = [str(c.label) for c in table.columns.values()]
        assert "learning_rate" in labels and "lora" in labels and "batch_size" not in labels
        assert str(table.get_row("2")[2]) == "unreadable"

        await pilot.press("2")
        assert "eval loss" in screen_text(app)[0]
        await pilot.press("m")
        assert screen.shown_curve == "eval_f1_macro" and "no eval macro-F1" in screen_text(app)[0]
        assert "Best f1_macro" in [str(c.label) for c in table.columns.values()]
        await pilot.press("3")
        assert screen.shown_curve == "eval_f1_macro"
        await pilot.press("m", "m", "m")
        assert screen.shown_curve == "eval_accuracy"
        assert "Best accuracy" in [str(c.label) for c in table.columns.values()]

        # Every run's metrics, one CSV with a run column.
        target = tmp_path / "exports" / "both.csv"
        await pilot.press("E")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPromptScreen))
        prompt = app.screen
        prompt.query_one("#path-prompt-input").value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists)
        rows = list(csv.DictReader(target.open()))
        assert {row["run"] for row in rows} == {"alpha", "beta"}
        assert len(rows) == 12 and rows[1]["eval_accuracy"] == "0.6"
        assert not list(target.parent.glob(".*.tmp"))  # written through a temporary file

        # The highlighted run alone, as JSON.
        await pilot.press("down", "e")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPromptScreen))
        one = tmp_path / "exports" / "beta.json"
        app.screen.query_one("#path-prompt-input").value = str(one)
        await pilot.press("enter")
        await wait_until(pilot, one.exists)
        data = json.loads(one.read_text())
        assert list(data) == ["beta"] and data["beta"][-1]["eval_accuracy"] == 0.7

        await pilot.press("escape")
        assert not isinstance(app.screen, RunCompareScreen)


async def test_the_screen_follows_a_tensorboard_dir_and_a_run_that_grows(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    logs = tmp_path / "tb"
    writer = SummaryWriter(str(logs / "runs" / "Dec01_host"))
    for step in (1, 2, 3):
        writer.add_scalar("train/loss", 1.0 / step, step)
    writer.add_scalar("eval/accuracy", 0.75, 3)
    writer.close()
    live = tmp_path / "live"
    live.mkdir()
    append_event(live / EVENTS_FILE, "started", 0, max_steps=10)
    append_event(live / EVENTS_FILE, "log", 1, loss=1.0)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = RunCompareScreen([logs, live])
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.loaded and len(screen.runs) == 2)
        tb = screen.runs[0]
        assert tb.kind == "tboard" and tb.summary.best["eval_accuracy"] == (3.0, 0.75)
        assert [x for x, _ in tb.curves["loss"]] == [1.0, 2.0, 3.0]
        assert not screen.settled  # the live folder has no final event yet
        append_event(live / EVENTS_FILE, "log", 2, loss=0.5)
        screen.tick()
        await wait_until(pilot, lambda: len(screen.runs[1].curves["loss"]) == 2)
        assert len(screen.events[1]) == 3

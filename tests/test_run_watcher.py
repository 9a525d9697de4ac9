"""Pilot tests of the run watcher at 80x24: hand-written runs (fast), a Trainer output_dir, and a real run.

Hand-written runs are folders with spec.json and events.jsonl as a worker writes them; a run is "live"
while the test holds its worker lock (as a worker does), so the watcher keeps following it. The slow test
at the end starts a detached tiny-BERT run and drives it from the watcher: stop, resume, finish, and an app
closed and reopened during the run.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.widgets import Log, ProgressBar, TabbedContent

from hftui.app import HfTuiApp
from hftui.train.events import EVENTS_FILE, encode_event
from hftui.train.process import LOCK_FILE
from hftui.train.runs import LOG_FILE
from hftui.train.watch import EXPORT_CSV, EXPORT_JSON
from hftui.ui.training.run_watcher import RunWatcherScreen
from hftui.ui.widgets.curve_plot import CurvePlot
from tests.test_dataset_preview import make_app
from tests.test_train_support import WAIT_S, quiet_workers, reap_runs, reviews, small_spec, tiny_bert

__all__ = ["quiet_workers", "reap_runs", "reviews", "tiny_bert"]

SIZE = (80, 24)


def spec_dict(*, lora: bool = False) -> dict[str, Any]:
    """A spec.json as the launcher writes it (only the fields the watcher reads matter)."""
    return {
        "base_model": "/models/tiny-bert",
        "dataset": {"location": "reviews.csv"},
        "task": "sequence-classification",
        "hyperparameters": {"max_steps": 20},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.05, "target_modules": ["query", "value"], "merge": False}
        if lora
        else None,
    }


def append(run_dir: Path, kind: str, step: int | None = None, **fields: Any) -> None:
    """Append one event as the worker does (one write of a whole line)."""
    with open(run_dir / EVENTS_FILE, "ab") as handle:
        handle.write(encode_event(kind, step, fields))


def append_raw(run_dir: Path, line: bytes) -> None:
    with open(run_dir / EVENTS_FILE, "ab") as handle:
        handle.write(line)


def make_run(root: Path, name: str = "run-1", *, lora: bool = False) -> Path:
    """A run folder with its spec, a launched and a started event, and a train.log."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    (run_dir / "spec.json").write_text(json.dumps(spec_dict(lora=lora)))
    (run_dir / LOG_FILE).write_text("loading the model\n[bold]not markup[/bold]\n")
    append(run_dir, "launched", attempt=1, resume=False)
    started = {"max_steps": 20, "trainable_params": 1200, "total_params": 48000, "device": {"kind": "cpu"}}
    append(run_dir, "started", 0, spec=spec_dict(lora=lora), labels=["neg", "pos"], **started)
    if lora:
        append(run_dir, "note", None, level="info", message="lora")
    return run_dir


def log_steps(run_dir: Path, steps: range, *, loss: float = 1.0) -> None:
    for step in steps:
        append(run_dir, "log", step, loss=loss / (1 + step), grad_norm=0.5, learning_rate=1e-3 * (1 - step / 20))
        append(run_dir, "progress", step, max_steps=20, epoch=step / 10, eta_s=20 - step, steps_per_s=2.0)


@pytest.fixture
def live() -> Iterator[list[int]]:
    """Hold a run's worker lock as its worker would: the run counts as running until released."""
    held: list[int] = []
    yield held
    for fd in held:
        os.close(fd)


def hold_lock(run_dir: Path, held: list[int]) -> None:
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    held.append(fd)


async def wait_until(pilot: Any, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the watcher poll until `condition` holds (its follow worker never completes, so no settle)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def text_of(screen: RunWatcherScreen, selector: str) -> str:
    """What a Static shows, as plain text ("" before the screen is composed)."""
    try:
        return str(screen.query_one(selector).render())
    except NoMatches:
        return ""


def notes(app: HfTuiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_watcher(app: HfTuiApp, pilot: Any, path: Path) -> RunWatcherScreen:
    screen = RunWatcherScreen(path)
    app.push_screen(screen)
    await wait_until(pilot, lambda: screen.snapshot is not None)
    return screen


async def test_a_live_run_shows_progress_metrics_curves_and_new_events(tmp_path: Path, live: list[int]) -> None:
    run_dir = make_run(tmp_path / "runs", lora=True)
    hold_lock(run_dir, live)
    log_steps(run_dir, range(2, 11, 2))
    append(run_dir, "eval", 10, epoch=1.0, metrics={"eval_loss": 0.4, "eval_accuracy": 0.75, "eval_f1_macro": 0.7})
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, run_dir)
        await wait_until(pilot, lambda: "step 10/20" in text_of(screen, "#watch-progress-text"))
        assert "running" in text_of(screen, "#watch-state")
        progress = text_of(screen, "#watch-progress-text")
        assert "epoch 1.00" in progress and "ETA 5s" in progress and "2 it/s" in progress
        bar = screen.query_one(ProgressBar)
        assert (bar.total, bar.progress) == (20, 10)
        loss_plot = screen.query_one("#plot-loss", CurvePlot)
        lr_plot = screen.query_one("#plot-lr", CurvePlot)
        # A plot counts what it drew when it paints, which may come a frame after the text.
        await wait_until(pilot, lambda: loss_plot.drawn == {"loss": 5, "eval_loss": 1})
        await wait_until(pilot, lambda: lr_plot.drawn == {"learning_rate": 5})
        metrics = text_of(screen, "#watch-metrics-text")
        assert "loss 0.09091" in metrics and "grad_norm 0.5" in metrics
        assert "accuracy 0.75" in metrics and "f1_macro 0.7" in metrics and "2 samples/s" not in metrics
        assert "no GPU (training on cpu)" in metrics
        lora = text_of(screen, "#watch-lora-text")
        assert "1.2k of 48k parameters (2.50%)" in lora and "r          4" in lora and "alpha 8" in lora
        assert "query, value" in lora and "not saved yet" in lora
        # The log tail is plain text: markup in it shows as typed.
        await pilot.press("l")
        assert screen.query_one(TabbedContent).active == "watch-log"
        assert "[bold]not markup[/bold]" in "\n".join(screen.query_one(Log).lines)
        await pilot.press("l")
        assert screen.query_one(TabbedContent).active == "watch-curves"

        # Events appended while the watcher is open appear; a corrupt line is skipped with a warning.
        append_raw(run_dir, b'{"event": "log", "step": 11, "loss": \n')
        log_steps(run_dir, range(12, 15, 2))
        device = {"index": 0, "utilization": 87.0, "memory_used": 10 * 1024**3, "memory_total": 80 * 1024**3}
        append(run_dir, "gpu", 14, devices=[device])
        await wait_until(pilot, lambda: "step 14/20" in text_of(screen, "#watch-progress-text"))
        await wait_until(pilot, lambda: "0: 87% 10.0/80 GiB" in text_of(screen, "#watch-metrics-text"))
        assert screen.query_one("#plot-gpu", CurvePlot).display
        await wait_until(pilot, lambda: loss_plot.drawn.get("loss") == 7)
        assert any("line" in n and "corrupt" in n for n in notes(app))
        assert "1 line(s) skipped" in text_of(screen, "#watch-state")
        assert screen.check_action("stop", ()) is True and screen.check_action("resume", ()) is None
        await pilot.press("g")
        assert loss_plot.log_y
        await pilot.press("escape")
        assert not isinstance(app.screen, RunWatcherScreen)


async def test_a_nan_loss_run_shows_the_reason_and_an_alert(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "runs")
    log_steps(run_dir, range(1, 4))
    append(run_dir, "log", 4, loss=float("nan"), grad_norm=float("inf"), learning_rate=1e-3)
    message = "the training loss became NaN at step 4: lower the learning rate"
    append(run_dir, "failed", 4, reason="nan_loss", message=message)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, run_dir)
        await wait_until(pilot, lambda: screen.query_one("#watch-alerts").display)
        state = text_of(screen, "#watch-state")
        assert "failed (nan_loss)" in state and "became NaN at step 4" in state
        assert "loss is nan at step 4" in text_of(screen, "#watch-alerts")
        assert notes(app).count("loss is nan at step 4") == 1
        assert "non-finite: loss=nan, grad_norm=inf" in text_of(screen, "#watch-metrics-text")
        # No checkpoint: nothing to resume, and the run is not live: nothing to stop.
        assert screen.check_action("resume", ()) is None and screen.check_action("stop", ()) is None
        await pilot.pause(0.5)
        assert notes(app).count("loss is nan at step 4") == 1  # once, not at every poll


async def test_a_finished_run_replays_with_its_final_metrics_and_exports(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "runs")
    for step in range(1, 401):
        append(run_dir, "log", step, loss=2.0 / step, learning_rate=1e-3, epoch=step / 100)
        if step % 100 == 0:
            append(run_dir, "eval", step, epoch=step / 100, metrics={"eval_loss": 1.0 / step, "eval_accuracy": 0.9})
    final = {
        "accuracy": 0.9,
        "f1_macro": 0.88,
        "loss": 0.2,
        "labels": ["neg", "pos"],
        "confusion_matrix": [[5, 1], [0, 4]],
    }
    append(run_dir, "progress", 400, max_steps=400, epoch=4.0, eta_s=0, steps_per_s=8.0, samples_per_s=64.0)
    append(run_dir, "finished", 400, metrics=final, model_dir=str(run_dir / "model"), message="finished at step 400")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, run_dir)
        await wait_until(pilot, lambda: "has finished" in text_of(screen, "#watch-state"))
        assert "replayed 408 events" in text_of(screen, "#watch-state")
        assert "step 400/400" in text_of(screen, "#watch-progress-text")
        assert screen.query_one(ProgressBar).progress == 400
        metrics = text_of(screen, "#watch-metrics-text")
        assert "final  accuracy 0.9  f1_macro 0.88  loss 0.2" in metrics
        matrix = metrics.split("confusion matrix")[1].splitlines()[1:4]
        assert [line.split() for line in matrix] == [["neg", "pos"], ["neg", "5", "1"], ["pos", "0", "4"]]
        assert "64 samples/s" in metrics
        await wait_until(pilot, lambda: screen.query_one("#plot-loss", CurvePlot).drawn.get("eval_loss") == 4)
        assert screen.check_action("stop", ()) is None and screen.check_action("resume", ()) is None

        await pilot.press("e")
        await pilot.press("enter")  # the run folder, as proposed
        await wait_until(pilot, lambda: (run_dir / EXPORT_JSON).exists() and any("written" in n for n in notes(app)))
        csv_lines = (run_dir / EXPORT_CSV).read_text().splitlines()
        assert csv_lines[0].startswith("step,loss,learning_rate") and len(csv_lines) == 401
        rows = json.loads((run_dir / EXPORT_JSON).read_text())["rows"]
        assert rows[99]["eval_accuracy"] == 0.9 and rows[-1]["step"] == 400
        assert str(run_dir / EXPORT_CSV) in next(n for n in notes(app) if "written" in n)

        # p publishes the saved model: missing here, so it says so; once there, the publish screen opens on it.
        await pilot.press("p")
        await wait_until(pilot, lambda: any("no saved model to publish" in n for n in notes(app)))
        (run_dir / "model").mkdir()
        await pilot.press("p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PublishScreen")
        assert app.screen.folder == (run_dir / "model").resolve()


def trainer_state(steps: int) -> dict[str, Any]:
    """A trainer_state.json after `steps` steps: a log each step, an evaluation every 5 (the history only grows)."""
    history: list[dict[str, Any]] = []
    for s in range(1, steps + 1):
        history.append({"step": s, "epoch": s / 10, "loss": 1.0 / s, "learning_rate": 1e-4, "grad_norm": 1.0})
        if s % 5 == 0:
            history.append({"step": s, "epoch": s / 10, "eval_loss": 0.5, "eval_accuracy": 0.8})
    return {"global_step": steps, "max_steps": 50, "epoch": steps / 10, "log_history": history}


async def test_a_trainer_output_dir_shows_curves_and_refreshes_read_only(tmp_path: Path) -> None:
    output = tmp_path / "out"
    checkpoint = output / "checkpoint-5"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text(json.dumps(trainer_state(5)))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, output)
        await wait_until(pilot, lambda: "step 5/50" in text_of(screen, "#watch-progress-text"))
        assert "Trainer output folder: read-only" in text_of(screen, "#watch-state")
        await wait_until(pilot, lambda: screen.query_one("#plot-loss", CurvePlot).drawn == {"loss": 5, "eval_loss": 1})
        assert screen.check_action("stop", ()) is False and screen.check_action("resume", ()) is False
        assert "Not a LoRA run" in text_of(screen, "#watch-lora-text")
        later = output / "checkpoint-10"
        later.mkdir()
        (later / "trainer_state.json").write_text(json.dumps(trainer_state(10)))
        await wait_until(pilot, lambda: "step 10/50" in text_of(screen, "#watch-progress-text"))
        await wait_until(pilot, lambda: screen.query_one("#plot-loss", CurvePlot).drawn == {"loss": 10, "eval_loss": 2})


async def test_a_folder_that_is_no_run_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = RunWatcherScreen(tmp_path / "empty")
        app.push_screen(screen)
        await wait_until(pilot, lambda: "is not" in text_of(screen, "#watch-state"))
        assert screen.snapshot is None


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_workers")
async def test_a_real_run_watched_stopped_resumed_and_reopened_in_a_new_app(
    tmp_path: Path, tiny_bert: Path, reviews: Path, reap_runs: list[Path]
) -> None:
    from hftui.train.launch import start_run
    from hftui.train.runs import run_state

    spec = small_spec(tiny_bert, reviews, max_steps=400, logging_steps=10, eval_steps=200, save_strategy="no")
    run_dir = tmp_path / "runs" / start_run(spec, tmp_path / "runs", check=False)
    reap_runs.append(run_dir)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, run_dir)
        loss_plot = screen.query_one("#plot-loss", CurvePlot)
        # Progress and curves while it runs, then s stops it (a checkpoint is saved).
        await wait_until(pilot, lambda: screen.snapshot.state == "running" and loss_plot.drawn.get("loss"), WAIT_S)
        assert "step " in text_of(screen, "#watch-progress-text") and screen.query_one(ProgressBar).total == 400
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.snapshot.state == "stopped", WAIT_S)
        stopped_at = screen.snapshot.latest["stopped"].step
        assert 0 < stopped_at < 400 and "r resumes" in text_of(screen, "#watch-state")
        # r resumes from that checkpoint; the app is closed while the resumed run trains.
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.snapshot.state == "running" and screen.snapshot.checkpoints, WAIT_S)
        await wait_until(pilot, lambda: screen.snapshot.latest["started"].get("resumed_from_step") == stopped_at)
    assert run_state(run_dir).state == "running"  # the run survives the app

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, run_dir)
        await wait_until(pilot, lambda: screen.snapshot.state == "finished", WAIT_S)
        assert "step 400/400" in text_of(screen, "#watch-progress-text")
        assert "final  accuracy" in text_of(screen, "#watch-metrics-text")
        steps = [x for x, _ in screen.snapshot.curves["loss"]]
        assert steps == sorted(set(steps)) and steps[-1] == 400 and len(steps) >= 40  # none twice, none lost

    from huggingface_hub import ModelCard

    card = ModelCard.load(run_dir / "model" / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == "hftui-demo/tiny-bert-sentiment" and data["pipeline_tag"] == "text-classification"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    scores = {result.metric_type: result.metric_value for result in card.data.eval_results}
    assert scores["accuracy"] == round(metrics["accuracy"], 4)


async def test_a_tensorboard_log_dir_shows_curves_and_refreshes_read_only(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    summary_writer = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    log_dir = tmp_path / "tb"
    writer = summary_writer(str(log_dir))
    for step in (1, 2):
        writer.add_scalar("train/loss", 1.0 / step, step)
        writer.add_scalar("train/learning_rate", 1e-3, step)
    writer.flush()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watcher(app, pilot, log_dir)
        loss_plot = screen.query_one("#plot-loss", CurvePlot)
        await wait_until(pilot, lambda: loss_plot.drawn.get("loss") == 2)
        assert "TensorBoard log dir: read-only" in text_of(screen, "#watch-state")
        assert screen.check_action("stop", ()) is False
        writer.add_scalar("train/loss", 0.2, 3)
        writer.add_scalar("eval/loss", 0.3, 3)
        writer.flush()
        await wait_until(pilot, lambda: loss_plot.drawn == {"loss": 3, "eval_loss": 1})
    writer.close()

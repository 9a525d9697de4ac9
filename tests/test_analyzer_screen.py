"""Pilot tests of the Analyzer screen at 80x24 on the tiny models: inputs, jobs, progress, cancel, export, detail.

Models are typed into the screen as local folders (short relative paths: the test works in its own folder).
While a job runs, keys are posted to the app as the terminal driver would send them and the test polls for
their effect: `pilot.press` waits for the process to go idle, which it does not while a model is busy.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TextArea

from hftui.analyze.inputs import AnalysisInput
from hftui.app import HfTuiApp
from hftui.demo.tiny_models import SAMPLING_RATE, build_all
from hftui.ui.analyzer.benchmark import BenchmarkSetupScreen
from hftui.ui.analyzer.result import ResultDetailScreen
from hftui.ui.analyzer.screen import AnalyzerScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.messages import SendToAnalyzer
from hftui.ui.widgets.result_rows import ResultRows
from tests.pilot import screen_text, wait_until
from tests.test_dataset_preview import make_app

TASK_ROWS = {"text-classification": 0, "image-classification": 1, "image-text-to-text": 2}
TASK_ROWS["automatic-speech-recognition"] = 3
SHORT = {
    "text-classification": "bert",
    "image-classification": "vit",
    "image-text-to-text": "blip",
    "automatic-speech-recognition": "w2v",
}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny models, built once for the module (the analyzer's four get short links below)."""
    return build_all(tmp_path_factory.mktemp("analyzer-models"))


@pytest.fixture
def workdir(tmp_path: Path, tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with short links to the models (m/bert, m/vit, m/blip, m/w2v), made the cwd."""
    (tmp_path / "m").mkdir()
    for task, short in SHORT.items():
        (tmp_path / "m" / short).symlink_to(tiny_models[task], target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def open_analyzer(pilot: Pilot) -> AnalyzerScreen:
    await pilot.press("a")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, AnalyzerScreen)
    return screen


async def poll(pilot: Pilot, condition: Callable[[], object], timeout: float = 20.0) -> float:
    """Wait for `condition` without waiting for workers (a job may still be running); returns the seconds taken."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def send_key(app: HfTuiApp, key: str) -> None:
    """A key as the terminal driver delivers it, without waiting for the app to go idle."""
    app.post_message(events.Key(key, key if len(key) == 1 else None))


async def add_path(pilot: Pilot, screen: AnalyzerScreen, path: str) -> None:
    count = len(screen.inputs)
    await pilot.press("i", *path, "enter")
    await wait_until(pilot, lambda: len(screen.inputs) > count or screen.pending.problems)
    await pilot.press("escape")  # back from the path box


async def set_model(pilot: Pilot, screen: AnalyzerScreen, task: str, model: str) -> None:
    """Enter on the task's row, the last choice (type a model), then the folder."""
    screen.set_focus(screen.query_one("#analyzer-tasks"))
    await pilot.press("ctrl+home", *["down"] * TASK_ROWS[task], "enter")
    await pilot.press("end", "enter")
    assert isinstance(pilot.app.screen, PathPromptScreen)
    await pilot.press("home", "ctrl+k", *model, "enter")  # the box holds the current model: replace it
    assert screen.models[task] == model


def write_texts(path: Path, count: int) -> Path:
    path.write_text("".join(f"Review {i}: I really loved this movie, great story.\n" for i in range(count)))
    return path


def cells(table: DataTable | ResultRows, row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


async def test_inputs_run_rows_detail_and_export(workdir: Path, hftui_home: Path) -> None:
    (workdir / "in").mkdir()
    (workdir / "in" / "reviews.txt").write_text("a wonderful film\nboring and slow\n\nnice story\n")
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        assert "No inputs yet" in str(screen.query_one("#analyzer-inbox", Static).render())

        # A typed path: the name completes (tab) from what is on disk.
        await pilot.press("i", *"./in/rev")
        box = screen.query_one("#analyzer-path")
        await wait_until(pilot, lambda: box._suggestion == "./in/reviews.txt")
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: len(screen.inputs) == 3)
        await pilot.press("escape")
        assert screen.inputs[0].origin == "./in/reviews.txt:1"

        # Pasted text: one input per non-empty line.
        await pilot.press("p")
        assert app.screen.query_one(TextArea).has_focus
        app.post_message(events.Paste("pasted great movie\n\npasted awful film"))  # as the terminal sends it
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [item.value for item in screen.inputs[3:]] == ["pasted great movie", "pasted awful film"]

        # Sent from the Datasets screen through the app's inbox; a missing path is a problem, not an input.
        sent = tuple(AnalysisInput("text", f"rows.jsonl row {i} text", f"dataset text {i}") for i in range(4))
        app.post_message(SendToAnalyzer(sent, 1, "rows.jsonl column text"))
        await wait_until(pilot, lambda: len(screen.inputs) == 9)
        await add_path(pilot, screen, "./missing.txt")
        inbox = str(screen.query_one("#analyzer-inbox", Static).render())
        assert "Waiting for analysis: 9 text" in inbox and "rows.jsonl" in inbox and "pasted text" in inbox
        assert "missing.txt does not exist" in inbox

        await set_model(pilot, screen, "text-classification", "./m/bert")
        await pilot.press("r")
        job = screen.jobs[0]
        await wait_until(pilot, lambda: job.ended, timeout=60)
        await wait_until(pilot, lambda: screen.query_one("#analyzer-results", ResultRows).row_count == 9)
        assert job.state == "finished" and job.done == job.total == 9
        assert any("missing.txt does not exist" in warning for warning in job.warnings)  # carried into the job
        results = screen.query_one("#analyzer-results", ResultRows)
        first = cells(results, 0)
        assert first[0] == "a wonderful film" and first[1] == "sentiment"
        assert first[2].split()[0] in ("POSITIVE", "NEGATIVE")
        jobs_row = cells(screen.query_one("#analyzer-jobs", DataTable), 0)
        assert "finished" in jobs_row[2] and "100%" in jobs_row[3] and "bert" in jobs_row[6]
        text = screen_text(app)[0]
        assert "Job 1 finished: 9 analysed, 0 errors" in text

        # Enter on a row: the full output.
        screen.set_focus(results)
        await pilot.press("ctrl+home", "down", "enter")
        assert isinstance(app.screen, ResultDetailScreen)
        detail = str(app.screen.query_one("#result-text", Static).render())
        assert "Top predictions:" in detail and "boring and slow" in detail and "./in/reviews.txt:2" in detail
        assert "Model: ./m/bert" in detail and "Latency:" in detail
        await pilot.press("escape")
        assert app.screen is screen

        # Export: the default path under the hftui home (Markdown), then JSON where typed.
        await pilot.press("e")
        prompt = app.screen
        assert isinstance(prompt, PathPromptScreen)
        default = Path(prompt.query_one("#path-prompt-input").value)
        assert default.parent == hftui_home / "reports" and default.suffix == ".md"
        await pilot.press("enter")
        await wait_until(pilot, default.is_file)
        markdown = default.read_text()
        assert "./m/bert" in markdown and "dataset text 2" in markdown and "missing.txt" in markdown
        await pilot.press("e", "home", "ctrl+k", *"out/report.json", "enter")
        await wait_until(pilot, (workdir / "out" / "report.json").is_file)
        report = json.loads((workdir / "out" / "report.json").read_text())
        assert len(report["results"]) == 9 and report["state"] == "finished"
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any(str(default) in message for message in messages)


async def test_every_task_and_an_image_picture(workdir: Path) -> None:
    media = workdir / "media"
    media.mkdir()
    Image.new("RGB", (48, 32), (200, 30, 30)).save(media / "red.png")
    Image.new("RGB", (32, 32), (20, 40, 220)).save(media / "blue.jpg")
    rng = np.random.default_rng(0)
    sf.write(media / "noise.wav", (0.1 * rng.standard_normal(SAMPLING_RATE // 2)).astype(np.float32), SAMPLING_RATE)
    (media / "notes.txt").write_text("one line of text\n")
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        await add_path(pilot, screen, "./media")
        assert sorted(item.modality for item in screen.inputs) == ["audio", "image", "image", "text"]
        for task, short in SHORT.items():
            await set_model(pilot, screen, task, f"./m/{short}")
        await pilot.press("r")
        job = screen.jobs[0]
        await wait_until(pilot, lambda: job.ended, timeout=60)
        assert job.state == "finished", job.error
        tasks = Counter(row.task for row in job.rows)
        assert tasks == Counter(
            {
                "text-classification": 1,
                "image-classification": 2,
                "image-text-to-text": 2,
                "automatic-speech-recognition": 1,
            }
        )
        assert all(row.ok for row in job.rows)
        assert "sentiment+classify+caption+speech" == job.title

        results = screen.query_one("#analyzer-results", ResultRows)
        await wait_until(pilot, lambda: results.row_count == 6)
        image_row = next(i for i, row in enumerate(job.rows) if row.task == "image-classification")
        screen.set_focus(results)
        await pilot.press("ctrl+home", *["down"] * image_row, "enter")
        detail = app.screen
        assert isinstance(detail, ResultDetailScreen)
        picture = detail.query_one("#result-picture", Static)
        await wait_until(pilot, lambda: "image " in str(picture.render()))
        drawn = str(picture.render())
        assert "▀" in drawn and ("image 32x32 RGB" in drawn or "image 48x32 RGB" in drawn)
        assert "Top predictions:" in str(detail.query_one("#result-text", Static).render())


async def test_cancel_a_long_job_and_a_queued_one(workdir: Path) -> None:
    write_texts(workdir / "many.txt", 20_000)
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        await add_path(pilot, screen, "./many.txt")
        await set_model(pilot, screen, "text-classification", "./m/bert")
        await pilot.press("r", "r")  # the second waits in the queue
        first, second = screen.jobs
        assert second.state == "queued" and screen.job_list.selected is second
        assert "queued" in cells(screen.query_one("#analyzer-jobs", DataTable), 1)[2]

        send_key(app, "c")  # the highlighted job: the queued one never starts
        await poll(pilot, lambda: second.state == "cancelled")
        await poll(pilot, lambda: first.done > 0, timeout=60)  # progress moves while it runs
        seen = first.done
        await poll(pilot, lambda: first.done > seen, timeout=30)
        assert first.state == "running" and 0 < first.done < first.total == 20_000
        assert screen.query_one("#analyzer-results", ResultRows).row_count == 0  # job 2 is the one shown

        send_key(app, "escape")  # nothing highlighted runs: escape cancels the running job
        await poll(pilot, lambda: first.state in ("cancelling", "cancelled"))
        await wait_until(pilot, lambda: first.ended, timeout=30)
        assert first.state == "cancelled" and first.result is not None
        assert first.done < first.total and len(first.rows) == first.done
        assert second.state == "cancelled" and second.result is None  # never ran
        await pilot.pause()
        assert screen.job_list.running_job() is None
        assert any("cancelled after" in n.message for n in app._notifications)


async def test_keys_are_answered_while_a_job_runs(workdir: Path) -> None:
    write_texts(workdir / "many.txt", 20_000)
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        await add_path(pilot, screen, "./many.txt")
        await set_model(pilot, screen, "text-classification", "./m/bert")
        await pilot.press("r")
        job = screen.jobs[0]
        results = screen.query_one("#analyzer-results", ResultRows)
        await poll(pilot, lambda: results.row_count >= 10, timeout=60)
        screen.set_focus(results)

        answers = []
        for _ in range(3):  # the cursor moves at once, several times
            row = results.cursor_row
            send_key(app, "j")
            answers.append(await poll(pilot, lambda row=row: results.cursor_row == row + 1, timeout=2))
        send_key(app, "m")  # another screen, and back
        answers.append(await poll(pilot, lambda: app.current_mode == "models", timeout=2))
        assert not job.ended  # the switch happened while the job ran
        done = job.done
        send_key(app, "a")
        answers.append(await poll(pilot, lambda: app.screen is screen, timeout=2))
        await poll(pilot, lambda: job.done > done, timeout=30)  # it went on meanwhile
        assert not job.ended, "the job ended before the keys were answered; make it longer"
        assert max(answers) < 1.0, answers

        send_key(app, "c")
        await wait_until(pilot, lambda: job.ended, timeout=30)
        assert job.state == "cancelled"


async def test_failures_are_shown_and_the_app_goes_on(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        await pilot.press("p")
        app.post_message(events.Paste("some text"))
        await pilot.pause()
        await pilot.press("ctrl+s")

        await set_model(pilot, screen, "text-classification", "./m/nothing-here")
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.jobs[0].ended, timeout=30)
        job = screen.jobs[0]
        assert job.state == "failed" and "not a model folder" in (job.error or "")
        summary = screen.query_one("#analyzer-summary", Static)
        assert summary.has_class("-failed") and "✗ ./m/nothing-here is not a model folder" in str(summary.render())
        assert "failed" in cells(screen.query_one("#analyzer-jobs", DataTable), 0)[2]
        assert any(n.severity == "error" and "not a model folder" in n.message for n in app._notifications)

        # A bug in the worker itself: the job fails, the app reports it, and the next job still runs.
        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the engine broke")

        with monkeypatch.context() as patch:
            patch.setattr("hftui.analyze.engine.MultiModalAnalyzer.run", broken)
            await pilot.press("r")
            await wait_until(pilot, lambda: screen.jobs[1].ended, timeout=30)
        assert screen.jobs[1].state == "failed" and "RuntimeError: the engine broke" in (screen.jobs[1].error or "")
        assert any("the engine broke" in n.message and n.severity == "error" for n in app._notifications)

        await set_model(pilot, screen, "text-classification", "./m/bert")
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.jobs[2].ended, timeout=60)
        assert screen.jobs[2].state == "finished", screen.jobs[2].error
        assert app.is_running


async def test_remote_code_is_allowed_only_after_confirmation(workdir: Path) -> None:
    coded = workdir / "m" / "coded"
    shutil.copytree(workdir / "m" / "bert", coded)
    config = json.loads((coded / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_coded.CodedBert"}
    (coded / "config.json").write_text(json.dumps(config))
    (coded / "modeling_coded.py").write_text(
        "from transformers import BertForSequenceClassification\n\n\n"
        "class CodedBert(BertForSequenceClassification):\n    pass\n"
    )
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        await pilot.press("p")
        app.post_message(events.Paste("good\nbad"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await set_model(pilot, screen, "text-classification", "./m/coded")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=30)
        first = screen.jobs[0]
        assert first.state == "failed" and "trust_remote_code" in (first.error or "")
        assert "runs Python code from the model's repository" in str(app.screen.query_one("#confirm-details").render())

        await pilot.press("n")  # refused: nothing runs, R asks again
        assert len(screen.jobs) == 1 and "./m/coded" not in screen.allowed_remote_code
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.jobs) == 2 and screen.jobs[1].ended, timeout=60)
        second = screen.jobs[1]
        assert second.spec.allow_remote_code == frozenset({"./m/coded"})
        assert any("runs its repository's own Python code" in warning for warning in second.warnings)
        assert second.state == "finished", second.error


async def test_benchmark_with_labels_and_its_export(workdir: Path) -> None:
    shutil.copytree(workdir / "m" / "bert", workdir / "m" / "bert2")
    words = ["great wonderful film", "awful boring film"] * 10
    labels = tuple("POSITIVE" if "great" in text else "NEGATIVE" for text in words)
    sent = tuple(AnalysisInput("text", f"reviews row {i} text", text) for i, text in enumerate(words))
    app = make_app(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analyzer(pilot)
        app.post_message(SendToAnalyzer(sent, 0, "reviews column text", labels))
        await wait_until(pilot, lambda: len(screen.inputs) == 20)
        await pilot.press("b")
        setup = app.screen
        assert isinstance(setup, BenchmarkSetupScreen)
        assert "20 with labels" in screen_text(app)[0]
        await pilot.press("space")  # untick the Hub default (offline here)
        await pilot.press("tab", *"./m/bert", "enter", "tab", *"./m/bert2", "enter")
        await pilot.press("r")
        assert app.screen is screen
        job = screen.jobs[0]
        assert job.benchmark is not None and job.benchmark.models == ("./m/bert", "./m/bert2")
        await wait_until(pilot, lambda: job.ended, timeout=60)
        assert job.state == "finished" and job.benchmark_result is not None
        table = screen.query_one("#analyzer-results", ResultRows)
        await wait_until(pilot, lambda: table.row_count == 2)
        row = cells(table, 0)
        assert row[0] == "bert" and row[1] == "✓ done" and row[7].endswith("%")  # accuracy, from the labels
        assert "Recommendation: Use ./m/bert" in screen_text(app)[0]
        assert job.done == job.total == 40

        await pilot.press("e", "home", "ctrl+k", *"bench.md", "enter")
        await wait_until(pilot, (workdir / "bench.md").is_file)
        report = (workdir / "bench.md").read_text()
        assert "# hftui benchmark: text-classification" in report and "(labelled)" in report
        assert "./m/bert2" in report and "**Recommendation:**" in report

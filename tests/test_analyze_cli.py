"""`hftui analyze`: every task end to end on the tiny models through the command line, its reports on stdout or
written atomically, problems on stderr as plain text, exit codes, Ctrl+C, and cached models used offline."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from hftui.analyze.events import ItemResult, ItemsAnalysed, JobStarted, JobWarned, ModelLoadPhased
from hftui.analyze.reports import CSV_COLUMNS
from hftui.cli import main
from hftui.commands import analyze as command
from hftui.demo.tiny_models import IMAGE_LABELS, SAMPLING_RATE, SENTIMENT_LABELS, TINY_MODELS, build_all

REPO_ROOT = Path(__file__).resolve().parents[1]
ALL_TASKS = ("text-classification", "image-classification", "image-text-to-text", "automatic-speech-recognition")


# --- fixtures ---


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The analyzer's four tiny models, built once for the module, by task (the playground's are left out)."""
    built = build_all(tmp_path_factory.mktemp("tiny-models"))
    return {task: str(built[task]) for task in ALL_TASKS}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of every kind of input: text lines, PNG and JPEG (one in a subfolder), WAV, FLAC, a corrupt PNG."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    (root / "reviews.txt").write_text("I loved this film\n\n[bold]terrible[/bold] plot\n", encoding="utf-8")
    (root / "photos").mkdir()
    Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(root / "photos" / "cat.png")
    Image.fromarray(rng.integers(0, 256, (36, 36, 3), dtype=np.uint8)).save(root / "dog.jpg")
    (root / "broken.png").write_bytes(b"not a png at all")
    sf.write(root / "hello.wav", (0.1 * rng.standard_normal(SAMPLING_RATE // 2)).astype(np.float32), SAMPLING_RATE)
    # 8 kHz, so the engine resamples it to the model's 16 kHz.
    sf.write(root / "bye.flac", (0.1 * rng.standard_normal(4000)).astype(np.float32), 8000)
    (root / "notes.bin").write_bytes(b"\x00\x01")  # not a type hftui reads: skipped inside a folder
    return root


def model_args(built: dict[str, str], tasks: tuple[str, ...] = ALL_TASKS) -> list[str]:
    return [arg for task in tasks for arg in ("--model", f"{task}={built[task]}")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["analyze", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- arguments refused before anything loads (no models needed) ---


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.txt", "--model", "text-classification"], "expected TASK=MODEL"),
        (["x.txt", "--model", "=./model"], "expected TASK=MODEL"),
        (["x.txt", "--model", "text-classification="], "expected TASK=MODEL"),
        (["x.txt", "--model", "fill-mask=./model"], "unknown task 'fill-mask'"),
        (["x.txt", "--model", "text-classification=a", "--model", "sentiment-analysis=b"], "already has the model"),
        (["x.txt", "--task", "translation"], "unknown task 'translation'"),
        (["x.txt", "--device", "tpu"], "--device 'tpu'"),
        (["x.txt", "--batch-size", "0"], "must be at least 1"),
        (["x.txt", "--batch-size", "many"], "expected a whole number"),
        (["x.txt", "--format", "html"], "invalid choice: 'html'"),
        (["x.txt", "--out", "report.txt"], "cannot tell the report format"),
        (["x.txt", "--out", "no/such/folder/report.md"], "does not exist"),
        ([], "nothing to analyse: give files or folders"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["analyze", *argv])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_missing_path_fails_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "[red]gone[/red].txt"  # markup in a file name is shown as it is, never parsed
    code, out, err = run(capsys, str(missing))
    assert code == 1
    assert out == ""
    assert f"warning: {missing} does not exist." in err
    assert "error: There is nothing to analyse: no inputs were given." in err


def test_empty_folder_fails_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "data.bin").write_bytes(b"\x00")
    code, out, err = run(capsys, str(tmp_path / "empty"))
    assert code == 1
    assert out == ""
    assert "is a folder with no text, image or audio files hftui can analyse" in err
    assert "nothing to analyse" in err.lower()


def test_progress_display_on_a_terminal_shows_untrusted_text_plainly() -> None:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    display = command.JobDisplay(console, show_progress=True)
    evil = "acme/[red]evil-model"
    row = ItemResult(0, "a.txt:1", "text", "text-classification", evil, label="[blink]POS[/blink]", score=0.9)
    with display:
        display.show(JobStarted(10, ("text-classification",), "cpu", "float32"))
        display.show(ModelLoadPhased("text-classification", evil, "loading"))
        assert display.progress is not None and display.bar is not None
        assert display.progress.tasks[0].description == "text acme/[red]evil-model: loading"
        display.show(ModelLoadPhased("text-classification", evil, "ready"))
        display.show(ItemsAnalysed((row,), 4, 10, 8.0, 0.75))
        display.show(JobWarned("[red]x[/red].txt does not exist."))
        task = display.progress.tasks[0]
        assert (task.completed, task.total) == (4, 10)
        assert task.fields == {"speed": "8.0 items/s", "eta": "ETA 1s"}
        display.progress.refresh()
    shown = buffer.getvalue()
    assert "text acme/[red]evil-model" in shown
    assert "4/10" in shown and "8.0 items/s" in shown
    assert "warning: [red]x[/red].txt does not exist." in shown


def test_cancelling_flag_is_set_by_the_first_ctrl_c_only() -> None:
    heard: list[str] = []
    with command.ctrl_c_cancels(lambda: heard.append("first")) as cancel:
        os.kill(os.getpid(), signal.SIGINT)
        assert cancel.is_set() and heard == ["first"]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- every task end to end on the tiny models ---


@pytest.mark.slow
def test_folder_runs_every_task_as_json(
    built: dict[str, str], inputs: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(inputs), *model_args(built), "--format", "json", "--batch-size", "2")
    assert code == 0, err
    report = json.loads(out)
    assert report["state"] == "finished" and report["tasks"] == list(ALL_TASKS)
    origins = {item["origin"] for item in report["inputs"]}
    assert origins == {
        str(inputs / "broken.png"),
        str(inputs / "bye.flac"),
        str(inputs / "dog.jpg"),
        str(inputs / "hello.wav"),
        str(inputs / "photos" / "cat.png"),
        f"{inputs / 'reviews.txt'}:1",
        f"{inputs / 'reviews.txt'}:3",
    }
    rows: dict[str, list[dict[str, Any]]] = {task: [] for task in ALL_TASKS}
    for row in report["results"]:
        rows[row["task"]].append(row)
    assert [len(rows[task]) for task in ALL_TASKS] == [2, 3, 3, 2]
    for row in rows["text-classification"]:
        assert row["ok"] and row["label"] in SENTIMENT_LABELS and len(row["top_k"]) == 2
    for task in ("image-classification", "image-text-to-text"):
        broken = [row for row in rows[task] if row["origin"].endswith("broken.png")]
        assert len(broken) == 1 and not broken[0]["ok"] and "is not an image" in broken[0]["error"]
        assert sum(row["ok"] for row in rows[task]) == 2
    assert all(row["label"] in IMAGE_LABELS for row in rows["image-classification"] if row["ok"])
    assert all(isinstance(row["text"], str) for row in rows["image-text-to-text"] if row["ok"])
    assert all(row["ok"] and isinstance(row["text"], str) for row in rows["automatic-speech-recognition"])
    assert {model["model"] for model in report["models"]} == set(built.values())
    assert {model["source"] for model in report["models"]} == {"requested"}
    assert report["summary"]["succeeded"] == 8 and report["summary"]["failed"] == 2
    # Item errors are on stderr too, one line each; nothing else is (stderr is not a terminal: no bar).
    assert err.count("error: ") == 2 and "broken.png (image-classification): is not an image" in err
    assert "wrote" not in err and "━" not in err


@pytest.mark.slow
def test_files_and_typed_text_as_markdown_for_chosen_tasks(
    built: dict[str, str], inputs: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        str(inputs / "reviews.txt"),
        str(inputs / "dog.jpg"),
        str(inputs / "hello.wav"),
        "--text",
        "what a great day",
        "--task",
        "sentiment-analysis",  # the Hub tag names the same task
        "--task",
        "image-classification",
        *model_args(built, ("text-classification", "image-classification")),
    )
    assert code == 0, err
    assert out.startswith("# hftui analysis report\n")
    assert "- **Tasks:** text-classification, image-classification" in out
    assert "## Models" in out and f"| text-classification | {built['text-classification']} | requested |" in out
    assert "apache-2.0" in out
    results = out.split("## Results", 1)[1].split("## Summary", 1)[0]
    assert results.count("| text-classification |") == 3 and results.count("| image-classification |") == 1
    assert 'text 1: "what a great day"' in results
    assert "\\[bold\\]terrible\\[/bold\\]" in results  # the file's text, escaped for Markdown
    assert "- Items: 4 planned, 4 analysed, 0 failed" in out
    assert "warning: 1 audio input(s) skipped: no chosen task analyses audio." in err


@pytest.mark.slow
def test_out_writes_csv_atomically_with_the_format_from_its_suffix(
    built: dict[str, str],
    inputs: Path,
    offline: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "report.csv"
    target.write_text("an older report\n", encoding="utf-8")
    argv = [str(inputs / "photos"), "--text", "a lovely photo", "--out", str(target), *model_args(built)]

    # A write that fails at the last step leaves the old report whole and no temporary file behind.
    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", refuse)
        code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert f"error: cannot write {target}: No space left on device" in err
    assert target.read_text(encoding="utf-8") == "an older report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.csv"]

    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out == ""
    assert f"wrote {target} (csv, 3 rows)" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.csv"]
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(row["task"], row["modality"]) for row in rows] == [
        ("text-classification", "text"),
        ("image-classification", "image"),
        ("image-text-to-text", "image"),
    ]
    assert rows[0]["origin"] == "text 1" and rows[0]["label"] in SENTIMENT_LABELS
    assert rows[1]["origin"] == str(inputs / "photos" / "cat.png") and rows[1]["label"] in IMAGE_LABELS
    assert rows[1]["top_k"].count(":") == 3 and float(rows[1]["score"]) > 0
    assert all(not row["error"] for row in rows)


@pytest.mark.slow
def test_a_model_whose_tag_does_not_fit_is_refused(
    built: dict[str, str], inputs: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, str(inputs / "reviews.txt"), "--model", f"text-classification={built['image-classification']}"
    )
    assert code == 1
    assert out == ""  # nothing was analysed, so no report
    assert f"error: {built['image-classification']} is an image-classification model, not text-classification" in err


@pytest.mark.slow
def test_ctrl_c_cancels_and_prints_what_was_done(
    built: dict[str, str],
    offline: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = tmp_path / "many.txt"
    texts.write_text("".join(f"review number {n} was great fun\n" for n in range(200)), encoding="utf-8")
    show = command.JobDisplay.show

    def interrupt_after_first_batch(self: command.JobDisplay, event: Any) -> None:
        show(self, event)
        if isinstance(event, ItemsAnalysed) and event.done == 4:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C in the terminal sends

    monkeypatch.setattr(command.JobDisplay, "show", interrupt_after_first_batch)
    code, out, err = run(capsys, str(texts), "--batch-size", "4", "--format", "json", *model_args(built))
    assert code == command.EXIT_CANCELLED
    report = json.loads(out)
    assert report["state"] == "cancelled"
    assert [row["index"] for row in report["results"]] == [0, 1, 2, 3]
    assert len(report["inputs"]) == 200
    assert "cancelling: stopping after the current batch" in err


@pytest.mark.slow
def test_cached_models_are_used_offline_without_model_arguments(
    built: dict[str, str],
    offline: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    spec = TINY_MODELS["text-classification"]
    repo = cache / ("models--" + spec.repo_id.replace("/", "--"))
    commit = "0" * 40
    shutil.copytree(built["text-classification"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    texts = tmp_path / "texts.txt"
    texts.write_text("fine\nawful\n", encoding="utf-8")

    code, out, err = run(capsys, "--offline", str(texts), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert [(m["task"], m["model"], m["source"]) for m in report["models"]] == [
        ("text-classification", spec.repo_id, "cached")
    ]
    assert [row["label"] in SENTIMENT_LABELS for row in report["results"]] == [True, True]


@pytest.mark.slow
def test_python_m_hftui_analyze_entry_point(built: dict[str, str], inputs: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home"), "COLUMNS": "200"}
    argv = ["analyze", str(inputs / "reviews.txt"), "--format", "csv", *model_args(built, ("text-classification",))]
    done = subprocess.run(
        [sys.executable, "-m", "hftui", *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no progress bar, and nothing went wrong
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [row["origin"] for row in rows] == [f"{inputs / 'reviews.txt'}:1", f"{inputs / 'reviews.txt'}:3"]
    assert all(row["label"] in SENTIMENT_LABELS for row in rows)


@pytest.mark.slow
def test_an_unreachable_hub_switches_to_the_cache_only(
    built: dict[str, str], inputs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    from hftui.hub import connectivity

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    # Online as far as the settings go (the module's `offline` fixture may be in force), but no socket opens.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    probed: list[str] = []

    def unreachable(endpoint: str, timeout: float = 3.0) -> connectivity.HubReachability:
        probed.append(endpoint)
        return connectivity.HubReachability(False, endpoint, "cannot connect (test)")

    monkeypatch.setattr(connectivity, "probe_hub", unreachable)
    code, out, err = run(capsys, str(inputs / "reviews.txt"), "--model", "text-classification=acme/not-downloaded")
    assert code == 1 and out == ""
    assert probed == [huggingface_hub.constants.ENDPOINT]
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    assert "is unreachable (cannot connect (test)), so acme/not-downloaded cannot be downloaded" in err
    assert "error: Could not load acme/not-downloaded: it is not in the HF cache and hftui is offline" in err

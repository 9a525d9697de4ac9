"""Shared fixtures of the training tests: the tiny BERT, a small generated dataset, a spec, run cleanup.

No tests here; the training test modules import these fixtures.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hftui.train.events import EVENTS_FILE, RunEvent, read_all_events
from hftui.train.process import read_process_info
from hftui.train.spec import DatasetRef, Hyperparameters, LoraSettings, RunSpec

POSITIVE = "good great love amazing wonderful excellent happy fun".split()
NEGATIVE = "bad awful hate terrible boring poor sad ugly".split()
WAIT_S = 90.0


def review_rows(n: int = 64, seed: int = 0) -> list[dict[str, str]]:
    """n rows of text and a string label (pos/neg), the words telling them apart."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = POSITIVE if label == "pos" else NEGATIVE
        rows.append({"text": " ".join(rng.choice(words) for _ in range(6)), "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's tiny BERT sentiment classifier, built once per session."""
    from hftui.demo.tiny_models import build_tiny_model

    return build_tiny_model("text-classification", tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture(scope="session")
def reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 generated review rows with string labels, as CSV."""
    return write_csv(tmp_path_factory.mktemp("data") / "reviews.csv", review_rows())


def small_spec(model: Path, data: Path, *, lora: bool = False, **hyper: object) -> RunSpec:
    """A spec that trains in a second or two on a CPU: few steps, batch 8, max_length 16."""
    values: dict[str, object] = {
        "max_steps": 6,
        "batch_size": 8,
        "max_length": 16,
        "learning_rate": 1e-3,
        "logging_steps": 2,
        "eval_steps": 3,
        "save_steps": 3,
    }
    values.update(hyper)
    return RunSpec(
        base_model=str(model),
        base_model_id="hftui-demo/tiny-bert-sentiment",
        dataset=DatasetRef(str(data)),
        hyperparameters=Hyperparameters(**values),  # type: ignore[arg-type]
        lora=LoraSettings(r=4, alpha=8, dropout=0.0) if lora else None,
    )


@pytest.fixture
def quiet_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers the tests start use one CPU thread each and never try the network."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def reap_runs() -> Iterator[list[Path]]:
    """Run folders a test started; any process still alive at teardown is killed with its group."""
    started: list[Path] = []
    yield started
    for run_dir in started:
        info = read_process_info(run_dir)
        if info is None:
            continue
        try:
            os.killpg(info.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(info.pid, 0)
        except ChildProcessError:
            pass


def wait_for(
    run_dir: Path, condition: Callable[[list[RunEvent]], bool], *, timeout: float = WAIT_S, poll: float = 0.05
) -> list[RunEvent]:
    """Poll the run's events.jsonl until `condition(events)` holds; fail with the log tail on timeout."""
    deadline = time.monotonic() + timeout
    events: list[RunEvent] = []
    while time.monotonic() < deadline:
        events = list(read_all_events(run_dir / EVENTS_FILE).events)
        if condition(events):
            return events
        time.sleep(poll)
    log = (run_dir / "train.log").read_text(errors="replace")[-3000:] if (run_dir / "train.log").exists() else ""
    kinds = [event.kind for event in events]
    raise AssertionError(f"timed out after {timeout:.0f} s; events {kinds}\n--- train.log ---\n{log}")


def has_kind(*kinds: str) -> Callable[[list[RunEvent]], bool]:
    """A wait_for condition: some event of these kinds was written."""
    return lambda events: any(event.kind in kinds for event in events)


def count_kind(kind: str, n: int) -> Callable[[list[RunEvent]], bool]:
    """A wait_for condition: at least n events of this kind."""
    return lambda events: sum(event.kind == kind for event in events) >= n

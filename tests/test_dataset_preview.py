"""Pilot tests of the dataset preview: stream local files, filter, statistics, stop mid-stream."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hftui.app import HfTuiApp
from hftui.data.sampler import SampleSource
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.browse.dataset_preview import DatasetPreviewScreen
from tests.pilot import wait_until

ROWS = [{"text": "word " * (index % 40 + 1), "label": index % 3, "score": index / 10} for index in range(2000)]


def write(kind: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "jsonl":
        path = folder / "rows.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    elif kind == "csv":
        path = folder / "rows.csv"
        with path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=["text", "label", "score"])
            writer.writeheader()
            writer.writerows(ROWS)
    else:
        path = folder / "rows.parquet"
        pq.write_table(pa.Table.from_pylist(ROWS), path)
    return path


def make_app(tmp_path: Path) -> HfTuiApp:
    cache = tmp_path / "hub"
    return HfTuiApp(HubSettings("http://127.0.0.1:9", cache.parent, cache, True, read_token_status()))


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
async def test_stream_filter_and_stats(tmp_path: Path, kind: str) -> None:
    path = write(kind, tmp_path / "data")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DatasetPreviewScreen(SampleSource("local", str(path)))
        app.push_screen(screen)
        await wait_until(pilot, lambda: not screen.streaming and len(screen.rows) == 100)
        assert screen.columns == ("text", "label", "score")
        status = str(screen.query_one("#preview-status").render())
        assert "100 rows" in status
        stats = str(screen.query_one("#preview-stats").render())
        assert "label" in stats and "score" in stats and "min 0" in stats

        await pilot.press("slash", *"label == 1 and len(text) > 50", "enter")
        await wait_until(pilot, lambda: not screen.streaming and len(screen.rows) == 100)
        assert all(int(row["label"]) == 1 and len(row["text"]) > 50 for row in screen.rows)

        await pilot.press("enter")  # the full row
        assert screen.query_one("#preview-detail").display


async def test_bad_filter_is_explained(tmp_path: Path) -> None:
    path = write("jsonl", tmp_path / "data")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DatasetPreviewScreen(SampleSource("local", str(path)))
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.rows) == 100 and not screen.streaming)
        await pilot.press("slash", *"lable == 1", "enter")
        await wait_until(pilot, lambda: not screen.streaming)
        assert "no column named 'lable'" in str(screen.query_one("#preview-status").render())


async def test_escape_stops_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"row {index}", "label": index % 2}) + "\n" for index in range(200_000))
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DatasetPreviewScreen(SampleSource("local", str(path)))
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.rows) == 100 and not screen.streaming)
        screen.query_one("#preview-n").value = "1000000"
        screen.action_restart()
        # Not wait_until: it waits for workers, and this one must still be running when escape arrives.
        while not screen.rows:
            await pilot.pause(0.01)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.streaming)
        assert len(screen.rows) < 200_000
        assert "Stopped" in str(screen.query_one("#preview-status").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, DatasetPreviewScreen)


async def test_value_counts_sort_skip_and_save(tmp_path: Path, hftui_home: Path) -> None:
    path = write("jsonl", tmp_path / "data")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DatasetPreviewScreen(SampleSource("local", str(path)))
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.rows) == 100 and not screen.streaming)

        await pilot.press("v", "down", "enter")  # the label column
        await wait_until(pilot, lambda: screen.counts_column == "label")
        counts = str(screen.query_one("#preview-stats").render())
        assert "Most frequent values of label" in counts and "34" in counts  # 34 zeros in rows 0..99

        await pilot.press("o", "down", "down", "enter")  # sort by score, then again: descending
        await wait_until(pilot, lambda: screen.sorted_by == ("score", False))
        assert [row["score"] for row in screen.rows] == sorted(row["score"] for row in screen.rows)
        await pilot.press("o", "down", "down", "enter")
        await wait_until(pilot, lambda: screen.sorted_by == ("score", True))
        assert screen.rows[0]["score"] == max(row["score"] for row in screen.rows)

        screen.query_one("#preview-skip").value = "1990"
        screen.action_restart()
        await wait_until(pilot, lambda: len(screen.rows) == 10 and not screen.streaming)
        assert screen.rows[0]["score"] == 199.0

        await pilot.press("w", "enter")  # Parquet
        saved = hftui_home / "samples" / "rows-jsonl-10.parquet"
        await wait_until(pilot, lambda: saved.is_file())
    from datasets import load_dataset

    reopened = load_dataset("parquet", data_files=str(saved), split="train")
    assert reopened.num_rows == 10 and reopened[0]["score"] == 199.0


async def test_send_a_column_and_a_row_to_the_analyzer(tmp_path: Path) -> None:
    path = write("jsonl", tmp_path / "data")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = DatasetPreviewScreen(SampleSource("local", str(path)))
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.rows) == 100 and not screen.streaming)

        await pilot.press("A", "down", "enter")  # the first choice is the row; then the text column
        await wait_until(pilot, lambda: len(app.analyzer_inbox) == 100)
        assert {item.modality for item in app.analyzer_inbox} == {"text"}
        assert app.analyzer_inbox[3].value == ROWS[3]["text"] and app.analyzer_inbox[3].origin.endswith("row 3 text")

        await pilot.press("down", "down", "A", "enter")  # row 2: only its text is analysable
        await wait_until(pilot, lambda: len(app.analyzer_inbox) == 101)
        assert app.analyzer_inbox[-1].value == ROWS[2]["text"]

        await pilot.press("A", "down", "down", "enter")  # the label column holds nothing to analyse
        await pilot.pause(0.2)
        assert len(app.analyzer_inbox) == 101

        await pilot.press("escape", "a")
        await wait_until(
            pilot, lambda: "Waiting for analysis: 101 text" in str(app.screen.query_one("#analyzer-inbox").render())
        )

"""Pilot tests of the convert screen at 80x24: add three files by typing, map, label, run, check the splits."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from textual.pilot import Pilot

import hftui.ui.training.convert as convert_screen
from hftui.ui.training.convert import ConvertScreen
from tests.pilot import screen_text, wait_until
from tests.test_convert import CLASSES, labels_in, write_sources
from tests.test_dataset_preview import make_app


async def go_to(pilot: Pilot, screen: ConvertScreen, target: str) -> None:
    """Move the table's cursor onto a target column with the keys a user would press."""
    index = [column.name for column in screen.plan.columns].index(target)
    await pilot.press("ctrl+home", *["down"] * index)
    assert screen.current_target() == target


async def add_files(pilot: Pilot, screen: ConvertScreen, paths: tuple[Path, ...]) -> None:
    """Type each path relative to the working folder (short to type; the screen resolves it) and enter."""
    assert screen.focused is screen.query_one("#convert-path")  # the screen opens ready for a path
    for path in paths:
        await pilot.press(*str(path.relative_to(Path.cwd())), "enter")
    await wait_until(pilot, lambda: len(screen.plan.schemas) == len(paths) and not screen.pending)
    await pilot.press("escape")  # from the path box to the table


async def map_onto_one_schema(pilot: Pilot, screen: ConvertScreen) -> None:
    """Sentiment renamed onto label, the Parquet review column mapped onto text, score cast, extra dropped."""
    await go_to(pilot, screen, "sentiment")
    await pilot.press("n", *"label", "enter")  # the box opens with the old name selected
    await wait_until(pilot, lambda: screen.plan.column("sentiment") is None)
    await go_to(pilot, screen, "text")
    await pilot.press("e", "down", "down", "enter")  # the third file
    await pilot.press("down", "enter")  # its first column, review
    await wait_until(pilot, lambda: screen.plan.column("review") is None)
    await go_to(pilot, screen, "score")
    await pilot.press("T", *["down"] * 3, "enter")  # float64
    await go_to(pilot, screen, "extra")
    await pilot.press("x")
    await go_to(pilot, screen, "label")
    await pilot.press("l")


async def test_convert_three_files_into_stratified_splits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_sources(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConvertScreen()
        app.push_screen(screen)
        await pilot.pause()
        await add_files(pilot, screen, paths)
        assert [schema.name for schema in screen.plan.schemas] == ["reviews.csv", "more.jsonl", "table.parquet"]
        text = screen_text(app)[0]
        assert "1. reviews.csv" in text and "Text: string" in text  # the schemas side by side

        await map_onto_one_schema(pilot, screen)
        plan = screen.plan
        assert [found.name for found in plan.sources_for("text")] == ["Text", "text", "review"]
        assert [found.name for found in plan.sources_for("label")] == ["Sentiment", "label", "label"]
        assert plan.column("score").dtype == "float64" and not plan.column("extra").keep
        assert plan.label == "label" and screen.label_chosen
        assert str(tmp_path / "in" / "converted") == screen.query_one("#convert-out").value

        await pilot.press("r")
        await wait_until(pilot, lambda: screen.report is not None, timeout=30)
        out = tmp_path / "in" / "converted"
        for name in ("train.parquet", "validation.parquet", "test.parquet", "REPORT.md", "report.json"):
            assert (out / name).is_file(), name
        written = {split: labels_in(out / f"{split}.parquet") for split in ("train", "validation", "test")}
        everything = [label for labels in written.values() for label in labels]
        overall = Counter(everything)
        assert len(everything) == 299 and set(overall) == set(CLASSES)
        for split, labels in written.items():
            counts = Counter(labels)
            for name in CLASSES:
                assert abs(counts[name] - overall[name] / len(everything) * len(labels)) <= 1, (split, name)
        assert screen.query_one("#convert-report-box").display
        shown = screen_text(app)[0]
        assert "Conversion report" in shown and "Wrote 299 rows: train 239, validation 30, test 30" in shown

        await pilot.press("escape")  # the report closes, the mapping is back
        assert screen.query_one("#convert-table").display
        await pilot.press("escape")
        assert app.screen is not screen


async def test_escape_cancels_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_convert = convert_screen.convert

    def slow_convert(plan, *, progress, is_cancelled):  # type: ignore[no-untyped-def]
        def slow(step):  # type: ignore[no-untyped-def]
            progress(step)
            time.sleep(0.2)

        return real_convert(plan, progress=slow, is_cancelled=is_cancelled)

    monkeypatch.setattr(convert_screen, "convert", slow_convert)
    paths = write_sources(tmp_path / "in")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConvertScreen(paths)
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.plan.schemas) == 3)
        await pilot.press("r")
        assert screen.running
        # Not wait_until: it waits for workers, and this one must still be running when escape arrives.
        while "reading" not in str(screen.query_one("#convert-status").render()):
            await pilot.pause(0.02)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running, timeout=30)
        assert "Cancelled" in str(screen.query_one("#convert-status").render())
        assert screen.report is None
        assert not (tmp_path / "in" / "converted" / "train.parquet").exists()
        assert app.screen is screen  # the first escape cancelled, it did not leave


async def test_bad_paths_and_settings_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_sources(tmp_path / "in")
    monkeypatch.chdir(tmp_path / "in")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConvertScreen()
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("escape", "i", *"nope.csv", "enter")
        await wait_until(pilot, lambda: "does not exist" in str(screen.query_one("#convert-status").render()))
        assert not screen.plan.schemas
        await pilot.press(*paths[1].name, "enter")
        await wait_until(pilot, lambda: len(screen.plan.schemas) == 1)
        screen.query_one("#convert-splits").value = "0.5,0.6,0.1"
        await pilot.press("escape", "r")
        assert "must add up to 1" in str(screen.query_one("#convert-status").render())
        assert not screen.running


async def test_a_folder_adds_its_data_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_sources(tmp_path / "in")
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "a.png").write_bytes(b"not read")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConvertScreen([tmp_path / "in"])
        app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.plan.schemas) == len(paths), timeout=30)
        assert sorted(schema.path for schema in screen.plan.schemas) == sorted(path.resolve() for path in paths)
        await pilot.press("i", *"pictures", "enter")
        await wait_until(pilot, lambda: "holds no CSV" in str(screen.query_one("#convert-status").render()))
        assert len(screen.plan.schemas) == len(paths)


def test_screen_module_imports_no_datasets() -> None:
    code = "import sys, hftui.ui.training.convert, hftui.cli; hftui.cli.build_parser(); print(' '.join(sys.modules))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    for heavy in ("datasets", "pyarrow", "pandas", "torch", "transformers"):
        assert heavy not in loaded, heavy


def status_of(screen: ConvertScreen) -> str:
    return " ".join(str(screen.query_one("#convert-status").render()).split())


async def test_unreadable_files_are_a_message_and_the_screen_answers_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty CSV, a truncated Parquet file, a broken JSON Lines line: each a status message, no crash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "empty.csv").write_bytes(b"")
    pq.write_table(pa.table({"text": ["a"] * 50, "label": ["x", "y"] * 25}), tmp_path / "good.parquet")
    (tmp_path / "bad.parquet").write_bytes((tmp_path / "good.parquet").read_bytes()[:300])
    (tmp_path / "broken.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": broken\n')
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ConvertScreen()
        app.push_screen(screen)
        await pilot.pause()
        for name, words in (
            ("empty.csv", "empty.csv is empty"),
            ("bad.parquet", "bad.parquet is not a valid Parquet file"),
            ("broken.jsonl", "invalid JSON at broken.jsonl line 2"),
        ):
            await pilot.press(*name, "enter")
            await wait_until(pilot, lambda words=words: words in status_of(screen))
            assert not screen.plan.schemas and not screen.pending
        await pilot.press(*"good.parquet", "enter")  # the screen still answers
        await wait_until(pilot, lambda: len(screen.plan.schemas) == 1)
        assert app.screen is screen


async def test_encoding_box_and_skip_switch_read_refused_files_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed before: a Latin-1 CSV was "invalid JSON" and could not be read; ragged rows were reshaped silently."""
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"text,label\n" + "".join(f"café {i},{'ab'[i % 2]}\n" for i in range(20)).encode("latin-1"))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\none,a,extra\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(20)))
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ConvertScreen()
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press(*"latin1.csv", "enter")
        await wait_until(pilot, lambda: "not UTF-8 text: byte 0xe9 at offset 14" in status_of(screen))
        assert "encoding box" in status_of(screen) and not screen.plan.schemas
        encoding = screen.query_one("#convert-encoding")
        encoding.value = ""
        screen.set_focus(encoding)
        await pilot.press(*"latin-1", "enter")  # the refused file is read again
        await wait_until(pilot, lambda: len(screen.plan.schemas) == 1)
        assert screen.plan.encoding == "latin-1" and screen.plan.schemas[0].encoding == "iso8859-1"

        screen.query_one("#convert-encoding").value = "utf-8"
        screen.set_focus(screen.query_one("#convert-encoding"))
        await pilot.press("enter")
        screen.set_focus(screen.query_one("#convert-path"))
        await pilot.press(*"ragged.csv", "enter")
        await wait_until(pilot, lambda: "more fields than its header's 2 (line 2)" in status_of(screen))
        assert "b skips them" in status_of(screen) and len(screen.plan.schemas) == 1
        await pilot.press("escape", "b")
        await wait_until(pilot, lambda: len(screen.plan.schemas) == 2)
        assert screen.plan.skip_bad_rows and "1 bad row skipped (line 2)" in status_of(screen)
        assert "skip bad rows (b) on" in str(screen.query_one("#convert-options").render())
        assert [column.name for column in screen.plan.schemas[1].columns] == ["text", "label"]
        screen.query_one("#convert-splits").value = "1,0,0"
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.report is not None, timeout=30)
        assert screen.report.skipped_rows == 1


async def test_an_unexpected_read_failure_does_not_block_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed before: an exception other than ConvertError left the file pending for ever, so r only ever said
    "Wait until every file is read"."""
    paths = write_sources(tmp_path / "in")
    real_read = convert_screen.read_schema

    def flaky_read(path, **settings):  # type: ignore[no-untyped-def]
        if Path(path).name == "more.jsonl":
            raise RuntimeError("disk on fire")
        return real_read(path, **settings)

    monkeypatch.setattr(convert_screen, "read_schema", flaky_read)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ConvertScreen([paths[0], paths[1]])
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.plan.schemas and not screen.pending, timeout=30)
        assert [schema.name for schema in screen.plan.schemas] == ["reviews.csv"]
        assert "cannot read more.jsonl: RuntimeError: disk on fire" in status_of(screen)
        await pilot.press("r")
        assert "Wait until every file is read" not in status_of(screen)
        await wait_until(pilot, lambda: not screen.running, timeout=30)
        assert app.screen is screen

"""Pilot tests of the dataset page against the local Hub: tabs by key, config/split choice, streamed preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown, OptionList, TabbedContent

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.humanize import human_size
from hftui.localhub import LocalHub
from hftui.ui.browse.dataset_page import DatasetPageScreen
from hftui.ui.browse.dataset_preview import DatasetPreviewScreen
from tests.hubfixtures import TINY_DATASET
from tests.pilot import screen_text, wait_for_text, wait_until

INJECTIONS = ("[bold red]x[/]", "[link=file:///etc/passwd]x[/link]", "\x1b[2J")
MULTI = "hftui-test/multi-config"
BROKEN = "hftui-test/broken-card"
EVIL = "hftui-test/evil-card"
NO_CARD = "hftui-test/no-card"

MULTI_CARD = """\
---
license: cc-by-nc-4.0
task_categories: [text-classification]
size_categories: [n<1K]
configs:
- config_name: first
  data_files:
  - split: train
    path: first/train.jsonl
- config_name: second
  data_files:
  - split: train
    path: second/train.jsonl
  - split: validation
    path: second/validation.jsonl
dataset_info:
- config_name: second
  features:
  - name: word
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': neg
          '1': pos
  splits:
  - name: train
    num_examples: 3
    num_bytes: 1234
  - name: validation
    num_examples: 2
    num_bytes: 567
---
# Two configurations
"""


def make_app(hub: LocalHub, cache: Path, *, offline: bool = False) -> HfTuiApp:
    return HfTuiApp(HubSettings(hub.url, cache.parent, cache, offline, read_token_status()))


def _jsonl(*words: str) -> bytes:
    return "".join(f'{{"word": "{word}", "label": {i % 2}}}\n' for i, word in enumerate(words)).encode()


@pytest.fixture
def dataset_hub(local_hub: LocalHub, hub_endpoint: str) -> LocalHub:
    """The fixture hub plus a two-config dataset, a card with broken YAML and a card full of markup."""
    local_hub.add_dataset(
        MULTI,
        files={
            "README.md": MULTI_CARD.encode(),
            "first/train.jsonl": _jsonl("alpha", "beta"),
            "second/train.jsonl": _jsonl("one", "two", "three"),
            "second/validation.jsonl": _jsonl("uno", "dos"),
        },
    )
    local_hub.add_dataset(
        BROKEN, files={"README.md": b"---\nlicense: [mit\n---\n# Still here\n", "data.csv": b"a\n1\n"}
    )
    evil = (
        f"---\nlicense: mit\npretty_name: '{INJECTIONS[0]}'\n---\n"
        f"# Evil\n\nBody {INJECTIONS[0]} and {INJECTIONS[1]} and {INJECTIONS[2]} here.\n"
    )
    local_hub.add_dataset(EVIL, files={"README.md": evil.encode(), "data.csv": b"a\n1\n"})
    local_hub.add_dataset(NO_CARD, files={"data.csv": b"a\n1\n"})
    return local_hub


async def open_page(pilot, app: HfTuiApp, repo_id: str) -> DatasetPageScreen:
    page = DatasetPageScreen(repo_id)
    app.push_screen(page)
    await wait_until(pilot, lambda: page.details is not None)
    return page


async def test_tabs_by_key_and_preview_streams_rows(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(80, 24)) as pilot:
        page = await open_page(pilot, app, TINY_DATASET)
        assert page.details.source == "hub"
        tabs = page.query_one("#dataset-tabs", TabbedContent)
        text = await wait_for_text(pilot, "Eight training")
        assert "Eight training and four test sentences" in text  # the card body
        assert "pretty_name" not in text  # front matter is not shown

        await pilot.press("2")
        assert tabs.active == "metadata"
        text = await wait_for_text(pilot, "Licence: mit")
        assert "Task categories: text-classification" in text and "Languages: en" in text
        splits = page.query_one("#dataset-splits", DataTable)
        assert [str(splits.get_row_at(i)[1]) for i in range(splits.row_count)] == ["train", "test"]
        assert "Commercial use allowed?" in text  # the model page's licence answers

        await pilot.press("4")
        assert tabs.active == "files"
        files = page.query_one("#dataset-files", DataTable)
        assert {str(files.get_row_at(i)[0]) for i in range(files.row_count)} == {
            "README.md",
            "data/train.jsonl",
            "data/test.jsonl",
        }

        await pilot.press("3")
        assert tabs.active == "preview"
        assert page.choices == [("default", "train"), ("default", "test")]
        await pilot.press("down", "enter")  # the test split
        await wait_until(pilot, lambda: isinstance(app.screen, DatasetPreviewScreen))
        preview = app.screen
        await wait_until(pilot, lambda: not preview.streaming and preview.rows, timeout=30)
        assert preview.source.split == "test" and preview.source.location == TINY_DATASET
        assert [row["text"] for row in preview.rows] == [f"This is {w}." for w in ("nice", "meh", "lovely", "grim")]
        await pilot.press("escape")
        assert app.screen is page
        await pilot.press("escape")
        assert app.screen is not page


async def test_several_configs_are_offered_with_row_counts(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(80, 24)) as pilot:
        page = await open_page(pilot, app, MULTI)
        assert page.choices == [("first", "train"), ("second", "train"), ("second", "validation")]
        await pilot.press("3")
        options = page.query_one("#dataset-splits-list", OptionList)
        assert "3 rows" in str(options.get_option_at_index(1).prompt)
        await pilot.press("2")
        text = await wait_for_text(pilot, "Features of second")
        assert "label: ClassLabel(neg, pos)" in text and human_size(1234) in text

        await pilot.press("3", "down", "down")
        page.query_one("#dataset-rows").value = "1"
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, DatasetPreviewScreen))
        preview = app.screen
        await wait_until(pilot, lambda: not preview.streaming and preview.rows, timeout=30)
        assert (preview.source.config, preview.source.split) == ("second", "validation")
        assert [row["word"] for row in preview.rows] == ["uno"]  # the row count was passed on


async def test_markup_in_a_card_shows_literally(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot, app, EVIL)
        text = await wait_for_text(pilot, "Evil")
        assert "Body [bold red]x[/] and [link=file:///etc/passwd]x[/link] and \\x1b[2J here." in text
        assert "\\x1b[2J" in page.query_one("#dataset-card", Markdown).source
        assert_plain(app)
        await pilot.press("2")
        text = await wait_for_text(pilot, "Dataset: ")
        assert f"({INJECTIONS[0]})" in text  # the pretty name, as written
        assert_plain(app)


def assert_plain(app: HfTuiApp) -> None:
    """No escape character reaches the terminal and nothing is styled as a link."""
    text, segments = screen_text(app)
    assert "\x1b" not in text
    assert all(segment.style is None or segment.style.link is None for segment in segments)


async def test_broken_card_still_opens(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(80, 24)) as pilot:
        page = await open_page(pilot, app, BROKEN)
        text = await wait_for_text(pilot, "Still here")
        assert "YAML metadata could not be read" in text
        assert page.choices == [(None, "train")]
        await pilot.press("escape")
        await open_page(pilot, app, NO_CARD)
        text = await wait_for_text(pilot, "no card")
        assert "This dataset has no card (README.md)." in text


async def test_offline_page_from_the_seen_store_and_unknown_dataset(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_page(pilot, app, TINY_DATASET)
    dataset_hub.stop()
    offline = make_app(dataset_hub, tmp_path / "hub", offline=True)
    async with offline.run_test(size=(80, 24)) as pilot:
        page = await open_page(pilot, offline, TINY_DATASET)
        assert page.details.source == "seen"
        assert "Eight training" in await wait_for_text(pilot, "Eight training")
        await pilot.press("escape")
        page = await open_page(pilot, offline, "nobody/never-seen")
        text = await wait_for_text(pilot, "Nothing is known")
        assert "never opened online" in text


async def test_missing_dataset_is_explained(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_page(pilot, app, "nobody/missing")
        text = await wait_for_text(pilot, "not found")
        assert "'nobody/missing' was not found" in text

"""Pilot tests of the Models browser, the model page and the Cache screen against the local Hub."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from hftui.app import HfTuiApp
from hftui.hub.local_hub import LocalHub
from hftui.hub.settings import HubSettings, read_token_status
from hftui.ui.screens.cache import CacheScreen
from hftui.ui.screens.confirm import ConfirmScreen
from hftui.ui.screens.filter_picker import FilterPickerScreen
from hftui.ui.screens.model_page import ModelPageScreen
from hftui.ui.screens.models import ModelsScreen

TASKS = ("text-classification", "image-classification", "automatic-speech-recognition", "text-generation")
LIBRARIES = ("transformers", "timm", "sentence-transformers")
LICENSES = ("apache-2.0", "mit", "cc-by-nc-4.0", "llama3.1")
FAMILIES = ("bert", "vit", "whisper", "gpt")
N_MODELS = 60
DOWNLOADABLE = "acme/bert-downloadable"


def _card(task: str, license_id: str, library: str, index: int) -> str:
    return (
        f"---\nlicense: {license_id}\npipeline_tag: {task}\nlibrary_name: {library}\nlanguage:\n- en\n"
        "model-index:\n- name: m\n  results:\n  - task:\n      type: " + task + "\n"
        "    dataset:\n      type: imdb\n      name: IMDB\n    metrics:\n    - type: accuracy\n"
        f"      value: 0.{index:02d}\n---\n\n# Model {index}\n\nA test model number {index}.\n"
    )


def build_browse_hub() -> LocalHub:
    """60 models of four families with varied task, library, licence and popularity."""
    hub = LocalHub()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for index in range(N_MODELS):
        family = FAMILIES[index % 4]
        task, library = TASKS[index % 4], LIBRARIES[index % 3]
        license_id = LICENSES[index % 4]
        config = {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": 64,
            "num_hidden_layers": 2,
            "vocab_size": 100,
            "max_position_embeddings": 128,
        }
        hub.add_model(
            f"org{index % 3}/{family}-model-{index:02d}",
            files={
                "README.md": _card(task, license_id, library, index).encode(),
                "config.json": json.dumps(config).encode(),
            },
            pipeline_tag=task,
            library_name=library,
            downloads=(index * 7919) % 1000,
            likes=(index * 104729) % 500,
            trending_score=(index * 31) % 97,
            created_at=start + timedelta(days=(index * 13) % 60),
            last_modified=start + timedelta(days=60 + (index * 17) % 60),
        )
    weights = save_safetensors({"weight": np.arange(4096, dtype=np.float32).reshape(64, 64)})
    hub.add_model(
        DOWNLOADABLE,
        files={
            "README.md": _card("text-classification", "apache-2.0", "transformers", 99).encode(),
            "config.json": b'{"architectures": ["BertForSequenceClassification"], "model_type": "bert"}',
            "model.safetensors": weights,
            "pytorch_model.bin": b"\x80\x04pickle" * 100,
        },
        pipeline_tag="text-classification",
        library_name="transformers",
        downloads=5000,
    )
    return hub


@pytest.fixture
def browse_hub() -> Iterator[LocalHub]:
    hub = build_browse_hub()
    hub.start()
    yield hub
    hub.stop()


def make_app(hub: LocalHub, cache: Path, *, offline: bool = False) -> HfTuiApp:
    settings = HubSettings(hub.url, cache.parent, cache, offline, read_token_status())
    return HfTuiApp(settings)


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let workers and messages run until `condition` holds (fails the test after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)


def browser(app: HfTuiApp) -> ModelsScreen:
    screen = app.screen
    assert isinstance(screen, ModelsScreen)
    return screen


async def started(pilot) -> ModelsScreen:
    screen = browser(pilot.app)
    await wait_until(pilot, lambda: screen.source == "hub" and not screen.loading and screen.records)
    return screen


async def test_search_sort_filter_and_paging(browse_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        assert len(screen.records) == 50 and screen.has_more  # first page

        # Paging: moving to the end loads the rest.
        await pilot.press("G")
        await wait_until(pilot, lambda: len(screen.records) == N_MODELS + 1 and not screen.loading)

        # Each sort orders the results the way its name says.
        keys = {
            "likes": lambda r: r.likes,
            "downloads": lambda r: r.downloads,
            "updated": lambda r: r.last_modified,
            "created": lambda r: r.created_at,
            "trending": lambda r: r.trending_score,
        }
        for _ in keys:
            await pilot.press("s")
            sort = screen.query_value.sort
            await wait_until(pilot, lambda sort=sort: not screen.loading and screen.query_value.sort == sort)
            values = [keys[sort](record) for record in screen.records]
            assert values == sorted(values, reverse=True), sort

        # Typing in the search box narrows the results.
        await pilot.press("slash", *"vit")
        await wait_until(pilot, lambda: screen.query_value.text == "vit" and not screen.loading)
        assert screen.records and all("vit" in record.repo_id for record in screen.records)

        # A filter picked from the list with counts.
        await pilot.press("escape", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPickerScreen))
        await pilot.press("down", "down", "down", "enter")  # Licence
        await wait_until(pilot, lambda: bool(app.screen.values))
        # Counts are among the models matching the rest of the query: every "vit" model is MIT-licensed.
        assert app.screen.values == [("mit", N_MODELS // 4)]
        await pilot.press(*"mi", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        await wait_until(pilot, lambda: screen.query_value.license == "mit" and not screen.loading)
        assert len(screen.records) == N_MODELS // 4
        assert all(record.license == "mit" and "vit" in record.repo_id for record in screen.records)

        # Presets: save as 1, clear, recall.
        await pilot.press("exclamation_mark", "x")
        await wait_until(pilot, lambda: screen.query_value.license is None and not screen.loading)
        await pilot.press("1")
        await wait_until(pilot, lambda: screen.query_value.license == "mit" and not screen.loading)


async def test_last_filters_are_remembered(browse_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("s", "s")
        await wait_until(pilot, lambda: screen.query_value.sort == "downloads" and not screen.loading)
    again = make_app(browse_hub, tmp_path / "hub")
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        assert screen.query_value.sort == "downloads"


async def test_model_page_download_then_cached_and_delete(browse_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", *"downloadable", "enter")
        await wait_until(pilot, lambda: [r.repo_id for r in screen.records] == [DOWNLOADABLE])
        assert screen.records[0].cache_state == "remote"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
        page = app.screen
        assert page.details.facts.license.license_id == "apache-2.0"
        assert page.details.facts.eval_results
        assert {file.path for file in page.details.files} >= {"model.safetensors", "pytorch_model.bin"}
        assert any(file.can_run_code for file in page.details.files)
        assert page.details.commits
        for number in "123456":
            await pilot.press(number)
        await pilot.press("D")
        await wait_until(
            pilot, lambda: not page.downloading and "DONE" in str(page.query_one("#download-status").render())
        )
        await wait_until(pilot, lambda: page.details.cached_revisions != ())
        snapshot = page.details.snapshot_path
        assert (snapshot / "model.safetensors").is_file()
        assert not (snapshot / "pytorch_model.bin").exists()  # safetensors only by default
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        screen.start_search()
        await wait_until(pilot, lambda: screen.records and screen.records[0].cache_state == "cached")

        # The Cache screen deletes it after a confirmation.
        await pilot.press("c")
        cache = app.screen
        assert isinstance(cache, CacheScreen)
        await wait_until(pilot, lambda: any(repo.repo_id == DOWNLOADABLE for repo in cache.shown))
        await pilot.press("space", "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.cache_scan is not None and not app.cache_scan.repos)


async def test_browse_offline_from_the_index_after_the_hub_stops(browse_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("G")
        await wait_until(pilot, lambda: len(screen.records) == N_MODELS + 1 and not screen.loading)
        browse_hub.stop()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.offline and screen.source == "index" and not screen.loading)
        assert screen.total == N_MODELS + 1
        await pilot.press("slash", *"gpt")
        await wait_until(pilot, lambda: screen.query_value.text == "gpt" and not screen.loading)
        assert screen.records and all("gpt" in record.repo_id for record in screen.records)
        await pilot.press("enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
        assert app.screen.details.source in {"index", "seen"}


class _NoSleep:
    """huggingface_hub's backoff sleeps between retries of a 429; the test needs only the outcome."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    def sleep(self, _seconds: float) -> None:
        return None


async def test_failing_hub_keeps_last_results(
    browse_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub.utils import _http

    monkeypatch.setattr(_http, "time", _NoSleep())
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        before = list(screen.records)
        browse_hub.fail(r"^/api/models$", 429, retry_after=30)
        screen.start_search()
        await wait_until(pilot, lambda: "⚠" in screen.message and not screen.loading)
        assert screen.records == before
        assert "rate" in screen.message.lower() or "429" in screen.message

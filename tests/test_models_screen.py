"""Pilot tests of the Models browser, the model page and the Cache screen against the local Hub."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.localhub import LocalHub
from hftui.ui.browse.cache import CacheScreen
from hftui.ui.browse.filter_picker import FilterPickerScreen
from hftui.ui.browse.model_page import ModelPageScreen
from hftui.ui.browse.models import ModelsScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from tests.hubfixtures import SMALL_GPT
from tests.pilot import screen_text, wait_until

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


async def test_every_facet_and_toggle_filters(browse_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("G")
        await wait_until(pilot, lambda: len(screen.records) == N_MODELS + 1 and not screen.loading)
        # facet position in the picker, typed value, the attribute set, and how a record shows it
        cases = [
            (0, "text-gen", "task", "text-generation", lambda r: r.pipeline_tag),
            (1, "timm", "library", "timm", lambda r: r.library_name),
            (2, "en", "language", "en", lambda r: "en" if "en" in r.languages else None),
            (4, "org1", "author", "org1", lambda r: r.author),
        ]
        for downs, typed, attribute, value, shown in cases:
            await pilot.press("x", "f")
            await wait_until(pilot, lambda: isinstance(app.screen, FilterPickerScreen))
            await pilot.press(*(["down"] * downs), "enter")
            await wait_until(pilot, lambda: bool(app.screen.values))
            await pilot.press(*typed, "enter")
            await wait_until(
                pilot,
                lambda attribute=attribute, value=value: (
                    isinstance(app.screen, ModelsScreen)
                    and getattr(screen.query_value, attribute) == value
                    and not screen.loading
                ),
            )
            assert screen.records, attribute
            assert all(shown(record) == value for record in screen.records), attribute

        await pilot.press("x", "g")  # gated only: none of these models is gated
        await wait_until(pilot, lambda: screen.query_value.gated is False and not screen.loading)
        assert len(screen.records) == 50
        await pilot.press("g")
        await wait_until(pilot, lambda: screen.query_value.gated is True and not screen.loading)
        assert screen.records == [] and "No models match" in screen.message

        await pilot.press("x", "p")  # ≤1B: only models whose size is known; none is yet
        await wait_until(pilot, lambda: screen.query_value.max_parameters == 1_000_000_000 and not screen.loading)
        await pilot.press("x", "l")  # cached only: nothing is downloaded
        await wait_until(pilot, lambda: screen.query_value.cached_only and not screen.loading)
        assert screen.records == [] and screen.source == "index"


def _odd_cards_hub() -> LocalHub:
    hub = LocalHub()
    huge = b"---\nlicense: mit\n---\n" + b"# Huge\n" + b"x" * (10 * 1024 * 1024)
    hub.add_model("odd/huge-card", files={"README.md": huge})
    hub.add_model("odd/latin1-card", files={"README.md": b"---\nlicense: mit\n---\nCaf\xe9 au lait\n"})
    hub.add_model("odd/broken-yaml", files={"README.md": b"---\nlicense: [mit\n---\nStill readable\n"})
    hub.add_model("odd/no-card", files={"config.json": b"{not json"})
    return hub


@pytest.mark.parametrize(
    ("repo_id", "problem"),
    [
        ("odd/huge-card", "only its beginning is shown"),
        ("odd/latin1-card", "not valid UTF-8"),
        ("odd/broken-yaml", "YAML"),
        ("odd/no-card", "no model card"),
    ],
)
async def test_bad_cards_still_open(tmp_path: Path, repo_id: str, problem: str) -> None:
    hub = _odd_cards_hub()
    hub.start()
    try:
        app = make_app(hub, tmp_path / "hub")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.model_index is not None)
            app.push_screen(ModelPageScreen(repo_id))
            await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
            details = app.screen.details
            assert problem in (details.card.problem or ""), details.card.problem
            if repo_id == "odd/no-card":
                assert any("config.json" in str(item) for item in details.problems)
    finally:
        hub.stop()


async def test_download_progress_is_reported(browse_hub: LocalHub, tmp_path: Path) -> None:
    from hftui.ui.browse.model_page import DownloadProgressed

    seen: list = []
    app = make_app(browse_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.model_index is not None)
        app.push_screen(ModelPageScreen(DOWNLOADABLE))
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
        await pilot.press("D")
        page = app.screen
        await wait_until(pilot, lambda: not page.downloading and page.details.cached_revisions != ())
    progress = [message.progress for message in seen if isinstance(message, DownloadProgressed)]
    assert progress
    done = [step.bytes_done for step in progress]
    assert done == sorted(done)
    assert progress[-1].bytes_done == progress[-1].total_bytes > 16_000  # the weights, not the pickle
    assert progress[-1].files_done == progress[-1].files_total


async def test_model_page_shows_inference_providers_and_the_filter_finds_them(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    app = make_app(local_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        app.push_screen(ModelPageScreen(SMALL_GPT))
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPageScreen) and app.screen.details is not None)
        await pilot.press("2")
        text, segments = screen_text(app)
        assert "Inference providers" in text and "2 providers (from the Hub now)" in text
        assert "together" in text and "other-org/Small-GPT-Turbo" in text and "live" in text
        # Markup in the Hub's text shows literally and styles nothing.
        assert "[red]x[/red]" in text and "small-gpt:[b]free[/b]" in text and "staging" in text
        assert not any(segment.style and segment.style.bold and "free" in segment.text for segment in segments)
        assert not any(segment.text == "x" for segment in segments)

        # The picker counts providers among the models seen serving them; picking one asks the Hub.
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPickerScreen))
        await pilot.press(*(["down"] * 5), "enter")  # Inference provider, after the five other facets
        await wait_until(pilot, lambda: bool(app.screen.values))
        assert app.screen.values == [("[red]x[/red]", 1), ("together", 1)]
        assert "[red]x[/red]  (1)" in screen_text(app)[0]
        await pilot.press(*"toge", "enter")
        await wait_until(pilot, lambda: screen.query_value.provider == "together" and not screen.loading)
        assert screen.source == "hub" and [record.repo_id for record in screen.records] == [SMALL_GPT]

    offline = make_app(local_hub, tmp_path / "hub", offline=True)
    async with offline.run_test(size=(120, 40)) as pilot:
        screen = browser(offline)  # the remembered provider filter, answered by the index from what was seen
        await wait_until(pilot, lambda: screen.source == "index" and not screen.loading and screen.records)
        assert screen.query_value.provider == "together" and [r.repo_id for r in screen.records] == [SMALL_GPT]
        offline.push_screen(ModelPageScreen(SMALL_GPT))
        await wait_until(
            pilot, lambda: isinstance(offline.screen, ModelPageScreen) and offline.screen.details is not None
        )
        await pilot.press("2")
        text = screen_text(offline)[0]
        assert "2 providers, as last seen just now" in text and "the Hub was not asked this time" in text
        assert "[red]x[/red]" in text and "other-org/Small-GPT-Turbo" in text
